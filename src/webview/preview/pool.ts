/**
 * The pure part of the preview's CPU worker pool: how many workers a problem gets, and how the slices they
 * compute are cut out of an output and put back together. It holds no DOM or worker types, so node tests
 * run it as is; the workers themselves are started in engines.ts.
 *
 * Each worker computes one slice (splitWork in src/core/engine/cpu.ts: batches or output channels in whole
 * register tiles) with runSlice on the whole problem, so every output value is the same sum in the same order
 * as a single-worker run: the assembled output is bit-identical to it.
 */
import type { Outcome } from '../../core/arithmetic/types';
import { fail, ok } from '../../core/arithmetic/types';
import { type PreviewSlice, sliceLength } from '../../protocol/preview';

/** At most this many workers: the preview's problems are small, and a webview shares the cores with VS Code. */
export const MAX_POOL_WORKERS = 4;

/**
 * Problems below this many multiply-accumulates run on one worker: starting and copying to a second costs
 * more than it saves there (a few milliseconds of work).
 */
export const POOL_MIN_MACS = 2_000_000;

export interface PoolOptions {
  /** Workers to use for large problems; default min(navigator.hardwareConcurrency, MAX_POOL_WORKERS). */
  readonly workers?: number;
  /** The smallest problem, in multiply-accumulates, that is shared between workers; default POOL_MIN_MACS. */
  readonly minMacs?: number;
}

/** How many workers the pool has: `requested` if given, else the cores up to MAX_POOL_WORKERS; at least 1. */
export function poolSize(hardwareConcurrency: number | undefined, requested?: number): number {
  const wanted = requested ?? Math.min(hardwareConcurrency ?? 1, MAX_POOL_WORKERS);
  return Number.isFinite(wanted) ? Math.max(1, Math.min(16, Math.floor(wanted))) : 1;
}

/** How many workers one problem of `macs` multiply-accumulates should use (before splitWork's own cap). */
export function workersFor(macs: number, size: number, minMacs: number = POOL_MIN_MACS): number {
  return macs >= minMacs ? size : 1;
}

/** Offset of the first value of (batch, channel) in an output of `channels` channels of `plane` values each. */
function offset(batch: number, channel: number, channels: number, plane: number): number {
  return (batch * channels + channel) * plane;
}

/**
 * The values of `slice` cut out of a whole output `y` of shape `yShape` ([N, C, ...spatial]), as
 * [batches, channels, ...spatial] of the slice: what a worker sends back instead of the whole output.
 */
export function extractSlice(y: Float32Array, yShape: readonly number[], slice: PreviewSlice): Float32Array {
  const channels = yShape[1]!;
  const plane = yShape.slice(2).reduce((a, b) => a * b, 1);
  const width = (slice.channelEnd - slice.channelStart) * plane;
  const part = new Float32Array(sliceLength(yShape, slice));
  for (let n = slice.batchStart; n < slice.batchEnd; n++) {
    const from = offset(n, slice.channelStart, channels, plane);
    part.set(y.subarray(from, from + width), (n - slice.batchStart) * width);
  }
  return part;
}

/** One worker's answer: its slice and that slice's values. */
export interface SlicePart {
  readonly slice: PreviewSlice;
  readonly y: Float32Array;
}

/**
 * The whole output of shape `yShape` put together from `parts`. Fails, in words, unless the slices lie inside
 * the output, each holds exactly its slice's values, and together they cover every value exactly once.
 */
export function assembleSlices(
  yShape: readonly number[],
  parts: readonly SlicePart[],
): Outcome<Float32Array> {
  if (yShape.length < 2)
    return fail(`The CPU workers' output has shape [${yShape.join(', ')}], not [N, C, …].`);
  const [batch, channels] = [yShape[0]!, yShape[1]!];
  const plane = yShape.slice(2).reduce((a, b) => a * b, 1);
  const covered = new Uint8Array(batch * channels);
  const y = new Float32Array(batch * channels * plane);
  for (const { slice, y: part } of parts) {
    const where = `batches ${slice.batchStart}–${slice.batchEnd}, channels ${slice.channelStart}–${slice.channelEnd}`;
    if (slice.batchEnd > batch || slice.channelEnd > channels)
      return fail(`A CPU worker answered for ${where}, outside the output's ${batch} × ${channels}.`);
    if (part.length !== sliceLength(yShape, slice))
      return fail(
        `A CPU worker answered ${where} with ${part.length} values; it needs ${sliceLength(yShape, slice)}.`,
      );
    const width = (slice.channelEnd - slice.channelStart) * plane;
    for (let n = slice.batchStart; n < slice.batchEnd; n++) {
      for (let c = slice.channelStart; c < slice.channelEnd; c++) {
        if (covered[n * channels + c] === 1)
          return fail(`Two CPU workers answered for batch ${n}, channel ${c}; the slices overlap.`);
        covered[n * channels + c] = 1;
      }
      y.set(
        part.subarray((n - slice.batchStart) * width, (n - slice.batchStart + 1) * width),
        offset(n, slice.channelStart, channels, plane),
      );
    }
  }
  const missing = covered.indexOf(0);
  if (missing >= 0) {
    return fail(
      `No CPU worker answered for batch ${Math.floor(missing / channels)}, channel ${missing % channels}.`,
    );
  }
  return ok(y);
}
