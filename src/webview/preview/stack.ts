/**
 * The preview's computation, without the DOM: a stack of layers (conv → conv → transposed conv, at most
 * MAX_PREVIEW_STACK) applied in turn to an input image on one engine, plus the two things the heatmaps need
 * besides values: which input cells an output cell came from (the hover highlight) and how many kernel taps land
 * on each output cell of a transposed conv (the overlap-count heatmap). Shapes come only from the core
 * (`problemGeometry`), never from here.
 */
import type { Outcome } from '../../core/arithmetic/types';
import { fail, ok } from '../../core/arithmetic/types';
import { problemGeometry } from '../../core/engine/shape';
import type { ConvProblem, ConvResult } from '../../core/engine/types';
import type { KernelPreset, PreviewLayer } from '../../protocol/preview';
import { type Filter, layerWeights } from './kernels';
import type { PreviewImage } from './patterns';

/** Runs one problem: the CPU worker or the WebGPU engine. */
export type RunProblem = (problem: ConvProblem) => Promise<Outcome<ConvResult>>;

export interface Stage {
  readonly layer: PreviewLayer;
  readonly problem: ConvProblem;
  /** [1, C, H, W]. */
  readonly yShape: readonly number[];
  readonly y: Float32Array;
  readonly engine: string;
  readonly milliseconds: number;
}

/** The problem of one layer on an input of [1, C, H, W]. */
export function layerProblem(
  layer: PreviewLayer,
  x: Float32Array,
  xShape: readonly number[],
  preset: KernelPreset,
  seed: number,
  custom: Filter | null,
): ConvProblem {
  const weights = layerWeights(layer, xShape[1]!, preset, seed, custom);
  return {
    op: layer.op,
    x,
    xShape,
    w: weights.w,
    wShape: weights.wShape,
    b: null,
    stride: [...layer.stride],
    padBegin: [...layer.padding],
    padEnd: [...layer.padding],
    dilation: [...layer.dilation],
    groups: 1,
    outputPadding: layer.op === 'conv_transpose' ? [...layer.outputPadding] : [],
  };
}

/** The output shape of each layer of the stack on an input of `xShape`, or what stops it (with the layer). */
export function stackShapes(
  layers: readonly PreviewLayer[],
  xShape: readonly number[],
  preset: KernelPreset,
): Outcome<number[][]> {
  const shapes: number[][] = [];
  let shape = [...xShape];
  for (const [index, layer] of layers.entries()) {
    const weights = layerWeights(layer, shape[1]!, preset, 1);
    const geometry = problemGeometry({
      op: layer.op,
      xShape: shape,
      wShape: weights.wShape,
      stride: [...layer.stride],
      padBegin: [...layer.padding],
      padEnd: [...layer.padding],
      dilation: [...layer.dilation],
      groups: 1,
      outputPadding: layer.op === 'conv_transpose' ? [...layer.outputPadding] : [],
    });
    if (!geometry.ok) return fail(`Layer ${index + 1} (${layer.label}): ${geometry.error}`);
    shape = geometry.value.yShape;
    shapes.push(shape);
  }
  return ok(shapes);
}

/**
 * Runs every layer of the stack in turn, each on the previous one's output. Stops at the first failure and says
 * which layer it was.
 */
export async function runStack(
  run: RunProblem,
  layers: readonly PreviewLayer[],
  input: PreviewImage,
  preset: KernelPreset,
  seed: number,
  custom: Filter | null = null,
): Promise<Outcome<Stage[]>> {
  const stages: Stage[] = [];
  let x = input.data;
  let xShape: readonly number[] = [1, input.channels, input.height, input.width];
  for (const [index, layer] of layers.entries()) {
    // Layer k > 1 gets its own seed, so a random stack is not the same filter three times.
    // A custom filter applies to every layer whose kernel_size it fits; the others keep the preset.
    const fits = custom !== null && custom.height === layer.kernel[0] && custom.width === layer.kernel[1];
    const problem = layerProblem(layer, x, xShape, preset, seed + index, fits ? custom : null);
    const result = await run(problem);
    if (!result.ok) return fail(`Layer ${index + 1} (${layer.label}): ${result.error}`);
    stages.push({
      layer,
      problem,
      yShape: result.value.yShape,
      y: result.value.y,
      engine: result.value.engine,
      milliseconds: result.value.milliseconds,
    });
    x = result.value.y;
    xShape = result.value.yShape;
  }
  return ok(stages);
}

/** One axis of a layer, for the hover and overlap arithmetic. */
interface Axis {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
}

function axis(layer: PreviewLayer, dim: 0 | 1): Axis {
  return {
    kernel: layer.kernel[dim],
    stride: layer.stride[dim],
    padding: layer.padding[dim],
    dilation: layer.dilation[dim],
  };
}

/**
 * The input indices along one axis that output index `o` reads, in tap order, inside [0, inSize):
 *   conv:       i = o·s − p + t·d for each tap t (PyTorch's cross-correlation);
 *   transposed: every i with i·s − p + t·d = o for some tap t (the scatter run backwards).
 */
export function axisSources(op: PreviewLayer['op'], a: Axis, o: number, inSize: number): number[] {
  const sources: number[] = [];
  for (let t = 0; t < a.kernel; t++) {
    if (op === 'conv') {
      const i = o * a.stride - a.padding + t * a.dilation;
      if (i >= 0 && i < inSize) sources.push(i);
    } else {
      const scaled = o + a.padding - t * a.dilation;
      if (scaled % a.stride !== 0) continue;
      const i = scaled / a.stride;
      if (i >= 0 && i < inSize && !sources.includes(i)) sources.push(i);
    }
  }
  return sources;
}

/** The input cells [row, column] that output cell (row, column) of `layer` came from. */
export function sourceCells(
  layer: PreviewLayer,
  inSize: readonly [number, number],
  row: number,
  column: number,
): [number, number][] {
  const rows = axisSources(layer.op, axis(layer, 0), row, inSize[0]);
  const columns = axisSources(layer.op, axis(layer, 1), column, inSize[1]);
  return rows.flatMap((r) => columns.map((c): [number, number] => [r, c]));
}

/** How many (input cell, tap) pairs land on each output index along one axis. */
function axisCounts(op: PreviewLayer['op'], a: Axis, inSize: number, outSize: number): number[] {
  const counts = new Array<number>(outSize).fill(0);
  for (let o = 0; o < outSize; o++) {
    for (let t = 0; t < a.kernel; t++) {
      if (op === 'conv') {
        const i = o * a.stride - a.padding + t * a.dilation;
        if (i >= 0 && i < inSize) counts[o]!++;
      } else {
        const scaled = o + a.padding - t * a.dilation;
        if (scaled % a.stride === 0 && scaled >= 0 && scaled / a.stride < inSize) counts[o]!++;
      }
    }
  }
  return counts;
}

/**
 * The overlap count of each output cell, [H_out × W_out] row-major: how many input cells times kernel taps
 * contribute to it. For a transposed conv whose kernel size is not a multiple of its stride the counts alternate
 * (k 3, s 2: 1, 2, 1, 2…) — the checkerboard artifact, visible before any training. The count factors into the
 * two axes' counts because taps and strides are independent per axis.
 */
export function overlapCounts(
  layer: PreviewLayer,
  inSize: readonly [number, number],
  outSize: readonly [number, number],
): Float32Array {
  const rows = axisCounts(layer.op, axis(layer, 0), inSize[0], outSize[0]);
  const columns = axisCounts(layer.op, axis(layer, 1), inSize[1], outSize[1]);
  const counts = new Float32Array(outSize[0] * outSize[1]);
  rows.forEach((r, i) => columns.forEach((c, j) => (counts[i * outSize[1] + j] = r * c)));
  return counts;
}

/**
 * The taps that land on an interior output index per stride phase, along one axis of a transposed conv: index o
 * gets every tap t with (o + p − t·d) ≡ 0 (mod s), so only o's phase r = (o + p) mod s matters away from the
 * borders. Unequal counts mean the checkerboard artifact (Odena et al., 2016); k a multiple of s (with d = 1)
 * gives equal counts.
 */
export function phaseCounts(kernel: number, stride: number, dilation: number): number[] {
  return Array.from({ length: stride }, (_, r) => {
    let count = 0;
    for (let t = 0; t < kernel; t++) if ((((r - t * dilation) % stride) + stride) % stride === 0) count++;
    return count;
  });
}

/** Interior tap counts of a transposed conv: the least and the most over both axes' phases (equal: even). */
export function interiorOverlap(layer: PreviewLayer): { least: number; most: number } {
  const rows = phaseCounts(layer.kernel[0], layer.stride[0], layer.dilation[0]);
  const columns = phaseCounts(layer.kernel[1], layer.stride[1], layer.dilation[1]);
  return {
    least: Math.min(...rows) * Math.min(...columns),
    most: Math.max(...rows) * Math.max(...columns),
  };
}

/**
 * The layer that undoes `layer`'s shape change: a transposed conv for a conv and the other way round, with the
 * same kernel, stride, padding and dilation. For a conv → transposed conv round trip, `targetSize` (the conv's
 * input size) picks the output_padding that brings the size back when one exists:
 *   output_padding = H − ((H' − 1)·s − 2p + d·(k − 1) + 1), kept only when 0 ≤ it < max(s, d) (PyTorch's rule).
 */
export function mirrorLayer(
  layer: PreviewLayer,
  outSize?: readonly [number, number],
  targetSize?: readonly [number, number],
): PreviewLayer {
  const op = layer.op === 'conv' ? 'conv_transpose' : 'conv';
  const outputPadding = ([0, 1] as const).map((dim) => {
    if (op !== 'conv_transpose' || !outSize || !targetSize) return 0;
    const { kernel, stride, padding, dilation } = axis(layer, dim);
    const size = (outSize[dim] - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1;
    const extra = targetSize[dim] - size;
    return extra >= 0 && extra < Math.max(stride, dilation) ? extra : 0;
  });
  return {
    ...layer,
    op,
    outputPadding: [outputPadding[0]!, outputPadding[1]!],
    label: op === 'conv_transpose' ? 'transposed conv (round trip)' : 'conv (round trip)',
  };
}

/** Smallest and largest value, or [0, 0] for no values; NaN is skipped. */
export function range(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : [0, 0];
}
