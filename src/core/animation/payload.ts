/**
 * The animation payload: what a notebook output (MIME `application/vnd.conv-lens+json`) or a ```conv-lens
 * Markdown block asks to animate, read from untrusted JSON into a checked AnimationSpec. Every problem comes
 * back as a sentence that names the field, the value and what would be valid, so a notebook cell can show it
 * instead of a blank output.
 *
 * A payload, for example:
 *
 *   {"op": "conv_transpose", "input": [5, 5], "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}
 *
 * Fields: `op` (conv, conv_transpose, max_pool, avg_pool; a `1d`/`2d` suffix is allowed), `input` (spatial
 * size: a number for 1-D, [H, W] for 2-D), `kernel`, `stride`, `padding` (a number, one per dimension,
 * [begin, end] pairs per dimension, or 'same' / 'same_lower' / 'valid'), `dilation`, `output_padding`,
 * `groups`, `channels` ([in, out]), `ceil_mode`, `count_include_pad`, `framework` (pytorch, keras,
 * tensorflow, flax, jax, onnx: that framework's conventions and checks apply), `values` ({input, kernel}:
 * numbers to compute with, flat or nested row-major), `view` (direct, scatter, matrix) and `title`.
 */
import { formatValue } from '../arithmetic/args';
import type { Framework, Outcome } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';

/** The MIME type the notebook renderer draws. */
export const ANIMATION_MIME = 'application/vnd.conv-lens+json';

export type AnimationOp = 'conv' | 'conv_transpose' | 'max_pool' | 'avg_pool';

/** direct: the kernel slides over the (padded, for transposed convs zero-inserted) input; scatter: each input
 * cell stamps the kernel onto the output (transposed convs); matrix: the operation as a sparse matrix. */
export type AnimationView = 'direct' | 'scatter' | 'matrix';

export type PaddingSpec =
  | { readonly kind: 'explicit'; readonly begin: readonly number[]; readonly end: readonly number[] }
  | { readonly kind: 'same' | 'same_lower' | 'valid' };

export interface AnimationSpec {
  readonly op: AnimationOp;
  /** null: framework-neutral arithmetic (Dumoulin & Visin), every parameter taken as written. */
  readonly framework: Framework | null;
  readonly rank: 1 | 2;
  /** Spatial input size per dimension, as the user asked (before any cap for drawing). */
  readonly input: readonly number[];
  readonly kernel: readonly number[];
  /** null when not given: the framework's default (framework-neutral: 1 for convs, the kernel size for pools). */
  readonly stride: readonly number[] | null;
  readonly dilation: readonly number[] | null;
  readonly padding: PaddingSpec | null;
  readonly outputPadding: readonly number[] | null;
  readonly groups: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly ceilMode: boolean;
  /** null: the framework's default (PyTorch true; Keras/TF, ONNX false). */
  readonly countIncludePad: boolean | null;
  readonly values: {
    readonly input: readonly number[] | null;
    readonly kernel: readonly number[] | null;
  } | null;
  readonly view: AnimationView | null;
  readonly title: string | null;
}

/**
 * Limits on what is drawn. Inputs and outputs larger than MAX_DRAWN cells per side are drawn smaller (with a
 * notice, see timeline.ts); parameters beyond these limits are refused, since no picture of them would help.
 */
export const LIMITS = {
  maxDrawn: 64,
  maxInput: 1_000_000,
  maxKernel: 16,
  maxStride: 16,
  maxDilation: 8,
  maxPadding: 32,
  maxChannels: 4096,
  maxTitle: 200,
} as const;

const OPS: Record<string, AnimationOp> = {
  conv: 'conv',
  convolution: 'conv',
  conv_transpose: 'conv_transpose',
  convtranspose: 'conv_transpose',
  transposed_conv: 'conv_transpose',
  transposed: 'conv_transpose',
  deconv: 'conv_transpose',
  max_pool: 'max_pool',
  maxpool: 'max_pool',
  avg_pool: 'avg_pool',
  avgpool: 'avg_pool',
  average_pool: 'avg_pool',
  averagepool: 'avg_pool',
};

const FRAMEWORKS: Record<string, Framework> = {
  pytorch: 'pytorch',
  torch: 'pytorch',
  keras: 'keras',
  tensorflow: 'tensorflow',
  tf: 'tensorflow',
  flax: 'flax',
  jax: 'jax',
  onnx: 'onnx',
};

const VIEWS: readonly AnimationView[] = ['direct', 'scatter', 'matrix'];

/** Accepted field names, with the spellings frameworks use mapped onto one name. */
const FIELD_ALIASES: Record<string, string> = {
  op: 'op',
  operation: 'op',
  framework: 'framework',
  input: 'input',
  input_size: 'input',
  kernel: 'kernel',
  kernel_size: 'kernel',
  pool_size: 'kernel',
  stride: 'stride',
  strides: 'stride',
  padding: 'padding',
  dilation: 'dilation',
  dilation_rate: 'dilation',
  output_padding: 'output_padding',
  groups: 'groups',
  channels: 'channels',
  ceil_mode: 'ceil_mode',
  count_include_pad: 'count_include_pad',
  values: 'values',
  view: 'view',
  title: 'title',
};

/** Reads and checks a payload. Never throws, whatever `raw` is. */
export function parseAnimationPayload(raw: unknown): Outcome<AnimationSpec> {
  if (typeof raw === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      return fail(`The payload is not valid JSON (${(error as Error).message}).`);
    }
    return parseAnimationPayload(parsed);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(
      `The payload must be a JSON object such as {"op": "conv", "input": [5, 5], "kernel": 3}, not ${describe(raw)}.`,
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = FIELD_ALIASES[key];
    if (name === undefined) {
      const suggestion = closest(key, Object.keys(FIELD_ALIASES));
      return fail(
        `Unknown field "${key}".` +
          (suggestion ? ` Did you mean "${suggestion}"?` : '') +
          ` Known fields: ${[...new Set(Object.values(FIELD_ALIASES))].join(', ')}.`,
      );
    }
    if (name in fields) return fail(`The field "${name}" is given twice (as "${key}" and another spelling).`);
    fields[name] = value;
  }

  const opText = fields['op'];
  if (typeof opText !== 'string') {
    return fail(
      `The payload needs "op": one of "conv", "conv_transpose", "max_pool", "avg_pool" (optionally with a 1d/2d ` +
        `suffix), not ${describe(opText)}.`,
    );
  }
  const opMatch = /^(.*?)(?:([123])d)?$/.exec(opText.trim().toLowerCase().replace(/[\s-]/g, '_'));
  const op = OPS[(opMatch?.[1] ?? '').replace(/_$/, '')];
  if (op === undefined) {
    return fail(
      `"op" is "${opText}", which Conv Lens cannot animate; use "conv", "conv_transpose", "max_pool" or "avg_pool".`,
    );
  }
  const suffixRank = opMatch?.[2] === undefined ? null : Number(opMatch[2]);

  let framework: Framework | null = null;
  if (fields['framework'] !== undefined && fields['framework'] !== null) {
    const text = fields['framework'];
    const found = typeof text === 'string' ? FRAMEWORKS[text.trim().toLowerCase()] : undefined;
    if (found === undefined) {
      return fail(
        `"framework" is ${describe(text)}; use one of "pytorch", "keras", "tensorflow", "flax", "jax", "onnx", ` +
          `or leave it out for framework-neutral arithmetic.`,
      );
    }
    framework = found;
  }

  const input = readInput(fields['input']);
  if (!input.ok) return input;
  const rank = input.value.length as 1 | 2;
  if (suffixRank !== null && suffixRank !== rank) {
    return fail(
      `"op" is "${opText}" (${suffixRank}-D), but "input" ${formatJson(fields['input'])} has ${rank} ` +
        `dimension${rank === 1 ? '' : 's'}. Give ${suffixRank} input size${suffixRank === 1 ? '' : 's'}, or drop the suffix.`,
    );
  }

  const kernel = perDim('kernel', fields['kernel'], rank, 1, LIMITS.maxKernel, true);
  if (!kernel.ok) return kernel;
  const stride = perDim('stride', fields['stride'], rank, 1, LIMITS.maxStride, false);
  if (!stride.ok) return stride;
  const dilation = perDim('dilation', fields['dilation'], rank, 1, LIMITS.maxDilation, false);
  if (!dilation.ok) return dilation;
  const padding = readPadding(fields['padding'], rank);
  if (!padding.ok) return padding;

  let outputPadding: readonly number[] | null = null;
  if (fields['output_padding'] !== undefined && fields['output_padding'] !== null) {
    if (op !== 'conv_transpose') {
      return fail(
        `"output_padding" only applies to transposed convolutions ("op": "conv_transpose"), not to "${op}".`,
      );
    }
    const read = perDim('output_padding', fields['output_padding'], rank, 0, LIMITS.maxStride - 1, true);
    if (!read.ok) return read;
    outputPadding = read.value;
  }

  const isPool = op === 'max_pool' || op === 'avg_pool';
  const ceil = readBoolean('ceil_mode', fields['ceil_mode']);
  if (!ceil.ok) return ceil;
  if (ceil.value && !isPool) {
    return fail(`"ceil_mode" applies to pooling ("max_pool", "avg_pool"), not to "${op}".`);
  }
  const includePad = readBoolean('count_include_pad', fields['count_include_pad']);
  if (!includePad.ok) return includePad;
  if (
    fields['count_include_pad'] !== undefined &&
    fields['count_include_pad'] !== null &&
    op !== 'avg_pool'
  ) {
    return fail(`"count_include_pad" applies to average pooling ("avg_pool"), not to "${op}".`);
  }

  const channels = readChannels(fields['groups'], fields['channels'], isPool);
  if (!channels.ok) return channels;

  const values = readValues(fields['values'], input.value, kernel.value, isPool);
  if (!values.ok) return values;

  let view: AnimationView | null = null;
  if (fields['view'] !== undefined && fields['view'] !== null) {
    const text = fields['view'];
    if (typeof text !== 'string' || !(VIEWS as readonly string[]).includes(text)) {
      return fail(`"view" is ${describe(text)}; use "direct", "scatter" (transposed convs) or "matrix".`);
    }
    if (text === 'scatter' && op !== 'conv_transpose') {
      return fail(`"view": "scatter" shows transposed convolutions; for "${op}" use "direct" or "matrix".`);
    }
    view = text as AnimationView;
  }

  let title: string | null = null;
  if (fields['title'] !== undefined && fields['title'] !== null) {
    if (typeof fields['title'] !== 'string')
      return fail(`"title" must be a string, not ${describe(fields['title'])}.`);
    title = fields['title'].slice(0, LIMITS.maxTitle);
  }

  return ok({
    op,
    framework,
    rank,
    input: input.value,
    kernel: kernel.value,
    stride: stride.value,
    dilation: dilation.value,
    padding: padding.value,
    outputPadding,
    groups: channels.value.groups,
    inChannels: channels.value.inChannels,
    outChannels: channels.value.outChannels,
    ceilMode: ceil.value,
    countIncludePad:
      fields['count_include_pad'] === undefined || fields['count_include_pad'] === null
        ? null
        : includePad.value,
    values: values.value,
    view,
    title,
  });
}

function readInput(value: unknown): Outcome<number[]> {
  const sizes = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(sizes) || sizes.length === 0) {
    return fail(
      `"input" must give the spatial input size: a number for 1-D (e.g. 7) or [H, W] for 2-D (e.g. [5, 5]), ` +
        `not ${describe(value)}.`,
    );
  }
  if (sizes.length > 2) {
    return fail(
      `"input" ${formatJson(value)} has ${sizes.length} dimensions; the animation draws 1-D and 2-D operations. ` +
        `For a ${sizes.length}-D layer animate a 2-D slice: the last two sizes, e.g. ${formatJson(sizes.slice(-2))}.`,
    );
  }
  for (const size of sizes) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      return fail(
        `"input" sizes must be whole numbers of at least 1; ${formatJson(value)} has ${describe(size)}.`,
      );
    }
    if (size > LIMITS.maxInput) {
      return fail(`"input" size ${size} is larger than ${LIMITS.maxInput}, the largest Conv Lens animates.`);
    }
  }
  return ok(sizes as number[]);
}

/** One integer per spatial dimension from a number or a list (`stride: 2` → [2, 2]). */
function perDim(
  name: string,
  value: unknown,
  rank: number,
  min: number,
  max: number,
  required: true,
): Outcome<number[]>;
function perDim(
  name: string,
  value: unknown,
  rank: number,
  min: number,
  max: number,
  required: false,
): Outcome<number[] | null>;
function perDim(
  name: string,
  value: unknown,
  rank: number,
  min: number,
  max: number,
  required: boolean,
): Outcome<number[] | null> {
  if (value === undefined || value === null) {
    return required ? fail(`The payload needs "${name}" (a number, or one per dimension).`) : ok(null);
  }
  const list = typeof value === 'number' ? new Array<unknown>(rank).fill(value) : value;
  if (!Array.isArray(list) || list.length !== rank) {
    return fail(
      `"${name}" must be a number or a list of ${rank} number${rank === 1 ? '' : 's'} (one per spatial ` +
        `dimension), not ${formatJson(value)}.`,
    );
  }
  for (const item of list) {
    if (typeof item !== 'number' || !Number.isInteger(item) || item < min || item > max) {
      return fail(
        `"${name}" must be whole numbers from ${min} to ${max}; ${formatJson(value)} has ${describe(item)}.` +
          (typeof item === 'number' && item > max
            ? ` Larger values would not make a readable animation.`
            : ''),
      );
    }
  }
  return ok(list as number[]);
}

function readPadding(value: unknown, rank: number): Outcome<PaddingSpec | null> {
  if (value === undefined || value === null) return ok(null);
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'same' || text === 'same_upper') return ok({ kind: 'same' });
    if (text === 'same_lower') return ok({ kind: 'same_lower' });
    if (text === 'valid') return ok({ kind: 'valid' });
    return fail(
      `"padding" is "${value}"; use a number, one number per dimension, [begin, end] pairs, "same", ` +
        `"same_lower" or "valid".`,
    );
  }
  const usage =
    `"padding" must be a number, ${rank === 1 ? 'a list [p]' : `a list of ${rank} numbers`}, a list of ` +
    `[begin, end] pairs (one per dimension, e.g. ${rank === 1 ? '[[1, 2]]' : '[[1, 2], [0, 1]]'}), "same" or "valid"`;
  const check = (item: unknown): string | null =>
    typeof item === 'number' && Number.isInteger(item) && Math.abs(item) <= LIMITS.maxPadding
      ? null
      : `${usage}; ${formatJson(value)} has ${describe(item)} (whole numbers from −${LIMITS.maxPadding} to ${LIMITS.maxPadding}).`;
  if (typeof value === 'number') {
    const problem = check(value);
    if (problem) return fail(problem);
    return ok({ kind: 'explicit', begin: new Array(rank).fill(value), end: new Array(rank).fill(value) });
  }
  if (!Array.isArray(value) || value.length !== rank) return fail(`${usage}, not ${formatJson(value)}.`);
  if (value.every((item) => Array.isArray(item))) {
    const begin: number[] = [];
    const end: number[] = [];
    for (const pair of value as unknown[][]) {
      if (pair.length !== 2) return fail(`${usage}; ${formatJson(pair)} is not a [begin, end] pair.`);
      const problem = check(pair[0]) ?? check(pair[1]);
      if (problem) return fail(problem);
      begin.push(pair[0] as number);
      end.push(pair[1] as number);
    }
    return ok({ kind: 'explicit', begin, end });
  }
  for (const item of value) {
    const problem = check(item);
    if (problem) return fail(problem);
  }
  return ok({ kind: 'explicit', begin: value as number[], end: value as number[] });
}

function readBoolean(name: string, value: unknown): Outcome<boolean> {
  if (value === undefined || value === null) return ok(false);
  if (typeof value === 'boolean') return ok(value);
  if (value === 0 || value === 1) return ok(value === 1);
  return fail(`"${name}" must be true or false, not ${describe(value)}.`);
}

function readChannels(
  groupsValue: unknown,
  channelsValue: unknown,
  isPool: boolean,
): Outcome<{ groups: number; inChannels: number; outChannels: number }> {
  let groups = 1;
  if (groupsValue !== undefined && groupsValue !== null) {
    if (isPool) return fail(`"groups" applies to convolutions, not to pooling.`);
    if (typeof groupsValue !== 'number' || !Number.isInteger(groupsValue) || groupsValue < 1) {
      return fail(`"groups" must be a whole number of at least 1, not ${describe(groupsValue)}.`);
    }
    if (groupsValue > LIMITS.maxChannels)
      return fail(`"groups" ${groupsValue} is more than ${LIMITS.maxChannels}.`);
    groups = groupsValue;
  }
  if (channelsValue === undefined || channelsValue === null) {
    return ok({ groups, inChannels: groups, outChannels: groups });
  }
  if (isPool) return fail(`"channels" applies to convolutions; pooling keeps each channel to itself.`);
  if (
    !Array.isArray(channelsValue) ||
    channelsValue.length !== 2 ||
    !channelsValue.every(
      (c) => typeof c === 'number' && Number.isInteger(c) && c >= 1 && c <= LIMITS.maxChannels,
    )
  ) {
    return fail(
      `"channels" must be [in_channels, out_channels], two whole numbers from 1 to ${LIMITS.maxChannels}, not ` +
        `${formatJson(channelsValue)}.`,
    );
  }
  const [inChannels, outChannels] = channelsValue as [number, number];
  for (const [name, count] of [
    ['in_channels', inChannels],
    ['out_channels', outChannels],
  ] as const) {
    if (count % groups !== 0) {
      const valid: number[] = [];
      for (let g = 1; g <= Math.min(inChannels, outChannels) && valid.length < 12; g++) {
        if (inChannels % g === 0 && outChannels % g === 0) valid.push(g);
      }
      return fail(
        `${name} (${count}) must be divisible by groups (${groups}); for channels [${inChannels}, ${outChannels}] ` +
          `groups can be ${valid.join(', ')}.`,
      );
    }
  }
  return ok({ groups, inChannels, outChannels });
}

function readValues(
  value: unknown,
  input: readonly number[],
  kernel: readonly number[],
  isPool: boolean,
): Outcome<AnimationSpec['values']> {
  if (value === undefined || value === null) return ok(null);
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail(`"values" must be an object {"input": [...], "kernel": [...]}, not ${describe(value)}.`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'input' && key !== 'kernel') {
      return fail(`"values" has an unknown field "${key}"; it takes "input" and "kernel".`);
    }
  }
  if (isPool && record['kernel'] !== undefined && record['kernel'] !== null) {
    return fail(`"values.kernel" is for convolutions; pooling has no weights.`);
  }
  const readTensor = (name: string, shape: readonly number[]): Outcome<number[] | null> => {
    const tensor = record[name];
    if (tensor === undefined || tensor === null) return ok(null);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (expected > LIMITS.maxDrawn * LIMITS.maxDrawn) {
      return fail(
        `"values.${name}" would need ${expected} numbers; values can be given for inputs up to ` +
          `${LIMITS.maxDrawn}×${LIMITS.maxDrawn}.`,
      );
    }
    const flat: number[] = [];
    const walk = (item: unknown, depth: number): boolean => {
      if (Array.isArray(item)) {
        if (depth > shape.length) return false;
        return item.every((inner) => walk(inner, depth + 1));
      }
      if (typeof item !== 'number' || !Number.isFinite(item)) return false;
      flat.push(item);
      return flat.length <= expected;
    };
    if (!Array.isArray(tensor) || !walk(tensor, 1) || flat.length !== expected) {
      return fail(
        `"values.${name}" must hold ${expected} finite numbers (shape ${shape.join('×')}, flat or nested ` +
          `row-major), but got ${flat.length > expected ? 'more' : describeCount(tensor)}.`,
      );
    }
    return ok(flat);
  };
  const inputValues = readTensor('input', input);
  if (!inputValues.ok) return inputValues;
  const kernelValues = readTensor('kernel', kernel);
  if (!kernelValues.ok) return kernelValues;
  if (inputValues.value === null && kernelValues.value === null) return ok(null);
  return ok({ input: inputValues.value, kernel: kernelValues.value });
}

function describeCount(tensor: unknown): string {
  if (!Array.isArray(tensor)) return describe(tensor);
  let count = 0;
  let bad: unknown = undefined;
  const walk = (item: unknown): void => {
    if (Array.isArray(item)) item.forEach(walk);
    else if (typeof item === 'number' && Number.isFinite(item)) count++;
    else if (bad === undefined) bad = item;
  };
  walk(tensor);
  return bad === undefined ? `${count}` : `${describe(bad)} among them`;
}

/** A value as it appears in a message: JSON for data, a word for the type when JSON would not say it. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return formatJson(value);
}

function formatJson(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return formatValue(null);
  }
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
