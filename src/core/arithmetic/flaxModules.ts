/**
 * Flax linen modules around the convolutions: Dense, DenseGeneral, Embed, the normalisation layers and
 * Dropout. Flax is channels-last and builds its parameters from the first input, so features come from the
 * input's last axis. Every rule works on partly-known shapes (../tensor/ops.ts).
 *
 * Sources: flax/linen/linear.py (Dense, DenseGeneral: kernel batch_shape + axis sizes + features, output the
 * remaining axes + features; Embed in flax/linen/linear.py), flax/linen/normalization.py (BatchNorm, LayerNorm,
 * RMSNorm, GroupNorm, InstanceNorm: parameter shapes from _normalize's feature axes; GroupNorm's
 * num_groups / group_size checks), flax/linen/stochastic.py (Dropout). Field order is the dataclass order.
 */
import { formatValue, isInteger, product } from './args';
import type { BoundArgs, LayerDef, ParamSpec, PyValue } from './types';
import { fail, ok, type Outcome } from './types';
import {
  type Dim,
  defineTensorLayer,
  formatDims,
  intArg,
  normalizeDims,
  productOf,
  sameShape,
  type TensorLayerDef,
  type TensorLayerShape,
} from '../tensor/ops';

/** parent and name are keyword-only fields every linen Module has. */
const MODULE_FIELDS: readonly ParamSpec[] = [
  { name: 'parent', default: null, keywordOnly: true },
  { name: 'name', default: null, keywordOnly: true },
];

const field = (name: string, defaultValue?: PyValue): ParamSpec =>
  defaultValue === undefined ? { name } : { name, default: defaultValue };

const flaxLayer = (
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  rule: (layer: string, args: BoundArgs, input: Dim[]) => Outcome<TensorLayerShape>,
): TensorLayerDef =>
  defineTensorLayer('flax', `flax.linen.${name}`, [...params, ...MODULE_FIELDS], summary, rule);

function truthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

function mul(...dims: Dim[]): Dim {
  const total = productOf(dims);
  return total.ok ? total.value : null;
}

/** A parameter tensor of these sizes, counted only when every size is known. */
function countOf(shape: Dim[] | null): Dim {
  if (shape === null) return 0;
  return shape.some((d) => d === null) ? null : mul(...shape);
}

function sum(...counts: Dim[]): Dim {
  return counts.some((c) => c === null) ? null : (counts as number[]).reduce((a, b) => a + b, 0);
}

function divisors(n: number): number[] {
  const result: number[] = [];
  for (let d = 1; d <= n && result.length < 16; d++) if (n % d === 0) result.push(d);
  return result;
}

/** features: int, or (DenseGeneral) a tuple of ints. */
function featuresArg(layer: string, value: PyValue | undefined, tuple: boolean): Outcome<number[]> {
  const list = tuple && Array.isArray(value) ? (value as PyValue[]) : [value ?? null];
  if (list.length === 0 || !list.every((f) => isInteger(f) && f >= 1 && f <= 2 ** 31)) {
    return fail(
      `${layer}: features must be a positive integer${tuple ? ' or a tuple of them' : ''}, got ` +
        `${formatValue(value ?? null)}.`,
    );
  }
  return ok(list as number[]);
}

/** Dense: kernel (in, features) with in = the input's last size; output (…, features). */
function denseRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const features = featuresArg(layer, args['features'], false);
  if (!features.ok) return features;
  const f = features.value[0]!;
  if (input.length === 0) return fail(`${layer} needs an input with at least one dimension (…, features).`);
  const inDim = input[input.length - 1]!;
  const bias = truthy(args['use_bias']);
  const kernel: Dim[] = [inDim, f];
  return ok({
    output: [...input.slice(0, -1), f],
    dims: [],
    weightShape: kernel,
    biasShape: bias ? [f] : null,
    params: sum(countOf(kernel), bias ? f : 0),
    macs: inDim === null ? null : mul(...input.slice(0, -1), inDim, f),
    notes: [],
  });
}

/**
 * DenseGeneral(features, axis=-1, batch_dims=()): contracts the `axis` dims with a kernel of shape
 * batch sizes + axis sizes + features; the output keeps the other dims in order and appends features.
 * batch_dims must be consecutive leading dims starting at 0. Axes are sorted after normalising, as
 * _normalize_axes does.
 */
function denseGeneralRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const features = featuresArg(layer, args['features'], true);
  if (!features.ok) return features;
  const axes = normalizeDims(args['axis'] ?? -1, input.length, 'axis');
  if (!axes.ok) return fail(`${layer}: ${axes.error}`);
  const rawBatch = args['batch_dims'] ?? [];
  const batchList = isInteger(rawBatch) ? [rawBatch] : rawBatch;
  if (!Array.isArray(batchList) || !batchList.every((b) => isInteger(b))) {
    return fail(`${layer}: batch_dims must be a tuple of ints, got ${formatValue(rawBatch)}.`);
  }
  const batchSorted = [...(batchList as number[])].sort((a, b) => a - b);
  if (batchSorted.some((b, i) => b !== i)) {
    return fail(
      `${layer}: batch_dims ${formatValue(rawBatch)} must be consecutive leading dimensions starting from 0.`,
    );
  }
  const batch = normalizeDims(batchSorted, input.length, 'batch_dims');
  if (!batch.ok) return fail(`${layer}: ${batch.error}`);
  const contracted = [...axes.value].sort((a, b) => a - b);
  const overlap = contracted.find((a) => batch.value.includes(a));
  if (overlap !== undefined) return fail(`${layer}: axis ${overlap} cannot also be a batch dimension.`);
  const batchShape = batch.value.map((b) => input[b]!);
  const kernel = [...batchShape, ...contracted.map((a) => input[a]!), ...features.value];
  const kept = input.filter((_, i) => !contracted.includes(i));
  const bias = truthy(args['use_bias']);
  const biasShape = bias ? [...batchShape, ...features.value] : null;
  return ok({
    output: [...kept, ...features.value],
    dims: [],
    weightShape: kernel,
    biasShape,
    params: sum(countOf(kernel), countOf(biasShape)),
    macs: mul(...input, product(features.value)),
    notes: [],
  });
}

/** Embed(num_embeddings, features): integer indices of any shape → that shape + (features,). */
function embedRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const count = intArg(layer, 'num_embeddings', args['num_embeddings'], 1);
  if (!count.ok) return count;
  const features = intArg(layer, 'features', args['features'], 1);
  if (!features.ok) return features;
  return ok({
    output: [...input, features.value],
    dims: [],
    weightShape: [count.value, features.value],
    biasShape: null,
    params: count.value * features.value,
    macs: 0,
    notes: [],
  });
}

/** scale and bias of the feature axes' sizes (flax.linen.normalization._normalize). */
function normalized(
  input: Dim[],
  featureAxes: number[],
  scale: boolean,
  bias: boolean,
  notes: string[] = [],
): Outcome<TensorLayerShape> {
  const shape = featureAxes.map((a) => input[a]!);
  const each = countOf(shape);
  return ok({
    output: [...input],
    dims: [],
    weightShape: scale ? shape : null,
    biasShape: bias ? shape : null,
    params: sum(scale ? each : 0, bias ? each : 0),
    macs: 0,
    notes,
  });
}

function axesArg(layer: string, value: PyValue | undefined, input: Dim[], name: string): Outcome<number[]> {
  const axes = normalizeDims(value ?? -1, input.length, name);
  return axes.ok ? axes : fail(`${layer}: ${axes.error}`);
}

function batchNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const axes = axesArg(layer, args['axis'], input, 'axis');
  if (!axes.ok) return axes;
  const size = countOf(axes.value.map((a) => input[a]!));
  return normalized(input, axes.value, truthy(args['use_scale']), truthy(args['use_bias']), [
    `Plus the batch_stats collection: mean and var of ${size ?? 'the feature'} size each (not trained).`,
  ]);
}

function layerNormRule(rms: boolean) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const reduction = axesArg(layer, args['reduction_axes'], input, 'reduction_axes');
    if (!reduction.ok) return reduction;
    const features = axesArg(layer, args['feature_axes'], input, 'feature_axes');
    if (!features.ok) return features;
    return normalized(input, features.value, truthy(args['use_scale']), !rms && truthy(args['use_bias']));
  };
}

/**
 * GroupNorm: exactly one of num_groups and group_size; the channels (last axis) must be a multiple of
 * group_size, and num_groups must divide them.
 */
function groupNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const numGroups = args['num_groups'] ?? null;
  const groupSize = args['group_size'] ?? null;
  if ((numGroups === null) === (groupSize === null)) {
    return fail(
      `${layer}: give exactly one of num_groups and group_size (to use group_size, also pass num_groups=None to ` +
        `override the default of 32).`,
    );
  }
  if (input.length < 1) return fail(`${layer} needs an input with a channel axis (…, C).`);
  const channels = input[input.length - 1]!;
  let groups: number | null;
  if (groupSize !== null) {
    const size = intArg(layer, 'group_size', groupSize, 1);
    if (!size.ok) return size;
    if (channels !== null && channels % size.value !== 0) {
      return fail(
        `${layer}: the number of channels (${channels}) is not a multiple of group_size (${size.value}). Valid ` +
          `group sizes: ${divisors(channels).join(', ')}.`,
      );
    }
    groups = channels === null ? null : channels / size.value;
  } else {
    const count = intArg(layer, 'num_groups', numGroups, 1);
    if (!count.ok) return count;
    groups = count.value;
  }
  if (channels !== null && groups !== null && channels % groups !== 0) {
    return fail(
      `${layer}: num_groups (${groups}) does not divide the number of channels (${channels}) of ${formatDims(input)}. ` +
        `Valid num_groups: ${divisors(channels).join(', ')}.`,
    );
  }
  return normalized(input, [input.length - 1], truthy(args['use_scale']), truthy(args['use_bias']));
}

function instanceNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const features = axesArg(layer, args['feature_axes'], input, 'feature_axes');
  if (!features.ok) return features;
  if (features.value.includes(0)) {
    return fail(`${layer}: feature_axes cannot include the leading (batch) axis 0.`);
  }
  return normalized(input, features.value, truthy(args['use_scale']), truthy(args['use_bias']));
}

function dropoutRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const rate = args['rate'];
  if (typeof rate !== 'number' || Number.isNaN(rate)) {
    return fail(`${layer}: rate must be a number between 0 and 1, got ${formatValue(rate ?? null)}.`);
  }
  const notes =
    rate < 0 || rate > 1
      ? [`${layer}: rate ${rate} is outside [0, 1]; Flax does not check it, but it is not a probability.`]
      : [];
  return sameShape(input, notes);
}

const DTYPES: readonly ParamSpec[] = [field('dtype', null), field('param_dtype', 'float32')];
const NORM_TAIL: readonly ParamSpec[] = [
  field('axis_name', null),
  field('axis_index_groups', null),
  field('use_fast_variance', true),
  field('force_float32_reductions', true),
];
const SCALE_BIAS: readonly ParamSpec[] = [
  field('use_bias', true),
  field('use_scale', true),
  field('bias_init', 'zeros'),
  field('scale_init', 'ones'),
];

/** flax.linen modules other than Conv/ConvTranspose, with their dataclass fields in order. */
export const flaxModuleLayers: readonly LayerDef[] = [
  flaxLayer(
    'Dense',
    [
      field('features'),
      field('use_bias', true),
      ...DTYPES,
      field('precision', null),
      field('kernel_init', 'lecun_normal'),
      field('bias_init', 'zeros'),
      field('dot_general', null),
      field('dot_general_cls', null),
    ],
    'Linear map on the last axis: (…, in) → (…, features); kernel (in, features).',
    denseRule,
  ),
  flaxLayer(
    'DenseGeneral',
    [
      field('features'),
      field('axis', -1),
      field('batch_dims', []),
      field('use_bias', true),
      ...DTYPES,
      field('kernel_init', 'lecun_normal'),
      field('bias_init', 'zeros'),
      field('precision', null),
      field('dot_general', null),
      field('dot_general_cls', null),
    ],
    'Linear map over several axes: the axis dims are replaced by features (appended last).',
    denseGeneralRule,
  ),
  flaxLayer(
    'Embed',
    [field('num_embeddings'), field('features'), ...DTYPES, field('embedding_init', 'variance_scaling')],
    'Looks up integer indices: any index shape → that shape + (features,).',
    embedRule,
  ),
  flaxLayer(
    'BatchNorm',
    [
      field('use_running_average', null),
      field('axis', -1),
      field('momentum', 0.99),
      field('epsilon', 1e-5),
      ...DTYPES,
      ...SCALE_BIAS,
      ...NORM_TAIL,
    ],
    'Batch normalisation over the feature axis (last by default); shape unchanged.',
    batchNormRule,
  ),
  flaxLayer(
    'LayerNorm',
    [
      field('epsilon', 1e-6),
      ...DTYPES,
      ...SCALE_BIAS,
      field('reduction_axes', -1),
      field('feature_axes', -1),
      ...NORM_TAIL,
    ],
    'Layer normalisation; scale and bias over feature_axes; shape unchanged.',
    layerNormRule(false),
  ),
  flaxLayer(
    'RMSNorm',
    [
      field('epsilon', 1e-6),
      ...DTYPES,
      field('use_scale', true),
      field('scale_init', 'ones'),
      field('reduction_axes', -1),
      field('feature_axes', -1),
      ...NORM_TAIL,
    ],
    'RMS layer normalisation; a scale over feature_axes; shape unchanged.',
    layerNormRule(true),
  ),
  flaxLayer(
    'GroupNorm',
    [
      field('num_groups', 32),
      field('group_size', null),
      field('epsilon', 1e-6),
      ...DTYPES,
      ...SCALE_BIAS,
      field('reduction_axes', null),
      ...NORM_TAIL,
    ],
    'Group normalisation over the channels (last axis); num_groups must divide them.',
    groupNormRule,
  ),
  flaxLayer(
    'InstanceNorm',
    [field('epsilon', 1e-6), ...DTYPES, ...SCALE_BIAS, field('feature_axes', -1), ...NORM_TAIL],
    'Instance normalisation per sample and feature; shape unchanged.',
    instanceNormRule,
  ),
  flaxLayer(
    'Dropout',
    [
      field('rate'),
      field('broadcast_dims', []),
      field('deterministic', null),
      field('rng_collection', 'dropout'),
    ],
    'Zeroes inputs with probability rate unless deterministic; shape unchanged.',
    dropoutRule,
  ),
];

/**
 * Functions that keep the shape of their input: flax.linen re-exports of jax.nn activations, the jax.nn
 * originals and element-wise jax.numpy functions. (nn.glu halves an axis and nn.one_hot adds one; they are
 * not pass-through.)
 */
export const flaxPassThroughFunctions: readonly string[] = [
  ...[
    'relu',
    'relu6',
    'leaky_relu',
    'elu',
    'selu',
    'celu',
    'gelu',
    'silu',
    'swish',
    'sigmoid',
    'hard_sigmoid',
    'hard_silu',
    'hard_swish',
    'hard_tanh',
    'log_sigmoid',
    'soft_sign',
    'softplus',
    'tanh',
    'softmax',
    'log_softmax',
    'standardize',
    'normalize',
    'mish',
  ].flatMap((name) => [`flax.linen.${name}`, `jax.nn.${name}`]),
  ...['tanh', 'exp', 'log', 'abs', 'sqrt', 'square', 'clip', 'sin', 'cos', 'negative'].map(
    (name) => `jax.numpy.${name}`,
  ),
];
