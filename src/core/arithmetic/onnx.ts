/**
 * ONNX: Conv, ConvTranspose, MaxPool and AveragePool as onnxruntime (CPU, 1.30) runs them, NCHW layout,
 * with every refusal onnxruntime makes. The node attributes arrive as arguments, plus `weight_shape`, the
 * shape of the weight input W (Conv: [M, C/group, k...], ConvTranspose: [C, M/group, k...]).
 *
 * Sources: onnx/defs/nn/defs.cc (the operator specs; pads and auto_pad are mutually exclusive, pads ≥ 0),
 * onnxruntime/core/providers/cpu/nn/conv_attributes.h (ComputePadAndOutputShape, ValidateInputShape,
 * ComputeKernelShape), conv_transpose_attributes.h (ComputeTransposePadAndOutputShape, DistributePadding),
 * pool_attributes.h (PoolAttributes constructor checks, ComputeSizePadDilations, ComputeOutputSize) and
 * pool.cc (the MLAS pooling path refuses negative pads). Where the 1.30 behaviour goes past the source we
 * could read (the output_shape/output_padding consistency check of ConvTranspose, the integer rounding of
 * pool sizes), the rules follow the golden cases in ../shared/oracle/onnx_shapes.json.
 */
import { ceilDiv, effectiveKernel, formatShape, formatValue, isInteger, product } from './args';
import { applyDimRule, checkerboardNote } from './dims';
import type { BoundArgs, DimRule, LayerDef, LayerShape, Outcome, ParamSpec, PyValue } from './types';
import { fail, ok } from './types';

/** Sizes past this are refused: nothing real is this large, and the arithmetic must stay exact in a double. */
const MAX_SIZE = 2 ** 31;

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;
type AutoPad = (typeof AUTO_PADS)[number];

/** Spatial axis names for messages: L; H, W; D, H, W; beyond that ONNX's own D1, D2, … */
function axisNames(rank: number): string[] {
  if (rank === 1) return ['L'];
  if (rank === 2) return ['H', 'W'];
  if (rank === 3) return ['D', 'H', 'W'];
  return Array.from({ length: rank }, (_, i) => `D${i + 1}`);
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The note for a stride wider than the window: whole input positions between windows are never used. */
function skippedNote(axis: string, stride: number, span: number, what: string): string {
  const gap = stride - span;
  return (
    `${axis}: stride ${stride} is larger than the ${what} span ${span}, so ${gap} of every ${stride} input ` +
    `positions ${gap === 1 ? 'is' : 'are'} skipped.`
  );
}

/** An attribute value as ONNX writes it: lists in brackets ([2, 2]), strings quoted. */
function show(value: PyValue | readonly number[]): string {
  if (Array.isArray(value)) return `[${(value as readonly PyValue[]).map((item) => show(item)).join(', ')}]`;
  return formatValue(value as PyValue);
}

/** "1" or "0..3": a range of integers as messages print it. */
const rangeText = (low: number, high: number): string => (low === high ? `${low}` : `${low}..${high}`);

/** C++ integer division (truncates toward zero), which onnxruntime's int64 arithmetic uses. */
const truncDiv = (a: number, b: number): number => Math.trunc(a / b);

// ---------------------------------------------------------------------------------------------------------
// Reading attributes
// ---------------------------------------------------------------------------------------------------------

function readAutoPad(op: string, value: PyValue): Outcome<AutoPad> {
  // onnxruntime's StringToAutoPadType reads an empty string as NOTSET.
  if (value === null || value === '') return ok('NOTSET');
  if (typeof value === 'string' && (AUTO_PADS as readonly string[]).includes(value))
    return ok(value as AutoPad);
  return fail(
    `${op}: auto_pad must be one of ${AUTO_PADS.map((p) => `'${p}'`).join(', ')} (upper case), not ${show(value)}.`,
  );
}

/**
 * Reads an INTS attribute. Absent (None) or empty means the ONNX default, as onnxruntime treats an empty list.
 * `length` is the number of values the attribute must have; `min` the smallest allowed value.
 */
function readInts(
  op: string,
  name: string,
  value: PyValue,
  length: number,
  min: number,
  fallback: number,
  what: string,
): Outcome<{ values: number[]; given: boolean }> {
  if (value === null || (Array.isArray(value) && value.length === 0)) {
    return ok({ values: new Array<number>(length).fill(fallback), given: false });
  }
  if (!Array.isArray(value)) {
    return fail(
      `${op}: ${name} is a list attribute (INTS), so write it as a list of ${length} integer${length === 1 ? '' : 's'}` +
        (isInteger(value) ? `, e.g. ${show(new Array<PyValue>(length).fill(value))} for ${value}` : '') +
        `, not ${show(value)}.`,
    );
  }
  const items = value as readonly PyValue[];
  if (items.length !== length) {
    return fail(
      `${op}: ${name} has ${plural(items.length, 'value')} (${show(value)}), but it needs ${length}: ${what}.`,
    );
  }
  const values: number[] = [];
  for (const item of items) {
    if (!isInteger(item)) return fail(`${op}: ${name} must hold integers only, got ${show(value)}.`);
    if (item < min) {
      return fail(
        `${op}: every value of ${name} must be ${min === 0 ? 'non-negative' : `at least ${min}`}, got ${show(value)}.`,
      );
    }
    if (item > MAX_SIZE) return fail(`${op}: ${name} ${show(value)} is too large (limit ${MAX_SIZE}).`);
    values.push(item);
  }
  return ok({ values, given: true });
}

/** Reads an INT attribute that is a 0/1 flag (ceil_mode, count_include_pad, storage_order). */
function readFlag(op: string, name: string, value: PyValue): Outcome<boolean> {
  if (value === null || value === false || value === 0) return ok(false);
  if (value === true || value === 1) return ok(true);
  return fail(`${op}: ${name} must be 0 or 1, not ${show(value)}.`);
}

function readGroup(op: string, value: PyValue): Outcome<number> {
  if (value === null) return ok(1);
  if (!isInteger(value) || value < 1)
    return fail(`${op}: group must be a positive integer, not ${show(value)}.`);
  if (value > MAX_SIZE) return fail(`${op}: group ${value} is too large (limit ${MAX_SIZE}).`);
  return ok(value);
}

/** The input X as NCHW: batch N (may be 0), channels C and the spatial sizes (all at least 1). */
function readInput(
  op: string,
  input: readonly number[],
  minSpatial: number,
  maxSpatial: number,
): Outcome<number[]> {
  const rank = input.length - 2;
  if (rank < minSpatial || rank > maxSpatial) {
    const allowed =
      maxSpatial === Infinity
        ? `at least ${minSpatial + 2}-D`
        : `${minSpatial + 2}-D to ${maxSpatial + 2}-D (1 to ${maxSpatial} spatial axes)`;
    return fail(
      `${op} expects an input laid out as (N, C, spatial...): ${allowed}, but got ${input.length}-D input ` +
        `${formatShape(input)}.`,
    );
  }
  if (input.some((size) => !Number.isInteger(size) || size < 0 || size > MAX_SIZE)) {
    return fail(
      `${op}: the input shape ${formatShape(input)} has a size that is negative, fractional or too large.`,
    );
  }
  const empty = input.findIndex((size, index) => index > 0 && size === 0);
  if (empty > 0) {
    return fail(
      `${op}: the input ${formatShape(input)} has size 0 along ${empty === 1 ? 'C' : axisNames(rank)[empty - 2]}; ` +
        `onnxruntime allows only the batch N to be 0.`,
    );
  }
  return ok([...input]);
}

/** The weight input W: same rank as X, every size at least 1. */
function readWeight(op: string, value: PyValue, input: readonly number[], layout: string): Outcome<number[]> {
  if (value === null || value === undefined) {
    return fail(`${op} needs weight_shape, the shape of its weight input W (${layout}).`);
  }
  if (!Array.isArray(value) || !(value as readonly PyValue[]).every(isInteger)) {
    return fail(
      `${op}: weight_shape must be a list of integers (the shape of W: ${layout}), not ${show(value)}.`,
    );
  }
  const weight = [...(value as readonly number[])];
  if (weight.some((size) => size < 1 || size > MAX_SIZE)) {
    return fail(
      `${op}: every size of the weight shape ${formatShape(weight)} must be between 1 and ${MAX_SIZE}.`,
    );
  }
  if (weight.length !== input.length) {
    return fail(
      `${op}: the weight W ${formatShape(weight)} is ${weight.length}-D but the input X ${formatShape(input)} is ` +
        `${input.length}-D; they must have the same rank (W is ${layout}).`,
    );
  }
  return ok(weight);
}

/** kernel_shape, when given, must repeat W's spatial sizes (onnxruntime ConvAttributes::ComputeKernelShape). */
function readConvKernel(op: string, value: PyValue, weight: readonly number[]): Outcome<number[]> {
  const fromWeight = weight.slice(2);
  const read = readInts(op, 'kernel_shape', value, fromWeight.length, 1, 0, 'one size per spatial axis');
  if (!read.ok) return read;
  if (!read.value.given) return ok(fromWeight);
  if (read.value.values.some((k, i) => k !== fromWeight[i])) {
    return fail(
      `${op}: kernel_shape ${show(read.value.values)} does not match the weight's spatial sizes ` +
        `${show(fromWeight)} (W ${formatShape(weight)}); leave kernel_shape out or make them equal.`,
    );
  }
  return ok(read.value.values);
}

/** `pads` and `auto_pad` exclude each other (ONNX spec; onnx shape inference refuses both). */
function padsWithAutoPad(op: string, autoPad: AutoPad, pads: readonly number[]): Outcome<null> {
  if (autoPad === 'NOTSET') return ok(null);
  return fail(
    `${op}: pads ${show([...pads])} and auto_pad '${autoPad}' cannot be used together; ` +
      `drop pads to keep auto_pad, or set auto_pad to 'NOTSET' to use the explicit pads.`,
  );
}

/** Per-axis pads from ONNX's [x1_begin, x2_begin, ..., x1_end, x2_end, ...] layout. */
const padPair = (pads: readonly number[], rank: number, i: number): [number, number] => [
  pads[i]!,
  pads[i + rank]!,
];

function describePads(pads: readonly number[], rank: number): string {
  return `[${pads.slice(0, rank).join(', ')}, ${pads.slice(rank).join(', ')}] (begin ${show(pads.slice(0, rank))}, end ${show(pads.slice(rank))})`;
}

// ---------------------------------------------------------------------------------------------------------
// Conv
// ---------------------------------------------------------------------------------------------------------

/**
 * onnx.Conv (onnxruntime conv_attributes.h, ComputePadAndOutputShape):
 *   NOTSET: out = floor((in + pad_begin + pad_end − k_eff) / s) + 1, refused when below 1;
 *   VALID:  the same with no padding;
 *   SAME_*: out = ceil(in / s), pads (⌈in/s⌉ − 1)·s + k − in (extra at the end for SAME_UPPER, at the begin
 *           for SAME_LOWER); onnxruntime refuses SAME_* with any dilation other than 1.
 * Checks first that X and W have the same rank, C = W[1]·group, M = W[0] is divisible by group, and that
 * kernel_shape (if given) equals W's spatial sizes.
 */
function inferConv(op: string, args: BoundArgs, rawInput: readonly number[]): Outcome<LayerShape> {
  const inputRead = readInput(op, rawInput, 1, Infinity);
  if (!inputRead.ok) return inputRead;
  const input = inputRead.value;
  const rank = input.length - 2;
  const names = axisNames(rank);
  const autoPad = readAutoPad(op, args['auto_pad'] ?? null);
  if (!autoPad.ok) return autoPad;
  const group = readGroup(op, args['group'] ?? null);
  if (!group.ok) return group;
  const weightRead = readWeight(op, args['weight_shape'] ?? null, input, '[M, C/group, kernel...]');
  if (!weightRead.ok) return weightRead;
  const weight = weightRead.value;
  const [batch, channels] = [input[0]!, input[1]!];
  const [outChannels, channelsPerGroup] = [weight[0]!, weight[1]!];
  if (channels !== channelsPerGroup * group.value) {
    const options = [
      channels % group.value === 0
        ? `W[1] = C/group = ${channels / group.value}`
        : `a group that divides C = ${channels}`,
    ];
    const fitting = channels / channelsPerGroup;
    if (Number.isInteger(fitting) && outChannels % fitting === 0) options.push(`group ${fitting}`);
    return fail(
      `${op}: the input has C = ${channels} channels, but the weight ${formatShape(weight)} with group ` +
        `${group.value} expects C = W[1]·group = ${channelsPerGroup}·${group.value} = ` +
        `${channelsPerGroup * group.value}. For this input use ${options.join(' or ')}.`,
    );
  }
  if (outChannels % group.value !== 0) {
    return fail(
      `${op}: the output channels M = W[0] = ${outChannels} must be divisible by group (${group.value}); ` +
        `use M = ${group.value * Math.max(1, Math.round(outChannels / group.value))} or a group that divides ${outChannels}.`,
    );
  }
  const kernel = readConvKernel(op, args['kernel_shape'] ?? null, weight);
  if (!kernel.ok) return kernel;
  const strides = readInts(op, 'strides', args['strides'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!strides.ok) return strides;
  const dilations = readInts(op, 'dilations', args['dilations'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!dilations.ok) return dilations;
  const pads = readInts(
    op,
    'pads',
    args['pads'] ?? null,
    2 * rank,
    0,
    0,
    'a begin and an end per spatial axis',
  );
  if (!pads.ok) return pads;
  if (pads.value.given) {
    const both = padsWithAutoPad(op, autoPad.value, pads.value.values);
    if (!both.ok) return both;
  }

  const same = autoPad.value === 'SAME_UPPER' || autoPad.value === 'SAME_LOWER';
  if (same && dilations.value.values.some((d) => d !== 1)) {
    // What SAME would mean per the ONNX spec, written out as explicit pads the user can paste instead.
    const explicit = new Array<number>(2 * rank).fill(0);
    input.slice(2).forEach((size, i) => {
      const s = strides.value.values[i]!;
      const kEff = effectiveKernel(kernel.value[i]!, dilations.value.values[i]!);
      const total = Math.max(0, (ceilDiv(size, s) - 1) * s + kEff - size);
      const small = Math.floor(total / 2);
      explicit[i] = autoPad.value === 'SAME_UPPER' ? small : total - small;
      explicit[i + rank] = total - explicit[i]!;
    });
    return fail(
      `${op}: onnxruntime does not support auto_pad '${autoPad.value}' with dilations ` +
        `${show(dilations.value.values)} (SAME padding works only with dilation 1). For this input, ` +
        `auto_pad 'NOTSET' with pads ${show(explicit)} gives the SAME size ${show(
          input.slice(2).map((size, i) => ceilDiv(size, strides.value.values[i]!)),
        )}.`,
    );
  }

  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const size = input[i + 2]!;
    const k = kernel.value[i]!;
    const s = strides.value.values[i]!;
    const d = dilations.value.values[i]!;
    const kEff = effectiveKernel(k, d);
    let rule: DimRule;
    if (same) {
      rule = {
        kind: 'same',
        kernel: k,
        dilation: d,
        stride: s,
        extraPadAt: autoPad.value === 'SAME_UPPER' ? 'end' : 'begin',
      };
      const needed = (ceilDiv(size, s) - 1) * s + k - size;
      if (needed < 0) {
        notes.push(
          `${names[i]}: with kernel ${k} smaller than stride ${s}, onnxruntime's SAME padding is negative ` +
            `(${needed}) for size ${size}: it skips input positions rather than padding.`,
        );
      }
    } else {
      const [padBegin, padEnd] = autoPad.value === 'VALID' ? [0, 0] : padPair(pads.value.values, rank, i);
      const padded = size + padBegin + padEnd;
      if (padded < kEff) {
        const padText = padBegin + padEnd > 0 ? ` + ${padBegin + padEnd} padding = ${padded}` : '';
        return fail(
          `${op}: along ${names[i]} the input (${size}${padText}) is smaller than the ` +
            `${d > 1 ? `dilated kernel (${d}·(${k} − 1) + 1 = ${kEff})` : `kernel (${k})`}, so the output would be ` +
            `empty. It needs ${names[i]} ≥ ${kEff - padBegin - padEnd}, or a smaller kernel/dilation, or more padding.`,
        );
      }
      rule = { kind: 'window', kernel: k, dilation: d, stride: s, padBegin, padEnd, ceilMode: false };
      const unread = ((padded - kEff) % s) - padEnd;
      if (unread > 0) {
        notes.push(
          `${names[i]}: the last ${plural(unread, 'input position')} ${unread === 1 ? 'is' : 'are'} never read ` +
            `(${names[i]}_in + pads − kernel span = ${padded - kEff} is not a multiple of stride ${s}).`,
        );
      }
    }
    if (s > kEff) notes.push(skippedNote(names[i]!, s, kEff, 'kernel'));
    dims.push(rule);
    outSpatial.push(applyDimRule(rule, size));
  }
  const tooLarge = checkSizes(op, outSpatial, names);
  if (!tooLarge.ok) return tooLarge;
  const macs = batch * outChannels * product(outSpatial) * channelsPerGroup * product(kernel.value);
  return ok({
    output: [batch, outChannels, ...outSpatial],
    dims,
    weightShape: weight,
    biasShape: [outChannels],
    params: product(weight) + outChannels,
    macs,
    notes,
  });
}

function checkSizes(op: string, sizes: readonly number[], names: readonly string[]): Outcome<null> {
  const bad = sizes.findIndex((size) => !Number.isSafeInteger(size));
  if (bad >= 0) return fail(`${op}: the output along ${names[bad]} is too large to compute exactly.`);
  return ok(null);
}

// ---------------------------------------------------------------------------------------------------------
// ConvTranspose
// ---------------------------------------------------------------------------------------------------------

/**
 * How onnxruntime splits a transposed conv's total padding (conv_transpose_attributes.h, DistributePadding):
 * SAME_UPPER crops the larger half at the BEGIN, everything else at the end — the reverse of the ONNX spec's
 * formula for ConvTranspose (microsoft/onnxruntime#5368 proposed swapping it and was closed). It moves values,
 * never sizes.
 */
function distributeTransposedPad(autoPad: AutoPad, total: number): [number, number] {
  const half = Math.floor(total / 2);
  return autoPad === 'SAME_UPPER' ? [total - half, half] : [half, total - half];
}

/**
 * onnx.ConvTranspose (onnx defs.cc; onnxruntime conv_transpose_attributes.h). With n = (in − 1)·s + op + k_eff:
 *   NOTSET: out = n − pad_begin − pad_end;  VALID: out = n;
 *   SAME_*: total pad = max(0, n − in·s), so out = in·s when op + k_eff ≥ s, else n;
 *   output_shape O given: out = O, pads = max(0, n − O) split by auto_pad, pads attribute ignored.
 * onnxruntime 1.30 then checks that a forward conv maps the output back to the input size:
 * floor((out + total_pad − k_eff)/s) + 1 = in. That refuses output_padding ≥ stride (even where dilation is
 * larger, unlike PyTorch) and any output_shape above (in − 1)·s + k_eff + s − 1. Outputs below 1 are refused.
 * Checks first: X and W have the same rank, W[0] = C, C divisible by group, kernel_shape equal to W's sizes.
 */
function inferConvTranspose(op: string, args: BoundArgs, rawInput: readonly number[]): Outcome<LayerShape> {
  const inputRead = readInput(op, rawInput, 1, Infinity);
  if (!inputRead.ok) return inputRead;
  const input = inputRead.value;
  const rank = input.length - 2;
  const names = axisNames(rank);
  const autoPad = readAutoPad(op, args['auto_pad'] ?? null);
  if (!autoPad.ok) return autoPad;
  const group = readGroup(op, args['group'] ?? null);
  if (!group.ok) return group;
  const weightRead = readWeight(op, args['weight_shape'] ?? null, input, '[C, M/group, kernel...]');
  if (!weightRead.ok) return weightRead;
  const weight = weightRead.value;
  const [batch, channels] = [input[0]!, input[1]!];
  if (weight[0] !== channels) {
    return fail(
      `${op}: the weight's first size W[0] = ${weight[0]} must equal the input channels C = ${channels} ` +
        `(ConvTranspose weights are [C, M/group, kernel...], W ${formatShape(weight)}).`,
    );
  }
  if (channels % group.value !== 0) {
    return fail(
      `${op}: the input channels C = ${channels} must be divisible by group (${group.value}); ` +
        `groups that fit: ${divisors(channels).join(', ')}.`,
    );
  }
  const outChannels = weight[1]! * group.value;
  const kernel = readConvKernel(op, args['kernel_shape'] ?? null, weight);
  if (!kernel.ok) return kernel;
  const strides = readInts(op, 'strides', args['strides'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!strides.ok) return strides;
  const dilations = readInts(op, 'dilations', args['dilations'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!dilations.ok) return dilations;
  const pads = readInts(
    op,
    'pads',
    args['pads'] ?? null,
    2 * rank,
    0,
    0,
    'a begin and an end per spatial axis',
  );
  if (!pads.ok) return pads;
  if (pads.value.given) {
    const both = padsWithAutoPad(op, autoPad.value, pads.value.values);
    if (!both.ok) return both;
  }
  const outputPadding = readInts(
    op,
    'output_padding',
    args['output_padding'] ?? null,
    rank,
    0,
    0,
    'one per spatial axis',
  );
  if (!outputPadding.ok) return outputPadding;
  const outputShape = readOutputShape(op, args['output_shape'] ?? null, rank);
  if (!outputShape.ok) return outputShape;

  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  if (outputShape.value?.full) {
    notes.push(
      `output_shape ${show(outputShape.value.raw)} includes N and C; onnxruntime reads only its last ` +
        `${rank} values (the spatial sizes), as the ONNX spec intends output_shape to hold.`,
    );
  }
  if (outputShape.value && pads.value.given) {
    notes.push(
      `With output_shape set, the pads attribute ${describePads(pads.value.values, rank)} is ignored: ` +
        `onnxruntime derives the pads from output_shape.`,
    );
  }
  for (let i = 0; i < rank; i++) {
    const size = input[i + 2]!;
    const k = kernel.value[i]!;
    const s = strides.value.values[i]!;
    const d = dilations.value.values[i]!;
    const op_ = outputPadding.value.values[i]!;
    const kEff = effectiveKernel(k, d);
    const natural = (size - 1) * s + op_ + kEff;
    const largest = (size - 1) * s + kEff + s - 1;
    const requested = outputShape.value?.sizes[i];
    let rule: DimRule;
    let out: number;
    if (requested !== undefined) {
      if (requested < 1) {
        return fail(
          `${op}: output_shape ${show(outputShape.value!.raw)} asks for size ${requested} along ${names[i]}; sizes must be at least 1.`,
        );
      }
      if (requested > largest) {
        const plain = plainTransposedSize(autoPad.value, natural, size * s, pads.value.values, rank, i);
        return fail(
          `${op}: output_shape ${requested} along ${names[i]} cannot come from input size ${size} with stride ${s}, ` +
            `kernel ${k}${d > 1 ? `, dilation ${d} (span ${kEff})` : ''}: a conv with these settings maps ` +
            `${requested} back to ${truncDiv(requested - kEff, s) + 1}, not ${size}. onnxruntime accepts ` +
            `output_shape ${rangeText(1, largest)} here` +
            `${plain >= 1 ? ` (without output_shape the size would be ${plain})` : ''}.`,
        );
      }
      // Below the largest size, the forward conv maps back to the input unless output_padding reaches the stride.
      if (op_ >= s) return fail(outputPaddingMessage(op, names[i]!, op_, s, d, size));
      const total = Math.max(0, natural - requested);
      const [padBegin, padEnd] = distributeTransposedPad(autoPad.value, total);
      rule = { kind: 'fixed', size: requested };
      out = applyDimRule(rule, size);
      if (total > 0) {
        notes.push(
          `${names[i]}: output_shape ${requested} crops ${total} (pads ${padBegin} at the begin, ${padEnd} at the end) from the full size ${natural}.`,
        );
      } else if (requested > natural) {
        notes.push(
          `${names[i]}: output_shape ${requested} is ${requested - natural} more than the full size ${natural}; the extra end positions receive no input (only the bias).`,
        );
      }
    } else {
      let padBegin: number;
      let padEnd: number;
      if (autoPad.value === 'SAME_UPPER' || autoPad.value === 'SAME_LOWER') {
        [padBegin, padEnd] = distributeTransposedPad(autoPad.value, Math.max(0, natural - size * s));
        if (natural < size * s) {
          notes.push(
            `${names[i]}: auto_pad '${autoPad.value}' gives ${natural}, not in·stride = ${size * s}: the kernel span ` +
              `${kEff}${op_ ? ` plus output_padding ${op_}` : ''} is smaller than stride ${s}, so onnxruntime has no padding to remove.`,
          );
        } else if ((padBegin + padEnd) % 2 === 1) {
          notes.push(
            `${names[i]}: auto_pad '${autoPad.value}' crops ${padBegin} at the begin and ${padEnd} at the end ` +
              `(onnxruntime crops the odd one at the ${autoPad.value === 'SAME_UPPER' ? 'begin' : 'end'}; the ONNX spec's ` +
              `formula would crop it at the ${autoPad.value === 'SAME_UPPER' ? 'end' : 'begin'}).`,
          );
        }
      } else if (autoPad.value === 'VALID') {
        [padBegin, padEnd] = [0, 0];
      } else {
        [padBegin, padEnd] = padPair(pads.value.values, rank, i);
      }
      rule = { kind: 'transposed', kernel: k, dilation: d, stride: s, padBegin, padEnd, outputPadding: op_ };
      out = applyDimRule(rule, size);
      if (out < 1) {
        return fail(
          `${op}: the output would have size ${out} along ${names[i]}: (${size} − 1)·${s} + ${kEff}` +
            `${op_ ? ` + ${op_}` : ''} − pads ${padBegin} − ${padEnd} = ${out}. The pads crop away everything; ` +
            `with this input they can total at most ${natural - 1}.`,
        );
      }
      if (op_ >= s) return fail(outputPaddingMessage(op, names[i]!, op_, s, d, size));
    }
    const note = checkerboardNote(names[i]!, k, d, s);
    if (note) notes.push(note);
    dims.push(rule);
    outSpatial.push(out);
  }
  const tooLarge = checkSizes(op, outSpatial, names);
  if (!tooLarge.ok) return tooLarge;
  const macs = batch * channels * product(input.slice(2)) * weight[1]! * product(kernel.value);
  return ok({
    output: [batch, outChannels, ...outSpatial],
    dims,
    weightShape: weight,
    biasShape: [outChannels],
    params: product(weight) + outChannels,
    macs,
    notes,
  });
}

/** A transposed conv's size along axis i when output_shape is not given. */
function plainTransposedSize(
  autoPad: AutoPad,
  natural: number,
  inTimesStride: number,
  pads: readonly number[],
  rank: number,
  i: number,
): number {
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')
    return natural - Math.max(0, natural - inTimesStride);
  if (autoPad === 'VALID') return natural;
  const [padBegin, padEnd] = padPair(pads, rank, i);
  return natural - padBegin - padEnd;
}

function outputPaddingMessage(
  op: string,
  axis: string,
  op_: number,
  s: number,
  d: number,
  size: number,
): string {
  return (
    `${op}: output_padding ${op_} along ${axis} must be smaller than the stride (${s}); with stride ${s} it can be ` +
    `${s === 1 ? '0 only' : `0 to ${s - 1}`}. onnxruntime checks that the output maps back to the input size ${size}, ` +
    `and with this output_padding it maps to ${truncDiv((size - 1) * s + op_, s) + 1}` +
    `${op_ < d ? ` (unlike PyTorch, the dilation ${d} does not allow a larger output_padding)` : ''}.`
  );
}

/** output_shape holds the spatial sizes; onnxruntime also accepts the full (N, C, spatial...) shape. */
function readOutputShape(
  op: string,
  value: PyValue,
  rank: number,
): Outcome<{ sizes: number[]; raw: number[]; full: boolean } | null> {
  if (value === null || (Array.isArray(value) && value.length === 0)) return ok(null);
  if (!Array.isArray(value) || !(value as readonly PyValue[]).every(isInteger)) {
    return fail(
      `${op}: output_shape must be a list of integers (the spatial output sizes), not ${show(value)}.`,
    );
  }
  const raw = [...(value as readonly number[])];
  if (raw.length !== rank && raw.length !== rank + 2) {
    return fail(
      `${op}: output_shape ${show(raw)} has ${plural(raw.length, 'value')}; it needs ${rank} (one per ` +
        `spatial axis)${rank > 0 ? `, or ${rank + 2} with N and C in front` : ''}.`,
    );
  }
  if (raw.some((size) => size > MAX_SIZE)) return fail(`${op}: output_shape ${show(raw)} is too large.`);
  return ok({ sizes: raw.length === rank ? raw : raw.slice(2), raw, full: raw.length !== rank });
}

/** The divisors of n, smallest first, at most 12 of them (pairs up to √n, so large n stays cheap). */
function divisors(n: number): number[] {
  const small: number[] = [];
  const large: number[] = [];
  for (let g = 1; g * g <= n; g++) {
    if (n % g !== 0) continue;
    small.push(g);
    if (g * g !== n) large.unshift(n / g);
  }
  return [...small, ...large].slice(0, 12);
}

// ---------------------------------------------------------------------------------------------------------
// MaxPool, AveragePool
// ---------------------------------------------------------------------------------------------------------

/**
 * A pooling window's output size as onnxruntime 1.30 computes it (pool_attributes.h ComputeOutputSize, in
 * int64): floor mode truncates (span / s) toward zero, so a window wider than the padded input still gives
 * one output when the shortfall is less than a stride; ceil mode rounds up and drops a last window that
 * would start in the end padding, as applyDimRule does. Everywhere the span is non-negative this is exactly
 * applyDimRule.
 */
function poolWindowSize(rule: Extract<DimRule, { kind: 'window' }>, inputSize: number): number {
  const span = inputSize + rule.padBegin + rule.padEnd - effectiveKernel(rule.kernel, rule.dilation);
  if (!rule.ceilMode && span < 0) return truncDiv(span, rule.stride) + 1;
  return applyDimRule(rule, inputSize);
}

/**
 * The note for a pooling window wider than the padded input that still yields an output: either ceil_mode
 * rounding up, or onnxruntime's truncating division giving more than floor would (see poolWindowSize).
 */
function narrowInputNote(
  axis: string,
  window: Extract<DimRule, { kind: 'window' }>,
  inputSize: number,
  out: number,
): string | null {
  const padded = inputSize + window.padBegin + window.padEnd;
  const span = effectiveKernel(window.kernel, window.dilation);
  if (padded >= span) return null;
  const floored = applyDimRule(window, inputSize);
  const wider = `${axis}: the ${window.dilation > 1 ? 'dilated ' : ''}window (${span}) is wider than the padded input (${padded})`;
  if (out !== floored) {
    return (
      `${wider}; onnxruntime's integer division rounds toward zero and gives ${out} where floor would give ` +
      `${floored}.`
    );
  }
  return out > 0 && window.ceilMode ? `${wider}; ceil_mode still gives ${plural(out, 'output')}.` : null;
}

/**
 * onnx.MaxPool / onnx.AveragePool (onnx defs.cc; onnxruntime pool_attributes.h, pool.cc). kernel_shape is
 * required; pads must each be smaller than the kernel (onnxruntime refuses a node otherwise). Per axis:
 *   NOTSET/VALID: out = floor-or-ceil((in + pads − k_eff) / s) + 1 (see poolWindowSize);
 *   SAME_*: pad_needed = (⌈in/s⌉ − 1)·s + k − in from the UNDILATED kernel, split as Conv does; with
 *           dilation 1 that gives ⌈in/s⌉. A negative pad_needed (kernel smaller than in mod s, or than s)
 *           is refused on onnxruntime's MLAS path (all dilations 1 and, for MaxPool, storage_order 0).
 * A negative size is refused; a size of 0 gives an empty tensor.
 */
function inferPool(
  op: string,
  kind: 'max' | 'average',
  args: BoundArgs,
  rawInput: readonly number[],
): Outcome<LayerShape> {
  const kernelValue = args['kernel_shape'] ?? null;
  if (kernelValue === null || (Array.isArray(kernelValue) && kernelValue.length === 0)) {
    return fail(`${op} needs kernel_shape (the window size, one value per spatial axis, e.g. [2, 2]).`);
  }
  const inputRead = readInput(op, rawInput, 1, 3);
  if (!inputRead.ok) return inputRead;
  const input = inputRead.value;
  const rank = input.length - 2;
  const names = axisNames(rank);
  const kernel = readInts(
    op,
    'kernel_shape',
    kernelValue,
    rank,
    1,
    1,
    `one per spatial axis of the ${input.length}-D input ${formatShape(input)}`,
  );
  if (!kernel.ok) return kernel;
  const autoPad = readAutoPad(op, args['auto_pad'] ?? null);
  if (!autoPad.ok) return autoPad;
  const pads = readInts(
    op,
    'pads',
    args['pads'] ?? null,
    2 * rank,
    0,
    0,
    'a begin and an end per spatial axis',
  );
  if (!pads.ok) return pads;
  const strides = readInts(op, 'strides', args['strides'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!strides.ok) return strides;
  const dilations = readInts(op, 'dilations', args['dilations'] ?? null, rank, 1, 1, 'one per spatial axis');
  if (!dilations.ok) return dilations;
  const ceilMode = readFlag(op, 'ceil_mode', args['ceil_mode'] ?? null);
  if (!ceilMode.ok) return ceilMode;
  let storageOrder = false;
  if (kind === 'max') {
    const read = readFlag(op, 'storage_order', args['storage_order'] ?? null);
    if (!read.ok) return read;
    storageOrder = read.value;
  } else {
    const read = readFlag(op, 'count_include_pad', args['count_include_pad'] ?? null);
    if (!read.ok) return read;
  }
  for (let i = 0; i < rank; i++) {
    const k = kernel.value.values[i]!;
    const [padBegin, padEnd] = padPair(pads.value.values, rank, i);
    if (padBegin >= k || padEnd >= k) {
      return fail(
        `${op}: along ${names[i]} the pads (${padBegin} at the begin, ${padEnd} at the end) must each be smaller ` +
          `than the kernel (${k}); onnxruntime refuses the node otherwise. Use pads of at most ${k - 1} there.`,
      );
    }
  }
  if (pads.value.given) {
    const both = padsWithAutoPad(op, autoPad.value, pads.value.values);
    if (!both.ok) return both;
  }
  // onnxruntime pools through MLAS (which refuses negative pads) unless a dilation is not 1 or, for MaxPool,
  // storage_order asks for column-major indices.
  const mlasPath = dilations.value.values.every((d) => d === 1) && !storageOrder;

  const dims: DimRule[] = [];
  const outSpatial: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < rank; i++) {
    const size = input[i + 2]!;
    const k = kernel.value.values[i]!;
    const s = strides.value.values[i]!;
    const d = dilations.value.values[i]!;
    const kEff = effectiveKernel(k, d);
    let rule: DimRule;
    let out: number;
    if (autoPad.value === 'SAME_UPPER' || autoPad.value === 'SAME_LOWER') {
      const needed = (ceilDiv(size, s) - 1) * s + k - size;
      if (needed < 0 && mlasPath) {
        const rest = size % s === 0 ? s : size % s;
        return fail(
          `${op}: auto_pad '${autoPad.value}' along ${names[i]} would need negative padding (${needed}) for input ` +
            `size ${size}: the kernel ${k} is smaller than ${rest === s ? `the stride ${s}` : `${size} mod stride ${s} = ${rest}`}, ` +
            `and onnxruntime refuses negative pads. Use a kernel of at least ${rest}${rest === s ? '' : ` (${s} for every input size)`}, ` +
            `auto_pad 'VALID', or explicit pads.`,
        );
      }
      if (kEff === k) {
        rule = {
          kind: 'same',
          kernel: k,
          dilation: d,
          stride: s,
          extraPadAt: autoPad.value === 'SAME_UPPER' ? 'end' : 'begin',
        };
        out = applyDimRule(rule, size);
        if (needed < 0) {
          notes.push(
            `${names[i]}: SAME padding is negative here (${needed}): onnxruntime skips input positions rather than padding.`,
          );
        }
      } else {
        // The pads come from the undilated kernel, so they depend on this input size and the dilated
        // window does not give ⌈in/s⌉: the rule is a window with the pads for this size.
        const padBegin = autoPad.value === 'SAME_UPPER' ? truncDiv(needed, 2) : truncDiv(needed + 1, 2);
        const window: Extract<DimRule, { kind: 'window' }> = {
          kind: 'window',
          kernel: k,
          dilation: d,
          stride: s,
          padBegin,
          padEnd: needed - padBegin,
          ceilMode: ceilMode.value,
        };
        rule = window;
        out = poolWindowSize(window, size);
        const narrow = out >= 0 ? narrowInputNote(names[i]!, window, size, out) : null;
        if (narrow) notes.push(narrow);
        if (out !== ceilDiv(size, s)) {
          notes.push(
            `${names[i]}: onnxruntime sizes SAME padding from the undilated kernel ${k} (pads ${padBegin}, ` +
              `${needed - padBegin} for input ${size}), so with dilation ${d} the output is ${out}, not ` +
              `⌈${size}/${s}⌉ = ${ceilDiv(size, s)}.`,
          );
        }
      }
    } else {
      const [padBegin, padEnd] = autoPad.value === 'VALID' ? [0, 0] : padPair(pads.value.values, rank, i);
      const window: Extract<DimRule, { kind: 'window' }> = {
        kind: 'window',
        kernel: k,
        dilation: d,
        stride: s,
        padBegin,
        padEnd,
        ceilMode: ceilMode.value,
      };
      rule = window;
      out = poolWindowSize(window, size);
      const padded = size + padBegin + padEnd;
      if (out >= 0 && padded < kEff) {
        const note = narrowInputNote(names[i]!, window, size, out);
        if (note) notes.push(note);
      } else if (out > 0 && !ceilMode.value) {
        const unread = ((padded - kEff) % s) - padEnd;
        if (unread > 0) {
          const withCeil = applyDimRule({ ...window, ceilMode: true }, size);
          notes.push(
            `${names[i]}: the last ${plural(unread, 'input position')} ${unread === 1 ? 'is' : 'are'} never read ` +
              `(${names[i]}_in + pads − window span = ${padded - kEff} is not a multiple of stride ${s}` +
              `${withCeil > out ? `; ceil_mode=1 would add a window over them (size ${withCeil})` : ''}).`,
          );
        }
      }
    }
    if (out < 0) {
      const padTotal = rule.kind === 'window' ? rule.padBegin + rule.padEnd : 0;
      const padText = padTotal !== 0 ? ` + pads ${padTotal}` : '';
      return fail(
        `${op}: along ${names[i]} the ${d > 1 ? `dilated window (${d}·(${k} − 1) + 1 = ${kEff})` : `window (${k})`} ` +
          `is wider than the input (${size}${padText}) by a full stride (${s}) or more, so the output size would be ` +
          `${out}. A non-empty output needs ${names[i]} ≥ ${kEff - padTotal}, or a smaller kernel/dilation, or more padding.`,
      );
    }
    if (out === 0) {
      notes.push(`The output is empty (size 0 along ${names[i]}): onnxruntime returns an empty tensor here.`);
    }
    if (s > kEff) notes.push(skippedNote(names[i]!, s, kEff, 'window'));
    dims.push(rule);
    outSpatial.push(out);
  }
  return ok({
    output: [input[0]!, input[1]!, ...outSpatial],
    dims,
    weightShape: null,
    biasShape: null,
    params: 0,
    macs: 0,
    notes,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------------------

/**
 * Attributes in the order the ONNX operator docs list them. List attributes default to None, meaning ONNX's
 * default for the input's rank (strides and dilations 1, pads 0 along every axis; kernel_shape from W).
 */
const CONV_PARAMS: readonly ParamSpec[] = [
  { name: 'auto_pad', default: 'NOTSET' },
  { name: 'dilations', default: null },
  { name: 'group', default: 1 },
  { name: 'kernel_shape', default: null },
  { name: 'pads', default: null },
  { name: 'strides', default: null },
  { name: 'weight_shape' },
];

const CONV_TRANSPOSE_PARAMS: readonly ParamSpec[] = [
  { name: 'auto_pad', default: 'NOTSET' },
  { name: 'dilations', default: null },
  { name: 'group', default: 1 },
  { name: 'kernel_shape', default: null },
  { name: 'output_padding', default: null },
  { name: 'output_shape', default: null },
  { name: 'pads', default: null },
  { name: 'strides', default: null },
  { name: 'weight_shape' },
];

const MAX_POOL_PARAMS: readonly ParamSpec[] = [
  { name: 'auto_pad', default: 'NOTSET' },
  { name: 'ceil_mode', default: 0 },
  { name: 'dilations', default: null },
  { name: 'kernel_shape' },
  { name: 'pads', default: null },
  { name: 'storage_order', default: 0 },
  { name: 'strides', default: null },
];

const AVERAGE_POOL_PARAMS: readonly ParamSpec[] = [
  { name: 'auto_pad', default: 'NOTSET' },
  { name: 'ceil_mode', default: 0 },
  { name: 'count_include_pad', default: 0 },
  { name: 'dilations', default: null },
  { name: 'kernel_shape' },
  { name: 'pads', default: null },
  { name: 'strides', default: null },
];

/** ONNX Conv, ConvTranspose, MaxPool, AveragePool. */
export const onnxLayers: readonly LayerDef[] = [
  {
    framework: 'onnx',
    name: 'onnx.Conv',
    params: CONV_PARAMS,
    summary: 'ONNX convolution (NCHW), as onnxruntime runs it; W is [M, C/group, kernel...].',
    infer: (args, input) => inferConv('Conv', args, input),
  },
  {
    framework: 'onnx',
    name: 'onnx.ConvTranspose',
    params: CONV_TRANSPOSE_PARAMS,
    summary: 'ONNX transposed convolution (NCHW), as onnxruntime runs it; W is [C, M/group, kernel...].',
    infer: (args, input) => inferConvTranspose('ConvTranspose', args, input),
  },
  {
    framework: 'onnx',
    name: 'onnx.MaxPool',
    params: MAX_POOL_PARAMS,
    summary: 'ONNX max pooling (NCHW, 1-D to 3-D), as onnxruntime runs it.',
    infer: (args, input) => inferPool('MaxPool', 'max', args, input),
  },
  {
    framework: 'onnx',
    name: 'onnx.AveragePool',
    params: AVERAGE_POOL_PARAMS,
    summary: 'ONNX average pooling (NCHW, 1-D to 3-D), as onnxruntime runs it.',
    infer: (args, input) => inferPool('AveragePool', 'average', args, input),
  },
];
