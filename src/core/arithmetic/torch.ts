/**
 * PyTorch: torch.nn Conv{1,2,3}d, ConvTranspose{1,2,3}d, MaxPool/AvgPool{1,2,3}d, AdaptiveAvg/MaxPool{1,2,3}d
 * and their torch.nn.functional forms, with every check PyTorch (2.x) makes, in the order it makes them.
 *
 * Sources: torch/nn/modules/conv.py (_ConvNd, _ConvTransposeNd._output_padding), torch/nn/modules/pooling.py,
 * aten/src/ATen/native/ConvUtils.h + Convolution.cpp (input-size checks), NaiveConvolutionTranspose{2,3}d.cpp
 * (output_padding check), Pool.h (pooling_output_shape, pool2d/pool3d_shape_check), MaxPooling.cpp
 * (check_max_pool1d), PadNd.cpp + ReflectionPad.cpp (reflect/circular limits).
 */
import {
  effectiveKernel,
  floorDiv,
  formatShape,
  formatValue,
  integerArg,
  isInteger,
  perDimension,
  product,
} from './args';
import { applyDimRule, checkerboardNote } from './dims';
import { dimNames } from './symbolic';
import type {
  BoundArgs,
  CallOptions,
  DimRule,
  LayerDef,
  LayerShape,
  Outcome,
  ParamSpec,
  PyValue,
} from './types';
import { fail, ok } from './types';

type Rank = 1 | 2 | 3;
const RANKS: readonly Rank[] = [1, 2, 3];

/** Sizes past this are refused: nothing real is this large, and the arithmetic must stay exact in a double. */
const MAX_SIZE = 2 ** 31;

/** The input as PyTorch reads it: optional batch, channels, spatial sizes. */
interface InputLayout {
  readonly batch: number | null;
  readonly channels: number;
  readonly spatial: number[];
}

function readInput(layer: string, input: readonly number[], rank: Rank): Outcome<InputLayout> {
  if (input.length !== rank + 1 && input.length !== rank + 2) {
    return fail(
      `${layer} expects a ${rank + 1}-D (unbatched: C, ${dimNames(rank).join(', ')}) or ${rank + 2}-D ` +
        `(batched: N, C, ${dimNames(rank).join(', ')}) input, but got ${input.length}-D input of size ` +
        `${formatShape(input)}.`,
    );
  }
  if (input.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(`${layer}: the input shape ${formatShape(input)} has a size that is negative or too large.`);
  }
  const batched = input.length === rank + 2;
  return ok({
    batch: batched ? input[0]! : null,
    channels: input[batched ? 1 : 0]!,
    spatial: input.slice(batched ? 2 : 1),
  });
}

function assemble(layout: InputLayout, channels: number, spatial: readonly number[]): number[] {
  return layout.batch === null ? [channels, ...spatial] : [layout.batch, channels, ...spatial];
}

const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'] as const;

/** The arguments of a conv module once read and checked, whichever way the user wrote them. */
interface ConvSettings {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly bias: boolean;
  readonly paddingMode: (typeof PADDING_MODES)[number];
  readonly outputPadding: number[];
}

/**
 * Reads conv arguments with the checks `_ConvNd.__init__` and `_ConvTransposeNd.__init__` make at
 * construction time, in their order.
 */
function readConvSettings(
  layer: string,
  args: BoundArgs,
  rank: Rank,
  transposed: boolean,
): Outcome<ConvSettings> {
  const paddingMode = args['padding_mode'] ?? 'zeros';
  if (typeof paddingMode !== 'string' || !(PADDING_MODES as readonly string[]).includes(paddingMode)) {
    return fail(
      `${layer}: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', not ${formatValue(paddingMode)}.`,
    );
  }
  if (transposed && paddingMode !== 'zeros') {
    return fail(
      `${layer} only supports padding_mode='zeros' (got '${paddingMode}'). Pad the input yourself with ` +
        `F.pad(x, ..., mode='${paddingMode}') before the layer if you need it.`,
    );
  }
  const inChannels = integerArg(layer, 'in_channels', args['in_channels']!, 1);
  if (!inChannels.ok) return inChannels;
  const outChannels = integerArg(layer, 'out_channels', args['out_channels']!, 1);
  if (!outChannels.ok) return outChannels;
  const kernel = perDimension(layer, 'kernel_size', args['kernel_size']!, rank, 1);
  if (!kernel.ok) return kernel;
  const stride = perDimension(layer, 'stride', args['stride']!, rank, 1);
  if (!stride.ok) return stride;
  const dilation = perDimension(layer, 'dilation', args['dilation']!, rank, 1);
  if (!dilation.ok) return dilation;
  const groups = args['groups']!;
  if (!isInteger(groups) || groups < 1) {
    return fail(`${layer}: groups must be a positive integer, not ${formatValue(groups)}.`);
  }
  if (inChannels.value % groups !== 0) {
    return fail(
      `${layer}: in_channels (${inChannels.value}) must be divisible by groups (${groups}). ` +
        `Valid groups for these channels: ${commonDivisors(inChannels.value, outChannels.value).join(', ')}.`,
    );
  }
  if (outChannels.value % groups !== 0) {
    return fail(
      `${layer}: out_channels (${outChannels.value}) must be divisible by groups (${groups}). ` +
        `Valid groups for these channels: ${commonDivisors(inChannels.value, outChannels.value).join(', ')}.`,
    );
  }

  let padding: ConvSettings['padding'];
  const rawPadding = args['padding']!;
  if (typeof rawPadding === 'string') {
    if (transposed) {
      return fail(
        `${layer} does not accept a string padding (${formatValue(rawPadding)}); PyTorch supports only ` +
          `integer padding for transposed convs. For out = in × stride use kernel_size = 2·stride with ` +
          `padding = stride/2, or set padding and output_padding explicitly.`,
      );
    }
    if (rawPadding !== 'same' && rawPadding !== 'valid') {
      return fail(
        `${layer}: padding must be 'valid', 'same', an integer or a tuple, not ${formatValue(rawPadding)}.`,
      );
    }
    if (rawPadding === 'same' && stride.value.some((s) => s !== 1)) {
      return fail(
        `${layer}: padding='same' is not supported with stride ${formatValue(args['stride']!)}; PyTorch allows ` +
          `it only for stride 1. For out = ⌈in/stride⌉ pad explicitly (TensorFlow-style 'same' puts the extra ` +
          `pad on the right: F.pad before the layer).`,
      );
    }
    padding = rawPadding;
  } else {
    const numeric = perDimension(layer, 'padding', rawPadding, rank, 0);
    if (!numeric.ok) return numeric;
    padding = numeric.value;
  }

  let outputPadding = new Array<number>(rank).fill(0);
  if (transposed) {
    const read = perDimension(layer, 'output_padding', args['output_padding'] ?? 0, rank, 0);
    if (!read.ok) return read;
    outputPadding = read.value;
  }
  const bias = args['bias'];
  return ok({
    inChannels: inChannels.value,
    outChannels: outChannels.value,
    kernel: kernel.value,
    stride: stride.value,
    padding,
    dilation: dilation.value,
    groups,
    bias: bias !== false && bias !== null && bias !== 0,
    paddingMode: paddingMode as ConvSettings['paddingMode'],
    outputPadding,
  });
}

function commonDivisors(a: number, b: number): number[] {
  const divisors: number[] = [];
  for (let g = 1; g <= Math.min(a, b) && divisors.length < 12; g++)
    if (a % g === 0 && b % g === 0) divisors.push(g);
  return divisors;
}

function checkChannels(
  layer: string,
  layout: InputLayout,
  expected: number,
  weight: number[],
): Outcome<true> {
  if (layout.channels === expected) return ok(true);
  return fail(
    `${layer} expects ${expected} input channels (weight ${formatShape(weight)}), but the input has ` +
      `${layout.channels} channels. Set in_channels=${layout.channels} or feed a ${expected}-channel input.`,
  );
}

/** Forward convolution: zeros padding is applied by the conv itself, other modes by F.pad first. */
function inferConv(
  layer: string,
  settings: ConvSettings,
  input: readonly number[],
  rank: Rank,
): Outcome<LayerShape> {
  const layout = readInput(layer, input, rank);
  if (!layout.ok) return layout;
  const names = dimNames(rank);
  const weightShape = [settings.outChannels, settings.inChannels / settings.groups, ...settings.kernel];
  const channelCheck = checkChannels(layer, layout.value, settings.inChannels, weightShape);
  if (!channelCheck.ok) return channelCheck;

  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const k = settings.kernel[i]!;
    const d = settings.dilation[i]!;
    const s = settings.stride[i]!;
    const inputSize = layout.value.spatial[i]!;
    let padBegin: number;
    let padEnd: number;
    if (settings.padding === 'valid') {
      padBegin = padEnd = 0;
    } else if (settings.padding === 'same') {
      // conv.py: total = d·(k − 1), left = total // 2, the extra on the right.
      const total = d * (k - 1);
      padBegin = floorDiv(total, 2);
      padEnd = total - padBegin;
    } else {
      padBegin = padEnd = settings.padding[i]!;
    }
    const padProblem = checkPaddingMode(
      layer,
      settings.paddingMode,
      names[i]!,
      padBegin,
      padEnd,
      inputSize,
      input,
    );
    if (padProblem) return fail(padProblem);
    const kEff = effectiveKernel(k, d);
    const padded = inputSize + padBegin + padEnd;
    if (padded < kEff) {
      return fail(
        `${layer}: along ${names[i]} the padded input (${inputSize} + ${padBegin + padEnd} padding = ${padded}) is ` +
          `smaller than the ${d > 1 ? `dilated kernel (dilation ${d}·(${k} − 1) + 1 = ${kEff})` : `kernel (${k})`}. ` +
          `The input needs ${names[i]} ≥ ${kEff - padBegin - padEnd}, or less kernel/dilation, or more padding.`,
      );
    }
    const rule: DimRule = {
      kind: 'window',
      kernel: k,
      dilation: d,
      stride: s,
      padBegin,
      padEnd,
      ceilMode: false,
    };
    dims.push(rule);
    outSpatial.push(applyDimRule(rule, inputSize));
    const unread = ((padded - kEff) % s) - padEnd;
    if (unread > 0) {
      notes.push(
        `${names[i]}: the last ${unread} input position${unread === 1 ? ' is' : 's are'} never read ` +
          `(${names[i]}_in + padding − kernel span = ${padded - kEff} is not a multiple of stride ${s}).`,
      );
    }
  }
  const batch = layout.value.batch ?? 1;
  const macs =
    batch *
    settings.outChannels *
    product(outSpatial) *
    (settings.inChannels / settings.groups) *
    product(settings.kernel);
  return ok(
    weighted(
      assemble(layout.value, settings.outChannels, outSpatial),
      dims,
      weightShape,
      settings,
      macs,
      notes,
    ),
  );
}

/** F.pad's limits for the non-zero padding modes a conv applies before convolving. */
function checkPaddingMode(
  layer: string,
  mode: ConvSettings['paddingMode'],
  dim: string,
  padBegin: number,
  padEnd: number,
  inputSize: number,
  input: readonly number[],
): string | null {
  const largest = Math.max(padBegin, padEnd);
  if (mode === 'reflect' && largest >= inputSize && largest > 0) {
    return (
      `${layer}: padding_mode='reflect' needs padding smaller than the input, but along ${dim} the padding is ` +
      `${largest} and the input size is ${inputSize} (input ${formatShape(input)}). Use padding ≤ ${inputSize - 1}, ` +
      `or padding_mode='replicate'/'zeros'.`
    );
  }
  if (mode === 'circular' && largest > inputSize) {
    return (
      `${layer}: padding_mode='circular' can wrap around at most once, but along ${dim} the padding is ${largest} ` +
      `and the input size is only ${inputSize} (input ${formatShape(input)}). Use padding ≤ ${inputSize}.`
    );
  }
  if ((mode === 'replicate' || mode === 'reflect' || mode === 'circular') && inputSize === 0 && largest > 0) {
    return `${layer}: padding_mode='${mode}' cannot pad an empty input (size 0 along ${dim}).`;
  }
  return null;
}

/**
 * Transposed convolution. output_padding comes from the constructor, or from `forward(x, output_size=...)`
 * (_ConvTransposeNd._output_padding), and must be smaller than stride or dilation (checked by the kernel).
 */
function inferConvTranspose(
  layer: string,
  settings: ConvSettings,
  input: readonly number[],
  rank: Rank,
  call: CallOptions | undefined,
): Outcome<LayerShape> {
  const layout = readInput(layer, input, rank);
  if (!layout.ok) return layout;
  const names = dimNames(rank);
  const padding = settings.padding as number[];
  const spatialIn = layout.value.spatial;
  const minSizes = spatialIn.map(
    (size, i) =>
      (size - 1) * settings.stride[i]! -
      2 * padding[i]! +
      effectiveKernel(settings.kernel[i]!, settings.dilation[i]!),
  );
  let outputPadding = settings.outputPadding;
  const requested = call?.outputSize;
  if (requested !== undefined && requested !== null) {
    const nonSpatial = input.length - rank;
    const sizes = requested.length === nonSpatial + rank ? requested.slice(nonSpatial) : [...requested];
    if (sizes.length !== rank) {
      return fail(
        `${layer}: output_size must have ${rank} or ${rank + nonSpatial} elements for a ${input.length}-D input, ` +
          `got ${requested.length} (${formatValue([...requested])}).`,
      );
    }
    const maxSizes = minSizes.map((size, i) => size + settings.stride[i]! - 1);
    const bad = sizes.findIndex((size, i) => size < minSizes[i]! || size > maxSizes[i]!);
    if (bad >= 0) {
      return fail(
        `${layer}: output_size ${formatValue(sizes)} cannot be reached from input ${formatShape(spatialIn)}: along ` +
          `${names[bad]} the valid sizes are ${rangeText(minSizes[bad]!, maxSizes[bad]!)} ` +
          `(valid output_size from ${formatValue(minSizes)} to ${formatValue(maxSizes)}).`,
      );
    }
    outputPadding = sizes.map((size, i) => size - minSizes[i]!);
  }

  const weightShape = [settings.inChannels, settings.outChannels / settings.groups, ...settings.kernel];
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const s = settings.stride[i]!;
    const d = settings.dilation[i]!;
    const op = outputPadding[i]!;
    if (op >= s && op >= d) {
      const valid = Math.max(s, d) - 1;
      return fail(
        `${layer}: output_padding must be smaller than stride or dilation, but along ${names[i]} output_padding is ` +
          `${op} with stride ${s} and dilation ${d}; it can be ${valid === 0 ? '0 only' : `0 to ${valid}`}.`,
      );
    }
  }
  const channelCheck = checkChannels(layer, layout.value, settings.inChannels, weightShape);
  if (!channelCheck.ok) return channelCheck;
  for (let i = 0; i < rank; i++) {
    const rule: DimRule = {
      kind: 'transposed',
      kernel: settings.kernel[i]!,
      dilation: settings.dilation[i]!,
      stride: settings.stride[i]!,
      padBegin: padding[i]!,
      padEnd: padding[i]!,
      outputPadding: outputPadding[i]!,
    };
    dims.push(rule);
    outSpatial.push(applyDimRule(rule, spatialIn[i]!));
    const note = checkerboardNote(names[i]!, settings.kernel[i]!, settings.dilation[i]!, settings.stride[i]!);
    if (note) notes.push(note);
  }
  const negative = outSpatial.findIndex((size) => size < 0);
  if (negative >= 0) {
    const i = negative;
    return fail(
      `${layer}: the output would have negative size ${outSpatial[i]} along ${names[i]}: ` +
        `(${spatialIn[i]} − 1)·${settings.stride[i]} − 2·${padding[i]} + ${effectiveKernel(settings.kernel[i]!, settings.dilation[i]!)}` +
        `${outputPadding[i] ? ` + ${outputPadding[i]}` : ''} = ${outSpatial[i]}. The padding ${padding[i]} is too large ` +
        `for this input; use padding ≤ ${maxTransposedPadding(spatialIn[i]!, settings, i, outputPadding[i]!)}.`,
    );
  }
  const empty = outSpatial.findIndex((size) => size === 0);
  if (empty >= 0) {
    // A zero-size output is an empty tensor on the oneDNN backend, and an error on the native one.
    if (!usesOneDnnTranspose(settings, layout.value, weightShape, outputPadding)) {
      return fail(
        `${layer}: the output would be empty (size 0 along ${names[empty]}): the padding ${padding[empty]} crops ` +
          `away everything. Use padding ≤ ${maxTransposedPadding(spatialIn[empty]!, settings, empty, outputPadding[empty]!)}.`,
      );
    }
    notes.push(`The output is empty (size 0 along ${names[empty]}): PyTorch returns an empty tensor here.`);
  }
  const batch = layout.value.batch ?? 1;
  const macs =
    batch *
    settings.inChannels *
    product(spatialIn) *
    (settings.outChannels / settings.groups) *
    product(settings.kernel);
  return ok(
    weighted(
      assemble(layout.value, settings.outChannels, outSpatial),
      dims,
      weightShape,
      settings,
      macs,
      notes,
    ),
  );
}

/**
 * Whether PyTorch's CPU float path runs this transposed conv through oneDNN (ConvParams::use_mkldnn in
 * aten/src/ATen/native/Convolution.cpp). It matters only for an output of size 0: oneDNN returns an empty
 * tensor, the native kernel (slow_conv_transpose{2,3}d) refuses it. 1-D convs run as 2-D with height 1.
 */
function usesOneDnnTranspose(
  settings: ConvSettings,
  layout: InputLayout,
  weightShape: readonly number[],
  outputPadding: readonly number[],
): boolean {
  if (outputPadding.some((op, i) => op >= settings.stride[i]!)) return false;
  const batch = layout.batch ?? 1;
  const input4d = [
    batch,
    layout.channels,
    ...(layout.spatial.length === 1 ? [1] : []),
    ...layout.spatial,
  ].slice(0, 4);
  const weight =
    weightShape.length === 3 ? [weightShape[0]!, weightShape[1]!, 1, weightShape[2]!] : [...weightShape];
  const kernelLast = weight[weight.length - 1]!;
  const kernelSecondLast = weight[weight.length - 2]!;
  return (
    settings.groups > 1 || (kernelLast > 3 && kernelSecondLast > 3) || batch > 1 || product(input4d) > 20480
  );
}

function maxTransposedPadding(
  inputSize: number,
  settings: ConvSettings,
  i: number,
  outputPadding: number,
): number {
  const full =
    (inputSize - 1) * settings.stride[i]! +
    effectiveKernel(settings.kernel[i]!, settings.dilation[i]!) +
    outputPadding;
  return Math.max(0, floorDiv(full - 1, 2));
}

function rangeText(min: number, max: number): string {
  return min === max ? `exactly ${min}` : `${min} to ${max}`;
}

function weighted(
  output: number[],
  dims: DimRule[],
  weightShape: number[],
  settings: ConvSettings,
  macs: number,
  notes: string[],
): LayerShape {
  const biasShape = settings.bias ? [settings.outChannels] : null;
  return {
    output,
    dims,
    weightShape,
    biasShape,
    params: product(weightShape) + (biasShape ? settings.outChannels : 0),
    macs,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------- pooling

type PoolKind = 'max' | 'avg';

interface PoolSettings {
  readonly kernel: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly ceilMode: boolean;
}

function readPoolSettings(layer: string, args: BoundArgs, rank: Rank, kind: PoolKind): Outcome<PoolSettings> {
  const kernel = perDimension(layer, 'kernel_size', args['kernel_size']!, rank, 1);
  if (!kernel.ok) return kernel;
  const rawStride = args['stride'];
  // stride=None (or an empty tuple) means stride = kernel_size.
  const strideMissing =
    rawStride === null || rawStride === undefined || (Array.isArray(rawStride) && rawStride.length === 0);
  const stride = strideMissing ? kernel : perDimension(layer, 'stride', rawStride, rank, 1);
  if (!stride.ok) return stride;
  const padding = perDimension(layer, 'padding', args['padding']!, rank, 0);
  if (!padding.ok) return padding;
  const dilation =
    kind === 'max'
      ? perDimension(layer, 'dilation', args['dilation']!, rank, 1)
      : ok(new Array<number>(rank).fill(1));
  if (!dilation.ok) return dilation;
  if (kind === 'avg' && args['divisor_override'] !== undefined && args['divisor_override'] !== null) {
    const divisor = args['divisor_override'];
    if (!isInteger(divisor) || divisor === 0) {
      return fail(
        `${layer}: divisor_override must be a non-zero integer or None, not ${formatValue(divisor)}.`,
      );
    }
  }
  return ok({
    kernel: kernel.value,
    stride: stride.value,
    padding: padding.value,
    dilation: dilation.value,
    ceilMode: Boolean(args['ceil_mode']),
  });
}

/**
 * Pooling. Padding may be at most half the kernel size: pooling_output_shape checks it against the effective
 * (dilated) kernel, then pool2d/pool3d_shape_check and check_max_pool1d against the plain kernel, so the plain
 * kernel decides. AvgPool3d also needs the unpadded input to be at least the kernel (pool3d_shape_check with
 * check_input_size). Every output size must be at least 1.
 */
function inferPool(
  layer: string,
  kind: PoolKind,
  settings: PoolSettings,
  input: readonly number[],
  rank: Rank,
): Outcome<LayerShape> {
  const layout = readInput(layer, input, rank);
  if (!layout.ok) return layout;
  const names = dimNames(rank);
  for (let i = 0; i < rank; i++) {
    const k = settings.kernel[i]!;
    const p = settings.padding[i]!;
    const limit = floorDiv(k, 2);
    if (p > limit) {
      return fail(
        `${layer}: padding must be at most half the kernel size, but along ${names[i]} padding is ${p} with ` +
          `kernel_size ${k}; use padding ≤ ${limit}${settings.dilation[i]! > 1 ? ' (dilation does not raise this limit)' : ''}.`,
      );
    }
  }
  if (kind === 'avg' && rank === 3) {
    const small = layout.value.spatial.findIndex((size, i) => size < settings.kernel[i]!);
    if (small >= 0) {
      return fail(
        `${layer}: the input (${layout.value.spatial.join('×')}) is smaller than the kernel ` +
          `(${settings.kernel.join('×')}) along ${names[small]}; AvgPool3d needs the unpadded input to be at least the kernel size.`,
      );
    }
  }
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const rule: DimRule = {
      kind: 'window',
      kernel: settings.kernel[i]!,
      dilation: settings.dilation[i]!,
      stride: settings.stride[i]!,
      padBegin: settings.padding[i]!,
      padEnd: settings.padding[i]!,
      ceilMode: settings.ceilMode,
    };
    dims.push(rule);
    outSpatial.push(applyDimRule(rule, layout.value.spatial[i]!));
  }
  const tooSmall = outSpatial.findIndex((size) => size < 1);
  if (tooSmall >= 0) {
    const i = tooSmall;
    const kEff = effectiveKernel(settings.kernel[i]!, settings.dilation[i]!);
    return fail(
      `${layer}: the output would have size ${outSpatial[i]} along ${names[i]}: the input (${layout.value.spatial[i]} + ` +
        `${2 * settings.padding[i]!} padding) is smaller than the ${kEff === settings.kernel[i] ? 'kernel' : 'dilated kernel'} (${kEff}). ` +
        `The input needs ${names[i]} ≥ ${kEff - 2 * settings.padding[i]!}.`,
    );
  }
  return ok({
    output: assemble(layout.value, layout.value.channels, outSpatial),
    dims,
    weightShape: null,
    biasShape: null,
    params: 0,
    macs: 0,
    notes,
  });
}

function inferAdaptivePool(
  layer: string,
  args: BoundArgs,
  input: readonly number[],
  rank: Rank,
): Outcome<LayerShape> {
  const layout = readInput(layer, input, rank);
  if (!layout.ok) return layout;
  const raw = args['output_size']!;
  const values: readonly PyValue[] = Array.isArray(raw)
    ? (raw as readonly PyValue[])
    : new Array<PyValue>(rank).fill(raw);
  if (values.length !== rank) {
    return fail(
      `${layer}: output_size needs ${rank} value${rank === 1 ? '' : 's'}, got ${formatValue(raw)}.`,
    );
  }
  const outSpatial: number[] = [];
  for (let i = 0; i < rank; i++) {
    const value = values[i]!;
    // None keeps that dimension's input size.
    if (value === null) outSpatial.push(layout.value.spatial[i]!);
    else if (isInteger(value) && value >= 0) outSpatial.push(value);
    else
      return fail(`${layer}: output_size must hold non-negative integers or None, not ${formatValue(raw)}.`);
  }
  return ok({
    output: assemble(layout.value, layout.value.channels, outSpatial),
    dims: outSpatial.map((size) => ({ kind: 'fixed', size }) as const),
    weightShape: null,
    biasShape: null,
    params: 0,
    macs: 0,
    notes: [],
  });
}

// ------------------------------------------------------------------------------------------ definitions

const p = (name: string, defaultValue?: PyValue, keywordOnly = false): ParamSpec =>
  defaultValue === undefined ? { name, keywordOnly } : { name, default: defaultValue, keywordOnly };

const DEVICE_DTYPE = [p('device', null), p('dtype', null)];

function convModule(rank: Rank): LayerDef {
  const layer = `Conv${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.${layer}`,
    summary: `${rank}-D convolution over an (N, C, ${dimNames(rank).join(', ')}) input.`,
    params: [
      p('in_channels'),
      p('out_channels'),
      p('kernel_size'),
      p('stride', 1),
      p('padding', 0),
      p('dilation', 1),
      p('groups', 1),
      p('bias', true),
      p('padding_mode', 'zeros'),
      ...DEVICE_DTYPE,
    ],
    infer(args, input) {
      const settings = readConvSettings(layer, args, rank, false);
      return settings.ok ? inferConv(layer, settings.value, input, rank) : settings;
    },
  };
}

function convTransposeModule(rank: Rank): LayerDef {
  const layer = `ConvTranspose${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.${layer}`,
    summary: `${rank}-D transposed convolution (fractionally strided; the gradient of Conv${rank}d).`,
    params: [
      p('in_channels'),
      p('out_channels'),
      p('kernel_size'),
      p('stride', 1),
      p('padding', 0),
      p('output_padding', 0),
      p('groups', 1),
      p('bias', true),
      p('dilation', 1),
      p('padding_mode', 'zeros'),
      ...DEVICE_DTYPE,
    ],
    infer(args, input, call) {
      const settings = readConvSettings(layer, args, rank, true);
      return settings.ok ? inferConvTranspose(layer, settings.value, input, rank, call) : settings;
    },
  };
}

function maxPoolModule(rank: Rank): LayerDef {
  const layer = `MaxPool${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.${layer}`,
    summary: `${rank}-D max pooling.`,
    params: [
      p('kernel_size'),
      p('stride', null),
      p('padding', 0),
      p('dilation', 1),
      p('return_indices', false),
      p('ceil_mode', false),
    ],
    infer(args, input) {
      const settings = readPoolSettings(layer, args, rank, 'max');
      return settings.ok ? inferPool(layer, 'max', settings.value, input, rank) : settings;
    },
  };
}

function avgPoolModule(rank: Rank): LayerDef {
  const layer = `AvgPool${rank}d`;
  const params = [
    p('kernel_size'),
    p('stride', null),
    p('padding', 0),
    p('ceil_mode', false),
    p('count_include_pad', true),
  ];
  return {
    framework: 'pytorch',
    name: `torch.nn.${layer}`,
    summary: `${rank}-D average pooling.`,
    params: rank === 1 ? params : [...params, p('divisor_override', null)],
    infer(args, input) {
      const settings = readPoolSettings(layer, args, rank, 'avg');
      return settings.ok ? inferPool(layer, 'avg', settings.value, input, rank) : settings;
    },
  };
}

function adaptivePoolModule(rank: Rank, kind: PoolKind): LayerDef {
  const layer = `Adaptive${kind === 'max' ? 'Max' : 'Avg'}Pool${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.${layer}`,
    summary: `${rank}-D adaptive ${kind} pooling to a fixed output size.`,
    params: kind === 'max' ? [p('output_size'), p('return_indices', false)] : [p('output_size')],
    infer: (args, input) => inferAdaptivePool(layer, args, input, rank),
  };
}

// Functional forms take the weight tensor; here `weight` (and `bias`) hold its shape.

function readWeightShape(layer: string, value: PyValue | undefined, rank: Rank): Outcome<number[]> {
  if (!Array.isArray(value) || value.length !== rank + 2 || !value.every((v) => isInteger(v) && v >= 1)) {
    return fail(
      `${layer}: weight must be given as its shape, ${rank + 2} positive integers ` +
        `(out_channels, in_channels/groups, ${dimNames(rank)
          .map((n) => 'k' + n)
          .join(', ')}), not ${formatValue(value ?? null)}.`,
    );
  }
  return ok(value as number[]);
}

function functionalConv(rank: Rank): LayerDef {
  const layer = `conv${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.functional.${layer}`,
    summary: `Functional ${rank}-D convolution with a given weight tensor (weight given as its shape).`,
    params: [p('weight'), p('bias', null), p('stride', 1), p('padding', 0), p('dilation', 1), p('groups', 1)],
    infer(args, input) {
      const weight = readWeightShape(layer, args['weight'], rank);
      if (!weight.ok) return weight;
      const groups = isInteger(args['groups']!) ? (args['groups'] as number) : 1;
      const moduleArgs = {
        ...args,
        in_channels: weight.value[1]! * groups,
        out_channels: weight.value[0]!,
        kernel_size: weight.value.slice(2),
        bias: args['bias'] !== null,
        padding_mode: 'zeros',
      };
      const settings = readConvSettings(layer, moduleArgs, rank, false);
      return settings.ok ? inferConv(layer, settings.value, input, rank) : settings;
    },
  };
}

function functionalConvTranspose(rank: Rank): LayerDef {
  const layer = `conv_transpose${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.functional.${layer}`,
    summary: `Functional ${rank}-D transposed convolution with a given weight tensor (weight given as its shape).`,
    params: [
      p('weight'),
      p('bias', null),
      p('stride', 1),
      p('padding', 0),
      p('output_padding', 0),
      p('groups', 1),
      p('dilation', 1),
    ],
    infer(args, input, call) {
      const weight = readWeightShape(layer, args['weight'], rank);
      if (!weight.ok) return weight;
      const groups = isInteger(args['groups']!) ? (args['groups'] as number) : 1;
      const moduleArgs = {
        ...args,
        in_channels: weight.value[0]!,
        out_channels: weight.value[1]! * groups,
        kernel_size: weight.value.slice(2),
        bias: args['bias'] !== null,
        padding_mode: 'zeros',
      };
      const settings = readConvSettings(layer, moduleArgs, rank, true);
      return settings.ok ? inferConvTranspose(layer, settings.value, input, rank, call) : settings;
    },
  };
}

function functionalPool(rank: Rank, kind: PoolKind): LayerDef {
  const layer = `${kind}_pool${rank}d`;
  const params =
    kind === 'max'
      ? [
          p('kernel_size'),
          p('stride', null),
          p('padding', 0),
          p('dilation', 1),
          p('ceil_mode', false),
          p('return_indices', false),
        ]
      : [
          p('kernel_size'),
          p('stride', null),
          p('padding', 0),
          p('ceil_mode', false),
          p('count_include_pad', true),
          ...(rank === 1 ? [] : [p('divisor_override', null)]),
        ];
  return {
    framework: 'pytorch',
    name: `torch.nn.functional.${layer}`,
    summary: `Functional ${rank}-D ${kind} pooling.`,
    params,
    infer(args, input) {
      const settings = readPoolSettings(layer, args, rank, kind);
      return settings.ok ? inferPool(layer, kind, settings.value, input, rank) : settings;
    },
  };
}

function functionalAdaptivePool(rank: Rank, kind: PoolKind): LayerDef {
  const layer = `adaptive_${kind}_pool${rank}d`;
  return {
    framework: 'pytorch',
    name: `torch.nn.functional.${layer}`,
    summary: `Functional ${rank}-D adaptive ${kind} pooling.`,
    params: kind === 'max' ? [p('output_size'), p('return_indices', false)] : [p('output_size')],
    infer: (args, input) => inferAdaptivePool(layer, args, input, rank),
  };
}

export const torchLayers: readonly LayerDef[] = RANKS.flatMap((rank) => [
  convModule(rank),
  convTransposeModule(rank),
  maxPoolModule(rank),
  avgPoolModule(rank),
  adaptivePoolModule(rank, 'avg'),
  adaptivePoolModule(rank, 'max'),
  functionalConv(rank),
  functionalConvTranspose(rank),
  functionalPool(rank, 'max'),
  functionalPool(rank, 'avg'),
  functionalAdaptivePool(rank, 'avg'),
  functionalAdaptivePool(rank, 'max'),
]);
