/**
 * The CPU engine and the shape function it runs on: every numeric golden case from PyTorch exactly (bit for
 * bit), focused cases against a naive reference written straight from the definitions, slices for workers,
 * limits refused before allocation, and bad problems answered with a message, never a throw.
 */
import * as assert from 'node:assert/strict';
import {
  type CpuRunOptions,
  convolveCpu,
  createCpuEngine,
  runSlice,
  splitWork,
} from '../../src/core/engine/cpu';
import {
  type ConvProblemSpec,
  formatCount,
  problemFromGoldenCase,
  problemShape,
  validateProblem,
} from '../../src/core/engine/shape';
import type { ConvOp, ConvProblem } from '../../src/core/engine/types';
import { loadCases } from './oracle.helpers';

interface NumericCase {
  op: string;
  y_shape: number[];
  y: number[];
  [key: string]: unknown;
}

const numericCases = loadCases('torch_numeric.json') as unknown as NumericCase[];

/** Index of the first element that differs bit for bit (sign of zero included), or -1. */
function firstDifference(actual: Float32Array, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], Math.fround(expected[i]!))) return i;
  }
  return -1;
}

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function integers(count: number, next: () => number, range = 3): Float32Array {
  return Float32Array.from({ length: count }, () => Math.floor(next() * (2 * range + 1)) - range);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface Settings {
  op: ConvOp;
  xShape: number[];
  /** Output channels (conv) or the channels the transposed conv produces. */
  outChannels: number;
  kernel: number[];
  stride?: number[];
  padBegin?: number[];
  padEnd?: number[];
  dilation?: number[];
  groups?: number;
  outputPadding?: number[];
  bias?: boolean;
}

function makeProblem(settings: Settings, seed = 1): ConvProblem {
  const next = random(seed);
  const rank = settings.xShape.length - 2;
  const groups = settings.groups ?? 1;
  const inChannels = settings.xShape[1]!;
  const wShape =
    settings.op === 'conv'
      ? [settings.outChannels, inChannels / groups, ...settings.kernel]
      : [inChannels, settings.outChannels / groups, ...settings.kernel];
  const ones = new Array<number>(rank).fill(1);
  const zeros = new Array<number>(rank).fill(0);
  return {
    op: settings.op,
    xShape: settings.xShape,
    x: integers(size(settings.xShape), next),
    wShape,
    w: integers(size(wShape), next),
    b: settings.bias ? integers(settings.outChannels, next, 5) : null,
    stride: settings.stride ?? ones,
    padBegin: settings.padBegin ?? zeros,
    padEnd: settings.padEnd ?? settings.padBegin ?? zeros,
    dilation: settings.dilation ?? ones,
    groups,
    outputPadding: settings.op === 'conv' ? [] : (settings.outputPadding ?? zeros),
  };
}

/**
 * The definitions, as plainly as possible. Conv: y[o] = Σ x[o·s − padBegin + k·d]·w[k]. Transposed conv
 * (scatter form, independent of the engine's phase decomposition): x[i]·w[k] lands on o = i·s − padBegin + k·d.
 * Shapes are padded to 3-D with leading ones; sums in float64, rounded once.
 */
function reference(problem: ConvProblem, yShape: readonly number[]): Float32Array {
  const rank = problem.xShape.length - 2;
  const lift = (values: readonly number[], fill: number): number[] => [
    ...new Array<number>(3 - rank).fill(fill),
    ...values,
  ];
  const [inD, inH, inW] = lift(problem.xShape.slice(2), 1);
  const [outD, outH, outW] = lift(yShape.slice(2), 1);
  const [kD, kH, kW] = lift(problem.wShape.slice(2), 1);
  const [sD, sH, sW] = lift(problem.stride, 1);
  const [dD, dH, dW] = lift(problem.dilation, 1);
  const [pD, pH, pW] = lift(problem.padBegin, 0);
  const batch = problem.xShape[0]!;
  const inChannels = problem.xShape[1]!;
  const outChannels = yShape[1]!;
  const groups = problem.groups;
  const inPerGroup = inChannels / groups;
  const outPerGroup = outChannels / groups;
  const sums = new Float64Array(size(yShape));
  const xAt = (n: number, c: number, d: number, h: number, w: number) =>
    problem.x[(((n * inChannels + c) * inD! + d) * inH! + h) * inW! + w]!;
  const yIndex = (n: number, c: number, d: number, h: number, w: number) =>
    (((n * outChannels + c) * outD! + d) * outH! + h) * outW! + w;
  const add = (index: number, value: number) => {
    sums[index] = sums[index]! + value;
  };
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      for (let ci = 0; ci < inPerGroup; ci++) {
        for (let co = 0; co < outPerGroup; co++) {
          for (let a = 0; a < kD!; a++) {
            for (let b = 0; b < kH!; b++) {
              for (let c = 0; c < kW!; c++) {
                const weight =
                  problem.op === 'conv'
                    ? problem.w[
                        (((g * outPerGroup + co) * inPerGroup + ci) * kD! + a) * kH! * kW! + b * kW! + c
                      ]!
                    : problem.w[
                        (((g * inPerGroup + ci) * outPerGroup + co) * kD! + a) * kH! * kW! + b * kW! + c
                      ]!;
                if (problem.op === 'conv') {
                  for (let od = 0; od < outD!; od++) {
                    const id = od * sD! - pD! + a * dD!;
                    if (id < 0 || id >= inD!) continue;
                    for (let oh = 0; oh < outH!; oh++) {
                      const ih = oh * sH! - pH! + b * dH!;
                      if (ih < 0 || ih >= inH!) continue;
                      for (let ow = 0; ow < outW!; ow++) {
                        const iw = ow * sW! - pW! + c * dW!;
                        if (iw < 0 || iw >= inW!) continue;
                        add(
                          yIndex(n, g * outPerGroup + co, od, oh, ow),
                          weight * xAt(n, g * inPerGroup + ci, id, ih, iw),
                        );
                      }
                    }
                  }
                } else {
                  for (let id = 0; id < inD!; id++) {
                    const od = id * sD! - pD! + a * dD!;
                    if (od < 0 || od >= outD!) continue;
                    for (let ih = 0; ih < inH!; ih++) {
                      const oh = ih * sH! - pH! + b * dH!;
                      if (oh < 0 || oh >= outH!) continue;
                      for (let iw = 0; iw < inW!; iw++) {
                        const ow = iw * sW! - pW! + c * dW!;
                        if (ow < 0 || ow >= outW!) continue;
                        add(
                          yIndex(n, g * outPerGroup + co, od, oh, ow),
                          weight * xAt(n, g * inPerGroup + ci, id, ih, iw),
                        );
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  const plane = size(yShape.slice(2));
  const y = new Float32Array(sums.length);
  for (let i = 0; i < sums.length; i++) {
    const channel = Math.floor(i / plane) % outChannels;
    y[i] = sums[i]! + (problem.b ? problem.b[channel]! : 0);
  }
  return y;
}

/** Every kernel: WebAssembly SIMD (where the runtime has it) and plain JavaScript, in both precisions. */
const KERNELS: Array<{ name: string; options: CpuRunOptions }> = [
  { name: 'WebAssembly float32', options: { wasm: true, precision: 'float32' } },
  { name: 'JavaScript float32', options: { wasm: false, precision: 'float32' } },
  { name: 'WebAssembly float64', options: { wasm: true, precision: 'float64' } },
  { name: 'JavaScript float64', options: { wasm: false, precision: 'float64' } },
];

function checkAgainstReference(settings: Settings, seed = 1): void {
  const problem = makeProblem(settings, seed);
  for (const kernel of KERNELS) {
    const result = convolveCpu(problem, undefined, kernel.options);
    assert.ok(result.ok, result.ok ? '' : result.error);
    const expected = reference(problem, result.value.yShape);
    const at = firstDifference(result.value.y, expected);
    assert.equal(
      at,
      -1,
      `${kernel.name}, ${JSON.stringify(settings)}: y[${at}] = ${result.value.y[at]}, the definition gives ${expected[at]}`,
    );
  }
}

describe('CPU engine: the PyTorch numeric golden cases', function () {
  // Hundreds of problems, each checked against a naive loop: seconds on a busy machine.
  this.timeout(60_000);
  for (const kernel of KERNELS) {
    it(`computes every case of torch_numeric.json (${numericCases.length}) bit for bit (${kernel.name} GEMM)`, () => {
      const wrong: string[] = [];
      for (const [index, golden] of numericCases.entries()) {
        const problem = problemFromGoldenCase(golden);
        if (!problem.ok) {
          wrong.push(`#${index} ${golden.op}: refused: ${problem.error}`);
          continue;
        }
        const result = convolveCpu(problem.value, undefined, kernel.options);
        if (!result.ok) {
          wrong.push(`#${index} ${golden.op}: failed: ${result.error}`);
          continue;
        }
        if (JSON.stringify(result.value.yShape) !== JSON.stringify(golden.y_shape)) {
          wrong.push(`#${index} ${golden.op}: shape ${result.value.yShape} instead of ${golden.y_shape}`);
          continue;
        }
        const at = firstDifference(result.value.y, golden.y);
        if (at >= 0)
          wrong.push(`#${index} ${golden.op}: y[${at}] = ${result.value.y[at]}, PyTorch ${golden.y[at]}`);
      }
      assert.equal(numericCases.length, 427);
      assert.deepEqual(wrong, []);
    });
  }

  it('gives the output shape of every case from the core, as PyTorch did', () => {
    const wrong = numericCases.filter((golden) => {
      const problem = problemFromGoldenCase(golden);
      const shape = problem.ok ? problemShape(problem.value) : problem;
      return !shape.ok || JSON.stringify(shape.value) !== JSON.stringify(golden.y_shape);
    });
    assert.equal(wrong.length, 0, `first: ${JSON.stringify(wrong[0]?.op)}`);
  });

  it('agrees with the naive definition on the golden problems too', () => {
    for (const golden of numericCases.slice(0, 60)) {
      const problem = problemFromGoldenCase(golden);
      assert.ok(problem.ok);
      const shape = problemShape(problem.value);
      assert.ok(shape.ok);
      assert.equal(firstDifference(reference(problem.value, shape.value), golden.y), -1);
    }
  });
});

describe('CPU engine: focused cases against the definition', function () {
  // Hundreds of problems, each checked against a naive loop: seconds on a busy machine.
  this.timeout(60_000);
  it('conv 2-D with asymmetric padding (TensorFlow-style SAME with the extra pad at the end)', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [2, 3, 9, 8],
      outChannels: 5,
      kernel: [3, 4],
      stride: [2, 2],
      padBegin: [0, 1],
      padEnd: [1, 2],
      bias: true,
    });
  });

  it('conv 1-D with padding only at the start (causal)', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 4, 17],
      outChannels: 6,
      kernel: [5],
      padBegin: [4],
      padEnd: [0],
    });
  });

  it('depthwise 2-D, with a channel multiplier of 1 and of 2, stride and dilation', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 6, 13, 11],
      outChannels: 6,
      kernel: [3, 3],
      groups: 6,
      padBegin: [1, 1],
    });
    checkAgainstReference({
      op: 'conv',
      xShape: [2, 4, 12, 10],
      outChannels: 8,
      kernel: [3, 5],
      groups: 4,
      stride: [2, 1],
      dilation: [2, 1],
      padBegin: [2, 2],
      bias: true,
    });
  });

  it('depthwise with long kernels (taps taken four at a time, with remainders)', () => {
    for (const k of [1, 2, 4, 5, 7, 9]) {
      checkAgainstReference({
        op: 'conv',
        xShape: [1, 2, 23],
        outChannels: 2,
        kernel: [k],
        groups: 2,
        padBegin: [k - 1],
        padEnd: [1],
      });
    }
  });

  it('grouped conv with tiles that do not divide the channels or positions (GEMM edges)', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [3, 6, 7, 5],
      outChannels: 10,
      kernel: [2, 3],
      groups: 2,
      padBegin: [1, 0],
      bias: true,
    });
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 9, 11],
      outChannels: 13,
      kernel: [3],
      stride: [3],
      padBegin: [2],
      padEnd: [0],
    });
  });

  it('transposed 2-D with dilation, stride, groups, output_padding and bias', () => {
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [2, 6, 5, 4],
      outChannels: 9,
      kernel: [3, 2],
      stride: [3, 2],
      dilation: [2, 3],
      padBegin: [1, 2],
      groups: 3,
      outputPadding: [1, 2],
      bias: true,
    });
  });

  it('transposed convs whose phases receive no tap at all (stride and dilation share a factor)', () => {
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [1, 4, 6],
      outChannels: 8,
      kernel: [3],
      stride: [2],
      dilation: [2],
      bias: true,
      outputPadding: [1],
    });
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [1, 2, 4, 4],
      outChannels: 2,
      kernel: [2, 2],
      stride: [4, 4],
      groups: 2,
      outputPadding: [3, 2],
      bias: true,
    });
  });

  it('transposed with stride larger than the kernel, asymmetric crop, and a 1-D upsampler', () => {
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [1, 5, 7, 3],
      outChannels: 4,
      kernel: [2, 3],
      stride: [5, 4],
      padBegin: [0, 3],
      padEnd: [2, 0],
    });
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [2, 8, 9],
      outChannels: 4,
      kernel: [16],
      stride: [8],
      padBegin: [4],
      bias: true,
    });
  });

  it('3-D conv and transposed conv, with groups, strides, dilation and padding', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 4, 6, 7, 5],
      outChannels: 6,
      kernel: [3, 2, 3],
      stride: [2, 1, 2],
      dilation: [1, 2, 1],
      padBegin: [1, 1, 0],
      padEnd: [0, 1, 2],
      groups: 2,
      bias: true,
    });
    checkAgainstReference({
      op: 'conv_transpose',
      xShape: [2, 4, 3, 4, 3],
      outChannels: 6,
      kernel: [2, 3, 3],
      stride: [2, 2, 3],
      dilation: [1, 2, 1],
      padBegin: [0, 1, 1],
      padEnd: [1, 0, 1],
      groups: 2,
      outputPadding: [1, 0, 2],
      bias: true,
    });
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 2, 4, 5, 6],
      outChannels: 2,
      kernel: [3, 3, 3],
      groups: 2,
      padBegin: [1, 1, 1],
    });
  });

  it('random small problems of every kind', () => {
    const next = random(2024);
    const pick = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
    for (let trial = 0; trial < 150; trial++) {
      const op: ConvOp = next() < 0.5 ? 'conv' : 'conv_transpose';
      const rank = pick(1, 3);
      const groups = pick(1, 3);
      const inChannels = groups * pick(1, 3);
      const outChannels = groups * pick(1, next() < 0.3 ? 6 : 2);
      const spatial = Array.from({ length: rank }, () => pick(1, rank === 3 ? 5 : 9));
      const kernel = Array.from({ length: rank }, () => pick(1, 4));
      const stride = Array.from({ length: rank }, () => pick(1, 3));
      const dilation = Array.from({ length: rank }, () => pick(1, 2));
      const padBegin = Array.from({ length: rank }, () => pick(0, 2));
      const padEnd = Array.from({ length: rank }, () => pick(0, 2));
      const outputPadding = stride.map((s, i) => pick(0, Math.max(s, dilation[i]!) - 1));
      const settings: Settings = {
        op,
        xShape: [pick(1, 2), inChannels, ...spatial],
        outChannels,
        kernel,
        stride,
        dilation,
        padBegin,
        padEnd,
        groups,
        outputPadding,
        bias: next() < 0.5,
      };
      const problem = makeProblem(settings, trial);
      const shape = problemShape(problem);
      if (!shape.ok) continue; // A combination PyTorch refuses; refusals have their own tests.
      checkAgainstReference(settings, trial);
    }
  });

  it('returns an empty output where a transposed conv crops everything', () => {
    const problem = makeProblem({
      op: 'conv_transpose',
      xShape: [1, 2, 1],
      outChannels: 2,
      kernel: [2],
      padBegin: [1],
      padEnd: [1],
      groups: 2,
    });
    const result = convolveCpu(problem);
    assert.ok(result.ok, result.ok ? '' : result.error);
    assert.deepEqual(result.value.yShape, [1, 2, 0]);
    assert.equal(result.value.y.length, 0);
  });

  it('runs through the engine interface and says which engine ran (WebAssembly SIMD in Node)', async () => {
    const problem = makeProblem({ op: 'conv', xShape: [1, 2, 5, 5], outChannels: 4, kernel: [3, 3] });
    const result = await createCpuEngine().run(problem);
    assert.ok(result.ok);
    assert.equal(result.value.engine, 'CPU (WebAssembly SIMD, float32)');
    assert.ok(result.value.milliseconds >= 0);
    const plain = await createCpuEngine({ wasm: false }).run(problem);
    assert.ok(plain.ok);
    assert.equal(plain.value.engine, 'CPU (JavaScript, float64)');
    assert.equal(firstDifference(plain.value.y, result.value.y), -1);
  });

  it('grows the WebAssembly memory for large layers and keeps it usable afterwards', () => {
    checkAgainstReference({
      op: 'conv',
      xShape: [1, 64, 8, 8],
      outChannels: 256,
      kernel: [3, 3],
      padBegin: [1, 1],
      bias: true,
    });
    checkAgainstReference({ op: 'conv', xShape: [1, 3, 5, 5], outChannels: 5, kernel: [3, 3] });
  });

  const noisyProblems: Settings[] = [
    // GEMM: a transposed conv with many channels.
    {
      op: 'conv_transpose',
      xShape: [1, 24, 9, 7],
      outChannels: 20,
      kernel: [4, 3],
      stride: [2, 2],
      padBegin: [1, 1],
      bias: true,
    },
    // Direct loops: depthwise with stride 1 (four lanes) and stride 2 (one at a time), a depthwise
    // transposed conv (strided output rows), and three output channels over many input channels.
    {
      op: 'conv',
      xShape: [2, 3, 11, 13],
      outChannels: 3,
      kernel: [3, 3],
      groups: 3,
      padBegin: [1, 1],
      bias: true,
    },
    {
      op: 'conv',
      xShape: [1, 2, 12, 15],
      outChannels: 4,
      kernel: [3, 5],
      stride: [2, 2],
      groups: 2,
      padBegin: [1, 2],
    },
    {
      op: 'conv_transpose',
      xShape: [1, 2, 6, 7],
      outChannels: 2,
      kernel: [4, 4],
      stride: [2, 2],
      padBegin: [1, 1],
      groups: 2,
      bias: true,
    },
    { op: 'conv', xShape: [1, 40, 7, 9], outChannels: 3, kernel: [3, 3], dilation: [2, 1], padBegin: [2, 1] },
  ];
  for (const precision of ['float32', 'float64'] as const) {
    it(`is bit-for-bit the same with either ${precision} kernel on non-integer data (GEMM and direct)`, () => {
      for (const [index, settings] of noisyProblems.entries()) {
        const problem = makeProblem(settings);
        const next = random(7 + index);
        const noisy = {
          ...problem,
          x: problem.x.map(() => next() - 0.5),
          w: problem.w.map(() => next() * 0.1),
        };
        const fast = convolveCpu(noisy, undefined, { wasm: true, precision });
        const plain = convolveCpu(noisy, undefined, { wasm: false, precision });
        assert.ok(fast.ok && plain.ok);
        assert.equal(firstDifference(fast.value.y, plain.value.y), -1, JSON.stringify(settings));
        // Both precisions are close to each other; float64 is the more accurate one.
        const other = convolveCpu(noisy, undefined, {
          precision: precision === 'float32' ? 'float64' : 'float32',
        });
        assert.ok(other.ok);
        const worst = fast.value.y.reduce((m, v, i) => Math.max(m, Math.abs(v - other.value.y[i]!)), 0);
        assert.ok(worst < 1e-5, `${precision} vs the other precision: ${worst}`);
      }
    });
  }
});

describe('CPU engine: slices for workers', () => {
  for (const settings of [
    {
      op: 'conv',
      xShape: [1, 4, 9, 9],
      outChannels: 22,
      kernel: [3, 3],
      groups: 2,
      padBegin: [1, 1],
      bias: true,
    },
    {
      op: 'conv_transpose',
      xShape: [5, 4, 6],
      outChannels: 6,
      kernel: [4],
      stride: [2],
      padBegin: [1],
      bias: true,
    },
    { op: 'conv', xShape: [1, 8, 6, 6], outChannels: 8, kernel: [3, 3], groups: 8 },
    { op: 'conv', xShape: [1, 4, 7, 6], outChannels: 6, kernel: [3, 3], groups: 2, padBegin: [1, 1] },
  ] as Settings[]) {
    it(`slices of ${settings.op} ${JSON.stringify(settings.xShape)} rebuild the whole output bit for bit`, () => {
      // Non-integer data: slices must take the same paths, in the same order, as the whole run.
      const integral = makeProblem(settings);
      const next = random(11);
      const problem = {
        ...integral,
        x: integral.x.map(() => next() - 0.5),
        w: integral.w.map(() => next() - 0.5),
      };
      const whole = convolveCpu(problem);
      assert.ok(whole.ok);
      const geometry = validateProblem(problem);
      assert.ok(geometry.ok);
      for (const parts of [1, 2, 3, 4, 7]) {
        const slices = splitWork(geometry.value, parts);
        assert.ok(slices.length >= 1 && slices.length <= parts);
        const y = new Float32Array(whole.value.y.length).fill(Number.NaN);
        for (const slice of slices) runSlice(problem, geometry.value, slice, y);
        assert.equal(firstDifference(y, whole.value.y), -1, `${parts} parts`);
      }
    });
  }
});

describe('CPU engine: limits and bad problems', () => {
  const base: ConvProblemSpec = {
    op: 'conv',
    xShape: [1, 2, 8, 8],
    wShape: [4, 2, 3, 3],
    stride: [1, 1],
    padBegin: [1, 1],
    padEnd: [1, 1],
    dilation: [1, 1],
    groups: 1,
    outputPadding: [],
  };

  function refused(spec: unknown, pattern: RegExp): void {
    const outcome = validateProblem(spec as ConvProblemSpec);
    assert.equal(outcome.ok, false, `accepted ${JSON.stringify(spec)}`);
    if (!outcome.ok) assert.match(outcome.error, pattern);
    const run = convolveCpu(spec as ConvProblem);
    assert.equal(run.ok, false);
  }

  it('formats large counts the way the messages write them', () => {
    assert.equal(formatCount(31e9), '3.1e10');
    assert.equal(formatCount(20e9), '2e10');
    assert.equal(formatCount(12345), '12345');
  });

  it('refuses too many multiply-accumulates from the shapes alone, before anything is allocated', () => {
    // 1.5e11 MACs; the tensors are never allocated (the spec carries no data).
    const spec: ConvProblemSpec = { ...base, xShape: [1, 512, 256, 256], wShape: [512, 512, 3, 3] };
    const outcome = validateProblem(spec);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.match(outcome.error, /needs 1\.5e11 multiply-accumulates; the limit is 2e10/);
      assert.match(outcome.error, /convLens\.engine\.maxMacs/);
    }
    const lower = validateProblem(base, { maxElements: 1e9, maxMacs: 1000 });
    assert.equal(lower.ok, false);
  });

  it('refuses tensors past the element limit before reading or allocating them', () => {
    // Far too large to allocate: the refusal must come from the shapes.
    const huge = { ...base, xShape: [1, 2, 65536, 65536], x: new Float32Array(4), w: new Float32Array(72) };
    refused(huge, /input \(1, 2, 65536, 65536\) has 8\.6e9 elements; the limit is 6\.7e7.*maxElements/);
    const golden = problemFromGoldenCase({
      op: 'conv2d',
      x_shape: [1, 2, 65536, 65536],
      x: [1, 2, 3],
      w_shape: [4, 2, 3, 3],
      w: [],
      stride: [1, 1],
      padding: [1, 1],
    });
    assert.equal(golden.ok, false);
    if (!golden.ok) assert.match(golden.error, /limit/);
    const output = problemFromGoldenCase(
      {
        op: 'conv_transpose1d',
        x_shape: [1, 1, 4],
        x: [1, 2, 3, 4],
        w_shape: [1, 1, 3],
        w: [1, 1, 1],
        stride: [100],
      },
      { maxElements: 100, maxMacs: 1e9 },
    );
    assert.equal(output.ok, false);
    if (!output.ok) assert.match(output.error, /output \(1, 1, 303\) has 303 elements; the limit is 100/);
  });

  it('refuses data whose length does not match its shape', () => {
    refused(
      { ...base, x: new Float32Array(127), w: new Float32Array(72) },
      /x has 127 values, but the input shape \(1, 2, 8, 8\) needs 128/,
    );
    refused({ ...base, x: new Float32Array(128), w: new Float32Array(71) }, /w has 71 values/);
    refused(
      { ...base, x: new Float32Array(128), w: new Float32Array(72), b: new Float32Array(3) },
      /b has 3 values.*needs 4/,
    );
    refused({ ...base, x: [1, 2, 3], w: new Float32Array(72) }, /x must be a Float32Array/);
  });

  it('refuses NaN, negative, fractional and missing sizes and settings with a clear message', () => {
    refused({ ...base, xShape: [1, 2, Number.NaN, 8] }, /input shape .* non-negative integers/);
    refused({ ...base, xShape: [1, 2, -8, 8] }, /input shape .* non-negative integers/);
    refused({ ...base, xShape: [1, 2, 8.5, 8] }, /non-negative integers/);
    refused({ ...base, xShape: [8, 8] }, /\[N, C, \.\.\.spatial\]/);
    refused({ ...base, xShape: 'big' }, /\[N, C, \.\.\.spatial\]/);
    refused({ ...base, wShape: [4, 2, 3] }, /weight shape must be 4 positive integers/);
    refused({ ...base, wShape: [4, 2, 0, 3] }, /weight shape must be 4 positive integers/);
    refused({ ...base, stride: [0, 1] }, /stride must be at least 1/);
    refused({ ...base, stride: [1] }, /stride must be a list of 2 integers/);
    refused({ ...base, padBegin: [-1, 0] }, /padding \(begin\) must be non-negative/);
    refused({ ...base, dilation: [1, 1.5] }, /dilation must be an integer/);
    refused({ ...base, groups: 0 }, /groups must be a positive integer/);
    refused({ ...base, groups: Number.NaN }, /groups must be a positive integer/);
    refused({ ...base, op: 'deconv' }, /'conv' or 'conv_transpose'/);
    refused(null, /must be an object/);
  });

  it('refuses channel and group mismatches the way PyTorch does, in words', () => {
    refused({ ...base, xShape: [1, 3, 8, 8] }, /expects 2 input channels .* but the input has 3 channels/);
    refused(
      { ...base, groups: 2, wShape: [3, 1, 3, 3] },
      /out_channels \(3\) must be divisible by groups \(2\)/,
    );
    refused(
      {
        ...base,
        op: 'conv_transpose',
        wShape: [3, 2, 3, 3],
        xShape: [1, 3, 8, 8],
        groups: 2,
        outputPadding: [0, 0],
      },
      /in_channels \(3\) must be divisible by groups \(2\)/,
    );
  });

  it('refuses impossible sizes: kernel past the padded input, negative transposed output, output_padding', () => {
    refused(
      { ...base, xShape: [1, 2, 1, 8], padBegin: [0, 1], padEnd: [1, 1], wShape: [4, 2, 3, 3] },
      /along H the padded input \(1 \+ 0 \+ 1 padding = 2\) is smaller than the kernel \(3\)/,
    );
    refused({ ...base, xShape: [1, 2, 1, 8], padBegin: [0, 1], padEnd: [0, 1] }, /padded input/);
    refused(
      {
        ...base,
        op: 'conv_transpose',
        wShape: [2, 4, 3, 3],
        xShape: [1, 2, 2, 2],
        padBegin: [5, 0],
        padEnd: [0, 0],
        outputPadding: [0, 0],
      },
      /negative size -1 along H.*crop at most 4 in total/,
    );
    refused(
      { ...base, op: 'conv_transpose', wShape: [2, 4, 3, 3], stride: [2, 2], outputPadding: [2, 0] },
      /output_padding must be smaller than stride or dilation/,
    );
    refused({ ...base, outputPadding: [1, 0] }, /only applies to transposed convs/);
  });

  it('reads golden-format records defensively', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /JSON object/],
      [[1, 2], /JSON object/],
      [{ op: 'conv9d' }, /"op" must be one of/],
      [{ op: 'conv2d', x_shape: [1, 1, 2] }, /"x_shape" must be 4 sizes/],
      [
        { op: 'conv1d', x_shape: [1, 1, 3], x: [1, 2, 'a'], w_shape: [1, 1, 1], w: [1] },
        /"x"\[2\] must be a finite number/,
      ],
      [
        { op: 'conv1d', x_shape: [1, 1, 3], x: [1, 2, 3], w_shape: [1, 1, 1], w: [1], padding: [-1] },
        /non-negative/,
      ],
      [
        { op: 'conv1d', x_shape: [1, 1, 3], x: [1, 2, 3], w_shape: [1, 1, 1], w: [1], stride: 'two' },
        /"stride" must be an integer or a list/,
      ],
      [
        { op: 'conv1d', x_shape: [1, 1, 3], x: [1, 2, 3], w_shape: [1, 1, 1], w: [1], b: [1, 2] },
        /"b" has 2 values/,
      ],
      [
        { op: 'conv1d', x_shape: [1, 1, 3], x: [1, 2, 3], w_shape: [1, 1, 1], w: [1], output_padding: [1] },
        /only applies to transposed convs/,
      ],
    ];
    for (const [record, pattern] of bad) {
      const outcome = problemFromGoldenCase(record);
      assert.equal(outcome.ok, false, JSON.stringify(record));
      if (!outcome.ok) assert.match(outcome.error, pattern);
    }
  });

  it('accepts [begin, end] padding pairs in golden-format records', () => {
    const problem = problemFromGoldenCase({
      op: 'conv1d',
      x_shape: [1, 1, 4],
      x: [1, 2, 3, 4],
      w_shape: [1, 1, 2],
      w: [1, 10],
      padding: [[1, 0]],
    });
    assert.ok(problem.ok, problem.ok ? '' : problem.error);
    const result = convolveCpu(problem.value);
    assert.ok(result.ok);
    assert.deepEqual(Array.from(result.value.y), [10, 21, 32, 43]);
  });
});
