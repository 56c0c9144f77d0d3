/// <reference lib="webworker" />
/**
 * The preview's CPU engine in a Web Worker, so that a large layer never freezes the panel. It answers each
 * `convolve` request (src/protocol/preview.ts) with the CPU engine's result, moving the output buffer back
 * rather than copying it. A request that names a slice (the page shares a large problem between several of
 * these workers) gets only that slice's values back. Requests that fail the protocol check are answered with a
 * failure, never run.
 */
import type { Outcome } from '../../core/arithmetic/types';
import { fail, ok } from '../../core/arithmetic/types';
import { convolveCpu, runSlice } from '../../core/engine/cpu';
import { createWasmKernels } from '../../core/engine/cpuWasm';
import { validateProblem } from '../../core/engine/shape';
import type { ConvProblem, ConvResult } from '../../core/engine/types';
import { isWorkerRequest, type PreviewSlice, type WorkerReply } from '../../protocol/preview';
import { extractSlice } from './pool';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/**
 * One slice of `problem`, computed by runSlice on the whole problem (so each value is the same sum, in the
 * same order, as a whole run) and cut out of the output. The engine's words are convolveCpu's: its default
 * precision is float32 where WebAssembly SIMD runs, float64 where it does not, and runSlice uses the same.
 */
function convolveSlice(problem: ConvProblem, slice: PreviewSlice): Outcome<ConvResult> {
  const started = performance.now();
  const geometry = validateProblem(problem, undefined, true);
  if (!geometry.ok) return geometry;
  const g = geometry.value;
  if (slice.batchEnd > g.batch || slice.channelEnd > g.outChannels) {
    return fail(
      `The CPU worker was asked for batches ${slice.batchStart}–${slice.batchEnd} and channels ` +
        `${slice.channelStart}–${slice.channelEnd}, but the output has ${g.batch} × ${g.outChannels}.`,
    );
  }
  const wasm = createWasmKernels();
  const precision = wasm ? 'float32' : 'float64';
  let y: Float32Array;
  try {
    const whole = new Float32Array(g.yShape.reduce((a, b) => a * b, 1));
    runSlice(problem, g, slice, whole, { precision });
    y = extractSlice(whole, g.yShape, slice);
  } catch (error) {
    return fail(
      `The CPU worker could not finish its slice: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  const engine = `CPU (${wasm ? 'WebAssembly SIMD' : 'JavaScript'}, ${precision})`;
  return ok({ y, yShape: g.yShape, engine, milliseconds: performance.now() - started });
}

scope.onmessage = (event: MessageEvent<unknown>) => {
  const request = event.data;
  if (!isWorkerRequest(request)) {
    const id = (request as { id?: unknown } | null)?.id;
    reply({
      type: 'failed',
      id: typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : 0,
      error: 'The CPU worker received a message it does not understand.',
    });
    return;
  }
  const { slice, ...fields } = request;
  const problem: ConvProblem = { ...fields, b: null, groups: 1 };
  const result = slice ? convolveSlice(problem, slice) : convolveCpu(problem);
  if (!result.ok) {
    reply({ type: 'failed', id: request.id, error: result.error });
    return;
  }
  const { y, yShape, engine, milliseconds } = result.value;
  reply({ type: 'done', id: request.id, y, yShape, engine, milliseconds, ...(slice ? { slice } : {}) }, [
    y.buffer,
  ]);
};
