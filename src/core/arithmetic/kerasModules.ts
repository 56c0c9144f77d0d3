/**
 * Keras 3 layers around the convolutions: Dense, reshaping layers, activations, dropout, normalisation,
 * upsampling, zero padding, cropping, global pooling, Embedding and the merge layers. Shapes always start
 * with the batch dimension, which is usually unknown (None): every rule works on partly-known shapes
 * (../tensor/ops.ts) and keeps None where Keras does.
 *
 * Multi-input layers (Concatenate, Add, Multiply, Subtract, Average, Maximum, Minimum, Dot) are
 * MultiInputLayerDefs: the interpreter calls `inferMany(args, [shape1, shape2, …])` with the shapes in the
 * order of the list the layer is called on; `infer` with a single shape explains that a list is needed.
 *
 * Sources (Keras 3): keras/src/layers/core/dense.py, embedding.py, identity.py;
 * keras/src/layers/reshaping/*.py (flatten, reshape, permute, repeat_vector, up_sampling{1,2,3}d,
 * zero_padding{1,2,3}d, cropping{1,2,3}d); keras/src/ops/operation_utils.py (compute_reshape_output_shape);
 * keras/src/layers/activations/*.py; keras/src/layers/regularization/*.py (dropout, spatial_dropout,
 * gaussian_noise, gaussian_dropout, alpha_dropout); keras/src/layers/normalization/batch_normalization.py,
 * layer_normalization.py, group_normalization.py; keras/src/layers/pooling/base_global_pooling.py;
 * keras/src/layers/merging/base_merge.py (_compute_elemwise_op_output_shape), concatenate.py, subtract.py,
 * dot.py; keras/src/layers/input_spec.py (the ndim / min_ndim checks).
 */
import { formatValue, isInteger, product } from './args';
import type { BoundArgs, LayerDef, ParamSpec, PyValue } from './types';
import { fail, ok, type Outcome } from './types';
import {
  type Dim,
  defineMultiInputLayer,
  defineTensorLayer,
  formatDims,
  intArg,
  normalizeDim,
  normalizeDims,
  numberArg,
  productOf,
  sameShape,
  type TensorLayerDef,
  type TensorLayerShape,
} from '../tensor/ops';

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

const param = (name: string, defaultValue?: PyValue, keywordOnly = false): ParamSpec => ({
  name,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
  ...(keywordOnly ? { keywordOnly } : {}),
});

/** A layer's own parameters followed by the standard **kwargs (minus any it declares itself). */
function withKwargs(params: readonly ParamSpec[]): ParamSpec[] {
  return [...params, ...LAYER_KWARGS.filter((k) => !params.some((q) => q.name === k.name))];
}

type Rule = (layer: string, args: BoundArgs, input: Dim[]) => Outcome<TensorLayerShape>;

const kerasLayer = (
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  rule: Rule,
): TensorLayerDef => defineTensorLayer('keras', `keras.layers.${name}`, withKwargs(params), summary, rule);

function truthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

function mul(...dims: Dim[]): Dim {
  const total = productOf(dims);
  return total.ok ? total.value : null;
}

/** InputSpec(ndim=…) / InputSpec(min_ndim=…): the rank check Keras makes before calling a layer. */
function checkNdim(
  layer: string,
  input: Dim[],
  ndim: number,
  layout: string,
  atLeast = false,
): Outcome<true> {
  if (atLeast ? input.length >= ndim : input.length === ndim) return ok(true);
  return fail(
    `${layer} expects ${atLeast ? 'an input of at least' : 'a'} ${ndim}-D input ${layout}, but got a ` +
      `${input.length}-D input ${formatDims(input)}.`,
  );
}

type DataFormat = 'channels_last' | 'channels_first';

/** standardize_data_format: None means the Keras default, channels_last. */
function readDataFormat(layer: string, value: PyValue | undefined): Outcome<DataFormat> {
  if (value === null || value === undefined) return ok('channels_last');
  const lower = typeof value === 'string' ? value.toLowerCase() : null;
  if (lower !== 'channels_last' && lower !== 'channels_first') {
    return fail(
      `${layer}: data_format must be 'channels_last' or 'channels_first', not ${formatValue(value)}.`,
    );
  }
  return ok(lower);
}

/** standardize_tuple(value, n, name, allow_zero): an int repeated n times, or exactly n ints (> 0, or ≥ 0). */
function kerasTuple(
  layer: string,
  name: string,
  value: PyValue | undefined,
  n: number,
  allowZero: boolean,
): Outcome<number[]> {
  const values = isInteger(value ?? null) ? new Array<PyValue>(n).fill(value as number) : value;
  if (!Array.isArray(values) || values.length !== n || !values.every((v) => isInteger(v))) {
    return fail(
      `${layer}: ${name} must be an int or a tuple of ${n} ints, got ${formatValue(value ?? null)}.`,
    );
  }
  const ints = values as number[];
  const bad = ints.find((v) => (allowZero ? v < 0 : v <= 0) || v > 2 ** 31);
  if (bad !== undefined) {
    return fail(
      `${layer}: ${name} must be ${allowZero ? '≥ 0' : '> 0'}, but ${formatValue(value ?? null)} includes ${bad}.`,
    );
  }
  return ok(ints);
}

/** Dropout-style rate: Keras refuses anything outside [0, 1]. */
function rateArg(layer: string, args: BoundArgs, name = 'rate'): Outcome<number> {
  const rate = args[name];
  if (typeof rate !== 'number' || Number.isNaN(rate) || rate < 0 || rate > 1) {
    return fail(`${layer}: ${name} must be a float between 0 and 1, got ${formatValue(rate ?? null)}.`);
  }
  return ok(rate);
}

function divisors(n: number): number[] {
  const result: number[] = [];
  for (let d = 1; d <= n && result.length < 16; d++) if (n % d === 0) result.push(d);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Core layers
// ---------------------------------------------------------------------------------------------------------

/**
 * Dense: output = activation(input · kernel + bias) on the last axis; kernel (input_dim, units). Needs a
 * defined last dimension and at least 2 dimensions (InputSpec(min_ndim=2)).
 */
function denseRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const units = args['units'];
  if (!isInteger(units ?? null) || (units as number) <= 0 || (units as number) > 2 ** 31) {
    return fail(`${layer}: units must be a positive integer, got ${formatValue(units ?? null)}.`);
  }
  const u = units as number;
  const rank = checkNdim(layer, input, 2, '(batch, …, features)', true);
  if (!rank.ok) return rank;
  const inDim = input[input.length - 1]!;
  if (inDim === null) {
    return fail(
      `${layer}: the last dimension of its input must be defined to build the kernel, but the input is ` +
        `${formatDims(input)}. Give the Input a full shape, or Reshape/Flatten to a known size first.`,
    );
  }
  const bias = truthy(args['use_bias']);
  const notes: string[] = [];
  if (input.length >= 4) {
    notes.push(
      `${layer} acts on the last axis only (${inDim} features); the other axes pass through. Add Flatten() or ` +
        `GlobalAveragePooling2D() first if you meant one vector per sample.`,
    );
  }
  return ok({
    output: [...input.slice(0, -1), u],
    dims: [],
    weightShape: [inDim, u],
    biasShape: bias ? [u] : null,
    params: inDim * u + (bias ? u : 0),
    macs: mul(...input.slice(0, -1), inDim, u),
    notes,
  });
}

/** Flatten: (batch, …) → (batch, product of the rest); None if any of the rest is unknown; (batch,) → (batch, 1). */
function flattenRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const format = readDataFormat(layer, args['data_format']);
  if (!format.ok) return format;
  const rank = checkNdim(layer, input, 1, '(batch, …)', true);
  if (!rank.ok) return rank;
  const rest = input.slice(1);
  const flat = rest.length === 0 ? 1 : rest.some((d) => d === null) ? null : mul(...rest);
  return sameShape([input[0]!, flat]);
}

/**
 * Reshape(target_shape): (batch,) + target_shape, with one -1 inferred from the non-batch elements
 * (compute_reshape_output_shape). Unknown non-batch sizes leave -1 unknown.
 */
function reshapeRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const raw = args['target_shape'];
  const target = isInteger(raw ?? null) ? [raw as number] : raw;
  if (!Array.isArray(target) || !target.every((t) => isInteger(t))) {
    return fail(`${layer}: target_shape must be a tuple of integers, got ${formatValue(raw ?? null)}.`);
  }
  const sizes = target as number[];
  const bad = sizes.find((t) => t < -1);
  if (bad !== undefined) {
    return fail(
      `${layer}: each size in target_shape must be a non-negative integer, or -1 for a single unknown one; got ` +
        `${formatValue(sizes)}.`,
    );
  }
  const inferred = sizes.filter((t) => t === -1).length;
  if (inferred > 1) {
    return fail(
      `${layer}: target_shape ${formatValue(sizes)} has ${inferred} entries of -1; at most one can be inferred.`,
    );
  }
  const rank = checkNdim(layer, input, 1, '(batch, …)', true);
  if (!rank.ok) return rank;
  const rest = input.slice(1);
  if (rest.some((d) => d === null)) {
    return sameShape([input[0]!, ...sizes.map((t) => (t === -1 ? null : t))]);
  }
  const total = product(rest as number[]);
  const known = product(sizes.filter((t) => t !== -1));
  if (inferred === 0) {
    if (known !== total) {
      return fail(
        `${layer}: cannot reshape ${formatDims(input)} (${total} elements per sample) into target_shape ` +
          `${formatValue(sizes)} (${known} elements); the total size must stay the same.`,
      );
    }
    return sameShape([input[0]!, ...sizes]);
  }
  if (known === 0 || total % known !== 0) {
    return fail(
      `${layer}: cannot reshape ${formatDims(input)} (${total} elements per sample) into target_shape ` +
        `${formatValue(sizes)}: ${total} is not divisible by ${known}, the product of the other sizes.`,
    );
  }
  return sameShape([input[0]!, ...sizes.map((t) => (t === -1 ? total / known : t))]);
}

/** Permute(dims): dims is a permutation of 1…rank−1 (the batch axis stays first). */
function permuteRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const dims = args['dims'];
  const list = Array.isArray(dims) ? (dims as PyValue[]) : null;
  const sorted =
    list && list.every((d) => isInteger(d)) ? [...(list as number[])].sort((a, b) => a - b) : null;
  if (!sorted || sorted.some((d, i) => d !== i + 1)) {
    return fail(
      `${layer}: dims must be a permutation of 1…n (the batch axis 0 stays put), e.g. (2, 1); got ` +
        `${formatValue(dims ?? null)}.`,
    );
  }
  const rank = checkNdim(
    layer,
    input,
    sorted.length + 1,
    `(batch, ${sorted.length} axes) for dims ${formatValue(list!)}`,
  );
  if (!rank.ok) return rank;
  return sameShape([input[0]!, ...(list as number[]).map((d) => input[d]!)]);
}

/** RepeatVector(n): (batch, features) → (batch, n, features). */
function repeatVectorRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const n = intArg(layer, 'n', args['n'], 0);
  if (!n.ok) return n;
  const rank = checkNdim(layer, input, 2, '(batch, features)');
  if (!rank.ok) return rank;
  return sameShape([input[0]!, n.value, input[1]!]);
}

/** Embedding: integer indices of any shape → that shape + (output_dim,); embeddings (input_dim, output_dim). */
function embeddingRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const inputDim = intArg(layer, 'input_dim', args['input_dim'], 1);
  if (!inputDim.ok) return inputDim;
  const outputDim = intArg(layer, 'output_dim', args['output_dim'], 1);
  if (!outputDim.ok) return outputDim;
  return ok({
    output: [...input, outputDim.value],
    dims: [],
    weightShape: [inputDim.value, outputDim.value],
    biasShape: null,
    params: inputDim.value * outputDim.value,
    macs: 0,
    notes: [],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Activations and regularisation
// ---------------------------------------------------------------------------------------------------------

/** ReLU(max_value, negative_slope, threshold): none may be negative. */
function reluRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const maxValue = args['max_value'] ?? null;
  if (maxValue !== null) {
    const read = numberArg(layer, 'max_value', maxValue, 0);
    if (!read.ok) return read;
  }
  for (const name of ['negative_slope', 'threshold']) {
    const read = numberArg(layer, name, args[name], 0);
    if (!read.ok) return read;
  }
  return sameShape(input);
}

/** LeakyReLU(negative_slope=0.3); the deprecated `alpha` keyword wins when given. */
function leakyReluRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const slope = args['alpha'] ?? args['negative_slope'];
  const read = numberArg(layer, 'negative_slope', slope, 0);
  if (!read.ok) return read;
  return sameShape(input);
}

/** Softmax(axis=-1): an int or a tuple of axes, each within the input's rank. */
function softmaxRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const axes = normalizeDims(args['axis'] ?? -1, input.length, 'axis');
  if (!axes.ok) return fail(`${layer}: ${axes.error}`);
  return sameShape(input);
}

/** PReLU: one learned slope per input element except along shared_axes (1-indexed, the batch axis excluded). */
function preluRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const raw = args['shared_axes'] ?? null;
  const shared = raw === null ? [] : isInteger(raw) ? [raw] : raw;
  if (!Array.isArray(shared) || !shared.every((a) => isInteger(a) && a >= 1 && a < input.length)) {
    return fail(
      `${layer}: shared_axes must be axes 1…${input.length - 1} of the ${input.length}-D input ${formatDims(input)} ` +
        `(the batch axis 0 cannot be shared), got ${formatValue(raw)}.`,
    );
  }
  const alpha = input.slice(1).map((d, i) => ((shared as number[]).includes(i + 1) ? 1 : d));
  return ok({
    output: [...input],
    dims: [],
    weightShape: alpha,
    biasShape: null,
    params: alpha.some((d) => d === null) ? null : mul(...alpha),
    macs: 0,
    notes: [],
  });
}

function dropoutRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const rate = rateArg(layer, args);
  if (!rate.ok) return rate;
  return sameShape(input);
}

/** SpatialDropout{1,2,3}D: like Dropout, for exactly (batch, spatial…, channels) inputs. */
function spatialDropoutRule(rank: 1 | 2 | 3): Rule {
  return (layer, args, input) => {
    const rate = rateArg(layer, args);
    if (!rate.ok) return rate;
    if (rank > 1) {
      const format = readDataFormat(layer, args['data_format']);
      if (!format.ok) return format;
    }
    const rankCheck = checkNdim(layer, input, rank + 2, spatialLayout(rank, 'channels_last'));
    if (!rankCheck.ok) return rankCheck;
    return sameShape(input);
  };
}

function spatialLayout(rank: number, format: DataFormat): string {
  const names = ['steps', 'height, width', 'depth, height, width'][rank - 1];
  return format === 'channels_last' ? `(batch, ${names}, channels)` : `(batch, channels, ${names})`;
}

// ---------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------

/** The normalised axes as indices, each of which must have a known size (Keras builds weights from them). */
function featureAxes(layer: string, axisArg: PyValue | undefined, input: Dim[]): Outcome<number[]> {
  const axes = normalizeDims(axisArg ?? -1, input.length, 'axis');
  if (!axes.ok) return fail(`${layer}: ${axes.error}`);
  for (const a of axes.value) {
    if (input[a] === null) {
      return fail(
        `${layer}: axis ${a} of the input must have a defined size, but the input is ${formatDims(input)}.`,
      );
    }
  }
  return ok(axes.value);
}

/**
 * BatchNormalization(axis=-1): gamma (scale) and beta (center) of the axis size are trainable; moving mean
 * and variance are two more non-trainable weights of that size, which model.summary() counts too.
 */
function batchNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const axes = featureAxes(layer, args['axis'], input);
  if (!axes.ok) return axes;
  const shape = axes.value.map((a) => input[a]!) as number[];
  const size = product(shape);
  const scale = truthy(args['scale']);
  const center = truthy(args['center']);
  return ok({
    output: [...input],
    dims: [],
    weightShape: scale ? shape : null,
    biasShape: center ? shape : null,
    params: size * (Number(scale) + Number(center)),
    macs: 0,
    notes: [
      `Plus ${2 * size} non-trainable weights (moving mean and variance); model.summary() counts ` +
        `${size * (2 + Number(scale) + Number(center))} parameters for this layer.`,
    ],
  });
}

/** LayerNormalization(axis=-1): gamma (scale or rms_scaling) and beta (center, not with rms_scaling). */
function layerNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const axes = featureAxes(layer, args['axis'], input);
  if (!axes.ok) return axes;
  const shape = axes.value.map((a) => input[a]!) as number[];
  const rms = truthy(args['rms_scaling']);
  const scale = truthy(args['scale']) || rms;
  const center = truthy(args['center']) && !rms;
  return ok({
    output: [...input],
    dims: [],
    weightShape: scale ? shape : null,
    biasShape: center ? shape : null,
    params: product(shape) * (Number(scale) + Number(center)),
    macs: 0,
    notes: [],
  });
}

/** GroupNormalization(groups=32, axis=-1): groups (−1 = one per channel) must divide the channel size. */
function groupNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const groups = args['groups'];
  if (!isInteger(groups ?? null) || ((groups as number) < 1 && groups !== -1)) {
    return fail(
      `${layer}: groups must be a positive integer (or -1 for one group per channel), got ${formatValue(groups ?? null)}.`,
    );
  }
  if (!isInteger(args['axis'] ?? null)) {
    return fail(`${layer}: axis must be an integer, got ${formatValue(args['axis'] ?? null)}.`);
  }
  const axes = featureAxes(layer, args['axis'], input);
  if (!axes.ok) return axes;
  const channels = input[axes.value[0]!]! as number;
  const g = groups === -1 ? channels : (groups as number);
  if (channels < g) {
    return fail(
      `${layer}: groups (${g}) cannot be more than the number of channels (${channels}). Valid groups: ` +
        `${divisors(channels).join(', ')}.`,
    );
  }
  if (channels % g !== 0) {
    return fail(
      `${layer}: the number of channels (${channels}) must be divisible by groups (${g}). Valid groups: ` +
        `${divisors(channels).join(', ')}.`,
    );
  }
  const scale = truthy(args['scale']);
  const center = truthy(args['center']);
  return ok({
    output: [...input],
    dims: [],
    weightShape: scale ? [channels] : null,
    biasShape: center ? [channels] : null,
    params: channels * (Number(scale) + Number(center)),
    macs: 0,
    notes: [],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Spatial layers: upsampling, padding, cropping, global pooling
// ---------------------------------------------------------------------------------------------------------

/** Indices of the spatial axes for a (batch, spatial…, channels) or (batch, channels, spatial…) input. */
function spatialAxes(rank: number, format: DataFormat): number[] {
  return Array.from({ length: rank }, (_, i) => (format === 'channels_last' ? i + 1 : i + 2));
}

/** UpSampling{1,2,3}D: each spatial size times its factor (an unknown size stays unknown). */
function upSamplingRule(rank: 1 | 2 | 3): Rule {
  return (layer, args, input) => {
    const format = rank === 1 ? ok<DataFormat>('channels_last') : readDataFormat(layer, args['data_format']);
    if (!format.ok) return format;
    const size = kerasTuple(layer, 'size', args['size'], rank, false);
    if (!size.ok) return size;
    if (rank === 2) {
      const interpolation = args['interpolation'];
      const allowed = ['nearest', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'];
      if (typeof interpolation !== 'string' || !allowed.includes(interpolation.toLowerCase())) {
        return fail(
          `${layer}: interpolation must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not ` +
            `${formatValue(interpolation ?? null)}.`,
        );
      }
    }
    const rankCheck = checkNdim(layer, input, rank + 2, spatialLayout(rank, format.value));
    if (!rankCheck.ok) return rankCheck;
    const out = [...input];
    spatialAxes(rank, format.value).forEach((axis, i) => {
      out[axis] = mul(input[axis]!, size.value[i]!);
    });
    const dims =
      rank === 2 && (args['interpolation'] as string).toLowerCase() !== 'nearest'
        ? []
        : size.value.map((f) => ({
            kind: 'transposed' as const,
            kernel: f,
            dilation: 1,
            stride: f,
            padBegin: 0,
            padEnd: 0,
            outputPadding: 0,
          }));
    return ok({ output: out, dims, weightShape: null, biasShape: null, params: 0, macs: 0, notes: [] });
  };
}

/**
 * The (begin, end) pairs of ZeroPadding{2,3}D / Cropping{2,3}D: an int for everything, a tuple of `rank`
 * ints (symmetric per dimension), or a tuple of `rank` pairs.
 */
function pairsArg(
  layer: string,
  name: string,
  value: PyValue | undefined,
  rank: number,
): Outcome<Array<[number, number]>> {
  if (isInteger(value ?? null)) {
    const v = value as number;
    if (v < 0) return fail(`${layer}: ${name} cannot be negative, got ${v}.`);
    return ok(Array.from({ length: rank }, () => [v, v] as [number, number]));
  }
  if (!Array.isArray(value) || value.length !== rank) {
    return fail(
      `${layer}: ${name} must be an int, a tuple of ${rank} ints, or a tuple of ${rank} (begin, end) pairs; got ` +
        `${formatValue(value ?? null)}.`,
    );
  }
  const pairs: Array<[number, number]> = [];
  for (const [i, entry] of (value as PyValue[]).entries()) {
    const pair = kerasTuple(layer, `entry ${i + 1} of ${name}`, entry, 2, true);
    if (!pair.ok) return pair;
    pairs.push([pair.value[0]!, pair.value[1]!]);
  }
  return ok(pairs);
}

function padCropRule(rank: 1 | 2 | 3, crop: boolean): Rule {
  return (layer, args, input) => {
    const name = crop ? 'cropping' : 'padding';
    const format = readDataFormat(layer, rank === 1 ? null : args['data_format']);
    if (!format.ok) return format;
    let pairs: Outcome<Array<[number, number]>>;
    if (rank === 1) {
      const pair = kerasTuple(layer, name, args[name], 2, true);
      pairs = pair.ok ? ok([[pair.value[0]!, pair.value[1]!]]) : pair;
    } else pairs = pairsArg(layer, name, args[name], rank);
    if (!pairs.ok) return pairs;
    const rankCheck = checkNdim(layer, input, rank + 2, spatialLayout(rank, format.value));
    if (!rankCheck.ok) return rankCheck;
    const out = [...input];
    const axes = spatialAxes(rank, format.value);
    for (let i = 0; i < rank; i++) {
      const size = input[axes[i]!]!;
      const [begin, end] = pairs.value[i]!;
      if (size === null) continue;
      if (crop && begin + end >= size) {
        return fail(
          `${layer}: cropping (${begin}, ${end}) along axis ${axes[i]} must leave something of the input size ` +
            `${size} (input ${formatDims(input)}); use a total crop of at most ${size - 1}.`,
        );
      }
      out[axes[i]!] = crop ? size - begin - end : size + begin + end;
    }
    const dims = pairs.value.map(([begin, end]) => ({
      kind: 'window' as const,
      kernel: 1,
      dilation: 1,
      stride: 1,
      padBegin: crop ? -begin : begin,
      padEnd: crop ? -end : end,
      ceilMode: false,
    }));
    return ok({ output: out, dims, weightShape: null, biasShape: null, params: 0, macs: 0, notes: [] });
  };
}

/** Global{Average,Max}Pooling{1,2,3}D: the spatial axes are reduced away (kept as 1 with keepdims). */
function globalPoolRule(rank: 1 | 2 | 3): Rule {
  return (layer, args, input) => {
    const format = readDataFormat(layer, args['data_format']);
    if (!format.ok) return format;
    const rankCheck = checkNdim(layer, input, rank + 2, spatialLayout(rank, format.value));
    if (!rankCheck.ok) return rankCheck;
    const axes = spatialAxes(rank, format.value);
    const keep = truthy(args['keepdims']);
    const out = keep
      ? input.map((d, i) => (axes.includes(i) ? 1 : d))
      : input.filter((_, i) => !axes.includes(i));
    return sameShape(out);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Merge layers
// ---------------------------------------------------------------------------------------------------------

/**
 * Add / Multiply / Subtract / Average / Maximum / Minimum (_Merge): known batch sizes must agree; the other
 * axes combine pairwise from the right — equal, or one of them 1 — and an unknown size gives an unknown one.
 */
function elementwiseMerge(
  verb: string,
): (layer: string, args: BoundArgs, inputs: Dim[][]) => Outcome<TensorLayerShape> {
  return (layer, _args, inputs) => {
    const scalar = inputs.findIndex((s) => s.length === 0);
    if (scalar >= 0) return fail(`${layer}: input ${scalar} is 0-D; merge layers need (batch, …) inputs.`);
    const batches = [...new Set(inputs.map((s) => s[0]!).filter((b): b is number => b !== null))];
    if (batches.length > 1) {
      return fail(
        `${layer} cannot merge tensors with different batch sizes: ${inputs.map(formatDims).join(', ')}.`,
      );
    }
    let out: Dim[] = inputs[0]!.slice(1);
    for (let k = 1; k < inputs.length; k++) {
      const next = inputs[k]!.slice(1);
      const [long, short] = out.length >= next.length ? [out, next] : [next, out];
      const merged = long.slice(0, long.length - short.length);
      for (let j = 0; j < short.length; j++) {
        const a = long[long.length - short.length + j]!;
        const b = short[j]!;
        if (a === null || b === null) merged.push(null);
        else if (a === 1) merged.push(b);
        else if (b === 1 || a === b) merged.push(a);
        else {
          return fail(
            `${layer} cannot ${verb} inputs of shapes ${formatDims(inputs[0]!)} and ${formatDims(inputs[k]!)}` +
              `${inputs.length > 2 ? ` (input ${k})` : ''}: ${a} vs ${b}; sizes must be equal, or 1.`,
          );
        }
      }
      out = merged;
    }
    return sameShape([batches.length === 1 ? batches[0]! : null, ...out]);
  };
}

/** Concatenate(axis=-1): same rank, all other axes equal (unknowns match anything), sizes along axis added. */
function concatenateRule(layer: string, args: BoundArgs, inputs: Dim[][]): Outcome<TensorLayerShape> {
  const rank = inputs[0]!.length;
  const odd = inputs.findIndex((s) => s.length !== rank);
  if (odd >= 0) {
    return fail(
      `${layer} needs inputs of the same rank, but input 0 is ${formatDims(inputs[0]!)} and input ${odd} is ` +
        `${formatDims(inputs[odd]!)}.`,
    );
  }
  if (rank === 0) return fail(`${layer} cannot concatenate 0-D inputs.`);
  const axis = normalizeDim(args['axis'] ?? -1, rank, 'axis');
  if (!axis.ok) return fail(`${layer}: ${axis.error}`);
  const out = [...inputs[0]!];
  for (let k = 1; k < inputs.length; k++) {
    for (let j = 0; j < rank; j++) {
      if (j === axis.value) continue;
      const a = out[j]!;
      const b = inputs[k]![j]!;
      if (a !== null && b !== null && a !== b) {
        return fail(
          `${layer} requires inputs with matching shapes except for the concatenation axis ${axis.value}, but ` +
            `${formatDims(inputs[0]!)} and ${formatDims(inputs[k]!)} differ on axis ${j} (${a} vs ${b}).`,
        );
      }
      out[j] = a ?? b;
    }
  }
  const along = inputs.map((s) => s[axis.value]!);
  out[axis.value] = along.some((d) => d === null) ? null : (along as number[]).reduce((a, b) => a + b, 0);
  return sameShape(out);
}

/** Dot(axes): batched dot product of two inputs along one axis each (axes exclude the batch axis 0). */
function dotRule(layer: string, args: BoundArgs, inputs: Dim[][]): Outcome<TensorLayerShape> {
  const [x, y] = inputs as [Dim[], Dim[]];
  const raw = args['axes'];
  const pair = isInteger(raw ?? null) ? [raw as number, raw as number] : raw;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((a) => isInteger(a))) {
    return fail(`${layer}: axes must be an int or a tuple of 2 ints, got ${formatValue(raw ?? null)}.`);
  }
  if (x.length < 2 || y.length < 2) {
    return fail(
      `${layer} needs inputs of at least 2 dimensions (batch, …), got ${formatDims(x)} and ${formatDims(y)}.`,
    );
  }
  const a = normalizeDim(pair[0], x.length, 'axes[0]');
  if (!a.ok) return fail(`${layer}: ${a.error}`);
  const b = normalizeDim(pair[1], y.length, 'axes[1]');
  if (!b.ok) return fail(`${layer}: ${b.error}`);
  if (a.value === 0 || b.value === 0) return fail(`${layer}: axes cannot include the batch axis 0.`);
  const sa = x[a.value]!;
  const sb = y[b.value]!;
  if (sa !== null && sb !== null && sa !== sb) {
    return fail(
      `${layer}: the dot product axes must have the same size, but axis ${a.value} of ${formatDims(x)} is ${sa} ` +
        `and axis ${b.value} of ${formatDims(y)} is ${sb}.`,
    );
  }
  const rest = [
    ...x.slice(1).filter((_, i) => i + 1 !== a.value),
    ...y.slice(1).filter((_, i) => i + 1 !== b.value),
  ];
  return sameShape([x[0] ?? y[0] ?? null, ...(rest.length === 0 ? [1] : rest)]);
}

// ---------------------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------------------

const NORM_INITIALIZERS = [param('beta_initializer', 'zeros'), param('gamma_initializer', 'ones')];

const GLOBAL_POOLS: ReadonlyArray<readonly [string, string]> = [
  ['GlobalAveragePooling', 'average'],
  ['GlobalAvgPool', 'average'],
  ['GlobalMaxPooling', 'max'],
  ['GlobalMaxPool', 'max'],
];

function rankLayers(): TensorLayerDef[] {
  const layers: TensorLayerDef[] = [];
  for (const rank of [1, 2, 3] as const) {
    const d = `${rank}D`;
    layers.push(
      kerasLayer(
        `UpSampling${d}`,
        rank === 1
          ? [param('size', 2)]
          : rank === 2
            ? [param('size', [2, 2]), param('data_format', null), param('interpolation', 'nearest')]
            : [param('size', [2, 2, 2]), param('data_format', null)],
        `Repeats each ${rank === 1 ? 'step' : 'spatial position'} size times: out = in · size.`,
        upSamplingRule(rank),
      ),
      kerasLayer(
        `ZeroPadding${d}`,
        rank === 1
          ? [param('padding', 1), param('data_format', null, true)]
          : [
              param(
                'padding',
                rank === 2
                  ? [1, 1]
                  : [
                      [1, 1],
                      [1, 1],
                      [1, 1],
                    ],
              ),
              param('data_format', null),
            ],
        `Adds zeros before and after each spatial dimension: out = in + begin + end.`,
        padCropRule(rank, false),
      ),
      kerasLayer(
        `Cropping${d}`,
        rank === 1
          ? [param('cropping', [1, 1])]
          : [
              param(
                'cropping',
                rank === 2
                  ? [
                      [0, 0],
                      [0, 0],
                    ]
                  : [
                      [1, 1],
                      [1, 1],
                      [1, 1],
                    ],
              ),
              param('data_format', null),
            ],
        `Removes rows at both ends of each spatial dimension: out = in − begin − end (at least 1).`,
        padCropRule(rank, true),
      ),
      kerasLayer(
        `SpatialDropout${d}`,
        rank === 1
          ? [param('rate'), param('seed', null)]
          : [param('rate'), param('data_format', null), param('seed', null)],
        `Drops whole feature maps with probability rate; shape unchanged.`,
        spatialDropoutRule(rank),
      ),
    );
    for (const [base, kind] of GLOBAL_POOLS) {
      layers.push(
        kerasLayer(
          `${base}${d}`,
          [param('data_format', null), param('keepdims', false)],
          `Global ${kind} pooling over the ${rank} spatial dimension(s): (batch, …, channels) → (batch, channels).`,
          globalPoolRule(rank),
        ),
      );
    }
  }
  return layers;
}

const merge = (
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  counts: { min: number; max: number | null },
  rule: (layer: string, args: BoundArgs, inputs: Dim[][]) => Outcome<TensorLayerShape>,
) =>
  defineMultiInputLayer(
    'keras',
    `keras.layers.${name}`,
    withKwargs(params),
    summary,
    { ...counts, usage: `call it on a list, e.g. ${name}()([a, b])` },
    rule,
  );

/** Keras 3 layers other than conv/pool, each with its real signature plus the standard **kwargs. */
export const kerasModuleLayers: readonly LayerDef[] = [
  kerasLayer(
    'Dense',
    [
      param('units'),
      param('activation', null),
      param('use_bias', true),
      param('kernel_initializer', 'glorot_uniform'),
      param('bias_initializer', 'zeros'),
      param('kernel_regularizer', null),
      param('bias_regularizer', null),
      param('activity_regularizer', null),
      param('kernel_constraint', null),
      param('bias_constraint', null),
      param('lora_rank', null),
      param('lora_alpha', null),
      param('quantization_config', null),
    ],
    'Densely connected layer on the last axis: (batch, …, in) → (batch, …, units); kernel (in, units).',
    denseRule,
  ),
  kerasLayer(
    'Flatten',
    [param('data_format', null)],
    '(batch, …) → (batch, product of the rest).',
    flattenRule,
  ),
  kerasLayer(
    'Reshape',
    [param('target_shape')],
    '(batch, …) → (batch, *target_shape), one -1 inferred.',
    reshapeRule,
  ),
  kerasLayer('Permute', [param('dims')], 'Reorders the non-batch axes; dims is 1-indexed.', permuteRule),
  kerasLayer('RepeatVector', [param('n')], '(batch, features) → (batch, n, features).', repeatVectorRule),
  kerasLayer('Identity', [], 'Returns its input unchanged.', (_l, _a, input) => sameShape(input)),
  kerasLayer(
    'Activation',
    [param('activation')],
    'Applies an activation; shape unchanged.',
    (_l, _a, input) => sameShape(input),
  ),
  kerasLayer(
    'ReLU',
    [param('max_value', null), param('negative_slope', 0.0), param('threshold', 0.0)],
    'Rectified linear unit (optionally capped and leaky); shape unchanged.',
    reluRule,
  ),
  kerasLayer(
    'LeakyReLU',
    [param('negative_slope', 0.3), param('alpha', null, true)],
    'Leaky ReLU; shape unchanged.',
    leakyReluRule,
  ),
  kerasLayer(
    'ELU',
    [param('alpha', 1.0)],
    'Exponential linear unit; shape unchanged.',
    (layer, args, input) => {
      const alpha = numberArg(layer, 'alpha', args['alpha']);
      return alpha.ok ? sameShape(input) : alpha;
    },
  ),
  kerasLayer('Softmax', [param('axis', -1)], 'Softmax along axis; shape unchanged.', softmaxRule),
  kerasLayer(
    'PReLU',
    [
      param('alpha_initializer', 'Zeros'),
      param('alpha_regularizer', null),
      param('alpha_constraint', null),
      param('shared_axes', null),
    ],
    'Leaky ReLU with a learned slope per element (shared along shared_axes); shape unchanged.',
    preluRule,
  ),
  kerasLayer(
    'Dropout',
    [param('rate'), param('noise_shape', null), param('seed', null)],
    'Zeroes inputs with probability rate during training; shape unchanged.',
    dropoutRule,
  ),
  kerasLayer(
    'AlphaDropout',
    [param('rate'), param('noise_shape', null), param('seed', null)],
    'Dropout that keeps SELU self-normalisation; shape unchanged.',
    dropoutRule,
  ),
  kerasLayer(
    'GaussianDropout',
    [param('rate'), param('seed', null)],
    'Multiplicative Gaussian noise; shape unchanged.',
    dropoutRule,
  ),
  kerasLayer(
    'GaussianNoise',
    [param('stddev'), param('seed', null)],
    'Additive Gaussian noise; shape unchanged.',
    (layer, args, input) => {
      const stddev = numberArg(layer, 'stddev', args['stddev'], 0);
      return stddev.ok ? sameShape(input) : stddev;
    },
  ),
  kerasLayer(
    'BatchNormalization',
    [
      param('axis', -1),
      param('momentum', 0.99),
      param('epsilon', 0.001),
      param('center', true),
      param('scale', true),
      ...NORM_INITIALIZERS,
      param('moving_mean_initializer', 'zeros'),
      param('moving_variance_initializer', 'ones'),
      param('beta_regularizer', null),
      param('gamma_regularizer', null),
      param('beta_constraint', null),
      param('gamma_constraint', null),
      param('synchronized', false),
    ],
    'Batch normalisation over axis (channels last by default); shape unchanged.',
    batchNormRule,
  ),
  kerasLayer(
    'LayerNormalization',
    [
      param('axis', -1),
      param('epsilon', 0.001),
      param('center', true),
      param('scale', true),
      param('rms_scaling', false),
      ...NORM_INITIALIZERS,
      param('beta_regularizer', null),
      param('gamma_regularizer', null),
      param('beta_constraint', null),
      param('gamma_constraint', null),
    ],
    'Layer normalisation over axis; shape unchanged.',
    layerNormRule,
  ),
  kerasLayer(
    'GroupNormalization',
    [
      param('groups', 32),
      param('axis', -1),
      param('epsilon', 0.001),
      param('center', true),
      param('scale', true),
      ...NORM_INITIALIZERS,
      param('beta_regularizer', null),
      param('gamma_regularizer', null),
      param('beta_constraint', null),
      param('gamma_constraint', null),
    ],
    'Group normalisation; groups must divide the channel size; shape unchanged.',
    groupNormRule,
  ),
  kerasLayer(
    'Embedding',
    [
      param('input_dim'),
      param('output_dim'),
      param('embeddings_initializer', 'uniform'),
      param('embeddings_regularizer', null),
      param('embeddings_constraint', null),
      param('mask_zero', false),
      param('weights', null),
      param('lora_rank', null),
      param('lora_alpha', null),
    ],
    'Turns integer indices into vectors: (batch, …) → (batch, …, output_dim).',
    embeddingRule,
  ),
  ...rankLayers(),
  merge(
    'Concatenate',
    [param('axis', -1)],
    'Concatenates a list of inputs along axis.',
    { min: 1, max: null },
    concatenateRule,
  ),
  merge('Add', [], 'Adds a list of inputs element-wise.', { min: 1, max: null }, elementwiseMerge('add')),
  merge(
    'Multiply',
    [],
    'Multiplies a list of inputs element-wise.',
    { min: 1, max: null },
    elementwiseMerge('multiply'),
  ),
  merge(
    'Subtract',
    [],
    'Subtracts the second input from the first.',
    { min: 2, max: 2 },
    elementwiseMerge('subtract'),
  ),
  merge(
    'Average',
    [],
    'Averages a list of inputs element-wise.',
    { min: 1, max: null },
    elementwiseMerge('average'),
  ),
  merge(
    'Maximum',
    [],
    'Element-wise maximum of a list of inputs.',
    { min: 1, max: null },
    elementwiseMerge('take the maximum of'),
  ),
  merge(
    'Minimum',
    [],
    'Element-wise minimum of a list of inputs.',
    { min: 1, max: null },
    elementwiseMerge('take the minimum of'),
  ),
  merge(
    'Dot',
    [param('axes'), param('normalize', false)],
    'Batched dot product of two inputs along the given axes.',
    { min: 2, max: 2 },
    dotRule,
  ),
];

/** Activation names `Activation(...)`, `activation=` and keras.activations / keras.ops functions accept; all keep the shape. */
export const kerasPassThroughFunctions: readonly string[] = [
  'relu',
  'relu6',
  'leaky_relu',
  'elu',
  'selu',
  'celu',
  'gelu',
  'silu',
  'swish',
  'hard_silu',
  'hard_swish',
  'mish',
  'sigmoid',
  'hard_sigmoid',
  'log_sigmoid',
  'tanh',
  'hard_tanh',
  'softplus',
  'softsign',
  'softmax',
  'log_softmax',
  'exponential',
  'linear',
].flatMap((name) => [`keras.activations.${name}`, `keras.ops.${name}`]);
