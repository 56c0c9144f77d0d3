/**
 * Flax / JAX: flax.linen.Conv, flax.linen.ConvTranspose and jax.lax.conv_transpose, with the checks Flax and
 * JAX (0.11) make, computed the way they compute them.
 *
 * Sources: flax/linen/linear.py (canonicalize_padding, _Conv.__call__, ConvTranspose.__call__),
 * jax/_src/lax/convolution.py (conv_general_dilated, _conv_transpose_padding, conv_transpose,
 * _conv_general_dilated_shape_rule, conv_shape_tuple, conv_general_permutations), jax/_src/lax/lax.py
 * (padtype_to_pads) and jax/_src/core.py (dilate_dim, stride_dim).
 *
 * Everything reduces to XLA's convolution on one spatial axis:
 *   dilated = 0 if in = 0 else (in − 1)·lhs_dilation + 1
 *   padded  = dilated + pad_low + pad_high            (negative → "Negative padding is larger than …")
 *   out     = max(0, floor((padded − kEff) / stride) + 1)
 * A transposed conv is that convolution with lhs_dilation = stride, stride 1 and the pads of
 * _conv_transpose_padding (SAME, VALID) or the pads as given (explicit pairs).
 */
import {
  effectiveKernel,
  floorDiv,
  formatShape,
  formatValue,
  isInteger,
  perDimension,
  product,
} from './args';
import { applyDimRule, checkerboardNote } from './dims';
import { dimNames } from './symbolic';
import type { BoundArgs, DimRule, LayerDef, LayerShape, Outcome, ParamSpec, PyValue } from './types';
import { fail, ok } from './types';

/** Sizes past this are refused: nothing real is this large, and the arithmetic must stay exact in a double. */
const MAX_SIZE = 2 ** 31;

/**
 * The kernel's output feature count assumed when jax.lax.conv_transpose is given only the kernel's spatial
 * sizes (`kernel=[kh, kw]`). The golden cases describe the kernel that way and were all produced with a
 * kernel of 3 output features, so a spatial-only kernel means `(*kernel, C_in, 3)` in HWIO terms. Passing
 * the full kernel shape (`kernel=[kh, kw, I, O]`) removes the assumption.
 */
export const ASSUMED_KERNEL_OUT_FEATURES = 3;

type Pair = readonly [number, number];
type WindowRule = Extract<DimRule, { kind: 'window' }>;

/** Python truthiness for flags such as use_bias and transpose_kernel. */
function truthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

/**
 * Flax reads kernel_size as a tuple; a bare int is a 1-D kernel (`(k,)`), whatever the input rank, so the
 * number of spatial dimensions is len(kernel_size).
 */
function readKernelSize(layer: string, value: PyValue): Outcome<number[]> {
  if (isInteger(value)) {
    if (value < 1 || value > MAX_SIZE) {
      return fail(`${layer}: kernel_size must be a positive size, got ${value}.`);
    }
    return ok([value]);
  }
  if (!Array.isArray(value) || value.length === 0) {
    return fail(
      `${layer}: kernel_size must be an int or a non-empty tuple of ints (one per spatial dimension), ` +
        `not ${formatValue(value)}.`,
    );
  }
  const sizes = perDimension(layer, 'kernel_size', value, value.length, 1);
  if (!sizes.ok) return sizes;
  if (sizes.value.some((k) => k > MAX_SIZE))
    return fail(`${layer}: kernel_size ${formatValue(value)} is too large.`);
  return sizes;
}

/**
 * Flax's maybe_broadcast: None means 1, an int applies to every spatial dimension, a sequence is taken as is
 * (and lax then insists on one entry per spatial dimension).
 */
function broadcastTuple(layer: string, name: string, value: PyValue, rank: number): Outcome<number[]> {
  if (value === null) return ok(new Array<number>(rank).fill(1));
  if (isInteger(value)) {
    if (value < 1 || value > MAX_SIZE) return fail(`${layer}: ${name} must be at least 1, got ${value}.`);
    return ok(new Array<number>(rank).fill(value));
  }
  if (!Array.isArray(value)) {
    return fail(`${layer}: ${name} must be an int or a tuple of ints, not ${formatValue(value)}.`);
  }
  if (value.length !== rank) {
    return fail(
      `${layer}: ${name} has ${value.length} value${value.length === 1 ? '' : 's'} (${formatValue(value)}), but ` +
        `kernel_size gives ${rank} spatial dimension${rank === 1 ? '' : 's'}; give ${rank} or a single int.`,
    );
  }
  const values = perDimension(layer, name, value, rank, 1);
  if (!values.ok) return values;
  if (values.value.some((v) => v > MAX_SIZE))
    return fail(`${layer}: ${name} ${formatValue(value)} is too large.`);
  return values;
}

/** Padding after flax.linen.canonicalize_padding: a string, or one (low, high) pair per spatial dimension. */
type FlaxPadding =
  { readonly kind: 'string'; readonly value: string } | { readonly kind: 'pairs'; readonly pairs: Pair[] };

function readPair(value: PyValue): Pair | null {
  if (isInteger(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && isInteger(value[0]!) && isInteger(value[1]!)) {
    return [value[0] as number, value[1] as number];
  }
  return null;
}

/**
 * canonicalize_padding: a string stays a string, an int pads both sides of every dimension, and a sequence
 * of `rank` entries gives each dimension an int (both sides) or a (low, high) pair. Negative pads are legal
 * in lax (they crop).
 */
function canonicalizePadding(layer: string, value: PyValue, rank: number): Outcome<FlaxPadding> {
  if (typeof value === 'string') return ok({ kind: 'string', value });
  const example = `[${new Array<string>(rank).fill('(1, 1)').join(', ')}]`;
  const invalid = fail<FlaxPadding>(
    `${layer}: padding ${formatValue(value)} is not a padding Flax understands: use 'SAME', 'VALID', ` +
      `'CIRCULAR', an int, or ${rank} (low, high) pair${rank === 1 ? '' : 's'} such as ${example}.`,
  );
  if (isInteger(value)) {
    if (Math.abs(value) > MAX_SIZE) return invalid;
    return ok({ kind: 'pairs', pairs: new Array<Pair>(rank).fill([value, value]) });
  }
  if (!Array.isArray(value) || value.length !== rank) return invalid;
  const pairs: Pair[] = [];
  for (const entry of value as readonly PyValue[]) {
    const pair = readPair(entry);
    if (!pair || Math.abs(pair[0]) > MAX_SIZE || Math.abs(pair[1]) > MAX_SIZE) return invalid;
    pairs.push(pair);
  }
  return ok({ kind: 'pairs', pairs });
}

/** lax.padtype_to_pads accepts these names in any case. */
function laxPaddingType(name: string): 'SAME' | 'SAME_LOWER' | 'VALID' | null {
  const upper = name.toUpperCase();
  return upper === 'SAME' || upper === 'SAME_LOWER' || upper === 'VALID' ? upper : null;
}

/**
 * One spatial axis of XLA's convolution: max(0, floor((dilate(in, lhs_dilation) + low + high − kEff)/stride) + 1),
 * or null where the padding is so negative that the padded input is smaller than nothing (lax refuses).
 * Sizes come from applyDimRule; lax keeps an empty axis empty when it dilates it, which the rule's
 * (in − 1)·d + 1 does not, so that one case is computed here.
 */
function windowSize(rule: WindowRule, inputSize: number): number | null {
  const lhsDilation = rule.inputDilation ?? 1;
  const dilated = inputSize === 0 ? 0 : (inputSize - 1) * lhsDilation + 1;
  const padded = dilated + rule.padBegin + rule.padEnd;
  if (padded < 0) return null;
  const size =
    inputSize === 0
      ? floorDiv(padded - effectiveKernel(rule.kernel, rule.dilation), rule.stride) + 1
      : applyDimRule(rule, inputSize);
  return Math.max(0, size);
}

/** The input as Flax reads it: any number of leading batch axes, `rank` spatial axes, features last. */
interface FlaxInput {
  readonly batch: number[];
  readonly spatial: number[];
  readonly features: number;
}

function readInput(layer: string, input: readonly number[], kernel: readonly number[]): Outcome<FlaxInput> {
  const rank = kernel.length;
  if (input.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(`${layer}: the input shape ${formatShape(input)} has a size that is negative or too large.`);
  }
  if (input.length < rank + 1) {
    const names = dimNames(rank).join(', ');
    return fail(
      `${layer}: kernel_size ${formatValue(kernel)} has ${rank} spatial dimension${rank === 1 ? '' : 's'}, so the ` +
        `input needs at least ${rank + 1} axes (${names}, features), or ${rank + 2} with a batch axis ` +
        `(N, ${names}, features); got ${formatShape(input)}.`,
    );
  }
  const features = input[input.length - 1]!;
  if (features === 0) return fail(`${layer}: the input ${formatShape(input)} has 0 features (last axis).`);
  return ok({
    batch: input.slice(0, input.length - rank - 1),
    spatial: input.slice(input.length - rank - 1, input.length - 1),
    features,
  });
}

function notesForLayout(
  layer: string,
  rawKernel: PyValue,
  input: readonly number[],
  layout: FlaxInput,
): string[] {
  const notes: string[] = [];
  if (isInteger(rawKernel) && input.length > 3) {
    notes.push(
      `kernel_size=${rawKernel} is a single int, so ${layer} runs a 1-D convolution over axis ${input.length - 2} ` +
        `and treats the leading axes ${formatShape(layout.batch)} as batch; write kernel_size=(${rawKernel}, ${rawKernel}) for 2-D.`,
    );
  } else if (layout.batch.length === 0) {
    notes.push(`The input has no batch axis: Flax adds one for the convolution and removes it again.`);
  }
  return notes;
}

/** The "never read" note: positions at the end of the input that no window reaches. */
function unreadNote(name: string, rule: WindowRule, inputSize: number, outSize: number): string | null {
  if (outSize === 0 || rule.stride === 1) return null;
  const lhsDilation = rule.inputDilation ?? 1;
  const padded = (inputSize - 1) * lhsDilation + 1 + rule.padBegin + rule.padEnd;
  const kEff = effectiveKernel(rule.kernel, rule.dilation);
  const unread = ((padded - kEff) % rule.stride) - Math.max(0, rule.padEnd);
  if (unread <= 0) return null;
  return (
    `${name}: the last ${unread} position${unread === 1 ? ' is' : 's are'} of the ${lhsDilation > 1 ? 'dilated ' : ''}input ` +
    `never read (padded size − kernel span = ${padded - kEff} is not a multiple of stride ${rule.stride}).`
  );
}

function emptyNote(names: readonly string[], outSpatial: readonly number[]): string | null {
  const empty = outSpatial.findIndex((size) => size === 0);
  if (empty < 0) return null;
  return (
    `The output is empty (size 0 along ${names[empty]}): the kernel span is larger than the padded input, ` +
    `and JAX returns an empty array rather than an error.`
  );
}

// ---------------------------------------------------------------------------------------------------------
// flax.linen.Conv
// ---------------------------------------------------------------------------------------------------------

const MODULE_FIELDS: readonly ParamSpec[] = [
  { name: 'parent', default: null, keywordOnly: true },
  { name: 'name', default: null, keywordOnly: true },
];

/** flax.linen.Conv's dataclass fields in declaration order (flax/linen/linear.py, _Conv). */
const CONV_PARAMS: readonly ParamSpec[] = [
  { name: 'features' },
  { name: 'kernel_size' },
  { name: 'strides', default: 1 },
  { name: 'padding', default: 'SAME' },
  { name: 'input_dilation', default: 1 },
  { name: 'kernel_dilation', default: 1 },
  { name: 'feature_group_count', default: 1 },
  { name: 'use_bias', default: true },
  { name: 'mask', default: null },
  { name: 'dtype', default: null },
  { name: 'param_dtype', default: 'float32' },
  { name: 'precision', default: null },
  { name: 'kernel_init', default: 'lecun_normal' },
  { name: 'bias_init', default: 'zeros' },
  { name: 'conv_general_dilated', default: null },
  { name: 'conv_general_dilated_cls', default: null },
  ...MODULE_FIELDS,
];

/**
 * flax.linen.Conv: CIRCULAR / REFLECT pad ((kEff − 1)//2, kEff//2) by wrapping or reflecting, CAUSAL pads
 * (kEff − 1, 0) (1-D only), and all three then run lax with padding 'VALID'. SAME / VALID / SAME_LOWER go to
 * lax.padtype_to_pads (SAME: out = ceil(in/stride), the odd pad at the end). Any string padding with
 * input_dilation ≠ 1 is refused by lax.conv_general_dilated.
 */
function inferFlaxConv(layer: string, args: BoundArgs, input: readonly number[]): Outcome<LayerShape> {
  const kernel = readKernelSize(layer, args['kernel_size']!);
  if (!kernel.ok) return kernel;
  const rank = kernel.value.length;
  const layout = readInput(layer, input, kernel.value);
  if (!layout.ok) return layout;
  const strides = broadcastTuple(layer, 'strides', args['strides']!, rank);
  if (!strides.ok) return strides;
  const inputDilation = broadcastTuple(layer, 'input_dilation', args['input_dilation']!, rank);
  if (!inputDilation.ok) return inputDilation;
  const kernelDilation = broadcastTuple(layer, 'kernel_dilation', args['kernel_dilation']!, rank);
  if (!kernelDilation.ok) return kernelDilation;
  const features = args['features']!;
  if (!isInteger(features) || features < 1 || features > MAX_SIZE) {
    return fail(
      `${layer}: features must be a positive int (the number of output features), not ${formatValue(features)}.`,
    );
  }
  const groups = args['feature_group_count']!;
  if (!isInteger(groups) || groups < 1) {
    return fail(`${layer}: feature_group_count must be a positive int, not ${formatValue(groups)}.`);
  }
  const inFeatures = layout.value.features;
  if (inFeatures % groups !== 0) {
    return fail(
      `${layer}: feature_group_count=${groups} must divide the input's ${inFeatures} features ` +
        `(last axis of ${formatShape(input)}); use a divisor of ${inFeatures}.`,
    );
  }
  if (features % groups !== 0) {
    return fail(
      `${layer}: features=${features} must be a multiple of feature_group_count=${groups} ` +
        `(each group produces features/feature_group_count outputs).`,
    );
  }
  const padding = canonicalizePadding(layer, args['padding']!, rank);
  if (!padding.ok) return padding;

  const kEffs = kernel.value.map((k, i) => effectiveKernel(k, kernelDilation.value[i]!));
  // Flax turns CIRCULAR, REFLECT and CAUSAL into explicit pads on the input followed by lax 'VALID'.
  let pairs: Pair[] | null = padding.value.kind === 'pairs' ? padding.value.pairs : null;
  let laxString: 'SAME' | 'SAME_LOWER' | 'VALID' | null = null;
  const paddingName = padding.value.kind === 'string' ? padding.value.value : null;
  if (paddingName === 'CIRCULAR' || paddingName === 'REFLECT') {
    pairs = kEffs.map((kEff) => [Math.floor((kEff - 1) / 2), Math.floor(kEff / 2)] as const);
  } else if (paddingName === 'CAUSAL') {
    if (rank !== 1) {
      return fail(
        `${layer}: padding='CAUSAL' is only implemented for 1-D convolutions, but kernel_size ` +
          `${formatValue(kernel.value)} has ${rank} spatial dimensions.`,
      );
    }
    pairs = [[kEffs[0]! - 1, 0]];
  } else if (paddingName !== null) {
    laxString = laxPaddingType(paddingName);
    if (!laxString) {
      return fail(
        `${layer}: padding=${formatValue(paddingName)} is not a padding Flax knows: use 'SAME', 'VALID', ` +
          `'CIRCULAR', 'REFLECT', 'CAUSAL' (1-D), an int, or (low, high) pairs.`,
      );
    }
  }
  if (paddingName !== null && inputDilation.value.some((d) => d !== 1)) {
    return fail(
      `${layer}: padding='${paddingName}' cannot be combined with input_dilation=${formatValue(inputDilation.value)}: ` +
        `JAX only implements string padding without input dilation. Give the padding as explicit ` +
        `(low, high) pairs, e.g. padding=[${kEffs.map((kEff) => `(${kEff - 1}, ${kEff - 1})`).join(', ')}], or use ` +
        `nn.ConvTranspose with strides=${formatValue(inputDilation.value)}.`,
    );
  }

  const names = dimNames(rank);
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes = notesForLayout(layer, args['kernel_size']!, input, layout.value);
  for (let i = 0; i < rank; i++) {
    const inputSize = layout.value.spatial[i]!;
    const k = kernel.value[i]!;
    const d = kernelDilation.value[i]!;
    const s = strides.value[i]!;
    if (laxString === 'SAME' || laxString === 'SAME_LOWER') {
      const rule: DimRule = {
        kind: 'same',
        kernel: k,
        dilation: d,
        stride: s,
        extraPadAt: laxString === 'SAME' ? 'end' : 'begin',
      };
      dims.push(rule);
      outSpatial.push(applyDimRule(rule, inputSize));
      continue;
    }
    const [padBegin, padEnd] = pairs ? pairs[i]! : [0, 0];
    if (
      (paddingName === 'CIRCULAR' || paddingName === 'REFLECT') &&
      inputSize === 0 &&
      padBegin + padEnd > 0
    ) {
      return fail(
        `${layer}: padding='${paddingName}' cannot wrap or reflect an empty input (size 0 along ${names[i]}).`,
      );
    }
    const id = inputDilation.value[i]!;
    const rule: WindowRule = {
      kind: 'window',
      kernel: k,
      dilation: d,
      stride: s,
      padBegin,
      padEnd,
      ceilMode: false,
      ...(id > 1 ? { inputDilation: id } : {}),
    };
    const size = windowSize(rule, inputSize);
    if (size === null) {
      return fail(
        `${layer}: along ${names[i]} the negative padding (${padBegin}, ${padEnd}) removes more than the ` +
          `${id > 1 ? `dilated input has ((${inputSize} − 1)·${id} + 1 = ${(inputSize - 1) * id + 1})` : `input has (${inputSize})`}; ` +
          `use padding ≥ ${-(inputSize === 0 ? 0 : (inputSize - 1) * id + 1)} in total.`,
      );
    }
    dims.push(rule);
    outSpatial.push(size);
    const note = unreadNote(names[i]!, rule, inputSize, size);
    if (note) notes.push(note);
  }
  const empty = emptyNote(names, outSpatial);
  if (empty) notes.push(empty);

  const weightShape = [...kernel.value, inFeatures / groups, features];
  const useBias = truthy(args['use_bias']);
  const biasShape = useBias ? [features] : null;
  const macs =
    product(layout.value.batch) *
    product(outSpatial) *
    features *
    product(kernel.value) *
    (inFeatures / groups);
  return ok({
    output: [...layout.value.batch, ...outSpatial, features],
    dims,
    weightShape,
    biasShape,
    params: product(weightShape) + (useBias ? features : 0),
    macs,
    notes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Transposed convolution, shared by flax.linen.ConvTranspose and jax.lax.conv_transpose
// ---------------------------------------------------------------------------------------------------------

/**
 * jax.lax._conv_transpose_padding(k, s, padding) for the forward-conv names, with k the dilated kernel span:
 *   SAME:  pad_len = k + s − 2, pad_a = k − 1 if s > k − 1 else ceil(pad_len / 2)   → out = in·s
 *   VALID: pad_len = k + s − 2 + max(k − s, 0), pad_a = k − 1                       → out = in·s + max(k − s, 0)
 *   (lo, hi) with use_consistent_padding: pads (k − lo − 1, k − hi − 1)             → PyTorch's padding
 * pad_b = pad_len − pad_a. The pads apply to the stride-dilated input.
 */
export function convTransposePadding(kEff: number, stride: number, padding: 'SAME' | 'VALID' | Pair): Pair {
  if (padding === 'SAME') {
    const padLen = kEff + stride - 2;
    const padA = stride > kEff - 1 ? kEff - 1 : Math.ceil(padLen / 2);
    return [padA, padLen - padA];
  }
  if (padding === 'VALID') {
    const padLen = kEff + stride - 2 + Math.max(kEff - stride, 0);
    return [kEff - 1, padLen - (kEff - 1)];
  }
  return [kEff - padding[0] - 1, kEff - padding[1] - 1];
}

/** How the padding of one transposed conv was given, once resolved. */
type TransposePadding =
  /** Pads on the stride-dilated input, from SAME/VALID (`name`) or given explicitly. */
  | {
      readonly kind: 'lax';
      readonly pairs: Pair[];
      readonly name: 'SAME' | 'VALID' | null;
      readonly consistent: boolean;
    }
  /** A string lax does not special-case: only legal with all strides 1, then a plain forward conv. */
  | { readonly kind: 'forward'; readonly name: 'SAME' | 'SAME_LOWER' | 'VALID'; readonly written: string }
  /** Flax CIRCULAR: VALID, then wrapped onto period in·stride. */
  | { readonly kind: 'circular' };

interface TransposeSpec {
  readonly layer: string;
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilation: readonly number[];
  readonly padding: TransposePadding;
  readonly spatial: readonly number[];
}

interface TransposeDims {
  readonly dims: DimRule[];
  readonly outSpatial: number[];
  readonly notes: string[];
}

/**
 * Sizes of a transposed conv as lax computes them: a convolution of the stride-dilated input with stride 1.
 * The reported DimRules are the transposed-conv view of the same arithmetic: explicit pads (lo, hi) are
 * PyTorch-style padding (kEff − 1 − lo, kEff − 1 − hi), with a negative end pad shown as output padding.
 */
function transposeDims(spec: TransposeSpec): Outcome<TransposeDims> {
  const { layer, kernel, strides, dilation, padding, spatial } = spec;
  const rank = kernel.length;
  const names = dimNames(rank);
  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const k = kernel[i]!;
    const d = dilation[i]!;
    const s = strides[i]!;
    const kEff = effectiveKernel(k, d);
    const inputSize = spatial[i]!;
    if (padding.kind === 'forward') {
      // lax.conv_general_dilated with lhs_dilation = strides = 1: an ordinary convolution.
      if (padding.name === 'VALID') {
        const rule: WindowRule = {
          kind: 'window',
          kernel: k,
          dilation: d,
          stride: 1,
          padBegin: 0,
          padEnd: 0,
          ceilMode: false,
        };
        dims.push(rule);
        outSpatial.push(windowSize(rule, inputSize)!);
      } else {
        const rule: DimRule = {
          kind: 'same',
          kernel: k,
          dilation: d,
          stride: 1,
          extraPadAt: padding.name === 'SAME' ? 'end' : 'begin',
        };
        dims.push(rule);
        outSpatial.push(applyDimRule(rule, inputSize));
      }
      continue;
    }
    if (padding.kind === 'circular') {
      if (inputSize === 0) {
        return fail(`${layer}: padding='CIRCULAR' cannot wrap an empty input (size 0 along ${names[i]}).`);
      }
      const rule: DimRule = { kind: 'transposed-same', kernel: k, dilation: d, stride: s };
      dims.push(rule);
      outSpatial.push(applyDimRule(rule, inputSize));
      const validSize = inputSize * s + Math.max(kEff - s, 0);
      if (validSize !== inputSize * s) {
        notes.push(
          `${names[i]}: CIRCULAR computes the VALID result (${validSize}) and wraps it onto period ` +
            `${inputSize}·${s} = ${inputSize * s}, adding the ${validSize - inputSize * s} overhanging position${validSize - inputSize * s === 1 ? '' : 's'} back at the start.`,
        );
      }
      const note = checkerboardNote(names[i]!, k, d, s);
      if (note) notes.push(note);
      continue;
    }
    const [padA, padB] = padding.pairs[i]!;
    // The equivalent convolution: input dilated by the stride, window stride 1.
    const window: WindowRule = {
      kind: 'window',
      kernel: k,
      dilation: d,
      stride: 1,
      padBegin: padA,
      padEnd: padB,
      ceilMode: false,
      ...(s > 1 ? { inputDilation: s } : {}),
    };
    const size = windowSize(window, inputSize);
    if (size === null) {
      const dilated = inputSize === 0 ? 0 : (inputSize - 1) * s + 1;
      return fail(
        `${layer}: along ${names[i]} the padding (${padA}, ${padB}) removes more than the stride-dilated input ` +
          `has ((${inputSize} − 1)·${s} + 1 = ${dilated}); JAX refuses negative padding larger than the input.`,
      );
    }
    let rule: DimRule;
    if (padding.name === 'SAME') {
      rule = { kind: 'transposed-same', kernel: k, dilation: d, stride: s };
    } else {
      const padBegin = kEff - 1 - padA;
      const padEnd = kEff - 1 - padB;
      rule = {
        kind: 'transposed',
        kernel: k,
        dilation: d,
        stride: s,
        padBegin,
        padEnd: Math.max(0, padEnd),
        outputPadding: Math.max(0, -padEnd),
      };
    }
    dims.push(rule);
    outSpatial.push(size);
    const note = checkerboardNote(names[i]!, k, d, s);
    if (note) notes.push(note);
  }
  if (padding.kind === 'lax' && padding.name === null && !padding.consistent) {
    const equivalent = padding.pairs.map(([lo], i) => effectiveKernel(kernel[i]!, dilation[i]!) - 1 - lo);
    notes.push(
      `Explicit padding pads the stride-dilated input (it is not PyTorch's padding): the PyTorch-style padding ` +
        `at the start is kernel span − 1 − low = ${formatValue(equivalent)}.`,
    );
  }
  const empty = emptyNote(names, outSpatial);
  if (empty) notes.push(empty);
  return ok({ dims, outSpatial, notes });
}

/**
 * What lax.conv_transpose does with `padding` (use_consistent_padding as given): 'SAME' and 'VALID' (exact
 * case) become _conv_transpose_padding pads; other strings reach conv_general_dilated with
 * lhs_dilation = strides, which refuses them unless every stride is 1; sequences are (low, high) pairs on
 * the dilated input, or forward-conv padding with use_consistent_padding=True.
 */
function resolveTransposePadding(
  layer: string,
  value: PyValue,
  kEffs: readonly number[],
  strides: readonly number[],
  consistent: boolean,
): Outcome<TransposePadding> {
  const rank = kEffs.length;
  if (typeof value === 'string') {
    if (value === 'SAME' || value === 'VALID') {
      return ok({
        kind: 'lax',
        pairs: kEffs.map((kEff, i) => convTransposePadding(kEff, strides[i]!, value)),
        name: value,
        consistent,
      });
    }
    if (consistent) {
      return fail(
        `${layer}: padding=${formatValue(value)} is not a padding mode; use 'SAME', 'VALID' or (low, high) pairs.`,
      );
    }
    if (strides.some((s) => s !== 1)) {
      return fail(
        `${layer}: padding=${formatValue(value)} is not one of the two strings a transposed convolution ` +
          `understands: write 'SAME' or 'VALID' exactly (upper case), or explicit (low, high) pairs. With ` +
          `strides ${formatValue([...strides])} JAX raises "String padding is not implemented for transposed convolution".`,
      );
    }
    const name = laxPaddingType(value);
    if (!name) {
      return fail(
        `${layer}: padding=${formatValue(value)} is not a padding JAX knows; use 'SAME', 'VALID' or (low, high) pairs.`,
      );
    }
    return ok({ kind: 'forward', name, written: value });
  }
  const example = `[${new Array<string>(rank).fill('(1, 1)').join(', ')}]`;
  const invalid = fail<TransposePadding>(
    `${layer}: padding ${formatValue(value)} must be 'SAME', 'VALID' or ${rank} (low, high) pair${rank === 1 ? '' : 's'}, e.g. ${example}.`,
  );
  if (!Array.isArray(value) || value.length !== rank) return invalid;
  const pairs: Pair[] = [];
  for (const entry of value as readonly PyValue[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isInteger(entry[0]!) || !isInteger(entry[1]!))
      return invalid;
    const pair: Pair = [entry[0] as number, entry[1] as number];
    if (Math.abs(pair[0]) > MAX_SIZE || Math.abs(pair[1]) > MAX_SIZE) return invalid;
    pairs.push(pair);
  }
  return ok({
    kind: 'lax',
    pairs: consistent ? pairs.map((pair, i) => convTransposePadding(kEffs[i]!, strides[i]!, pair)) : pairs,
    name: null,
    consistent,
  });
}

// ---------------------------------------------------------------------------------------------------------
// flax.linen.ConvTranspose
// ---------------------------------------------------------------------------------------------------------

/** flax.linen.ConvTranspose's dataclass fields in declaration order. */
const CONV_TRANSPOSE_PARAMS: readonly ParamSpec[] = [
  { name: 'features' },
  { name: 'kernel_size' },
  { name: 'strides', default: null },
  { name: 'padding', default: 'SAME' },
  { name: 'kernel_dilation', default: null },
  { name: 'use_bias', default: true },
  { name: 'mask', default: null },
  { name: 'dtype', default: null },
  { name: 'param_dtype', default: 'float32' },
  { name: 'precision', default: null },
  { name: 'kernel_init', default: 'lecun_normal' },
  { name: 'bias_init', default: 'zeros' },
  { name: 'transpose_kernel', default: false },
  ...MODULE_FIELDS,
];

/**
 * flax.linen.ConvTranspose: lax.conv_transpose(inputs, kernel, strides, padding, rhs_dilation=kernel_dilation,
 * transpose_kernel=...) with padding from canonicalize_padding (an int becomes (p, p) pairs on the dilated
 * input); 'CIRCULAR' runs 'VALID' and wraps the result onto period in·stride, so out = in·stride.
 * Kernel (k..., in_features, features), or (k..., features, in_features) with transpose_kernel.
 */
function inferFlaxConvTranspose(
  layer: string,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  const kernel = readKernelSize(layer, args['kernel_size']!);
  if (!kernel.ok) return kernel;
  const rank = kernel.value.length;
  const layout = readInput(layer, input, kernel.value);
  if (!layout.ok) return layout;
  const strides = broadcastTuple(layer, 'strides', args['strides']!, rank);
  if (!strides.ok) return strides;
  const dilation = broadcastTuple(layer, 'kernel_dilation', args['kernel_dilation']!, rank);
  if (!dilation.ok) return dilation;
  const features = args['features']!;
  if (!isInteger(features) || features < 1 || features > MAX_SIZE) {
    return fail(
      `${layer}: features must be a positive int (the number of output features), not ${formatValue(features)}.`,
    );
  }
  const canonical = canonicalizePadding(layer, args['padding']!, rank);
  if (!canonical.ok) return canonical;
  const kEffs = kernel.value.map((k, i) => effectiveKernel(k, dilation.value[i]!));
  let padding: Outcome<TransposePadding>;
  if (canonical.value.kind === 'string' && canonical.value.value === 'CIRCULAR') {
    padding = ok({ kind: 'circular' });
  } else {
    const value: PyValue = canonical.value.kind === 'string' ? canonical.value.value : canonical.value.pairs;
    padding = resolveTransposePadding(layer, value, kEffs, strides.value, false);
  }
  if (!padding.ok) return padding;
  const sizes = transposeDims({
    layer,
    kernel: kernel.value,
    strides: strides.value,
    dilation: dilation.value,
    padding: padding.value,
    spatial: layout.value.spatial,
  });
  if (!sizes.ok) return sizes;
  const inFeatures = layout.value.features;
  const transposeKernel = truthy(args['transpose_kernel']);
  const weightShape = transposeKernel
    ? [...kernel.value, features, inFeatures]
    : [...kernel.value, inFeatures, features];
  const useBias = truthy(args['use_bias']);
  const notes = [...notesForLayout(layer, args['kernel_size']!, input, layout.value), ...sizes.value.notes];
  return ok({
    output: [...layout.value.batch, ...sizes.value.outSpatial, features],
    dims: sizes.value.dims,
    weightShape,
    biasShape: useBias ? [features] : null,
    params: product(weightShape) + (useBias ? features : 0),
    macs:
      product(layout.value.batch) *
      product(layout.value.spatial) *
      inFeatures *
      features *
      product(kernel.value),
    notes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// jax.lax.conv_transpose
// ---------------------------------------------------------------------------------------------------------

/**
 * jax.lax.conv_transpose's signature. `lhs` and `rhs` are arrays in Python; here the input shape stands for
 * lhs, and the kernel's shape is given as `kernel` (keyword only, not part of JAX's signature) or as `rhs`.
 */
const LAX_CONV_TRANSPOSE_PARAMS: readonly ParamSpec[] = [
  { name: 'lhs', default: null },
  { name: 'rhs', default: null },
  { name: 'strides' },
  { name: 'padding' },
  { name: 'rhs_dilation', default: null },
  { name: 'dimension_numbers', default: null },
  { name: 'transpose_kernel', default: false },
  { name: 'precision', default: null },
  { name: 'preferred_element_type', default: null },
  { name: 'use_consistent_padding', default: false },
  { name: 'kernel', default: null, keywordOnly: true },
];

/** conv_transpose's default layouts by rank (TensorFlow's convention). */
const DEFAULT_DIMENSION_NUMBERS: Readonly<Record<number, readonly [string, string, string]>> = {
  2: ['NC', 'IO', 'NC'],
  3: ['NHC', 'HIO', 'NHC'],
  4: ['NHWC', 'HWIO', 'NHWC'],
  5: ['NHWDC', 'HWDIO', 'NHWDC'],
};

/** lax.conv_general_permutations: (batch/out-feature, feature/in-feature, spatial... in rhs order) per spec. */
interface Permutations {
  readonly lhs: number[];
  readonly rhs: number[];
  readonly out: number[];
}

function readDimensionNumbers(layer: string, value: PyValue, ndim: number): Outcome<Permutations> {
  let specs: readonly string[];
  if (value === null) {
    const defaults = DEFAULT_DIMENSION_NUMBERS[ndim];
    if (!defaults) {
      return fail(
        `${layer}: JAX has no default dimension_numbers for a ${ndim}-D input; pass them, e.g. ` +
          `('NHWDC', 'HWDIO', 'NHWDC') for 3-D.`,
      );
    }
    specs = defaults;
  } else if (Array.isArray(value) && value.length === 3 && value.every((spec) => typeof spec === 'string')) {
    specs = value as readonly string[];
  } else {
    return fail(
      `${layer}: dimension_numbers must be None or three layout strings such as ('NHWC', 'HWIO', 'NHWC'), ` +
        `not ${formatValue(value)}.`,
    );
  }
  const charPairs: ReadonlyArray<readonly [string, string]> = [
    ['N', 'C'],
    ['O', 'I'],
    ['N', 'C'],
  ];
  for (let i = 0; i < 3; i++) {
    const spec = specs[i]!;
    const [a, b] = charPairs[i]!;
    if (spec.length !== ndim) {
      return fail(
        `${layer}: dimension_numbers[${i}] ${formatValue(spec)} has ${spec.length} letters, but the input ` +
          `and kernel have ${ndim} axes.`,
      );
    }
    if (spec.split(a).length !== 2 || spec.split(b).length !== 2) {
      return fail(
        `${layer}: dimension_numbers[${i}] ${formatValue(spec)} must contain '${a}' and '${b}' exactly once.`,
      );
    }
    if (new Set(spec).size !== spec.length) {
      return fail(`${layer}: dimension_numbers[${i}] ${formatValue(spec)} repeats a letter.`);
    }
  }
  const [lhsSpec, rhsSpec, outSpec] = specs as [string, string, string];
  const spatialOf = (spec: string, pair: readonly [string, string]) =>
    [...spec]
      .filter((c) => c !== pair[0] && c !== pair[1])
      .sort()
      .join('');
  if (
    spatialOf(lhsSpec, ['N', 'C']) !== spatialOf(rhsSpec, ['O', 'I']) ||
    spatialOf(outSpec, ['N', 'C']) !== spatialOf(rhsSpec, ['O', 'I'])
  ) {
    return fail(
      `${layer}: dimension_numbers ${formatValue([...specs])} must name the same spatial letters in all three layouts.`,
    );
  }
  // Spatial axes follow the order their letters appear in the kernel layout.
  const rhsSpatial = [...rhsSpec].filter((c) => c !== 'O' && c !== 'I');
  const perm = (spec: string, pair: readonly [string, string]) => [
    spec.indexOf(pair[0]),
    spec.indexOf(pair[1]),
    ...rhsSpatial.map((c) => spec.indexOf(c)),
  ];
  return ok({
    lhs: perm(lhsSpec, ['N', 'C']),
    rhs: perm(rhsSpec, ['O', 'I']),
    out: perm(outSpec, ['N', 'C']),
  });
}

/** A shape given as a list of non-negative ints, or null. */
function readShape(value: PyValue): number[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  if (!value.every((v) => isInteger(v) && v >= 0 && v <= MAX_SIZE)) return null;
  return [...(value as number[])];
}

/** lax wants a sequence of one int per spatial dimension (an int is a TypeError in JAX). */
function laxTuple(
  layer: string,
  name: string,
  value: PyValue,
  rank: number,
  example: string,
): Outcome<number[]> {
  if (!Array.isArray(value)) {
    return fail(
      `${layer}: ${name} must be a sequence of ${rank} int${rank === 1 ? '' : 's'} (one per spatial dimension), ` +
        `e.g. ${name}=${example}, not ${formatValue(value)}.`,
    );
  }
  if (value.length !== rank) {
    return fail(
      `${layer}: ${name} has ${value.length} value${value.length === 1 ? '' : 's'} (${formatValue(value)}), but the ` +
        `input has ${rank} spatial dimension${rank === 1 ? '' : 's'}.`,
    );
  }
  const values = perDimension(layer, name, value, rank, 1);
  if (!values.ok) return values;
  if (values.value.some((v) => v > MAX_SIZE))
    return fail(`${layer}: ${name} ${formatValue(value)} is too large.`);
  return values;
}

/**
 * jax.lax.conv_transpose(lhs, rhs, strides, padding, rhs_dilation, dimension_numbers, transpose_kernel, ...):
 * conv_general_dilated(lhs, rhs, 1, pads, lhs_dilation=strides, rhs_dilation) with pads from
 * _conv_transpose_padding. The output feature count is the kernel's O axis (its I axis with
 * transpose_kernel, which swaps them), and the kernel's other feature axis must equal the input's features.
 */
function inferLaxConvTranspose(
  layer: string,
  args: BoundArgs,
  input: readonly number[],
): Outcome<LayerShape> {
  if (input.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(`${layer}: the input shape ${formatShape(input)} has a size that is negative or too large.`);
  }
  const ndim = input.length;
  if (ndim < 3) {
    return fail(
      `${layer}: the input (lhs) needs a batch axis, a feature axis and at least one spatial axis, got ${formatShape(input)}.`,
    );
  }
  const perms = readDimensionNumbers(layer, args['dimension_numbers']!, ndim);
  if (!perms.ok) return perms;
  const rank = ndim - 2;
  const transposeKernel = truthy(args['transpose_kernel']);
  const lhsFeatures = input[perms.value.lhs[1]!]!;

  const written = args['kernel'] !== null ? args['kernel']! : args['rhs']!;
  const kernelShape = readShape(written);
  if (!kernelShape) {
    return fail(
      `${layer} needs the kernel's shape: kernel=[${new Array<string>(rank).fill('k').join(', ')}] (spatial sizes) ` +
        `or the full rhs shape in the layout of dimension_numbers, got ${formatValue(written)}.`,
    );
  }
  let rhs: number[];
  let assumed = false;
  if (kernelShape.length === ndim) {
    rhs = kernelShape;
  } else if (kernelShape.length === rank) {
    // Only spatial sizes: build the kernel that fits the input (see ASSUMED_KERNEL_OUT_FEATURES).
    assumed = true;
    rhs = new Array<number>(ndim).fill(0);
    const [oAxis, iAxis, ...spatialAxes] = perms.value.rhs as [number, number, ...number[]];
    rhs[oAxis] = transposeKernel ? lhsFeatures : ASSUMED_KERNEL_OUT_FEATURES;
    rhs[iAxis] = transposeKernel ? ASSUMED_KERNEL_OUT_FEATURES : lhsFeatures;
    spatialAxes.forEach((axis, i) => (rhs[axis] = kernelShape[i]!));
  } else {
    return fail(
      `${layer}: kernel ${formatValue(written)} has ${kernelShape.length} sizes; give the ${rank} spatial sizes or ` +
        `the full ${ndim}-axis kernel shape (input ${formatShape(input)}).`,
    );
  }
  const kernel = perms.value.rhs.slice(2).map((axis) => rhs[axis]!);
  if (kernel.some((k) => k < 1)) {
    return fail(`${layer}: the kernel's spatial sizes ${formatValue(kernel)} must be at least 1.`);
  }
  const kernelOut = rhs[perms.value.rhs[0]!]!;
  const kernelIn = rhs[perms.value.rhs[1]!]!;
  // transpose_kernel swaps the kernel's I and O axes before the convolution.
  const [effectiveIn, effectiveOut] = transposeKernel ? [kernelOut, kernelIn] : [kernelIn, kernelOut];
  if (effectiveIn !== lhsFeatures) {
    return fail(
      `${layer}: the input has ${lhsFeatures} features but the kernel ${formatShape(rhs)} expects ` +
        `${effectiveIn} (its ${transposeKernel ? "'O' axis, because transpose_kernel=True swaps I and O" : "'I' axis"}).`,
    );
  }

  const strides = laxTuple(
    layer,
    'strides',
    args['strides']!,
    rank,
    `(${new Array<string>(rank).fill('2').join(', ')})`,
  );
  if (!strides.ok) return strides;
  const rhsDilation =
    args['rhs_dilation'] === null
      ? ok(new Array<number>(rank).fill(1))
      : laxTuple(
          layer,
          'rhs_dilation',
          args['rhs_dilation']!,
          rank,
          `(${new Array<string>(rank).fill('1').join(', ')})`,
        );
  if (!rhsDilation.ok) return rhsDilation;
  const kEffs = kernel.map((k, i) => effectiveKernel(k, rhsDilation.value[i]!));
  const padding = resolveTransposePadding(
    layer,
    args['padding']!,
    kEffs,
    strides.value,
    truthy(args['use_consistent_padding']),
  );
  if (!padding.ok) return padding;
  const lhsSpatial = perms.value.lhs.slice(2).map((axis) => input[axis]!);
  const sizes = transposeDims({
    layer,
    kernel,
    strides: strides.value,
    dilation: rhsDilation.value,
    padding: padding.value,
    spatial: lhsSpatial,
  });
  if (!sizes.ok) return sizes;

  const batch = input[perms.value.lhs[0]!]!;
  const output = new Array<number>(ndim).fill(0);
  const outTrans = [batch, effectiveOut, ...sizes.value.outSpatial];
  perms.value.out.forEach((axis, j) => (output[axis] = outTrans[j]!));
  const notes = [...sizes.value.notes];
  if (assumed) {
    notes.push(
      `The kernel's feature axes were not given, so it is taken as ${formatShape(rhs)}: ${lhsFeatures} input ` +
        `features and ${ASSUMED_KERNEL_OUT_FEATURES} output features. Pass the full kernel shape for another count.`,
    );
  }
  return ok({
    output,
    dims: sizes.value.dims,
    weightShape: rhs,
    biasShape: null,
    params: product(rhs),
    macs: batch * product(lhsSpatial) * lhsFeatures * effectiveOut * product(kernel),
    notes,
  });
}

export const flaxLayers: readonly LayerDef[] = [
  {
    framework: 'flax',
    name: 'flax.linen.Conv',
    params: CONV_PARAMS,
    summary:
      'Flax convolution over channels-last input (N, spatial..., features); kernel_size sets the rank.',
    infer: (args, input) => inferFlaxConv('flax.linen.Conv', args, input),
  },
  {
    framework: 'flax',
    name: 'flax.linen.ConvTranspose',
    params: CONV_TRANSPOSE_PARAMS,
    summary:
      'Flax transposed convolution (lax.conv_transpose) over channels-last input; SAME gives in·stride.',
    infer: (args, input) => inferFlaxConvTranspose('flax.linen.ConvTranspose', args, input),
  },
  {
    framework: 'jax',
    name: 'jax.lax.conv_transpose',
    params: LAX_CONV_TRANSPOSE_PARAMS,
    summary: 'JAX transposed convolution; padding pairs pad the stride-dilated input (not PyTorch padding).',
    infer: (args, input) => inferLaxConvTranspose('jax.lax.conv_transpose', args, input),
  },
];
