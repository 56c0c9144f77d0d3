/**
 * The CPU engine: conv and transposed conv on Float32Array, in plain TypeScript with no node or DOM imports,
 * so it runs the same in the CLI, the extension host and a webview's Web Worker.
 *
 * Every problem is run as 3-D (missing leading axes have size 1) and split into phases (cpuPlan.ts): one for a
 * conv, the stride-phase decomposition for a transposed conv, so both become dense correlations without zero
 * insertion. Each (group, phase) is then either
 *  - a gather-GEMM: Y[C_out/g, positions] = A[C_out/g, K] · B[K, positions], K = C_in/g × taps, with A (the
 *    weights) packed once into row panels, B (im2col of the phase, gathered straight from x with the
 *    padding as zeros) packed block by block into column panels sized for L2, and a register-tile
 *    micro-kernel in WebAssembly SIMD (cpuWasm.ts: 4×8 float32x4, or 2×8 float64x2) where the runtime allows
 *    it, else 4×4 in JavaScript; or
 *  - a direct loop (few output channels per group, e.g. depthwise): one output row at a time, tap by tap
 *    (float32: in WebAssembly SIMD, four outputs per instruction), or in float64 JavaScript with the taps of
 *    each input row summed in registers (all nine at once for 3×3 kernels).
 *
 * Precision (CpuRunOptions.precision): sums accumulate in float32, each product and partial sum rounded as
 * float32 hardware and every float32 library do, or in float64 with one rounding at the end. Integer-valued
 * data therefore comes out exactly either way as long as the sums stay below 2^24 in magnitude, which is
 * what PyTorch's own float32 kernels return on such data. The WebAssembly and JavaScript kernels of one
 * precision add the same products in the same order with the same roundings, so they agree bit for bit; the
 * choice between GEMM and direct loop depends only on the problem (never on a slice), so sliced runs agree
 * with whole runs bit for bit too.
 *
 * Parallelism: `splitWork` cuts a problem into slices over batch and output channels, and `runSlice` computes
 * one slice into a shared or private output, so a webview can hand slices to Web Workers.
 */
import type { Outcome } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import { type AxisPhase, type AxisPlan, UNIT_AXIS, convAxis, transposedAxis } from './cpuPlan';
import { DIRECT_TAP_BYTES, type Precision, WASM_TILE, type WasmKernels, createWasmKernels } from './cpuWasm';
import { type ConvGeometry, validateProblem } from './shape';
import {
  type ConvEngine,
  type ConvProblem,
  type ConvResult,
  DEFAULT_LIMITS,
  type EngineLimits,
} from './types';

/** A part of the output: batches [batchStart, batchEnd) × output channels [channelStart, channelEnd). */
export interface WorkSlice {
  readonly batchStart: number;
  readonly batchEnd: number;
  readonly channelStart: number;
  readonly channelEnd: number;
}

export type { Precision } from './cpuWasm';

/** How a slice runs. */
export interface CpuRunOptions {
  /**
   * Use the WebAssembly SIMD kernels where the runtime allows it (default true). Results are the same bit
   * for bit either way; false forces the JavaScript kernels (for tests and comparisons).
   */
  readonly wasm?: boolean;
  /**
   * How sums accumulate: in float32, each product and each partial sum rounded as PyTorch's, XNNPACK's and
   * the GPU's float32 kernels do, or in float64, rounded once at the end (more accurate on long non-integer
   * sums). The default is the faster one where the engine runs: float32 with WebAssembly (four SIMD lanes
   * against two), float64 without (JavaScript computes in float64 anyway; emulating float32 costs a
   * rounding per operation). Both are exact on integer-valued data whose sums stay below 2^24, which is all
   * of PyTorch's golden data; name a precision to get the same bits everywhere.
   */
  readonly precision?: Precision;
}

/** The faster precision where the engine runs (see CpuRunOptions.precision). */
function defaultPrecision(wasm: WasmKernels | null): Precision {
  return wasm ? 'float32' : 'float64';
}

/** Rows of the register tile (output channels) and columns (output positions). */
const MR = 4;
const NR = 4;

/**
 * Groups with at most this many output channels run the direct loop rather than the GEMM: below it, packing
 * im2col columns costs more than the GEMM saves (measured on depthwise and grouped layers).
 */
const DIRECT_MAX_CHANNELS = 4;

/** Target size of one packed im2col block (~256 KiB, about half a core's L2): in values, and in bytes. */
const B_BLOCK_VALUES = 64 * 1024;
const WASM_B_BLOCK_BYTES = 256 * 1024;

const now: () => number = (() => {
  const performance = (globalThis as { performance?: { now(): number } }).performance;
  return performance ? () => performance.now() : () => Date.now();
})();

/** The axes of a problem as 3-D plans (D, H, W), leading axes of size 1 for 1-D and 2-D problems. */
function axisPlans(g: ConvGeometry): AxisPlan[] {
  const plans: AxisPlan[] = [];
  for (let i = 0; i < 3 - g.rank; i++) plans.push(UNIT_AXIS);
  for (let i = 0; i < g.rank; i++) {
    const settings = {
      inSize: g.inSpatial[i]!,
      outSize: g.outSpatial[i]!,
      kernel: g.kernel[i]!,
      stride: g.stride[i]!,
      dilation: g.dilation[i]!,
      padBegin: g.padBegin[i]!,
    };
    plans.push(g.op === 'conv' ? convAxis(settings) : transposedAxis(settings));
  }
  return plans;
}

/** Reusable scratch memory of one slice run: grown on demand, never inside a hot loop. */
class Scratch {
  a = new Float32Array(0);
  b = new Float32Array(0);
  columns = new Int32Array(0);
  row = new Float64Array(0);
  row32 = new Float32Array(0);
  tapOffsets = new Int32Array(0);

  ensureA(size: number): Float32Array {
    if (this.a.length < size) this.a = new Float32Array(size);
    return this.a;
  }
  ensureB(size: number): Float32Array {
    if (this.b.length < size) this.b = new Float32Array(size);
    return this.b;
  }
  ensureColumns(size: number): Int32Array {
    if (this.columns.length < size) this.columns = new Int32Array(size);
    return this.columns;
  }
  ensureRow32(size: number): Float32Array {
    if (this.row32.length < size) this.row32 = new Float32Array(size);
    return this.row32;
  }
  ensureRow(size: number): Float64Array {
    if (this.row.length < size) this.row = new Float64Array(size);
    return this.row;
  }
  ensureTapOffsets(size: number): Int32Array {
    if (this.tapOffsets.length < size) this.tapOffsets = new Int32Array(size);
    return this.tapOffsets;
  }
}

/** Everything the kernels read about one problem, flattened into numbers and typed arrays. */
interface Context {
  readonly x: Float32Array;
  readonly w: Float32Array;
  /** Bias, or zeros when the problem has none (so the kernels stay monomorphic). */
  readonly bias: Float32Array;
  readonly y: Float32Array;
  readonly transposed: boolean;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inPerGroup: number;
  readonly outPerGroup: number;
  /** Input sizes D, H, W and output sizes, as 3-D. */
  readonly inD: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly inPlane: number;
  readonly outPlane: number;
  /** Kernel sizes as 3-D and taps per filter. */
  readonly kH: number;
  readonly kW: number;
  readonly kernelTaps: number;
  readonly scratch: Scratch;
  /** The WebAssembly GEMM, or null for the JavaScript kernels. */
  readonly wasm: WasmKernels | null;
  readonly precision: Precision;
}

/** One phase of the whole problem: a phase on each of the three axes. */
interface Phase {
  readonly d: AxisPhase;
  readonly h: AxisPhase;
  readonly w: AxisPhase;
}

/**
 * Cuts a problem into at most `parts` slices of similar work: over the batch when it has enough samples,
 * otherwise over output channels in multiples of the register tile (4), so slices never split a tile.
 */
export function splitWork(geometry: ConvGeometry, parts: number): WorkSlice[] {
  const { batch, outChannels } = geometry;
  const count = Math.max(1, Math.floor(parts));
  if (batch >= count || outChannels < 2 * MR) {
    const n = Math.min(count, Math.max(1, batch));
    return Array.from({ length: n }, (_, i) => ({
      batchStart: Math.floor((i * batch) / n),
      batchEnd: Math.floor(((i + 1) * batch) / n),
      channelStart: 0,
      channelEnd: outChannels,
    }));
  }
  const tiles = Math.ceil(outChannels / MR);
  const n = Math.min(count, tiles);
  return Array.from({ length: n }, (_, i) => ({
    batchStart: 0,
    batchEnd: batch,
    channelStart: Math.min(outChannels, Math.floor((i * tiles) / n) * MR),
    channelEnd: Math.min(outChannels, Math.floor(((i + 1) * tiles) / n) * MR),
  }));
}

/**
 * Computes the outputs of one slice into `y` (the whole output, [N, C_out, ...spatial]; only the slice's
 * elements are written, so several slices can share one SharedArrayBuffer). The problem must have passed
 * `validateProblem`, which gives `geometry`.
 */
export function runSlice(
  problem: ConvProblem,
  geometry: ConvGeometry,
  slice: WorkSlice,
  y: Float32Array,
  options: CpuRunOptions = {},
): void {
  const [axisD, axisH, axisW] = axisPlans(geometry);
  const g = geometry;
  const wasm = options.wasm === false ? null : createWasmKernels();
  const kernel3 = [1, 1, 1, ...g.kernel].slice(-3);
  const ctx: Context = {
    x: problem.x,
    w: problem.w,
    bias: problem.b ?? new Float32Array(g.outChannels),
    y,
    transposed: g.op === 'conv_transpose',
    inChannels: g.inChannels,
    outChannels: g.outChannels,
    inPerGroup: g.inChannels / g.groups,
    outPerGroup: g.outChannels / g.groups,
    inD: axisD!.inSize,
    inH: axisH!.inSize,
    inW: axisW!.inSize,
    outH: axisH!.outSize,
    outW: axisW!.outSize,
    inPlane: axisD!.inSize * axisH!.inSize * axisW!.inSize,
    outPlane: axisD!.outSize * axisH!.outSize * axisW!.outSize,
    kH: kernel3[1]!,
    kW: kernel3[2]!,
    kernelTaps: kernel3[0]! * kernel3[1]! * kernel3[2]!,
    scratch: new Scratch(),
    wasm,
    precision: options.precision ?? defaultPrecision(wasm),
  };
  if (ctx.outPlane === 0 || slice.batchEnd <= slice.batchStart) return;
  const phases: Phase[] = [];
  for (const d of axisD!.phases)
    for (const h of axisH!.phases) for (const w of axisW!.phases) phases.push({ d, h, w });

  for (let group = 0; group < g.groups; group++) {
    const groupFirst = group * ctx.outPerGroup;
    const first = Math.max(slice.channelStart, groupFirst);
    const last = Math.min(slice.channelEnd, groupFirst + ctx.outPerGroup);
    if (first >= last) continue;
    for (const phase of phases) {
      const positions = phase.d.count * phase.h.count * phase.w.count;
      if (positions === 0) continue;
      const taps = phase.d.taps.length * phase.h.taps.length * phase.w.taps.length;
      if (taps === 0 || ctx.inPerGroup === 0) {
        fillBias(ctx, phase, slice.batchStart, slice.batchEnd, first, last);
      } else if (ctx.outPerGroup <= DIRECT_MAX_CHANNELS) {
        runDirect(ctx, phase, group, slice.batchStart, slice.batchEnd, first, last);
      } else {
        gemmPhase(ctx, phase, group, slice.batchStart, slice.batchEnd, first, last);
      }
    }
  }
}

/** Offset of output (jd, jh, 0) of a phase within an output plane. */
function phaseRowOffset(ctx: Context, phase: Phase, jd: number, jh: number): number {
  return (
    ((phase.d.outStart + phase.d.outStep * jd) * ctx.outH + phase.h.outStart + phase.h.outStep * jh) *
      ctx.outW +
    phase.w.outStart
  );
}

/** Outputs no tap reaches (a phase without taps, or no input channels) hold just the bias. */
function fillBias(
  ctx: Context,
  phase: Phase,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): void {
  const { y, bias } = ctx;
  const step = phase.w.outStep;
  for (let n = batchStart; n < batchEnd; n++) {
    for (let co = first; co < last; co++) {
      const plane = (n * ctx.outChannels + co) * ctx.outPlane;
      const value = bias[co]!;
      for (let jd = 0; jd < phase.d.count; jd++) {
        for (let jh = 0; jh < phase.h.count; jh++) {
          const row = plane + phaseRowOffset(ctx, phase, jd, jh);
          for (let jw = 0; jw < phase.w.count; jw++) y[row + jw * step] = value;
        }
      }
    }
  }
}

/** Weight offsets of the phase's taps (D, H, W nested, W fastest) within one filter. */
function phaseTapOffsets(ctx: Context, phase: Phase): Int32Array {
  const count = phase.d.taps.length * phase.h.taps.length * phase.w.taps.length;
  const offsets = ctx.scratch.ensureTapOffsets(count);
  let t = 0;
  for (const td of phase.d.taps)
    for (const th of phase.h.taps)
      for (const tw of phase.w.taps) offsets[t++] = (td * ctx.kH + th) * ctx.kW + tw;
  return offsets;
}

/** Index of weight (co, ci) of a group's filter (its first tap), in PyTorch's layout. */
function filterOffset(ctx: Context, group: number, co: number, ci: number): number {
  return ctx.transposed
    ? ((group * ctx.inPerGroup + ci) * ctx.outPerGroup + (co - group * ctx.outPerGroup)) * ctx.kernelTaps
    : (co * ctx.inPerGroup + ci) * ctx.kernelTaps;
}

// ------------------------------------------------------------------------------------------------ direct

/** The direct loop in the run's precision: float32 in WebAssembly or emulated, or float64 in JavaScript. */
function runDirect(
  ctx: Context,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): void {
  if (ctx.precision === 'float64') {
    directPhase(ctx, phase, group, batchStart, batchEnd, first, last);
  } else if (!ctx.wasm || !directPhaseWasm(ctx, ctx.wasm, phase, group, batchStart, batchEnd, first, last)) {
    directPhaseFloat32(ctx, phase, group, batchStart, batchEnd, first, last);
  }
}

/**
 * Calls `visit(weight, start, lo, hi)` for every tap that reaches output row (jd, jh) of a phase, in the
 * order both float32 direct loops sum them (input channel, then D, H and W taps): output j of the row takes
 * weight·x[start + j·inStep] for lo ≤ j < hi. `start` is relative to the group's first input channel.
 */
function forEachRowTap(
  ctx: Context,
  phase: Phase,
  group: number,
  co: number,
  jd: number,
  jh: number,
  tapOffsets: Int32Array,
  visit: (weight: number, start: number, lo: number, hi: number) => void,
): void {
  const { w } = ctx;
  const pd = phase.d;
  const ph = phase.h;
  const pw = phase.w;
  const tapsH = ph.taps.length;
  const tapsW = pw.taps.length;
  const inHW = ctx.inH * ctx.inW;
  for (let ci = 0; ci < ctx.inPerGroup; ci++) {
    const filter = filterOffset(ctx, group, co, ci);
    for (let a = 0; a < pd.taps.length; a++) {
      if (jd < pd.lo[a]! || jd >= pd.hi[a]!) continue;
      const xD = ci * ctx.inPlane + (pd.inBase[a]! + pd.inStep * jd) * inHW;
      for (let c = 0; c < tapsH; c++) {
        if (jh < ph.lo[c]! || jh >= ph.hi[c]!) continue;
        const xRow = xD + (ph.inBase[c]! + ph.inStep * jh) * ctx.inW;
        const tapBase = (a * tapsH + c) * tapsW;
        for (let e = 0; e < tapsW; e++) {
          const lo = pw.lo[e]!;
          const hi = pw.hi[e]!;
          if (lo < hi) visit(w[filter + tapOffsets[tapBase + e]!]!, xRow + pw.inBase[e]!, lo, hi);
        }
      }
    }
  }
}

/**
 * The float32 direct loop in WebAssembly: the group's input is copied into the WebAssembly heap once per
 * sample; for each output row, JavaScript lists the taps and the kernel sums them (cpuWasm.ts directBody).
 * Returns false, having done nothing, when the WebAssembly memory cannot grow enough.
 */
function directPhaseWasm(
  ctx: Context,
  wasm: WasmKernels,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): boolean {
  const pw = phase.w;
  const count = pw.count;
  const groupValues = ctx.inPerGroup * ctx.inPlane;
  const maxTaps = ctx.inPerGroup * phase.d.taps.length * phase.h.taps.length * pw.taps.length;
  try {
    wasm.reserveDirect(groupValues, maxTaps, count);
  } catch {
    return false;
  }
  const tapOffsets = phaseTapOffsets(ctx, phase);
  const { heap32, heapI32 } = wasm;
  const { y, bias } = ctx;
  const xStart = wasm.xStart;
  const rowStart = wasm.rowStart;
  const outStep = pw.outStep;
  let record = 0;
  let taps = 0;
  const visit = (weight: number, start: number, lo: number, hi: number) => {
    heap32[record] = weight;
    heapI32[record + 1] = (xStart + start) * 4;
    heapI32[record + 2] = lo;
    heapI32[record + 3] = hi;
    record += DIRECT_TAP_BYTES / 4;
    taps++;
  };
  for (let n = batchStart; n < batchEnd; n++) {
    const xGroup = (n * ctx.inChannels + group * ctx.inPerGroup) * ctx.inPlane;
    heap32.set(ctx.x.subarray(xGroup, xGroup + groupValues), xStart);
    for (let co = first; co < last; co++) {
      const yPlane = (n * ctx.outChannels + co) * ctx.outPlane;
      for (let jd = 0; jd < phase.d.count; jd++) {
        for (let jh = 0; jh < phase.h.count; jh++) {
          record = wasm.tapStart;
          taps = 0;
          forEachRowTap(ctx, phase, group, co, jd, jh, tapOffsets, visit);
          wasm.direct(taps, count, bias[co]!, pw.inStep);
          const yRow = yPlane + phaseRowOffset(ctx, phase, jd, jh);
          if (outStep === 1) {
            y.set(heap32.subarray(rowStart, rowStart + count), yRow);
          } else {
            for (let j = 0; j < count; j++) y[yRow + j * outStep] = heap32[rowStart + j]!;
          }
        }
      }
    }
  }
  return true;
}

/**
 * The float32 direct loop in JavaScript, bit for bit what the WebAssembly one computes: each output starts at
 * its bias, then each tap in forEachRowTap's order adds its product, product and sum rounded to float32
 * (a Float32Array stores the correctly rounded float32 sum of two float32 values computed in float64).
 */
function directPhaseFloat32(
  ctx: Context,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): void {
  const pw = phase.w;
  const count = pw.count;
  const row = ctx.scratch.ensureRow32(count);
  const tapOffsets = phaseTapOffsets(ctx, phase);
  const { x, y, bias } = ctx;
  const step = pw.inStep;
  const outStep = pw.outStep;
  let xGroup = 0;
  const visit = (weight: number, start: number, lo: number, hi: number) => {
    const base = xGroup + start;
    for (let j = lo; j < hi; j++) row[j] = row[j]! + Math.fround(weight * x[base + j * step]!);
  };
  for (let n = batchStart; n < batchEnd; n++) {
    xGroup = (n * ctx.inChannels + group * ctx.inPerGroup) * ctx.inPlane;
    for (let co = first; co < last; co++) {
      const yPlane = (n * ctx.outChannels + co) * ctx.outPlane;
      for (let jd = 0; jd < phase.d.count; jd++) {
        for (let jh = 0; jh < phase.h.count; jh++) {
          row.fill(bias[co]!, 0, count);
          forEachRowTap(ctx, phase, group, co, jd, jh, tapOffsets, visit);
          const yRow = yPlane + phaseRowOffset(ctx, phase, jd, jh);
          for (let j = 0; j < count; j++) y[yRow + j * outStep] = row[j]!;
        }
      }
    }
  }
}

/**
 * Few output channels per group (depthwise and the like): for each output row, accumulate the contributions
 * of every input channel and input row into a float64 row, then round once into y. Taps along W are taken
 * up to four at a time: where all of them read inside the input, one pass adds their products summed in
 * registers (a quarter of the row traffic of one axpy per tap); the few outputs near the borders take an
 * axpy per tap.
 */
function directPhase(
  ctx: Context,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): void {
  const { x, w, y, bias } = ctx;
  const pd = phase.d;
  const ph = phase.h;
  const pw = phase.w;
  const count = pw.count;
  const acc = ctx.scratch.ensureRow(count);
  const tapOffsets = phaseTapOffsets(ctx, phase);
  const tapsD = pd.taps.length;
  const tapsH = ph.taps.length;
  const tapsW = pw.taps.length;
  const inHW = ctx.inH * ctx.inW;
  const outStep = pw.outStep;
  for (let n = batchStart; n < batchEnd; n++) {
    const xGroup = (n * ctx.inChannels + group * ctx.inPerGroup) * ctx.inPlane;
    for (let co = first; co < last; co++) {
      const yPlane = (n * ctx.outChannels + co) * ctx.outPlane;
      const b = bias[co]!;
      for (let jd = 0; jd < pd.count; jd++) {
        for (let jh = 0; jh < ph.count; jh++) {
          acc.fill(0, 0, count);
          for (let ci = 0; ci < ctx.inPerGroup; ci++) {
            const xChannel = xGroup + ci * ctx.inPlane;
            const filter = filterOffset(ctx, group, co, ci);
            for (let a = 0; a < tapsD; a++) {
              if (jd < pd.lo[a]! || jd >= pd.hi[a]!) continue;
              const xD = xChannel + (pd.inBase[a]! + pd.inStep * jd) * inHW;
              for (let c = 0; c < tapsH; c++) {
                if (jh < ph.lo[c]! || jh >= ph.hi[c]!) continue;
                const xRow = xD + (ph.inBase[c]! + ph.inStep * jh) * ctx.inW;
                const tapBase = (a * tapsH + c) * tapsW;
                // Three rows of three taps (3×3 kernels, the common depthwise case) in one pass.
                if (tapsW === 3 && c + 2 < tapsH && jh >= ph.lo[c + 2]! && jh < ph.hi[c + 2]!) {
                  if (jh >= ph.lo[c + 1]! && jh < ph.hi[c + 1]!) {
                    const rowStep = (ph.inBase[c + 1]! - ph.inBase[c]!) * ctx.inW;
                    const stepTwo = (ph.inBase[c + 2]! - ph.inBase[c]!) * ctx.inW;
                    accumulate3x3(acc, x, w, xRow, rowStep, stepTwo, filter, tapOffsets, tapBase, pw);
                    c += 2;
                    continue;
                  }
                }
                for (let e = 0; e < tapsW; e += 4) {
                  accumulateTaps(acc, x, w, xRow, filter, tapOffsets, tapBase, pw, e, Math.min(4, tapsW - e));
                }
              }
            }
          }
          const yRow = yPlane + phaseRowOffset(ctx, phase, jd, jh);
          if (outStep === 1) {
            for (let j = 0; j < count; j++) y[yRow + j] = acc[j]! + b;
          } else {
            for (let j = 0; j < count; j++) y[yRow + j * outStep] = acc[j]! + b;
          }
        }
      }
    }
  }
}

/**
 * accumulateTaps for three consecutive rows of three W taps (tap rows at xRow, xRow + rowOne, xRow + rowTwo,
 * weights following each other in tapOffsets): nine products per output in registers where all taps read
 * inside the input, an axpy per tap at the borders.
 */
function accumulate3x3(
  acc: Float64Array,
  x: Float32Array,
  w: Float32Array,
  xRow: number,
  rowOne: number,
  rowTwo: number,
  filter: number,
  tapOffsets: Int32Array,
  tapBase: number,
  pw: AxisPhase,
): void {
  const step = pw.inStep;
  const lo = pw.lo;
  const hi = pw.hi;
  const from = Math.max(lo[0]!, lo[1]!, lo[2]!);
  const to = Math.min(hi[0]!, hi[1]!, hi[2]!);
  if (from >= to) {
    for (let row = 0; row < 3; row++) {
      const rowStart = xRow + (row === 0 ? 0 : row === 1 ? rowOne : rowTwo);
      accumulateTaps(acc, x, w, rowStart, filter, tapOffsets, tapBase + row * 3, pw, 0, 3);
    }
    return;
  }
  for (let row = 0; row < 3; row++) {
    const rowStart = xRow + (row === 0 ? 0 : row === 1 ? rowOne : rowTwo);
    for (let e = 0; e < 3; e++) {
      const weight = w[filter + tapOffsets[tapBase + row * 3 + e]!]!;
      const start = rowStart + pw.inBase[e]!;
      for (let j = lo[e]!; j < from; j++) acc[j] = acc[j]! + weight * x[start + j * step]!;
      for (let j = to; j < hi[e]!; j++) acc[j] = acc[j]! + weight * x[start + j * step]!;
    }
  }
  const w0 = w[filter + tapOffsets[tapBase]!]!;
  const w1 = w[filter + tapOffsets[tapBase + 1]!]!;
  const w2 = w[filter + tapOffsets[tapBase + 2]!]!;
  const w3 = w[filter + tapOffsets[tapBase + 3]!]!;
  const w4 = w[filter + tapOffsets[tapBase + 4]!]!;
  const w5 = w[filter + tapOffsets[tapBase + 5]!]!;
  const w6 = w[filter + tapOffsets[tapBase + 6]!]!;
  const w7 = w[filter + tapOffsets[tapBase + 7]!]!;
  const w8 = w[filter + tapOffsets[tapBase + 8]!]!;
  const s0 = xRow + pw.inBase[0]!;
  const s1 = xRow + pw.inBase[1]!;
  const s2 = xRow + pw.inBase[2]!;
  const t0 = s0 + rowOne;
  const t1 = s1 + rowOne;
  const t2 = s2 + rowOne;
  const u0 = s0 + rowTwo;
  const u1 = s1 + rowTwo;
  const u2 = s2 + rowTwo;
  let p = from * step;
  for (let j = from; j < to; j++, p += step) {
    acc[j] =
      acc[j]! +
      (w0 * x[s0 + p]! +
        w1 * x[s1 + p]! +
        w2 * x[s2 + p]! +
        (w3 * x[t0 + p]! + w4 * x[t1 + p]! + w5 * x[t2 + p]!) +
        (w6 * x[u0 + p]! + w7 * x[u1 + p]! + w8 * x[u2 + p]!));
  }
}

/**
 * acc[j] += Σ weight(tap e) · x[xRow + inBase[e] + j·inStep] over the W taps e of [first, first + taps)
 * (1 to 4 taps), for every j where the tap reads inside the input.
 */
function accumulateTaps(
  acc: Float64Array,
  x: Float32Array,
  w: Float32Array,
  xRow: number,
  filter: number,
  tapOffsets: Int32Array,
  tapBase: number,
  pw: AxisPhase,
  first: number,
  taps: number,
): void {
  const step = pw.inStep;
  const lo = pw.lo;
  const hi = pw.hi;
  let from = 0;
  let to = pw.count;
  for (let e = first; e < first + taps; e++) {
    from = Math.max(from, lo[e]!);
    to = Math.min(to, hi[e]!);
  }
  if (from >= to) from = to = lo[first]!;
  // Borders: one axpy per tap outside the range every tap covers.
  for (let e = first; e < first + taps; e++) {
    const weight = w[filter + tapOffsets[tapBase + e]!]!;
    const start = xRow + pw.inBase[e]!;
    for (let j = lo[e]!, end = Math.min(hi[e]!, from); j < end; j++)
      acc[j] = acc[j]! + weight * x[start + j * step]!;
    for (let j = Math.max(lo[e]!, to), end = hi[e]!; j < end; j++)
      acc[j] = acc[j]! + weight * x[start + j * step]!;
  }
  if (from >= to) return;
  const w0 = w[filter + tapOffsets[tapBase + first]!]!;
  const s0 = xRow + pw.inBase[first]!;
  let p = from * step;
  if (taps === 1) {
    for (let j = from; j < to; j++, p += step) acc[j] = acc[j]! + w0 * x[s0 + p]!;
    return;
  }
  const w1 = w[filter + tapOffsets[tapBase + first + 1]!]!;
  const s1 = xRow + pw.inBase[first + 1]!;
  if (taps === 2) {
    for (let j = from; j < to; j++, p += step) acc[j] = acc[j]! + (w0 * x[s0 + p]! + w1 * x[s1 + p]!);
    return;
  }
  const w2 = w[filter + tapOffsets[tapBase + first + 2]!]!;
  const s2 = xRow + pw.inBase[first + 2]!;
  if (taps === 3) {
    for (let j = from; j < to; j++, p += step) {
      acc[j] = acc[j]! + (w0 * x[s0 + p]! + w1 * x[s1 + p]! + w2 * x[s2 + p]!);
    }
    return;
  }
  const w3 = w[filter + tapOffsets[tapBase + first + 3]!]!;
  const s3 = xRow + pw.inBase[first + 3]!;
  for (let j = from; j < to; j++, p += step) {
    acc[j] = acc[j]! + (w0 * x[s0 + p]! + w1 * x[s1 + p]! + w2 * x[s2 + p]! + w3 * x[s3 + p]!);
  }
}

// -------------------------------------------------------------------------------------------------- GEMM

/** Where packs go: the JavaScript kernels' float32 scratch, or the WebAssembly heap (float32 or float64). */
type PackArray = Float32Array | Float64Array;

/**
 * Packs the weights of output channels [first, last) of a group for one phase into `rows`-row panels,
 * starting at a[start]: a[start + (panel·K + k)·rows + r] = weight of row panel·rows + r at
 * k = ci·taps + tap. Rows past `last` are zeros. Reads follow the weight's memory order (output channel
 * major for a conv, input channel major for a transposed conv), which matters for layers of many MB.
 */
function packWeights(
  ctx: Context,
  group: number,
  first: number,
  last: number,
  tapOffsets: Int32Array,
  taps: number,
  a: PackArray,
  start: number,
  rows: number,
): void {
  const K = ctx.inPerGroup * taps;
  const panels = Math.ceil((last - first) / rows);
  const { w } = ctx;
  for (let co = last; co < first + panels * rows; co++) {
    const r = (co - first) % rows;
    const base = start + Math.floor((co - first) / rows) * K * rows + r;
    for (let k = 0; k < K; k++) a[base + k * rows] = 0;
  }
  const outer = ctx.transposed ? ctx.inPerGroup : last - first;
  const inner = ctx.transposed ? last - first : ctx.inPerGroup;
  for (let i = 0; i < outer; i++) {
    for (let j = 0; j < inner; j++) {
      const ci = ctx.transposed ? i : j;
      const co = first + (ctx.transposed ? j : i);
      const r = (co - first) % rows;
      const base = start + (Math.floor((co - first) / rows) * K + ci * taps) * rows + r;
      const filter = filterOffset(ctx, group, co, ci);
      for (let t = 0; t < taps; t++) a[base + t * rows] = w[filter + tapOffsets[t]!]!;
    }
  }
}

/**
 * Packs im2col columns [j0, j0 + columns) of a phase (positions in D, H, W order) into panels of
 * 2^shift columns, starting at b[start]: b[start + (panel·K + k)·2^shift + lane]. Positions that read
 * outside the input (padding) get zeros; lanes past the last column are zeros too.
 */
function packColumns(
  ctx: Context,
  phase: Phase,
  xGroup: number,
  j0: number,
  columns: number,
  K: number,
  b: PackArray,
  start: number,
  shift: number,
): void {
  const { x } = ctx;
  const pd = phase.d;
  const ph = phase.h;
  const pw = phase.w;
  const countW = pw.count;
  const countH = ph.count;
  const inHW = ctx.inH * ctx.inW;
  const inW = ctx.inW;
  const inStepW = pw.inStep;
  const lanes = 1 << shift;
  const mask = lanes - 1;
  const panelSize = K * lanes;
  const jw0 = j0 % countW;
  const jh0 = Math.floor(j0 / countW) % countH;
  const jd0 = Math.floor(j0 / (countW * countH));
  let k = 0;
  for (let ci = 0; ci < ctx.inPerGroup; ci++) {
    const xChannel = xGroup + ci * ctx.inPlane;
    for (let a = 0; a < pd.taps.length; a++) {
      const loD = pd.lo[a]!;
      const hiD = pd.hi[a]!;
      for (let c = 0; c < ph.taps.length; c++) {
        const loH = ph.lo[c]!;
        const hiH = ph.hi[c]!;
        for (let e = 0; e < pw.taps.length; e++, k++) {
          const loW = pw.lo[e]!;
          const hiW = pw.hi[e]!;
          const baseW = pw.inBase[e]!;
          const rowStart = start + k * lanes;
          let col = 0;
          let jw = jw0;
          let jh = jh0;
          let jd = jd0;
          while (col < columns) {
            const segment = Math.min(countW - jw, columns - col);
            const end = jw + segment;
            if (jd < loD || jd >= hiD || jh < loH || jh >= hiH) {
              zeroRun(b, segment, col, rowStart, shift, panelSize);
            } else {
              const row =
                xChannel +
                (pd.inBase[a]! + pd.inStep * jd) * inHW +
                (ph.inBase[c]! + ph.inStep * jh) * inW +
                baseW;
              // Padding before the input, the input, padding after it.
              const inFrom = Math.max(jw, Math.min(loW, end));
              const inTo = Math.max(inFrom, Math.min(hiW, end));
              zeroRun(b, inFrom - jw, col, rowStart, shift, panelSize);
              copyRun(
                b,
                x,
                row + inFrom * inStepW,
                inStepW,
                inTo - inFrom,
                col + inFrom - jw,
                rowStart,
                shift,
                panelSize,
              );
              zeroRun(b, end - inTo, col + inTo - jw, rowStart, shift, panelSize);
            }
            col += segment;
            jw = 0;
            if (++jh === countH) {
              jh = 0;
              jd++;
            }
          }
        }
      }
    }
  }
  // Lanes of the last panel past the last column.
  const padded = Math.ceil(columns / lanes) * lanes;
  for (let col = columns; col < padded; col++) {
    const base = start + (col >> shift) * panelSize + (col & mask);
    for (let kk = 0; kk < K; kk++) b[base + kk * lanes] = 0;
  }
}

/**
 * Packs im2col columns [j0, j0 + columns) of a phase row-major: b[start + k·width + col], rows `width`
 * values long (columns rounded up to whole tiles; the lanes past the last column are zeros).
 */
function packColumnRows(
  ctx: Context,
  phase: Phase,
  xGroup: number,
  j0: number,
  columns: number,
  K: number,
  b: PackArray,
  start: number,
  width: number,
): void {
  const { x } = ctx;
  const pd = phase.d;
  const ph = phase.h;
  const pw = phase.w;
  const countW = pw.count;
  const countH = ph.count;
  const inHW = ctx.inH * ctx.inW;
  const inW = ctx.inW;
  const inStepW = pw.inStep;
  const jw0 = j0 % countW;
  const jh0 = Math.floor(j0 / countW) % countH;
  const jd0 = Math.floor(j0 / (countW * countH));
  let k = 0;
  for (let ci = 0; ci < ctx.inPerGroup; ci++) {
    const xChannel = xGroup + ci * ctx.inPlane;
    for (let a = 0; a < pd.taps.length; a++) {
      const loD = pd.lo[a]!;
      const hiD = pd.hi[a]!;
      for (let c = 0; c < ph.taps.length; c++) {
        const loH = ph.lo[c]!;
        const hiH = ph.hi[c]!;
        for (let e = 0; e < pw.taps.length; e++, k++) {
          const loW = pw.lo[e]!;
          const hiW = pw.hi[e]!;
          const baseW = pw.inBase[e]!;
          let dst = start + k * width;
          let col = 0;
          let jw = jw0;
          let jh = jh0;
          let jd = jd0;
          while (col < columns) {
            const segment = Math.min(countW - jw, columns - col);
            const end = jw + segment;
            if (jd < loD || jd >= hiD || jh < loH || jh >= hiH) {
              b.fill(0, dst, dst + segment);
              dst += segment;
            } else {
              const row =
                xChannel +
                (pd.inBase[a]! + pd.inStep * jd) * inHW +
                (ph.inBase[c]! + ph.inStep * jh) * inW +
                baseW;
              // Padding before the input, the input, padding after it.
              const inFrom = Math.max(jw, Math.min(loW, end));
              const inTo = Math.max(inFrom, Math.min(hiW, end));
              for (let j = jw; j < inFrom; j++) b[dst++] = 0;
              if (inStepW === 1) {
                if (inTo - inFrom >= 32) {
                  // A long contiguous run: a native copy beats an element loop.
                  b.set(x.subarray(row + inFrom, row + inTo), dst);
                  dst += inTo - inFrom;
                } else {
                  for (let j = inFrom; j < inTo; j++) b[dst++] = x[row + j]!;
                }
              } else {
                for (let j = inFrom; j < inTo; j++) b[dst++] = x[row + j * inStepW]!;
              }
              for (let j = inTo; j < end; j++) b[dst++] = 0;
            }
            col += segment;
            jw = 0;
            if (++jh === countH) {
              jh = 0;
              jd++;
            }
          }
          for (; col < width; col++) b[dst++] = 0;
        }
      }
    }
  }
}

/**
 * Writes x[src + i·step] (i < count) to columns col, col + 1, … of one pack row (starting at rowStart) laid
 * out in panels of 2^shift columns, panelSize values apart: whole panels at a time where it can.
 */
function copyRun(
  b: PackArray,
  x: Float32Array,
  src: number,
  step: number,
  count: number,
  col: number,
  rowStart: number,
  shift: number,
  panelSize: number,
): void {
  const lanes = 1 << shift;
  let lane = col & (lanes - 1);
  let dst = rowStart + (col >> shift) * panelSize + lane;
  let i = 0;
  // Up to the first panel boundary.
  for (; i < count && lane !== 0; i++, src += step) {
    b[dst] = x[src]!;
    if (++lane === lanes) {
      lane = 0;
      dst += panelSize - lanes + 1;
    } else {
      dst++;
    }
  }
  // Whole panels.
  if (step === 1) {
    for (; i + lanes <= count; i += lanes, src += lanes, dst += panelSize) {
      for (let q = 0; q < lanes; q++) b[dst + q] = x[src + q]!;
    }
  } else {
    for (; i + lanes <= count; i += lanes, dst += panelSize) {
      for (let q = 0; q < lanes; q++, src += step) b[dst + q] = x[src]!;
    }
  }
  // The rest, in the last panel.
  for (let q = 0; i < count; i++, q++, src += step) b[dst + q] = x[src]!;
}

/** Writes zeros to `count` columns from col of one pack row (see copyRun). */
function zeroRun(
  b: PackArray,
  count: number,
  col: number,
  rowStart: number,
  shift: number,
  panelSize: number,
): void {
  const mask = (1 << shift) - 1;
  for (let i = 0; i < count; i++, col++) b[rowStart + (col >> shift) * panelSize + (col & mask)] = 0;
}

/** Output offsets (within a plane) of columns [j0, j0 + columns) of a phase. */
function columnOffsets(ctx: Context, phase: Phase, j0: number, columns: number, out: Int32Array): void {
  const countW = phase.w.count;
  const countH = phase.h.count;
  let jw = j0 % countW;
  let jh = Math.floor(j0 / countW) % countH;
  let jd = Math.floor(j0 / (countW * countH));
  let row = phaseRowOffset(ctx, phase, jd, jh);
  for (let col = 0; col < columns; col++) {
    out[col] = row + jw * phase.w.outStep;
    if (++jw === countW) {
      jw = 0;
      if (++jh === countH) {
        jh = 0;
        jd++;
      }
      row = phaseRowOffset(ctx, phase, jd, jh);
    }
  }
}

/** Columns per packed block: a multiple of `lanes`, with the block near `budget` values (to stay in L2). */
function blockColumnsFor(positions: number, K: number, lanes: number, budget: number): number {
  const fitting = Math.floor(budget / K / lanes) * lanes;
  return Math.max(lanes, Math.min(Math.ceil(positions / lanes) * lanes, fitting));
}

function gemmPhase(
  ctx: Context,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): void {
  if (ctx.wasm && gemmPhaseWasm(ctx, ctx.wasm, phase, group, batchStart, batchEnd, first, last)) return;
  const taps = phase.d.taps.length * phase.h.taps.length * phase.w.taps.length;
  const K = ctx.inPerGroup * taps;
  const tapOffsets = phaseTapOffsets(ctx, phase);
  const rowPanels = Math.ceil((last - first) / MR);
  const a = ctx.scratch.ensureA(rowPanels * K * MR);
  packWeights(ctx, group, first, last, tapOffsets, taps, a, 0, MR);
  const positions = phase.d.count * phase.h.count * phase.w.count;
  const blockColumns = blockColumnsFor(positions, K, NR, B_BLOCK_VALUES);
  const b = ctx.scratch.ensureB(blockColumns * K);
  const columnOut = ctx.scratch.ensureColumns(blockColumns);
  for (let n = batchStart; n < batchEnd; n++) {
    const xGroup = (n * ctx.inChannels + group * ctx.inPerGroup) * ctx.inPlane;
    const yFirst = (n * ctx.outChannels + first) * ctx.outPlane;
    for (let j0 = 0; j0 < positions; j0 += blockColumns) {
      const columns = Math.min(blockColumns, positions - j0);
      packColumns(ctx, phase, xGroup, j0, columns, K, b, 0, 2);
      columnOffsets(ctx, phase, j0, columns, columnOut);
      const columnPanels = Math.ceil(columns / NR);
      const kernel = ctx.precision === 'float32' ? kernel4x4Float32 : kernel4x4;
      for (let ip = 0; ip < rowPanels; ip++) {
        const validRows = Math.min(MR, last - first - ip * MR);
        for (let jp = 0; jp < columnPanels; jp++) {
          kernel(
            a,
            ip * K * MR,
            b,
            jp * K * NR,
            K,
            ctx.y,
            yFirst + ip * MR * ctx.outPlane,
            ctx.outPlane,
            columnOut,
            jp * NR,
            validRows,
            Math.min(NR, columns - jp * NR),
            ctx.bias,
            first + ip * MR,
          );
        }
      }
    }
  }
}

/**
 * The same GEMM with a WebAssembly kernel: A and each B block are packed into the WebAssembly heap in the
 * kernel's precision, the kernel fills a C block, and C plus bias is rounded into y. Returns false, having
 * done nothing, when the WebAssembly memory cannot grow enough (the JavaScript kernel then runs the phase).
 */
function gemmPhaseWasm(
  ctx: Context,
  wasm: WasmKernels,
  phase: Phase,
  group: number,
  batchStart: number,
  batchEnd: number,
  first: number,
  last: number,
): boolean {
  const precision = ctx.precision;
  const tile = WASM_TILE[precision];
  const taps = phase.d.taps.length * phase.h.taps.length * phase.w.taps.length;
  const K = ctx.inPerGroup * taps;
  const tapOffsets = phaseTapOffsets(ctx, phase);
  const rows = last - first;
  const rowPanels = Math.ceil(rows / tile.rows);
  const positions = phase.d.count * phase.h.count * phase.w.count;
  const blockColumns = blockColumnsFor(positions, K, tile.columns, WASM_B_BLOCK_BYTES / tile.bytes);
  try {
    wasm.reserve(
      precision,
      rowPanels * tile.rows * K,
      blockColumns * K,
      rowPanels * tile.rows * blockColumns,
    );
  } catch {
    return false;
  }
  const heap = precision === 'float32' ? wasm.heap32 : wasm.heap64;
  packWeights(ctx, group, first, last, tapOffsets, taps, heap, wasm.aStart, tile.rows);
  const columnOut = ctx.scratch.ensureColumns(blockColumns);
  const { y, bias } = ctx;
  for (let n = batchStart; n < batchEnd; n++) {
    const xGroup = (n * ctx.inChannels + group * ctx.inPerGroup) * ctx.inPlane;
    const yFirst = (n * ctx.outChannels + first) * ctx.outPlane;
    for (let j0 = 0; j0 < positions; j0 += blockColumns) {
      const columns = Math.min(blockColumns, positions - j0);
      const columnPanels = Math.ceil(columns / tile.columns);
      packColumnRows(ctx, phase, xGroup, j0, columns, K, heap, wasm.bStart, columnPanels * tile.columns);
      columnOffsets(ctx, phase, j0, columns, columnOut);
      wasm.gemm(precision, K, rowPanels, columnPanels);
      const cRow = columnPanels * tile.columns;
      for (let r = 0; r < rows; r++) {
        const value = bias[first + r]!;
        const yRow = yFirst + r * ctx.outPlane;
        const cStart = wasm.cStart + r * cRow;
        for (let c = 0; c < columns; c++) y[yRow + columnOut[c]!] = heap[cStart + c]! + value;
      }
    }
  }
  return true;
}

/**
 * The micro-kernel: a 4×4 tile of outputs, y[row r, column c] = bias[r] + Σ_k a[k, r]·b[k, c], summed in
 * float64 registers over the whole K and rounded once into y.
 */
function kernel4x4(
  a: Float32Array,
  aStart: number,
  b: Float32Array,
  bStart: number,
  K: number,
  y: Float32Array,
  yStart: number,
  yRowStride: number,
  columnOut: Int32Array,
  columnStart: number,
  rows: number,
  columns: number,
  bias: Float32Array,
  biasStart: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let ia = aStart;
  let ib = bStart;
  for (let k = 0; k < K; k++) {
    const a0 = a[ia]!,
      a1 = a[ia + 1]!,
      a2 = a[ia + 2]!,
      a3 = a[ia + 3]!;
    const b0 = b[ib]!,
      b1 = b[ib + 1]!,
      b2 = b[ib + 2]!,
      b3 = b[ib + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ia += MR;
    ib += NR;
  }
  if (rows === MR && columns === NR) {
    const o0 = columnOut[columnStart]!,
      o1 = columnOut[columnStart + 1]!;
    const o2 = columnOut[columnStart + 2]!,
      o3 = columnOut[columnStart + 3]!;
    let r = yStart;
    let bv = bias[biasStart]!;
    y[r + o0] = c00 + bv;
    y[r + o1] = c01 + bv;
    y[r + o2] = c02 + bv;
    y[r + o3] = c03 + bv;
    r += yRowStride;
    bv = bias[biasStart + 1]!;
    y[r + o0] = c10 + bv;
    y[r + o1] = c11 + bv;
    y[r + o2] = c12 + bv;
    y[r + o3] = c13 + bv;
    r += yRowStride;
    bv = bias[biasStart + 2]!;
    y[r + o0] = c20 + bv;
    y[r + o1] = c21 + bv;
    y[r + o2] = c22 + bv;
    y[r + o3] = c23 + bv;
    r += yRowStride;
    bv = bias[biasStart + 3]!;
    y[r + o0] = c30 + bv;
    y[r + o1] = c31 + bv;
    y[r + o2] = c32 + bv;
    y[r + o3] = c33 + bv;
    return;
  }
  // An edge tile: store only the rows and columns that exist.
  const tile = EDGE_TILE;
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
  for (let r = 0; r < rows; r++) {
    const bv = bias[biasStart + r]!;
    const yRow = yStart + r * yRowStride;
    for (let c = 0; c < columns; c++) y[yRow + columnOut[columnStart + c]!] = tile[r * NR + c]! + bv;
  }
}

const EDGE_TILE = new Float64Array(MR * NR);

/**
 * The micro-kernel summing in float32, exactly as the WebAssembly float32 kernel does (and as float32 SIMD
 * hardware does): each product rounded to float32, then each partial sum. Math.fround of a product of two
 * float32 values (exact in float64) is the float32 product, and of a sum of two float32 values the float32
 * sum, so this is bit-for-bit float32 arithmetic.
 */
function kernel4x4Float32(
  a: Float32Array,
  aStart: number,
  b: Float32Array,
  bStart: number,
  K: number,
  y: Float32Array,
  yStart: number,
  yRowStride: number,
  columnOut: Int32Array,
  columnStart: number,
  rows: number,
  columns: number,
  bias: Float32Array,
  biasStart: number,
): void {
  const f = Math.fround;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let ia = aStart;
  let ib = bStart;
  for (let k = 0; k < K; k++) {
    const a0 = a[ia]!;
    const a1 = a[ia + 1]!;
    const a2 = a[ia + 2]!;
    const a3 = a[ia + 3]!;
    const b0 = b[ib]!;
    const b1 = b[ib + 1]!;
    const b2 = b[ib + 2]!;
    const b3 = b[ib + 3]!;
    c00 = f(c00 + f(a0 * b0));
    c01 = f(c01 + f(a0 * b1));
    c02 = f(c02 + f(a0 * b2));
    c03 = f(c03 + f(a0 * b3));
    c10 = f(c10 + f(a1 * b0));
    c11 = f(c11 + f(a1 * b1));
    c12 = f(c12 + f(a1 * b2));
    c13 = f(c13 + f(a1 * b3));
    c20 = f(c20 + f(a2 * b0));
    c21 = f(c21 + f(a2 * b1));
    c22 = f(c22 + f(a2 * b2));
    c23 = f(c23 + f(a2 * b3));
    c30 = f(c30 + f(a3 * b0));
    c31 = f(c31 + f(a3 * b1));
    c32 = f(c32 + f(a3 * b2));
    c33 = f(c33 + f(a3 * b3));
    ia += MR;
    ib += NR;
  }
  const tile = EDGE_TILE;
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
  for (let r = 0; r < rows; r++) {
    const bv = bias[biasStart + r]!;
    const yRow = yStart + r * yRowStride;
    for (let c = 0; c < columns; c++) y[yRow + columnOut[columnStart + c]!] = tile[r * NR + c]! + bv;
  }
}

// ------------------------------------------------------------------------------------------------ engine

/**
 * Runs one problem on this thread: validates it (shapes from the core, limits before allocation), allocates
 * the output and computes it. Never throws for a bad problem; the failure says what is wrong.
 */
export function convolveCpu(
  problem: ConvProblem,
  limits: EngineLimits = DEFAULT_LIMITS,
  options: CpuRunOptions = {},
): Outcome<ConvResult> {
  const started = now();
  const geometry = validateProblem(problem, limits, true);
  if (!geometry.ok) return geometry;
  const g = geometry.value;
  const whole = { batchStart: 0, batchEnd: g.batch, channelStart: 0, channelEnd: g.outChannels };
  let y: Float32Array;
  try {
    y = new Float32Array(g.yShape.reduce((a, b) => a * b, 1));
    runSlice(problem, g, whole, y, options);
  } catch (error) {
    // Only memory can run out here (the problem is valid and within the limits): say so, never throw.
    return fail(
      `The CPU engine could not finish: ${error instanceof Error ? error.message : String(error)}. ` +
        `Lower convLens.engine.maxElements or convLens.engine.maxMacs, or use a smaller problem.`,
    );
  }
  const wasm = options.wasm === false ? null : createWasmKernels();
  const precision = options.precision ?? defaultPrecision(wasm);
  const engine = `CPU (${wasm ? 'WebAssembly SIMD' : 'JavaScript'}, ${precision})`;
  return ok({ y, yShape: g.yShape, engine, milliseconds: now() - started });
}

export interface CpuEngineOptions extends CpuRunOptions {
  readonly limits?: EngineLimits;
}

/** The CPU engine behind the common interface (single-threaded; workers hand it slices via runSlice). */
export function createCpuEngine(options: CpuEngineOptions = {}): ConvEngine {
  const limits = options.limits ?? DEFAULT_LIMITS;
  return {
    name: 'CPU',
    run: (problem) => Promise.resolve(convolveCpu(problem, limits, options)),
  };
}
