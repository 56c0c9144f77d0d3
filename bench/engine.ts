/**
 * The compute engine benchmark (`npm run bench`): the project's CPU engine against tfjs-backend-cpu,
 * tfjs-backend-wasm and onnxruntime-web (WASM, 1 and 2 threads) on the four fixed workloads of the engine
 * issue, in one process, on the same inputs, with every output checked. Prints a Markdown table of medians
 * (ms and GFLOP/s) and the ratios ours/theirs, and writes bench/results/engine.json.
 *
 * Every timed run includes copying the input and the weight in and reading the output out: each library gets
 * Float32Arrays in its own native layout (prepared once, outside the timing) and gives a Float32Array back.
 * The weight is an input of every run for every library (our engine takes it with each problem), so no
 * library may pre-pack it at load time.
 *
 * Options: --quick (fewer, shorter runs), --runs N (most timed runs per cell), --budget S (seconds of timed
 * runs per cell, all passes together), --passes N (blocks of runs per library, in alternating order),
 * --only W1,W3 (workloads), --skip tfjs-cpu,ort-2 (libraries), --naive (add a naive JS loop), --webgpu (add
 * the WebGPU engine when a hardware GPU adapter exists), --webgpu-software (measure a software adapter too).
 * Run through `npm run bench -- <options>`; the script passes --expose-gc so that a full collection can run
 * between libraries.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as OrtModule from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNodeGpu } from '../src/cli/webgpuNode';
import { createCpuEngine } from '../src/core/engine/cpu';
import { problemGeometry, type ConvGeometry } from '../src/core/engine/shape';
import type { ConvEngine, ConvProblem } from '../src/core/engine/types';
import { createWebGpuEngine } from '../src/core/engine/webgpu';
import { convModel } from './onnx';

// ---------------------------------------------------------------------------------------------------------
// Workloads and data.

interface Workload {
  readonly id: string;
  readonly title: string;
  readonly problem: ConvProblem;
  readonly geometry: ConvGeometry;
  /** Sum of PyTorch's output for this data (exact: every value is a multiple of 1/128). */
  readonly expectedSum: number;
}

/** x[i] = ((i·7919) mod 13 − 6)/8: small multiples of 1/8, exact in float32. */
function inputData(length: number): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = (((i * 7919) % 13) - 6) / 8;
  return data;
}

/** w[i] = ((i·104729) mod 11 − 5)/16: small multiples of 1/16, exact in float32. */
function weightData(length: number): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = (((i * 104729) % 11) - 5) / 16;
  return data;
}

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function workload(
  id: string,
  title: string,
  op: ConvProblem['op'],
  xShape: number[],
  wShape: number[],
  settings: { stride: number; pad: number; groups?: number },
  expectedSum: number,
): Workload {
  const rank = xShape.length - 2;
  const fill = (value: number): number[] => new Array<number>(rank).fill(value);
  const problem: ConvProblem = {
    op,
    x: inputData(count(xShape)),
    xShape,
    w: weightData(count(wShape)),
    wShape,
    b: null,
    stride: fill(settings.stride),
    padBegin: fill(settings.pad),
    padEnd: fill(settings.pad),
    dilation: fill(1),
    groups: settings.groups ?? 1,
    outputPadding: op === 'conv' ? [] : fill(0),
  };
  const geometry = problemGeometry(problem);
  if (!geometry.ok) throw new Error(`${id}: ${geometry.error}`);
  return { id, title, problem, geometry: geometry.value, expectedSum };
}

function allWorkloads(): Workload[] {
  return [
    workload(
      'W1',
      'conv 3×3 64→64, 128×128',
      'conv',
      [1, 64, 128, 128],
      [64, 64, 3, 3],
      { stride: 1, pad: 1 },
      3.046875,
    ),
    workload(
      'W2',
      'transposed k4 s2 p1 256→128, 32×32',
      'conv_transpose',
      [1, 256, 32, 32],
      [256, 128, 4, 4],
      { stride: 2, pad: 1 },
      -20.453125,
    ),
    workload(
      'W3',
      'depthwise 3×3, 32 ch, 256×256',
      'conv',
      [1, 32, 256, 256],
      [32, 1, 3, 3],
      { stride: 1, pad: 1, groups: 32 },
      1.265625,
    ),
    workload(
      'W4',
      'transposed 1-D k16 s8 p4 512→256, length 1024',
      'conv_transpose',
      [1, 512, 1024],
      [512, 256, 16],
      { stride: 8, pad: 4 },
      5.8671875,
    ),
  ];
}

/** Reorders a row-major array: output axis i is input axis perm[i]. */
function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((axis) => shape[axis]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const stridesByOut = perm.map((axis) => inStrides[axis]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += stridesByOut[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= stridesByOut[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Libraries. Each prepares a workload once (layouts, sessions) and then runs it; `run` is what is timed.

interface Prepared {
  /** Untimed set-up before each run (tfjs: switch to this library's backend; both share one tfjs-core). */
  before?(): Promise<void>;
  /** One complete run: copy in, compute, read out. */
  run(): Promise<Float32Array>;
  /** The output of `run` in PyTorch's layout [N, C_out, ...spatial] (outside the timing). */
  toTorch(output: Float32Array): Float32Array;
  dispose(): void;
}

interface Library {
  readonly id: string;
  /** Column title, with the version and thread count. */
  label: string;
  /** Whether the goals of the issue compare against it as a WASM library. */
  readonly wasm: boolean;
  prepare(work: Workload): Promise<Prepared>;
}

const identity = (output: Float32Array): Float32Array => output;

function engineLibrary(id: string, label: string, engine: ConvEngine): Library {
  const library: Library = {
    id,
    label,
    wasm: false,
    prepare: async (work) => ({
      run: async () => {
        const result = await engine.run(work.problem);
        if (!result.ok) throw new Error(`${label} refused ${work.id}: ${result.error}`);
        library.label = `${label} (reports "${result.value.engine}")`;
        return result.value.y;
      },
      toTorch: identity,
      dispose: () => undefined,
    }),
  };
  return library;
}

/**
 * tfjs works in NHWC with HWIO filters; a 1-D problem runs as a 2-D one of height 1 (tfjs has no 1-D
 * transposed conv). The layouts are converted once, outside the timing.
 */
function tfjsLibrary(id: string, backend: 'cpu' | 'wasm', label: string): Library {
  return {
    id,
    label,
    wasm: backend === 'wasm',
    prepare: async (work) => {
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not start its ${backend} backend.`);
      const g = work.geometry;
      const p = work.problem;
      if (g.rank > 2) throw new Error('The benchmark has no 3-D workloads.');
      const as2d = (spatial: readonly number[], fill = 1): [number, number] =>
        g.rank === 1 ? [fill, spatial[0]!] : [spatial[0]!, spatial[1]!];
      const [inH, inW] = as2d(g.inSpatial);
      const [outH, outW] = as2d(g.outSpatial);
      const [kH, kW] = as2d(g.kernel);
      const [sH, sW] = as2d(g.stride);
      const [pH, pW] = as2d(g.padBegin, 0);
      const xShape: [number, number, number, number] = [g.batch, inH, inW, g.inChannels];
      const x = permute(p.x, [g.batch, g.inChannels, inH, inW], [0, 2, 3, 1]);
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [
        [0, 0],
        [pH, pH],
        [pW, pW],
        [0, 0],
      ];
      const depthwise = g.op === 'conv' && g.groups === g.inChannels && g.groups === g.outChannels;
      if (g.groups !== 1 && !depthwise) throw new Error('tfjs has only plain and depthwise grouped convs.');
      let wShape: [number, number, number, number];
      let w: Float32Array;
      let compute: (xt: tf.Tensor4D, wt: tf.Tensor4D) => tf.Tensor4D;
      if (g.op === 'conv' && !depthwise) {
        // PyTorch [O, I, kH, kW] → HWIO.
        wShape = [kH, kW, g.inChannels, g.outChannels];
        w = permute(p.w, [g.outChannels, g.inChannels, kH, kW], [2, 3, 1, 0]);
        compute = (xt, wt) => tf.conv2d(xt, wt, [sH, sW], pad);
      } else if (depthwise) {
        // PyTorch [C, 1, kH, kW] → [kH, kW, C, 1].
        wShape = [kH, kW, g.inChannels, 1];
        w = permute(p.w, [g.inChannels, 1, kH, kW], [2, 3, 0, 1]);
        compute = (xt, wt) => tf.depthwiseConv2d(xt, wt, [sH, sW], pad);
      } else {
        // PyTorch [I, O, kH, kW] → [kH, kW, O, I], the filter of the conv whose gradient this is.
        wShape = [kH, kW, g.outChannels, g.inChannels];
        w = permute(p.w, [g.inChannels, g.outChannels, kH, kW], [2, 3, 1, 0]);
        const outShape: [number, number, number, number] = [g.batch, outH, outW, g.outChannels];
        compute = (xt, wt) => tf.conv2dTranspose(xt, wt, outShape, [sH, sW], pad);
      }
      return {
        before: async () => {
          if (tf.getBackend() !== backend) await tf.setBackend(backend);
        },
        run: async () => {
          const xt = tf.tensor4d(x, xShape);
          const wt = tf.tensor4d(w, wShape);
          const yt = compute(xt, wt);
          const y = yt.dataSync() as Float32Array;
          tf.dispose([xt, wt, yt]);
          return y;
        },
        toTorch: (y) => permute(y, [g.batch, outH, outW, g.outChannels], [0, 3, 1, 2]),
        dispose: () => undefined,
      };
    },
  };
}

type Ort = typeof OrtModule;

/**
 * A separate onnxruntime-web instance: its thread count is fixed when its WASM module starts, so 1 and 2
 * threads need two instances. Dropping the packages from Node's module cache before loading gives a new one.
 */
function loadOrt(threads: number): Ort {
  const load = createRequire(__filename);
  for (const key of Object.keys(load.cache)) {
    if (/[\\/]node_modules[\\/]onnxruntime-(web|common)[\\/]/.test(key)) delete load.cache[key];
  }
  const ort = load('onnxruntime-web') as Ort;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
  return ort;
}

function ortLibrary(id: string, threads: number): Library {
  let ort: Ort | undefined;
  const library: Library = {
    id,
    label: `onnxruntime-web, ${threads} thread${threads === 1 ? '' : 's'}`,
    wasm: true,
    prepare: async (work) => {
      ort ??= loadOrt(threads);
      const g = work.geometry;
      const p = work.problem;
      const model = convModel({
        op: g.op === 'conv' ? 'Conv' : 'ConvTranspose',
        xShape: p.xShape,
        wShape: p.wShape,
        yShape: g.yShape,
        strides: g.stride,
        pads: [...g.padBegin, ...g.padEnd],
        dilations: g.dilation,
        group: g.groups,
      });
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      if (ort.env.wasm.numThreads !== threads) {
        throw new Error(`onnxruntime-web runs ${ort.env.wasm.numThreads} threads here, not ${threads}.`);
      }
      library.label = `onnxruntime-web ${ort.env.versions.web}, ${threads} thread${threads === 1 ? '' : 's'}`;
      const Tensor = ort.Tensor;
      return {
        run: async () => {
          const feeds = {
            X: new Tensor('float32', p.x, p.xShape),
            W: new Tensor('float32', p.w, p.wShape),
          };
          const results = await session.run(feeds);
          return results['Y']!.data as Float32Array;
        },
        toTorch: identity,
        dispose: () => void session.release(),
      };
    },
  };
  return library;
}

// ---------------------------------------------------------------------------------------------------------
// A naive reference (direct loops, one output at a time): a correctness anchor and a floor for speed.

function naiveEngine(): ConvEngine {
  return {
    name: 'naive JS',
    run: async (problem) => {
      const start = performance.now();
      const geometry = problemGeometry(problem);
      if (!geometry.ok) return geometry;
      const g = geometry.value;
      const y = naiveConv(problem, g);
      return {
        ok: true as const,
        value: { y, yShape: g.yShape, engine: 'naive JS loops', milliseconds: performance.now() - start },
      };
    },
  };
}

/** Direct loops over [D, H, W] (missing leading dimensions are 1). Transposed convs scatter. */
function naiveConv(p: ConvProblem, g: ConvGeometry): Float32Array {
  const pad3 = (values: readonly number[], fill: number): number[] => [
    ...new Array<number>(3 - values.length).fill(fill),
    ...values,
  ];
  const [inD, inH, inW] = pad3(g.inSpatial, 1) as [number, number, number];
  const [outD, outH, outW] = pad3(g.outSpatial, 1) as [number, number, number];
  const [kD, kH, kW] = pad3(g.kernel, 1) as [number, number, number];
  const [sD, sH, sW] = pad3(g.stride, 1) as [number, number, number];
  const [dD, dH, dW] = pad3(g.dilation, 1) as [number, number, number];
  const [pD, pH, pW] = pad3(g.padBegin, 0) as [number, number, number];
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const inSize = inD * inH * inW;
  const outSize = outD * outH * outW;
  const taps = kD * kH * kW;
  const y = new Float32Array(g.batch * g.outChannels * outSize);
  const acc = new Float64Array(outSize);
  for (let n = 0; n < g.batch; n++) {
    for (let oc = 0; oc < g.outChannels; oc++) {
      const group = Math.floor(oc / coutG);
      acc.fill(0);
      for (let icg = 0; icg < cinG; icg++) {
        const ic = group * cinG + icg;
        const xBase = (n * g.inChannels + ic) * inSize;
        const wBase = g.op === 'conv' ? (oc * cinG + icg) * taps : (ic * coutG + (oc - group * coutG)) * taps;
        for (let a = 0; a < kD; a++) {
          for (let b = 0; b < kH; b++) {
            for (let c = 0; c < kW; c++) {
              const wv = p.w[wBase + (a * kH + b) * kW + c]!;
              if (wv === 0) continue;
              if (g.op === 'conv') {
                for (let od = 0; od < outD; od++) {
                  const id = od * sD - pD + a * dD;
                  if (id < 0 || id >= inD) continue;
                  for (let oh = 0; oh < outH; oh++) {
                    const ih = oh * sH - pH + b * dH;
                    if (ih < 0 || ih >= inH) continue;
                    for (let ow = 0; ow < outW; ow++) {
                      const iw = ow * sW - pW + c * dW;
                      if (iw < 0 || iw >= inW) continue;
                      acc[(od * outH + oh) * outW + ow]! += wv * p.x[xBase + (id * inH + ih) * inW + iw]!;
                    }
                  }
                }
              } else {
                for (let id = 0; id < inD; id++) {
                  const od = id * sD - pD + a * dD;
                  if (od < 0 || od >= outD) continue;
                  for (let ih = 0; ih < inH; ih++) {
                    const oh = ih * sH - pH + b * dH;
                    if (oh < 0 || oh >= outH) continue;
                    for (let iw = 0; iw < inW; iw++) {
                      const ow = iw * sW - pW + c * dW;
                      if (ow < 0 || ow >= outW) continue;
                      acc[(od * outH + oh) * outW + ow]! += wv * p.x[xBase + (id * inH + ih) * inW + iw]!;
                    }
                  }
                }
              }
            }
          }
        }
      }
      y.set(acc, (n * g.outChannels + oc) * outSize);
    }
  }
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// Measuring.

interface Options {
  readonly minRuns: number;
  readonly maxRuns: number;
  /** Seconds of timed runs per library and workload, after which no further run starts (once minRuns ran). */
  readonly budgetS: number;
  /** Warm-up: at least one run, then more until warmupRuns ran or warmupS passed. */
  readonly warmupRuns: number;
  readonly warmupS: number;
  /** Blocks of runs per library, in alternating order. */
  readonly passes: number;
  readonly only: ReadonlySet<string> | null;
  readonly skip: ReadonlySet<string>;
  readonly naive: boolean;
  readonly webgpu: boolean;
  readonly webgpuSoftware: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const list = (flag: string): Set<string> | null => {
    const text = value(flag);
    return text === undefined ? null : new Set(text.split(',').map((item) => item.trim()));
  };
  const quick = argv.includes('--quick');
  const options: Options = {
    minRuns: quick ? 2 : 3,
    maxRuns: Number(value('--runs') ?? (quick ? 5 : 15)),
    budgetS: Number(value('--budget') ?? (quick ? 1 : 3)),
    warmupRuns: quick ? 1 : 2,
    warmupS: quick ? 0.5 : 1,
    passes: Number(value('--passes') ?? 2),
    only: list('--only'),
    skip: list('--skip') ?? new Set(),
    naive: argv.includes('--naive'),
    webgpu: argv.includes('--webgpu') || argv.includes('--webgpu-software'),
    webgpuSoftware: argv.includes('--webgpu-software'),
  };
  if (!(options.maxRuns >= 1) || !(options.budgetS > 0) || !(options.passes >= 1)) {
    throw new Error('--runs, --budget and --passes must be positive.');
  }
  return options;
}

interface Cell {
  readonly library: Library;
  readonly prepared: Prepared;
  readonly samples: number[];
  /** CPU time other processes used while this library's timed runs ran, and the wall time of those runs. */
  othersMs: number;
  wallMs: number;
  /** Output checks: the sum of every run and, once, every element against the reference. */
  sumOk: boolean;
  sums: Set<number>;
  elementsChecked: boolean;
  mismatches: number;
  maxAbsDiff: number;
}

interface CellResult {
  readonly library: string;
  /** The library whose output this one's was compared with, element by element ('' for the reference). */
  readonly comparedWith: string;
  readonly label: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly gflops: number;
  readonly sums: number[];
  readonly sumOk: boolean;
  readonly mismatches: number;
  readonly maxAbsDiff: number;
  /** Cores other processes kept busy, on average, during the timed runs (0 on an idle machine; a lower bound). */
  readonly otherCores: number;
  readonly error?: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sumOf(data: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum;
}

/** Per pass: the budget is for all passes together. */
const budgetMs = (options: Options): number => (options.budgetS * 1000) / options.passes;

/** A full collection between libraries (with node --expose-gc), so that no one pays for another's garbage. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The output every other library's first output is compared with, element by element. */
interface Reference {
  y: Float32Array | null;
  library: string;
}

/**
 * Checks one output: its sum must be PyTorch's exactly, and (the first time) every element must equal the
 * reference's. With this data every product is a multiple of 1/128 and every partial sum stays far below
 * 2^24 of those units, so any summation order is exact: the tolerance is zero for every library.
 */
function check(cell: Cell, work: Workload, output: Float32Array, reference: Reference): void {
  const y = cell.prepared.toTorch(output);
  const sum = sumOf(y);
  cell.sums.add(sum);
  if (sum !== work.expectedSum || y.length !== count(work.geometry.yShape)) cell.sumOk = false;
  if (cell.elementsChecked) return;
  cell.elementsChecked = true;
  if (reference.y === null) {
    reference.y = y;
    reference.library = cell.library.id;
    return;
  }
  for (let i = 0; i < y.length; i++) {
    const diff = Math.abs(y[i]! - reference.y[i]!);
    if (diff !== 0 || Number.isNaN(diff)) {
      cell.mismatches++;
      if (!(diff <= cell.maxAbsDiff)) cell.maxAbsDiff = diff;
    }
  }
}

async function measure(
  work: Workload,
  libraries: readonly Library[],
  options: Options,
): Promise<CellResult[]> {
  const reference: Reference = { y: null, library: '' };
  const cells: Cell[] = [];
  const failed: CellResult[] = [];
  const failure = (library: Library, error: unknown): CellResult => ({
    library: library.id,
    comparedWith: '',
    label: library.label,
    runs: 0,
    medianMs: NaN,
    minMs: NaN,
    maxMs: NaN,
    gflops: NaN,
    sums: [],
    sumOk: false,
    mismatches: 0,
    maxAbsDiff: 0,
    otherCores: NaN,
    error: error instanceof Error ? error.message : String(error),
  });
  // Prepare every library (layouts, sessions) once; the first output of the first library is the reference.
  for (const library of libraries) {
    try {
      const prepared = await library.prepare(work);
      cells.push({
        library,
        prepared,
        samples: [],
        othersMs: 0,
        wallMs: 0,
        sumOk: true,
        sums: new Set(),
        elementsChecked: false,
        mismatches: 0,
        maxAbsDiff: 0,
      });
    } catch (error) {
      failed.push(failure(library, error));
    }
  }
  // Each library runs in a block of consecutive runs (warm-up, then timed), as in steady use: interleaving
  // single runs of different libraries evicts each one's data and code from the caches and roughly doubled
  // everyone's times here. To spread slow drifts of the machine evenly, the blocks come in passes, forward
  // then backward (A B C, C B A), each with its share of the runs and of the time budget.
  const errors = new Map<Cell, unknown>();
  const perPass = (total: number): number => Math.max(1, Math.ceil(total / options.passes));
  for (let pass = 0; pass < options.passes; pass++) {
    const order = pass % 2 === 0 ? cells : [...cells].reverse();
    for (const cell of order) {
      if (errors.has(cell)) continue;
      try {
        collectGarbage();
        const warmStart = performance.now();
        const warmups = pass === 0 ? options.warmupRuns : 1;
        for (let i = 0; i < warmups; i++) {
          await cell.prepared.before?.();
          check(cell, work, await cell.prepared.run(), reference);
          if (performance.now() - warmStart > options.warmupS * 1000) break;
        }
        let runs = 0;
        let spent = 0;
        const others = othersMeter();
        while (
          runs < perPass(options.maxRuns) &&
          !(runs >= perPass(options.minRuns) && spent >= budgetMs(options))
        ) {
          await cell.prepared.before?.();
          const start = performance.now();
          const output = await cell.prepared.run();
          const ms = performance.now() - start;
          cell.samples.push(ms);
          spent += ms;
          runs++;
          check(cell, work, output, reference);
        }
        const [othersMs, wallMs] = others();
        cell.othersMs += othersMs;
        cell.wallMs += wallMs;
      } catch (error) {
        errors.set(cell, error);
      }
    }
  }
  for (const cell of cells) cell.prepared.dispose();
  const flops = 2 * work.geometry.macs;
  const results = cells.map((cell): CellResult => {
    if (errors.has(cell)) return failure(cell.library, errors.get(cell));
    const ms = median(cell.samples);
    return {
      library: cell.library.id,
      comparedWith: reference.library === cell.library.id ? '' : reference.library,
      label: cell.library.label,
      runs: cell.samples.length,
      medianMs: ms,
      minMs: Math.min(...cell.samples),
      maxMs: Math.max(...cell.samples),
      gflops: flops / (ms * 1e6),
      sums: [...cell.sums],
      sumOk: cell.sumOk,
      mismatches: cell.mismatches,
      maxAbsDiff: cell.maxAbsDiff,
      // The machine's counters tick every 10 ms per core, so short blocks get a margin before they count.
      otherCores: Math.max(0, cell.othersMs - TICK_MARGIN_MS) / cell.wallMs,
    };
  });
  return [...results, ...failed];
}

// ---------------------------------------------------------------------------------------------------------
// WebGPU (optional).

/**
 * The WebGPU engine through Dawn (the `webgpu` package), or why it cannot run here. Software adapters
 * (SwiftShader, lavapipe, llvmpipe) check correctness but say nothing about GPU speed, so they are only
 * measured when asked for (--webgpu-software).
 */
async function webgpuLibrary(software: boolean): Promise<Library | string> {
  let reason = 'no WebGPU adapter was found.';
  const gpu = await loadNodeGpu((why) => (reason = why));
  if (!gpu) return reason;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'Dawn offered no adapter.';
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean)
    .join(' ');
  const softwareAdapter = info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(description);
  if (softwareAdapter && !software) {
    return `the only adapter is software (${description}); pass --webgpu-software to measure it anyway.`;
  }
  try {
    const engine = await createWebGpuEngine(gpu);
    return engineLibrary('webgpu', `Conv Lens WebGPU on ${engine.adapterDescription || description}`, engine);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report.

const formatMs = (ms: number): string =>
  !Number.isFinite(ms) ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
const formatRate = (gflops: number): string =>
  !Number.isFinite(gflops) ? '—' : gflops >= 10 ? gflops.toFixed(1) : gflops.toFixed(2);
const formatRatio = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}` : '—');

/** Milliseconds all cores together spent not idle since boot (os.cpus() counts per core, in 10 ms ticks). */
function machineBusyMs(): number {
  return os
    .cpus()
    .reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

/** Starts measuring; the function it returns gives [CPU ms other processes used since, wall ms since]. */
function othersMeter(): () => [number, number] {
  const busy = machineBusyMs();
  const usage = process.cpuUsage();
  const start = performance.now();
  return () => {
    const ours = process.cpuUsage(usage);
    const others = machineBusyMs() - busy - (ours.user + ours.system) / 1000;
    return [Math.max(0, others), performance.now() - start];
  };
}

/** Counting error of machineBusyMs over one library's blocks: a few 10 ms ticks on each core. */
const TICK_MARGIN_MS = 60;

/** Above this many cores busy elsewhere, a 2-thread library loses its second core and caches are shared. */
const DISTURBED = 0.2;

/** The commit the engine was measured at, and whether the engine's sources differed from it. */
function sourceState(): string {
  try {
    const git = (args: string): string =>
      execSync(`git ${args}`, { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    const dirty = git('status --porcelain -- src/core/engine') !== '';
    return `${git('rev-parse --short HEAD')}${dirty ? ' with uncommitted changes in src/core/engine' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    source: sourceState(),
  };
}

/** The folder with package.json above the bundle (out/bench/engine.js), so results land in bench/results. */
function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // Another busy process on a 2-core machine halves what a 2-thread library can do: say so with the results.
  const wholeRun = othersMeter();
  tf.enableProdMode();
  const started = performance.now();
  const wanted = (id: string): boolean => !options.skip.has(id);

  const libraries: Library[] = [];
  if (wanted('ours')) libraries.push(engineLibrary('ours', 'Conv Lens CPU', createCpuEngine()));
  if (options.naive && wanted('naive')) libraries.push(engineLibrary('naive', 'naive JS', naiveEngine()));
  if (wanted('tfjs-cpu')) libraries.push(tfjsLibrary('tfjs-cpu', 'cpu', `tfjs-backend-cpu ${version_cpu}`));
  if (wanted('tfjs-wasm')) {
    libraries.push(tfjsLibrary('tfjs-wasm', 'wasm', `tfjs-backend-wasm ${version_wasm}, 1 thread`));
  }
  if (wanted('ort-1')) libraries.push(ortLibrary('ort-1', 1));
  if (wanted('ort-2')) libraries.push(ortLibrary('ort-2', 2));
  let webgpuNote: string | undefined;
  if (options.webgpu) {
    const gpu = await webgpuLibrary(options.webgpuSoftware);
    if (typeof gpu === 'string') webgpuNote = `WebGPU skipped: ${gpu}`;
    else libraries.push(gpu);
  } else {
    webgpuNote = 'WebGPU not measured (pass --webgpu).';
  }

  const workloads = allWorkloads().filter((work) => options.only === null || options.only.has(work.id));
  const results: Array<{ work: Workload; cells: CellResult[] }> = [];
  for (const work of workloads) {
    process.stderr.write(`${work.id} ${work.title}: ${libraries.map((lib) => lib.id).join(', ')}…\n`);
    const cells = await measure(work, libraries, options);
    results.push({ work, cells });
  }

  // tfjs's wasm backend reports whether it found SIMD and threads only once it has started.
  const tfjsWasm = libraries.find((lib) => lib.id === 'tfjs-wasm');
  if (tfjsWasm && tf.findBackend('wasm')) {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const used = getThreadsCount();
    tfjsWasm.label =
      `tfjs-backend-wasm ${version_wasm}, ${used} thread${used === 1 ? '' : 's'}` +
      `${simd ? ', SIMD' : ', no SIMD'}${threads ? '' : ' (tfjs turns WASM threads off under Node)'}`;
  }

  // The table: one row per workload, "median ms / GFLOP/s" per library, then ours/theirs time ratios.
  const ids = libraries.map((lib) => lib.id);
  // Ratios compare our CPU engine with the other CPU libraries; the WebGPU engine gets its own line.
  const others = ids.filter((id) => id !== 'ours' && id !== 'webgpu');
  const lines: string[] = [];
  lines.push(
    `| workload | MACs | ${libraries.map((lib) => lib.id).join(' | ')} | ${others.map((id) => `ours/${id}`).join(' | ')} |`,
  );
  lines.push(`| --- | --- | ${ids.map(() => '---').join(' | ')} | ${others.map(() => '---').join(' | ')} |`);
  let allOk = true;
  const goals: string[] = [];
  for (const { work, cells } of results) {
    const byId = new Map(cells.map((cell) => [cell.library, cell]));
    const timeCells = ids.map((id) => {
      const cell = byId.get(id);
      if (!cell || cell.error) return 'error';
      const flag =
        (cell.sumOk && cell.mismatches === 0 ? '' : ' ✗') + (cell.otherCores > DISTURBED ? ' †' : '');
      return `${formatMs(cell.medianMs)} / ${formatRate(cell.gflops)}${flag}`;
    });
    const ours = byId.get('ours');
    const ratioCells = others.map((id) =>
      formatRatio((ours?.medianMs ?? NaN) / (byId.get(id)?.medianMs ?? NaN)),
    );
    lines.push(
      `| ${work.id} ${work.title} | ${(work.geometry.macs / 1e6).toFixed(0)} M | ${timeCells.join(' | ')} | ` +
        `${ratioCells.join(' | ')} |`,
    );
    for (const cell of cells) if (cell.error || !cell.sumOk || cell.mismatches > 0) allOk = false;
    if (ours && !ours.error) {
      const cpu = byId.get('tfjs-cpu');
      const wasmCells = cells.filter(
        (cell) =>
          libraries.find((lib) => lib.id === cell.library)?.wasm && !cell.error && cell.library !== 'ort-2',
      );
      const fastest = wasmCells.sort((a, b) => a.medianMs - b.medianMs)[0];
      const parts: string[] = [];
      if (cpu && !cpu.error)
        parts.push(`${(cpu.medianMs / ours.medianMs).toFixed(1)}× tfjs-backend-cpu's speed (goal ≥ 2×)`);
      if (fastest) {
        const ratio = ours.medianMs / fastest.medianMs;
        parts.push(
          `${ratio.toFixed(2)}× the time of the fastest 1-thread WASM library (${fastest.library}; goal ≤ 1.5×` +
            `${ratio < 1 ? ', ahead' : ''})`,
        );
      }
      const gpu = byId.get('webgpu');
      if (gpu && !gpu.error)
        parts.push(`WebGPU ${(ours.medianMs / gpu.medianMs).toFixed(1)}× our CPU engine's speed`);
      if (parts.length > 0) goals.push(`${work.id}: ${parts.join('; ')}`);
    }
  }

  const out = process.stdout;
  out.write(`\nConv Lens engine benchmark — ${new Date().toISOString()}\n`);
  const m = machine();
  out.write(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}\n`);
  out.write(`Source: ${m.source}\n`);
  const [othersMs, wallMs] = wholeRun();
  const othersCores = othersMs / wallMs;
  out.write(
    `Other processes kept ${othersCores.toFixed(2)} cores busy on average during the run` +
      `${othersCores > DISTURBED ? ' — times marked † are disturbed; rerun on an idle machine' : ''}.\n`,
  );
  out.write(
    'Batch 1, float32, no bias. Median ms / GFLOP/s (2·MACs/time); times include copying in and reading out.\n',
  );
  out.write('Ratios are time ours/theirs: below 1 means ours is faster.\n\n');
  for (const lib of libraries) out.write(`- ${lib.id}: ${lib.label}\n`);
  out.write('\n' + lines.join('\n') + '\n\n');
  if (results.some(({ cells }) => cells.some((cell) => cell.otherCores > DISTURBED))) {
    out.write(`† other processes kept more than ${DISTURBED} cores busy during these runs.\n`);
  }
  for (const goal of goals) out.write(`${goal}\n`);
  if (webgpuNote) out.write(`${webgpuNote}\n`);
  for (const { work, cells } of results) {
    for (const cell of cells) {
      if (cell.error) out.write(`${work.id} ${cell.library}: failed — ${cell.error}\n`);
      else if (!cell.sumOk)
        out.write(
          `${work.id} ${cell.library}: output sum ${cell.sums.join(', ')}, expected ${work.expectedSum}\n`,
        );
      else if (cell.mismatches > 0) {
        out.write(
          `${work.id} ${cell.library}: ${cell.mismatches} elements differ from ${cell.comparedWith} (largest difference ` +
            `${cell.maxAbsDiff})\n`,
        );
      }
    }
  }
  out.write(
    allOk
      ? "Outputs: every library's sum equals PyTorch's on every run, and every element equals the first " +
          "library's (tolerance 0).\n"
      : 'Outputs: MISMATCHES (see above).\n',
  );
  const seconds = (performance.now() - started) / 1000;
  out.write(`Finished in ${seconds.toFixed(0)} s.\n`);

  const file = path.join(projectRoot(), 'bench', 'results', 'engine.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const json = {
    date: new Date().toISOString(),
    machine: m,
    otherProcessesCores: othersCores,
    options: { ...options, only: options.only && [...options.only], skip: [...options.skip] },
    note: 'Median ms per run; every run includes copying x and w in and reading y out. GFLOP/s = 2·MACs/time.',
    libraries: libraries.map((lib) => ({ id: lib.id, label: lib.label })),
    workloads: results.map(({ work, cells }) => ({
      id: work.id,
      title: work.title,
      xShape: work.problem.xShape,
      wShape: work.problem.wShape,
      yShape: work.geometry.yShape,
      macs: work.geometry.macs,
      expectedSum: work.expectedSum,
      results: cells,
    })),
    goals,
    webgpu: webgpuNote ?? null,
    ok: allOk,
    seconds,
  };
  fs.writeFileSync(
    file,
    JSON.stringify(json, (_key, value: unknown) => (Number.isNaN(value) ? null : value), 2) + '\n',
  );
  out.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
  process.exit(allOk ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(2);
});
