/**
 * The shape calculator's model of a layer, independent of VS Code: which layer of which framework a
 * (framework, kind, rank) choice means, which of its parameters the calculator asks for (with the values it
 * prefills), how a one-line parameter text binds onto the real signature, and the code that writes the layer in
 * that framework's own syntax (`nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)`,
 * `layers.Conv2DTranspose(32, 4, strides=2, padding='same')`, `nn.ConvTranspose(features=32, ...)`,
 * `helper.make_node('ConvTranspose', ...)`).
 *
 * The calculator computes shapes from the very text it would insert (through analyzeLayerCall), so what it
 * shows and what it writes cannot disagree.
 */
import { bindArguments, formatShape, formatValue } from './arithmetic/args';
import { layerByQualifiedName } from './arithmetic/registry';
import type { BoundArgs, Framework, LayerDef, Outcome, ParamSpec, PyValue } from './arithmetic/types';
import { fail, ok } from './arithmetic/types';
import { type SizeSetting, forwardSettings, settingsForTarget, transposedSettings } from './arithmetic/solve';
import { dimFormula, dimNames } from './arithmetic/symbolic';
import { parseCallExpression } from './callExpression';
import { type LayerAnalysis, analyzeLayerCall } from './describe';

/** The frameworks the calculator writes code for (TensorFlow's layers are Keras's; JAX's are Flax's). */
export type CalculatorFramework = 'pytorch' | 'keras' | 'flax' | 'onnx';
export const CALCULATOR_FRAMEWORKS: readonly CalculatorFramework[] = ['pytorch', 'keras', 'flax', 'onnx'];

export type LayerKind = 'conv' | 'convTranspose' | 'maxPool' | 'avgPool';
export const LAYER_KINDS: readonly LayerKind[] = ['conv', 'convTranspose', 'maxPool', 'avgPool'];

export interface LayerChoice {
  readonly framework: CalculatorFramework;
  readonly kind: LayerKind;
  /** Spatial rank: 1, 2 or 3. */
  readonly rank: number;
}

export const FRAMEWORK_NAMES: Readonly<Record<CalculatorFramework, string>> = {
  pytorch: 'PyTorch',
  keras: 'Keras / TensorFlow',
  flax: 'Flax / JAX',
  onnx: 'ONNX',
};

/** The import the generated code assumes, per framework. */
export const FRAMEWORK_IMPORTS: Readonly<Record<CalculatorFramework, string>> = {
  pytorch: 'from torch import nn',
  keras: 'from keras import layers',
  flax: 'from flax import linen as nn',
  onnx: 'from onnx import helper',
};

/** Input layout in words, for prompts: channels first (PyTorch, ONNX) or last (Keras, Flax). */
export function inputLayout(framework: CalculatorFramework, rank: number): string {
  const spatial = ['L', 'H, W', 'D, H, W'][rank - 1] ?? 'H, W';
  return framework === 'pytorch' || framework === 'onnx' ? `N, C, ${spatial}` : `N, ${spatial}, C`;
}

/** A typical input for a layer: batch 1, `channels` channels, 16 per spatial dimension, in its layout. */
export function defaultInput(framework: CalculatorFramework, rank: number, channels: number): number[] {
  const spatial = Array.from({ length: rank }, () => 16);
  return framework === 'pytorch' || framework === 'onnx'
    ? [1, channels, ...spatial]
    : [1, ...spatial, channels];
}

const TORCH_NAMES: Record<LayerKind, string> = {
  conv: 'Conv',
  convTranspose: 'ConvTranspose',
  maxPool: 'MaxPool',
  avgPool: 'AvgPool',
};
const KERAS_NAMES: Record<LayerKind, (rank: number) => string> = {
  conv: (r) => `Conv${r}D`,
  convTranspose: (r) => `Conv${r}DTranspose`,
  maxPool: (r) => `MaxPooling${r}D`,
  avgPool: (r) => `AveragePooling${r}D`,
};
const ONNX_OPS: Record<LayerKind, string> = {
  conv: 'Conv',
  convTranspose: 'ConvTranspose',
  maxPool: 'MaxPool',
  avgPool: 'AveragePool',
};

/** The layer a choice means, or why the calculator has none (Flax pooling is a function, not a layer). */
export function layerForChoice(choice: LayerChoice): Outcome<LayerDef> {
  const { framework, kind, rank } = choice;
  if (!Number.isInteger(rank) || rank < 1 || rank > 3) {
    return fail(`The calculator covers 1-D to 3-D layers; got ${String(rank)} spatial dimensions.`);
  }
  let name: string | null;
  switch (framework) {
    case 'pytorch':
      name = `torch.nn.${TORCH_NAMES[kind]}${rank}d`;
      break;
    case 'keras':
      name = `keras.layers.${KERAS_NAMES[kind](rank)}`;
      break;
    case 'flax':
      name =
        kind === 'conv' ? 'flax.linen.Conv' : kind === 'convTranspose' ? 'flax.linen.ConvTranspose' : null;
      break;
    case 'onnx':
      name = `onnx.${ONNX_OPS[kind]}`;
      break;
    default:
      return fail(
        `Unknown framework ${JSON.stringify(framework)}; the calculator writes ${CALCULATOR_FRAMEWORKS.join(', ')}.`,
      );
  }
  if (name === null) {
    return fail(
      'Flax pools with the functions nn.max_pool / nn.avg_pool, which the calculator does not cover yet; ' +
        'pick Conv or ConvTranspose, or another framework.',
    );
  }
  const def = layerByQualifiedName(name);
  return def ? ok(def) : fail(`Conv Lens does not know ${name}.`);
}

/** The name a choice's layer is written with in code: `nn.ConvTranspose2d`, `layers.Conv2DTranspose`, … */
export function writtenName(choice: LayerChoice): string {
  switch (choice.framework) {
    case 'pytorch':
      return `nn.${TORCH_NAMES[choice.kind]}${choice.rank}d`;
    case 'keras':
      return `layers.${KERAS_NAMES[choice.kind](choice.rank)}`;
    case 'flax':
      return choice.kind === 'convTranspose' ? 'nn.ConvTranspose' : 'nn.Conv';
    case 'onnx':
      return ONNX_OPS[choice.kind];
  }
}

/** A parameter the calculator asks for, with the value it prefills (Python syntax). */
export interface CalculatorParam {
  readonly name: string;
  readonly prefill: string;
  /** Whether the layer requires it (no default in the signature). */
  readonly required: boolean;
}

const isConvKind = (kind: LayerKind): boolean => kind === 'conv' || kind === 'convTranspose';

/**
 * The ONNX node's output channel count is not an attribute: it is the weight W's shape. The calculator asks for
 * it as `out_channels` and builds W from it; every other name is the operator's real attribute.
 */
const ONNX_OUT_CHANNELS: ParamSpec = { name: 'out_channels' };

/** The signature the calculator binds against: the layer's own, with ONNX's W replaced by out_channels. */
export function calculatorSignature(choice: LayerChoice, def: LayerDef): ParamSpec[] {
  if (choice.framework !== 'onnx') return [...def.params];
  const attributes = def.params.filter((param) => param.name !== 'weight_shape');
  return isConvKind(choice.kind) ? [ONNX_OUT_CHANNELS, ...attributes] : attributes;
}

/** Which parameters the per-parameter flow asks for, in order; the one-line form accepts any of the signature. */
const ASKED: Record<CalculatorFramework, Record<LayerKind, readonly string[]>> = {
  pytorch: {
    conv: ['in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups', 'bias'],
    convTranspose: [
      'in_channels',
      'out_channels',
      'kernel_size',
      'stride',
      'padding',
      'output_padding',
      'dilation',
      'groups',
      'bias',
    ],
    maxPool: ['kernel_size', 'stride', 'padding', 'dilation', 'ceil_mode'],
    avgPool: ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad'],
  },
  keras: {
    conv: ['filters', 'kernel_size', 'strides', 'padding', 'dilation_rate', 'groups', 'use_bias'],
    convTranspose: [
      'filters',
      'kernel_size',
      'strides',
      'padding',
      'output_padding',
      'dilation_rate',
      'use_bias',
    ],
    maxPool: ['pool_size', 'strides', 'padding'],
    avgPool: ['pool_size', 'strides', 'padding'],
  },
  flax: {
    conv: [
      'features',
      'kernel_size',
      'strides',
      'padding',
      'kernel_dilation',
      'feature_group_count',
      'use_bias',
    ],
    convTranspose: ['features', 'kernel_size', 'strides', 'padding', 'kernel_dilation', 'use_bias'],
    maxPool: [],
    avgPool: [],
  },
  onnx: {
    conv: ['out_channels', 'kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'group'],
    convTranspose: [
      'out_channels',
      'kernel_shape',
      'strides',
      'pads',
      'output_padding',
      'output_shape',
      'dilations',
      'auto_pad',
      'group',
    ],
    maxPool: ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'ceil_mode'],
    avgPool: ['kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', 'count_include_pad'],
  },
};

/** Prefills for the required parameters (the signature's defaults fill the rest). */
function requiredPrefill(choice: LayerChoice, name: string): PyValue {
  const kernel = choice.kind === 'convTranspose' ? 4 : choice.kind === 'conv' ? 3 : 2;
  const perDim = (value: number): PyValue => Array.from({ length: choice.rank }, () => value);
  switch (name) {
    case 'in_channels':
      return 64;
    case 'out_channels':
    case 'filters':
    case 'features':
      return 32;
    case 'kernel_size':
      // Flax reads an int kernel_size as a 1-D kernel, so it gets a tuple; the others take one int for all.
      return choice.framework === 'flax' ? perDim(kernel) : kernel;
    case 'kernel_shape':
      return perDim(kernel);
    default:
      return null;
  }
}

/** The parameters the per-parameter flow asks for, each with its prefill. */
export function calculatorParams(choice: LayerChoice): CalculatorParam[] {
  const def = layerForChoice(choice);
  if (!def.ok) return [];
  const signature = calculatorSignature(choice, def.value);
  return ASKED[choice.framework][choice.kind].flatMap((name) => {
    const spec = signature.find((param) => param.name === name);
    if (!spec) return [];
    const required = spec.default === undefined;
    // ONNX may infer kernel_shape from W, but the calculator builds W from kernel_shape, so it asks for it.
    const value = required || name === 'kernel_shape' ? requiredPrefill(choice, name) : spec.default!;
    return [{ name, prefill: pyLiteral(value, choice.framework === 'onnx'), required }];
  });
}

/** The prefilled values of every asked parameter, as a bound set of values. */
export function defaultValues(choice: LayerChoice): Outcome<BoundArgs> {
  const params = calculatorParams(choice);
  const keyword: Record<string, PyValue> = {};
  for (const param of params) {
    const value = parsePyValue(param.prefill);
    if (value.ok) keyword[param.name] = value.value;
  }
  return bindValues(choice, [], keyword);
}

/** Reads one Python literal: `4`, `(4, 4)`, `'same'`, `None`, `True`. */
export function parsePyValue(text: string): Outcome<PyValue> {
  if (text.trim() === '') return fail('Empty: write a value such as 2, (2, 2), None or ' + "'same'.");
  const call = parseCallExpression(`value(${text})`);
  if (!call.ok) return fail(`'${text.trim()}' is not a Python value: ${call.error}`);
  if (call.value.positional.length !== 1 || Object.keys(call.value.keyword).length > 0) {
    return fail(`'${text.trim()}' is more than one value; write a tuple in parentheses, e.g. (2, 2).`);
  }
  if (call.value.positionalNames[0] !== null) {
    return fail(
      `'${text.trim()}' is a name; the calculator needs a literal value (a number, tuple, string, True/False/None).`,
    );
  }
  return ok(call.value.positional[0]!);
}

/** Python source for a value; ONNX attributes are lists (`[2, 2]`), everything else tuples. */
export function pyLiteral(value: PyValue, lists = false): string {
  if (Array.isArray(value)) {
    const items = (value as readonly PyValue[]).map((item) => pyLiteral(item, lists));
    if (lists) return `[${items.join(', ')}]`;
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  return formatValue(value);
}

/**
 * Binds a one-line parameter text (`64, 32, kernel_size=4, stride=2, padding=1`: what goes between the
 * parentheses) onto the calculator's signature, on top of `base` values (keywords in the text replace them;
 * positionals bind from the first parameter as Python does).
 */
export function bindParamLine(choice: LayerChoice, line: string, base?: BoundArgs): Outcome<BoundArgs> {
  const call = parseCallExpression(`layer(${line})`);
  if (!call.ok) return fail(`The parameters do not read as Python arguments: ${call.error}`);
  const named = call.value.positionalNames.findIndex((name) => name !== null);
  if (named >= 0) {
    return fail(
      `'${call.value.positionalNames[named]}' is a name; the calculator needs literal values ` +
        `(numbers, tuples, strings, True/False/None).`,
    );
  }
  const def = layerForChoice(choice);
  if (!def.ok) return def;
  const positionalNames = calculatorSignature(choice, def.value)
    .filter((param) => !param.keywordOnly)
    .slice(0, call.value.positional.length)
    .map((param) => param.name);
  const keyword: Record<string, PyValue> = {};
  // Values from `base` that the line does not give again (by keyword or position) stay.
  for (const [name, value] of Object.entries(base ?? {})) {
    if (!(name in call.value.keyword) && !positionalNames.includes(name)) keyword[name] = value;
  }
  Object.assign(keyword, call.value.keyword);
  return bindValues(choice, call.value.positional, keyword);
}

/** Binds values onto the calculator's signature (defaults filled in), with the layer's own messages. */
export function bindValues(
  choice: LayerChoice,
  positional: readonly PyValue[],
  keyword: Readonly<Record<string, PyValue>>,
): Outcome<BoundArgs> {
  const def = layerForChoice(choice);
  if (!def.ok) return def;
  return bindArguments(writtenName(choice), calculatorSignature(choice, def.value), positional, keyword);
}

/** Whether a bound value is the signature's default, so the generated code can leave it out. */
function isDefault(choice: LayerChoice, spec: ParamSpec, value: PyValue): boolean {
  if (spec.default === undefined) return false;
  if (sameValue(spec.default, value)) return true;
  // PyTorch and Keras read one int as that int for every dimension, so (1, 1) and 1 are the same default.
  if (choice.framework === 'pytorch' || choice.framework === 'keras') {
    const expand = (v: PyValue): PyValue =>
      typeof v === 'number' ? Array.from({ length: choice.rank }, () => v) : v;
    return sameValue(expand(spec.default), expand(value));
  }
  return false;
}

function sameValue(a: PyValue, b: PyValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const x = a as readonly PyValue[];
    const y = b as readonly PyValue[];
    return x.length === y.length && x.every((item, n) => sameValue(item, y[n]!));
  }
  return a === b;
}

/** Which parameters each framework's code passes positionally (the rest go by keyword). */
const POSITIONAL: Record<CalculatorFramework, readonly string[]> = {
  pytorch: ['in_channels', 'out_channels'],
  keras: ['filters', 'kernel_size'],
  flax: [],
  onnx: [],
};

/**
 * The layer in its framework's syntax, from bound values: required parameters and every value that differs
 * from the signature's default. PyTorch passes the channels positionally, Keras filters and kernel_size, Flax
 * names everything, ONNX is a `helper.make_node` call whose output channels live in W's shape.
 */
export function layerCode(choice: LayerChoice, values: BoundArgs): Outcome<string> {
  const def = layerForChoice(choice);
  if (!def.ok) return def;
  // The asked parameters first, in the calculator's order (ONNX's signature is alphabetical), then the rest.
  const asked = ASKED[choice.framework][choice.kind];
  const rank = (name: string): number => (asked.includes(name) ? asked.indexOf(name) : asked.length);
  const signature = calculatorSignature(choice, def.value)
    .map((spec, index) => ({ spec, index }))
    .sort((a, b) => rank(a.spec.name) - rank(b.spec.name) || a.index - b.index)
    .map((entry) => entry.spec);
  const lists = choice.framework === 'onnx';
  const positional: string[] = [];
  const keyword: string[] = [];
  let positionalOpen = true;
  for (const spec of signature) {
    if (!(spec.name in values)) continue;
    const value = values[spec.name]!;
    if (choice.framework === 'onnx' && spec.name === 'out_channels') continue;
    const needed =
      spec.default === undefined ||
      !isDefault(choice, spec, value) ||
      (choice.framework === 'onnx' && spec.name === 'kernel_shape' && value !== null) ||
      // Flax's default padding is 'SAME', unlike PyTorch's 0 and Keras's 'valid': written out, nobody misreads it.
      (choice.framework === 'flax' && spec.name === 'padding');
    if (!needed) {
      positionalOpen = false;
      continue;
    }
    const literal = pyLiteral(value, lists);
    if (positionalOpen && POSITIONAL[choice.framework].includes(spec.name)) positional.push(literal);
    else {
      positionalOpen = false;
      keyword.push(`${spec.name}=${literal}`);
    }
  }
  const args = [...positional, ...keyword];
  if (choice.framework !== 'onnx') return ok(`${writtenName(choice)}(${args.join(', ')})`);
  const inputs = isConvKind(choice.kind) ? `['X', 'W']` : `['X']`;
  return ok(
    `helper.make_node('${ONNX_OPS[choice.kind]}', ${inputs}, ['Y']${args.map((a) => `, ${a}`).join('')})`,
  );
}

/**
 * The shape of ONNX's W for a conv node: Conv [M, C/group, k…], ConvTranspose [C, M/group, k…] (ONNX
 * operator spec), from the input's channel count C and the calculator's out_channels M.
 */
export function onnxWeightShape(
  kind: LayerKind,
  values: BoundArgs,
  inputChannels: number,
): Outcome<number[]> {
  const kernel = values['kernel_shape'] ?? null;
  const group = values['group'] ?? 1;
  const out = values['out_channels'];
  const ints = (v: PyValue): v is readonly number[] =>
    Array.isArray(v) && (v as readonly PyValue[]).every((x) => typeof x === 'number' && Number.isInteger(x));
  if (!ints(kernel)) {
    return fail(
      `kernel_shape must be a list of integers such as [3, 3] (the calculator builds W from it), got ${pyLiteral(kernel ?? null, true)}.`,
    );
  }
  if (typeof out !== 'number' || !Number.isInteger(out) || out < 1) {
    return fail(
      `out_channels (W's output channels) must be a positive integer, got ${formatValue(out ?? null)}.`,
    );
  }
  if (typeof group !== 'number' || !Number.isInteger(group) || group < 1) {
    return fail(`group must be a positive integer, got ${formatValue(group)}.`);
  }
  if (kind === 'conv') {
    if (inputChannels % group !== 0) {
      return fail(`group (${group}) must divide the input's ${inputChannels} channels.`);
    }
    return ok([out, inputChannels / group, ...kernel]);
  }
  if (out % group !== 0) return fail(`group (${group}) must divide out_channels (${out}).`);
  return ok([inputChannels, out / group, ...kernel]);
}

/**
 * Turns generated ONNX code (`helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[3, 3], ...)`, a trailing
 * comment allowed) into the layer text analyzeLayerCall reads (`onnx.Conv(kernel_shape=[3, 3], ...,
 * weight_shape=[...])`).
 */
export function onnxNodeAsLayerCall(code: string, weightShape: readonly number[] | null): Outcome<string> {
  const call = parseCallExpression(code.replace(/\s+#.*$/s, ''));
  if (!call.ok) return call;
  const op = call.value.positional[0];
  if (call.value.callee.split('.').pop() !== 'make_node' || typeof op !== 'string') {
    return fail(`Not an ONNX helper.make_node(...) call: ${code}`);
  }
  const attributes = Object.entries(call.value.keyword).map(
    ([name, value]) => `${name}=${pyLiteral(value, true)}`,
  );
  if (weightShape) attributes.push(`weight_shape=${pyLiteral([...weightShape], true)}`);
  return ok(`onnx.${op}(${attributes.join(', ')})`);
}

/** The framework whose conventions decide between layers with the same short name. */
const CORE_FRAMEWORK: Record<CalculatorFramework, Framework> = {
  pytorch: 'pytorch',
  keras: 'keras',
  flax: 'flax',
  onnx: 'onnx',
};

/** One calculated layer: the code to insert, the text the core analysed, and its analysis. */
export interface CalculatedLayer {
  /** The code in the framework's syntax (ONNX: with a comment giving W's shape). */
  readonly code: string;
  readonly analysis: LayerAnalysis;
}

/** The channel count of an input in the choice's layout, or null when the shape has too few dimensions. */
export function inputChannels(choice: LayerChoice, input: readonly number[]): number | null {
  if (input.length < 2) return null;
  return choice.framework === 'pytorch' || choice.framework === 'onnx' ? input[1]! : input[input.length - 1]!;
}

/**
 * Generates the layer's code from bound values and analyses exactly that code against `input`: the shape the
 * calculator shows is the shape of what it inserts.
 */
export function calculateLayer(
  choice: LayerChoice,
  values: BoundArgs,
  input: readonly number[],
): Outcome<CalculatedLayer> {
  const code = layerCode(choice, values);
  if (!code.ok) return code;
  let text = code.value;
  let inserted = code.value;
  if (choice.framework === 'onnx') {
    let weight: number[] | null = null;
    if (isConvKind(choice.kind)) {
      if (input.length !== choice.rank + 2) {
        return fail(
          `ONNX ${ONNX_OPS[choice.kind]} takes an input of rank ${choice.rank + 2} (N, C and ${choice.rank} spatial), ` +
            `got ${formatShape(input)}.`,
        );
      }
      const shape = onnxWeightShape(choice.kind, values, input[1]!);
      if (!shape.ok) return shape;
      weight = shape.value;
      inserted = `${code.value}  # W: ${formatShape(weight)}`;
    }
    const layer = onnxNodeAsLayerCall(code.value, weight);
    if (!layer.ok) return layer;
    text = layer.value;
  }
  const analysis = analyzeLayerCall(text, input, CORE_FRAMEWORK[choice.framework]);
  if (!analysis.ok) return analysis;
  return ok({ code: inserted, analysis: analysis.value });
}

/** A probe input for checking parameters before the real input is known: large enough for any sane kernel. */
export function probeInput(choice: LayerChoice, values: BoundArgs): number[] {
  const group = values['groups'] ?? values['feature_group_count'] ?? values['group'] ?? 1;
  const channels =
    choice.framework === 'pytorch' && typeof values['in_channels'] === 'number'
      ? values['in_channels']
      : typeof group === 'number' && Number.isInteger(group) && group > 0
        ? group
        : 1;
  const spatial = Array.from({ length: choice.rank }, () => 4096);
  return choice.framework === 'pytorch' || choice.framework === 'onnx'
    ? [1, Math.max(1, channels), ...spatial]
    : [1, ...spatial, Math.max(1, channels)];
}

/** Reads a kind-and-rank name as tests and callers write it: `convTranspose2d`, `ConvTranspose2d`, `max_pool1d`. */
export function parseLayerChoice(text: string): Outcome<{ kind: LayerKind; rank: number }> {
  const compact = text.toLowerCase().replace(/[^a-z0-9]/g, '');
  const match =
    /^(?:nn|layers|torchnn|keraslayers)?(convtranspose|deconv|conv|maxpool|maxpooling|avgpool|averagepooling)(\d)d(transpose)?$/.exec(
      compact,
    );
  if (!match) {
    return fail(
      `'${text}' is not a layer the calculator knows; write conv2d, convTranspose2d, maxPool2d or avgPool2d (1d to 3d).`,
    );
  }
  const rank = Number(match[2]);
  if (rank < 1 || rank > 3) return fail(`The calculator covers 1-D to 3-D layers; '${text}' is ${rank}-D.`);
  const base = match[1]!;
  const kind: LayerKind =
    base === 'convtranspose' || base === 'deconv' || (base === 'conv' && match[3])
      ? 'convTranspose'
      : base === 'conv'
        ? 'conv'
        : base.startsWith('max')
          ? 'maxPool'
          : 'avgPool';
  return ok({ kind, rank });
}

/** Human names for kinds, for pickers: `ConvTranspose 2-D`. */
export function kindLabel(kind: LayerKind, rank: number): string {
  const names: Record<LayerKind, string> = {
    conv: 'Conv',
    convTranspose: 'ConvTranspose',
    maxPool: 'MaxPool',
    avgPool: 'AvgPool',
  };
  return `${names[kind]} ${rank}-D`;
}

// ---------------------------------------------------------------------------------------------------------
// The inverse calculator: from one size to another, the settings in every framework.

/** One answer of the inverse calculator: a way to write the layer in one framework, or why it cannot. */
export interface InverseSetting {
  readonly framework: Framework;
  /** What does the work: 'output_padding', "padding='same'", 'pads', 'padding pairs', … */
  readonly via: string;
  readonly reachable: boolean;
  readonly code: string | null;
  readonly formulas: string[];
  readonly reason: string | null;
  readonly notes: string[];
  /** The kernel/stride/dilation/padding per dimension this setting was found for. */
  readonly kernel: number[];
  readonly stride: number[];
  readonly dilation: number[];
}

export interface InverseQuery {
  readonly from: readonly number[];
  readonly to: readonly number[];
  readonly kernel?: PerDimValue;
  readonly stride?: PerDimValue;
  readonly dilation?: PerDimValue;
  readonly padding?: PerDimValue;
}

export type PerDimValue = number | readonly number[];

export interface InverseAnswer {
  readonly from: number[];
  readonly to: number[];
  /** 'transposed' when some size grows (or kernel/stride were given for a transposed conv), else 'forward'. */
  readonly direction: 'transposed' | 'forward';
  /** The kernel/stride/dilation candidates tried, simplest first, with their formulas (H only). */
  readonly candidates: { kernel: number[]; stride: number[]; dilation: number[]; formula: string }[];
  readonly settings: InverseSetting[];
}

/** Reads `37x37 -> 75x75`, `37 -> 75`, `(37, 37) → (75, 75)` or `37 75` as a from/to pair of sizes. */
export function parseSizePair(text: string): Outcome<{ from: number[]; to: number[] }> {
  const sides = text.split(/->|→|=>|\bto\b|:/);
  let from: string;
  let to: string;
  if (sides.length === 2) [from, to] = [sides[0]!, sides[1]!];
  else {
    const words = text.trim().split(/\s+/);
    if (sides.length !== 1 || words.length !== 2) {
      return fail(`Write the sizes as 'from -> to', e.g. 37x37 -> 75x75 (one size per spatial dimension).`);
    }
    [from, to] = [words[0]!, words[1]!];
  }
  const read = (side: string, what: string): Outcome<number[]> => {
    const parts = side
      .trim()
      .replace(/^[([]|[)\]]$/g, '')
      .split(/[,x×*\s]+/)
      .filter((part) => part !== '');
    if (parts.length === 0) return fail(`The ${what} size is empty; write e.g. 37x37 -> 75x75.`);
    if (parts.length > 3)
      return fail(`The ${what} size has ${parts.length} dimensions; the calculator covers 1 to 3.`);
    const sizes = parts.map(Number);
    const bad = parts.find((_, n) => !Number.isInteger(sizes[n]) || sizes[n]! < 1);
    if (bad !== undefined)
      return fail(`'${bad}' in the ${what} size is not a size (a whole number of at least 1).`);
    return ok(sizes);
  };
  const a = read(from, 'from');
  if (!a.ok) return a;
  const b = read(to, 'to');
  if (!b.ok) return b;
  if (a.value.length !== b.value.length) {
    if (a.value.length === 1) return ok({ from: b.value.map(() => a.value[0]!), to: b.value });
    if (b.value.length === 1) return ok({ from: a.value, to: a.value.map(() => b.value[0]!) });
    return fail(
      `The sizes have ${a.value.length} and ${b.value.length} dimensions; give the same number on both sides.`,
    );
  }
  return ok({ from: a.value, to: b.value });
}

const perDim = (value: PerDimValue | undefined, rank: number): number[] | undefined =>
  value === undefined
    ? undefined
    : typeof value === 'number'
      ? Array.from({ length: rank }, () => value)
      : [...value];

/**
 * Every framework's way from `from` to `to`. With a kernel given: the solver's settingsForTarget for a
 * transposed conv (growing) or the forward search restricted to that kernel/stride (shrinking). Without: the
 * solver's transposedSettings / forwardSettings per dimension, simplest first, and for each framework the
 * settings of the simplest candidate that framework can express.
 */
export function inverseSettings(query: InverseQuery, maxCandidates = 6): Outcome<InverseAnswer> {
  const from = [...query.from];
  const to = [...query.to];
  const rank = from.length;
  if (rank < 1 || rank > 3 || to.length !== rank) {
    return fail('Give one from-size and one to-size per spatial dimension (1 to 3 dimensions).');
  }
  const grows = from.map((f, n) => to[n]! > f);
  const shrinksOrKeeps = from.map((f, n) => to[n]! <= f);
  const kernel = perDim(query.kernel, rank);
  const stride = perDim(query.stride, rank);
  const dilation = perDim(query.dilation, rank);
  const padding = perDim(query.padding, rank);
  for (const [name, values] of Object.entries({ kernel, stride, dilation, padding })) {
    if (values && values.length !== rank) {
      return fail(`${name} has ${values.length} values but the sizes have ${rank} dimensions.`);
    }
  }
  const transposed =
    grows.some(Boolean) ||
    (kernel !== undefined &&
      stride !== undefined &&
      stride.some((s) => s > 1) &&
      !shrinksOrKeeps.every(Boolean));
  if (grows.some(Boolean) && !grows.every(Boolean) && from.some((f, n) => to[n]! < f)) {
    return fail(
      `${formatShape(from)} → ${formatShape(to)} grows some dimensions and shrinks others; one layer does one or the ` +
        'other. Ask per dimension.',
    );
  }
  return transposed
    ? transposedInverse(from, to, { kernel, stride, dilation, padding }, maxCandidates)
    : forwardInverse(from, to, { kernel, stride, dilation }, maxCandidates);
}

interface Fixed {
  readonly kernel: number[] | undefined;
  readonly stride: number[] | undefined;
  readonly dilation: number[] | undefined;
  readonly padding?: number[] | undefined;
}

/** Per distinct (from, to) pair, one search; candidate n takes every dimension's n-th result (or its last). */
function zipCandidates(
  from: number[],
  to: number[],
  search: (i: number, o: number) => Outcome<SizeSetting[]>,
  maxCandidates: number,
): Outcome<SizeSetting[][]> {
  const byPair = new Map<string, SizeSetting[]>();
  for (let n = 0; n < from.length; n++) {
    const key = `${from[n]}:${to[n]}`;
    if (byPair.has(key)) continue;
    const found = search(from[n]!, to[n]!);
    if (!found.ok) return found;
    byPair.set(key, found.value);
  }
  const lists = from.map((f, n) => byPair.get(`${f}:${to[n]}`)!);
  const count = Math.min(maxCandidates, Math.max(...lists.map((list) => list.length)));
  return ok(
    Array.from({ length: count }, (_, c) => lists.map((list) => list[Math.min(c, list.length - 1)]!)),
  );
}

function transposedInverse(
  from: number[],
  to: number[],
  fixed: Fixed,
  maxCandidates: number,
): Outcome<InverseAnswer> {
  const rank = from.length;
  let candidates: {
    kernel: number[];
    stride: number[];
    dilation: number[];
    padding: number[];
    formula: string;
  }[];
  if (fixed.kernel) {
    const stride = fixed.stride ?? from.map(() => 1);
    const dilation = fixed.dilation ?? from.map(() => 1);
    candidates = [
      {
        kernel: fixed.kernel,
        stride,
        dilation,
        padding: fixed.padding ?? from.map(() => 0),
        formula: '',
      },
    ];
  } else {
    const zipped = zipCandidates(
      from,
      to,
      (i, o) =>
        transposedSettings({
          inputSize: i,
          outputSize: o,
          rank,
          limit: 20,
          ...(fixed.stride ? { maxStride: Math.max(...fixed.stride) } : {}),
        }),
      20,
    );
    if (!zipped.ok) return zipped;
    candidates = zipped.value
      .filter((dims) => !fixed.stride || dims.every((d, n) => d.stride === fixed.stride![n]))
      .slice(0, maxCandidates)
      .map((dims) => ({
        kernel: dims.map((d) => d.kernel),
        stride: dims.map((d) => d.stride),
        dilation: dims.map((d) => d.dilation),
        padding: dims.map((d) => d.padding[0]),
        formula: dims[0]!.formula,
      }));
    if (candidates.length === 0) {
      return fail(
        `No transposed conv with stride ${pyLiteral(fixed.stride ?? [])} maps ${formatShape(from)} to ${formatShape(to)}.`,
      );
    }
  }
  const settings: InverseSetting[] = [];
  const covered = new Set<string>();
  const unreachable: InverseSetting[] = [];
  for (const candidate of candidates) {
    const answer = settingsForTarget({
      kernel: candidate.kernel,
      stride: candidate.stride,
      dilation: candidate.dilation,
      padding: candidate.padding,
      inputSize: from,
      target: to,
      rank,
    });
    if (!answer.ok) {
      if (fixed.kernel) return answer;
      continue;
    }
    const reachedHere = new Set<string>();
    for (const setting of answer.value.settings) {
      const entry: InverseSetting = {
        framework: setting.framework,
        via: setting.via,
        reachable: setting.reachable,
        code: setting.code,
        formulas: setting.formulas,
        reason: setting.reason,
        notes: setting.notes,
        kernel: candidate.kernel,
        stride: candidate.stride,
        dilation: candidate.dilation,
      };
      if (!setting.reachable) {
        if (fixed.kernel) settings.push(entry);
        else if (!unreachable.some((u) => u.framework === entry.framework && u.via === entry.via))
          unreachable.push(entry);
        continue;
      }
      // For each framework, the simplest candidate it can express; later candidates add nothing for it.
      if (covered.has(setting.framework)) continue;
      reachedHere.add(setting.framework);
      settings.push(entry);
    }
    for (const framework of reachedHere) covered.add(framework);
  }
  // A framework no candidate could serve still gets its reasons, so the answer says why it is missing.
  for (const entry of unreachable) if (!covered.has(entry.framework)) settings.push(entry);
  return ok({
    from,
    to,
    direction: 'transposed',
    candidates: candidates.map(({ kernel, stride, dilation, formula }) => ({
      kernel,
      stride,
      dilation,
      formula,
    })),
    settings,
  });
}

function forwardInverse(
  from: number[],
  to: number[],
  fixed: Fixed,
  maxCandidates: number,
): Outcome<InverseAnswer> {
  const rank = from.length;
  const zipped = zipCandidates(
    from,
    to,
    (i, o) =>
      forwardSettings({
        inputSize: i,
        outputSize: o,
        rank,
        limit: 40,
        ...(fixed.kernel ? { maxKernel: Math.max(...fixed.kernel) } : {}),
        ...(fixed.stride ? { maxStride: Math.max(...fixed.stride) } : {}),
        ...(fixed.dilation ? { maxDilation: Math.max(...fixed.dilation) } : {}),
      }),
    40,
  );
  if (!zipped.ok) return zipped;
  const matches = (dims: SizeSetting[]): boolean =>
    dims.every(
      (d, n) =>
        (!fixed.kernel || d.kernel === fixed.kernel[n]) &&
        (!fixed.stride || d.stride === fixed.stride[n]) &&
        (!fixed.dilation || d.dilation === fixed.dilation[n]),
    );
  const candidates = zipped.value.filter(matches).slice(0, maxCandidates);
  if (candidates.length === 0) {
    return fail(
      `No forward conv with the given kernel/stride maps ${formatShape(from)} to ${formatShape(to)}; leave them empty to search.`,
    );
  }
  const settings: InverseSetting[] = [];
  const first = candidates[0]!;
  const kernel = first.map((d) => d.kernel);
  const stride = first.map((d) => d.stride);
  const dilation = first.map((d) => d.dilation);
  const rules = first.map((d) => d.rule);
  const names = dimNames(rank);
  const formulas = rules.map((rule, n) => dimFormula(rule, names[n]!));
  const pads = first.map((d) => d.padding);
  const symmetric = pads.every(([b, e]) => b === e);
  const zero = pads.every(([b, e]) => b === 0 && e === 0);
  const dilated = dilation.some((d) => d > 1);
  const one = (values: number[]): string =>
    values.every((v) => v === values[0]) ? String(values[0]) : pyLiteral(values);
  const tuple = (values: number[]): string => pyLiteral(values);
  const add = (framework: Framework, via: string, code: string, notes: string[] = []): void => {
    settings.push({
      framework,
      via,
      reachable: true,
      code,
      formulas,
      reason: null,
      notes,
      kernel,
      stride,
      dilation,
    });
  };
  const sameFits = from.every((i, n) => Math.ceil(i / stride[n]!) === to[n]);
  // PyTorch: symmetric padding in the layer, else F.pad (last dimension first) before an unpadded layer.
  const torchArgs = [`kernel_size=${one(kernel)}`, `stride=${one(stride)}`];
  if (symmetric && !zero) torchArgs.push(`padding=${one(pads.map(([b]) => b))}`);
  if (dilated) torchArgs.push(`dilation=${one(dilation)}`);
  const torchConv = `nn.Conv${rank}d(in_channels, out_channels, ${torchArgs.join(', ')})`;
  if (symmetric) add('pytorch', 'padding', torchConv);
  else {
    const flat = [...pads].reverse().flatMap(([b, e]) => [b, e]);
    add('pytorch', 'F.pad + padding=0', `x = F.pad(x, (${flat.join(', ')}))\n${torchConv}`, [
      "PyTorch's padding= pads both sides alike; uneven pads need F.pad.",
    ]);
  }
  const kerasDilation = dilated ? `, dilation_rate=${one(dilation)}` : '';
  if (sameFits) {
    add(
      'keras',
      "padding='same'",
      `layers.Conv${rank}D(filters, ${one(kernel)}, strides=${one(stride)}, padding='same'${kerasDilation})`,
      ["'same' pads max(0, (⌈i/s⌉ − 1)·s + k_eff − i), the extra at the end, for every input size."],
    );
  }
  const conv = `layers.Conv${rank}D(filters, ${one(kernel)}, strides=${one(stride)}${kerasDilation})`;
  if (zero) add('keras', "padding='valid'", conv);
  else {
    const padArg =
      rank === 1
        ? `(${pads[0]![0]}, ${pads[0]![1]})`
        : `(${pads.map(([b, e]) => `(${b}, ${e})`).join(', ')})`;
    add('keras', 'ZeroPadding + valid', `layers.ZeroPadding${rank}D(${padArg})\n${conv}`, [
      "Keras padding= knows only 'valid' and 'same'; explicit pads need a ZeroPadding layer.",
    ]);
  }
  const pairs = `(${pads.map(([b, e]) => `(${b}, ${e})`).join(', ')}${rank === 1 ? ',' : ''})`;
  add(
    'flax',
    'padding pairs',
    `nn.Conv(features, kernel_size=${tuple(kernel)}, strides=${tuple(stride)}, padding=${zero ? "'VALID'" : pairs}${dilated ? `, kernel_dilation=${tuple(dilation)}` : ''})`,
  );
  const onnxPads = [...pads.map(([b]) => b), ...pads.map(([, e]) => e)];
  add(
    'onnx',
    'pads',
    `helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=${pyLiteral(kernel, true)}, strides=${pyLiteral(stride, true)}` +
      `${dilated ? `, dilations=${pyLiteral(dilation, true)}` : ''}${zero ? '' : `, pads=${pyLiteral(onnxPads, true)}`})`,
    ['pads lists every begin, then every end: [x1_begin, x2_begin, …, x1_end, x2_end, …].'],
  );
  return ok({
    from,
    to,
    direction: 'forward',
    candidates: candidates.map((dims) => ({
      kernel: dims.map((d) => d.kernel),
      stride: dims.map((d) => d.stride),
      dilation: dims.map((d) => d.dilation),
      formula: dims[0]!.formula,
    })),
    settings,
  });
}
