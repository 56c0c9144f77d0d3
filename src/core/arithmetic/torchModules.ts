/**
 * PyTorch torch.nn layers around the convolutions: Linear and friends, flattening, dropout, normalisation,
 * activations, upsampling, pixel shuffles, padding layers, Embedding, Fold/Unfold and ChannelShuffle. Each
 * rule works on shapes with unknown sizes (see ../tensor/ops.ts) and checks what PyTorch checks, in its
 * order, with messages that say what would be valid.
 *
 * Sources (PyTorch 2.x): torch/nn/modules/linear.py, flatten.py, dropout.py + functional.py (dropout1d/2d/3d),
 * batchnorm.py (_check_input_dim), instancenorm.py (_check_input_dim, forward's feature-dim check) +
 * functional.py (instance_norm's _verify_spatial_size), normalization.py (LayerNorm, GroupNorm,
 * LocalResponseNorm) + functional.py (layer_norm, group_norm, local_response_norm), activation.py
 * (signatures; PReLU's channel rule from aten/src/ATen/native/Activation.cpp, GLU's from GatedLinearUnit.cpp,
 * softmax's implicit dim from functional.py _get_softmax_dim), upsampling.py + functional.py interpolate,
 * pixelshuffle.py + aten/src/ATen/native/PixelShuffle.cpp, padding.py + PadNd.cpp, sparse.py (Embedding),
 * fold.py + aten/src/ATen/native/im2col_shape_check.h, channelshuffle.py + ChanelShuffle.cpp.
 */
import { formatValue, isInteger, perDimension, product } from './args';
import type { BoundArgs, DimRule, LayerDef, ParamSpec, PyValue } from './types';
import { fail, ok, type Outcome } from './types';
import {
  type Dim,
  defineMultiInputLayer,
  defineTensorLayer,
  flatten,
  formatDims,
  intArg,
  intListArg,
  interpolate,
  normalizeDim,
  numberArg,
  pad,
  productOf,
  sameShape,
  type TensorLayerDef,
  type TensorLayerShape,
  unflatten,
} from '../tensor/ops';

const p = (name: string, defaultValue?: PyValue, keywordOnly = false): ParamSpec => ({
  name,
  ...(defaultValue === undefined ? {} : { default: defaultValue }),
  ...(keywordOnly ? { keywordOnly } : {}),
});

/** device=None, dtype=None: the factory kwargs every layer with weights takes last. */
const FACTORY: readonly ParamSpec[] = [p('device', null), p('dtype', null)];

type Rank = 1 | 2 | 3;
const RANKS: readonly Rank[] = [1, 2, 3];

const torchLayer = (
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  rule: (layer: string, args: BoundArgs, input: Dim[]) => Outcome<TensorLayerShape>,
): TensorLayerDef => defineTensorLayer('pytorch', `torch.nn.${name}`, params, summary, rule);

/** Multiplies possibly-unknown sizes (0 wins over unknown); null when unknown, or on overflow. */
function mul(...dims: Dim[]): Dim {
  const total = productOf(dims);
  return total.ok ? total.value : null;
}

function ranksText(ranks: readonly number[]): string {
  const items = ranks.map((r) => `${r}-D`);
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Refuses an input whose rank is not one of `ranks`, with the layout the layer expects. */
function checkRank(layer: string, input: Dim[], ranks: readonly number[], layout: string): Outcome<true> {
  if (ranks.includes(input.length)) return ok(true);
  const hint = input.length === Math.min(...ranks) - 1 ? ' Add the batch dimension with x.unsqueeze(0).' : '';
  return fail(
    `${layer} expects a ${ranksText(ranks)} input ${layout}, but got a ${input.length}-D input ` +
      `${formatDims(input)}.${hint}`,
  );
}

function truthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

// ---------------------------------------------------------------------------------------------------------
// Linear layers
// ---------------------------------------------------------------------------------------------------------

/**
 * Linear: y = x·Wᵀ + b over the last dimension. in_features must equal the input's last size; the weight is
 * (out_features, in_features). MACs = (elements of the input / in_features) · in_features · out_features.
 */
function linearRule(layer: string, args: BoundArgs, input: Dim[], lazy: boolean): Outcome<TensorLayerShape> {
  const outFeatures = intArg(layer, 'out_features', args['out_features'], 0);
  if (!outFeatures.ok) return outFeatures;
  let inFeatures: Dim;
  if (lazy) inFeatures = input.length > 0 ? input[input.length - 1]! : null;
  else {
    const read = intArg(layer, 'in_features', args['in_features'], 0);
    if (!read.ok) return read;
    inFeatures = read.value;
  }
  const bias = truthy(args['bias']);
  if (input.length === 0) {
    return fail(
      `${layer} needs an input with at least one dimension (…, in_features), but got a 0-D tensor.`,
    );
  }
  const last = input[input.length - 1]!;
  if (!lazy && last !== null && last !== inFeatures) {
    return fail(
      `${layer} expects the input's last dimension to be in_features=${inFeatures}, but the input ` +
        `${formatDims(input)} has ${last} there. Set in_features=${last}, or reshape the input so its last ` +
        `dimension is ${inFeatures}.`,
    );
  }
  const out = outFeatures.value;
  const notes: string[] = [];
  if (input.length >= 4) {
    notes.push(
      `${layer} acts on the last dimension only (size ${last ?? 'None'}); the other ${input.length - 1} dimensions ` +
        `pass through. Flatten first (nn.Flatten() or x.flatten(1)) if you meant all features of each sample.`,
    );
  }
  const rows = mul(...input.slice(0, -1));
  return ok({
    output: [...input.slice(0, -1), out],
    dims: [],
    weightShape: [out, inFeatures],
    biasShape: bias ? [out] : null,
    params: inFeatures === null ? null : inFeatures * out + (bias ? out : 0),
    macs: inFeatures === null ? null : mul(rows, inFeatures, out),
    notes,
  });
}

/** Bilinear: y = x1ᵀ·A·x2 + b; both inputs share their leading dimensions; weight (out, in1, in2). */
function bilinearRule(layer: string, args: BoundArgs, inputs: Dim[][]): Outcome<TensorLayerShape> {
  const in1 = intArg(layer, 'in1_features', args['in1_features'], 0);
  if (!in1.ok) return in1;
  const in2 = intArg(layer, 'in2_features', args['in2_features'], 0);
  if (!in2.ok) return in2;
  const out = intArg(layer, 'out_features', args['out_features'], 0);
  if (!out.ok) return out;
  const [x1, x2] = inputs as [Dim[], Dim[]];
  if (x1.length === 0 || x2.length === 0) return fail(`${layer} needs inputs with at least one dimension.`);
  const checks: Array<[Dim[], number, string]> = [
    [x1, in1.value, 'in1_features'],
    [x2, in2.value, 'in2_features'],
  ];
  for (const [x, expected, name] of checks) {
    const last = x[x.length - 1]!;
    if (last !== null && last !== expected) {
      return fail(
        `${layer} expects the last dimension of input ${name === 'in1_features' ? 1 : 2} ${formatDims(x)} to be ` +
          `${name}=${expected}, but it is ${last}. Set ${name}=${last}.`,
      );
    }
  }
  const lead1 = x1.slice(0, -1);
  const lead2 = x2.slice(0, -1);
  const lead: Dim[] = [];
  const mismatch =
    lead1.length !== lead2.length ||
    lead1.some((d, i) => {
      const e = lead2[i]!;
      lead.push(d ?? e);
      return d !== null && e !== null && d !== e;
    });
  if (mismatch) {
    return fail(
      `${layer}: the inputs ${formatDims(x1)} and ${formatDims(x2)} must have the same leading (batch) ` +
        `dimensions; only the last dimension may differ.`,
    );
  }
  const bias = truthy(args['bias']);
  const o = out.value;
  return ok({
    output: [...lead, o],
    dims: [],
    weightShape: [o, in1.value, in2.value],
    biasShape: bias ? [o] : null,
    params: o * in1.value * in2.value + (bias ? o : 0),
    macs: mul(mul(...lead), in1.value, in2.value, o),
    notes: [],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Shape-only layers
// ---------------------------------------------------------------------------------------------------------

function flattenRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const start = args['start_dim'];
  const end = args['end_dim'];
  if (!isInteger(start ?? null) || !isInteger(end ?? null)) {
    return fail(
      `${layer}: start_dim and end_dim must be integers, not ${formatValue(start ?? null)}, ${formatValue(end ?? null)}.`,
    );
  }
  const out = flatten(input, start as number, end as number);
  if (!out.ok) return fail(`${layer}: ${out.error}`);
  return sameShape(out.value);
}

function unflattenRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const dim = args['dim'];
  const sizes = args['unflattened_size'];
  if (!isInteger(dim ?? null))
    return fail(`${layer}: dim must be an integer, not ${formatValue(dim ?? null)}.`);
  if (!Array.isArray(sizes) || !sizes.every((s) => isInteger(s))) {
    return fail(`${layer}: unflattened_size must be a tuple of integers, not ${formatValue(sizes ?? null)}.`);
  }
  const out = unflatten(input, dim as number, sizes as number[]);
  if (!out.ok) return fail(`${layer}: ${out.error}`);
  return sameShape(out.value);
}

// ---------------------------------------------------------------------------------------------------------
// Dropout
// ---------------------------------------------------------------------------------------------------------

/** _DropoutNd.__init__: p must lie in [0, 1]. */
function dropoutP(layer: string, args: BoundArgs): Outcome<number> {
  const probability = args['p'];
  if (typeof probability !== 'number' || Number.isNaN(probability)) {
    return fail(`${layer}: p must be a number between 0 and 1, not ${formatValue(probability ?? null)}.`);
  }
  if (probability < 0 || probability > 1) {
    return fail(`${layer}: the dropout probability p must be between 0 and 1, but got ${probability}.`);
  }
  return ok(probability);
}

/**
 * Channel-wise dropout. Dropout1d refuses anything but 2-D/3-D (F.dropout1d); Dropout2d and Dropout3d only
 * warn about other ranks (F.dropout2d/3d), and their feature-dropout kernel needs at least 2 dimensions when
 * training.
 */
function dropoutRule(kind: 'plain' | 1 | 2 | 3 | 'feature') {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const probability = dropoutP(layer, args);
    if (!probability.ok) return probability;
    if (kind === 1) {
      const rank = checkRank(layer, input, [2, 3], '(N, C, L) or (C, L)');
      if (!rank.ok) return rank;
      return sameShape(input);
    }
    if (kind === 'plain') return sameShape(input);
    if (input.length < 2) {
      return fail(
        `${layer} zeroes whole channels and needs at least 2 dimensions (N, C, …) in training, but got a ` +
          `${input.length}-D input ${formatDims(input)}.`,
      );
    }
    const notes: string[] = [];
    if (kind === 2 && input.length === 3) {
      notes.push(
        `${layer} received a 3-D input ${formatDims(input)}: PyTorch warns and treats it as (N, C, L), dropping ` +
          `1-D channels; use Dropout1d for that, or add the batch dimension for (C, H, W) images.`,
      );
    } else if (kind === 2 && input.length !== 4) {
      notes.push(
        `${layer} expects (N, C, H, W) or (C, H, W); PyTorch warns about a ${input.length}-D input.`,
      );
    } else if (kind === 3 && input.length !== 4 && input.length !== 5) {
      notes.push(
        `${layer} expects (N, C, D, H, W) or (C, D, H, W); PyTorch warns about a ${input.length}-D input.`,
      );
    }
    return sameShape(input, notes);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------

/** A learned per-channel scale and shift: weight (C,), bias (C,) when affine. */
function affineShape(
  input: Dim[],
  channels: number,
  affine: boolean,
  notes: string[],
  withBias = true,
): Outcome<TensorLayerShape> {
  return ok({
    output: [...input],
    dims: [],
    weightShape: affine ? [channels] : null,
    biasShape: affine && withBias ? [channels] : null,
    params: affine ? channels * (withBias ? 2 : 1) : 0,
    macs: 0,
    notes,
  });
}

/**
 * BatchNorm{1,2,3}d: 1d takes (N, C) or (N, C, L), 2d (N, C, H, W), 3d (N, C, D, H, W); the channel size
 * (dim 1) must equal num_features. Training with one value per channel fails in PyTorch ("Expected more than
 * 1 value per channel when training"); eval mode is fine, so that is a note.
 */
function batchNormRule(rank: Rank) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const features = intArg(layer, 'num_features', args['num_features'], 0);
    if (!features.ok) return features;
    const layouts = { 1: '(N, C) or (N, C, L)', 2: '(N, C, H, W)', 3: '(N, C, D, H, W)' } as const;
    const ranks = rank === 1 ? [2, 3] : [rank + 2];
    const checked = checkRank(layer, input, ranks, layouts[rank]);
    if (!checked.ok) return checked;
    const channels = input[1]!;
    if (channels !== null && channels !== features.value) {
      return fail(
        `${layer}(num_features=${features.value}) got an input with ${channels} channels (dimension 1 of ` +
          `${formatDims(input)}). Set num_features=${channels}.`,
      );
    }
    const notes: string[] = [];
    const perChannel = mul(input[0]!, ...input.slice(2));
    if (perChannel === 1) {
      notes.push(
        `${layer} sees one value per channel for ${formatDims(input)}: in training mode PyTorch raises ` +
          `"Expected more than 1 value per channel when training"; use a batch larger than 1 or model.eval().`,
      );
    }
    return affineShape(input, features.value, truthy(args['affine']), notes);
  };
}

/**
 * InstanceNorm{1,2,3}d: (N, C, …) or unbatched (C, …). The channel size must equal num_features when affine
 * (otherwise PyTorch only warns). Statistics come from the input unless track_running_stats is set in eval
 * mode, and then each channel needs more than one spatial element.
 */
function instanceNormRule(rank: Rank) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const features = intArg(layer, 'num_features', args['num_features'], 0);
    if (!features.ok) return features;
    const spatial = ['L', 'H, W', 'D, H, W'][rank - 1];
    const checked = checkRank(layer, input, [rank + 1, rank + 2], `(N, C, ${spatial}) or (C, ${spatial})`);
    if (!checked.ok) return checked;
    const channelDim = input.length - rank - 1;
    const channels = input[channelDim]!;
    const affine = truthy(args['affine']);
    const notes: string[] = [];
    if (channels !== null && channels !== features.value) {
      if (affine) {
        return fail(
          `${layer}(num_features=${features.value}, affine=True) got an input with ${channels} channels ` +
            `(dimension ${channelDim} of ${formatDims(input)}). Set num_features=${channels}.`,
        );
      }
      notes.push(
        `${layer}(num_features=${features.value}) got ${channels} channels; without affine PyTorch only warns, ` +
          `but num_features=${channels} says what is meant.`,
      );
    }
    const spatialElements = mul(...input.slice(channelDim + 1));
    if (spatialElements === 1) {
      const message =
        `${layer} normalises each channel over its spatial elements, but ${formatDims(input)} has only one per ` +
        `channel ("Expected more than 1 spatial element when training")`;
      if (!truthy(args['track_running_stats'])) return fail(`${message}.`);
      notes.push(`${message}; it works only in eval mode with the running statistics.`);
    }
    return affineShape(input, features.value, affine, notes);
  };
}

/** LayerNorm: the input must end in normalized_shape; weight and bias have that shape. */
function layerNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const shape = intListArg(layer, 'normalized_shape', args['normalized_shape'], 0);
  if (!shape.ok) return shape;
  const normalized = shape.value;
  const trailing = input.slice(Math.max(0, input.length - normalized.length));
  const matches =
    input.length >= normalized.length && trailing.every((size, i) => size === null || size === normalized[i]);
  if (!matches) {
    const written = normalized.length === 1 ? String(normalized[0]) : formatValue(normalized);
    const suggestion =
      input.length >= normalized.length && trailing.every((d) => d !== null)
        ? ` Set normalized_shape=${trailing.length === 1 ? String(trailing[0]) : formatValue(trailing as number[])}` +
          (normalized.length > 1 && input[input.length - 1] !== null
            ? ` (or normalized_shape=${input[input.length - 1]} to normalise the last dimension only).`
            : '.')
        : '';
    return fail(
      `${layer}(normalized_shape=${written}) expects an input ending in ${formatDims(normalized)}, but got ` +
        `${formatDims(input)}.${suggestion}`,
    );
  }
  const affine = truthy(args['elementwise_affine']);
  const withBias = affine && truthy(args['bias']);
  const size = product(normalized);
  return ok({
    output: [...input],
    dims: [],
    weightShape: affine ? [...normalized] : null,
    biasShape: withBias ? [...normalized] : null,
    params: affine ? size * (withBias ? 2 : 1) : 0,
    macs: 0,
    notes: [],
  });
}

function divisors(n: number): number[] {
  const result: number[] = [];
  for (let d = 1; d <= n && result.length < 16; d++) if (n % d === 0) result.push(d);
  return result;
}

/** GroupNorm: num_groups divides num_channels (checked at construction); the input's dim 1 is num_channels. */
function groupNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const groups = intArg(layer, 'num_groups', args['num_groups'], 1);
  if (!groups.ok) return groups;
  const channels = intArg(layer, 'num_channels', args['num_channels'], 0);
  if (!channels.ok) return channels;
  if (channels.value % groups.value !== 0) {
    return fail(
      `${layer}: num_channels (${channels.value}) must be divisible by num_groups (${groups.value}). Valid ` +
        `num_groups for ${channels.value} channels: ${divisors(channels.value).join(', ')}.`,
    );
  }
  if (input.length < 2) {
    return fail(
      `${layer} expects an input of at least 2 dimensions (N, C, …), but got ${formatDims(input)}.`,
    );
  }
  const c = input[1]!;
  if (c !== null && c !== channels.value) {
    return fail(
      `${layer}(num_groups=${groups.value}, num_channels=${channels.value}) got an input with ${c} channels ` +
        `(dimension 1 of ${formatDims(input)}). Set num_channels=${c}` +
        (c % groups.value === 0 ? '.' : ` and a num_groups that divides it (${divisors(c).join(', ')}).`),
    );
  }
  // F.group_norm's _verify_batch_size([N·C/G, G, *spatial]): statistics need more than one value per group.
  const perGroup = mul(input[0]!, channels.value / groups.value, ...input.slice(2));
  if (perGroup === 1) {
    return fail(
      `${layer}: each of the ${groups.value} groups of ${formatDims(input)} holds a single value (batch 1, one ` +
        `channel per group, no spatial extent), so there are no statistics to normalise with; use fewer groups ` +
        `or a larger input.`,
    );
  }
  return affineShape(input, channels.value, truthy(args['affine']), []);
}

function localResponseNormRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const size = intArg(layer, 'size', args['size'], 1);
  if (!size.ok) return size;
  if (input.length < 3) {
    return fail(
      `${layer} expects a 3-D or higher input (N, C, …), but got a ${input.length}-D input ${formatDims(input)}.`,
    );
  }
  return sameShape(input);
}

// ---------------------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------------------

/** An element-wise activation: any shape, unchanged. `check` validates its arguments. */
function activation(check?: (layer: string, args: BoundArgs) => Outcome<true>) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    if (check) {
      const valid = check(layer, args);
      if (!valid.ok) return valid;
    }
    return sameShape(input);
  };
}

const numbers =
  (...names: string[]) =>
  (layer: string, args: BoundArgs): Outcome<true> => {
    for (const name of names) {
      const value = numberArg(layer, name, args[name]);
      if (!value.ok) return value;
    }
    return ok(true);
  };

/** Softmax / LogSoftmax / Softmin: dim None picks 0 for 0-, 1- and 3-D inputs, else 1, with a warning. */
function softmaxRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const dim = args['dim'] ?? null;
  if (dim === null) {
    const implicit = [0, 1, 3].includes(input.length) ? 0 : 1;
    return sameShape(input, [
      `${layer}() without dim: PyTorch picks dim=${implicit} for a ${input.length}-D input and warns that the ` +
        `implicit choice is deprecated; write ${layer}(dim=${implicit === 1 ? 1 : implicit}) (usually dim=-1 ` +
        `for class scores).`,
    ]);
  }
  const d = normalizeDim(dim, input.length);
  if (!d.ok) return fail(`${layer}: ${d.error}`);
  return sameShape(input);
}

function softmax2dRule(layer: string, _args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const checked = checkRank(layer, input, [3, 4], '(N, C, H, W) or (C, H, W)');
  if (!checked.ok) return checked;
  return sameShape(input);
}

/**
 * PReLU: one slope, or num_parameters slopes, one per channel. The channel is dim 1, or dim 0 for a 1-D input;
 * a 0-D input only works with a single slope.
 */
function preluRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const count = intArg(layer, 'num_parameters', args['num_parameters'], 1);
  if (!count.ok) return count;
  const n = count.value;
  if (n > 1) {
    if (input.length === 0) {
      return fail(`${layer}(num_parameters=${n}) cannot take a 0-D input; use num_parameters=1.`);
    }
    const channelDim = input.length === 1 ? 0 : 1;
    const channels = input[channelDim]!;
    if (channels !== null && channels !== n) {
      return fail(
        `${layer}(num_parameters=${n}) needs the channel dimension (dimension ${channelDim} of ` +
          `${formatDims(input)}) to be ${n}, but it is ${channels}. Set num_parameters=${channels}, or 1 to ` +
          `share one slope.`,
      );
    }
  }
  return ok({
    output: [...input],
    dims: [],
    weightShape: [n],
    biasShape: null,
    params: n,
    macs: 0,
    notes: [],
  });
}

/** GLU: halves the size of `dim`, which must be even. */
function gluRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  if (input.length === 0) return fail(`${layer} cannot take a 0-D input: it halves a dimension.`);
  const d = normalizeDim(args['dim'] ?? -1, input.length);
  if (!d.ok) return fail(`${layer}: ${d.error}`);
  const size = input[d.value]!;
  if (size !== null && size % 2 !== 0) {
    return fail(
      `${layer} halves dimension ${d.value}, which must be even, but ${formatDims(input)} has size ${size} there.`,
    );
  }
  const out = [...input];
  out[d.value] = size === null ? null : size / 2;
  return sameShape(out);
}

const GELU_APPROXIMATIONS = ['none', 'tanh'];

// ---------------------------------------------------------------------------------------------------------
// Upsampling and pixel shuffles
// ---------------------------------------------------------------------------------------------------------

/**
 * Upsample / UpsamplingNearest2d / UpsamplingBilinear2d go through F.interpolate. For nearest upsampling by
 * whole factors each output cell copies one input cell, which is exactly a transposed window of kernel =
 * stride = factor, so that rule is reported; an explicit size is reported as a fixed size.
 */
function upsampleRule(fixedMode?: 'nearest' | 'bilinear') {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const mode = fixedMode ?? args['mode'] ?? 'nearest';
    const alignCorners = fixedMode === 'bilinear' ? true : fixedMode ? null : (args['align_corners'] ?? null);
    const out = interpolate(
      input,
      {
        size: args['size'] ?? null,
        scale_factor: args['scale_factor'] ?? null,
        mode,
        align_corners: alignCorners,
        recompute_scale_factor: fixedMode ? null : (args['recompute_scale_factor'] ?? null),
      },
      layer,
    );
    if (!out.ok) return out;
    const dims: DimRule[] = [];
    const spatial = input.length - 2;
    const size = args['size'] ?? null;
    const scale = args['scale_factor'] ?? null;
    if (size !== null) {
      for (let i = 0; i < spatial; i++) {
        const s = out.value[i + 2];
        if (typeof s === 'number') dims.push({ kind: 'fixed', size: s });
      }
    } else if (mode === 'nearest') {
      const factors = Array.isArray(scale) ? (scale as PyValue[]) : new Array<PyValue>(spatial).fill(scale);
      if (factors.every((f) => isInteger(f) && f >= 1)) {
        for (const f of factors as number[]) {
          dims.push({
            kind: 'transposed',
            kernel: f,
            dilation: 1,
            stride: f,
            padBegin: 0,
            padEnd: 0,
            outputPadding: 0,
          });
        }
      }
    }
    if (dims.length !== spatial) dims.length = 0;
    return ok({ output: out.value, dims, weightShape: null, biasShape: null, params: 0, macs: 0, notes: [] });
  };
}

/** PixelShuffle: (*, C·r², H, W) → (*, C, H·r, W·r); PixelUnshuffle the reverse, H and W divisible by r. */
function pixelShuffleRule(unshuffle: boolean) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const name = unshuffle ? 'downscale_factor' : 'upscale_factor';
    const factor = intArg(layer, name, args[name], 1);
    if (!factor.ok) return factor;
    const r = factor.value;
    if (input.length < 3) {
      return fail(
        `${layer} expects an input of at least 3 dimensions (*, C, H, W), but got a ${input.length}-D input ` +
          `${formatDims(input)}.`,
      );
    }
    const [c, h, w] = input.slice(-3) as [Dim, Dim, Dim];
    const lead = input.slice(0, -3);
    if (!unshuffle) {
      if (c !== null && c % (r * r) !== 0) {
        return fail(
          `${layer}(upscale_factor=${r}) needs the channel dimension divisible by ${r}² = ${r * r}, but ` +
            `${formatDims(input)} has ${c} channels. Use ${Math.max(1, Math.round(c / (r * r))) * r * r} channels ` +
            `(a multiple of ${r * r}) before the shuffle.`,
        );
      }
      return sameShape([...lead, c === null ? null : c / (r * r), mul(h, r), mul(w, r)]);
    }
    for (const [size, label] of [
      [h, 'height'],
      [w, 'width'],
    ] as const) {
      if (size !== null && size % r !== 0) {
        return fail(
          `${layer}(downscale_factor=${r}) needs the ${label} divisible by ${r}, but ${formatDims(input)} has ` +
            `${label} ${size}.`,
        );
      }
    }
    return sameShape([...lead, mul(c, r * r), h === null ? null : h / r, w === null ? null : w / r]);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Padding layers
// ---------------------------------------------------------------------------------------------------------

type PadKind = 'zero' | 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * {Zero,Constant,Reflection,Replication,Circular}Pad{1,2,3}d: an int pads every side of the last `rank`
 * dimensions; a tuple is (left, right[, top, bottom[, front, back]]) and is passed to F.pad as written.
 * Circular padding layers check the rank first (CircularPadNd._check_input_dim); the others rely on F.pad.
 */
function padRule(kind: PadKind, rank: Rank) {
  return (layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> => {
    const raw = args['padding'];
    let padding: number[];
    if (isInteger(raw ?? null)) padding = new Array<number>(2 * rank).fill(raw as number);
    else if (Array.isArray(raw) && raw.every((v) => isInteger(v))) padding = [...(raw as number[])];
    else {
      return fail(
        `${layer}: padding must be an int or a tuple of ${2 * rank} ints ` +
          `(${['left, right', 'left, right, top, bottom', 'left, right, top, bottom, front, back'][rank - 1]}), ` +
          `not ${formatValue(raw ?? null)}.`,
      );
    }
    if (kind === 'constant') {
      const value = numberArg(layer, 'value', args['value']);
      if (!value.ok) return value;
    }
    if (kind === 'circular') {
      const spatial = ['L', 'H, W', 'D, H, W'][rank - 1];
      const checked = checkRank(layer, input, [rank + 1, rank + 2], `(N, C, ${spatial}) or (C, ${spatial})`);
      if (!checked.ok) return checked;
    }
    const mode = kind === 'zero' || kind === 'constant' ? 'constant' : kind;
    const out = pad(input, padding, mode);
    if (!out.ok) return fail(`${layer}: ${out.error.replace(/^pad: /, '')}`);
    const padded = padding.length / 2;
    const dims: DimRule[] = [];
    for (let k = padded - 1; k >= 0; k--) {
      dims.push({
        kind: 'window',
        kernel: 1,
        dilation: 1,
        stride: 1,
        padBegin: padding[2 * k]!,
        padEnd: padding[2 * k + 1]!,
        ceilMode: false,
      });
    }
    return ok({ output: out.value, dims, weightShape: null, biasShape: null, params: 0, macs: 0, notes: [] });
  };
}

// ---------------------------------------------------------------------------------------------------------
// Embedding, Fold / Unfold, ChannelShuffle
// ---------------------------------------------------------------------------------------------------------

/** Embedding: indices of any shape → that shape + (embedding_dim,); weight (num_embeddings, embedding_dim). */
function embeddingRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const count = intArg(layer, 'num_embeddings', args['num_embeddings'], 0);
  if (!count.ok) return count;
  const dim = intArg(layer, 'embedding_dim', args['embedding_dim'], 0);
  if (!dim.ok) return dim;
  const paddingIdx = args['padding_idx'] ?? null;
  if (paddingIdx !== null) {
    if (!isInteger(paddingIdx)) {
      return fail(`${layer}: padding_idx must be an integer or None, not ${formatValue(paddingIdx)}.`);
    }
    if (paddingIdx >= count.value || paddingIdx < -count.value) {
      return fail(
        `${layer}: padding_idx (${paddingIdx}) must be within num_embeddings (${count.value}): valid ` +
          `${-count.value} to ${count.value - 1}.`,
      );
    }
  }
  return ok({
    output: [...input, dim.value],
    dims: [],
    weightShape: [count.value, dim.value],
    biasShape: null,
    params: count.value * dim.value,
    macs: 0,
    notes: [],
  });
}

interface BlockSettings {
  readonly kernel: number[];
  readonly dilation: number[];
  readonly padding: number[];
  readonly stride: number[];
}

function readBlocks(layer: string, args: BoundArgs): Outcome<BlockSettings> {
  const kernel = perDimension(layer, 'kernel_size', args['kernel_size']!, 2, 1);
  if (!kernel.ok) return kernel;
  const dilation = perDimension(layer, 'dilation', args['dilation']!, 2, 1);
  if (!dilation.ok) return dilation;
  const padding = perDimension(layer, 'padding', args['padding']!, 2, 0);
  if (!padding.ok) return padding;
  const stride = perDimension(layer, 'stride', args['stride']!, 2, 1);
  if (!stride.ok) return stride;
  return ok({ kernel: kernel.value, dilation: dilation.value, padding: padding.value, stride: stride.value });
}

/** Sliding blocks along one dimension: floor((size + 2p − d(k − 1) − 1)/s) + 1 (the conv formula). */
function blockRule(settings: BlockSettings, i: number): DimRule {
  return {
    kind: 'window',
    kernel: settings.kernel[i]!,
    dilation: settings.dilation[i]!,
    stride: settings.stride[i]!,
    padBegin: settings.padding[i]!,
    padEnd: settings.padding[i]!,
    ceilMode: false,
  };
}

function blockCount(rule: Extract<DimRule, { kind: 'window' }>, size: number): number {
  return (
    Math.floor((size + rule.padBegin + rule.padEnd - rule.dilation * (rule.kernel - 1) - 1) / rule.stride) + 1
  );
}

/** Unfold (im2col): (N, C, H, W) → (N, C·kh·kw, L), L = the number of sliding blocks. */
function unfoldRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const settings = readBlocks(layer, args);
  if (!settings.ok) return settings;
  const checked = checkRank(layer, input, [3, 4], '(N, C, H, W) or (C, H, W)');
  if (!checked.ok) return checked;
  const [c, h, w] = input.slice(-3) as [Dim, Dim, Dim];
  const dims = [blockRule(settings.value, 0), blockRule(settings.value, 1)] as Array<
    Extract<DimRule, { kind: 'window' }>
  >;
  const counts: Dim[] = [];
  for (const [i, size] of [h, w].entries()) {
    if (size === null) {
      counts.push(null);
      continue;
    }
    const n = blockCount(dims[i]!, size);
    if (n < 1) {
      return fail(
        `${layer}: the ${i === 0 ? 'height' : 'width'} ${size} (padded ${size + 2 * settings.value.padding[i]!}) is ` +
          `smaller than the dilated kernel ${settings.value.dilation[i]! * (settings.value.kernel[i]! - 1) + 1}, so ` +
          `there are no sliding blocks.`,
      );
    }
    counts.push(n);
  }
  const lead = input.slice(0, -3);
  return ok({
    output: [...lead, mul(c, product(settings.value.kernel)), mul(...counts)],
    dims,
    weightShape: null,
    biasShape: null,
    params: 0,
    macs: 0,
    notes: [],
  });
}

/** Fold (col2im): (N, C·kh·kw, L) → (N, C, output_size…); L must equal the number of sliding blocks. */
function foldRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const outputSize = perDimension(layer, 'output_size', args['output_size']!, 2, 1);
  if (!outputSize.ok) return outputSize;
  const settings = readBlocks(layer, args);
  if (!settings.ok) return settings;
  const checked = checkRank(layer, input, [2, 3], '(N, C·∏kernel_size, L) or (C·∏kernel_size, L)');
  if (!checked.ok) return checked;
  const [columns, length] = input.slice(-2) as [Dim, Dim];
  const kernelProduct = product(settings.value.kernel);
  if (columns !== null && columns % kernelProduct !== 0) {
    return fail(
      `${layer}: the input's dimension ${input.length - 2} (${columns}) must be divisible by the product of ` +
        `kernel_size ${formatValue(settings.value.kernel)} = ${kernelProduct}.`,
    );
  }
  const counts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const n = blockCount(
      blockRule(settings.value, i) as Extract<DimRule, { kind: 'window' }>,
      outputSize.value[i]!,
    );
    if (n < 1) {
      return fail(
        `${layer}: output_size ${formatValue(outputSize.value)} with kernel_size ` +
          `${formatValue(settings.value.kernel)}, dilation ${formatValue(settings.value.dilation)}, padding ` +
          `${formatValue(settings.value.padding)} and stride ${formatValue(settings.value.stride)} gives no ` +
          `sliding blocks along dimension ${i}.`,
      );
    }
    counts.push(n);
  }
  const blocks = counts[0]! * counts[1]!;
  if (length !== null && length !== blocks) {
    return fail(
      `${layer}: output_size ${formatValue(outputSize.value)} with these settings has ${counts[0]} × ${counts[1]} ` +
        `= ${blocks} sliding blocks, but the input's last dimension (L) is ${length}.`,
    );
  }
  const lead = input.slice(0, -2);
  return sameShape([...lead, columns === null ? null : columns / kernelProduct, ...outputSize.value]);
}

function channelShuffleRule(layer: string, args: BoundArgs, input: Dim[]): Outcome<TensorLayerShape> {
  const groups = intArg(layer, 'groups', args['groups'], 1);
  if (!groups.ok) return groups;
  if (input.length < 3) {
    return fail(
      `${layer} expects an input of at least 3 dimensions (N, C, …), but got a ${input.length}-D input ` +
        `${formatDims(input)}.`,
    );
  }
  const c = input[1]!;
  if (c !== null && c % groups.value !== 0) {
    return fail(
      `${layer}: the number of channels (${c}) must be divisible by groups (${groups.value}). Valid groups: ` +
        `${divisors(c).join(', ')}.`,
    );
  }
  return sameShape(input);
}

// ---------------------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------------------

const INPLACE = [p('inplace', false)];

/** Activations that keep the shape, with their real signatures and the arguments they validate. */
const ACTIVATIONS: ReadonlyArray<
  readonly [string, readonly ParamSpec[], ((layer: string, args: BoundArgs) => Outcome<true>)?]
> = [
  ['ReLU', INPLACE],
  ['ReLU6', INPLACE],
  ['LeakyReLU', [p('negative_slope', 0.01), ...INPLACE], numbers('negative_slope')],
  ['ELU', [p('alpha', 1.0), ...INPLACE], numbers('alpha')],
  ['CELU', [p('alpha', 1.0), ...INPLACE], numbers('alpha')],
  ['SELU', INPLACE],
  [
    'GELU',
    [p('approximate', 'none')],
    (layer, args) =>
      GELU_APPROXIMATIONS.includes(args['approximate'] as string)
        ? ok(true)
        : fail(
            `${layer}: approximate must be 'none' or 'tanh', not ${formatValue(args['approximate'] ?? null)}.`,
          ),
  ],
  ['SiLU', INPLACE],
  ['Mish', INPLACE],
  ['Sigmoid', []],
  ['Tanh', []],
  ['LogSigmoid', []],
  ['Softsign', []],
  ['Tanhshrink', []],
  ['Hardswish', INPLACE],
  ['Hardsigmoid', INPLACE],
  ['Softplus', [p('beta', 1.0), p('threshold', 20.0)], numbers('beta', 'threshold')],
  ['Softshrink', [p('lambd', 0.5)], numbers('lambd')],
  ['Hardshrink', [p('lambd', 0.5)], numbers('lambd')],
  ['Threshold', [p('threshold'), p('value'), ...INPLACE], numbers('threshold', 'value')],
  ['RReLU', [p('lower', 1 / 8), p('upper', 1 / 3), ...INPLACE], numbers('lower', 'upper')],
  [
    'Hardtanh',
    [p('min_val', -1.0), p('max_val', 1.0), ...INPLACE, p('min_value', null), p('max_value', null)],
    (layer, args) => {
      const low = numberArg(layer, 'min_val', args['min_value'] ?? args['min_val']);
      if (!low.ok) return low;
      const high = numberArg(layer, 'max_val', args['max_value'] ?? args['max_val']);
      if (!high.ok) return high;
      return high.value > low.value
        ? ok(true)
        : fail(`${layer}: max_val (${high.value}) must be greater than min_val (${low.value}).`);
    },
  ],
];

function rankLayers(): TensorLayerDef[] {
  const layers: TensorLayerDef[] = [];
  for (const rank of RANKS) {
    const d = `${rank}d`;
    layers.push(
      torchLayer(
        `BatchNorm${d}`,
        [
          p('num_features'),
          p('eps', 1e-5),
          p('momentum', 0.1),
          p('affine', true),
          p('track_running_stats', true),
          ...FACTORY,
        ],
        `Batch normalisation over dim 1 (num_features channels); the shape is unchanged.`,
        batchNormRule(rank),
      ),
      torchLayer(
        `InstanceNorm${d}`,
        [
          p('num_features'),
          p('eps', 1e-5),
          p('momentum', 0.1),
          p('affine', false),
          p('track_running_stats', false),
          ...FACTORY,
        ],
        `Instance normalisation per sample and channel; batched or unbatched input, shape unchanged.`,
        instanceNormRule(rank),
      ),
      torchLayer(
        `Dropout${d}`,
        [p('p', 0.5), ...INPLACE],
        `Zeroes whole channels with probability p; the shape is unchanged.`,
        dropoutRule(rank),
      ),
      torchLayer(
        `ZeroPad${d}`,
        [p('padding')],
        `Pads the last ${rank} dimension(s) with zeros.`,
        padRule('zero', rank),
      ),
      torchLayer(
        `ConstantPad${d}`,
        [p('padding'), p('value')],
        `Pads the last ${rank} dimension(s) with a constant.`,
        padRule('constant', rank),
      ),
      torchLayer(
        `ReflectionPad${d}`,
        [p('padding')],
        `Pads the last ${rank} dimension(s) by reflection; each pad must be smaller than the input size.`,
        padRule('reflect', rank),
      ),
      torchLayer(
        `ReplicationPad${d}`,
        [p('padding')],
        `Pads the last ${rank} dimension(s) by repeating the edge.`,
        padRule('replicate', rank),
      ),
      torchLayer(
        `CircularPad${d}`,
        [p('padding')],
        `Pads the last ${rank} dimension(s) by wrapping around; each pad at most the input size.`,
        padRule('circular', rank),
      ),
    );
  }
  return layers;
}

/** torch.nn layers other than conv/pool, each with its real signature. */
export const torchModuleLayers: readonly LayerDef[] = [
  torchLayer(
    'Linear',
    [p('in_features'), p('out_features'), p('bias', true), ...FACTORY],
    'y = x·Wᵀ + b over the last dimension: (…, in_features) → (…, out_features).',
    (layer, args, input) => linearRule(layer, args, input, false),
  ),
  torchLayer(
    'LazyLinear',
    [p('out_features'), p('bias', true), ...FACTORY],
    'Linear whose in_features is taken from the first input: (…, in) → (…, out_features).',
    (layer, args, input) => linearRule(layer, args, input, true),
  ),
  defineMultiInputLayer(
    'pytorch',
    'torch.nn.Bilinear',
    [p('in1_features'), p('in2_features'), p('out_features'), p('bias', true), ...FACTORY],
    'y = x1ᵀ·A·x2 + b: (…, in1) and (…, in2) → (…, out_features).',
    { min: 2, max: 2, usage: 'bilinear(x1, x2)' },
    bilinearRule,
  ),
  torchLayer('Identity', [], 'Returns its input unchanged.', (_layer, _args, input) => sameShape(input)),
  torchLayer(
    'Flatten',
    [p('start_dim', 1), p('end_dim', -1)],
    'Merges dims start_dim…end_dim into one (by default everything after the batch dimension).',
    flattenRule,
  ),
  torchLayer(
    'Unflatten',
    [p('dim'), p('unflattened_size')],
    'Splits one dimension into unflattened_size (one -1 may be inferred).',
    unflattenRule,
  ),
  torchLayer(
    'Dropout',
    [p('p', 0.5), ...INPLACE],
    'Zeroes elements with probability p; shape unchanged.',
    dropoutRule('plain'),
  ),
  torchLayer(
    'AlphaDropout',
    [p('p', 0.5), ...INPLACE],
    'Dropout that keeps SELU self-normalisation; shape unchanged.',
    dropoutRule('plain'),
  ),
  torchLayer(
    'FeatureAlphaDropout',
    [p('p', 0.5), ...INPLACE],
    'Alpha dropout of whole channels; shape unchanged.',
    dropoutRule('feature'),
  ),
  ...rankLayers(),
  torchLayer(
    'LayerNorm',
    [p('normalized_shape'), p('eps', 1e-5), p('elementwise_affine', true), p('bias', true), ...FACTORY],
    'Normalises over the trailing dims given by normalized_shape; shape unchanged.',
    layerNormRule,
  ),
  torchLayer(
    'GroupNorm',
    [p('num_groups'), p('num_channels'), p('eps', 1e-5), p('affine', true), ...FACTORY],
    'Normalises groups of channels (dim 1); num_groups must divide num_channels.',
    groupNormRule,
  ),
  torchLayer(
    'LocalResponseNorm',
    [p('size'), p('alpha', 1e-4), p('beta', 0.75), p('k', 1.0)],
    'Normalises across neighbouring channels; 3-D or larger input, shape unchanged.',
    localResponseNormRule,
  ),
  ...ACTIVATIONS.map(([name, params, check]) =>
    torchLayer(name, params, `${name} activation, element-wise; shape unchanged.`, activation(check)),
  ),
  torchLayer('Softmax', [p('dim', null)], 'Softmax along dim; shape unchanged.', softmaxRule),
  torchLayer('LogSoftmax', [p('dim', null)], 'Log-softmax along dim; shape unchanged.', softmaxRule),
  torchLayer('Softmin', [p('dim', null)], 'Softmin along dim; shape unchanged.', softmaxRule),
  torchLayer(
    'Softmax2d',
    [],
    'Softmax over channels at every position of (N, C, H, W) or (C, H, W).',
    softmax2dRule,
  ),
  torchLayer(
    'PReLU',
    [p('num_parameters', 1), p('init', 0.25), ...FACTORY],
    'Leaky ReLU with learned slopes (1, or one per channel); shape unchanged.',
    preluRule,
  ),
  torchLayer('GLU', [p('dim', -1)], 'Gated linear unit: halves dim (which must be even).', gluRule),
  torchLayer(
    'Upsample',
    [
      p('size', null),
      p('scale_factor', null),
      p('mode', 'nearest'),
      p('align_corners', null),
      p('recompute_scale_factor', null),
    ],
    'Resizes the spatial dims like F.interpolate: out = size, or floor(in · scale_factor).',
    upsampleRule(),
  ),
  torchLayer(
    'UpsamplingNearest2d',
    [p('size', null), p('scale_factor', null)],
    'Nearest-neighbour resize: out = size, or floor(in · scale_factor).',
    upsampleRule('nearest'),
  ),
  torchLayer(
    'UpsamplingBilinear2d',
    [p('size', null), p('scale_factor', null)],
    'Bilinear resize with align_corners=True: out = size, or floor(in · scale_factor).',
    upsampleRule('bilinear'),
  ),
  torchLayer(
    'PixelShuffle',
    [p('upscale_factor')],
    '(*, C·r², H, W) → (*, C, H·r, W·r).',
    pixelShuffleRule(false),
  ),
  torchLayer(
    'PixelUnshuffle',
    [p('downscale_factor')],
    '(*, C, H·r, W·r) → (*, C·r², H, W).',
    pixelShuffleRule(true),
  ),
  torchLayer(
    'Embedding',
    [
      p('num_embeddings'),
      p('embedding_dim'),
      p('padding_idx', null),
      p('max_norm', null),
      p('norm_type', 2.0),
      p('scale_grad_by_freq', false),
      p('sparse', false),
      p('_weight', null),
      p('_freeze', false),
      ...FACTORY,
    ],
    'Looks up indices: any index shape → that shape + (embedding_dim,).',
    embeddingRule,
  ),
  torchLayer(
    'Unfold',
    [p('kernel_size'), p('dilation', 1), p('padding', 0), p('stride', 1)],
    'Extracts sliding blocks: (N, C, H, W) → (N, C·∏kernel_size, L).',
    unfoldRule,
  ),
  torchLayer(
    'Fold',
    [p('output_size'), p('kernel_size'), p('dilation', 1), p('padding', 0), p('stride', 1)],
    'Sums sliding blocks back: (N, C·∏kernel_size, L) → (N, C, *output_size).',
    foldRule,
  ),
  torchLayer(
    'ChannelShuffle',
    [p('groups')],
    'Shuffles channels across groups; shape unchanged.',
    channelShuffleRule,
  ),
];

/**
 * Functions and Tensor methods that keep the shape of their (first) input, so the interpreter can pass the
 * shape through. Qualified names; the interpreter resolves `F.` and `torch.` aliases itself.
 */
export const torchPassThroughFunctions: readonly string[] = [
  ...[
    'relu',
    'relu_',
    'relu6',
    'elu',
    'elu_',
    'selu',
    'celu',
    'leaky_relu',
    'leaky_relu_',
    'prelu',
    'rrelu',
    'gelu',
    'silu',
    'mish',
    'hardswish',
    'hardsigmoid',
    'hardtanh',
    'hardtanh_',
    'hardshrink',
    'softshrink',
    'tanhshrink',
    'softsign',
    'softplus',
    'sigmoid',
    'tanh',
    'logsigmoid',
    'threshold',
    'dropout',
    'alpha_dropout',
    'feature_alpha_dropout',
    'dropout1d',
    'dropout2d',
    'dropout3d',
    'normalize',
    'local_response_norm',
    'layer_norm',
    'group_norm',
    'batch_norm',
    'instance_norm',
    'softmax',
    'log_softmax',
    'softmin',
  ].map((name) => `torch.nn.functional.${name}`),
  ...[
    'relu',
    'sigmoid',
    'tanh',
    'exp',
    'log',
    'abs',
    'neg',
    'sqrt',
    'rsqrt',
    'sin',
    'cos',
    'clamp',
    'clip',
    'sign',
    'round',
    'floor',
    'ceil',
    'square',
    'reciprocal',
    'erf',
    'softmax',
    'log_softmax',
    'cumsum',
    'cumprod',
    'flip',
    'roll',
    'sort',
    'argsort',
    'dropout',
    'clone',
    'detach',
    'nan_to_num',
    'zeros_like',
    'ones_like',
    'empty_like',
    'rand_like',
    'randn_like',
    'full_like',
    'sigmoid_',
    'tanh_',
  ].map((name) => `torch.${name}`),
];

/** Tensor methods that keep the shape (x.relu(), x.float(), x.contiguous(), x.to(device), …). */
export const torchPassThroughMethods: readonly string[] = [
  'relu',
  'relu_',
  'sigmoid',
  'sigmoid_',
  'tanh',
  'tanh_',
  'exp',
  'log',
  'abs',
  'neg',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'clamp',
  'clamp_',
  'clip',
  'sign',
  'round',
  'floor',
  'ceil',
  'square',
  'pow',
  'reciprocal',
  'softmax',
  'log_softmax',
  'cumsum',
  'flip',
  'roll',
  'contiguous',
  'clone',
  'detach',
  'float',
  'double',
  'half',
  'bfloat16',
  'int',
  'long',
  'bool',
  'to',
  'type',
  'cuda',
  'cpu',
  'requires_grad_',
  'add_',
  'mul_',
  'sub_',
  'div_',
  'zero_',
  'fill_',
  'normal_',
  'uniform_',
];

/** Looks for a rule among this module's layers; exported for tests and the interpreter. */
export function torchModuleLayer(name: string): TensorLayerDef | undefined {
  return torchModuleLayers.find((def) => def.name === name || def.name === `torch.nn.${name}`) as
    TensorLayerDef | undefined;
}
