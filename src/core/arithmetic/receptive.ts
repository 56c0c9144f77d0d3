/**
 * Receptive field, jump (effective stride) and window start through a stack of per-dimension rules.
 *
 * Standard recurrence (Dumoulin & Visin, arXiv 1603.07285; Araujo et al., "Computing receptive fields of
 * convolutional neural networks", Distill 2019), in units of the stack's input cells:
 *   r_out = r_in + (k_eff − 1)·j_in,   j_out = j_in·s,   start_out = start_in − p_begin·j_in.
 * A transposed conv is a stride-1 conv over its input with s − 1 zeros inserted between cells and
 * k_eff − 1 − p_begin cells of padding in front, so its input cells are j_in/s apart:
 *   r_out = r_in + (k_eff − 1)·j_in/s,   j_out = j_in/s,   start_out = start_in − (k_eff − 1 − p_begin)·j_in/s.
 * Flax input_dilation a spreads the input the same way (cells j_in/a apart) before a strided window.
 * Jumps and fields are therefore fractions; a field of 5/2 means the window spans 1.5 input cells between the
 * centres of its first and last cell, which is what `spanCells` turns into a count. Through a transposed layer
 * that span includes the inserted zeros at its ends, so it is an upper bound there (exact for stacks of forward
 * layers); inputWindow gives the exact cells one output reads.
 */
import { applyDimRule, samePads } from './dims';
import { MAX_SIZE, ruleProblem, sizeProblem } from './symbolic';
import { effectiveKernel } from './args';
import { type DimRule, type Outcome, fail, ok } from './types';

/** Most layers one stack may have. */
export const MAX_LAYERS = 10_000;

/** An exact rational number, always reduced, denominator positive. */
export interface Fraction {
  readonly num: number;
  readonly den: number;
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** Builds a reduced fraction; throws RangeError when a part leaves the exactly representable integers. */
export function fraction(num: number, den = 1): Fraction {
  if (den === 0) throw new RangeError('zero denominator');
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den)) throw new RangeError('not exact');
  const g = gcd(num, den) || 1;
  const sign = den < 0 ? -1 : 1;
  return { num: (sign * num) / g || 0, den: (sign * den) / g };
}

const add = (a: Fraction, b: Fraction): Fraction => fraction(a.num * b.den + b.num * a.den, a.den * b.den);
const sub = (a: Fraction, b: Fraction): Fraction => fraction(a.num * b.den - b.num * a.den, a.den * b.den);
const mul = (a: Fraction, b: Fraction): Fraction => fraction(a.num * b.num, a.den * b.den);

/** "3", "5/2", "−1/2". */
export function formatFraction(f: Fraction): string {
  const sign = f.num < 0 ? '−' : '';
  const magnitude = Math.abs(f.num);
  return f.den === 1 ? `${sign}${magnitude}` : `${sign}${magnitude}/${f.den}`;
}

/** The state after one layer, in units of the stack's input cells. */
export interface ReceptiveStep {
  /** Index of the layer in the stack. */
  readonly layer: number;
  /** Receptive field r: the span its window covers, counted as 1 + distance between first and last cell. */
  readonly field: Fraction;
  /** Jump j: distance between neighbouring outputs of this layer. */
  readonly jump: Fraction;
  /** Position of the first cell of output 0's window (negative: it starts in the padding); null when unknown. */
  readonly start: Fraction | null;
  /** Output size of this layer, when the input size was given. */
  readonly size: number | null;
}

export interface ReceptiveField {
  readonly field: Fraction;
  readonly jump: Fraction;
  readonly start: Fraction | null;
  /** Centre of output 0's window: start + (field − 1)/2. */
  readonly center: Fraction | null;
  /** Most input cells between (and including) the first and last one any output can see: ⌊field − 1⌋ + 1. */
  readonly spanCells: number;
  readonly steps: ReceptiveStep[];
  /** Where the recurrence had to stop, and why (a fixed-size layer has no uniform window); null if it ran through. */
  readonly stoppedAt: { readonly layer: number; readonly reason: string } | null;
}

/**
 * Receptive field, jump and start through `rules` (first layer first). `inputSize` is needed for the start
 * offset through 'same' layers, whose front pad depends on the size; without it those starts are null.
 * Starts through 'transposed-same' are null too: Keras, TF, JAX and ONNX place its pads differently.
 */
export function receptiveField(rules: readonly DimRule[], inputSize?: number): Outcome<ReceptiveField> {
  if (!Array.isArray(rules)) return fail('The layers must be given as a list of per-dimension rules.');
  if (rules.length > MAX_LAYERS)
    return fail(`A stack of ${rules.length} layers is more than the ${MAX_LAYERS} Conv Lens follows.`);
  if (inputSize !== undefined) {
    const issue = sizeProblem('input size', inputSize);
    if (issue !== null) return fail(issue);
  }
  let field = fraction(1);
  let jump = fraction(1);
  let start: Fraction | null = fraction(0);
  let size: number | null = inputSize ?? null;
  const steps: ReceptiveStep[] = [];
  try {
    for (let index = 0; index < rules.length; index++) {
      const rule = rules[index]!;
      const problem = ruleProblem(rule);
      if (problem !== null) return fail(`Layer ${index + 1}: ${problem}`);
      if (rule.kind === 'fixed') {
        return ok(
          finish(field, jump, start, steps, {
            layer: index,
            reason:
              `Layer ${index + 1} has a fixed output size (${rule.size}): adaptive pooling or an explicit output_shape, ` +
              'whose window depends on the input size, so the receptive field is not uniform from there on.',
          }),
        );
      }
      const kEff = effectiveKernel(rule.kernel, rule.dilation);
      const { spacing, step, front } = geometry(rule, jump, size);
      field = add(field, mul(fraction(kEff - 1), spacing));
      jump = mul(spacing, fraction(step));
      start = start === null || front === null ? null : sub(start, mul(fraction(front), spacing));
      if (size !== null) {
        size = applyDimRule(rule, size);
        if (size < 1 || size > MAX_SIZE) {
          return fail(
            `Layer ${index + 1} gives a size of ${size} from the previous layer's output; the stack cannot take an input of ${inputSize}.`,
          );
        }
      }
      steps.push({ layer: index, field, jump, start, size });
    }
  } catch (error) {
    if (error instanceof RangeError) {
      return fail(
        'The receptive field of this stack grows beyond the integers Conv Lens can keep exact (2^53).',
      );
    }
    throw error;
  }
  return ok(finish(field, jump, start, steps, null));
}

/**
 * Every kind reduces to: input cells `spacing` apart (in stack-input units), `front` cells of padding before
 * the first one (null when it cannot be known), a window of k_eff cells, and `step` cells between outputs.
 */
function geometry(
  rule: Exclude<DimRule, { kind: 'fixed' }>,
  jump: Fraction,
  size: number | null,
): { spacing: Fraction; step: number; front: number | null } {
  const kEff = effectiveKernel(rule.kernel, rule.dilation);
  switch (rule.kind) {
    case 'window': {
      const a = rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
      return { spacing: mul(jump, fraction(1, a)), step: rule.stride, front: rule.padBegin };
    }
    case 'same':
      return { spacing: jump, step: rule.stride, front: size === null ? null : samePads(rule, size)[0] };
    case 'transposed':
      return { spacing: mul(jump, fraction(1, rule.stride)), step: 1, front: kEff - 1 - rule.padBegin };
    case 'transposed-same':
      return { spacing: mul(jump, fraction(1, rule.stride)), step: 1, front: null };
  }
}

function finish(
  field: Fraction,
  jump: Fraction,
  start: Fraction | null,
  steps: ReceptiveStep[],
  stoppedAt: ReceptiveField['stoppedAt'],
): ReceptiveField {
  const center = start === null ? null : add(start, mul(sub(field, fraction(1)), fraction(1, 2)));
  const spanCells = Math.floor((field.num - field.den) / field.den) + 1;
  return { field, jump, start, center, spanCells, steps, stoppedAt };
}

/** Most (cell, tap) pairs inputWindow visits before giving up, so a huge stack cannot stall the caller. */
const WINDOW_TRACE_BUDGET = 2_000_000;

/** The cells of the stack's input one output reads. */
export interface InputWindow {
  /** First input cell it depends on. */
  readonly first: number;
  /** Last input cell it depends on. */
  readonly last: number;
  /** How many distinct input cells it depends on (fewer than last − first + 1 when strides or dilations skip some). */
  readonly cells: number;
}

/**
 * The exact input cells that output `outputIndex` of the stack depends on, found by walking the set of cells
 * back through each layer: a window layer's output o reads padded position o·s − p_begin + m·d for each tap
 * m < k (a real cell when it lands on one, every input_dilation positions); a transposed layer's output o reads
 * input cell i when i·s + m·d = o + p_begin. Padding, inserted zeros and output_padding carry no dependency.
 * Returns null (in ok) when the output depends on no input cell. Fails on fixed-size and 'transposed-same'
 * layers, whose windows depend on things a DimRule does not say, and past WINDOW_TRACE_BUDGET steps.
 */
export function inputWindow(
  rules: readonly DimRule[],
  inputSize: number,
  outputIndex: number,
): Outcome<InputWindow | null> {
  if (!Array.isArray(rules)) return fail('The layers must be given as a list of per-dimension rules.');
  if (rules.length > MAX_LAYERS) {
    return fail(`A stack of ${rules.length} layers is more than the ${MAX_LAYERS} Conv Lens follows.`);
  }
  const issue = sizeProblem('input size', inputSize);
  if (issue !== null) return fail(issue);
  // Sizes going in to each layer, needed for SAME's front pad and for the range checks.
  const sizes: number[] = [inputSize];
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    const problem = ruleProblem(rule);
    if (problem !== null) return fail(`Layer ${index + 1}: ${problem}`);
    if (rule.kind === 'fixed' || rule.kind === 'transposed-same') {
      return fail(
        `Layer ${index + 1} (${rule.kind === 'fixed' ? 'a fixed output size' : "a transposed 'same'"}) places its ` +
          'window in a way a per-dimension rule does not say, so the exact window cannot be traced through it.',
      );
    }
    const next = applyDimRule(rule, sizes[index]!);
    if (next < 1 || next > MAX_SIZE) {
      return fail(
        `Layer ${index + 1} gives a size of ${next}; the stack cannot take an input of ${inputSize}.`,
      );
    }
    sizes.push(next);
  }
  const outputSize = sizes[sizes.length - 1]!;
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || outputIndex >= outputSize) {
    return fail(
      `The output index must be a whole number from 0 to ${outputSize - 1}, got ${String(outputIndex)}.`,
    );
  }
  let current = new Set<number>([outputIndex]);
  let budget = WINDOW_TRACE_BUDGET;
  for (let index = rules.length - 1; index >= 0; index--) {
    const rule = rules[index]! as Exclude<DimRule, { kind: 'fixed' | 'transposed-same' }>;
    const n = sizes[index]!;
    budget -= current.size * rule.kernel;
    if (budget < 0)
      return fail('This window is too large to trace cell by cell; the receptive field still applies.');
    const next = new Set<number>();
    if (rule.kind === 'transposed') {
      for (const o of current) {
        for (let m = 0; m < rule.kernel; m++) {
          const scaled = o + rule.padBegin - m * rule.dilation;
          if (scaled % rule.stride !== 0) continue;
          const i = scaled / rule.stride;
          if (i >= 0 && i < n) next.add(i);
        }
      }
    } else {
      const padBegin = rule.kind === 'window' ? rule.padBegin : samePads(rule, n)[0];
      const a =
        rule.kind === 'window' && rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
      for (const o of current) {
        for (let m = 0; m < rule.kernel; m++) {
          const x = o * rule.stride - padBegin + m * rule.dilation;
          if (x >= 0 && x % a === 0 && x / a < n) next.add(x / a);
        }
      }
    }
    if (next.size === 0) return ok(null);
    current = next;
  }
  let first = Infinity;
  let last = -Infinity;
  for (const cell of current) {
    first = Math.min(first, cell);
    last = Math.max(last, cell);
  }
  return ok({ first, last, cells: current.size });
}
