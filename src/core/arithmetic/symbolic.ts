/**
 * Symbolic per-dimension formulas. A DimRule is turned into the closed form a person would write on paper
 * (`H_out = ⌈H_in/2⌉`, `H_out = 2·H_in + 2`), with the layer's numbers substituted and the constants folded,
 * plus the facts that follow from it: which input sizes lose rows to flooring and which rows a stride skips.
 *
 * Everything here is derived from DimRule (types.ts) and checked against applyDimRule (dims.ts), the one
 * place a rule becomes a size, so a formula shown to the user can never disagree with the size computed.
 */
import { ceilDiv, effectiveKernel, floorDiv } from './args';
import { applyDimRule, samePads } from './dims';
import type { DimRule } from './types';

/**
 * Largest input size the symbolic and solver code accepts. Sizes up to 2^32 times parameters up to
 * MAX_PARAM keep every intermediate product below 2^53, so all arithmetic stays exact in doubles.
 */
export const MAX_SIZE = 2 ** 32;
/** Largest kernel size, stride, dilation or padding accepted (see MAX_SIZE for why there is a cap). */
export const MAX_PARAM = 1_000_000;
/** Periods (strides) above this are summarised instead of listed residue by residue. */
const LISTED_PERIOD = 12;
/** Periods above this are not enumerated at all; the closed forms are used instead. */
const ENUMERATED_PERIOD = 4096;

const MINUS = '−';

/**
 * A size expression in one input size X: `round((mul·X + offset)/div) + add`, or `mul·X + add` when
 * `round` is 'none' (then `offset` is 0 and `div` is 1). Every DimRule except the odd ceil_mode case with a
 * padding larger than the kernel reduces to exactly one of these.
 */
export interface SizeExpr {
  readonly round: 'none' | 'floor' | 'ceil';
  readonly mul: number;
  readonly offset: number;
  readonly div: number;
  readonly add: number;
}

/** Evaluates a SizeExpr at X (exact for every integer X). */
export function evaluateSizeExpr(expr: SizeExpr, x: number): number {
  const numerator = expr.mul * x + expr.offset;
  switch (expr.round) {
    case 'none':
      return numerator + expr.add;
    case 'floor':
      return floorDiv(numerator, expr.div) + expr.add;
    case 'ceil':
      return ceilDiv(numerator, expr.div) + expr.add;
  }
}

/** Renders a SizeExpr with `name` as the variable: `⌊(H_in − 1)/2⌋ + 1`, `2·H_in`, `7`. */
export function renderSizeExpr(expr: SizeExpr, name: string): string {
  const variable = expr.mul === 0 ? '' : expr.mul === 1 ? name : `${expr.mul}·${name}`;
  if (expr.round === 'none') {
    if (variable === '') return String(expr.add);
    return withConstant(variable, expr.add);
  }
  const numerator = expr.offset === 0 ? variable : `(${withConstant(variable, expr.offset)})`;
  const [open, close] = expr.round === 'floor' ? ['⌊', '⌋'] : ['⌈', '⌉'];
  return withConstant(`${open}${numerator}/${expr.div}${close}`, expr.add);
}

function withConstant(text: string, constant: number): string {
  if (constant === 0) return text;
  return constant > 0 ? `${text} + ${constant}` : `${text} ${MINUS} ${-constant}`;
}

export function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/**
 * Says what is wrong with a rule in plain words, or null when it is usable. Pads may be negative (Flax
 * explicit pairs and cropping transposed convs produce them); every other number is a positive integer.
 */
export function ruleProblem(rule: DimRule): string | null {
  const whole = (name: string, value: unknown, min: number, max: number): string | null => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return `${name} must be a whole number from ${min} to ${max}, got ${String(value)}.`;
    }
    return null;
  };
  switch (rule.kind) {
    case 'window':
      return (
        whole('kernel size', rule.kernel, 1, MAX_PARAM) ??
        whole('stride', rule.stride, 1, MAX_PARAM) ??
        whole('dilation', rule.dilation, 1, MAX_PARAM) ??
        whole('padding at the begin', rule.padBegin, -MAX_PARAM, MAX_PARAM) ??
        whole('padding at the end', rule.padEnd, -MAX_PARAM, MAX_PARAM) ??
        (rule.inputDilation === undefined ? null : whole('input dilation', rule.inputDilation, 1, MAX_PARAM))
      );
    case 'same':
    case 'transposed-same':
      return (
        whole('kernel size', rule.kernel, 1, MAX_PARAM) ??
        whole('stride', rule.stride, 1, MAX_PARAM) ??
        whole('dilation', rule.dilation, 1, MAX_PARAM)
      );
    case 'transposed':
      return (
        whole('kernel size', rule.kernel, 1, MAX_PARAM) ??
        whole('stride', rule.stride, 1, MAX_PARAM) ??
        whole('dilation', rule.dilation, 1, MAX_PARAM) ??
        whole('padding at the begin', rule.padBegin, -MAX_PARAM, MAX_PARAM) ??
        whole('padding at the end', rule.padEnd, -MAX_PARAM, MAX_PARAM) ??
        whole('output_padding', rule.outputPadding, 0, MAX_PARAM)
      );
    case 'fixed':
      return whole('output size', rule.size, 0, MAX_SIZE);
    default:
      return `unknown rule kind ${JSON.stringify((rule as { kind?: unknown }).kind)}.`;
  }
}

/** Says what is wrong with a size (`what` names it: "input size", "target size"), or null. */
export function sizeProblem(what: string, value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return `The ${what} must be a whole number, got ${String(value)}.`;
  }
  if (value < 1) return `The ${what} must be at least 1, got ${value}.`;
  if (value > MAX_SIZE)
    return `The ${what} ${value} is larger than ${MAX_SIZE}, the largest size Conv Lens computes.`;
  return null;
}

/**
 * The simplest exact rendering of `⌊(a·X + n)/s⌋`. The same function can be written with the constant inside
 * or outside the bracket and with ⌊⌋ or ⌈⌉ (⌊(aX + r)/s⌋ = ⌈(aX + r − s + 1)/s⌉); we pick the form with the
 * fewest non-zero constants, then the smallest ones, then floor over ceil, so `⌊(H_in + 1)/2⌋` reads
 * `⌈H_in/2⌉` and `⌊(H_in + 2)/2⌋` reads `⌊H_in/2⌋ + 1`.
 */
export function canonicalFloor(a: number, n: number, s: number): SizeExpr {
  const g = gcd(a, s);
  // ⌊(g·a'X + n)/(g·s')⌋ = ⌊(a'X + ⌊n/g⌋)/s'⌋: nested floors collapse, so the fraction can be reduced.
  const mul = a / g;
  const div = s / g;
  const folded = floorDiv(n, g);
  if (div === 1) return { round: 'none', mul, offset: 0, div: 1, add: folded };
  const q = floorDiv(folded, div);
  const r = folded - q * div;
  const candidates: SizeExpr[] = [
    { round: 'floor', mul, offset: folded, div, add: 0 },
    { round: 'ceil', mul, offset: folded - div + 1, div, add: 0 },
    { round: 'floor', mul, offset: r, div, add: q },
    { round: 'ceil', mul, offset: r - div + 1, div, add: q },
  ];
  const score = (e: SizeExpr): number =>
    (e.offset !== 0 ? 1000 : 0) +
    (e.add !== 0 ? 1000 : 0) +
    Math.abs(e.offset) +
    Math.abs(e.add) +
    (e.round === 'ceil' ? 0.5 : 0);
  return candidates.reduce((best, e) => (score(e) < score(best) ? e : best));
}

/** Quantities of a window rule in the input-dilated ("spread") coordinates the window slides over. */
function windowParts(rule: Extract<DimRule, { kind: 'window' }>) {
  const a = rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
  const kEff = effectiveKernel(rule.kernel, rule.dilation);
  // spread = a·X − a + 1, so the floor-mode numerator is a·X + (padBegin + padEnd − kEff − a + 1).
  const c0 = rule.padBegin + rule.padEnd - kEff - a + 1;
  return { a, kEff, c0, s: rule.stride };
}

/**
 * The ceil_mode pieces of a window rule, all as `⌊(a·X + n)/s⌋`: `rounded` is PyTorch's ⌈span/s⌉ + 1 before
 * the drop rule, `starts` counts windows that start inside the input or the left padding (⌈(spread + p_begin)/s⌉).
 * PyTorch's pooling_output_shape keeps `rounded` unless its last window starts in the right padding, which
 * is exactly min(rounded, starts) whenever p_end ≤ k_eff (at most one window can start in the right padding).
 */
function ceilParts(rule: Extract<DimRule, { kind: 'window' }>) {
  const { a, c0, s } = windowParts(rule);
  return { a, s, nRounded: c0 + s - 1 + s, nStarts: rule.padBegin - a + s };
}

/**
 * The exact size expression of a rule, or null when none exists (an invalid rule, or ceil_mode with a padding
 * larger than the kernel, where PyTorch's single drop is not a min of two floors).
 *
 * Formulas (k_eff = d·(k − 1) + 1, spread = (X − 1)·input_dilation + 1):
 * window: ⌊(spread + p_begin + p_end − k_eff)/s⌋ + 1 (PyTorch Conv/Pool docs, lax.conv_general_dilated);
 * ceil_mode: min(⌈(spread + p_begin + p_end − k_eff)/s⌉ + 1, ⌈(spread + p_begin)/s⌉) (PyTorch pooling_output_shape);
 * same: ⌈X/s⌉ (TF/ONNX SAME); transposed: (X − 1)·s + k_eff − p_begin − p_end + output_padding
 * (PyTorch ConvTranspose docs, ONNX ConvTranspose); transposed-same: X·s; fixed: the size.
 */
export function sizeExpr(rule: DimRule): SizeExpr | null {
  if (ruleProblem(rule) !== null) return null;
  let expr: SizeExpr;
  switch (rule.kind) {
    case 'window': {
      const { a, c0, s } = windowParts(rule);
      if (!rule.ceilMode) {
        expr = canonicalFloor(a, c0 + s, s);
      } else {
        const { nRounded, nStarts } = ceilParts(rule);
        expr = canonicalFloor(a, Math.min(nRounded, nStarts), s);
      }
      break;
    }
    case 'same':
      return canonicalFloor(1, rule.stride - 1, rule.stride);
    case 'transposed': {
      const kEff = effectiveKernel(rule.kernel, rule.dilation);
      const add = kEff - rule.padBegin - rule.padEnd + rule.outputPadding - rule.stride;
      return { round: 'none', mul: rule.stride, offset: 0, div: 1, add };
    }
    case 'transposed-same':
      return { round: 'none', mul: rule.stride, offset: 0, div: 1, add: 0 };
    case 'fixed':
      return { round: 'none', mul: 0, offset: 0, div: 1, add: rule.size };
  }
  // Window rules are checked against applyDimRule on a few periods, so a formula can never disagree with it.
  return agreesWithRule(expr, rule) ? expr : null;
}

function agreesWithRule(expr: SizeExpr, rule: DimRule): boolean {
  const period = rule.kind === 'window' ? rule.stride : 1;
  const last = Math.min(2 * period + 16, 2 * ENUMERATED_PERIOD);
  for (let x = 1; x <= last; x++) if (evaluateSizeExpr(expr, x) !== applyDimRule(rule, x)) return false;
  return true;
}

/** `x ≡ r (mod m)` conditions read as people say them: "H_in odd", "H_in ≡ 1, 2 (mod 3)". */
export function residueCondition(variable: string, residues: readonly number[], modulus: number): string {
  if (modulus === 2 && residues.length === 1) return `${variable} ${residues[0] === 1 ? 'odd' : 'even'}`;
  return `${variable} ≡ ${residues.join(', ')} (mod ${modulus})`;
}

/** A short description of a rule's numbers for messages: "kernel 3, stride 2, dilation 1, padding 1". */
export function ruleSummary(rule: DimRule): string {
  switch (rule.kind) {
    case 'window':
    case 'transposed': {
      const pads = `${rule.padBegin}${rule.padBegin === rule.padEnd ? '' : `+${rule.padEnd}`}`;
      return `kernel ${rule.kernel}, stride ${rule.stride}, dilation ${rule.dilation}, padding ${pads}`;
    }
    case 'same':
    case 'transposed-same':
      return `kernel ${rule.kernel}, stride ${rule.stride}, dilation ${rule.dilation}`;
    case 'fixed':
      return `fixed size ${rule.size}`;
  }
}

/**
 * The per-dimension formula with the layer's numbers substituted and simplified: `H_out = ⌈H_in/2⌉`,
 * `H_out = 2·H_in + 2`, `H_out = 7`. For ceil_mode pooling it says what the rounding gives and when PyTorch's
 * drop-the-last-window rule bites. Formulas as in sizeExpr; an invalid rule gives `H_out = ?` and the reason.
 */
export function dimFormula(rule: DimRule, dim: string): string {
  const out = `${dim}_out`;
  const input = `${dim}_in`;
  const problem = ruleProblem(rule);
  if (problem !== null) return `${out} = ? (${problem})`;
  const expr = sizeExpr(rule);
  if (rule.kind === 'window' && rule.ceilMode) {
    const { a, s, nRounded, nStarts } = ceilParts(rule);
    const rounded = canonicalFloor(a, nRounded, s);
    const roundedText = renderSizeExpr(rounded, input);
    if (expr === null) {
      return (
        `${out} = ${roundedText}, minus 1 when that last window would start in the right padding ` +
        `((${out} − 1)·${s} ≥ ${a === 1 ? input : `(${input} − 1)·${a} + 1`} + ${rule.padBegin}) (ceil_mode)`
      );
    }
    const exactText = renderSizeExpr(expr, input);
    if (nStarts >= nRounded) return `${out} = ${exactText}`;
    const period = s / gcd(a, s);
    const startsExpr = canonicalFloor(a, nStarts, s);
    const bites: number[] = [];
    for (let r = 0; r < Math.min(period, ENUMERATED_PERIOD); r++) {
      if (evaluateSizeExpr(startsExpr, r) < evaluateSizeExpr(rounded, r)) bites.push(r);
    }
    const when =
      bites.length === period
        ? 'always'
        : period <= LISTED_PERIOD
          ? `for ${residueCondition(input, bites, period)}`
          : period <= ENUMERATED_PERIOD
            ? `for ${bites.length} of every ${period} input sizes`
            : 'for some input sizes';
    return (
      `${out} = ${exactText} — ceil_mode rounds up to ${roundedText}, then drops the last window ${when} ` +
      `(it would start in the right padding)`
    );
  }
  return `${out} = ${expr === null ? '?' : renderSizeExpr(expr, input)}`;
}

/** The textbook formula, the same with numbers substituted, and the simplified result. */
export interface FormulaSteps {
  readonly general: string;
  readonly substituted: string;
  readonly simplified: string;
}

/**
 * The three steps a hover shows: `H_out = ⌊(H_in + 2·p − d·(k − 1) − 1)/s⌋ + 1`, then
 * `H_out = ⌊(H_in + 2·1 − 1·(3 − 1) − 1)/2⌋ + 1`, then `H_out = ⌈H_in/2⌉`. Formulas as in sizeExpr.
 */
export function dimFormulaSteps(rule: DimRule, dim: string): FormulaSteps {
  const out = `${dim}_out`;
  const input = `${dim}_in`;
  const simplified = dimFormula(rule, dim);
  if (ruleProblem(rule) !== null) return { general: simplified, substituted: simplified, simplified };
  let template: string;
  let names: Record<string, string>;
  let values: Record<string, number>;
  switch (rule.kind) {
    case 'window': {
      const a = rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
      const spread = a === 1 ? input : `(${input} − 1)·{a} + 1`;
      const pads = rule.padBegin === rule.padEnd ? '2·{p}' : '{pb} + {pe}';
      const [open, close] = rule.ceilMode ? ['⌈', '⌉'] : ['⌊', '⌋'];
      template = `${out} = ${open}(${spread} + ${pads} − {d}·({k} − 1) − 1)/{s}${close} + 1`;
      names = { a: 'input_dilation', p: 'p', pb: 'p_begin', pe: 'p_end', d: 'd', k: 'k', s: 's' };
      values = {
        a,
        p: rule.padBegin,
        pb: rule.padBegin,
        pe: rule.padEnd,
        d: rule.dilation,
        k: rule.kernel,
        s: rule.stride,
      };
      break;
    }
    case 'same':
      template = `${out} = ⌈${input}/{s}⌉`;
      names = { s: 's' };
      values = { s: rule.stride };
      break;
    case 'transposed': {
      const pads = rule.padBegin === rule.padEnd ? '2·{p}' : '{pb} − {pe}';
      template = `${out} = (${input} − 1)·{s} − ${pads} + {d}·({k} − 1) + {op} + 1`;
      names = { s: 's', p: 'p', pb: 'p_begin', pe: 'p_end', d: 'd', k: 'k', op: 'output_padding' };
      values = {
        s: rule.stride,
        p: rule.padBegin,
        pb: rule.padBegin,
        pe: rule.padEnd,
        d: rule.dilation,
        k: rule.kernel,
        op: rule.outputPadding,
      };
      break;
    }
    case 'transposed-same':
      template = `${out} = ${input}·{s}`;
      names = { s: 's' };
      values = { s: rule.stride };
      break;
    case 'fixed':
      return { general: simplified, substituted: simplified, simplified };
  }
  const fill = (map: (key: string) => string): string =>
    template.replace(/\{(\w+)\}/g, (_, key: string) => map(key));
  // Negative numbers (Flax pads) are shown in parentheses so `+ (−1)` stays readable.
  const number = (key: string): string => {
    const value = values[key] ?? 0;
    return value < 0 ? `(${MINUS}${-value})` : String(value);
  };
  return { general: fill((key) => names[key] ?? key), substituted: fill(number), simplified };
}

/** What to call one cell of a dimension in prose. */
function cellNoun(dim: string, count: number): string {
  const noun = dim === 'H' ? 'row' : dim === 'W' ? 'column' : dim === 'D' ? 'depth slice' : 'element';
  return count === 1 ? noun : `${noun}s`;
}

/**
 * Number of real input cells after the last cell any window reads, for input size X (null when the layer
 * has no output for X). Real cell j sits at padded position p_begin + j·input_dilation; the last window
 * ends at (out − 1)·s + k_eff − 1.
 */
export function trailingCellsLost(rule: DimRule, x: number): number | null {
  let padBegin: number;
  let a = 1;
  if (rule.kind === 'window') {
    padBegin = rule.padBegin;
    a = rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
  } else if (rule.kind === 'same') {
    padBegin = samePads(rule, x)[0];
  } else {
    return 0;
  }
  const out = applyDimRule(rule, x);
  if (out < 1) return null;
  const end = (out - 1) * rule.stride + effectiveKernel(rule.kernel, rule.dilation);
  const covered = Math.min(x, Math.max(0, ceilDiv(end - padBegin, a)));
  return x - covered;
}

/**
 * Which input sizes lose trailing rows/columns to flooring: e.g. "H_in odd: the last row is never read",
 * "H_in ≡ 1 (mod 3): the last row is never read; H_in ≡ 2 (mod 3): the last 2 rows are never read".
 * Null when no input size loses anything (transposed, SAME and fixed rules never do; a window rule does
 * when (spread + p_begin + p_end − k_eff) mod s exceeds what the end padding absorbs). The loss is periodic
 * in the input size with period s / gcd(s, input_dilation), so one period of residues tells all.
 */
export function flooringLoss(rule: DimRule, dim: string): string | null {
  if (ruleProblem(rule) !== null || (rule.kind !== 'window' && rule.kind !== 'same')) return null;
  const input = `${dim}_in`;
  const a = rule.kind === 'window' && rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
  const period = rule.stride / gcd(rule.stride, a);
  if (period === 1) return null;
  // Start one period past the sizes where padding and kernel still dominate, on a multiple of the period so
  // that X0 + r ≡ r.
  const kEff = effectiveKernel(rule.kernel, rule.dilation);
  if (period > ENUMERATED_PERIOD && rule.kind === 'window' && a === 1 && !rule.ceilMode) {
    // Too many residues to list: state the rule. The windows miss ((H_in + p_begin + p_end − k_eff) mod s)
    // padded cells at the end, of which p_end are padding.
    const most = rule.stride - 1 - Math.max(0, rule.padEnd);
    if (most <= 0) return null;
    const c = rule.padBegin + rule.padEnd - kEff;
    const shifted = c === 0 ? input : c > 0 ? `${input} + ${c}` : `${input} ${MINUS} ${-c}`;
    const pad = rule.padEnd > 0 ? ` ${MINUS} ${rule.padEnd}` : '';
    return `the last ((${shifted}) mod ${rule.stride})${pad} ${cellNoun(dim, 2)} are never read when that is positive (up to ${most})`;
  }
  const margin = kEff + Math.abs(rule.kind === 'window' ? rule.padBegin + rule.padEnd : 0) + 2 * rule.stride;
  const x0 = period * Math.ceil(margin / period);
  const byLoss = new Map<number, number[]>();
  const enumerated = Math.min(period, ENUMERATED_PERIOD);
  for (let r = 0; r < enumerated; r++) {
    const lost = trailingCellsLost(rule, x0 + r) ?? 0;
    if (lost > 0) byLoss.set(lost, [...(byLoss.get(lost) ?? []), r]);
  }
  if (byLoss.size === 0) return null;
  if (period > ENUMERATED_PERIOD) {
    return `some values of ${input} lose trailing ${cellNoun(dim, 2)} to flooring (stride ${rule.stride})`;
  }
  if (period > LISTED_PERIOD) {
    const losing = [...byLoss.values()].reduce((n, list) => n + list.length, 0);
    const most = Math.max(...byLoss.keys());
    return (
      `${losing} of every ${period} values of ${input} lose up to ${most} trailing ${cellNoun(dim, most)} to ` +
      `flooring (stride ${rule.stride} does not divide the span the windows need)`
    );
  }
  const parts = [...byLoss.entries()]
    .sort(([x], [y]) => x - y)
    .map(([lost, residues]) => {
      const what =
        lost === 1 ? `the last ${cellNoun(dim, 1)} is` : `the last ${lost} ${cellNoun(dim, lost)} are`;
      const when = residues.length === period ? `every ${input}` : residueCondition(input, residues, period);
      return `${when}: ${what} never read`;
    });
  return parts.join('; ');
}

/**
 * Interior cells a stride skips: a window reads padded positions t + m·d (m < k) at starts t = 0, s, 2s, …,
 * so far from the edges a cell is read iff its position mod s is some m·d mod s. Returns e.g.
 * "1 of every 2 rows is never read (stride 2 is larger than what kernel 1 with dilation 1 covers)", or null.
 */
export function strideGaps(rule: DimRule, dim: string): string | null {
  if (ruleProblem(rule) !== null || (rule.kind !== 'window' && rule.kind !== 'same')) return null;
  const s = rule.stride;
  if (s === 1) return null;
  const a = rule.kind === 'window' && rule.inputDilation && rule.inputDilation > 1 ? rule.inputDilation : 1;
  const reached = new Set<number>();
  // At most s distinct residues exist, so the loop stops after min(k, s·…) steps; cap for absurd kernels.
  for (let m = 0; m < Math.min(rule.kernel, 1 << 20) && reached.size < s; m++)
    reached.add((m * rule.dilation) % s);
  if (reached.size === s) return null;
  if (s > 1 << 20) return null;
  // Real cell j sits at p_begin + j·a; over one period of j, count those whose residue is never reached.
  const padBegin = rule.kind === 'window' ? rule.padBegin : 0;
  const period = s / gcd(s, a);
  let unread = 0;
  for (let j = 0; j < period; j++) if (!reached.has((((padBegin + j * a) % s) + s) % s)) unread++;
  if (unread === 0) return null;
  const noun = cellNoun(dim, period);
  return (
    `${unread} of every ${period} ${noun} ${unread === 1 ? 'is' : 'are'} never read (stride ${s} steps past what ` +
    `kernel ${rule.kernel} with dilation ${rule.dilation} reads)`
  );
}

/** Names of the spatial dimensions for a rank: 1 → ['L'], 2 → ['H', 'W'], 3 → ['D', 'H', 'W']. */
export function dimNames(rank: number): string[] {
  if (!Number.isInteger(rank) || rank < 1) return [];
  if (rank === 1) return ['L'];
  if (rank <= 3) return ['D', 'H', 'W'].slice(3 - rank);
  // Beyond 3-D no convention exists; number the leading dimensions and keep D, H, W for the last three.
  const capped = Math.min(rank, 64);
  return [...Array.from({ length: capped - 3 }, (_, i) => `S${i + 1}`), 'D', 'H', 'W'];
}
