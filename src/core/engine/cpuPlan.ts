/**
 * How the CPU engine walks one spatial axis. A conv and a transposed conv both become a list of "phases" per
 * axis; within a phase, output position j (0 ≤ j < count) sits at `outStart + outStep·j` and reads input
 * position `inBase[t] + inStep·j` through kernel tap `taps[t]`, where that position is inside the input
 * (which is exactly when lo[t] ≤ j < hi[t]). Every phase is a dense, regular correlation, so one gather-GEMM
 * and one direct loop serve both ops, in 1-D, 2-D and 3-D (the product of the axes' phases).
 *
 * Conv (PyTorch `conv_nd`): one phase covering every output, input = o·stride − padBegin + t·dilation.
 *
 * Transposed conv (the gradient of a conv): output o receives x[i]·w[t] where i·stride + t·dilation =
 * o + padBegin. Grouping outputs by r = (o + padBegin) mod stride gives `stride` phases; in phase r only the
 * taps with t·dilation ≡ r (mod stride) contribute, each from i = m − (t·dilation − r)/stride, where
 * m = (o + padBegin − r)/stride. So no zero is ever inserted and no tap is wasted (the stride-phase
 * decomposition of transposed convolution, as in e.g. Shi et al., "Is the deconvolution layer the same as a
 * convolutional layer?", 2016). output_padding only makes the output longer: those positions read nothing
 * beyond the input, which the lo/hi ranges already express.
 */

export interface AxisPhase {
  /** Output position of j = 0, and the distance between consecutive outputs of this phase. */
  readonly outStart: number;
  readonly outStep: number;
  /** Number of outputs in this phase (may be 0 when the output is shorter than the stride). */
  readonly count: number;
  /** Distance between the input positions read by consecutive outputs, for every tap. */
  readonly inStep: number;
  /** Kernel tap index along this axis, per tap of the phase. */
  readonly taps: Int32Array;
  /** Input position read through tap t by output j = 0 (may lie outside the input). */
  readonly inBase: Int32Array;
  /** Outputs lo[t] ≤ j < hi[t] read an input position inside [0, inSize) through tap t. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
}

export interface AxisPlan {
  readonly inSize: number;
  readonly outSize: number;
  readonly kernel: number;
  readonly phases: readonly AxisPhase[];
}

export interface AxisSettings {
  readonly inSize: number;
  readonly outSize: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBegin: number;
}

const ceilDivPositive = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** First j ≥ 0 with base + step·j ≥ 0, and first j with base + step·j ≥ size (step > 0). */
function validRange(base: number, step: number, size: number, count: number): [number, number] {
  const lo = base >= 0 ? 0 : ceilDivPositive(-base, step);
  const hi = base >= size ? 0 : ceilDivPositive(size - base, step);
  const clampedLo = Math.min(lo, count);
  return [clampedLo, Math.max(clampedLo, Math.min(hi, count))];
}

function makePhase(
  outStart: number,
  outStep: number,
  count: number,
  inStep: number,
  taps: number[],
  inBase: number[],
  inSize: number,
): AxisPhase {
  const lo = new Int32Array(taps.length);
  const hi = new Int32Array(taps.length);
  inBase.forEach((base, t) => {
    [lo[t], hi[t]] = validRange(base, inStep, inSize, count);
  });
  return {
    outStart,
    outStep,
    count,
    inStep,
    taps: Int32Array.from(taps),
    inBase: Int32Array.from(inBase),
    lo,
    hi,
  };
}

/** Conv: input = j·stride − padBegin + t·dilation for every tap t. */
export function convAxis(axis: AxisSettings): AxisPlan {
  const taps = Array.from({ length: axis.kernel }, (_, t) => t);
  const inBase = taps.map((t) => t * axis.dilation - axis.padBegin);
  return {
    inSize: axis.inSize,
    outSize: axis.outSize,
    kernel: axis.kernel,
    phases: [makePhase(0, 1, axis.outSize, axis.stride, taps, inBase, axis.inSize)],
  };
}

/**
 * Transposed conv: one phase per residue r = (o + padBegin) mod stride, each reading input
 * m − (t·dilation − r)/stride through the taps with t·dilation ≡ r (mod stride). Phases without outputs are
 * dropped; a phase without taps (possible when stride and dilation share a factor) gives bias-only outputs.
 */
export function transposedAxis(axis: AxisSettings): AxisPlan {
  const s = axis.stride;
  const phases: AxisPhase[] = [];
  for (let r = 0; r < s; r++) {
    // The first output o ≥ 0 with (o + padBegin) ≡ r (mod s).
    const outStart = (((r - axis.padBegin) % s) + s) % s;
    if (outStart >= axis.outSize) continue;
    const count = ceilDivPositive(axis.outSize - outStart, s);
    const m0 = (outStart + axis.padBegin - r) / s;
    const taps: number[] = [];
    const inBase: number[] = [];
    for (let t = 0; t < axis.kernel; t++) {
      const offset = t * axis.dilation - r;
      if (offset % s !== 0) continue;
      taps.push(t);
      inBase.push(m0 - offset / s);
    }
    phases.push(makePhase(outStart, s, count, 1, taps, inBase, axis.inSize));
  }
  return { inSize: axis.inSize, outSize: axis.outSize, kernel: axis.kernel, phases };
}

/** A leading axis of size 1 (so every problem runs as 3-D). */
export const UNIT_AXIS: AxisPlan = {
  inSize: 1,
  outSize: 1,
  kernel: 1,
  phases: [makePhase(0, 1, 1, 1, [0], [0], 1)],
};
