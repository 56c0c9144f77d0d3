/**
 * Keras 3 (and tf.keras) conv, transposed conv, depthwise/separable conv and pooling layers, and TensorFlow's
 * tf.nn.conv{1,2,3}d_transpose, with the checks Keras and TensorFlow make.
 *
 * Sources: keras/src/layers/convolutional/base_conv.py, base_conv_transpose.py, base_depthwise_conv.py,
 * base_separable_conv.py, conv{1,2,3}d.py (signatures; Conv1D's causal padding),
 * keras/src/layers/pooling/base_pooling.py, keras/src/ops/operation_utils.py (compute_conv_output_shape,
 * compute_pooling_output_shape), keras/src/backend/common/backend_utils.py
 * (_get_output_shape_given_tf_padding), keras/src/utils/argument_validation.py (standardize_tuple,
 * standardize_padding), tensorflow/python/ops/nn_ops.py (conv2d_transpose_v2 → conv2d_backprop_input, which
 * requires `output_shape` to be a size the forward conv maps back onto the input).
 *
 * Layout is channels_last unless data_format says otherwise: (batch, spatial..., channels).
 */
import { ceilDiv, effectiveKernel, formatShape, formatValue, isInteger, product } from './args';
import { applyDimRule, checkerboardNote } from './dims';
import { dimNames } from './symbolic';
import type {
  BoundArgs,
  DimRule,
  Framework,
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

type DataFormat = 'channels_last' | 'channels_first';

/** Python truthiness for use_bias. */
function truthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * standardize_tuple(value, n, name, allow_zero): an int is repeated n times, a sequence must have exactly n
 * ints; all must be > 0 (≥ 0 with allowZero).
 */
function kerasTuple(
  layer: string,
  name: string,
  value: PyValue,
  rank: number,
  allowZero = false,
): Outcome<number[]> {
  const values = isInteger(value) ? new Array<number>(rank).fill(value) : value;
  if (!Array.isArray(values) || values.length !== rank || !values.every((v) => isInteger(v))) {
    return fail(
      `${layer}: ${name} must be an int or a tuple of ${plural(rank, 'int')}, got ${formatValue(value)}.`,
    );
  }
  const ints = values as number[];
  const bad = ints.filter((v) => (allowZero ? v < 0 : v <= 0) || v > MAX_SIZE);
  if (bad.length > 0) {
    return fail(
      `${layer}: ${name} must be ${allowZero ? '≥ 0' : '> 0'}, but ${formatValue(value)} includes ${formatValue(bad[0]!)}.`,
    );
  }
  return ok(ints);
}

/** standardize_data_format: None means the Keras config default, channels_last. */
function readDataFormat(layer: string, value: PyValue): Outcome<DataFormat> {
  if (value === null) return ok('channels_last');
  const lower = typeof value === 'string' ? value.toLowerCase() : null;
  if (lower !== 'channels_last' && lower !== 'channels_first') {
    return fail(
      `${layer}: data_format must be 'channels_last' or 'channels_first', not ${formatValue(value)}.`,
    );
  }
  return ok(lower);
}

type KerasPadding = 'valid' | 'same' | 'causal';

/** standardize_padding: case-insensitive 'valid' or 'same', and 'causal' where the layer allows it (Conv1D). */
function readPadding(layer: string, value: PyValue, allowCausal: boolean): Outcome<KerasPadding> {
  const lower = typeof value === 'string' ? value.toLowerCase() : null;
  if (lower === 'valid' || lower === 'same' || (allowCausal && lower === 'causal')) return ok(lower);
  const allowed = allowCausal ? "'valid', 'same' or 'causal'" : "'valid' or 'same'";
  const hint = lower === 'causal' ? ' (causal padding exists only for Conv1D)' : '';
  return fail(`${layer}: padding must be ${allowed}, not ${formatValue(value)}${hint}.`);
}

/** The input as Keras reads it: exactly (batch, spatial..., channels) or (batch, channels, spatial...). */
interface KerasInput {
  readonly batch: number;
  readonly channels: number;
  readonly spatial: number[];
  readonly format: DataFormat;
}

function readInput(
  layer: string,
  input: readonly number[],
  rank: number,
  format: DataFormat,
): Outcome<KerasInput> {
  const names = dimNames(rank).join(', ');
  if (input.length !== rank + 2) {
    const layout = format === 'channels_last' ? `(batch, ${names}, channels)` : `(batch, channels, ${names})`;
    return fail(
      `${layer} expects a ${rank + 2}-D input ${layout} (data_format='${format}'), but got ${input.length}-D input ` +
        `${formatShape(input)}.`,
    );
  }
  if (input.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(`${layer}: the input shape ${formatShape(input)} has a size that is negative or too large.`);
  }
  const last = format === 'channels_last';
  const channels = last ? input[rank + 1]! : input[1]!;
  if (channels === 0) return fail(`${layer}: the input ${formatShape(input)} has 0 channels.`);
  return ok({
    batch: input[0]!,
    channels,
    spatial: input.slice(last ? 1 : 2, last ? rank + 1 : rank + 2),
    format,
  });
}

function assemble(layout: KerasInput, channels: number, spatial: readonly number[]): number[] {
  return layout.format === 'channels_last'
    ? [layout.batch, ...spatial, channels]
    : [layout.batch, channels, ...spatial];
}

/** Keras refuses strides > 1 together with dilation_rate > 1 in every conv layer. */
function stridesDilationConflict(
  layer: string,
  strides: readonly number[],
  dilation: readonly number[],
): string | null {
  if (Math.max(...strides) > 1 && Math.max(...dilation) > 1) {
    return (
      `${layer}: strides ${formatValue([...strides])} cannot be combined with dilation_rate ` +
      `${formatValue([...dilation])}: Keras supports strides > 1 or dilation_rate > 1, not both. Use strides=1 ` +
      `with the dilation, or dilation_rate=1 with the stride.`
    );
  }
  return null;
}

function positiveInt(layer: string, name: string, value: PyValue): Outcome<number> {
  if (!isInteger(value) || value < 1 || value > MAX_SIZE) {
    return fail(`${layer}: ${name} must be a positive int, not ${formatValue(value)}.`);
  }
  return ok(value);
}

// ---------------------------------------------------------------------------------------------------------
// Forward convolutions: Conv, DepthwiseConv, SeparableConv
// ---------------------------------------------------------------------------------------------------------

interface ForwardSettings {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilation: number[];
  readonly padding: KerasPadding;
}

/**
 * compute_conv_output_shape, one spatial axis (k_eff = d·(k − 1) + 1):
 *   valid:        out = floor((in − k_eff) / s) + 1, and Keras refuses out ≤ 0
 *   same, causal: out = floor((in − 1) / s) + 1 = ceil(in / s)  (same: TF puts the odd pad at the end;
 *                 causal pads k_eff − 1 on the left only, Conv1D)
 */
function forwardDims(
  layer: string,
  settings: ForwardSettings,
  layout: KerasInput,
  input: readonly number[],
): Outcome<{ dims: DimRule[]; outSpatial: number[]; notes: string[] }> {
  const names = dimNames(settings.kernel.length);
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  settings.kernel.forEach((k, i) => {
    const d = settings.dilation[i]!;
    const s = settings.strides[i]!;
    const rule: DimRule =
      settings.padding === 'same'
        ? { kind: 'same', kernel: k, dilation: d, stride: s, extraPadAt: 'end' }
        : {
            kind: 'window',
            kernel: k,
            dilation: d,
            stride: s,
            padBegin: settings.padding === 'causal' ? effectiveKernel(k, d) - 1 : 0,
            padEnd: 0,
            ceilMode: false,
          };
    dims.push(rule);
    outSpatial.push(applyDimRule(rule, layout.spatial[i]!));
  });
  if (settings.padding === 'valid') {
    const bad = outSpatial.findIndex((size) => size <= 0);
    if (bad >= 0) {
      const k = settings.kernel[bad]!;
      const d = settings.dilation[bad]!;
      const kEff = effectiveKernel(k, d);
      return fail(
        `${layer}: with padding='valid' the output would have size ${outSpatial[bad]} along ${names[bad]}: the ` +
          `input is ${layout.spatial[bad]} but the ${d > 1 ? `dilated kernel spans ${d}·(${k} − 1) + 1 = ${kEff}` : `kernel is ${k}`} ` +
          `(input ${formatShape(input)}). Use an input of at least ${kEff} along ${names[bad]}, a smaller kernel, ` +
          `or padding='same'.`,
      );
    }
    outSpatial.forEach((size, i) => {
      const s = settings.strides[i]!;
      const unread = (layout.spatial[i]! - effectiveKernel(settings.kernel[i]!, settings.dilation[i]!)) % s;
      if (unread > 0) {
        notes.push(
          `${names[i]}: the last ${unread} input position${unread === 1 ? ' is' : 's are'} never read ` +
            `(${names[i]}_in − kernel span = ${layout.spatial[i]! - effectiveKernel(settings.kernel[i]!, settings.dilation[i]!)} ` +
            `is not a multiple of stride ${s}).`,
        );
      }
    });
  }
  return ok({ dims, outSpatial, notes });
}

function readForward(
  layer: string,
  args: BoundArgs,
  rank: Rank,
  allowCausal: boolean,
): Outcome<ForwardSettings> {
  const kernel = kerasTuple(layer, 'kernel_size', args['kernel_size']!, rank);
  if (!kernel.ok) return kernel;
  const strides = kerasTuple(layer, 'strides', args['strides']!, rank);
  if (!strides.ok) return strides;
  const dilation = kerasTuple(layer, 'dilation_rate', args['dilation_rate']!, rank);
  if (!dilation.ok) return dilation;
  const padding = readPadding(layer, args['padding']!, allowCausal);
  if (!padding.ok) return padding;
  const conflict = stridesDilationConflict(layer, strides.value, dilation.value);
  if (conflict) return fail(conflict);
  return ok({
    kernel: kernel.value,
    strides: strides.value,
    dilation: dilation.value,
    padding: padding.value,
  });
}

/** keras.layers.Conv{1,2,3}D: kernel (k..., C_in/groups, filters), bias (filters,). */
function inferConv(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const filters = positiveInt(layer, 'filters', args['filters']!);
  if (!filters.ok) return filters;
  const groups = positiveInt(layer, 'groups', args['groups']!);
  if (!groups.ok) return groups;
  if (filters.value % groups.value !== 0) {
    return fail(
      `${layer}: filters=${filters.value} must be divisible by groups=${groups.value} (each group makes ` +
        `filters/groups outputs).`,
    );
  }
  const settings = readForward(layer, args, rank, rank === 1);
  if (!settings.ok) return settings;
  const format = readDataFormat(layer, args['data_format']!);
  if (!format.ok) return format;
  const layout = readInput(layer, input, rank, format.value);
  if (!layout.ok) return layout;
  const channels = layout.value.channels;
  if (channels % groups.value !== 0) {
    return fail(
      `${layer}: the input has ${channels} channels, which groups=${groups.value} does not divide ` +
        `(input ${formatShape(input)}, data_format='${format.value}'); use a divisor of ${channels}.`,
    );
  }
  const sizes = forwardDims(layer, settings.value, layout.value, input);
  if (!sizes.ok) return sizes;
  const weightShape = [...settings.value.kernel, channels / groups.value, filters.value];
  const useBias = truthy(args['use_bias']);
  return ok({
    output: assemble(layout.value, filters.value, sizes.value.outSpatial),
    dims: sizes.value.dims,
    weightShape,
    biasShape: useBias ? [filters.value] : null,
    params: product(weightShape) + (useBias ? filters.value : 0),
    macs:
      layout.value.batch *
      product(sizes.value.outSpatial) *
      filters.value *
      product(settings.value.kernel) *
      (channels / groups.value),
    notes: sizes.value.notes,
  });
}

/** keras.layers.DepthwiseConv{1,2}D: kernel (k..., C_in, depth_multiplier), output C_in·depth_multiplier. */
function inferDepthwise(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const multiplier = positiveInt(layer, 'depth_multiplier', args['depth_multiplier']!);
  if (!multiplier.ok) return multiplier;
  const settings = readForward(layer, args, rank, false);
  if (!settings.ok) return settings;
  const format = readDataFormat(layer, args['data_format']!);
  if (!format.ok) return format;
  const layout = readInput(layer, input, rank, format.value);
  if (!layout.ok) return layout;
  const sizes = forwardDims(layer, settings.value, layout.value, input);
  if (!sizes.ok) return sizes;
  const channels = layout.value.channels;
  const outChannels = channels * multiplier.value;
  const weightShape = [...settings.value.kernel, channels, multiplier.value];
  const useBias = truthy(args['use_bias']);
  return ok({
    output: assemble(layout.value, outChannels, sizes.value.outSpatial),
    dims: sizes.value.dims,
    weightShape,
    biasShape: useBias ? [outChannels] : null,
    params: product(weightShape) + (useBias ? outChannels : 0),
    macs: layout.value.batch * product(sizes.value.outSpatial) * outChannels * product(settings.value.kernel),
    notes: sizes.value.notes,
  });
}

/**
 * keras.layers.SeparableConv{1,2}D: a depthwise kernel (k..., C_in, depth_multiplier) then a pointwise kernel
 * (1..., C_in·depth_multiplier, filters). weightShape is the depthwise kernel; params count both.
 */
function inferSeparable(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const multiplier = positiveInt(layer, 'depth_multiplier', args['depth_multiplier']!);
  if (!multiplier.ok) return multiplier;
  const filters = positiveInt(layer, 'filters', args['filters']!);
  if (!filters.ok) return filters;
  const settings = readForward(layer, args, rank, false);
  if (!settings.ok) return settings;
  const format = readDataFormat(layer, args['data_format']!);
  if (!format.ok) return format;
  const layout = readInput(layer, input, rank, format.value);
  if (!layout.ok) return layout;
  const sizes = forwardDims(layer, settings.value, layout.value, input);
  if (!sizes.ok) return sizes;
  const channels = layout.value.channels;
  const middle = channels * multiplier.value;
  const depthwiseShape = [...settings.value.kernel, channels, multiplier.value];
  const pointwiseShape = [...new Array<number>(rank).fill(1), middle, filters.value];
  const useBias = truthy(args['use_bias']);
  const positions = layout.value.batch * product(sizes.value.outSpatial);
  return ok({
    output: assemble(layout.value, filters.value, sizes.value.outSpatial),
    dims: sizes.value.dims,
    weightShape: depthwiseShape,
    biasShape: useBias ? [filters.value] : null,
    params: product(depthwiseShape) + product(pointwiseShape) + (useBias ? filters.value : 0),
    macs: positions * middle * product(settings.value.kernel) + positions * middle * filters.value,
    notes: [
      `Two kernels: depthwise ${formatShape(depthwiseShape)} and pointwise ${formatShape(pointwiseShape)}.`,
      ...sizes.value.notes,
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Transposed convolutions
// ---------------------------------------------------------------------------------------------------------

/**
 * keras.layers.Conv{1,2,3}DTranspose, one spatial axis (backend_utils._get_output_shape_given_tf_padding,
 * k_eff = d·(k − 1) + 1, op = output_padding):
 *   valid: (in − 1)·s + k_eff + op, op defaulting to max(k_eff, s) − k_eff   (= in·s + max(k_eff − s, 0))
 *   same:  in·s without output_padding; (in − 1)·s + k_eff % 2 + op with it
 * Kernel (k..., filters, C_in). output_padding is keyword-only here: Keras 3's subclasses take it through
 * **kwargs, while tf.keras (Keras 2) had it positionally after `padding`.
 */
function inferConvTranspose(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const filters = positiveInt(layer, 'filters', args['filters']!);
  if (!filters.ok) return filters;
  const kernel = kerasTuple(layer, 'kernel_size', args['kernel_size']!, rank);
  if (!kernel.ok) return kernel;
  const strides = kerasTuple(layer, 'strides', args['strides']!, rank);
  if (!strides.ok) return strides;
  const dilation = kerasTuple(layer, 'dilation_rate', args['dilation_rate']!, rank);
  if (!dilation.ok) return dilation;
  const padding = readPadding(layer, args['padding']!, false);
  if (!padding.ok) return padding;
  let outputPadding: number[] | null = null;
  if (args['output_padding'] !== null) {
    const read = kerasTuple(layer, 'output_padding', args['output_padding']!, rank, true);
    if (!read.ok) return read;
    outputPadding = read.value;
    const names = dimNames(rank);
    const bad = outputPadding.findIndex((op, i) => op >= strides.value[i]!);
    if (bad >= 0) {
      const s = strides.value[bad]!;
      return fail(
        `${layer}: output_padding ${formatValue(outputPadding)} must be smaller than strides ` +
          `${formatValue(strides.value)}, but along ${names[bad]} it is ${outputPadding[bad]} with stride ${s}; ` +
          `with stride ${s} it can be ${s === 1 ? '0 only' : s === 2 ? '0 or 1' : `0 to ${s - 1}`}.`,
      );
    }
  }
  const conflict = stridesDilationConflict(layer, strides.value, dilation.value);
  if (conflict) return fail(conflict);
  const format = readDataFormat(layer, args['data_format']!);
  if (!format.ok) return format;
  const layout = readInput(layer, input, rank, format.value);
  if (!layout.ok) return layout;

  const names = dimNames(rank);
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const k = kernel.value[i]!;
    const d = dilation.value[i]!;
    const s = strides.value[i]!;
    const kEff = effectiveKernel(k, d);
    const inputSize = layout.value.spatial[i]!;
    if (inputSize === 0) {
      return fail(
        `${layer}: the input ${formatShape(input)} is empty along ${names[i]}; a transposed conv needs size ≥ 1.`,
      );
    }
    const op = outputPadding?.[i];
    let rule: DimRule;
    if (padding.value === 'valid') {
      rule = {
        kind: 'transposed',
        kernel: k,
        dilation: d,
        stride: s,
        padBegin: 0,
        padEnd: 0,
        outputPadding: op ?? Math.max(kEff, s) - kEff,
      };
    } else if (op === undefined) {
      rule = { kind: 'transposed-same', kernel: k, dilation: d, stride: s };
    } else {
      // (in − 1)·s + k_eff − 2·floor(k_eff / 2) + op = (in − 1)·s + k_eff % 2 + op.
      const pad = Math.floor(kEff / 2);
      rule = {
        kind: 'transposed',
        kernel: k,
        dilation: d,
        stride: s,
        padBegin: pad,
        padEnd: pad,
        outputPadding: op,
      };
    }
    const size = applyDimRule(rule, inputSize);
    if (size <= 0) {
      return fail(
        `${layer}: the output would be empty along ${names[i]}: with padding='same' and output_padding ${op}, ` +
          `(${inputSize} − 1)·${s} + ${kEff} % 2 + ${op} = ${size}. Use output_padding ≥ ${1 - size + (op ?? 0)} ` +
          `or leave output_padding=None (out = in·stride).`,
      );
    }
    dims.push(rule);
    outSpatial.push(size);
    const note = checkerboardNote(names[i]!, k, d, s);
    if (note) notes.push(note);
  }
  const channels = layout.value.channels;
  const weightShape = [...kernel.value, filters.value, channels];
  const useBias = truthy(args['use_bias']);
  return ok({
    output: assemble(layout.value, filters.value, outSpatial),
    dims,
    weightShape,
    biasShape: useBias ? [filters.value] : null,
    params: product(weightShape) + (useBias ? filters.value : 0),
    macs:
      layout.value.batch * product(layout.value.spatial) * channels * filters.value * product(kernel.value),
    notes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------------------

/**
 * keras.layers.{Max,Average}Pooling{1,2,3}D (compute_pooling_output_shape), strides defaulting to pool_size:
 *   valid: out = floor((in − pool) / s) + 1, and Keras refuses out ≤ 0
 *   same:  out = floor((in − 1) / s) + 1 = ceil(in / s)
 */
function inferPool(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const pool = kerasTuple(layer, 'pool_size', args['pool_size']!, rank);
  if (!pool.ok) return pool;
  const strides = kerasTuple(layer, 'strides', args['strides'] ?? args['pool_size']!, rank, true);
  if (!strides.ok) return strides;
  if (strides.value.some((s) => s === 0)) {
    return fail(
      `${layer}: strides ${formatValue(strides.value)} contains 0; a pooling window must move by at least 1.`,
    );
  }
  const padding = readPadding(layer, args['padding']!, false);
  if (!padding.ok) return padding;
  const format = readDataFormat(layer, args['data_format']!);
  if (!format.ok) return format;
  const layout = readInput(layer, input, rank, format.value);
  if (!layout.ok) return layout;
  const names = dimNames(rank);
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const p = pool.value[i]!;
    const s = strides.value[i]!;
    const inputSize = layout.value.spatial[i]!;
    const rule: DimRule =
      padding.value === 'same'
        ? { kind: 'same', kernel: p, dilation: 1, stride: s, extraPadAt: 'end' }
        : { kind: 'window', kernel: p, dilation: 1, stride: s, padBegin: 0, padEnd: 0, ceilMode: false };
    const size = applyDimRule(rule, inputSize);
    if (padding.value === 'valid') {
      if (size <= 0) {
        return fail(
          `${layer}: with padding='valid' the output would have size ${size} along ${names[i]}: the input is ` +
            `${inputSize} but pool_size is ${p} (input ${formatShape(input)}). Use an input of at least ${p}, a ` +
            `smaller pool_size, or padding='same'.`,
        );
      }
      const unread = (inputSize - p) % s;
      if (unread > 0) {
        notes.push(
          `${names[i]}: the last ${unread} input position${unread === 1 ? ' is' : 's are'} never pooled ` +
            `(${names[i]}_in − pool_size = ${inputSize - p} is not a multiple of stride ${s}).`,
        );
      }
    }
    dims.push(rule);
    outSpatial.push(size);
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

// ---------------------------------------------------------------------------------------------------------
// tf.nn.conv{1,2,3}d_transpose
// ---------------------------------------------------------------------------------------------------------

const TF_FORMATS: Readonly<Record<Rank, { readonly last: string; readonly first: string }>> = {
  1: { last: 'NWC', first: 'NCW' },
  2: { last: 'NHWC', first: 'NCHW' },
  3: { last: 'NDHWC', first: 'NCDHW' },
};

/**
 * TensorFlow's _get_sequence: an int, or a list of 1, N or N + 2 ints (the N + 2 form has 1 for batch and
 * channels), read as N spatial values.
 */
function tfSequence(
  layer: string,
  name: string,
  value: PyValue,
  rank: number,
  channelsLast: boolean,
): Outcome<number[]> {
  const values = isInteger(value) ? [value] : value;
  if (!Array.isArray(values) || !values.every((v) => isInteger(v) && v >= 1 && v <= MAX_SIZE)) {
    return fail(
      `${layer}: ${name} must be a positive int or a list of positive ints, not ${formatValue(value)}.`,
    );
  }
  const ints = values as number[];
  if (ints.length === 1) return ok(new Array<number>(rank).fill(ints[0]!));
  if (ints.length === rank) return ok([...ints]);
  if (ints.length === rank + 2) {
    const outer = channelsLast ? [ints[0]!, ints[rank + 1]!] : [ints[0]!, ints[1]!];
    if (outer.some((v) => v !== 1)) {
      return fail(
        `${layer}: ${name} ${formatValue(value)} must be 1 in the batch and channel positions; TensorFlow ` +
          `does not ${name === 'strides' ? 'stride' : 'dilate'} across them.`,
      );
    }
    return ok(channelsLast ? ints.slice(1, rank + 1) : ints.slice(2));
  }
  return fail(
    `${layer}: ${name} has ${ints.length} values (${formatValue(value)}); give 1, ${rank} or ${rank + 2}.`,
  );
}

/**
 * tf.nn.conv{1,2,3}d_transpose(input, filters, output_shape, strides, padding, data_format, dilations).
 * The output size is `output_shape` itself; TensorFlow (conv2d_backprop_input) only accepts it when the
 * forward conv with the same settings maps it back onto the input, i.e. per spatial axis
 *   SAME:             o ∈ [(i − 1)·s + 1, i·s]
 *   VALID:            o ∈ [(i − 1)·s + k_eff, (i − 1)·s + k_eff + s − 1]
 *   explicit (b, e):  o ∈ [(i − 1)·s + k_eff − b − e, … + s − 1]   (conv2d_transpose only)
 * filters is (k..., output_channels, input_channels).
 */
function inferTfConvTranspose(
  layer: string,
  rank: Rank,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const formats = TF_FORMATS[rank];
  const formatValueRaw = args['data_format']!;
  if (formatValueRaw !== formats.last && formatValueRaw !== formats.first) {
    return fail(
      `${layer}: data_format must be '${formats.last}' or '${formats.first}', not ${formatValue(formatValueRaw)}.`,
    );
  }
  const channelsLast = formatValueRaw === formats.last;
  const format: DataFormat = channelsLast ? 'channels_last' : 'channels_first';
  const layout = readInput(layer, input, rank, format);
  if (!layout.ok) return layout;
  const names = dimNames(rank);

  const filtersRaw = args['filters']!;
  const filterShape =
    Array.isArray(filtersRaw) && filtersRaw.every((v) => isInteger(v) && v >= 1 && v <= MAX_SIZE)
      ? (filtersRaw as number[])
      : null;
  if (!filterShape || filterShape.length !== rank + 2) {
    return fail(
      `${layer}: filters must be the filter's shape, ${rank + 2} positive ints (${names.join(', ')}, ` +
        `output_channels, input_channels), not ${formatValue(filtersRaw)}.`,
    );
  }
  const kernel = filterShape.slice(0, rank);
  const filterOut = filterShape[rank]!;
  const filterIn = filterShape[rank + 1]!;
  if (filterIn !== layout.value.channels) {
    return fail(
      `${layer}: the input has ${layout.value.channels} channels but filters ${formatShape(filterShape)} expects ` +
        `${filterIn} (its last axis is the input channels of a transposed conv).`,
    );
  }
  const strides = tfSequence(layer, 'strides', args['strides']!, rank, channelsLast);
  if (!strides.ok) return strides;
  const dilations =
    args['dilations'] === null
      ? ok(new Array<number>(rank).fill(1))
      : tfSequence(layer, 'dilations', args['dilations']!, rank, channelsLast);
  if (!dilations.ok) return dilations;

  // Padding: 'SAME', 'VALID', or (conv2d_transpose) explicit pairs for all N + 2 axes.
  const paddingRaw = args['padding']!;
  let explicit: Array<readonly [number, number]> | null = null;
  if (paddingRaw !== 'SAME' && paddingRaw !== 'VALID') {
    const pairs =
      rank === 2 && Array.isArray(paddingRaw) && paddingRaw.length === rank + 2
        ? (paddingRaw as readonly PyValue[]).map((pair) =>
            Array.isArray(pair) &&
            pair.length === 2 &&
            pair.every((v) => isInteger(v) && v >= 0 && v <= MAX_SIZE)
              ? ([pair[0] as number, pair[1] as number] as const)
              : null,
          )
        : null;
    if (!pairs || pairs.some((pair) => pair === null)) {
      const upper = typeof paddingRaw === 'string' ? paddingRaw.toUpperCase() : null;
      const hint = upper === 'SAME' || upper === 'VALID' ? ` (TensorFlow wants upper case: '${upper}')` : '';
      return fail(
        `${layer}: padding must be 'SAME' or 'VALID'${rank === 2 ? ' or 4 (before, after) pairs, one per axis' : ''}, ` +
          `not ${formatValue(paddingRaw)}${hint}.`,
      );
    }
    const full = pairs as Array<readonly [number, number]>;
    const outerAxes = channelsLast ? [0, rank + 1] : [0, 1];
    if (outerAxes.some((axis) => full[axis]![0] !== 0 || full[axis]![1] !== 0)) {
      return fail(
        `${layer}: explicit padding ${formatValue(paddingRaw)} must be (0, 0) for the batch and channel axes.`,
      );
    }
    explicit = channelsLast ? full.slice(1, rank + 1) : full.slice(2);
  }

  const requested = args['output_shape']!;
  const requestedShape =
    Array.isArray(requested) && requested.every((v) => isInteger(v) && v >= 0 && v <= MAX_SIZE)
      ? (requested as number[])
      : null;
  if (!requestedShape || (requestedShape.length !== rank + 2 && requestedShape.length !== rank)) {
    return fail(
      `${layer}: output_shape is required: the full output shape (${rank + 2} ints, e.g. ` +
        `${formatShape(
          assemble(
            layout.value,
            filterOut,
            layout.value.spatial.map((size, i) => size * (strides.value[i] ?? 1)),
          ),
        )}), ` +
        `got ${formatValue(requested)}.`,
    );
  }
  let outSpatial: number[];
  if (requestedShape.length === rank + 2) {
    const batch = requestedShape[0]!;
    const channels = channelsLast ? requestedShape[rank + 1]! : requestedShape[1]!;
    outSpatial = channelsLast ? requestedShape.slice(1, rank + 1) : requestedShape.slice(2);
    if (batch !== layout.value.batch) {
      return fail(
        `${layer}: output_shape ${formatShape(requestedShape)} has batch ${batch}, but the input has ${layout.value.batch}.`,
      );
    }
    if (channels !== filterOut) {
      return fail(
        `${layer}: output_shape ${formatShape(requestedShape)} has ${channels} channels, but filters ` +
          `${formatShape(filterShape)} produces ${filterOut} (its axis ${rank}).`,
      );
    }
  } else {
    outSpatial = [...requestedShape];
  }

  const dims: DimRule[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const inputSize = layout.value.spatial[i]!;
    const s = strides.value[i]!;
    const kEff = effectiveKernel(kernel[i]!, dilations.value[i]!);
    const o = outSpatial[i]!;
    let low: number;
    if (paddingRaw === 'SAME') low = (inputSize - 1) * s + 1;
    else if (explicit) low = (inputSize - 1) * s + kEff - explicit[i]![0] - explicit[i]![1];
    else low = (inputSize - 1) * s + kEff;
    const high = low + s - 1;
    low = Math.max(1, low);
    // The forward conv must give back the input: SAME ceil(o/s), VALID/explicit floor((o + pads − k_eff)/s) + 1.
    const forward =
      paddingRaw === 'SAME'
        ? ceilDiv(o, s)
        : Math.floor((o + (explicit ? explicit[i]![0] + explicit[i]![1] : 0) - kEff) / s) + 1;
    if (inputSize === 0 || o < low || o > high || forward !== inputSize) {
      const range =
        inputSize === 0 || low > high ? 'none' : low === high ? `${low} only` : `${low} to ${high}`;
      return fail(
        `${layer}: output_shape asks for ${o} along ${names[i]}, but a ${formatValue(paddingRaw)} transposed conv ` +
          `with stride ${s} and kernel span ${kEff} from input size ${inputSize} can only give ${range} (the sizes ` +
          `a forward conv maps back to ${inputSize}); TensorFlow refuses any other size ("Conv${rank === 3 ? 3 : 2}DBackpropInput: ... ` +
          `doesn't match computed").`,
      );
    }
    dims.push({ kind: 'fixed', size: o });
    const note = checkerboardNote(names[i]!, kernel[i]!, dilations.value[i]!, s);
    if (note) notes.push(note);
  }
  return ok({
    output: assemble(layout.value, filterOut, outSpatial),
    dims,
    weightShape: [...filterShape],
    biasShape: null,
    params: product(filterShape),
    macs: layout.value.batch * product(layout.value.spatial) * filterIn * filterOut * product(kernel),
    notes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------------------

/** Keyword arguments every Keras layer accepts through **kwargs (keras.layers.Layer). */
const LAYER_KWARGS: readonly ParamSpec[] = [
  'trainable',
  'name',
  'dtype',
  'autocast',
  'input_shape',
  'input_dim',
  'batch_input_shape',
  'batch_size',
  'weights',
].map((name) => ({
  name,
  default: name === 'trainable' || name === 'autocast' ? true : null,
  keywordOnly: true,
}));

const spatialDefault = (rank: Rank, value: number): PyValue =>
  rank === 1 ? value : new Array<number>(rank).fill(value);

const param = (name: string, defaultValue?: PyValue): ParamSpec =>
  defaultValue === undefined ? { name } : { name, default: defaultValue };

function convParams(rank: Rank): ParamSpec[] {
  return [
    param('filters'),
    param('kernel_size'),
    param('strides', spatialDefault(rank, 1)),
    param('padding', 'valid'),
    param('data_format', null),
    param('dilation_rate', spatialDefault(rank, 1)),
    param('groups', 1),
    param('activation', null),
    param('use_bias', true),
    param('kernel_initializer', 'glorot_uniform'),
    param('bias_initializer', 'zeros'),
    param('kernel_regularizer', null),
    param('bias_regularizer', null),
    param('activity_regularizer', null),
    param('kernel_constraint', null),
    param('bias_constraint', null),
    { name: 'lora_rank', default: null, keywordOnly: true },
    { name: 'lora_alpha', default: null, keywordOnly: true },
    ...LAYER_KWARGS,
  ];
}

function convTransposeParams(rank: Rank): ParamSpec[] {
  return [
    param('filters'),
    param('kernel_size'),
    param('strides', spatialDefault(rank, 1)),
    param('padding', 'valid'),
    param('data_format', null),
    param('dilation_rate', spatialDefault(rank, 1)),
    param('activation', null),
    param('use_bias', true),
    param('kernel_initializer', 'glorot_uniform'),
    param('bias_initializer', 'zeros'),
    param('kernel_regularizer', null),
    param('bias_regularizer', null),
    param('activity_regularizer', null),
    param('kernel_constraint', null),
    param('bias_constraint', null),
    { name: 'output_padding', default: null, keywordOnly: true },
    ...LAYER_KWARGS,
  ];
}

function depthwiseParams(rank: Rank): ParamSpec[] {
  return [
    param('kernel_size'),
    param('strides', spatialDefault(rank, 1)),
    param('padding', 'valid'),
    param('depth_multiplier', 1),
    param('data_format', null),
    param('dilation_rate', spatialDefault(rank, 1)),
    param('activation', null),
    param('use_bias', true),
    param('depthwise_initializer', 'glorot_uniform'),
    param('bias_initializer', 'zeros'),
    param('depthwise_regularizer', null),
    param('bias_regularizer', null),
    param('activity_regularizer', null),
    param('depthwise_constraint', null),
    param('bias_constraint', null),
    ...LAYER_KWARGS,
  ];
}

function separableParams(rank: Rank): ParamSpec[] {
  return [
    param('filters'),
    param('kernel_size'),
    param('strides', spatialDefault(rank, 1)),
    param('padding', 'valid'),
    param('data_format', null),
    param('dilation_rate', spatialDefault(rank, 1)),
    param('depth_multiplier', 1),
    param('activation', null),
    param('use_bias', true),
    param('depthwise_initializer', 'glorot_uniform'),
    param('pointwise_initializer', 'glorot_uniform'),
    param('bias_initializer', 'zeros'),
    param('depthwise_regularizer', null),
    param('pointwise_regularizer', null),
    param('bias_regularizer', null),
    param('activity_regularizer', null),
    param('depthwise_constraint', null),
    param('pointwise_constraint', null),
    param('bias_constraint', null),
    ...LAYER_KWARGS,
  ];
}

function poolParams(rank: Rank): ParamSpec[] {
  return [
    param('pool_size', spatialDefault(rank, 2)),
    param('strides', null),
    param('padding', 'valid'),
    param('data_format', null),
    ...LAYER_KWARGS.filter((p) => p.name !== 'name'),
    { name: 'name', default: null, keywordOnly: true },
  ];
}

function tfConvTransposeParams(rank: Rank): ParamSpec[] {
  return [
    param('input', null),
    param('filters'),
    param('output_shape'),
    param('strides'),
    param('padding', 'SAME'),
    param('data_format', TF_FORMATS[rank].last),
    param('dilations', null),
    param('name', null),
  ];
}

type Infer = (layer: string, rank: Rank, args: BoundArgs, input: readonly number[]) => Outcome<LayerShape>;

function define(
  name: string,
  rank: Rank,
  params: ParamSpec[],
  summary: string,
  infer: Infer,
  framework: Framework = 'keras',
): LayerDef {
  return { framework, name, params, summary, infer: (args, input) => infer(name, rank, args, input) };
}

/** Keras 3 / tf.keras conv, transposed conv and pooling layers, and tf.nn.conv{1,2,3}d_transpose. */
export const kerasLayers: readonly LayerDef[] = RANKS.flatMap((rank): LayerDef[] => {
  const d = `${rank}D`;
  const layers: LayerDef[] = [];
  for (const prefix of ['Conv', 'Convolution']) {
    layers.push(
      define(
        `keras.layers.${prefix}${d}`,
        rank,
        convParams(rank),
        `Keras ${d} convolution, channels_last by default; 'valid' floor((in − k_eff)/s) + 1, 'same' ceil(in/s).`,
        inferConv,
      ),
      define(
        `keras.layers.${prefix}${d}Transpose`,
        rank,
        convTransposeParams(rank),
        `Keras ${d} transposed convolution; 'same' gives in·stride, 'valid' in·stride + max(k_eff − stride, 0).`,
        inferConvTranspose,
      ),
    );
  }
  for (const [mode, names] of [
    ['max', ['MaxPooling', 'MaxPool']],
    ['average', ['AveragePooling', 'AvgPool']],
  ] as const) {
    for (const base of names) {
      layers.push(
        define(
          `keras.layers.${base}${d}`,
          rank,
          poolParams(rank),
          `Keras ${d} ${mode} pooling; strides default to pool_size.`,
          inferPool,
        ),
      );
    }
  }
  if (rank <= 2) {
    layers.push(
      define(
        `keras.layers.DepthwiseConv${d}`,
        rank,
        depthwiseParams(rank),
        `Keras ${d} depthwise convolution: channels × depth_multiplier outputs.`,
        inferDepthwise,
      ),
      define(
        `keras.layers.SeparableConv${d}`,
        rank,
        separableParams(rank),
        `Keras ${d} separable convolution: depthwise, then a pointwise conv to filters outputs.`,
        inferSeparable,
      ),
      define(
        `keras.layers.SeparableConvolution${d}`,
        rank,
        separableParams(rank),
        `Keras ${d} separable convolution: depthwise, then a pointwise conv to filters outputs.`,
        inferSeparable,
      ),
    );
  }
  layers.push(
    define(
      `tf.nn.conv${rank}d_transpose`,
      rank,
      tfConvTransposeParams(rank),
      `TensorFlow ${d} transposed convolution; output_shape is required and must be reachable from the input.`,
      inferTfConvTranspose,
      'tensorflow',
    ),
  );
  return layers;
});
