import * as assert from 'node:assert/strict';
import { applyDimRule } from '../../src/core/arithmetic/dims';
import {
  MAX_SIZE,
  canonicalFloor,
  dimFormula,
  dimFormulaSteps,
  dimNames,
  evaluateSizeExpr,
  flooringLoss,
  renderSizeExpr,
  residueCondition,
  ruleProblem,
  sizeExpr,
  sizeProblem,
  strideGaps,
  trailingCellsLost,
} from '../../src/core/arithmetic/symbolic';
import type { DimRule } from '../../src/core/arithmetic/types';

const conv = (kernel: number, stride: number, padding: number, extra: Partial<DimRule> = {}): DimRule =>
  ({
    kind: 'window',
    kernel,
    dilation: 1,
    stride,
    padBegin: padding,
    padEnd: padding,
    ceilMode: false,
    ...extra,
  }) as DimRule;

const pool = (kernel: number, stride: number, padding: number): DimRule =>
  conv(kernel, stride, padding, { ceilMode: true });

const deconv = (
  kernel: number,
  stride: number,
  padding: number,
  outputPadding = 0,
  dilation = 1,
): DimRule => ({
  kind: 'transposed',
  kernel,
  dilation,
  stride,
  padBegin: padding,
  padEnd: padding,
  outputPadding,
});

describe('symbolic: dimFormula', () => {
  it('simplifies the common convolutions', () => {
    assert.equal(dimFormula(conv(3, 1, 1), 'H'), 'H_out = H_in');
    assert.equal(dimFormula(conv(3, 1, 0), 'H'), 'H_out = H_in − 2');
    assert.equal(dimFormula(conv(3, 2, 1), 'H'), 'H_out = ⌈H_in/2⌉');
    assert.equal(dimFormula(conv(7, 2, 3), 'W'), 'W_out = ⌈W_in/2⌉');
    assert.equal(dimFormula(conv(3, 2, 0), 'H'), 'H_out = ⌊(H_in − 1)/2⌋');
    assert.equal(dimFormula(conv(2, 2, 0), 'H'), 'H_out = ⌊H_in/2⌋');
    assert.equal(dimFormula(conv(2, 2, 1), 'H'), 'H_out = ⌊H_in/2⌋ + 1');
    assert.equal(dimFormula(conv(3, 3, 0), 'L'), 'L_out = ⌊L_in/3⌋');
    assert.equal(dimFormula(conv(5, 2, 0), 'H'), 'H_out = ⌈H_in/2⌉ − 2');
  });

  it('handles dilation, asymmetric pads and Flax input dilation', () => {
    assert.equal(dimFormula(conv(3, 1, 2, { dilation: 2 }), 'H'), 'H_out = H_in');
    assert.equal(dimFormula(conv(3, 1, 0, { padBegin: 0, padEnd: 1 }), 'H'), 'H_out = H_in − 1');
    assert.equal(dimFormula(conv(3, 2, 1, { inputDilation: 2 }), 'H'), 'H_out = H_in');
    assert.equal(dimFormula(conv(3, 3, 1, { inputDilation: 2 }), 'H'), 'H_out = ⌊(2·H_in + 1)/3⌋');
    assert.equal(dimFormula(conv(1, 1, 0, { inputDilation: 3 }), 'H'), 'H_out = 3·H_in − 2');
  });

  it("gives 'same', transposed and fixed rules", () => {
    assert.equal(
      dimFormula({ kind: 'same', kernel: 3, dilation: 1, stride: 2, extraPadAt: 'end' }, 'H'),
      'H_out = ⌈H_in/2⌉',
    );
    assert.equal(
      dimFormula({ kind: 'same', kernel: 4, dilation: 1, stride: 1, extraPadAt: 'begin' }, 'W'),
      'W_out = W_in',
    );
    assert.equal(dimFormula(deconv(4, 2, 1), 'H'), 'H_out = 2·H_in');
    assert.equal(dimFormula(deconv(3, 2, 1, 1), 'H'), 'H_out = 2·H_in');
    assert.equal(dimFormula(deconv(3, 2, 0), 'H'), 'H_out = 2·H_in + 1');
    assert.equal(dimFormula(deconv(4, 2, 0), 'H'), 'H_out = 2·H_in + 2');
    assert.equal(dimFormula(deconv(3, 1, 0), 'H'), 'H_out = H_in + 2');
    assert.equal(dimFormula(deconv(1, 2, 1), 'H'), 'H_out = 2·H_in − 3');
    assert.equal(
      dimFormula({ kind: 'transposed-same', kernel: 3, dilation: 1, stride: 3 }, 'D'),
      'D_out = 3·D_in',
    );
    assert.equal(dimFormula({ kind: 'fixed', size: 7 }, 'H'), 'H_out = 7');
  });

  it('states ceil_mode honestly, with the inputs where the last window is dropped', () => {
    // No drop possible: the plain rounded-up formula.
    assert.equal(dimFormula(pool(2, 2, 0), 'H'), 'H_out = ⌈H_in/2⌉');
    assert.equal(dimFormula(pool(3, 2, 0), 'H'), 'H_out = ⌊H_in/2⌋');
    // kernel 2, stride 2, padding 1: rounding up would give ⌈H_in/2⌉ + 1, but for odd H_in that last
    // window starts in the right padding and PyTorch drops it.
    assert.equal(
      dimFormula(pool(2, 2, 1), 'H'),
      'H_out = ⌊H_in/2⌋ + 1 — ceil_mode rounds up to ⌈H_in/2⌉ + 1, then drops the last window for H_in odd ' +
        '(it would start in the right padding)',
    );
    assert.match(dimFormula(pool(3, 3, 1), 'W'), /drops the last window for W_in ≡ 2 \(mod 3\)/);
    for (const rule of [pool(2, 2, 1), pool(3, 3, 1), pool(4, 3, 2), pool(5, 4, 2)]) {
      const expr = sizeExpr(rule)!;
      for (let x = 1; x < 40; x++) assert.equal(evaluateSizeExpr(expr, x), applyDimRule(rule, x));
    }
  });

  it('says when ceil_mode cannot be written as one expression (padding beyond the kernel)', () => {
    const odd = pool(1, 3, 0);
    const rule = { ...odd, padEnd: 4 } as DimRule;
    assert.equal(sizeExpr(rule), null);
    assert.equal(
      dimFormula(rule, 'H'),
      'H_out = ⌈H_in/3⌉ + 2, minus 1 when that last window would start in the right padding ' +
        '((H_out − 1)·3 ≥ H_in + 0) (ceil_mode)',
    );
  });

  it('reports invalid rules in words instead of throwing', () => {
    assert.equal(
      dimFormula(conv(0, 1, 0), 'H'),
      'H_out = ? (kernel size must be a whole number from 1 to 1000000, got 0.)',
    );
    assert.match(dimFormula(conv(3, -1, 0), 'H'), /stride must be a whole number/);
    assert.match(dimFormula(conv(3, 1.5, 0), 'H'), /got 1.5/);
    assert.match(dimFormula(conv(3, 1, 0, { dilation: NaN }), 'H'), /dilation/);
    assert.match(dimFormula(conv(3, 1, 0, { padBegin: 1e12 }), 'H'), /padding at the begin/);
    assert.match(dimFormula(deconv(3, 1, 0, -1), 'H'), /output_padding/);
    assert.match(dimFormula({ kind: 'fixed', size: -1 }, 'H'), /output size/);
    assert.match(dimFormula({ kind: 'nonsense' } as unknown as DimRule, 'H'), /unknown rule kind/);
  });
});

describe('symbolic: dimFormulaSteps', () => {
  it('shows the textbook formula, the numbers and the result', () => {
    const steps = dimFormulaSteps(conv(3, 2, 1), 'H');
    assert.equal(steps.general, 'H_out = ⌊(H_in + 2·p − d·(k − 1) − 1)/s⌋ + 1');
    assert.equal(steps.substituted, 'H_out = ⌊(H_in + 2·1 − 1·(3 − 1) − 1)/2⌋ + 1');
    assert.equal(steps.simplified, 'H_out = ⌈H_in/2⌉');
    const t = dimFormulaSteps(deconv(3, 2, 1, 1), 'W');
    assert.equal(t.general, 'W_out = (W_in − 1)·s − 2·p + d·(k − 1) + output_padding + 1');
    assert.equal(t.substituted, 'W_out = (W_in − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1');
    assert.equal(t.simplified, 'W_out = 2·W_in');
  });

  it('shows asymmetric and negative pads readably', () => {
    const steps = dimFormulaSteps(conv(3, 1, 0, { padBegin: -1, padEnd: 2 }), 'H');
    assert.equal(steps.general, 'H_out = ⌊(H_in + p_begin + p_end − d·(k − 1) − 1)/s⌋ + 1');
    assert.equal(steps.substituted, 'H_out = ⌊(H_in + (−1) + 2 − 1·(3 − 1) − 1)/1⌋ + 1');
    assert.equal(steps.simplified, 'H_out = H_in − 1');
    assert.equal(dimFormulaSteps({ kind: 'fixed', size: 3 }, 'H').general, 'H_out = 3');
    assert.match(dimFormulaSteps(conv(0, 1, 0), 'H').general, /\?/);
  });
});

describe('symbolic: expressions', () => {
  it('picks the simplest equivalent form', () => {
    assert.deepEqual(canonicalFloor(1, 1, 2), { round: 'ceil', mul: 1, offset: 0, div: 2, add: 0 });
    assert.deepEqual(canonicalFloor(1, 2, 2), { round: 'floor', mul: 1, offset: 0, div: 2, add: 1 });
    assert.deepEqual(canonicalFloor(2, 0, 2), { round: 'none', mul: 1, offset: 0, div: 1, add: 0 });
    assert.deepEqual(canonicalFloor(2, 3, 4), { round: 'ceil', mul: 1, offset: 0, div: 2, add: 0 });
  });

  it('renders and evaluates', () => {
    const e = { round: 'floor', mul: 2, offset: -1, div: 3, add: 4 } as const;
    assert.equal(renderSizeExpr(e, 'X'), '⌊(2·X − 1)/3⌋ + 4');
    assert.equal(evaluateSizeExpr(e, 5), 7);
    assert.equal(renderSizeExpr({ round: 'none', mul: 0, offset: 0, div: 1, add: 7 }, 'X'), '7');
    assert.equal(renderSizeExpr({ round: 'ceil', mul: 1, offset: 0, div: 2, add: -1 }, 'X'), '⌈X/2⌉ − 1');
    assert.equal(evaluateSizeExpr({ round: 'ceil', mul: 1, offset: 0, div: 2, add: -1 }, 5), 2);
  });

  it('returns null for invalid rules', () => {
    assert.equal(sizeExpr(conv(3, 0, 0)), null);
  });

  it('says residue conditions the way people do', () => {
    assert.equal(residueCondition('H_in', [1], 2), 'H_in odd');
    assert.equal(residueCondition('H_in', [0], 2), 'H_in even');
    assert.equal(residueCondition('W_in', [1, 2], 3), 'W_in ≡ 1, 2 (mod 3)');
  });
});

describe('symbolic: flooringLoss and strideGaps', () => {
  it('names the input sizes that lose trailing rows', () => {
    assert.equal(flooringLoss(conv(2, 2, 0), 'H'), 'H_in odd: the last row is never read');
    assert.equal(flooringLoss(conv(3, 2, 0), 'W'), 'W_in even: the last column is never read');
    assert.equal(
      flooringLoss(conv(3, 3, 0), 'H'),
      'H_in ≡ 1 (mod 3): the last row is never read; H_in ≡ 2 (mod 3): the last 2 rows are never read',
    );
    assert.equal(flooringLoss(conv(3, 2, 0), 'L'), 'L_in even: the last element is never read');
    assert.equal(flooringLoss(conv(3, 2, 0), 'D'), 'D_in even: the last depth slice is never read');
  });

  it('is null when padding absorbs the remainder or nothing is floored', () => {
    assert.equal(flooringLoss(conv(3, 2, 1), 'H'), null);
    assert.equal(flooringLoss(conv(3, 1, 0), 'H'), null);
    assert.equal(flooringLoss(pool(2, 2, 0), 'H'), null);
    assert.equal(
      flooringLoss({ kind: 'same', kernel: 3, dilation: 1, stride: 2, extraPadAt: 'end' }, 'H'),
      null,
    );
    assert.equal(flooringLoss(deconv(3, 2, 1), 'H'), null);
    assert.equal(flooringLoss({ kind: 'fixed', size: 1 }, 'H'), null);
    assert.equal(flooringLoss(conv(3, 0, 0), 'H'), null);
  });

  it('summarises large strides instead of listing residues', () => {
    const text = flooringLoss(conv(16, 16, 0), 'H')!;
    assert.match(text, /15 of every 16 values of H_in lose up to 15 trailing rows/);
    assert.equal(
      flooringLoss(conv(5000, 5000, 1), 'W'),
      'the last ((W_in − 4998) mod 5000) − 1 columns are never read when that is positive (up to 4998)',
    );
    assert.equal(flooringLoss(conv(5000, 5000, 0, { padEnd: 4999 }), 'W'), null);
  });

  it('agrees with a direct count of the rows the windows miss', () => {
    const rule = conv(3, 3, 0);
    assert.equal(trailingCellsLost(rule, 9), 0);
    assert.equal(trailingCellsLost(rule, 10), 1);
    assert.equal(trailingCellsLost(rule, 11), 2);
    assert.equal(trailingCellsLost(rule, 2), null);
    assert.equal(trailingCellsLost(deconv(3, 2, 0), 5), 0);
  });

  it('finds interior rows a stride skips', () => {
    assert.equal(
      strideGaps(conv(1, 2, 0), 'H'),
      '1 of every 2 rows is never read (stride 2 steps past what kernel 1 with dilation 1 reads)',
    );
    assert.match(strideGaps(conv(2, 4, 0), 'W')!, /^2 of every 4 columns are never read/);
    assert.match(strideGaps(conv(2, 2, 0, { dilation: 2 }), 'H')!, /^1 of every 2 rows/);
    assert.equal(strideGaps(conv(2, 2, 0, { dilation: 3 }), 'H'), null);
    assert.equal(strideGaps(conv(3, 2, 1), 'H'), null);
    assert.equal(strideGaps(conv(3, 1, 1), 'H'), null);
    assert.equal(strideGaps(deconv(1, 2, 0), 'H'), null);
  });
});

describe('symbolic: validation helpers and names', () => {
  it('validates sizes', () => {
    assert.equal(sizeProblem('input size', 5), null);
    assert.equal(sizeProblem('input size', 0), 'The input size must be at least 1, got 0.');
    assert.equal(sizeProblem('input size', -3), 'The input size must be at least 1, got -3.');
    assert.equal(sizeProblem('input size', 2.5), 'The input size must be a whole number, got 2.5.');
    assert.match(sizeProblem('input size', MAX_SIZE + 1)!, /larger than/);
    assert.match(sizeProblem('input size', Infinity)!, /whole number/);
    assert.match(sizeProblem('input size', '3')!, /whole number/);
  });

  it('validates rules', () => {
    assert.equal(ruleProblem(conv(3, 2, 1)), null);
    assert.equal(ruleProblem(conv(3, 2, -1)), null);
    assert.match(ruleProblem(conv(3, 2, 1, { inputDilation: 0 }))!, /input dilation/);
    assert.match(
      ruleProblem({ kind: 'same', kernel: 3, dilation: 0, stride: 1, extraPadAt: 'end' })!,
      /dilation/,
    );
    assert.match(ruleProblem({ kind: 'transposed-same', kernel: 3, dilation: 1, stride: 2e6 })!, /stride/);
  });

  it('names dimensions', () => {
    assert.deepEqual(dimNames(1), ['L']);
    assert.deepEqual(dimNames(2), ['H', 'W']);
    assert.deepEqual(dimNames(3), ['D', 'H', 'W']);
    assert.deepEqual(dimNames(4), ['S1', 'D', 'H', 'W']);
    assert.deepEqual(dimNames(0), []);
    assert.deepEqual(dimNames(-2), []);
    assert.deepEqual(dimNames(1.5), []);
    assert.equal(dimNames(1e9).length, 64);
  });
});
