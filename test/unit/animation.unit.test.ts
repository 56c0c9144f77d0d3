import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluateCase } from '../../src/core/arithmetic/case';
import { parseAnimationPayload } from '../../src/core/animation/payload';
import {
  type Timeline,
  cellValue,
  directFrame,
  directReaders,
  flatten,
  frameCount,
  isOutputPadding,
  matrixView,
  overlapCounts,
  scatterCounts,
  scatterFrame,
  scatterGrid,
  scatterSources,
  timelineFromPayload,
  unflatten,
} from '../../src/core/animation/timeline';
import type { Outcome } from '../../src/core/arithmetic/types';
import { loadCases } from './oracle.helpers';

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) assert.fail(`expected ok, got: ${outcome.error}`);
  return outcome.value;
}

function error<T>(outcome: Outcome<T>): string {
  if (outcome.ok) assert.fail(`expected a failure, got a ${typeof outcome.value}`);
  return outcome.error;
}

const timeline = (payload: unknown): Timeline => value(timelineFromPayload(payload));

// ---------------------------------------------------------------------------------------------------------
// Brute force, written from the definitions rather than from the formulas: materialise the padded (and for
// transposed convs zero-inserted) input as a list of tagged cells, slide the window over it, and stamp kernels
// onto an explicit output buffer.

type Cell = { kind: 'input'; index: number } | { kind: 'pad' } | { kind: 'hole' };

/** 1-D forward window (conv or pool): every output cell's taps as (cell, kernel index). */
function bruteWindow(
  n: number,
  k: number,
  s: number,
  d: number,
  padBegin: number,
  padEnd: number,
  ceil: boolean,
): Array<Array<{ cell: Cell | 'overhang'; weight: number }>> {
  const padded: Cell[] = [
    ...Array.from({ length: padBegin }, (): Cell => ({ kind: 'pad' })),
    ...Array.from({ length: n }, (_, index): Cell => ({ kind: 'input', index })),
    ...Array.from({ length: padEnd }, (): Cell => ({ kind: 'pad' })),
  ];
  const span = d * (k - 1) + 1;
  const windows: Array<Array<{ cell: Cell | 'overhang'; weight: number }>> = [];
  for (let j = 0; ; j++) {
    const start = j * s;
    // Floor mode: a window must fit inside the padded input. Ceil mode lets the last window overhang it by fewer
    // than `stride` cells, but never start past the input and the left padding (PyTorch's pooling_output_shape).
    if (start + span > padded.length + (ceil ? s - 1 : 0)) break;
    if (ceil && start >= n + padBegin) break;
    windows.push(
      Array.from({ length: k }, (_, m) => ({
        cell: padded[start + m * d] ?? ('overhang' as const),
        weight: m,
      })),
    );
  }
  return windows;
}

/** 1-D transposed conv as scatter: (input i, output o, kernel m) for every stamp inside the output. */
function bruteScatter(
  n: number,
  k: number,
  s: number,
  d: number,
  cropBegin: number,
  cropEnd: number,
  outputPadding: number,
): { size: number; stamps: Array<[number, number, number]> } {
  const full = (n - 1) * s + d * (k - 1) + 1;
  const size = full - cropBegin - cropEnd + outputPadding;
  const stamps: Array<[number, number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < k; m++) {
      const o = i * s + m * d - cropBegin;
      if (o >= 0 && o < size) stamps.push([i, o, m]);
    }
  }
  return { size, stamps };
}

/** 1-D transposed conv as the direct conv over the explicit zero-inserted, padded input with a flipped kernel. */
function bruteTransposedDirect(
  n: number,
  k: number,
  s: number,
  d: number,
  cropBegin: number,
  cropEnd: number,
  outputPadding: number,
): Array<Array<[number, number]>> {
  const span = d * (k - 1) + 1;
  const inserted: Cell[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) for (let z = 1; z < s; z++) inserted.push({ kind: 'hole' });
    inserted.push({ kind: 'input', index: i });
  }
  const before = span - 1 - cropBegin;
  const after = span - 1 - cropEnd + outputPadding;
  let grid: Cell[] = [...inserted];
  grid =
    before >= 0
      ? [...Array.from({ length: before }, (): Cell => ({ kind: 'pad' })), ...grid]
      : grid.slice(-before);
  grid =
    after >= 0
      ? [...grid, ...Array.from({ length: after }, (): Cell => ({ kind: 'pad' }))]
      : grid.slice(0, after);
  const outputs: Array<Array<[number, number]>> = [];
  for (let start = 0; start + span <= grid.length; start++) {
    const reads: Array<[number, number]> = [];
    for (let m = 0; m < k; m++) {
      const cell = grid[start + m * d]!;
      if (cell.kind === 'input') reads.push([cell.index, k - 1 - m]);
    }
    outputs.push(reads);
  }
  return outputs;
}

// ---------------------------------------------------------------------------------------------------------

describe('animation payload', () => {
  it('reads a full payload with aliases and per-dimension values', () => {
    const spec = value(
      parseAnimationPayload({
        op: 'ConvTranspose2d',
        framework: 'torch',
        input_size: [4, 5],
        kernel_size: [3, 2],
        strides: 2,
        padding: [
          [1, 0],
          [0, 1],
        ],
        dilation_rate: [1, 2],
        output_padding: [1, 0],
        view: 'matrix',
      }),
    );
    assert.equal(spec.op, 'conv_transpose');
    assert.equal(spec.framework, 'pytorch');
    assert.equal(spec.rank, 2);
    assert.deepEqual(spec.kernel, [3, 2]);
    assert.deepEqual(spec.stride, [2, 2]);
    assert.deepEqual(spec.padding, { kind: 'explicit', begin: [1, 0], end: [0, 1] });
    assert.deepEqual(spec.outputPadding, [1, 0]);
    assert.equal(spec.view, 'matrix');
  });

  it('accepts a JSON string and a 1-D input given as a number', () => {
    const spec = value(
      parseAnimationPayload('{"op": "max_pool1d", "input": 9, "kernel": 3, "ceil_mode": true}'),
    );
    assert.equal(spec.rank, 1);
    assert.deepEqual(spec.input, [9]);
    assert.equal(spec.ceilMode, true);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [1, 2], /must be a JSON object/],
    ['broken JSON', '{"op": ', /not valid JSON/],
    ['no op', { input: 5, kernel: 3 }, /needs "op"/],
    ['unknown op', { op: 'softmax', input: 5, kernel: 3 }, /cannot animate/],
    ['misspelt field', { op: 'conv', input: 5, kernal: 3 }, /Did you mean "kernel"/],
    ['missing kernel', { op: 'conv', input: 5 }, /needs "kernel"/],
    ['3-D input', { op: 'conv', input: [4, 4, 4], kernel: 3 }, /1-D and 2-D/],
    ['suffix disagrees', { op: 'conv2d', input: 7, kernel: 3 }, /2-D.*has 1 dimension/],
    ['zero stride', { op: 'conv', input: 7, kernel: 3, stride: 0 }, /"stride" must be whole numbers from 1/],
    ['fractional kernel', { op: 'conv', input: 7, kernel: 2.5 }, /"kernel" must be whole numbers/],
    ['kernel too large', { op: 'conv', input: 70, kernel: 40 }, /readable animation/],
    ['wrong length', { op: 'conv', input: [5, 5], kernel: [3, 3, 3] }, /list of 2 numbers/],
    ['bad padding word', { op: 'conv', input: 5, kernel: 3, padding: 'full' }, /"same_lower" or "valid"/],
    [
      'output_padding on conv',
      { op: 'conv', input: 5, kernel: 3, output_padding: 1 },
      /only applies to transposed/,
    ],
    ['ceil_mode on conv', { op: 'conv', input: 5, kernel: 3, ceil_mode: true }, /applies to pooling/],
    [
      'groups mismatch',
      { op: 'conv', input: 5, kernel: 3, groups: 2, channels: [4, 3] },
      /divisible by groups/,
    ],
    ['unknown framework', { op: 'conv', input: 5, kernel: 3, framework: 'caffe' }, /use one of "pytorch"/],
    ['scatter for conv', { op: 'conv', input: 5, kernel: 3, view: 'scatter' }, /shows transposed/],
    ['values wrong size', { op: 'conv', input: 3, kernel: 2, values: { input: [1, 2] } }, /3 finite numbers/],
    [
      'values not numbers',
      { op: 'conv', input: 2, kernel: 2, values: { input: [1, 'a'] } },
      /finite numbers/,
    ],
    ['infinite input', { op: 'conv', input: 1e308 * 10, kernel: 3 }, /whole numbers/],
  ];
  for (const [what, payload, message] of bad) {
    it(`refuses ${what} with a clear message`, () => {
      assert.match(error(timelineFromPayload(payload)), message);
    });
  }

  it('never throws, whatever the payload', () => {
    const field = fc.oneof(
      fc.integer({ min: -3, max: 80 }),
      fc.array(fc.integer({ min: -3, max: 80 }), { maxLength: 3 }),
      fc.constantFrom('same', 'valid', 'same_lower', null, true, 1.5),
      fc.array(fc.array(fc.integer({ min: -3, max: 5 }), { maxLength: 3 }), { maxLength: 3 }),
    );
    const payload = fc.record(
      {
        op: fc.constantFrom('conv', 'conv_transpose', 'max_pool', 'avg_pool', 'conv1d', 'pool', 7),
        framework: fc.constantFrom('pytorch', 'keras', 'flax', 'jax', 'onnx', 'tensorflow', undefined),
        input: field,
        kernel: field,
        stride: field,
        padding: field,
        dilation: field,
        output_padding: field,
        ceil_mode: fc.boolean(),
      },
      { requiredKeys: ['op', 'input', 'kernel'] },
    );
    fc.assert(
      fc.property(fc.oneof(payload, fc.anything()), (raw) => {
        const outcome = timelineFromPayload(raw);
        if (!outcome.ok) assert.ok(outcome.error.length > 10);
        else assert.ok(frameCount(outcome.value, 'direct') >= 1);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('animation timeline: direct view against brute force', () => {
  it('conv and pooling, 1-D, every small configuration (floor and ceil mode)', () => {
    let checked = 0;
    for (const op of ['conv', 'max_pool'] as const)
      for (let n = 1; n <= 7; n++)
        for (let k = 1; k <= 3; k++)
          for (let s = 1; s <= 3; s++)
            for (let d = 1; d <= 2; d++)
              for (let pb = 0; pb <= 2; pb++)
                for (let pe = 0; pe <= 2; pe++)
                  for (const ceil of op === 'max_pool' ? [false, true] : [false]) {
                    const payload = {
                      op,
                      input: n,
                      kernel: k,
                      stride: s,
                      dilation: d,
                      padding: [[pb, pe]],
                      ceil_mode: ceil,
                    };
                    const outcome = timelineFromPayload(payload);
                    const windows = bruteWindow(n, k, s, d, pb, pe, ceil);
                    const ceilRefused = ceil && Math.max(pb, pe) >= d * (k - 1) + 1;
                    if (!outcome.ok) {
                      assert.ok(
                        windows.length === 0 || ceilRefused,
                        `${JSON.stringify(payload)}: ${outcome.error}`,
                      );
                      continue;
                    }
                    const t = outcome.value;
                    assert.equal(t.outputSize[0], windows.length, JSON.stringify(payload));
                    windows.forEach((window, o) => {
                      const frame = directFrame(t, o);
                      assert.deepEqual(frame.output, [o]);
                      const got = frame.taps.map((tap) => ({
                        kind: tap.kind,
                        input: tap.input?.[0] ?? null,
                        weight: tap.weight[0],
                      }));
                      const want = window.map(({ cell, weight }) => ({
                        kind: cell === 'overhang' ? 'overhang' : cell.kind,
                        input: cell !== 'overhang' && cell.kind === 'input' ? cell.index : null,
                        weight,
                      }));
                      assert.deepEqual(got, want, `${JSON.stringify(payload)} output ${o}`);
                    });
                    checked++;
                  }
    assert.ok(checked > 1500, `only ${checked} configurations checked`);
  });

  it('2-D frames are the product of the 1-D windows, in row-major order, with padding cells marked', () => {
    const t = timeline({
      op: 'conv',
      input: [4, 5],
      kernel: [2, 3],
      stride: [2, 1],
      padding: [
        [1, 0],
        [1, 1],
      ],
    });
    const rows = bruteWindow(4, 2, 2, 1, 1, 0, false);
    const cols = bruteWindow(5, 3, 1, 1, 1, 1, false);
    assert.deepEqual(t.outputSize, [rows.length, cols.length]);
    assert.equal(frameCount(t, 'direct'), rows.length * cols.length);
    for (let f = 0; f < frameCount(t, 'direct'); f++) {
      const frame = directFrame(t, f);
      const [r, c] = frame.output as [number, number];
      assert.equal(f, r * cols.length + c);
      const want = rows[r]!.flatMap((a) =>
        cols[c]!.map((b) => {
          const bothInput =
            a.cell !== 'overhang' &&
            a.cell.kind === 'input' &&
            b.cell !== 'overhang' &&
            b.cell.kind === 'input';
          return {
            kind: bothInput ? 'input' : 'pad',
            input: bothInput
              ? [(a.cell as { index: number }).index, (b.cell as { index: number }).index]
              : null,
            weight: [a.weight, b.weight],
          };
        }),
      );
      assert.deepEqual(
        frame.taps.map((tap) => ({ kind: tap.kind, input: tap.input, weight: tap.weight })),
        want,
      );
    }
  });

  it('dilation leaves gaps: a dilated kernel reads every d-th cell', () => {
    const t = timeline({ op: 'conv', input: [7, 7], kernel: 3, dilation: 2 });
    assert.deepEqual(t.outputSize, [3, 3]);
    const frame = directFrame(t, 0);
    assert.deepEqual(
      frame.taps.map((tap) => tap.input),
      [0, 2, 4].flatMap((r) => [0, 2, 4].map((c) => [r, c])),
    );
  });

  it('ceil_mode pooling windows overhang the input, and the overhang cells are marked', () => {
    const t = timeline({ op: 'max_pool', input: [5, 5], kernel: 2, ceil_mode: true, framework: 'pytorch' });
    assert.deepEqual(t.outputSize, [3, 3]);
    const last = directFrame(t, 8);
    assert.deepEqual(
      last.taps.map((tap) => tap.kind),
      ['input', 'overhang', 'overhang', 'overhang'],
    );
    assert.equal(t.axes[0]!.source.hi, 6, 'the drawn source includes the overhang column');
  });
});

describe('animation timeline: transposed convs against brute force', () => {
  it('scatter and direct views agree with an explicit scatter and an explicit zero-inserted conv, 1-D', () => {
    let checked = 0;
    for (let n = 1; n <= 5; n++)
      for (let k = 1; k <= 4; k++)
        for (let s = 1; s <= 3; s++)
          for (let d = 1; d <= 2; d++)
            for (let p = 0; p <= 3; p++)
              for (let op = 0; op < Math.max(s, d); op++) {
                const payload = {
                  op: 'conv_transpose',
                  input: n,
                  kernel: k,
                  stride: s,
                  dilation: d,
                  padding: p,
                  output_padding: op,
                };
                const brute = bruteScatter(n, k, s, d, p, p, op);
                const outcome = timelineFromPayload(payload);
                if (brute.size < 1) {
                  assert.ok(!outcome.ok, `${JSON.stringify(payload)} should be refused`);
                  continue;
                }
                const t = value(outcome);
                assert.equal(t.outputSize[0], brute.size, JSON.stringify(payload));
                // Scatter frames: one per input cell, stamps inside the output.
                const scattered: Array<[number, number, number]> = [];
                for (let i = 0; i < frameCount(t, 'scatter'); i++) {
                  const frame = scatterFrame(t, i);
                  assert.deepEqual(frame.input, [i]);
                  for (const tap of frame.taps)
                    if (tap.inside) scattered.push([i, tap.output[0]!, tap.weight[0]!]);
                }
                assert.deepEqual(scattered, brute.stamps, JSON.stringify(payload));
                // Direct frames: the zero-inserted, padded input with the flipped kernel.
                const direct = bruteTransposedDirect(n, k, s, d, p, p, op);
                assert.equal(direct.length, brute.size);
                for (let o = 0; o < brute.size; o++) {
                  const reads = directFrame(t, o)
                    .taps.filter((tap) => tap.input !== null)
                    .map((tap): [number, number] => [tap.input![0]!, tap.weight[0]!]);
                  assert.deepEqual(reads, direct[o], `${JSON.stringify(payload)} output ${o}`);
                }
                // Overlap counts: cumulative after the last frame = final = stamps per output cell.
                const final = overlapCounts(t);
                const perCell = new Array<number>(brute.size).fill(0);
                for (const [, o] of brute.stamps) perCell[o]! += 1;
                assert.deepEqual([...final], perCell);
                const grid = scatterGrid(t);
                const cumulative = scatterCounts(t, frameCount(t, 'scatter') - 1);
                assert.deepEqual(
                  perCell.map((_, o) => cumulative[o - grid.lo[0]!]),
                  perCell,
                );
                checked++;
              }
    assert.ok(checked > 300, `only ${checked} configurations checked`);
  });

  it('marks output_padding cells and shows holes between inserted input cells', () => {
    const t = timeline({
      op: 'conv_transpose',
      input: [3, 3],
      kernel: 3,
      stride: 2,
      padding: 1,
      output_padding: 1,
    });
    assert.deepEqual(t.outputSize, [6, 6]);
    assert.equal(isOutputPadding(t, [5, 0]), true);
    assert.equal(isOutputPadding(t, [0, 5]), true);
    assert.equal(isOutputPadding(t, [4, 4]), false);
    const kinds = directFrame(t, 0).taps.map((tap) => tap.kind);
    // Output (0, 0) of the direct view reads padded row/column −1..1 of the zero-inserted input.
    assert.deepEqual(kinds, ['pad', 'pad', 'pad', 'pad', 'input', 'hole', 'pad', 'hole', 'hole']);
  });

  it('counts accumulate frame by frame in the scatter view (checkerboard from k % s ≠ 0)', () => {
    const t = timeline({ op: 'conv_transpose', input: [2, 2], kernel: 3, stride: 2 });
    assert.deepEqual(t.outputSize, [5, 5]);
    const grid = scatterGrid(t);
    const at = (counts: Int32Array, r: number, c: number): number => counts[flatten([r, c], grid.sizes)]!;
    const afterFirst = scatterCounts(t, 0);
    assert.equal(at(afterFirst, 2, 2), 1);
    const afterAll = scatterCounts(t, 3);
    assert.equal(at(afterAll, 2, 2), 4, 'the centre is stamped by all four inputs');
    assert.equal(at(afterAll, 0, 1), 1);
    assert.equal(at(afterAll, 0, 2), 2);
    assert.deepEqual([...overlapCounts(t)], [...afterAll]);
  });

  it("'same' transposed convs in Keras and Flax crop ⌊(k_eff − s)/2⌋ at the begin; ONNX SAME_UPPER as onnxruntime", () => {
    for (const framework of ['keras', 'flax']) {
      const t = timeline({
        op: 'conv_transpose',
        input: 4,
        kernel: 4,
        stride: 2,
        padding: 'same',
        framework,
      });
      assert.deepEqual(t.outputSize, [8]);
      assert.equal(t.axes[0]!.cropBegin, 1);
      assert.equal(t.axes[0]!.cropEnd, 1);
      const wide = timeline({
        op: 'conv_transpose',
        input: 3,
        kernel: 1,
        stride: 3,
        padding: 'same',
        framework,
      });
      assert.deepEqual(wide.outputSize, [9]);
      assert.deepEqual([...overlapCounts(wide)], [1, 0, 0, 1, 0, 0, 1, 0, 0]);
    }
    const onnx = timeline({
      op: 'conv_transpose',
      input: 3,
      kernel: 3,
      stride: 2,
      padding: 'same',
      framework: 'onnx',
    });
    assert.deepEqual(onnx.outputSize, [6]);
    assert.ok(onnx.notices.some((note) => /SAME_UPPER/.test(note)));
  });

  it('hover connections are the inverse of the frames', () => {
    const t = timeline({
      op: 'conv_transpose',
      input: [3, 2],
      kernel: [3, 2],
      stride: [2, 1],
      padding: [1, 0],
    });
    for (let f = 0; f < frameCount(t, 'direct'); f++) {
      const frame = directFrame(t, f);
      for (const tap of frame.taps) {
        assert.ok(directReaders(t, tap.source).some((o) => o.join() === frame.output.join()));
      }
    }
    for (let f = 0; f < frameCount(t, 'scatter'); f++) {
      const frame = scatterFrame(t, f);
      for (const tap of frame.taps.filter((x) => x.inside)) {
        assert.ok(scatterSources(t, tap.output).some((i) => i.join() === frame.input.join()));
      }
    }
  });
});

describe('animation timeline: matrix view', () => {
  it('a conv is a banded matrix C over the flattened input', () => {
    const t = timeline({ op: 'conv', input: 4, kernel: 3, padding: 1 });
    const m = value(matrixView(t));
    assert.equal(m.label, 'C');
    assert.deepEqual([m.rows, m.cols], [4, 4]);
    assert.deepEqual(
      m.entries.map((e) => [e.row, e.col, e.weight]),
      [
        [0, 0, 1],
        [0, 1, 2],
        [1, 0, 0],
        [1, 1, 1],
        [1, 2, 2],
        [2, 1, 0],
        [2, 2, 1],
        [2, 3, 2],
        [3, 2, 0],
        [3, 3, 1],
      ],
    );
  });

  it('a transposed conv is Cᵀ, the transpose of the matching conv', () => {
    for (const [n, k, s, p, op] of [
      [3, 3, 2, 1, 1],
      [4, 4, 2, 1, 0],
      [2, 3, 3, 0, 2],
    ] as const) {
      for (const rank of [1, 2]) {
        const input = rank === 1 ? n : [n, n];
        const t = timeline({
          op: 'conv_transpose',
          input,
          kernel: k,
          stride: s,
          padding: p,
          output_padding: op,
        });
        const transposed = value(matrixView(t));
        assert.equal(transposed.label, 'Cᵀ');
        // The conv mapping the transposed conv's output grid back to its input grid.
        const c = timeline({
          op: 'conv',
          input: rank === 1 ? t.outputSize[0] : [...t.outputSize],
          kernel: k,
          stride: s,
          padding: p,
        });
        assert.deepEqual(c.outputSize, rank === 1 ? [n] : [n, n]);
        const forward = value(matrixView(c));
        const flipped = forward.entries
          .map((e) => [e.col, e.row, e.weight])
          .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
        assert.deepEqual(
          transposed.entries.map((e) => [e.row, e.col, e.weight]),
          flipped,
        );
      }
    }
  });

  it('refuses a matrix too large to lay out, with the sizes', () => {
    const t = timeline({ op: 'conv', input: [20, 20], kernel: 3 });
    assert.match(error(matrixView(t)), /324×400/);
  });
});

describe('animation timeline: frameworks, sizes and caps', () => {
  it('output sizes agree with the framework layer definitions', () => {
    const pairs: Array<[unknown, unknown]> = [
      [
        {
          op: 'conv',
          framework: 'pytorch',
          input: [9, 8],
          kernel: 3,
          stride: 2,
          padding: 1,
          dilation: [1, 2],
        },
        {
          op: 'torch.nn.Conv2d',
          args: { in_channels: 1, out_channels: 1, kernel_size: 3, stride: 2, padding: 1, dilation: [1, 2] },
          input: [1, 1, 9, 8],
        },
      ],
      [
        {
          op: 'max_pool',
          framework: 'pytorch',
          input: [8, 7],
          kernel: 3,
          stride: 2,
          padding: 1,
          ceil_mode: true,
        },
        {
          op: 'torch.nn.MaxPool2d',
          args: { kernel_size: 3, stride: 2, padding: 1, ceil_mode: true },
          input: [1, 1, 8, 7],
        },
      ],
      [
        {
          op: 'conv_transpose',
          framework: 'pytorch',
          input: 5,
          kernel: 4,
          stride: 3,
          padding: 1,
          output_padding: 2,
        },
        {
          op: 'torch.nn.ConvTranspose1d',
          args: { in_channels: 1, out_channels: 1, kernel_size: 4, stride: 3, padding: 1, output_padding: 2 },
          input: [1, 1, 5],
        },
      ],
      [
        { op: 'avg_pool', framework: 'onnx', input: [7, 6], kernel: 3, stride: 2, ceil_mode: true },
        {
          op: 'onnx.AveragePool',
          attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
          input: [1, 1, 7, 6],
        },
      ],
      [
        {
          op: 'conv',
          framework: 'flax',
          input: [7, 7],
          kernel: 3,
          stride: 2,
          padding: [
            [1, 2],
            [0, 0],
          ],
        },
        {
          op: 'flax.linen.Conv',
          args: {
            features: 1,
            kernel_size: [3, 3],
            strides: 2,
            padding: [
              [1, 2],
              [0, 0],
            ],
          },
          input: [1, 7, 7, 1],
        },
      ],
    ];
    for (const [payload, golden] of pairs) {
      const t = timeline(payload);
      const answer = evaluateCase(golden);
      assert.ok('output' in answer, JSON.stringify(answer));
      const spatial = (golden as { op: string }).op.startsWith('flax')
        ? answer.output.slice(1, -1)
        : answer.output.slice(2);
      assert.deepEqual(t.outputSize, spatial, JSON.stringify(payload));
    }
  });

  it("keeps the framework's own error messages", () => {
    assert.match(
      error(
        timelineFromPayload({
          op: 'conv_transpose',
          framework: 'pytorch',
          input: 3,
          kernel: 3,
          stride: 2,
          output_padding: 2,
        }),
      ),
      /output_padding must be smaller than stride or dilation.*0 to 1/,
    );
    assert.match(
      error(
        timelineFromPayload({
          op: 'conv',
          framework: 'pytorch',
          input: [5, 5],
          kernel: 3,
          stride: 2,
          padding: 'same',
        }),
      ),
      /padding='same' is not supported with stride/,
    );
    assert.match(
      error(timelineFromPayload({ op: 'conv', framework: 'keras', input: 6, kernel: 3, padding: 1 })),
      /"valid" or "same" only/,
    );
    assert.match(
      error(
        timelineFromPayload({ op: 'conv', framework: 'pytorch', input: 6, kernel: 3, padding: [[1, 2]] }),
      ),
      /F\.pad/,
    );
    assert.match(
      error(timelineFromPayload({ op: 'conv', input: 2, kernel: 5 })),
      /padded input \(2 \+ 0 padding = 2\) is smaller than the kernel \(5\)/,
    );
  });

  it('caps a huge input to 64 cells a side and says so, with the real output size', () => {
    const t = timeline({ op: 'conv', input: [224, 224], kernel: 7, stride: 2, padding: 3 });
    assert.deepEqual(t.inputSize, [64, 64]);
    assert.deepEqual(t.outputSize, [32, 32]);
    assert.ok(
      t.notices.some((note) => /224×224 the output is 112×112/.test(note)),
      t.notices.join('\n'),
    );
  });

  it('shrinks the input until a transposed output fits, and drops values meant for the full input', () => {
    const values = { input: new Array(120).fill(1) };
    const t = timeline({ op: 'conv_transpose', input: [40, 3], kernel: 4, stride: 4, values });
    assert.deepEqual(t.inputSize, [16, 3]);
    assert.deepEqual(t.outputSize, [64, 12]);
    assert.ok(t.notices.some((note) => /output is 160×12/.test(note)));
    assert.equal(t.values, null);
    assert.ok(t.notices.some((note) => /values are not used/.test(note)));
    assert.match(
      error(timelineFromPayload({ op: 'conv', input: [224, 224], kernel: 3, values: { input: [1] } })),
      /inputs up to 64×64/,
    );
  });

  it('gives the formula panel the core formulas with the numbers', () => {
    const t = timeline({ op: 'conv', input: [5, 5], kernel: 3, stride: 2, padding: 1 });
    assert.equal(t.formulas[0]!.general, 'H_out = ⌊(H_in + 2·p − d·(k − 1) − 1)/s⌋ + 1');
    assert.equal(t.formulas[0]!.substituted, 'H_out = ⌊(H_in + 2·1 − 1·(3 − 1) − 1)/2⌋ + 1');
    assert.equal(t.formulas[0]!.simplified, 'H_out = ⌈H_in/2⌉');
    assert.equal(t.formulas[1]!.evaluated, 'W_out = 3 for W_in = 5');
  });
});

describe('animation timeline: values', () => {
  it('max and average pooling, with and without padding in the divisor', () => {
    const input = [1, 2, 3, 4, 5];
    const max = timeline({ op: 'max_pool', input: 5, kernel: 2, ceil_mode: true, values: { input } });
    assert.deepEqual(
      [0, 1, 2].map((o) => cellValue(max, [o])!.value),
      [2, 4, 5],
    );
    const avg = timeline({
      op: 'avg_pool',
      input: 5,
      kernel: 3,
      stride: 2,
      padding: 1,
      framework: 'pytorch',
      values: { input },
    });
    assert.deepEqual(
      [0, 1, 2].map((o) => cellValue(avg, [o])!.value),
      [1, 3, 3],
    );
    const exclusive = timeline({
      op: 'avg_pool',
      input: 5,
      kernel: 3,
      stride: 2,
      padding: 1,
      count_include_pad: false,
      framework: 'pytorch',
      values: { input },
    });
    assert.deepEqual(
      [0, 1, 2].map((o) => cellValue(exclusive, [o])!.value),
      [1.5, 3, 4.5],
    );
  });

  /** Runs a golden PyTorch numeric case through the timeline's connections, channel by channel. */
  function computeThroughTimeline(golden: Record<string, unknown>): { shape: number[]; y: number[] } {
    const xShape = golden['x_shape'] as number[];
    const wShape = golden['w_shape'] as number[];
    const x = golden['x'] as number[];
    const w = golden['w'] as number[];
    const b = golden['b'] as number[] | null;
    const groups = golden['groups'] as number;
    const transposed = String(golden['op']).startsWith('conv_transpose');
    const rank = xShape.length - 2;
    const [batch, cIn] = xShape as [number, number];
    const cOut = transposed ? wShape[1]! * groups : wShape[0]!;
    const t = timeline({
      op: transposed ? 'conv_transpose' : 'conv',
      input: xShape.slice(2),
      kernel: wShape.slice(2),
      stride: golden['stride'],
      padding: golden['padding'],
      dilation: golden['dilation'],
      output_padding: golden['output_padding'] ?? undefined,
      groups,
      channels: [cIn, cOut],
    });
    assert.deepEqual(t.inputSize, xShape.slice(2), 'not capped');
    const spatialIn = t.inputSize.reduce((a, c) => a * c, 1);
    const spatialOut = t.outputSize.reduce((a, c) => a * c, 1);
    const taps = wShape.slice(2).reduce((a, c) => a * c, 1);
    const inPerGroup = cIn / groups;
    const outPerGroup = cOut / groups;
    const y = new Array<number>(batch * cOut * spatialOut).fill(0);
    for (let f = 0; f < spatialOut; f++) {
      const frame = directFrame(t, f);
      for (let nb = 0; nb < batch; nb++)
        for (let co = 0; co < cOut; co++) {
          const g = Math.floor(co / outPerGroup);
          let sum = b ? b[co]! : 0;
          for (let local = 0; local < inPerGroup; local++) {
            const ci = g * inPerGroup + local;
            for (const tap of frame.taps) {
              if (tap.input === null) continue;
              const xi = (nb * cIn + ci) * spatialIn + flatten(tap.input, t.inputSize);
              const kw = flatten(tap.weight, wShape.slice(2));
              const wi = transposed
                ? (ci * outPerGroup + (co - g * outPerGroup)) * taps + kw
                : (co * inPerGroup + local) * taps + kw;
              sum += x[xi]! * w[wi]!;
            }
          }
          y[(nb * cOut + co) * spatialOut + f] = sum;
        }
    }
    assert.ok(rank === t.rank);
    return { shape: [batch, cOut, ...t.outputSize], y };
  }

  it('reproduces every 1-D and 2-D PyTorch numeric golden case through its frames', () => {
    const cases = loadCases('torch_numeric.json') as unknown as Array<Record<string, unknown>>;
    let checked = 0;
    for (const golden of cases) {
      const xShape = golden['x_shape'] as number[];
      if (xShape.length > 4) continue;
      const { shape, y } = computeThroughTimeline(golden);
      assert.deepEqual(shape, golden['y_shape'], JSON.stringify(golden).slice(0, 200));
      assert.deepEqual(y, golden['y'], JSON.stringify(golden).slice(0, 200));
      checked++;
    }
    assert.ok(checked > 200, `only ${checked} golden cases checked`);
  });

  it('single-channel values go through cellValue, the transposed conv with its stamps', () => {
    const t = timeline({
      op: 'conv_transpose',
      input: 2,
      kernel: 3,
      stride: 2,
      values: { input: [1, 10], kernel: [1, 2, 3] },
    });
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((o) => cellValue(t, [o])!.value),
      [1, 2, 3 + 10, 20, 30],
    );
    assert.equal(cellValue(t, [2])!.terms.length, 2);
  });

  it('unflatten and flatten are inverse, row-major', () => {
    for (let f = 0; f < 12; f++) assert.equal(flatten(unflatten(f, [3, 4]), [3, 4]), f);
    assert.deepEqual(unflatten(5, [3, 4]), [1, 1]);
  });
});
