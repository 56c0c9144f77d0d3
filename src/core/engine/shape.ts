/**
 * The output shape and the validity of one compute problem, from the arithmetic core. Engines never work a
 * shape out themselves: they ask `validateProblem`, which checks the problem the way PyTorch's
 * `torch.nn.functional.conv{1,2,3}d` / `conv_transpose{1,2,3}d` would (through the core's own LayerDefs),
 * adds what only an engine needs (asymmetric padding, data lengths, work limits) and answers with everything
 * an engine needs to run it. All checks happen before anything is allocated.
 */
import {
  bindArguments,
  effectiveKernel,
  formatShape,
  formatValue,
  perDimension,
  product,
} from '../arithmetic/args';
import { applyDimRule } from '../arithmetic/dims';
import { dimNames } from '../arithmetic/symbolic';
import { torchLayers } from '../arithmetic/torch';
import type { DimRule, LayerDef, Outcome, PyValue } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import { type ConvOp, type ConvProblem, DEFAULT_LIMITS, type EngineLimits } from './types';

/**
 * A problem's shapes and settings without (or before) its data: what shape checks and limits need. A whole
 * ConvProblem is one too; x, w and b are only checked against their shapes when they are present.
 */
export interface ConvProblemSpec {
  readonly op: ConvOp;
  readonly xShape: readonly number[];
  readonly wShape: readonly number[];
  readonly stride: readonly number[];
  readonly padBegin: readonly number[];
  readonly padEnd: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
  /** Empty means zeros; plain convs must leave it empty or all zeros. */
  readonly outputPadding: readonly number[];
  readonly x?: Float32Array;
  readonly w?: Float32Array;
  /** null or absent: no bias. */
  readonly b?: Float32Array | null;
}

/** Everything an engine needs to know about a valid problem, in plain numbers. */
export interface ConvGeometry {
  readonly op: ConvOp;
  /** Number of spatial dimensions (1 to 3). */
  readonly rank: number;
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly inSpatial: readonly number[];
  readonly outSpatial: readonly number[];
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly padBegin: readonly number[];
  readonly padEnd: readonly number[];
  readonly outputPadding: readonly number[];
  /** [N, C_out, ...outSpatial]. */
  readonly yShape: number[];
  /**
   * Multiply-accumulates: conv N·C_out·∏out·(C_in/groups)·∏k; transposed N·C_in·∏in·(C_out/groups)·∏k (every
   * input element meets every tap once, cropped or not), the same counts the core's LayerShape reports.
   */
  readonly macs: number;
}

const OPS: Readonly<Record<ConvOp, string>> = { conv: 'conv', conv_transpose: 'conv_transpose' };

/** Sizes past this are refused: typed arrays cannot index further, and no real layer comes close. */
const MAX_SIZE = 2 ** 31 - 1;

function layerName(op: ConvOp, rank: number): string {
  return op === 'conv' ? `conv${rank}d` : `conv_transpose${rank}d`;
}

function functionalDef(op: ConvOp, rank: number): LayerDef {
  const name = `torch.nn.functional.${layerName(op, rank)}`;
  return torchLayers.find((def) => def.name === name)!;
}

function isSizeList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

/** Checks one per-dimension setting: `rank` integers, each at least `min` (an empty list reads as `empty`). */
function readSetting(
  layer: string,
  name: string,
  value: unknown,
  rank: number,
  min: number,
  empty?: number,
): Outcome<number[]> {
  if (empty !== undefined && Array.isArray(value) && value.length === 0) {
    return ok(new Array<number>(rank).fill(empty));
  }
  if (!isSizeList(value) || value.length !== rank) {
    return fail(
      `${layer}: ${name} must be a list of ${rank} integer${rank === 1 ? '' : 's'} (one per spatial dimension), ` +
        `not ${describe(value)}.`,
    );
  }
  return perDimension(layer, name, value, rank, min);
}

function describe(value: unknown): string {
  if (Array.isArray(value) && value.every((item) => typeof item === 'number' || typeof item === 'string')) {
    return formatValue(value as PyValue);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A number as people read large counts: 31000000000 → "3.1e10", 20e9 → "2e10", small counts as they are.
 */
export function formatCount(count: number): string {
  if (Math.abs(count) < 1e6) return String(count);
  const [mantissa, exponent] = count.toExponential(1).split('e');
  return `${mantissa!.replace(/\.0$/, '')}e${exponent!.replace('+', '')}`;
}

/**
 * The geometry of a problem: its output shape and work, after every check PyTorch makes (from the core's
 * `torch.nn.functional` LayerDefs) plus asymmetric padding.
 *
 * Output size per spatial dimension (PyTorch's formulas, src/core/arithmetic/dims.ts `applyDimRule`):
 *   conv:       out = ⌊(in + padBegin + padEnd − d·(k − 1) − 1) / s⌋ + 1
 *   transposed: out = (in − 1)·s − padBegin − padEnd + d·(k − 1) + 1 + output_padding
 * PyTorch pads both sides equally; an asymmetric pair is checked by the LayerDef with the symmetric padding
 * that is always at least as permissive (the larger side for a conv, the smaller for a transposed conv), and
 * the sizes then follow from the pair, with the size checks redone for it.
 */
export function problemGeometry(spec: ConvProblemSpec): Outcome<ConvGeometry> {
  if (typeof spec !== 'object' || spec === null) return fail('The problem must be an object.');
  const op = spec.op;
  if (typeof op !== 'string' || !(op in OPS)) {
    return fail(`The operation must be 'conv' or 'conv_transpose', not ${describe(op)}.`);
  }
  const xShape = spec.xShape;
  if (!isSizeList(xShape) || xShape.length < 3 || xShape.length > 5) {
    return fail(
      `The input shape must be [N, C, ...spatial] with 1 to 3 spatial dimensions (3 to 5 sizes), ` +
        `not ${describe(xShape)}.`,
    );
  }
  const rank = xShape.length - 2;
  const layer = layerName(op, rank);
  if (xShape.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(
      `${layer}: the input shape ${describe(xShape)} must hold non-negative integers (at most ${MAX_SIZE}).`,
    );
  }
  const wShape = spec.wShape;
  const kernelNames = dimNames(rank)
    .map((name) => 'k' + name)
    .join(', ');
  const weightLayout =
    op === 'conv' ? `C_out, C_in/groups, ${kernelNames}` : `C_in, C_out/groups, ${kernelNames}`;
  if (
    !isSizeList(wShape) ||
    wShape.length !== rank + 2 ||
    wShape.some((size) => !Number.isInteger(size) || size < 1 || size > MAX_SIZE)
  ) {
    return fail(
      `${layer}: the weight shape must be ${rank + 2} positive integers (${weightLayout}) for a ` +
        `${rank + 2}-D input, not ${describe(wShape)}.`,
    );
  }
  const groups = spec.groups;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1 || groups > MAX_SIZE) {
    return fail(`${layer}: groups must be a positive integer, not ${describe(groups)}.`);
  }
  const stride = readSetting(layer, 'stride', spec.stride, rank, 1);
  if (!stride.ok) return stride;
  const dilation = readSetting(layer, 'dilation', spec.dilation, rank, 1);
  if (!dilation.ok) return dilation;
  const padBegin = readSetting(layer, 'padding (begin)', spec.padBegin, rank, 0);
  if (!padBegin.ok) return padBegin;
  const padEnd = readSetting(layer, 'padding (end)', spec.padEnd, rank, 0);
  if (!padEnd.ok) return padEnd;
  const outputPadding = readSetting(layer, 'output_padding', spec.outputPadding, rank, 0, 0);
  if (!outputPadding.ok) return outputPadding;
  if (op === 'conv' && outputPadding.value.some((value) => value !== 0)) {
    return fail(
      `${layer}: output_padding (${formatValue(outputPadding.value)}) only applies to transposed convs; ` +
        `leave it empty or all zeros.`,
    );
  }
  const settings = [stride.value, dilation.value, padBegin.value, padEnd.value, outputPadding.value];
  if (settings.some((values) => values.some((value) => value > MAX_SIZE))) {
    return fail(`${layer}: a stride, dilation or padding is too large (at most ${MAX_SIZE}).`);
  }
  const hasBias = spec.b !== undefined && spec.b !== null;

  // The core's PyTorch rules: channels, groups, output_padding, padded sizes, negative outputs.
  const symmetric = padBegin.value.map((begin, i) =>
    op === 'conv' ? Math.max(begin, padEnd.value[i]!) : Math.min(begin, padEnd.value[i]!),
  );
  const outChannels = op === 'conv' ? wShape[0]! : wShape[1]! * groups;
  const keyword: Record<string, PyValue> = {
    weight: [...wShape],
    bias: hasBias ? [outChannels] : null,
    stride: stride.value,
    padding: symmetric,
    dilation: dilation.value,
    groups,
  };
  if (op === 'conv_transpose') keyword['output_padding'] = outputPadding.value;
  const def = functionalDef(op, rank);
  const bound = bindArguments(def.name, def.params, [], keyword);
  if (!bound.ok) return bound;
  const inferred = def.infer(bound.value, xShape);
  if (!inferred.ok) return inferred;

  const names = dimNames(rank);
  const inSpatial = xShape.slice(2);
  const kernel = wShape.slice(2);
  const outSpatial: number[] = [];
  for (let i = 0; i < rank; i++) {
    const common = { kernel: kernel[i]!, dilation: dilation.value[i]!, stride: stride.value[i]! };
    const rule: DimRule =
      op === 'conv'
        ? {
            kind: 'window',
            ...common,
            padBegin: padBegin.value[i]!,
            padEnd: padEnd.value[i]!,
            ceilMode: false,
          }
        : {
            kind: 'transposed',
            ...common,
            padBegin: padBegin.value[i]!,
            padEnd: padEnd.value[i]!,
            outputPadding: outputPadding.value[i]!,
          };
    const size = applyDimRule(rule, inSpatial[i]!);
    const kEff = effectiveKernel(kernel[i]!, dilation.value[i]!);
    if (op === 'conv' && size < 1) {
      const padded = inSpatial[i]! + padBegin.value[i]! + padEnd.value[i]!;
      return fail(
        `${layer}: along ${names[i]} the padded input (${inSpatial[i]} + ${padBegin.value[i]} + ` +
          `${padEnd.value[i]} padding = ${padded}) is smaller than the ${
            dilation.value[i]! > 1 ? `dilated kernel (${kEff})` : `kernel (${kernel[i]})`
          }. The input needs ${names[i]} ≥ ${kEff - padBegin.value[i]! - padEnd.value[i]!}, or less padding ` +
          `is needed elsewhere.`,
      );
    }
    if (op === 'conv_transpose' && size < 0) {
      const full = size + padBegin.value[i]! + padEnd.value[i]!;
      return fail(
        `${layer}: the output would have negative size ${size} along ${names[i]}: (${inSpatial[i]} − 1)·` +
          `${stride.value[i]} + ${kEff}${outputPadding.value[i] ? ` + ${outputPadding.value[i]}` : ''} − ` +
          `${padBegin.value[i]} − ${padEnd.value[i]} padding = ${size}. The padding crops more than there is; ` +
          `along ${names[i]} the two sides can crop at most ${full} in total.`,
      );
    }
    outSpatial.push(size);
  }
  const isSymmetric = symmetric.every((pad, i) => pad === padBegin.value[i] && pad === padEnd.value[i]);
  if (isSymmetric && inferred.value.output.slice(2).some((size, i) => size !== outSpatial[i])) {
    // Both come from applyDimRule with the same rule, so this would be a bug in the core, never the user's.
    return fail(`${layer}: internal disagreement about the output size; please report this problem.`);
  }

  const batch = xShape[0]!;
  const inChannels = xShape[1]!;
  const kernelTaps = product(kernel);
  const macs =
    op === 'conv'
      ? batch * outChannels * product(outSpatial) * (inChannels / groups) * kernelTaps
      : batch * inChannels * product(inSpatial) * (outChannels / groups) * kernelTaps;
  return ok({
    op,
    rank,
    batch,
    inChannels,
    outChannels,
    groups,
    inSpatial,
    outSpatial,
    kernel,
    stride: stride.value,
    dilation: dilation.value,
    padBegin: padBegin.value,
    padEnd: padEnd.value,
    outputPadding: outputPadding.value,
    yShape: [batch, outChannels, ...outSpatial],
    macs,
  });
}

/** The output shape [N, C_out, ...spatial] of a problem, or why the problem is invalid (see problemGeometry). */
export function problemShape(spec: ConvProblemSpec): Outcome<number[]> {
  const geometry = problemGeometry(spec);
  return geometry.ok ? ok(geometry.value.yShape) : geometry;
}

/** Refuses work beyond the limits, from shapes alone (nothing is allocated yet). */
export function checkLimits(
  geometry: ConvGeometry,
  wShape: readonly number[],
  limits: EngineLimits,
): Outcome<true> {
  const tensors: Array<[string, readonly number[]]> = [
    ['input', [geometry.batch, geometry.inChannels, ...geometry.inSpatial]],
    ['weight', wShape],
    ['output', geometry.yShape],
  ];
  for (const [name, shape] of tensors) {
    const elements = product(shape);
    if (elements > limits.maxElements) {
      return fail(
        `The ${name} ${formatShape(shape)} has ${formatCount(elements)} elements; the limit is ` +
          `${formatCount(limits.maxElements)} — use a smaller ${name === 'weight' ? 'layer' : 'input'} or raise ` +
          `convLens.engine.maxElements.`,
      );
    }
  }
  if (geometry.macs > limits.maxMacs) {
    return fail(
      `This ${geometry.op === 'conv' ? 'convolution' : 'transposed convolution'} needs ` +
        `${formatCount(geometry.macs)} multiply-accumulates; the limit is ${formatCount(limits.maxMacs)} — use a ` +
        `smaller input or raise convLens.engine.maxMacs.`,
    );
  }
  return ok(true);
}

function checkData(name: string, data: unknown, shape: readonly number[], what: string): Outcome<true> {
  if (!(data instanceof Float32Array)) {
    const kind =
      data === null
        ? 'null'
        : data === undefined
          ? 'missing'
          : Array.isArray(data)
            ? 'an array'
            : typeof data;
    return fail(`${name} must be a Float32Array, not ${kind}.`);
  }
  const expected = product(shape);
  if (data.length !== expected) {
    return fail(`${name} has ${data.length} values, but ${what} ${formatShape(shape)} needs ${expected}.`);
  }
  return ok(true);
}

/**
 * Everything an engine checks before it runs: the geometry (problemGeometry), the limits (checkLimits) and,
 * where present (always, with `requireData`, as before running), that x, w and b hold exactly as many values
 * as their shapes say.
 */
export function validateProblem(
  spec: ConvProblemSpec,
  limits: EngineLimits = DEFAULT_LIMITS,
  requireData = false,
): Outcome<ConvGeometry> {
  const geometry = problemGeometry(spec);
  if (!geometry.ok) return geometry;
  const g = geometry.value;
  const within = checkLimits(g, spec.wShape, limits);
  if (!within.ok) return within;
  if (requireData || spec.x !== undefined) {
    const checked = checkData('x', spec.x, spec.xShape, 'the input shape');
    if (!checked.ok) return checked;
  }
  if (requireData || spec.w !== undefined) {
    const checked = checkData('w', spec.w, spec.wShape, 'the weight shape');
    if (!checked.ok) return checked;
  }
  if (spec.b !== undefined && spec.b !== null) {
    const checked = checkData('b', spec.b, [g.outChannels], 'one bias per output channel,');
    if (!checked.ok) return checked;
  }
  return geometry;
}

/** The four numeric ops of the golden data, by name. */
const GOLDEN_OPS: Readonly<Record<string, readonly [ConvOp, number]>> = {
  conv1d: ['conv', 1],
  conv2d: ['conv', 2],
  conv3d: ['conv', 3],
  conv_transpose1d: ['conv_transpose', 1],
  conv_transpose2d: ['conv_transpose', 2],
  conv_transpose3d: ['conv_transpose', 3],
};

/**
 * Turns one record in the format of ../shared/oracle/torch_numeric.json (`op`, `stride`, `padding`,
 * `dilation`, `groups`, `output_padding`, `x_shape` + `x`, `w_shape` + `w`, `b`; `y`/`y_shape` ignored) into
 * a ConvProblem. Settings may be an int or a list as in PyTorch; a padding entry may also be a
 * [begin, end] pair (asymmetric), which PyTorch itself cannot express. Shapes, lengths and limits are checked
 * before any typed array is allocated.
 */
export function problemFromGoldenCase(
  raw: unknown,
  limits: EngineLimits = DEFAULT_LIMITS,
): Outcome<ConvProblem> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('Each line must be a JSON object with "op", "x_shape", "x", "w_shape", "w" and settings.');
  }
  const record = raw as Record<string, unknown>;
  const opName = record['op'];
  const known = typeof opName === 'string' ? GOLDEN_OPS[opName] : undefined;
  if (!known) {
    return fail(
      `"op" must be one of ${Object.keys(GOLDEN_OPS).join(', ')}, not ${describe(opName ?? null)}.`,
    );
  }
  const [op, rank] = known;
  const layer = opName as string;
  const xShape = record['x_shape'];
  if (!isSizeList(xShape) || xShape.length !== rank + 2) {
    return fail(
      `${layer}: "x_shape" must be ${rank + 2} sizes (N, C, ${dimNames(rank).join(', ')}), ` +
        `not ${describe(xShape ?? null)}.`,
    );
  }
  const setting = (name: string, fallback: number, min: number): Outcome<number[]> => {
    const value = record[name];
    if (value === undefined || value === null) return ok(new Array<number>(rank).fill(fallback));
    if (typeof value !== 'number' && !isSizeList(value)) {
      return fail(
        `${layer}: "${name}" must be an integer or a list of ${rank} integers, not ${describe(value)}.`,
      );
    }
    return perDimension(layer, name, value, rank, min);
  };
  const stride = setting('stride', 1, 1);
  if (!stride.ok) return stride;
  const dilation = setting('dilation', 1, 1);
  if (!dilation.ok) return dilation;
  const outputPadding = setting('output_padding', 0, 0);
  if (!outputPadding.ok) return outputPadding;
  const pads = readPadding(layer, record['padding'], rank);
  if (!pads.ok) return pads;
  const groups = record['groups'] ?? 1;
  if (typeof groups !== 'number')
    return fail(`${layer}: "groups" must be an integer, not ${describe(groups)}.`);

  const spec: ConvProblemSpec = {
    op,
    xShape,
    // problemGeometry checks w_shape (and everything else) before anything is allocated.
    wShape: record['w_shape'] as number[],
    stride: stride.value,
    padBegin: pads.value[0],
    padEnd: pads.value[1],
    dilation: dilation.value,
    groups,
    outputPadding: op === 'conv' ? [] : outputPadding.value,
  };
  if (op === 'conv' && outputPadding.value.some((value) => value !== 0)) {
    return fail(`${layer}: "output_padding" only applies to transposed convs; use null.`);
  }
  const geometry = validateProblem(spec, limits);
  if (!geometry.ok) return geometry;

  const x = readTensor(layer, 'x', record['x'], product(spec.xShape), '"x_shape"');
  if (!x.ok) return x;
  const w = readTensor(layer, 'w', record['w'], product(spec.wShape), '"w_shape"');
  if (!w.ok) return w;
  let b: Float32Array | null = null;
  if (record['b'] !== undefined && record['b'] !== null) {
    const read = readTensor(layer, 'b', record['b'], geometry.value.outChannels, 'the output channels');
    if (!read.ok) return read;
    b = read.value;
  }
  return ok({ ...spec, x: x.value, w: w.value, b });
}

function readPadding(layer: string, value: unknown, rank: number): Outcome<[number[], number[]]> {
  if (value === undefined || value === null) {
    return ok([new Array<number>(rank).fill(0), new Array<number>(rank).fill(0)]);
  }
  const entries: unknown[] =
    typeof value === 'number' ? new Array<unknown>(rank).fill(value) : (value as unknown[]);
  const wrong = (): Outcome<never> =>
    fail(
      `${layer}: "padding" must be an integer, a list of ${rank} integers, or a list of ${rank} ` +
        `[begin, end] pairs, not ${describe(value)}.`,
    );
  if (!Array.isArray(entries)) return wrong();
  const list = entries.length === 1 && rank > 1 ? new Array<unknown>(rank).fill(entries[0]) : entries;
  if (list.length !== rank) return wrong();
  const begin: number[] = [];
  const end: number[] = [];
  for (const entry of list) {
    const pair = Array.isArray(entry) ? entry : [entry, entry];
    if (pair.length !== 2 || !pair.every((pad) => Number.isInteger(pad) && (pad as number) >= 0)) {
      if (pair.some((pad) => typeof pad === 'number' && Number.isInteger(pad) && pad < 0)) {
        return fail(`${layer}: "padding" must be non-negative, got ${describe(value)}.`);
      }
      return wrong();
    }
    begin.push(pair[0] as number);
    end.push(pair[1] as number);
  }
  return ok([begin, end]);
}

/** Reads a flat list of numbers into a Float32Array, after checking its length (so nothing is wasted). */
function readTensor(
  layer: string,
  name: string,
  value: unknown,
  expected: number,
  what: string,
): Outcome<Float32Array> {
  if (!Array.isArray(value)) {
    return fail(
      `${layer}: "${name}" must be a flat list of ${expected} numbers, not ${describe(value ?? null)}.`,
    );
  }
  if (value.length !== expected) {
    return fail(`${layer}: "${name}" has ${value.length} values, but ${what} needs ${expected}.`);
  }
  const data = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    const item: unknown = value[i];
    if (typeof item !== 'number' || !Number.isFinite(item)) {
      return fail(`${layer}: "${name}"[${i}] must be a finite number, not ${describe(item ?? null)}.`);
    }
    data[i] = item;
  }
  return ok(data);
}
