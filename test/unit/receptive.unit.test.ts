import * as assert from 'node:assert/strict';
import {
  MAX_LAYERS,
  formatFraction,
  fraction,
  inputWindow,
  receptiveField,
} from '../../src/core/arithmetic/receptive';
import type { DimRule, Outcome } from '../../src/core/arithmetic/types';

const conv = (kernel: number, stride = 1, padding = 0, dilation = 1): DimRule => ({
  kind: 'window',
  kernel,
  dilation,
  stride,
  padBegin: padding,
  padEnd: padding,
  ceilMode: false,
});

const deconv = (kernel: number, stride: number, padding = 0): DimRule => ({
  kind: 'transposed',
  kernel,
  dilation: 1,
  stride,
  padBegin: padding,
  padEnd: padding,
  outputPadding: 0,
});

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) assert.fail(`expected ok, got: ${outcome.error}`);
  return outcome.value;
}

function error<T>(outcome: Outcome<T>): string {
  if (outcome.ok) assert.fail(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

const text = (f: { num: number; den: number } | null): string | null =>
  f === null ? null : formatFraction(f);

describe('receptive: fractions', () => {
  it('reduces and formats', () => {
    assert.deepEqual(fraction(4, 8), { num: 1, den: 2 });
    assert.deepEqual(fraction(3, -6), { num: -1, den: 2 });
    assert.deepEqual(fraction(0, 5), { num: 0, den: 1 });
    assert.equal(formatFraction(fraction(5, 2)), '5/2');
    assert.equal(formatFraction(fraction(-1, 2)), '−1/2');
    assert.equal(formatFraction(fraction(6, 3)), '2');
    assert.throws(() => fraction(1, 0), RangeError);
    assert.throws(() => fraction(2 ** 60, 1), RangeError);
  });
});

describe('receptive: receptiveField', () => {
  it('follows the standard recurrence through a VGG-style stack', () => {
    // conv3 p1, conv3 p1, pool2 s2, conv3 p1: r = 1 + 2 + 2 + 1 + 2·2 = 10, j = 2, start = −1 − 1 − 0 − 1·2 = −4.
    const stack = [conv(3, 1, 1), conv(3, 1, 1), conv(2, 2), conv(3, 1, 1)];
    const rf = value(receptiveField(stack, 32));
    assert.equal(text(rf.field), '10');
    assert.equal(text(rf.jump), '2');
    assert.equal(text(rf.start), '−4');
    assert.equal(text(rf.center), '1/2');
    assert.equal(rf.spanCells, 10);
    assert.equal(rf.stoppedAt, null);
    assert.deepEqual(
      rf.steps.map((s) => [text(s.field), text(s.jump), text(s.start), s.size]),
      [
        ['3', '1', '−1', 32],
        ['5', '1', '−2', 32],
        ['6', '2', '−2', 16],
        ['10', '2', '−4', 16],
      ],
    );
  });

  it('accounts for dilation and the ResNet stem', () => {
    assert.equal(text(value(receptiveField([conv(3, 1, 2, 2)])).field), '5');
    const stem = value(receptiveField([conv(7, 2, 3), conv(3, 2, 1)], 224));
    assert.equal(text(stem.field), '11');
    assert.equal(text(stem.jump), '4');
    assert.equal(text(stem.start), '−5');
    assert.equal(stem.steps[1]!.size, 56);
  });

  it('divides the jump through transposed layers, as fractions', () => {
    const one = value(receptiveField([deconv(4, 2, 1)]));
    assert.equal(text(one.field), '5/2');
    assert.equal(text(one.jump), '1/2');
    assert.equal(text(one.start), '−1');
    assert.equal(one.spanCells, 2);
    const two = value(receptiveField([deconv(2, 2)]));
    assert.equal(text(two.field), '3/2');
    assert.equal(two.spanCells, 1);
    // Down then up again: the jump comes back to 1.
    const round = value(receptiveField([conv(3, 2, 1), deconv(4, 2, 1)], 8));
    assert.equal(text(round.jump), '1');
    assert.equal(round.steps[1]!.size, 8);
  });

  it('handles Flax input dilation like a transposed layer', () => {
    const layer: DimRule = { ...conv(3, 1, 2), inputDilation: 2 } as DimRule;
    const rf = value(receptiveField([layer]));
    assert.equal(text(rf.field), '2');
    assert.equal(text(rf.jump), '1/2');
    assert.equal(text(rf.start), '−1');
  });

  it("needs the input size for the start through 'same'", () => {
    const same: DimRule = { kind: 'same', kernel: 3, dilation: 1, stride: 2, extraPadAt: 'end' };
    const withSize = value(receptiveField([same], 8));
    assert.equal(text(withSize.start), '0');
    assert.equal(text(value(receptiveField([same], 7)).start), '−1');
    const without = value(receptiveField([same]));
    assert.equal(without.start, null);
    assert.equal(without.center, null);
    assert.equal(text(without.field), '3');
    const tsame = value(receptiveField([{ kind: 'transposed-same', kernel: 3, dilation: 1, stride: 2 }], 4));
    assert.equal(tsame.start, null);
    assert.equal(text(tsame.jump), '1/2');
  });

  it('stops at a fixed-size layer and says why', () => {
    const rf = value(receptiveField([conv(3, 1, 1), { kind: 'fixed', size: 1 }, conv(1)]));
    assert.equal(rf.steps.length, 1);
    assert.equal(rf.stoppedAt!.layer, 1);
    assert.match(rf.stoppedAt!.reason, /Layer 2 has a fixed output size \(1\)/);
    assert.equal(text(rf.field), '3');
  });

  it('refuses absurd stacks', () => {
    assert.match(error(receptiveField([conv(0)])), /Layer 1: kernel size must be/);
    assert.match(error(receptiveField([conv(3)], 0)), /input size must be at least 1/);
    assert.match(error(receptiveField([conv(3)], 2.5)), /whole number/);
    assert.match(error(receptiveField([conv(5)], 3)), /Layer 1 gives a size of -1/);
    assert.match(error(receptiveField('conv' as unknown as DimRule[])), /list of per-dimension rules/);
    assert.match(
      error(receptiveField(Array.from({ length: MAX_LAYERS + 1 }, () => conv(1)))),
      /more than the/,
    );
    const huge = Array.from({ length: 60 }, () => conv(2, 1000));
    assert.match(error(receptiveField(huge)), /beyond the integers Conv Lens can keep exact/);
    assert.deepEqual(value(receptiveField([])).field, { num: 1, den: 1 });
  });
});

describe('receptive: inputWindow', () => {
  it('gives the exact cells one output reads', () => {
    const stack = [conv(3, 1, 1), conv(2, 2), conv(3, 1, 1)];
    assert.deepEqual(value(inputWindow(stack, 16, 0)), { first: 0, last: 4, cells: 5 });
    assert.deepEqual(value(inputWindow(stack, 16, 3)), { first: 3, last: 10, cells: 8 });
    assert.deepEqual(value(inputWindow(stack, 16, 7)), { first: 11, last: 15, cells: 5 });
  });

  it('sees through transposed layers exactly, unlike the span bound', () => {
    const stack = [conv(3, 1, 1), conv(2, 2), conv(3, 1, 1), deconv(2, 2)];
    // Output 6 of the stride-2 kernel-2 transposed conv reads exactly one cell below it (3), so it sees what that
    // cell sees: 8 input cells, where the span bound of the recurrence allows 9.
    assert.deepEqual(value(inputWindow(stack, 16, 6)), { first: 3, last: 10, cells: 8 });
    assert.equal(value(receptiveField(stack, 16)).spanCells, 9);
    assert.deepEqual(value(inputWindow([deconv(3, 2, 1)], 4, 1)), { first: 0, last: 1, cells: 2 });
    assert.deepEqual(value(inputWindow([deconv(3, 2, 1)], 4, 2)), { first: 1, last: 1, cells: 1 });
  });

  it('counts the rows a stride or dilation skips', () => {
    assert.deepEqual(value(inputWindow([conv(3, 1, 0, 2)], 10, 0)), { first: 0, last: 4, cells: 3 });
  });

  it('returns null for an output that reads only padding or output_padding', () => {
    assert.equal(value(inputWindow([conv(1, 1, 2)], 3, 0)), null);
    const padded: DimRule = { ...deconv(1, 2), outputPadding: 1 } as DimRule;
    assert.equal(value(inputWindow([padded], 3, 5)), null);
  });

  it('refuses what it cannot trace and absurd input', () => {
    assert.match(error(inputWindow([{ kind: 'fixed', size: 2 }], 4, 0)), /a fixed output size/);
    assert.match(
      error(inputWindow([{ kind: 'transposed-same', kernel: 3, dilation: 1, stride: 2 }], 4, 0)),
      /transposed 'same'/,
    );
    assert.match(error(inputWindow([conv(3)], 5, 3)), /from 0 to 2, got 3/);
    assert.match(error(inputWindow([conv(3)], 5, -1)), /from 0 to 2/);
    assert.match(error(inputWindow([conv(3)], 0, 0)), /input size must be at least 1/);
    assert.match(error(inputWindow([conv(9)], 5, 0)), /Layer 1 gives a size of -3/);
    assert.match(
      error(
        inputWindow(
          Array.from({ length: 5 }, () => conv(1000, 1, 499)),
          1000,
          500,
        ),
      ),
      /too large to trace cell by cell/,
    );
    assert.match(error(inputWindow('x' as unknown as DimRule[], 5, 0)), /list of per-dimension rules/);
  });
});
