/**
 * Property tests: the rules, the symbolic formulas and the solver are checked against brute-force references
 * that literally do the thing (slide a window over a padded array, stamp a kernel per input cell), on a few
 * hundred random layers each, with a fixed seed so a failure reproduces.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectiveKernel } from '../../src/core/arithmetic/args';
import { applyDimRule, samePads } from '../../src/core/arithmetic/dims';
import { inputWindow, receptiveField } from '../../src/core/arithmetic/receptive';
import {
  forwardSettings,
  outputPaddingFor,
  settingsForTarget,
  transposedRange,
  transposedSettings,
} from '../../src/core/arithmetic/solve';
import { evaluateSizeExpr, sizeExpr } from '../../src/core/arithmetic/symbolic';
import type { DimRule } from '../../src/core/arithmetic/types';

const SEED = 20240611;
const RUNS = 300;
const options = { seed: SEED, numRuns: RUNS };

type WindowRule = Extract<DimRule, { kind: 'window' }>;
type TransposedRule = Extract<DimRule, { kind: 'transposed' }>;

/**
 * Reference 1-D sliding window: builds the padded (and input-dilated) array cell by cell, then places windows
 * at 0, s, 2s, … and counts them. Floor mode keeps windows that fit inside the padded array. Ceil mode
 * (PyTorch pooling) keeps adding windows until one has covered the last padded cell, but never one that
 * starts in the right padding.
 */
function slideWindows(rule: WindowRule, inputSize: number): number {
  const a = rule.inputDilation ?? 1;
  const padded: string[] = [];
  for (let n = 0; n < rule.padBegin; n++) padded.push('pad');
  for (let j = 0; j < inputSize; j++) {
    if (j > 0) for (let z = 0; z < a - 1; z++) padded.push('zero');
    padded.push(`x${j}`);
  }
  const realEnd = padded.length; // First position of the right padding.
  for (let n = 0; n < rule.padEnd; n++) padded.push('pad');
  const span = effectiveKernel(rule.kernel, rule.dilation);
  let windows = 0;
  for (let start = 0; ; start += rule.stride) {
    const last = start + span - 1;
    if (!rule.ceilMode) {
      if (last > padded.length - 1) break;
      windows++;
      continue;
    }
    if (start >= realEnd) break;
    windows++;
    if (last >= padded.length - 1) break;
  }
  return windows;
}

/**
 * Reference transposed conv length: every input cell j stamps the dilated kernel at j·s + m·d, the stamped
 * array is cropped by padBegin at the front and padEnd at the back, and output_padding cells are appended.
 */
function scatterLength(rule: TransposedRule, inputSize: number): number {
  const stamped: number[] = [];
  for (let j = 0; j < inputSize; j++) {
    for (let m = 0; m < rule.kernel; m++) {
      const at = j * rule.stride + m * rule.dilation;
      while (stamped.length <= at) stamped.push(0);
      stamped[at]! += 1;
    }
  }
  const cropped = stamped.slice(rule.padBegin, stamped.length - rule.padEnd);
  for (let n = 0; n < rule.outputPadding; n++) cropped.push(0);
  return cropped.length;
}

const windowArb = (ceil: boolean) =>
  fc
    .record({
      kernel: fc.integer({ min: 1, max: 7 }),
      dilation: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 5 }),
      padA: fc.integer({ min: 0, max: 6 }),
      padB: fc.integer({ min: 0, max: 6 }),
      inputDilation: fc.integer({ min: 1, max: 3 }),
      inputSize: fc.integer({ min: 1, max: 40 }),
    })
    .map(({ kernel, dilation, stride, padA, padB, inputDilation, inputSize }) => {
      const kEff = effectiveKernel(kernel, dilation);
      // PyTorch pooling (the ceil_mode user) requires padding ≤ k_eff/2 on each side and has no input dilation.
      const limit = ceil ? Math.floor(kEff / 2) : 6;
      const rule: WindowRule = {
        kind: 'window',
        kernel,
        dilation,
        stride,
        padBegin: Math.min(padA, limit),
        padEnd: Math.min(padB, limit),
        ceilMode: ceil,
        ...(ceil ? {} : { inputDilation }),
      };
      return { rule, inputSize };
    });

describe('properties', () => {
  it('(a) a forward conv followed by its transposed conv and the solved output_padding recovers every input size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 60 }),
        (kernel, stride, dilation, padding, inputSize) => {
          const forward: DimRule = {
            kind: 'window',
            kernel,
            dilation,
            stride,
            padBegin: padding,
            padEnd: padding,
            ceilMode: false,
          };
          const down = applyDimRule(forward, inputSize);
          fc.pre(down >= 1);
          const back: TransposedRule = {
            kind: 'transposed',
            kernel,
            dilation,
            stride,
            padBegin: padding,
            padEnd: padding,
            outputPadding: 0,
          };
          const op = outputPaddingFor(back, down, inputSize);
          assert.ok(op.ok, op.ok ? '' : op.error);
          // The forward conv's flooring loses less than a stride, so output_padding < stride always suffices.
          assert.ok(op.value >= 0 && op.value < stride);
          assert.equal(applyDimRule({ ...back, outputPadding: op.value }, down), inputSize);
          const range = transposedRange(back, down);
          assert.ok(range.ok && range.value.min <= inputSize && inputSize <= range.value.max);
          // Every size in the range is one the forward conv maps back to `down`.
          if (range.ok) {
            for (let size = range.value.min; size <= range.value.max; size++) {
              assert.equal(applyDimRule(forward, size), down);
            }
          }
        },
      ),
      options,
    );
  });

  it('(b) window rules equal a literal slide over the padded array (floor, input dilation)', () => {
    fc.assert(
      fc.property(windowArb(false), ({ rule, inputSize }) => {
        const a = rule.inputDilation ?? 1;
        const spread = (inputSize - 1) * a + 1;
        fc.pre(spread + rule.padBegin + rule.padEnd >= effectiveKernel(rule.kernel, rule.dilation));
        assert.equal(applyDimRule(rule, inputSize), slideWindows(rule, inputSize));
      }),
      options,
    );
  });

  it('(b) ceil_mode pooling equals the literal slide with PyTorch’s drop-the-last-window rule', () => {
    fc.assert(
      fc.property(windowArb(true), ({ rule, inputSize }) => {
        const span = inputSize + rule.padBegin + rule.padEnd - effectiveKernel(rule.kernel, rule.dilation);
        fc.pre(span > -rule.stride);
        assert.equal(applyDimRule(rule, inputSize), slideWindows(rule, inputSize));
      }),
      options,
    );
  });

  it('(c) transposed rules equal the length of a literal scatter, crop and output_padding', () => {
    fc.assert(
      fc.property(
        fc.record({
          kernel: fc.integer({ min: 1, max: 7 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 5 }),
          padBegin: fc.integer({ min: 0, max: 6 }),
          padEnd: fc.integer({ min: 0, max: 6 }),
          outputPadding: fc.integer({ min: 0, max: 4 }),
          inputSize: fc.integer({ min: 1, max: 30 }),
        }),
        ({ inputSize, ...params }) => {
          const rule: TransposedRule = { kind: 'transposed', ...params };
          fc.pre(params.outputPadding < Math.max(params.stride, params.dilation));
          const full = (inputSize - 1) * params.stride + effectiveKernel(params.kernel, params.dilation);
          fc.pre(params.padBegin + params.padEnd < full);
          assert.equal(applyDimRule(rule, inputSize), scatterLength(rule, inputSize));
        },
      ),
      options,
    );
  });

  it("(d) 'same' gives ⌈i/s⌉ and samePads is the smallest total that does, split on the right side", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 80 }),
        fc.boolean(),
        (kernel, dilation, stride, inputSize, atEnd) => {
          const rule: Extract<DimRule, { kind: 'same' }> = {
            kind: 'same',
            kernel,
            dilation,
            stride,
            extraPadAt: atEnd ? 'end' : 'begin',
          };
          const out = Math.ceil(inputSize / stride);
          assert.equal(applyDimRule(rule, inputSize), out);
          const [begin, end] = samePads(rule, inputSize);
          const total = Math.max(0, (out - 1) * stride + effectiveKernel(kernel, dilation) - inputSize);
          assert.equal(begin + end, total);
          assert.ok(Math.abs(begin - end) <= 1);
          assert.ok(atEnd ? end >= begin : begin >= end);
          const window = (b: number, e: number): WindowRule => ({
            kind: 'window',
            kernel,
            dilation,
            stride,
            padBegin: b,
            padEnd: e,
            ceilMode: false,
          });
          // The pads really give ⌈i/s⌉ through a plain window, and one pad less would not.
          assert.equal(slideWindows(window(begin, end), inputSize), out);
          if (total > 0) assert.equal(applyDimRule(window(0, total - 1), inputSize), out - 1);
        },
      ),
      options,
    );
  });

  it('(e) the symbolic size expression of every rule agrees with applyDimRule', () => {
    const rule = fc.oneof(
      windowArb(false).map((x) => x.rule),
      windowArb(true).map((x) => x.rule),
      fc
        .record({
          kernel: fc.integer({ min: 1, max: 7 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 6 }),
          padBegin: fc.integer({ min: -3, max: 6 }),
          padEnd: fc.integer({ min: -3, max: 6 }),
          outputPadding: fc.integer({ min: 0, max: 5 }),
        })
        .map((p): DimRule => ({ kind: 'transposed', ...p })),
      fc
        .record({
          kernel: fc.integer({ min: 1, max: 7 }),
          dilation: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 6 }),
        })
        .map((p): DimRule => ({ kind: 'same', ...p, extraPadAt: 'end' })),
    );
    fc.assert(
      fc.property(rule, fc.integer({ min: 1, max: 200 }), (r, x) => {
        const expr = sizeExpr(r);
        assert.ok(expr !== null, JSON.stringify(r));
        assert.equal(evaluateSizeExpr(expr, x), applyDimRule(r, x));
      }),
      options,
    );
  });

  it('(f) every reachable framework answer of the target solver really gives the target', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: -4, max: 4 }),
        (kernel, stride, dilation, padding, inputSize, delta) => {
          const base = (inputSize - 1) * stride + effectiveKernel(kernel, dilation) - 2 * padding;
          const target = Math.max(1, base + delta);
          const answer = settingsForTarget({ kernel, stride, dilation, padding, inputSize, target, rank: 1 });
          assert.ok(answer.ok);
          const opMax = Math.max(stride, dilation) - 1;
          const torch = answer.value.settings.find((s) => s.via === 'output_padding')!;
          assert.equal(torch.reachable, target - base >= 0 && target - base <= opMax);
          for (const setting of answer.value.settings) {
            assert.equal(setting.reachable, setting.code !== null);
            if (!setting.reachable) continue;
            assert.equal(setting.rules.length, 1);
            assert.equal(
              applyDimRule(setting.rules[0]!, inputSize),
              target,
              `${setting.framework} ${setting.via}`,
            );
          }
        },
      ),
      options,
    );
  });

  it('(g) the size searches return only settings that work, and find one whenever the bounded space has one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 1, max: 48 }),
        (inputSize, outputSize) => {
          const bounds = { maxKernel: 5, maxStride: 4, maxDilation: 2, limit: 100 };
          const forward = forwardSettings({ inputSize, outputSize, ...bounds });
          const transposed = transposedSettings({ inputSize, outputSize, ...bounds });
          let forwardExists = false;
          let transposedExists = false;
          for (let k = 1; k <= 5; k++) {
            for (let s = 1; s <= 4; s++) {
              for (let d = 1; d <= 2; d++) {
                const kEff = effectiveKernel(k, d);
                for (let pb = 0; pb < kEff; pb++) {
                  for (let pe = 0; pe < kEff; pe++) {
                    const w: DimRule = {
                      kind: 'window',
                      kernel: k,
                      dilation: d,
                      stride: s,
                      padBegin: pb,
                      padEnd: pe,
                      ceilMode: false,
                    };
                    if (applyDimRule(w, inputSize) === outputSize) forwardExists = true;
                    for (let op = 0; op < s; op++) {
                      const t: DimRule = {
                        kind: 'transposed',
                        kernel: k,
                        dilation: d,
                        stride: s,
                        padBegin: pb,
                        padEnd: pe,
                        outputPadding: op,
                      };
                      if (applyDimRule(t, inputSize) === outputSize) transposedExists = true;
                    }
                  }
                }
              }
            }
          }
          assert.equal(forward.ok, forwardExists);
          assert.equal(transposed.ok, transposedExists);
          for (const result of [forward, transposed]) {
            if (!result.ok) continue;
            for (const setting of result.value)
              assert.equal(applyDimRule(setting.rule, inputSize), outputSize);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('(h) inputWindow matches a literal dependency trace, and the recurrence in the interior', () => {
    const layer = fc.oneof(
      windowArb(false).map((x) => x.rule),
      fc
        .record({
          kernel: fc.integer({ min: 1, max: 4 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padBegin: fc.integer({ min: 0, max: 3 }),
          padEnd: fc.integer({ min: 0, max: 3 }),
          outputPadding: fc.integer({ min: 0, max: 1 }),
        })
        .map((p): DimRule => ({
          kind: 'transposed',
          ...p,
          outputPadding: Math.min(p.outputPadding, p.stride - 1),
        })),
      fc
        .record({
          kernel: fc.integer({ min: 1, max: 5 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          stride: fc.integer({ min: 1, max: 3 }),
        })
        .map((p): DimRule => ({ kind: 'same', ...p, extraPadAt: 'end' })),
    );
    fc.assert(
      fc.property(
        fc.array(layer, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 24 }),
        (stack, inputSize) => {
          const traced = traceDependencies(stack, inputSize);
          fc.pre(traced !== null);
          for (let o = 0; o < traced!.length; o++) {
            const window = inputWindow(stack, inputSize, o);
            assert.ok(window.ok, window.ok ? '' : window.error);
            const deps: number[] = traced![o]!;
            if (deps.length === 0) {
              assert.equal(window.value, null);
              continue;
            }
            assert.ok(window.value !== null);
            assert.equal(window.value.first, Math.min(...deps));
            assert.equal(window.value.last, Math.max(...deps));
            assert.equal(window.value.cells, deps.length);
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    // Forward stacks: far from the borders the exact window is the recurrence's start + o·jump, r wide.
    fc.assert(
      fc.property(
        fc.array(
          windowArb(false).map((x) => ({ ...x.rule, inputDilation: 1 })),
          { minLength: 1, maxLength: 3 },
        ),
        (stack) => {
          const inputSize = 3000;
          const field = receptiveField(stack, inputSize);
          fc.pre(field.ok);
          if (!field.ok) return;
          const size = field.value.steps[field.value.steps.length - 1]!.size!;
          const o = Math.floor(size / 2);
          const window = inputWindow(stack, inputSize, o);
          assert.ok(window.ok && window.value !== null);
          const { start, jump, field: r } = field.value;
          assert.equal(start!.den, 1);
          assert.equal(window.value.first, start!.num + o * jump.num);
          assert.equal(window.value.last - window.value.first + 1, r.num);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

/**
 * Literal dependency trace: for every output cell of the stack, the indices of the stack's input cells it
 * depends on (padding and inserted zeros depend on nothing). Null when some layer has an empty output.
 */
function traceDependencies(stack: readonly DimRule[], inputSize: number): number[][] | null {
  let cells: Set<number>[] = Array.from({ length: inputSize }, (_, j) => new Set([j]));
  for (const rule of stack) {
    const size = applyDimRule(rule, cells.length);
    if (size < 1 || size > 400) return null;
    const next: Set<number>[] = Array.from({ length: size }, () => new Set<number>());
    if (rule.kind === 'window' || rule.kind === 'same') {
      const a = rule.kind === 'window' ? (rule.inputDilation ?? 1) : 1;
      const padBegin = rule.kind === 'window' ? rule.padBegin : samePads(rule, cells.length)[0];
      // Padded position → input cell (or undefined for padding and inserted zeros).
      const cellAt = (position: number): Set<number> | undefined => {
        const x = position - padBegin;
        if (x < 0 || x % a !== 0) return undefined;
        return cells[x / a];
      };
      for (let o = 0; o < size; o++) {
        for (let m = 0; m < rule.kernel; m++) {
          for (const dep of cellAt(o * rule.stride + m * rule.dilation) ?? []) next[o]!.add(dep);
        }
      }
    } else if (rule.kind === 'transposed') {
      cells.forEach((deps, j) => {
        for (let m = 0; m < rule.kernel; m++) {
          const o = j * rule.stride + m * rule.dilation - rule.padBegin;
          if (o >= 0 && o < size) for (const dep of deps) next[o]!.add(dep);
        }
      });
    } else {
      return null;
    }
    cells = next;
  }
  return cells.map((set) => [...set]);
}
