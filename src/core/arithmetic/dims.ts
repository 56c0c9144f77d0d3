/**
 * The one place that turns a DimRule and an input size into an output size. Framework modules validate
 * parameters and report errors in their own terms; once a layer is valid, its sizes follow from here.
 */
import { ceilDiv, effectiveKernel, floorDiv } from './args';
import type { DimRule } from './types';

/**
 * Output size of one spatial dimension. May be zero or negative: callers decide whether their framework
 * accepts that (PyTorch returns an empty tensor for a transposed conv of size 0, and refuses below).
 */
export function applyDimRule(rule: DimRule, inputSize: number): number {
  switch (rule.kind) {
    case 'window': {
      // Flax input_dilation spreads the input before the window slides over it.
      const spread =
        rule.inputDilation && rule.inputDilation > 1 ? (inputSize - 1) * rule.inputDilation + 1 : inputSize;
      const span = spread + rule.padBegin + rule.padEnd - effectiveKernel(rule.kernel, rule.dilation);
      if (!rule.ceilMode) return floorDiv(span, rule.stride) + 1;
      // PyTorch pooling_output_shape / ONNX ceil_mode: round up, then drop a last window that would start
      // in the right padding (it would see no input at all).
      let size = ceilDiv(span, rule.stride) + 1;
      if ((size - 1) * rule.stride >= spread + rule.padBegin) size -= 1;
      return size;
    }
    case 'same':
      return ceilDiv(inputSize, rule.stride);
    case 'transposed':
      return (
        (inputSize - 1) * rule.stride +
        effectiveKernel(rule.kernel, rule.dilation) -
        rule.padBegin -
        rule.padEnd +
        rule.outputPadding
      );
    case 'transposed-same':
      return inputSize * rule.stride;
    case 'fixed':
      return rule.size;
  }
}

/** Per-side padding TF-style SAME uses for an input of `inputSize` (total may be 0). */
export function samePads(rule: Extract<DimRule, { kind: 'same' }>, inputSize: number): [number, number] {
  const outputSize = ceilDiv(inputSize, rule.stride);
  const total = Math.max(
    0,
    (outputSize - 1) * rule.stride + effectiveKernel(rule.kernel, rule.dilation) - inputSize,
  );
  const small = Math.floor(total / 2);
  return rule.extraPadAt === 'end' ? [small, total - small] : [total - small, small];
}

/** Kernels longer than this get no overlap analysis: the count is linear in the kernel size. */
const MAX_OVERLAP_KERNEL = 1 << 16;

/**
 * How many kernel taps land on each output position of a transposed conv, away from the borders, per residue
 * class modulo the stride: position x receives the taps j with j·dilation ≡ x (mod stride). Returns the least
 * and the most over all residues (a residue no tap reaches counts 0). Unequal counts are the checkerboard
 * pattern of Odena et al. (distill.pub/2016/deconv-checkerboard). Memory stays bounded by the kernel size, so
 * an absurd stride costs nothing.
 */
export function interiorOverlapRange(
  kernel: number,
  dilation: number,
  stride: number,
): { least: number; most: number } {
  const counts = new Map<number, number>();
  for (let tap = 0; tap < kernel; tap++) {
    const residue = (tap * dilation) % stride;
    counts.set(residue, (counts.get(residue) ?? 0) + 1);
  }
  const reached = [...counts.values()];
  return { least: counts.size < stride ? 0 : Math.min(...reached), most: Math.max(...reached) };
}

/** A note about uneven overlap (checkerboard risk) for one dimension of a transposed conv, or null. */
export function checkerboardNote(
  dim: string,
  kernel: number,
  dilation: number,
  stride: number,
): string | null {
  if (stride <= 1 || kernel > MAX_OVERLAP_KERNEL) return null;
  const { least, most } = interiorOverlapRange(kernel, dilation, stride);
  if (least === most) return null;
  return (
    `${dim}: kernel ${kernel} with stride ${stride} overlaps unevenly (output positions along ${dim} receive ` +
    `${least} to ${most} kernel taps), a known cause of checkerboard artifacts; a kernel size divisible by the ` +
    `stride avoids it.`
  );
}
