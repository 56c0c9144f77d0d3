/**
 * Framework layers inside the interpreter: which library names are layers, creating a layer value from a
 * constructor call, and applying it to a tensor through the arithmetic core — with the core's own rules, so
 * a shape in a hover is exactly what `convlens shape` says.
 *
 * Unknowns: a layer may be applied to a tensor whose sizes are partly unknown, or be built from arguments that
 * are partly unknown (`nn.Conv2d(in_ch, out_ch, 3)` inside a helper). The layer is then evaluated twice, with two
 * different stand-in values for every unknown; a dimension that comes out the same both times does not depend
 * on the unknowns and is known, the others stay unknown. Only channel-like arguments get stand-ins: an unknown
 * kernel size or stride makes the spatial sizes unknown.
 */
import { bindArguments } from '../core/arithmetic/args';
import { layerByQualifiedName } from '../core/arithmetic/registry';
import { isMultiInputLayer, isTensorLayer } from '../core/tensor/ops';
import type { BoundArgs, DimRule, LayerDef, LayerShape, Outcome, PyValue } from '../core/arithmetic/types';
import {
  type CallArguments,
  type Dim,
  type Framework,
  type LayerValue,
  type Site,
  type Value,
  fromPyValue,
  toPyValue,
  UNKNOWN,
} from './values';

/** One application of a layer to a tensor, as the interpreter saw it. */
export interface LayerCall {
  readonly layer: LayerValue;
  /** Shape of the (first) input, null when unknown. */
  readonly input: readonly Dim[] | null;
  /** Shape of the output, null when unknown. */
  readonly output: readonly Dim[] | null;
  /** What the core knows about this application when every size was known. */
  readonly shape: LayerShape | null;
  /** The core's refusal, when the layer cannot accept this input. */
  readonly error: string | null;
  /** The call expression that applied the layer (`self.conv(x)`), when known. */
  readonly callSite: Site | null;
  /** Per-dimension rules, known even when some sizes are not (they depend only on the layer's arguments). */
  readonly dims: readonly DimRule[] | null;
  /** Where the input shape came from, in words ("an example call in this file"). */
  readonly source: string;
  /** Spatial rules from the model input through this layer, for its receptive field; absent when unknown. */
  readonly history?: readonly (readonly DimRule[])[];
}

/** Canonical qualified names, so `tensorflow.keras.layers.Conv2D` and `tf.keras.layers.Conv2D` are one layer. */
export function canonicalPath(path: string): string {
  return path
    .replace(/^tensorflow\.keras\./, 'keras.')
    .replace(/^tf\.keras\./, 'keras.')
    .replace(/^keras\.src\.layers\.(?:[a-z_]+\.)*/, 'keras.layers.')
    .replace(/^torch\.nn\.modules\.[a-z_]+\./, 'torch.nn.')
    .replace(/^tensorflow\.nn\./, 'tf.nn.');
}

export function frameworkOfPath(path: string): Framework | null {
  if (path.startsWith('torch.')) return 'torch';
  if (path.startsWith('keras.')) return 'keras';
  if (path.startsWith('flax.')) return 'flax';
  return null;
}

/** Module classes of torch.nn that hold other modules rather than computing. */
export const TORCH_CONTAINERS = new Set(['Sequential', 'ModuleList', 'ModuleDict']);

/** Whether a library path names a layer class: a known LayerDef, or an unmodelled class in a layer namespace. */
export function isLayerClassPath(path: string): boolean {
  const canonical = canonicalPath(path);
  if (layerByQualifiedName(canonical)) return !canonical.includes('.functional.');
  const match = /^(torch\.nn|keras\.layers|flax\.linen)\.([A-Z]\w*)$/.exec(canonical);
  if (!match) return false;
  const name = match[2]!;
  return (
    !TORCH_CONTAINERS.has(name) &&
    !['Module', 'Layer', 'Model', 'Sequential', 'Input', 'InputLayer'].includes(name) &&
    // Parameters and buffers are tensors, not modules.
    !['Parameter', 'ParameterList', 'ParameterDict', 'Buffer', 'UninitializedParameter'].includes(name)
  );
}

let layerIds = 0;

/**
 * A layer built by a constructor call. `typeName` is the user's subclass when the layer is one
 * (`class Conv3DSimple(nn.Conv3d)`); the framework class still decides the shapes.
 */
export function createLayer(path: string, args: CallArguments, typeName?: string): LayerValue | null {
  const canonical = canonicalPath(path);
  const framework = frameworkOfPath(canonical);
  if (!framework || !args.site) return null;
  const frameworkClass = canonical.slice(canonical.lastIndexOf('.') + 1);
  return {
    kind: 'layer',
    def: layerByQualifiedName(canonical) ?? null,
    className: typeName ?? frameworkClass,
    frameworkClass,
    framework,
    positional: args.positional,
    keyword: args.keyword,
    site: args.site,
    id: ++layerIds,
  };
}

/** Arguments Keras layers take on top of their own (Layer base class keywords) that shape rules ignore. */
const IGNORED_KEYWORDS = new Set([
  'name',
  'dtype',
  'trainable',
  'device',
  'input_shape',
  'batch_input_shape',
  'batch_size',
]);

/** Parameters whose unknown value may be stood in for: they set channel counts, not spatial sizes. */
const CHANNEL_PARAMS = new Set([
  'in_channels',
  'out_channels',
  'num_features',
  'in_features',
  'out_features',
  'num_channels',
  'features',
  'filters',
  'units',
  'embedding_dim',
  'num_embeddings',
  'num_parameters',
]);

/**
 * Parameters that never change an output shape (they change values, parameter counts or dtypes). When one is
 * unknown (`bias=use_bias` computed from a norm layer), its default stands in: the shape is the same either way.
 */
const SHAPE_NEUTRAL_PARAMS = new Set([
  'bias',
  'use_bias',
  'inplace',
  'affine',
  'elementwise_affine',
  'track_running_stats',
  'momentum',
  'eps',
  'epsilon',
  'dtype',
  'param_dtype',
  'device',
  'name',
  'activation',
  'kernel_initializer',
  'bias_initializer',
  'kernel_init',
  'bias_init',
  'kernel_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'bias_constraint',
  'use_running_average',
  'negative_slope',
  'alpha',
  'p',
  'rate',
  'value',
  'count_include_pad',
  'divisor_override',
  'precision',
  'scale',
  'center',
  'use_scale',
  'deterministic',
  'approximate',
  'beta',
  'threshold',
  'min_val',
  'max_val',
  'lambd',
  'init',
]);

function isShapeNeutral(name: string): boolean {
  return SHAPE_NEUTRAL_PARAMS.has(name) || /_(?:init|initializer|regularizer|constraint|dtype)$/.test(name);
}

/** Parameters that must equal a dimension of the input, and which one (PyTorch, channels first). */
function inputBoundParam(def: LayerDef, name: string, inputRank: number): number | null {
  if (def.framework !== 'pytorch') return null;
  if (name === 'in_features') return inputRank - 1;
  if (name === 'in_channels' || name === 'num_features' || name === 'num_channels') {
    const spatial = /([123])d$/.exec(def.name);
    if (spatial) return inputRank === Number(spatial[1]) + 1 ? 0 : 1;
    return inputRank === 1 ? 0 : 1;
  }
  return null;
}

const STAND_INS: readonly (readonly number[])[] = [
  [4099, 4111, 4127, 4129, 4133, 4139, 4153, 4157],
  [8209, 8219, 8221, 8231, 8233, 8237, 8243, 8263],
];

export interface Application {
  readonly output: readonly Dim[] | null;
  readonly shape: LayerShape | null;
  readonly error: string | null;
  readonly dims: readonly DimRule[] | null;
}

/**
 * Applies a layer to an input shape through the core. `error` is set only when the refusal does not depend on
 * anything unknown, so a diagnostic is never raised on a guess.
 */
export function applyLayerToShape(
  layer: LayerValue,
  input: readonly Dim[] | null,
  outputSize: readonly number[] | null,
): Application {
  const def = layer.def;
  if (input === null) {
    // An input of unknown shape: for layers whose rank the class name fixes (Conv2d, MaxPooling1D), an input
    // of that rank with every size unknown still gives the formulas and the channel count.
    // Flax's Conv and ConvTranspose take their rank from kernel_size's length.
    const spatial = /([123])[dD](?:Transpose)?$/.exec(layer.frameworkClass);
    const kernel =
      layer.framework === 'flax' ? (layer.keyword.get('kernel_size') ?? layer.positional[1]) : undefined;
    const flaxRank = kernel && (kernel.kind === 'tuple' || kernel.kind === 'list') ? kernel.items.length : 0;
    const rank = spatial ? Number(spatial[1]) : flaxRank;
    if (!def || rank < 1 || rank > 3) return { output: null, shape: null, error: null, dims: null };
    return applyLayerToShape(layer, new Array<Dim>(rank + 2).fill(null), outputSize);
  }
  if (!def) return { output: null, shape: null, error: null, dims: null };
  // A required argument that was never given makes the constructor raise, before any forward pass: that is
  // not a shape the layer computes (and the editor builds classes without their arguments to see formulas).
  const positionalNamesInOrder = def.params.filter((p) => !p.keywordOnly);
  const missing = def.params.some(
    (param) =>
      param.default === undefined &&
      !layer.keyword.has(param.name) &&
      (param.keywordOnly || positionalNamesInOrder.indexOf(param) >= layer.positional.length),
  );
  if (missing) return { output: null, shape: null, error: null, dims: null };
  const params = new Set(def.params.map((p) => p.name));
  const positional: (PyValue | undefined)[] = layer.positional.map(toPyValue);
  const keyword = new Map<string, PyValue | undefined>();
  for (const [name, value] of layer.keyword) {
    if (IGNORED_KEYWORDS.has(name) && !params.has(name)) continue;
    keyword.set(name, toPyValue(value));
  }
  const positionalNames = def.params.filter((p) => !p.keywordOnly).map((p) => p.name);
  // Shape-neutral arguments whose value is unknown take their default (see SHAPE_NEUTRAL_PARAMS).
  const neutralDefault = (name: string): PyValue | undefined => {
    if (!isShapeNeutral(name)) return undefined;
    const param = def.params.find((p) => p.name === name);
    return param?.default === undefined ? undefined : param.default;
  };
  // A stand-in default may change the parameter count (bias), so the weights are then not reported.
  let substituted = false;
  positional.forEach((value, i) => {
    if (value !== undefined) return;
    positional[i] = neutralDefault(positionalNames[i] ?? '');
    substituted ||= positional[i] !== undefined;
  });
  for (const [name, value] of keyword) {
    if (value !== undefined) continue;
    const fallback = neutralDefault(name);
    substituted = true;
    if (fallback !== undefined) keyword.set(name, fallback);
    else if (isShapeNeutral(name) && !params.has(name)) keyword.delete(name);
    else substituted = false;
  }
  // Map unknown arguments to parameter names, to see whether stand-ins may be used.
  const unknownParams: string[] = [];
  positional.forEach((value, i) => {
    if (value === undefined) unknownParams.push(positionalNames[i] ?? `#${i}`);
  });
  for (const [name, value] of keyword) if (value === undefined) unknownParams.push(name);
  const unknownDims = input.some((dim) => dim === null);
  if (unknownParams.length === 0 && !unknownDims) {
    const result = infer(
      def,
      positional as PyValue[],
      keyword as Map<string, PyValue>,
      input as number[],
      outputSize,
    );
    return result.ok
      ? {
          output: result.value.output,
          shape: substituted ? null : result.value,
          error: null,
          dims: result.value.dims,
        }
      : { output: null, shape: null, error: result.error, dims: null };
  }
  if (unknownParams.length === 0 && isTensorLayer(def)) {
    // Layers that reason about unknown sizes themselves (norms, Linear, pads, upsampling) say exactly which
    // output sizes are known.
    const bound = bindArguments(
      def.name,
      def.params,
      positional as PyValue[],
      Object.fromEntries(keyword) as Record<string, PyValue>,
    );
    if (!bound.ok) return { output: null, shape: null, error: bound.error, dims: null };
    const answer = def.inferTensor(bound.value, input);
    return answer.ok
      ? { output: answer.value.output, shape: null, error: null, dims: answer.value.dims }
      : { output: null, shape: null, error: answer.error, dims: null };
  }
  if (unknownParams.some((name) => !CHANNEL_PARAMS.has(name))) {
    return { output: null, shape: null, error: null, dims: null };
  }
  const runs = STAND_INS.map((standIns) => {
    let next = 0;
    const take = () => standIns[next++ % standIns.length]!;
    const concreteInput = input.map((dim) => (dim === null ? take() : dim));
    // An unknown input dimension that a known argument pins (in_channels for the channel axis) takes its value.
    def.params.forEach((param, index) => {
      const axis = inputBoundParam(def, param.name, input.length);
      if (axis === null || input[axis] !== null) return;
      const given = keyword.has(param.name)
        ? keyword.get(param.name)
        : positional[positionalNames.indexOf(param.name)];
      if (typeof given === 'number' && index >= 0) concreteInput[axis] = given;
    });
    const value = (name: string, given: PyValue | undefined): PyValue | undefined => {
      if (given !== undefined) return given;
      const axis = inputBoundParam(def, name, input.length);
      if (axis !== null && axis < concreteInput.length) return concreteInput[axis]!;
      return take();
    };
    const concretePositional = positional.map((given, i) =>
      value(positionalNames[i] ?? '', given),
    ) as PyValue[];
    const concreteKeyword = new Map<string, PyValue>();
    for (const [name, given] of keyword) concreteKeyword.set(name, value(name, given)!);
    return infer(def, concretePositional, concreteKeyword, concreteInput, outputSize);
  });
  const [first, second] = runs;
  if (!first?.ok || !second?.ok || first.value.output.length !== second.value.output.length) {
    // Refused whatever the unknowns stand for: the arguments themselves are wrong (groups, padding='same' with
    // a stride, …), which is worth saying even before an input shape is known.
    const argumentError =
      first && !first.ok && second && !second.ok && first.error === second.error ? first.error : null;
    return { output: null, shape: null, error: argumentError, dims: null };
  }
  const output = first.value.output.map((dim, i) => (dim === second.value.output[i] ? dim : null));
  // 'same' and fixed rules do not depend on the stand-in sizes; the others are the layer's own.
  return { output, shape: null, error: null, dims: first.value.dims };
}

function infer(
  def: LayerDef,
  positional: readonly PyValue[],
  keyword: ReadonlyMap<string, PyValue>,
  input: readonly number[],
  outputSize: readonly number[] | null,
): Outcome<LayerShape> {
  const bound = bindArguments(def.name, def.params, positional, Object.fromEntries(keyword));
  if (!bound.ok) return bound;
  return def.infer(bound.value, input, { outputSize });
}

/** The layer's arguments bound to its signature, where all are known (for attribute reads like `conv.out_channels`). */
export function boundLayerArgs(layer: LayerValue): BoundArgs | null {
  if (!layer.def) return null;
  const positional = layer.positional.map(toPyValue);
  const keyword: Record<string, PyValue> = {};
  for (const [name, value] of layer.keyword) {
    const converted = toPyValue(value);
    if (converted === undefined) return null;
    if (IGNORED_KEYWORDS.has(name) && !layer.def.params.some((p) => p.name === name)) continue;
    keyword[name] = converted;
  }
  if (positional.some((value) => value === undefined)) return null;
  const bound = bindArguments(layer.def.name, layer.def.params, positional as PyValue[], keyword);
  return bound.ok ? bound.value : null;
}

/** Reads an attribute of a layer (`conv.out_channels`, `bn.num_features`), or unknown. */
export function layerAttribute(layer: LayerValue, name: string): Value {
  const direct = layer.keyword.get(name);
  if (direct !== undefined) return direct;
  if (layer.def) {
    const index = layer.def.params.filter((p) => !p.keywordOnly).findIndex((p) => p.name === name);
    if (index >= 0 && index < layer.positional.length) return layer.positional[index]!;
    const param = layer.def.params.find((p) => p.name === name);
    if (param?.default !== undefined) return fromPyValue(param.default);
  }
  return UNKNOWN;
}

/** Applies a layer that takes several tensors (Keras Concatenate/Add, nn.Bilinear) to their shapes. */
export function applyLayerToShapes(
  layer: LayerValue,
  inputs: readonly (readonly Dim[] | null)[],
): Application {
  const def = layer.def;
  if (!def || !isMultiInputLayer(def) || inputs.some((shape) => shape === null)) {
    return { output: null, shape: null, error: null, dims: null };
  }
  const args = boundLayerArgs(layer);
  if (!args) return { output: null, shape: null, error: null, dims: null };
  const answer = def.inferMany(args, inputs as (readonly Dim[])[]);
  return answer.ok
    ? { output: answer.value.output, shape: null, error: null, dims: null }
    : { output: null, shape: null, error: answer.error, dims: null };
}

/** Recurrent layers whose call returns a tuple: the output sequence and the final hidden (and cell) state. */
const RECURRENT_PARAMS: Record<string, readonly string[]> = {
  LSTM: [
    'input_size',
    'hidden_size',
    'num_layers',
    'bias',
    'batch_first',
    'dropout',
    'bidirectional',
    'proj_size',
  ],
  GRU: ['input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first', 'dropout', 'bidirectional'],
  RNN: [
    'input_size',
    'hidden_size',
    'num_layers',
    'nonlinearity',
    'bias',
    'batch_first',
    'dropout',
    'bidirectional',
  ],
  LSTMCell: ['input_size', 'hidden_size', 'bias'],
  GRUCell: ['input_size', 'hidden_size', 'bias'],
  RNNCell: ['input_size', 'hidden_size', 'bias', 'nonlinearity'],
};

export function isRecurrentLayer(layer: LayerValue): boolean {
  return layer.framework === 'torch' && layer.frameworkClass in RECURRENT_PARAMS;
}

export interface RecurrentApplication {
  /** The output sequence (or, for a cell, the next hidden state). */
  readonly output: readonly Dim[] | null;
  /** h_n, and c_n for an LSTM: the final states. */
  readonly states: (readonly Dim[] | null)[];
  readonly error: string | null;
}

/**
 * torch.nn.RNN / LSTM / GRU and their cells (torch/nn/modules/rnn.py). With D = 2 when bidirectional, else 1,
 * and H_out = proj_size or hidden_size, an input (L, N, H_in) — (N, L, H_in) when batch_first, (L, H_in)
 * unbatched — gives the output (L, N, D·H_out), h_n (D·num_layers, N, H_out) and, for an LSTM, c_n
 * (D·num_layers, N, hidden_size). A cell maps (N, H_in) to (N, hidden_size). The last input dimension must
 * equal input_size.
 */
export function applyRecurrent(layer: LayerValue, input: readonly Dim[] | null): RecurrentApplication {
  const names = RECURRENT_PARAMS[layer.frameworkClass]!;
  const arg = (name: string): Value | undefined => {
    const index = names.indexOf(name);
    return layer.keyword.get(name) ?? (index >= 0 ? layer.positional[index] : undefined);
  };
  const number = (name: string, fallback: number): number | null => {
    const value = arg(name);
    if (value === undefined) return fallback;
    const converted = toPyValue(value);
    if (typeof converted === 'boolean') return converted ? 1 : 0;
    return typeof converted === 'number' && Number.isInteger(converted) ? converted : null;
  };
  const inputSize = number('input_size', -1);
  const hidden = number('hidden_size', -1);
  const unknownResult: RecurrentApplication = { output: null, states: [], error: null };
  if (!input || hidden === -1) return unknownResult;
  const cell = layer.frameworkClass.endsWith('Cell');
  const last = input[input.length - 1];
  if (inputSize !== null && inputSize >= 0 && last !== null && last !== undefined && last !== inputSize) {
    return {
      output: null,
      states: [],
      error: `input.size(-1) must be equal to input_size. Expected ${inputSize}, got ${last}`,
    };
  }
  if (cell) {
    if (input.length !== 1 && input.length !== 2)
      return {
        ...unknownResult,
        error: `${layer.frameworkClass}: Expected input to be 1D or 2D, got ${input.length}D instead`,
      };
    const state = [...input.slice(0, -1), hidden];
    return {
      output: state,
      states: layer.frameworkClass === 'LSTMCell' ? [state, state] : [state],
      error: null,
    };
  }
  if (input.length !== 2 && input.length !== 3)
    return {
      ...unknownResult,
      error: `${layer.frameworkClass}: Expected input to be 2D or 3D, got ${input.length}D instead`,
    };
  const layers = number('num_layers', 1);
  const bidirectional = number('bidirectional', 0);
  const batchFirst = number('batch_first', 0);
  const projection = layer.frameworkClass === 'LSTM' ? number('proj_size', 0) : 0;
  const directions = bidirectional === null ? null : bidirectional ? 2 : 1;
  const out = projection === null || hidden === null ? null : projection > 0 ? projection : hidden;
  const times = (a: number | null, b: number | null) => (a === null || b === null ? null : a * b);
  const output = [...input.slice(0, -1), times(directions, out)];
  const batch = input.length === 3 ? [batchFirst === null ? null : input[batchFirst ? 0 : 1]!] : [];
  const stateRows = times(directions, layers);
  const states = [[stateRows, ...batch, out]];
  if (layer.frameworkClass === 'LSTM') states.push([stateRows, ...batch, hidden]);
  return { output, states, error: null };
}
