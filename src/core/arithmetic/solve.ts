/**
 * The inverse solver: from a size the user wants back to the settings that produce it. Four questions:
 *
 * - transposedRange / outputPaddingFor: which sizes can a transposed conv produce from an input, and which
 *   output_padding gives a particular one (the `[min, min + s − 1]` ambiguity of pytorch#8816, keras#9883);
 * - settingsForTarget: for a transposed conv with given kernel/stride/dilation/padding, the setting in each
 *   framework (PyTorch output_padding or forward(output_size), Keras output_padding, tf.nn.conv*_transpose
 *   output_shape, ONNX pads or output_shape, Flax padding pairs) that reaches a target size, or why none can;
 * - forwardSettings / transposedSettings / upsampleSettings: which kernel/stride/padding/dilation map one size
 *   to another (or scale every size by a factor), simplest first;
 * - translateSame: the exact per-side pads of each framework's 'same' and how to say them in another one.
 *
 * Sizes come only from applyDimRule (dims.ts); every candidate a search returns has been checked through it.
 *
 * Hard caps, so no input can stall a caller: sizes ≤ MAX_SIZE and parameters ≤ MAX_PARAM (symbolic.ts, which
 * keeps all arithmetic exact); the searches try at most SEARCH_KERNEL_CAP × SEARCH_STRIDE_CAP ×
 * SEARCH_DILATION_CAP (31 × 64 × 8 ≈ 16k) combinations, each in at most a stride's worth of steps, and return at most RESULT_CAP
 * results; residue enumerations stop at 4096 (symbolic.ts); the 'same' translator lists residues only for
 * strides up to 4096.
 */
import { ceilDiv, effectiveKernel } from './args';
import { applyDimRule, samePads } from './dims';
import {
  MAX_PARAM,
  MAX_SIZE,
  dimFormula,
  dimNames,
  residueCondition,
  ruleProblem,
  sizeProblem,
  strideGaps,
  trailingCellsLost,
} from './symbolic';
import { type DimRule, type Framework, type Outcome, fail, ok } from './types';

/** Largest kernel size a search tries. */
export const SEARCH_KERNEL_CAP = 31;
/** Largest stride a search tries. */
export const SEARCH_STRIDE_CAP = 64;
/** Largest dilation a search tries. */
export const SEARCH_DILATION_CAP = 8;
/** Most results a search returns. */
export const RESULT_CAP = 100;
/** Largest upsampling factor upsampleSettings answers for. */
export const UPSAMPLE_FACTOR_CAP = 64;
/** Residues of the input size the 'same' translator enumerates at most. */
const RESIDUE_CAP = 4096;

/** One number for every spatial dimension, or one number for all of them. */
export type PerDim = number | readonly number[];

type TransposedRule = Extract<DimRule, { kind: 'transposed' }>;

// ---------------------------------------------------------------------------------------------------------
// The range of a transposed conv.

/** The sizes one transposed conv can produce from one input size. */
export interface TransposedRange {
  /** Smallest size (output_padding 0), at least 1. */
  readonly min: number;
  /**
   * Largest size a forward conv with the same settings maps back to the input: min + s − 1. This is what
   * PyTorch's forward(x, output_size=...) accepts, Keras output_padding < strides allows, ONNX (onnxruntime)
   * checks and TF's conv*_transpose output_shape must satisfy.
   */
  readonly max: number;
  /** Largest output_padding the PyTorch constructor accepts: max(stride, dilation) − 1. */
  readonly outputPaddingMax: number;
  /** min + outputPaddingMax: what PyTorch reaches when dilation > stride (not forward-consistent). */
  readonly maxWithOutputPadding: number;
  /** The range in words: "13 to 14 (output_padding 0 or 1)". */
  readonly text: string;
}

/**
 * Sizes a transposed conv produces from `inputSize`.
 * 'transposed': min = (i − 1)·s + k_eff − p_begin − p_end (output_padding 0), max = min + s − 1; PyTorch's
 * _output_padding range and its "output_padding must be smaller than either stride or dilation" rule
 * (ConvTranspose docs). 'transposed-same': the sizes a SAME forward conv maps back to i, (i − 1)·s + 1 to i·s
 * (tf.nn.conv2d_transpose, ONNX output_shape with SAME_*); the layer itself gives i·s.
 */
export function transposedRange(rule: DimRule, inputSize: number): Outcome<TransposedRange> {
  const problem = rule.kind === 'transposed' || rule.kind === 'transposed-same' ? ruleProblem(rule) : null;
  if (rule.kind !== 'transposed' && rule.kind !== 'transposed-same') {
    return fail(`Only a transposed convolution has a range of output sizes; this is a ${rule.kind} rule.`);
  }
  if (problem !== null) return fail(`The transposed convolution's ${problem}`);
  const sizeIssue = sizeProblem('input size', inputSize);
  if (sizeIssue !== null) return fail(sizeIssue);
  const s = rule.stride;
  if (rule.kind === 'transposed-same') {
    const min = (inputSize - 1) * s + 1;
    const max = inputSize * s;
    return ok({ min, max, outputPaddingMax: s - 1, maxWithOutputPadding: max, text: rangeText(min, max) });
  }
  const rawMin = applyDimRule({ ...rule, outputPadding: 0 }, inputSize);
  const opMax = Math.max(s, rule.dilation) - 1;
  const rawMax = rawMin + s - 1;
  if (rawMax < 1) {
    return fail(
      `From an input of ${inputSize}, kernel ${rule.kernel} (dilation ${rule.dilation}) and stride ${s} give ` +
        `${rawMin + rule.padBegin + rule.padEnd} before cropping, and padding ${rule.padBegin}+${rule.padEnd} ` +
        `crops all of it (${rawMin}). Padding can crop at most ${rawMin + rule.padBegin + rule.padEnd - 1} in total here.`,
    );
  }
  const min = Math.max(1, rawMin);
  const opText = min === rawMax ? 'output_padding 0' : `output_padding ${min - rawMin} to ${rawMax - rawMin}`;
  return ok({
    min,
    max: rawMax,
    outputPaddingMax: opMax,
    maxWithOutputPadding: rawMin + opMax,
    text: `${rangeText(min, rawMax)} (${opText})`,
  });
}

function rangeText(min: number, max: number): string {
  return min === max ? `${min}` : `${min} to ${max}`;
}

/**
 * The output_padding that makes a transposed conv give `target` from `inputSize`: target − min, valid when
 * 0 ≤ it < max(stride, dilation) (PyTorch ConvTranspose). Ignores the rule's own outputPadding.
 */
export function outputPaddingFor(rule: DimRule, inputSize: number, target: number): Outcome<number> {
  if (rule.kind !== 'transposed') {
    return fail(
      `output_padding belongs to a transposed convolution with explicit padding; this is a ${rule.kind} rule.`,
    );
  }
  const range = transposedRange(rule, inputSize);
  if (!range.ok) return range;
  const targetIssue = sizeProblem('target size', target);
  if (targetIssue !== null) return fail(targetIssue);
  const rawMin = applyDimRule({ ...rule, outputPadding: 0 }, inputSize);
  const op = target - rawMin;
  if (op < 0 || op > range.value.outputPaddingMax) {
    const limit =
      range.value.outputPaddingMax === 0
        ? 'output_padding must be 0 here (stride 1 and dilation 1)'
        : `output_padding must be smaller than stride (${rule.stride}) or dilation (${rule.dilation})`;
    return fail(
      `From an input of ${inputSize} this transposed convolution gives ${rangeText(range.value.min, range.value.maxWithOutputPadding)}; ` +
        `${target} would need output_padding ${op}, but ${limit}.`,
    );
  }
  return ok(op);
}

// ---------------------------------------------------------------------------------------------------------
// Reaching a target size, framework by framework.

export interface TargetQuery {
  readonly kernel: PerDim;
  /** Default 1. */
  readonly stride?: PerDim;
  /** Default 1. */
  readonly dilation?: PerDim;
  /** The symmetric padding of a PyTorch/ONNX-style transposed conv (default 0). Keras and TF use their own. */
  readonly padding?: PerDim;
  readonly inputSize: PerDim;
  readonly target: PerDim;
  /** Spatial rank for the code snippets when every value above is a single number (default 2). */
  readonly rank?: number;
}

/** One way (or a failed way) of reaching the target in one framework. */
export interface TargetSetting {
  readonly framework: Framework;
  /** What is set: 'output_padding', 'forward(output_size=...)', "padding='same'", 'output_shape', … */
  readonly via: string;
  readonly reachable: boolean;
  /** The code the user would write (null when unreachable). */
  readonly code: string | null;
  /** The resulting per-dimension rules (empty when unreachable); output_shape/output_size answers are 'fixed'. */
  readonly rules: DimRule[];
  /** The resulting per-dimension formulas (empty when unreachable). */
  readonly formulas: string[];
  /** Why this way cannot reach the target, in the user's words (null when it can). */
  readonly reason: string | null;
  readonly notes: string[];
}

export interface TargetAnswer {
  readonly dims: string[];
  /** Per dimension, the sizes PyTorch's forward(output_size=...) accepts for the given padding. */
  readonly ranges: { readonly min: number; readonly max: number }[];
  readonly settings: TargetSetting[];
}

interface DimQuery {
  readonly name: string;
  readonly k: number;
  readonly s: number;
  readonly d: number;
  readonly p: number;
  readonly i: number;
  readonly t: number;
  readonly kEff: number;
}

/** Broadcasts per-dimension values to one rank and validates them; `min` is the smallest allowed value. */
function expand(
  fields: Record<string, { value: PerDim | undefined; fallback: number; min: number; max: number }>,
  rankHint: number | undefined,
): Outcome<{ rank: number; values: Record<string, number[]> }> {
  let rank: number | undefined;
  for (const [name, field] of Object.entries(fields)) {
    if (Array.isArray(field.value)) {
      const length = (field.value as readonly number[]).length;
      if (length === 0)
        return fail(`${name} is an empty list; give one number or one per spatial dimension.`);
      if (length === 1) continue;
      if (rank !== undefined && rank !== length) {
        return fail(
          `${name} has ${length} values but another setting has ${rank}; give one per spatial dimension.`,
        );
      }
      rank = length;
    }
  }
  if (rank === undefined) {
    if (rankHint !== undefined && (!Number.isInteger(rankHint) || rankHint < 1 || rankHint > 3)) {
      return fail(`The rank must be 1, 2 or 3 (Conv1d to Conv3d), got ${String(rankHint)}.`);
    }
    rank = rankHint ?? 2;
  }
  if (rank > 3)
    return fail(`Conv Lens writes code for 1-D to 3-D convolutions; got ${rank} values per setting.`);
  const values: Record<string, number[]> = {};
  for (const [name, field] of Object.entries(fields)) {
    const raw =
      field.value === undefined ? [field.fallback] : Array.isArray(field.value) ? field.value : [field.value];
    const list =
      (raw as readonly unknown[]).length === 1 ? Array.from({ length: rank }, () => raw[0]) : [...raw];
    for (const value of list) {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return fail(
          `${name} must be a whole number or a list of whole numbers, got ${JSON.stringify(field.value)}.`,
        );
      }
      if (value < field.min || value > field.max) {
        return fail(`${name} must be from ${field.min} to ${field.max}, got ${value}.`);
      }
    }
    values[name] = list as number[];
  }
  return ok({ rank, values });
}

/**
 * For each framework, the setting that makes a transposed conv with these kernel/stride/dilation/padding give
 * `target` from `inputSize`, with the code to write and the resulting formulas, or the reason none can.
 * Formulas: PyTorch (i − 1)·s − 2p + k_eff + output_padding with output_padding < max(s, d), forward(output_size)
 * within [min, min + s − 1] (torch/nn/modules/conv.py _output_padding); Keras 3 valid (i − 1)·s + k_eff + op,
 * same i·s or (i − 1)·s + k_eff % 2 + op with op < strides (backend_utils._get_output_shape_given_tf_padding);
 * tf.nn.conv*_transpose output_shape in [(i − 1)·s + 1, i·s] (SAME) or [(i − 1)·s + k_eff, … + s − 1] (VALID);
 * ONNX s·(i − 1) + op + k_eff − pads with op < s, output_shape up to (i − 1)·s + k_eff + s − 1 (onnxruntime's
 * consistency check); Flax/lax explicit pairs (i − 1)·s + lo + hi − k_eff + 2.
 */
export function settingsForTarget(query: TargetQuery): Outcome<TargetAnswer> {
  const expanded = expand(
    {
      kernel: { value: query.kernel, fallback: 1, min: 1, max: MAX_PARAM },
      stride: { value: query.stride, fallback: 1, min: 1, max: MAX_PARAM },
      dilation: { value: query.dilation, fallback: 1, min: 1, max: MAX_PARAM },
      padding: { value: query.padding, fallback: 0, min: 0, max: MAX_PARAM },
      'input size': { value: query.inputSize, fallback: 1, min: 1, max: MAX_SIZE },
      'target size': { value: query.target, fallback: 1, min: 1, max: MAX_SIZE },
    },
    query.rank,
  );
  if (!expanded.ok) return expanded;
  const { rank, values } = expanded.value;
  const names = dimNames(rank);
  const dims: DimQuery[] = names.map((name, index) => {
    const at = (field: string): number => values[field]![index]!;
    return {
      name,
      k: at('kernel'),
      s: at('stride'),
      d: at('dilation'),
      p: at('padding'),
      i: at('input size'),
      t: at('target size'),
      kEff: effectiveKernel(at('kernel'), at('dilation')),
    };
  });
  const ranges = dims.map((q) => {
    const min = (q.i - 1) * q.s + q.kEff - 2 * q.p;
    return { min, max: min + q.s - 1 };
  });
  const settings: TargetSetting[] = [
    pytorchOutputPadding(dims, rank),
    pytorchOutputSize(dims, rank, ranges),
    kerasTransposed(dims, rank, 'valid'),
    kerasTransposed(dims, rank, 'same'),
    tensorflowOutputShape(dims, rank, 'SAME'),
    tensorflowOutputShape(dims, rank, 'VALID'),
    onnxPads(dims),
    onnxOutputShape(dims),
    flaxPairs(dims),
  ];
  return ok({ dims: names, ranges, settings });
}

/** Python literal for per-dimension values: one number when they agree, else a tuple. */
function pyValue(values: readonly number[]): string {
  return values.every((v) => v === values[0]) ? String(values[0]) : `(${values.join(', ')})`;
}

function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

function list(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}

function transposedRule(
  q: DimQuery,
  padBegin: number,
  padEnd: number,
  outputPadding: number,
): TransposedRule {
  return { kind: 'transposed', kernel: q.k, dilation: q.d, stride: q.s, padBegin, padEnd, outputPadding };
}

function reached(
  framework: Framework,
  via: string,
  code: string,
  rules: DimRule[],
  formulas: string[],
  notes: string[] = [],
): TargetSetting {
  return { framework, via, reachable: true, code, rules, formulas, reason: null, notes };
}

function formulasOf(rules: readonly DimRule[], dims: readonly DimQuery[]): string[] {
  return rules.map((rule, n) => dimFormula(rule, dims[n]!.name));
}

function unreached(framework: Framework, via: string, reason: string, notes: string[] = []): TargetSetting {
  return { framework, via, reachable: false, code: null, rules: [], formulas: [], reason, notes };
}

function torchArgs(dims: readonly DimQuery[], extra: Record<string, number[]>): string {
  const parts = [`kernel_size=${pyValue(dims.map((q) => q.k))}`, `stride=${pyValue(dims.map((q) => q.s))}`];
  if (dims.some((q) => q.p !== 0)) parts.push(`padding=${pyValue(dims.map((q) => q.p))}`);
  for (const [name, values] of Object.entries(extra)) parts.push(`${name}=${pyValue(values)}`);
  if (dims.some((q) => q.d !== 1)) parts.push(`dilation=${pyValue(dims.map((q) => q.d))}`);
  return parts.join(', ');
}

function pytorchOutputPadding(dims: readonly DimQuery[], rank: number): TargetSetting {
  const via = 'output_padding';
  const ops = dims.map((q) => q.t - ((q.i - 1) * q.s + q.kEff - 2 * q.p));
  const failures: string[] = [];
  const alternatives: { p: number; op: number }[] = [];
  dims.forEach((q, index) => {
    const opMax = Math.max(q.s, q.d) - 1;
    const op = ops[index]!;
    const min = q.t - op;
    if (op >= 0 && op <= opMax) {
      alternatives.push({ p: q.p, op });
      return;
    }
    failures.push(
      `${q.name}: ${q.t} is out of reach with padding ${q.p}, which gives ${rangeText(min, min + opMax)}` +
        (opMax === 0
          ? ' (output_padding must be 0 with stride 1 and dilation 1)'
          : ` (output_padding 0 to ${opMax})`),
    );
    // Another padding may reach it: 2p' − op' = (i − 1)·s + k_eff − target with p' ≥ 0 and 0 ≤ op' ≤ opMax.
    const excess = (q.i - 1) * q.s + q.kEff - q.t;
    const p2 = Math.max(0, ceilDiv(excess, 2));
    const op2 = 2 * p2 - excess;
    if (op2 >= 0 && op2 <= opMax && p2 <= MAX_PARAM) alternatives.push({ p: p2, op: op2 });
  });
  if (failures.length > 0) {
    let reason = failures.join('; ') + '.';
    if (alternatives.length === dims.length) {
      const alt = alternatives;
      reason +=
        ` padding=${pyValue(alt.map((a) => a.p))}, output_padding=${pyValue(alt.map((a) => a.op))} reaches it: ` +
        `nn.ConvTranspose${rank}d(in_channels, out_channels, ${torchArgs(
          dims.map((q, n) => ({ ...q, p: alt[n]!.p })),
          { output_padding: alt.map((a) => a.op) },
        )}).`;
    } else {
      reason += ' No padding reaches it with this kernel and stride: a larger kernel or stride is needed.';
    }
    return unreached('pytorch', via, reason);
  }
  const notes: string[] = [];
  dims.forEach((q, index) => {
    if (ops[index]! >= q.s) {
      notes.push(
        `${q.name}: output_padding ${ops[index]} is accepted only because dilation ${q.d} exceeds stride ${q.s}; ` +
          `forward(x, output_size=...) refuses this size and a forward conv does not map it back to ${q.i}.`,
      );
    }
  });
  const code = `nn.ConvTranspose${rank}d(in_channels, out_channels, ${torchArgs(dims, { output_padding: ops })})`;
  const rules = dims.map((q, index) => transposedRule(q, q.p, q.p, ops[index]!));
  return reached('pytorch', via, code, rules, formulasOf(rules, dims), notes);
}

function pytorchOutputSize(
  dims: readonly DimQuery[],
  rank: number,
  ranges: readonly { min: number; max: number }[],
): TargetSetting {
  const via = 'forward(x, output_size=...)';
  const inRange = dims.every((q, n) => q.t >= ranges[n]!.min && q.t <= ranges[n]!.max);
  if (!inRange) {
    return unreached(
      'pytorch',
      via,
      `forward(x, output_size=${list(dims.map((q) => q.t))}) raises: valid sizes range from ` +
        `${list(ranges.map((r) => r.min))} to ${list(ranges.map((r) => r.max))} (for an input of ${list(dims.map((q) => q.i))}).`,
    );
  }
  const code =
    `deconv = nn.ConvTranspose${rank}d(in_channels, out_channels, ${torchArgs(dims, {})})\n` +
    `y = deconv(x, output_size=${list(dims.map((q) => q.t))})`;
  const formulas = dims.map(
    (q, n) => `${q.name}_out = ${q.t} (output_size; accepted ${rangeText(ranges[n]!.min, ranges[n]!.max)})`,
  );
  const rules = dims.map((q): DimRule => ({ kind: 'fixed', size: q.t }));
  return reached('pytorch', via, code, rules, formulas, [
    'PyTorch computes output_padding = output_size − min itself, so one layer serves every input size of a U-Net skip.',
  ]);
}

function kerasTransposed(dims: readonly DimQuery[], rank: number, padding: 'valid' | 'same'): TargetSetting {
  const via = `padding='${padding}'`;
  const notes: string[] = [];
  if (dims.some((q) => q.p !== 0)) {
    notes.push("Keras has no numeric padding for Conv*Transpose; only 'valid' and 'same'.");
  }
  if (Math.max(...dims.map((q) => q.s)) > 1 && Math.max(...dims.map((q) => q.d)) > 1) {
    return unreached(
      'keras',
      via,
      'Keras refuses strides > 1 together with dilation_rate > 1 (`strides > 1` not supported in conjunction with `dilation_rate > 1`).',
      notes,
    );
  }
  const args = (op: number[] | null): string => {
    const parts = [
      `kernel_size=${pyValue(dims.map((q) => q.k))}`,
      `strides=${pyValue(dims.map((q) => q.s))}`,
      `padding='${padding}'`,
    ];
    if (op !== null) parts.push(`output_padding=${pyValue(op)}`);
    if (dims.some((q) => q.d !== 1)) parts.push(`dilation_rate=${pyValue(dims.map((q) => q.d))}`);
    return `keras.layers.Conv${rank}DTranspose(filters, ${parts.join(', ')})`;
  };
  if (padding === 'same' && dims.every((q) => q.t === q.i * q.s)) {
    const rules = dims.map((q): DimRule => ({
      kind: 'transposed-same',
      kernel: q.k,
      dilation: q.d,
      stride: q.s,
    }));
    return reached('keras', via, args(null), rules, formulasOf(rules, dims), notes);
  }
  // Valid: (i − 1)·s + k_eff + op; same with op: (i − 1)·s + k_eff % 2 + op (a crop of k_eff − k_eff % 2).
  const base = dims.map((q) => (q.i - 1) * q.s + (padding === 'valid' ? q.kEff : q.kEff % 2));
  const ops = dims.map((q, n) => q.t - base[n]!);
  const failures = dims
    .map((q, n) => {
      const op = ops[n]!;
      if (op >= 0 && op < q.s) return null;
      return `${q.name}: padding='${padding}' gives ${rangeText(base[n]!, base[n]! + q.s - 1)} (output_padding 0 to ${q.s - 1}), not ${q.t}`;
    })
    .filter((x): x is string => x !== null);
  if (failures.length > 0) {
    const sameHint =
      padding === 'same' ? ` Without output_padding, 'same' gives ${list(dims.map((q) => q.i * q.s))}.` : '';
    return unreached('keras', via, failures.join('; ') + '.' + sameHint, notes);
  }
  const defaults = dims.map((q) => Math.max(q.kEff, q.s) - q.kEff);
  const useDefault = padding === 'valid' && ops.every((op, n) => op === defaults[n]);
  if (useDefault) notes.push('The default output_padding=None already gives this size.');
  const rules = dims.map((q, n) => {
    const crop = padding === 'valid' ? 0 : (q.kEff - (q.kEff % 2)) / 2;
    return transposedRule(q, crop, crop, ops[n]!);
  });
  return reached('keras', via, args(useDefault ? null : ops), rules, formulasOf(rules, dims), notes);
}

function tensorflowOutputShape(
  dims: readonly DimQuery[],
  rank: number,
  padding: 'SAME' | 'VALID',
): TargetSetting {
  const via = `output_shape, padding='${padding}'`;
  // The output_shape must be one that the forward conv maps back to the input (TF's
  // "Conv2DBackpropInput: Number of rows of out_backprop doesn't match computed").
  const bounds = dims.map((q) =>
    padding === 'SAME'
      ? { min: (q.i - 1) * q.s + 1, max: q.i * q.s }
      : { min: (q.i - 1) * q.s + q.kEff, max: (q.i - 1) * q.s + q.kEff + q.s - 1 },
  );
  const failures = dims
    .map((q, n) =>
      q.t >= bounds[n]!.min && q.t <= bounds[n]!.max
        ? null
        : `${q.name}: ${padding} accepts output_shape ${rangeText(bounds[n]!.min, bounds[n]!.max)}, not ${q.t}`,
    )
    .filter((x): x is string => x !== null);
  if (failures.length > 0) return unreached('tensorflow', via, failures.join('; ') + '.');
  const strides = pyValue(dims.map((q) => q.s));
  const dilations = dims.some((q) => q.d !== 1) ? `, dilations=${pyValue(dims.map((q) => q.d))}` : '';
  const code =
    `tf.nn.conv${rank}d_transpose(x, filters, output_shape=[batch, ${dims.map((q) => q.t).join(', ')}, out_channels], ` +
    `strides=${strides}, padding='${padding}'${dilations})`;
  const formulas = dims.map(
    (q, n) =>
      `${q.name}_out = ${q.t} (output_shape; ${padding} accepts ${rangeText(bounds[n]!.min, bounds[n]!.max)})`,
  );
  const rules = dims.map((q): DimRule => ({ kind: 'fixed', size: q.t }));
  return reached('tensorflow', via, code, rules, formulas, [
    'The filters tensor is [k..., out_channels, in_channels] (NHWC data).',
  ]);
}

function onnxAttrs(dims: readonly DimQuery[]): string {
  const dilations = dims.some((q) => q.d !== 1) ? `, dilations=${list(dims.map((q) => q.d))}` : '';
  return `kernel_shape=${list(dims.map((q) => q.k))}, strides=${list(dims.map((q) => q.s))}${dilations}`;
}

function onnxPads(dims: readonly DimQuery[]): TargetSetting {
  const via = 'pads';
  const chosen: { b: number; e: number; op: number }[] = [];
  const failures: string[] = [];
  for (const q of dims) {
    // The crop needed without output_padding; a negative crop is made up with output_padding (< stride).
    const crop = (q.i - 1) * q.s + q.kEff - q.t;
    if (crop >= 0) {
      const b = Math.min(q.p, crop);
      chosen.push({ b, e: crop - b, op: 0 });
    } else if (-crop <= q.s - 1) {
      chosen.push({ b: 0, e: 0, op: -crop });
    } else {
      const most = (q.i - 1) * q.s + q.kEff + q.s - 1;
      failures.push(
        `${q.name}: the largest ConvTranspose output from ${q.i} is ${most} (pads 0, output_padding ${q.s - 1})`,
      );
    }
  }
  if (failures.length > 0) return unreached('onnx', via, failures.join('; ') + '.');
  const pads = [...chosen.map((c) => c.b), ...chosen.map((c) => c.e)];
  const op = chosen.some((c) => c.op !== 0) ? `, output_padding=${list(chosen.map((c) => c.op))}` : '';
  const code = `helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], ${onnxAttrs(dims)}, pads=${list(pads)}${op})`;
  const notes = ['pads lists every begin, then every end: [x1_begin, x2_begin, …, x1_end, x2_end, …].'];
  if (chosen.every((c, n) => c.b === dims[n]!.p && c.op === 0) && dims.some((q, n) => chosen[n]!.e !== q.p)) {
    notes.push(
      `Cell for cell this is PyTorch's padding=${pyValue(dims.map((q) => q.p))} with output_padding=` +
        `${pyValue(dims.map((q, n) => q.p - chosen[n]!.e))}: output_padding only shortens the crop at the end.`,
    );
  }
  const rules = dims.map((q, n) => transposedRule(q, chosen[n]!.b, chosen[n]!.e, chosen[n]!.op));
  return reached('onnx', via, code, rules, formulasOf(rules, dims), notes);
}

function onnxOutputShape(dims: readonly DimQuery[]): TargetSetting {
  const via = 'output_shape';
  const most = dims.map((q) => (q.i - 1) * q.s + q.kEff + q.s - 1);
  const failures = dims
    .map((q, n) =>
      q.t <= most[n]!
        ? null
        : `${q.name}: onnxruntime accepts output_shape up to ${most[n]} for an input of ${q.i} ` +
          `(it checks that a forward conv maps the output back to the input)`,
    )
    .filter((x): x is string => x !== null);
  if (failures.length > 0) return unreached('onnx', via, failures.join('; ') + '.');
  const code = `helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], ${onnxAttrs(dims)}, output_shape=${list(dims.map((q) => q.t))})`;
  const formulas = dims.map((q) => `${q.name}_out = ${q.t} (output_shape)`);
  const rules = dims.map((q): DimRule => ({ kind: 'fixed', size: q.t }));
  return reached('onnx', via, code, rules, formulas, [
    'The pads then follow from output_shape; the ONNX spec and onnxruntime split an odd total between begin and end ' +
      'in opposite ways, so give pads explicitly when the alignment matters.',
  ]);
}

function flaxPairs(dims: readonly DimQuery[]): TargetSetting {
  const via = 'padding pairs';
  const pairs: [number, number][] = [];
  const failures: string[] = [];
  for (const q of dims) {
    // lax.conv_transpose pads the stride-dilated input of a stride-1 conv: out = (i − 1)·s + lo + hi − k_eff + 2.
    const sum = q.t - (q.i - 1) * q.s - 2 + q.kEff;
    if (sum < 0) {
      failures.push(
        `${q.name}: ${q.t} needs pads summing to ${sum}; the smallest output with pads (0, 0) is ${(q.i - 1) * q.s + 2 - q.kEff}`,
      );
      continue;
    }
    // Prefer the pairs that reproduce PyTorch's padding p: (k_eff − 1 − p, the rest).
    const lo = Math.min(Math.max(q.kEff - 1 - q.p, 0), sum);
    pairs.push([lo, sum - lo]);
  }
  if (failures.length > 0) return unreached('flax', via, failures.join('; ') + '.');
  const padding = `(${pairs.map(([lo, hi]) => `(${lo}, ${hi})`).join(', ')}${pairs.length === 1 ? ',' : ''})`;
  const dilation = dims.some((q) => q.d !== 1) ? `, kernel_dilation=${pyTuple(dims.map((q) => q.d))}` : '';
  const code =
    `nn.ConvTranspose(features, kernel_size=${pyTuple(dims.map((q) => q.k))}, strides=${pyTuple(dims.map((q) => q.s))}, ` +
    `padding=${padding}${dilation})`;
  const notes: string[] = [];
  if (dims.every((q) => q.t === q.i * q.s)) notes.push("padding='SAME' gives the same size.");
  if (dims.every((q) => q.t === q.i * q.s + Math.max(q.kEff - q.s, 0)))
    notes.push("padding='VALID' gives the same size.");
  if (pairs.some(([lo, hi], n) => Math.max(lo, hi) > dims[n]!.kEff - 1)) {
    notes.push('A pad larger than k_eff − 1 adds cells no input reaches (they hold only the bias).');
  }
  notes.push('jax.lax.conv_transpose takes the same padding pairs.');
  // Pairs (lo, hi) are a transposed conv cropping k_eff − 1 − lo and k_eff − 1 − hi.
  const rules = dims.map((q, n) =>
    transposedRule(q, q.kEff - 1 - pairs[n]![0], q.kEff - 1 - pairs[n]![1], 0),
  );
  return reached('flax', via, code, rules, formulasOf(rules, dims), notes);
}

// ---------------------------------------------------------------------------------------------------------
// Searching for settings that map one size to another.

/** One candidate layer found by a search. */
export interface SizeSetting {
  readonly transposed: boolean;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** [begin, end]; symmetric unless no symmetric padding works. */
  readonly padding: readonly [number, number];
  /** 0 for forward convs. */
  readonly outputPadding: number;
  readonly rule: DimRule;
  /** `H_out = ⌈H_in/2⌉` for the search's dimension name. */
  readonly formula: string;
  /** Input rows the layer never reads (trailing loss for this input, interior gaps), or null. */
  readonly waste: string | null;
  /** A transposed conv whose kernel taps overlap unevenly (k % s ≠ 0): checkerboard artifacts. */
  readonly checkerboard: boolean;
  /** PyTorch code (two lines when a separate pad or crop is needed). */
  readonly code: string;
}

export interface SizeSearch {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Largest kernel tried (default 7, at most SEARCH_KERNEL_CAP). */
  readonly maxKernel?: number;
  /** Largest stride tried (default max(4, ⌈in/out⌉) or ⌈out/in⌉, at most SEARCH_STRIDE_CAP). */
  readonly maxStride?: number;
  /** Largest dilation tried (default 2, at most SEARCH_DILATION_CAP). */
  readonly maxDilation?: number;
  /** Most results returned (default 10, at most RESULT_CAP). */
  readonly limit?: number;
  /** Spatial rank for the code (default 2). */
  readonly rank?: number;
  /** Dimension name used in formulas (default 'H'). */
  readonly dim?: string;
}

interface SearchBounds {
  readonly i: number;
  readonly o: number;
  readonly maxKernel: number;
  readonly maxStride: number;
  readonly maxDilation: number;
  readonly limit: number;
  readonly rank: number;
  readonly dim: string;
}

function searchBounds(search: SizeSearch, defaultStride: number): Outcome<SearchBounds> {
  const i = search.inputSize;
  const o = search.outputSize;
  const issue = sizeProblem('input size', i) ?? sizeProblem('output size', o);
  if (issue !== null) return fail(issue);
  const bounded = (
    name: string,
    value: number | undefined,
    fallback: number,
    cap: number,
  ): Outcome<number> => {
    if (value === undefined) return ok(Math.min(fallback, cap));
    if (!Number.isInteger(value) || value < 1)
      return fail(`${name} must be a whole number of at least 1, got ${String(value)}.`);
    return ok(Math.min(value, cap));
  };
  const maxKernel = bounded('maxKernel', search.maxKernel, 7, SEARCH_KERNEL_CAP);
  const maxStride = bounded('maxStride', search.maxStride, defaultStride, SEARCH_STRIDE_CAP);
  const maxDilation = bounded('maxDilation', search.maxDilation, 2, SEARCH_DILATION_CAP);
  const limit = bounded('limit', search.limit, 10, RESULT_CAP);
  for (const outcome of [maxKernel, maxStride, maxDilation, limit]) if (!outcome.ok) return outcome;
  const rank = search.rank ?? 2;
  if (!Number.isInteger(rank) || rank < 1 || rank > 3)
    return fail(`The rank must be 1, 2 or 3, got ${String(rank)}.`);
  return ok({
    i,
    o,
    maxKernel: (maxKernel as { value: number }).value,
    maxStride: (maxStride as { value: number }).value,
    maxDilation: (maxDilation as { value: number }).value,
    limit: (limit as { value: number }).value,
    rank,
    dim: search.dim ?? 'H',
  });
}

/** Number of kernel taps landing on each output phase of a transposed conv; uneven counts mean checkerboard. */
function unevenOverlap(kernel: number, dilation: number, stride: number): boolean {
  if (stride === 1) return false;
  const counts = new Array<number>(stride).fill(0);
  for (let m = 0; m < kernel; m++) counts[(m * dilation) % stride]!++;
  return counts.some((c) => c !== counts[0]);
}

function sortAndLimit<T>(items: T[], key: (item: T) => number[], limit: number): T[] {
  return items
    .map((item) => ({ item, k: key(item) }))
    .sort((x, y) => {
      for (let n = 0; n < x.k.length; n++) if (x.k[n] !== y.k[n]) return x.k[n]! - y.k[n]!;
      return 0;
    })
    .slice(0, limit)
    .map((entry) => entry.item);
}

/**
 * Forward conv settings (kernel, stride, dilation, padding) that map inputSize to outputSize:
 * ⌊(i + p_begin + p_end − k_eff)/s⌋ + 1 = o, i.e. total padding P in [(o − 1)·s + k_eff − i, … + s − 1]
 * (PyTorch Conv docs), with each side at most k_eff − 1. Simplest first: settings that read every input
 * row, then no dilation, symmetric padding, smaller stride, smaller kernel, less padding. Bounded by the
 * SEARCH_* caps; each (k, s, d) is solved in constant time.
 */
export function forwardSettings(search: SizeSearch): Outcome<SizeSetting[]> {
  const defaultStride = Math.max(4, ceilDiv(search.inputSize, Math.max(1, search.outputSize)));
  const boundsOutcome = searchBounds(search, defaultStride);
  if (!boundsOutcome.ok) return boundsOutcome;
  const b = boundsOutcome.value;
  const found: SizeSetting[] = [];
  for (let d = 1; d <= b.maxDilation; d++) {
    for (let k = 1; k <= b.maxKernel; k++) {
      if (k === 1 && d > 1) continue; // A 1-tap kernel has nothing to dilate.
      const kEff = effectiveKernel(k, d);
      for (let s = 1; s <= b.maxStride; s++) {
        const low = Math.max(0, (b.o - 1) * s + kEff - b.i);
        const high = Math.min((b.o - 1) * s + kEff - b.i + s - 1, 2 * (kEff - 1));
        if (low > high) continue;
        const even = low % 2 === 0 ? low : low + 1;
        const [pb, pe] =
          even <= high ? [even / 2, even / 2] : [Math.floor(low / 2), low - Math.floor(low / 2)];
        const rule: DimRule = {
          kind: 'window',
          kernel: k,
          dilation: d,
          stride: s,
          padBegin: pb,
          padEnd: pe,
          ceilMode: false,
        };
        if (applyDimRule(rule, b.i) !== b.o) continue; // Never return a setting the arithmetic disagrees with.
        found.push(forwardSetting(rule, b));
      }
    }
  }
  if (found.length === 0) {
    const grow =
      b.o > b.i
        ? ` A forward conv grows a size only through padding (at most by k_eff − 1); for ${b.i} → ${b.o} use a transposed conv (transposedSettings).`
        : ' Allow a larger kernel, stride or dilation.';
    return fail(
      `No forward conv with kernel ≤ ${b.maxKernel}, stride ≤ ${b.maxStride} and dilation ≤ ${b.maxDilation} maps ${b.i} to ${b.o}.${grow}`,
    );
  }
  return ok(
    sortAndLimit(
      found,
      (x) => [
        x.waste === null ? 0 : 1,
        x.dilation > 1 ? 1 : 0,
        x.padding[0] === x.padding[1] ? 0 : 1,
        x.stride,
        x.kernel,
        x.padding[0] + x.padding[1],
      ],
      b.limit,
    ),
  );
}

function forwardSetting(rule: Extract<DimRule, { kind: 'window' }>, b: SearchBounds): SizeSetting {
  const lost = trailingCellsLost(rule, b.i) ?? 0;
  const gaps = strideGaps(rule, b.dim);
  const lostText =
    lost === 0
      ? null
      : lost === 1
        ? 'the last input cell is never read'
        : `the last ${lost} input cells are never read`;
  const waste = [lostText, gaps].filter((x): x is string => x !== null).join('; ');
  const args = [`kernel_size=${rule.kernel}`, `stride=${rule.stride}`];
  const symmetric = rule.padBegin === rule.padEnd;
  if (symmetric && rule.padBegin > 0) args.push(`padding=${rule.padBegin}`);
  if (rule.dilation > 1) args.push(`dilation=${rule.dilation}`);
  const conv = `nn.Conv${b.rank}d(in_channels, out_channels, ${args.join(', ')})`;
  const pad = Array.from({ length: b.rank }, () => `${rule.padBegin}, ${rule.padEnd}`).join(', ');
  const code = symmetric ? conv : `x = F.pad(x, (${pad}))  # PyTorch's padding= is symmetric\n${conv}`;
  return {
    transposed: false,
    kernel: rule.kernel,
    stride: rule.stride,
    dilation: rule.dilation,
    padding: [rule.padBegin, rule.padEnd],
    outputPadding: 0,
    rule,
    formula: dimFormula(rule, b.dim),
    waste: waste === '' ? null : waste,
    checkerboard: false,
    code,
  };
}

/**
 * Transposed conv settings that map inputSize to outputSize:
 * (i − 1)·s + k_eff − P + op = o with total crop P ≥ 0 (each side ≤ k_eff − 1) and 0 ≤ op < s, which every
 * framework accepts (PyTorch/ONNX/Keras ConvTranspose). Simplest first: even tap overlap (no checkerboard),
 * no dilation, symmetric padding, no output_padding, smaller stride, smaller kernel. Bounded by SEARCH_* caps.
 */
export function transposedSettings(search: SizeSearch): Outcome<SizeSetting[]> {
  const defaultStride = Math.max(4, ceilDiv(search.outputSize, Math.max(1, search.inputSize)));
  const boundsOutcome = searchBounds(search, defaultStride);
  if (!boundsOutcome.ok) return boundsOutcome;
  const b = boundsOutcome.value;
  const found: SizeSetting[] = [];
  for (let d = 1; d <= b.maxDilation; d++) {
    for (let k = 1; k <= b.maxKernel; k++) {
      if (k === 1 && d > 1) continue;
      const kEff = effectiveKernel(k, d);
      for (let s = 1; s <= b.maxStride; s++) {
        const excess = (b.i - 1) * s + kEff - b.o; // = P − op
        const candidate = transposedCandidate(excess, s, kEff);
        if (candidate === null) continue;
        const rule: TransposedRule = {
          kind: 'transposed',
          kernel: k,
          dilation: d,
          stride: s,
          padBegin: candidate.pb,
          padEnd: candidate.pe,
          outputPadding: candidate.op,
        };
        if (applyDimRule(rule, b.i) !== b.o) continue;
        found.push(transposedSetting(rule, b.rank, b.dim));
      }
    }
  }
  if (found.length === 0) {
    return fail(
      `No transposed conv with kernel ≤ ${b.maxKernel}, stride ≤ ${b.maxStride} and dilation ≤ ${b.maxDilation} maps ${b.i} to ${b.o}.` +
        (b.o < b.i
          ? ' A transposed conv with stride 1 shrinks a size only by its padding; use a forward conv (forwardSettings).'
          : ''),
    );
  }
  return ok(
    sortAndLimit(
      found,
      (x) => [
        x.checkerboard ? 1 : 0,
        x.dilation > 1 ? 1 : 0,
        x.padding[0] === x.padding[1] ? 0 : 1,
        x.outputPadding > 0 ? 1 : 0,
        x.stride,
        x.kernel,
        x.padding[0] + x.padding[1],
      ],
      b.limit,
    ),
  );
}

/** Padding and output_padding for a crop excess P − op: symmetric when any 0 ≤ op < s allows it. */
function transposedCandidate(
  excess: number,
  s: number,
  kEff: number,
): { pb: number; pe: number; op: number } | null {
  for (let op = Math.max(0, -excess); op < s; op++) {
    const total = excess + op;
    if (total % 2 === 0 && total / 2 <= kEff - 1) return { pb: total / 2, pe: total / 2, op };
  }
  const op = Math.max(0, -excess);
  const total = excess + op;
  if (op >= s || total < 0) return null;
  const pb = Math.floor(total / 2);
  const pe = total - pb;
  return pe <= kEff - 1 ? { pb, pe, op } : null;
}

function transposedSetting(rule: TransposedRule, rank: number, dim: string): SizeSetting {
  const args = [`kernel_size=${rule.kernel}`, `stride=${rule.stride}`];
  if (rule.padBegin > 0) args.push(`padding=${rule.padBegin}`);
  if (rule.outputPadding > 0) args.push(`output_padding=${rule.outputPadding}`);
  if (rule.dilation > 1) args.push(`dilation=${rule.dilation}`);
  const conv = `nn.ConvTranspose${rank}d(in_channels, out_channels, ${args.join(', ')})`;
  // PyTorch crops the same amount on both sides; an extra crop at the end is a slice.
  const extra = rule.padEnd - rule.padBegin;
  const crop = Array.from({ length: rank }, () => `:-${extra}`).join(', ');
  const code = extra > 0 ? `${conv}\ny = y[..., ${crop}]  # PyTorch's padding= crops both sides alike` : conv;
  return {
    transposed: true,
    kernel: rule.kernel,
    stride: rule.stride,
    dilation: rule.dilation,
    padding: [rule.padBegin, rule.padEnd],
    outputPadding: rule.outputPadding,
    rule,
    formula: dimFormula(rule, dim),
    waste: null,
    checkerboard: unevenOverlap(rule.kernel, rule.dilation, rule.stride),
    code,
  };
}

export interface UpsampleAnswer {
  readonly settings: SizeSetting[];
  readonly notes: string[];
}

/** How many input sizes every upsampling candidate is checked on through applyDimRule. */
const UPSAMPLE_CHECKED_SIZES = 64;

/**
 * Transposed conv settings that scale every input size by `factor`: (i − 1)·f + k − 2p + op = f·i for all i
 * means stride f and k + op = f + 2p (PyTorch ConvTranspose formula), with 0 ≤ p ≤ k − 1 and 0 ≤ op < f.
 * Ordered as people use them: even overlap first (k a multiple of f: k = 2f, p = f/2; k = f, p = 0), then
 * output_padding ones (k = 3, s = 2, p = 1, op = 1), kernels near 2f first. Each one is checked through
 * applyDimRule on input sizes 1 to 64. Kernels up to maxKernel (default 2f + 2, at most SEARCH_KERNEL_CAP).
 */
export function upsampleSettings(
  factor: number,
  options: { maxKernel?: number; rank?: number } = {},
): Outcome<UpsampleAnswer> {
  if (typeof factor !== 'number' || !Number.isInteger(factor) || factor < 1 || factor > UPSAMPLE_FACTOR_CAP) {
    return fail(
      `The upsampling factor must be a whole number from 1 to ${UPSAMPLE_FACTOR_CAP}, got ${String(factor)}. ` +
        'To shrink by s instead, a forward conv with kernel 2p + 1, stride s and padding p gives ⌈H_in/s⌉.',
    );
  }
  const maxKernel = Math.min(options.maxKernel ?? 2 * factor + 2, SEARCH_KERNEL_CAP);
  if (!Number.isInteger(maxKernel) || maxKernel < 1) {
    return fail(`maxKernel must be a whole number of at least 1, got ${String(options.maxKernel)}.`);
  }
  const rank = options.rank ?? 2;
  if (!Number.isInteger(rank) || rank < 1 || rank > 3)
    return fail(`The rank must be 1, 2 or 3, got ${String(rank)}.`);
  const found: SizeSetting[] = [];
  for (let k = 1; k <= maxKernel; k++) {
    for (let p = 0; p <= k - 1; p++) {
      const op = factor + 2 * p - k;
      if (op < 0 || op >= factor) continue;
      const rule: TransposedRule = {
        kind: 'transposed',
        kernel: k,
        dilation: 1,
        stride: factor,
        padBegin: p,
        padEnd: p,
        outputPadding: op,
      };
      let exact = true;
      for (let i = 1; i <= UPSAMPLE_CHECKED_SIZES && exact; i++) exact = applyDimRule(rule, i) === factor * i;
      if (exact) found.push(transposedSetting(rule, rank, 'H'));
    }
  }
  const settings = sortAndLimit(
    found,
    (x) => [x.checkerboard ? 1 : 0, x.outputPadding > 0 ? 1 : 0, Math.abs(x.kernel - 2 * factor), x.kernel],
    RESULT_CAP,
  );
  const notes = [
    `Keras Conv${rank}DTranspose(..., strides=${factor}, padding='same'), Flax ConvTranspose(..., strides=${factor}, ` +
      `padding='SAME') and ONNX ConvTranspose with auto_pad='SAME_UPPER' give exactly ${factor}× for any kernel.`,
    "PyTorch's ConvTranspose has no padding='same' (pytorch#80301); use one of the settings above.",
  ];
  if (factor > 1) {
    notes.push(
      `A kernel that is not a multiple of ${factor} overlaps unevenly and tends to leave checkerboard artifacts.`,
    );
  }
  return ok({ settings, notes });
}

// ---------------------------------------------------------------------------------------------------------
// Translating 'same' between frameworks.

export interface SameQuery {
  readonly from: Framework;
  readonly to: Framework;
  readonly kernel: PerDim;
  readonly stride?: PerDim;
  readonly dilation?: PerDim;
  readonly inputSize: PerDim;
  /** Which ONNX auto_pad a side that is 'onnx' means (default 'SAME_UPPER'). */
  readonly onnxAutoPad?: 'SAME_UPPER' | 'SAME_LOWER';
  /** Spatial rank when every value is a single number (default 2). */
  readonly rank?: number;
}

export interface SameTranslation {
  readonly dims: string[];
  /** Per-side pads [begin, end] of the source framework's 'same' for this input, per dimension. */
  readonly pads: [number, number][];
  /** ⌈i/s⌉ per dimension. */
  readonly output: number[];
  /** The source pads depend on the input size (stride > 1 in TF, Keras, Flax, JAX, ONNX). */
  readonly adapts: boolean;
  /** How the source writes it. */
  readonly fromCode: string;
  /** How the target writes the same padding. */
  readonly toCode: string;
  /** The target reproduces the source for every input size, not only this one. */
  readonly everySize: boolean;
  /** For which input sizes the target code matches (e.g. "H_in ≡ 0 (mod 2) and W_in ≡ 0 (mod 2)"), or null for all. */
  readonly matchesFor: string | null;
  readonly notes: string[];
}

/** Which side of the total an odd 'same' pad goes to, per framework convention. */
function extraSide(framework: Framework, onnxAutoPad: 'SAME_UPPER' | 'SAME_LOWER'): 'begin' | 'end' {
  return framework === 'onnx' && onnxAutoPad === 'SAME_LOWER' ? 'begin' : 'end';
}

function displayName(framework: Framework): string {
  const names: Record<Framework, string> = {
    pytorch: 'PyTorch',
    keras: 'Keras',
    tensorflow: 'TensorFlow',
    flax: 'Flax',
    jax: 'JAX',
    onnx: 'ONNX',
  };
  return names[framework];
}

/**
 * The exact per-side pads of one framework's 'same' and how to write them in another.
 * TF/Keras/Flax/JAX SAME and ONNX SAME_UPPER: total = max(0, (⌈i/s⌉ − 1)·s + k_eff − i), ⌊total/2⌋ at the
 * begin, the extra at the end (TF conv ops, lax.padtype_to_pads, ONNX Conv); ONNX SAME_LOWER puts the extra
 * at the begin. PyTorch padding='same': total d·(k − 1), left total//2, extra on the right, stride 1 only
 * (ATen _convolution_same). PyTorch padding= is symmetric, so uneven pads need F.pad; Keras padding= knows only
 * 'valid'/'same', so uneven pads need ZeroPadding; Flax and ONNX take explicit pairs. Pads that adapt to the
 * input size (stride > 1) cannot be fixed numbers in another framework: matchesFor says where they agree.
 */
export function translateSame(query: SameQuery): Outcome<SameTranslation> {
  const onnxAutoPad = query.onnxAutoPad ?? 'SAME_UPPER';
  if (onnxAutoPad !== 'SAME_UPPER' && onnxAutoPad !== 'SAME_LOWER') {
    return fail(`onnxAutoPad must be 'SAME_UPPER' or 'SAME_LOWER', got ${JSON.stringify(onnxAutoPad)}.`);
  }
  const known: Framework[] = ['pytorch', 'keras', 'tensorflow', 'flax', 'jax', 'onnx'];
  for (const side of [query.from, query.to]) {
    if (!known.includes(side))
      return fail(`Unknown framework ${JSON.stringify(side)}; use one of ${known.join(', ')}.`);
  }
  const expanded = expand(
    {
      kernel: { value: query.kernel, fallback: 1, min: 1, max: MAX_PARAM },
      stride: { value: query.stride, fallback: 1, min: 1, max: MAX_PARAM },
      dilation: { value: query.dilation, fallback: 1, min: 1, max: MAX_PARAM },
      'input size': { value: query.inputSize, fallback: 1, min: 1, max: MAX_SIZE },
    },
    query.rank,
  );
  if (!expanded.ok) return expanded;
  const { rank, values } = expanded.value;
  const names = dimNames(rank);
  const k = values['kernel']!;
  const s = values['stride']!;
  const d = values['dilation']!;
  const i = values['input size']!;
  const from = query.from;
  const to = query.to;

  if (from === 'pytorch' && s.some((x) => x > 1)) {
    return fail(
      `PyTorch rejects padding='same' for strided convolutions (stride ${pyValue(s)}): "padding='same' is not supported ` +
        `for strided convolutions". Translate from TF/Keras/Flax/ONNX 'same' instead, or give explicit padding.`,
    );
  }
  const rules = names.map((_, n): Extract<DimRule, { kind: 'same' }> => ({
    kind: 'same',
    kernel: k[n]!,
    dilation: d[n]!,
    stride: s[n]!,
    extraPadAt: extraSide(from, onnxAutoPad),
  }));
  // PyTorch's 'same' (stride 1) is TF's split: total d·(k − 1), the extra on the right.
  const pads = rules.map((rule, n) => samePads(rule, i[n]!));
  const output = names.map((_, n) => ceilDiv(i[n]!, s[n]!));
  const fromCode = sameCode(from, rank, k, s, d, onnxAutoPad);
  // SAME's total pad, max(0, k_eff − (i mod s || s)), depends only on i mod s, so one period of sizes
  // (i = 1 … s) stands for every input size.
  const residuesWhere = (n: number, accept: (pair: [number, number], size: number) => boolean): number[] => {
    const stride = s[n]!;
    const found: number[] = [];
    for (let r = 0; r < Math.min(stride, RESIDUE_CAP); r++) {
      const size = r === 0 ? stride : r;
      if (accept(samePads(rules[n]!, size), size)) found.push(r);
    }
    return found;
  };
  const everyResidue = (accept: (pair: [number, number], size: number, n: number) => boolean): boolean =>
    rules.every(
      (rule, n) =>
        rule.stride <= RESIDUE_CAP &&
        residuesWhere(n, (pair, size) => accept(pair, size, n)).length === rule.stride,
    );
  const adapts = !everyResidue((pair, _size, n) => pair[0] === pads[n]![0] && pair[1] === pads[n]![1]);
  const notes: string[] = [];

  // The 'same' spellings the target has, with the side its odd pad goes to.
  const targetSames: { side: 'begin' | 'end'; code: string }[] = [];
  const dilated = d.some((x) => x > 1);
  switch (to) {
    case 'pytorch':
      if (s.every((x) => x === 1))
        targetSames.push({ side: 'end', code: sameCode('pytorch', rank, k, s, d, onnxAutoPad) });
      break;
    case 'onnx':
      targetSames.push({ side: 'end', code: sameCode('onnx', rank, k, s, d, 'SAME_UPPER') });
      targetSames.push({ side: 'begin', code: sameCode('onnx', rank, k, s, d, 'SAME_LOWER') });
      break;
    default:
      targetSames.push({ side: 'end', code: sameCode(to, rank, k, s, d, onnxAutoPad) });
  }
  const split = (pair: [number, number], side: 'begin' | 'end'): [number, number] => {
    const total = pair[0] + pair[1];
    const small = Math.floor(total / 2);
    return side === 'end' ? [small, total - small] : [total - small, small];
  };
  // A target 'same' reproduces the source exactly when it splits every size's total the same way.
  const exactSame = targetSames.find((candidate) =>
    everyResidue((pair) => {
      const other = split(pair, candidate.side);
      return other[0] === pair[0] && other[1] === pair[1];
    }),
  );

  let toCode: string;
  let everySize: boolean;
  if (exactSame) {
    toCode = exactSame.code;
    everySize = true;
  } else {
    everySize = !adapts;
    toCode = fixedPadsCode(to, rank, k, s, d, pads);
    if (to === 'pytorch' && pads.some(([b, e]) => b !== e)) {
      notes.push("PyTorch's padding= pads both sides alike; the uneven 'same' pad needs an explicit F.pad.");
    }
    if ((to === 'keras' || to === 'tensorflow') && pads.some(([b, e]) => b !== 0 || e !== 0)) {
      notes.push(
        "Keras padding= knows only 'valid' and 'same'; other pads need a ZeroPadding layer " +
          '(tf.nn.conv2d also takes explicit padding=[[0, 0], [top, bottom], [left, right], [0, 0]]).',
      );
    }
  }
  if (to === 'pytorch' && adapts) {
    notes.push(
      "PyTorch's padding='same' exists only for stride 1. To follow every input size, compute the pad at run time " +
        "(as timm's Conv2dSame does: pad = max((⌈i/s⌉ − 1)·s + k_eff − i, 0), the extra at the end).",
    );
  }
  if ((to === 'keras' || to === 'tensorflow') && s.some((x) => x > 1) && dilated) {
    notes.push('Keras refuses strides > 1 together with dilation_rate > 1.');
  }
  if (to === 'jax') notes.push('jax.lax.conv_general_dilated takes the same padding argument.');
  if (to === 'onnx' || from === 'onnx') {
    notes.push(
      'onnxruntime once swapped SAME_UPPER and SAME_LOWER (onnxruntime#9370); explicit pads avoid the doubt.',
    );
  }

  let matchesFor: string | null = null;
  if (!everySize) {
    const parts = rules.map((rule, n) => {
      const variable = `${names[n]}_in`;
      if (rule.stride > RESIDUE_CAP) return `${variable} like this one`;
      const residues = residuesWhere(n, (pair) => pair[0] === pads[n]![0] && pair[1] === pads[n]![1]);
      return residues.length === rule.stride
        ? `every ${variable}`
        : residueCondition(variable, residues, rule.stride);
    });
    matchesFor = parts.join(' and ');
    notes.push(
      `${displayName(from)}'s 'same' recomputes its pads for every input size when the stride is above 1; these fixed ` +
        `pads match it only for ${matchesFor}.`,
    );
  }
  return ok({ dims: names, pads, output, adapts, fromCode, toCode, everySize, matchesFor, notes });
}

/** Fixed per-side pads written in one framework's own terms. */
function fixedPadsCode(
  to: Framework,
  rank: number,
  k: readonly number[],
  s: readonly number[],
  d: readonly number[],
  pads: readonly [number, number][],
): string {
  const dilated = d.some((x) => x > 1);
  const symmetric = pads.every(([b, e]) => b === e);
  const zero = pads.every(([b, e]) => b === 0 && e === 0);
  const pairs = `(${pads.map(([b, e]) => `(${b}, ${e})`).join(', ')}${rank === 1 ? ',' : ''})`;
  switch (to) {
    case 'pytorch': {
      const conv = (padding: string): string =>
        `nn.Conv${rank}d(in_channels, out_channels, kernel_size=${pyValue(k)}, stride=${pyValue(s)}, padding=${padding}` +
        `${dilated ? `, dilation=${pyValue(d)}` : ''})`;
      if (symmetric) return conv(pyValue(pads.map(([b]) => b)));
      // F.pad takes (last-dim begin, last-dim end, previous-dim begin, …).
      const reversed = [...pads].reverse().flatMap(([b, e]) => [b, e]);
      return `x = F.pad(x, (${reversed.join(', ')}))  # padding= is symmetric in PyTorch\n${conv('0')}`;
    }
    case 'keras':
    case 'tensorflow': {
      const conv = (padding: string): string =>
        `keras.layers.Conv${rank}D(filters, kernel_size=${pyValue(k)}, strides=${pyValue(s)}, padding=${padding}` +
        `${dilated ? `, dilation_rate=${pyValue(d)}` : ''})`;
      if (zero) return conv(`'valid'`);
      const layerPads = rank === 1 ? `(${pads[0]![0]}, ${pads[0]![1]})` : pairs;
      return `keras.layers.ZeroPadding${rank}D(${layerPads})\n${conv(`'valid'`)}`;
    }
    case 'flax':
    case 'jax':
      return (
        `nn.Conv(features, kernel_size=${pyTuple(k)}, strides=${pyTuple(s)}, padding=${pairs}` +
        `${dilated ? `, kernel_dilation=${pyTuple(d)}` : ''})`
      );
    case 'onnx': {
      const attrs = `kernel_shape=${list(k)}, strides=${list(s)}${dilated ? `, dilations=${list(d)}` : ''}`;
      const flat = [...pads.map(([b]) => b), ...pads.map(([, e]) => e)];
      return `helper.make_node('Conv', ['X', 'W'], ['Y'], ${attrs}, pads=${list(flat)})`;
    }
  }
}

function sameCode(
  framework: Framework,
  rank: number,
  k: readonly number[],
  s: readonly number[],
  d: readonly number[],
  onnxAutoPad: 'SAME_UPPER' | 'SAME_LOWER',
): string {
  const dilated = d.some((x) => x > 1);
  switch (framework) {
    case 'pytorch':
      return `nn.Conv${rank}d(in_channels, out_channels, kernel_size=${pyValue(k)}, padding='same'${dilated ? `, dilation=${pyValue(d)}` : ''})`;
    case 'keras':
    case 'tensorflow':
      return `keras.layers.Conv${rank}D(filters, kernel_size=${pyValue(k)}, strides=${pyValue(s)}, padding='same'${dilated ? `, dilation_rate=${pyValue(d)}` : ''})`;
    case 'flax':
    case 'jax':
      return `nn.Conv(features, kernel_size=${pyTuple(k)}, strides=${pyTuple(s)}, padding='SAME'${dilated ? `, kernel_dilation=${pyTuple(d)}` : ''})`;
    case 'onnx':
      return `helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=${list(k)}, strides=${list(s)}${dilated ? `, dilations=${list(d)}` : ''}, auto_pad='${onnxAutoPad}')`;
  }
}
