/**
 * Runs the WebGPU engine for real on Dawn (the `webgpu` package) in a process of its own, and writes what it
 * saw as JSON to the file named by its first argument; test/unit/engineWebgpu.unit.test.ts starts it and
 * asserts on the report. Dawn runs in a separate process so that a native crash fails one test with its exit
 * code instead of killing mocha, and so that each suite starts on a fresh Dawn instance.
 *
 *   node worker.js REPORT.json SUITE...   (suites: golden, reference, limits, recovery)
 *
 * When Dawn cannot offer an adapter here (no Vulkan driver, no SwiftShader), the report says `skipped` and why;
 * every other problem is a failure in the report or a non-zero exit.
 */
import * as fs from 'node:fs';
import { openNodeGpu } from '../../src/cli/webgpuNode';
import { createCpuEngine } from '../../src/core/engine/cpu';
import { problemFromGoldenCase, validateProblem } from '../../src/core/engine/shape';
import type { ConvProblem, ConvResult } from '../../src/core/engine/types';
import {
  type DeviceCaps,
  type Dispatch,
  type KernelChoice,
  openWebGpuEngine,
  planProblem,
  type WebGpuEngineOptions,
} from '../../src/core/engine/webgpu';
import { PARAM } from '../../src/core/engine/wgsl';
import type { Outcome } from '../../src/core/arithmetic/types';
import { loadCases } from '../unit/oracle.helpers';
import { drawProblem, random, reference, type DrawOptions } from './reference';

export interface SuiteReport {
  readonly name: string;
  /** Number of results compared (or behaviours checked). */
  checks: number;
  failures: string[];
  notes: string[];
  milliseconds: number;
}

export interface WorkerReport {
  adapter?: string;
  drivers?: string;
  skipped?: string;
  suites: SuiteReport[];
}

const MAX_LISTED = 8;

function fail(suite: SuiteReport, message: string): void {
  if (suite.failures.length < MAX_LISTED) suite.failures.push(message);
  else if (suite.failures.length === MAX_LISTED) suite.failures.push('… more failures not listed');
}

/** Bit-for-bit comparison (float32 patterns), naming the first difference. */
function sameBits(actual: Float32Array, expected: Float32Array): string | null {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`;
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `y[${i}] = ${actual[i]}, expected ${expected[i]}`;
  }
  return null;
}

function describeProblem(problem: ConvProblem): string {
  const { op, xShape, wShape, stride, padBegin, padEnd, dilation, groups, outputPadding } = problem;
  return JSON.stringify({
    op,
    xShape,
    wShape,
    stride,
    padBegin,
    padEnd,
    dilation,
    groups,
    outputPadding,
    bias: !!problem.b,
  });
}

type Gpu = Awaited<ReturnType<typeof openNodeGpu>> & { ok: true };

async function engineFor(gpu: GPU, options: WebGpuEngineOptions) {
  const opened = await openWebGpuEngine(gpu, options);
  if (!opened.ok) throw new Error(`the engine did not open: ${opened.error}`);
  return opened.value;
}

function goldenProblems(): Array<{ problem: ConvProblem; y: Float32Array; yShape: number[] }> {
  return loadCases('torch_numeric.json').map((golden) => {
    const problem = problemFromGoldenCase(golden);
    if (!problem.ok) throw new Error(`golden case refused: ${problem.error}`);
    return {
      problem: problem.value,
      y: Float32Array.from(golden['y'] as number[]),
      yShape: golden['y_shape'] as number[],
    };
  });
}

function compareGolden(
  suite: SuiteReport,
  label: string,
  cases: ReturnType<typeof goldenProblems>,
  results: Outcome<ConvResult>[],
): void {
  results.forEach((result, i) => {
    suite.checks++;
    const golden = cases[i]!;
    if (!result.ok) return fail(suite, `${label} case ${i}: ${result.error}`);
    if (JSON.stringify(result.value.yShape) !== JSON.stringify(golden.yShape)) {
      return fail(
        suite,
        `${label} case ${i}: shape ${JSON.stringify(result.value.yShape)}, expected ${JSON.stringify(golden.yShape)}`,
      );
    }
    const difference = sameBits(result.value.y, golden.y);
    if (difference) fail(suite, `${label} case ${i} ${describeProblem(golden.problem)}: ${difference}`);
  });
}

/** Every golden case on each kernel, in one batch per kernel, plus a few through run() one at a time. */
async function golden(gpu: Gpu, suite: SuiteReport): Promise<void> {
  const cases = goldenProblems();
  for (const kernel of ['direct', 'tiled', 'auto'] as KernelChoice[]) {
    const engine = await engineFor(gpu.gpu, { kernel });
    const started = performance.now();
    const results = await engine.runBatch(cases.map((c) => c.problem));
    suite.notes.push(`${kernel}: ${cases.length} cases in ${(performance.now() - started).toFixed(0)} ms`);
    compareGolden(suite, kernel, cases, results);
    if (kernel === 'auto') {
      for (let i = 0; i < cases.length; i += 40) {
        compareGolden(suite, 'run()', [cases[i]!], [await engine.run(cases[i]!.problem)]);
      }
    }
    engine.dispose?.();
  }
}

/** Compares engine results with the naive reference: exact for integer data, within rounding for reals. */
function compareReference(
  suite: SuiteReport,
  label: string,
  problems: ConvProblem[],
  results: Outcome<ConvResult>[],
) {
  results.forEach((result, i) => {
    suite.checks++;
    const problem = problems[i]!;
    if (!result.ok) return fail(suite, `${label} ${describeProblem(problem)}: ${result.error}`);
    const expected = reference(problem);
    if (JSON.stringify(result.value.yShape) !== JSON.stringify(expected.yShape)) {
      return fail(
        suite,
        `${label} ${describeProblem(problem)}: shape ${JSON.stringify(result.value.yShape)}`,
      );
    }
    const integer = problem.x.every(Number.isInteger) && problem.w.every(Number.isInteger);
    if (integer) {
      const difference = sameBits(result.value.y, Float32Array.from(expected.y));
      if (difference) fail(suite, `${label} ${describeProblem(problem)}: ${difference}`);
      return;
    }
    for (let j = 0; j < expected.y.length; j++) {
      // float32 summation error is bounded by (terms · 2⁻²⁴) · Σ|terms|; 1e-5 · Σ|terms| is generous.
      const tolerance = 1e-5 * expected.magnitude[j]! + 1e-6;
      if (Math.abs(result.value.y[j]! - expected.y[j]!) > tolerance) {
        return fail(
          suite,
          `${label} ${describeProblem(problem)}: y[${j}] = ${result.value.y[j]}, expected ${expected.y[j]}`,
        );
      }
    }
  });
}

function draw(seed: number, count: number, options: DrawOptions): ConvProblem[] {
  const rand = random(seed);
  return Array.from({ length: count }, () => drawProblem(rand, options));
}

/**
 * Random problems against the naive reference, on both kernels: small and large channel counts, reals; and
 * the CPU engine's answers, which must be the same bits for integer data and within rounding for reals.
 */
async function referenceSuite(gpu: Gpu, suite: SuiteReport): Promise<void> {
  const sets: Array<[string, ConvProblem[]]> = [
    ['small integer', draw(1, 120, { channels: 'small', values: 'integer' })],
    ['large integer', draw(2, 16, { channels: 'large', values: 'integer' })],
    ['small real', draw(3, 40, { channels: 'small', values: 'real' })],
    ['large real', draw(4, 8, { channels: 'large', values: 'real' })],
  ];
  const cpu = createCpuEngine();
  for (const [label, problems] of sets) {
    const results: Outcome<ConvResult>[] = [];
    for (const problem of problems) results.push(await cpu.run(problem));
    compareReference(suite, `CPU engine, ${label}`, problems, results);
  }
  for (const kernel of ['direct', 'tiled'] as KernelChoice[]) {
    const engine = await engineFor(gpu.gpu, { kernel });
    for (const [label, problems] of sets) {
      const started = performance.now();
      const results = await engine.runBatch(problems);
      suite.notes.push(
        `${kernel}, ${label}: ${problems.length} problems in ${(performance.now() - started).toFixed(0)} ms`,
      );
      compareReference(suite, `${kernel}, ${label}`, problems, results);
    }
    engine.dispose?.();
  }
}

/**
 * A device made to look small (storage bindings of 8 KiB, 1 or 2 workgroups per dimension): problems split along
 * the batch and into many dispatches must still match exactly; what cannot be split is refused.
 */
async function limitsSuite(gpu: Gpu, suite: SuiteReport): Promise<void> {
  const smallCaps = (perDimension: number): DeviceCaps => ({
    maxStorageBufferBindingSize: 8192,
    maxBufferSize: 2 ** 30,
    maxComputeWorkgroupsPerDimension: perDimension,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupStorageSize: 16384,
  });
  const golden = goldenProblems();
  const batches = [
    ...draw(5, 24, { channels: 'small', values: 'integer', batch: 5 }),
    ...draw(6, 6, { channels: 'large', values: 'integer', batch: 3 }),
  ];
  for (const kernel of ['direct', 'tiled'] as KernelChoice[]) {
    // The direct kernel gets one workgroup per dispatch, the tiled one (whose rows need a second workgroup
    // for more than 64 channels) two per dimension.
    const perDimension = kernel === 'direct' ? 1 : 2;
    const caps = smallCaps(perDimension);
    const deviceLimits = {
      maxStorageBufferBindingSize: 8192,
      maxComputeWorkgroupsPerDimension: perDimension,
    };
    // How each problem is split on the small device: along the batch, and into dispatches that start at a
    // workgroup offset (direct) or at a column tile or group offset (tiled).
    const splitting = (problem: ConvProblem): { chunked: boolean; offset: boolean } | null => {
      const geometry = validateProblem(problem);
      const plan = geometry.ok ? planProblem(problem, geometry.value, caps, kernel) : geometry;
      if (!plan.ok) return null;
      const starts = (d: Dispatch): number[] =>
        kernel === 'direct'
          ? [d.params[PARAM.dispatch + 1]!]
          : [...d.params.subarray(PARAM.dispatch + 2, PARAM.dispatch + 4)];
      return {
        chunked: plan.value.chunks.length > 1,
        offset: plan.value.chunks.some((chunk) => chunk.dispatches.some((d) => starts(d).some((v) => v > 0))),
      };
    };
    // The golden cases this device splits (the others run as on any device), and the batches it can hold.
    const cases = golden.filter((c) => splitting(c.problem)?.offset);
    const problems = batches.filter((problem) => splitting(problem) !== null);
    const chunked = problems.filter((problem) => splitting(problem)!.chunked).length;
    suite.checks++;
    if (cases.length < 20 || chunked < 5) {
      fail(
        suite,
        `${kernel}: splitting hardly exercised (${cases.length} golden cases split, ${chunked} batches chunked)`,
      );
    }
    const engine = await engineFor(gpu.gpu, { kernel, deviceLimits });
    const started = performance.now();
    compareGolden(
      suite,
      `small device, ${kernel}`,
      cases,
      await engine.runBatch(cases.map((c) => c.problem)),
    );
    compareReference(suite, `small device, ${kernel}`, problems, await engine.runBatch(problems));
    suite.notes.push(
      `${kernel}: ${cases.length} golden cases split into offset dispatches, ${problems.length} batched problems ` +
        `(${chunked} split along the batch), ${(performance.now() - started).toFixed(0)} ms`,
    );
    // A weight larger than a binding cannot be split: refused, with the way out.
    const big = draw(7, 1, { channels: 'large', values: 'integer' })[0]!;
    suite.checks++;
    const refused = await engine.run(big);
    if (refused.ok) fail(suite, `small device, ${kernel}: a ${big.w.length * 4}-byte weight was not refused`);
    else if (!/use the CPU engine/.test(refused.error))
      fail(suite, `refusal without a way out: ${refused.error}`);
    else suite.notes.push(`refused: ${refused.error}`);
    engine.dispose?.();
  }
}

/** A lost device is replaced; pipelines are cached; bad problems fail alone; dispose is final. */
async function recoverySuite(gpu: Gpu, suite: SuiteReport): Promise<void> {
  // Watch the devices and pipelines the engine asks for, through the GPU object it is given.
  const devices: GPUDevice[] = [];
  let pipelines = 0;
  const realRequestAdapter = gpu.gpu.requestAdapter.bind(gpu.gpu);
  const watched = {
    requestAdapter: async (options?: GPURequestAdapterOptions) => {
      const adapter = await realRequestAdapter(options);
      if (!adapter) return adapter;
      const realRequestDevice = adapter.requestDevice.bind(adapter);
      return Object.assign(Object.create(adapter) as GPUAdapter, {
        limits: adapter.limits,
        info: adapter.info,
        requestDevice: async (descriptor?: GPUDeviceDescriptor) => {
          const device = await realRequestDevice(descriptor);
          const realCreate = device.createComputePipelineAsync.bind(device);
          device.createComputePipelineAsync = (d: GPUComputePipelineDescriptor) => {
            pipelines++;
            return realCreate(d);
          };
          devices.push(device);
          return device;
        },
      });
    },
  } as unknown as GPU;
  const cases = goldenProblems();
  const engine = await engineFor(watched, { kernel: 'auto' });
  const check = (ok: boolean, message: string): void => {
    suite.checks++;
    if (!ok) fail(suite, message);
  };

  compareGolden(suite, 'first device', cases, await engine.runBatch(cases.map((c) => c.problem)));
  check(
    pipelines <= 2,
    `${pipelines} pipelines were compiled for ${cases.length} problems; expected at most 2`,
  );
  compareGolden(
    suite,
    'same device again',
    cases.slice(0, 50),
    await engine.runBatch(cases.slice(0, 50).map((c) => c.problem)),
  );
  check(pipelines <= 2, `pipelines were not reused: ${pipelines} compiled`);

  devices[0]!.destroy();
  await devices[0]!.lost;
  compareGolden(
    suite,
    'after device loss',
    cases.slice(0, 50),
    await engine.runBatch(cases.slice(0, 50).map((c) => c.problem)),
  );
  check(devices.length === 2, `a lost device was not replaced (${devices.length} devices)`);

  // Lost while a run is in flight (right after its work is submitted, before it is read back): the run is
  // retried on a new device.
  const queue = devices[1]!.queue;
  const realSubmit = queue.submit.bind(queue);
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    realSubmit(buffers);
    devices[1]!.destroy();
  };
  compareGolden(
    suite,
    'lost during a run',
    cases.slice(50, 100),
    await engine.runBatch(cases.slice(50, 100).map((c) => c.problem)),
  );
  check(devices.length === 3, `a device lost during a run was not replaced (${devices.length} devices)`);

  // Lost between submissions of one batch (small submissions, the third one loses the device): what was
  // answered stays answered, the rest runs on a new device.
  const split = await engineFor(watched, { kernel: 'auto', submissionBytes: 16384 });
  const splitDevice = devices.at(-1)!;
  let submits = 0;
  const splitQueue = splitDevice.queue;
  const splitSubmit = splitQueue.submit.bind(splitQueue);
  splitQueue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    splitSubmit(buffers);
    if (++submits === 3) splitDevice.destroy();
  };
  const before = devices.length;
  compareGolden(suite, 'lost between submissions', cases, await split.runBatch(cases.map((c) => c.problem)));
  check(devices.length === before + 1, `the device lost between submissions was not replaced`);
  check(submits === 3, `${submits} submissions on the lost device`);
  split.dispose?.();

  // A bad problem fails alone, in words; its neighbours still run.
  const good = cases[0]!;
  const bad: ConvProblem = { ...good.problem, x: good.problem.x.subarray(1) };
  const mixed = await engine.runBatch([good.problem, bad, good.problem]);
  check(mixed[0]!.ok && mixed[2]!.ok, 'good problems failed next to a bad one');
  check(
    !mixed[1]!.ok && /values/.test((mixed[1] as { error: string }).error),
    `bad problem: ${JSON.stringify(mixed[1])}`,
  );
  const tooBig = await engine.run({ ...good.problem, xShape: [1, 6, 8192, 8192] });
  check(!tooBig.ok, 'a problem beyond the limits was not refused');
  if (!tooBig.ok) suite.notes.push(`beyond the limits: ${tooBig.error}`);
  check(engine.name.startsWith('WebGPU ('), `engine name ${engine.name}`);

  engine.dispose?.();
  const afterDispose = await engine.run(good.problem);
  check(!afterDispose.ok, 'the engine ran after dispose');
  suite.notes.push(`devices opened: ${devices.length}, pipelines compiled: ${pipelines}`);
}

const SUITES: Record<string, (gpu: Gpu, suite: SuiteReport) => Promise<void>> = {
  golden,
  reference: referenceSuite,
  limits: limitsSuite,
  recovery: recoverySuite,
};

async function main(): Promise<void> {
  const [reportFile, ...names] = process.argv.slice(2);
  if (!reportFile) throw new Error('usage: worker.js REPORT.json SUITE...');
  const report: WorkerReport = { suites: [] };
  const write = (): void => fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
  const opened = await openNodeGpu();
  if (!opened.ok) {
    // Only a missing driver or adapter is a reason to skip; a package that does not load is a failure.
    if (opened.stage === 'package') throw new Error(opened.error);
    report.skipped = opened.error;
    return write();
  }
  report.drivers = opened.setup.drivers;
  for (const name of names) {
    const run = SUITES[name];
    if (!run) throw new Error(`unknown suite ${name}`);
    const suite: SuiteReport = { name, checks: 0, failures: [], notes: [], milliseconds: 0 };
    report.suites.push(suite);
    const started = performance.now();
    try {
      await run(opened, suite);
    } catch (error) {
      fail(suite, `threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    suite.milliseconds = performance.now() - started;
    write();
  }
  const adapter = await opened.gpu.requestAdapter();
  report.adapter = adapter
    ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim()
    : '';
  write();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
