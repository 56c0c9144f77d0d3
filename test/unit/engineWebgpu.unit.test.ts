/**
 * The WebGPU engine. First its planning, in plain JavaScript (no GPU): the stride phases of transposed convs
 * and the kernels' index arithmetic, run over every golden case. Then the engine for real, on Dawn (the
 * `webgpu` package) with SwiftShader, Chromium's software Vulkan driver, which CI installs: each suite runs in
 * a child process (test/webgpu/worker.ts) so that a native crash fails a test instead of mocha, and the
 * suites run side by side. The GPU tests are skipped, loudly, only when Dawn offers no adapter here.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { problemFromGoldenCase, validateProblem } from '../../src/core/engine/shape';
import type { ConvProblem } from '../../src/core/engine/types';
import {
  asThreeDims,
  chooseKernel,
  type DeviceCaps,
  dimPhases,
  planPhases,
  planProblem,
} from '../../src/core/engine/webgpu';
import { DIRECT_KERNEL, PARAM, PARAMS_BYTES, TILED_KERNEL } from '../../src/core/engine/wgsl';
import { drawProblem, random } from '../webgpu/reference';
import type { WorkerReport } from '../webgpu/worker';
import { loadCases } from './oracle.helpers';

const BIG_DEVICE: DeviceCaps = {
  maxStorageBufferBindingSize: 2 ** 27,
  maxBufferSize: 2 ** 28,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupStorageSize: 16384,
};

/**
 * The arithmetic of the direct kernel (wgsl.ts), in JavaScript: every output of every phase gathers the taps
 * its phase lists. It checks the phases and the parameter layout without a GPU.
 */
function emulate(problem: ConvProblem): Float32Array {
  const geometry = validateProblem(problem);
  if (!geometry.ok) throw new Error(geometry.error);
  const g = geometry.value;
  const inSize = asThreeDims(g.inSpatial);
  const outSize = asThreeDims(g.outSpatial);
  const kSize = asThreeDims(g.kernel);
  const inVolume = inSize[0] * inSize[1] * inSize[2];
  const outVolume = outSize[0] * outSize[1] * outSize[2];
  const taps = kSize[0] * kSize[1] * kSize[2];
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const y = new Float32Array(g.batch * g.outChannels * outVolume).fill(NaN);
  for (const phase of planPhases(g)) {
    for (let n = 0; n < g.batch; n++)
      for (let c = 0; c < g.outChannels; c++) {
        const group = Math.floor(c / coutG);
        for (let jd = 0; jd < phase[0].jCount; jd++)
          for (let jh = 0; jh < phase[1].jCount; jh++)
            for (let jw = 0; jw < phase[2].jCount; jw++) {
              const j = [jd, jh, jw];
              let acc = 0;
              for (let ci = 0; ci < cinG; ci++)
                for (let td = 0; td < phase[0].tCount; td++)
                  for (let th = 0; th < phase[1].tCount; th++)
                    for (let tw = 0; tw < phase[2].tCount; tw++) {
                      const t = [td, th, tw];
                      const at = phase.map((dim, i) => dim.base + dim.jStep * j[i]! + dim.tStep * t[i]!);
                      if (at.some((v, i) => v < 0 || v >= inSize[i]!)) continue;
                      const k = phase.map((dim, i) => dim.kStart + dim.kStep * t[i]!);
                      const tap = (k[0]! * kSize[1] + k[1]!) * kSize[2] + k[2]!;
                      const weight =
                        g.op === 'conv'
                          ? problem.w[(c * cinG + ci) * taps + tap]!
                          : problem.w[((group * cinG + ci) * coutG + (c - group * coutG)) * taps + tap]!;
                      const xAt = (at[0]! * inSize[1] + at[1]!) * inSize[2] + at[2]!;
                      acc += problem.x[(n * g.inChannels + group * cinG + ci) * inVolume + xAt]! * weight;
                    }
              const o = phase.map((dim, i) => dim.oStart + dim.oStep * j[i]!);
              const index =
                (n * g.outChannels + c) * outVolume + (o[0]! * outSize[1] + o[1]!) * outSize[2] + o[2]!;
              assert.ok(Number.isNaN(y[index]!), `output ${index} is written by two phases`);
              y[index] = acc + (problem.b ? problem.b[c]! : 0);
            }
      }
  }
  return y;
}

describe('WebGPU engine: planning (no GPU)', () => {
  it('splits each dimension into phases that cover every output once and visit exactly the taps landing on it', () => {
    let checked = 0;
    for (const op of ['conv', 'conv_transpose'] as const)
      for (let inSize = 1; inSize <= 6; inSize++)
        for (let kernel = 1; kernel <= 5; kernel++)
          for (let stride = 1; stride <= 4; stride++)
            for (let dilation = 1; dilation <= 3; dilation++)
              for (let pad = 0; pad <= 3; pad++)
                for (let extra = 0; extra < (op === 'conv' ? 1 : Math.max(stride, dilation)); extra++) {
                  const kEff = dilation * (kernel - 1) + 1;
                  const outSize =
                    op === 'conv'
                      ? Math.floor((inSize + 2 * pad - kEff) / stride) + 1
                      : (inSize - 1) * stride - 2 * pad + kEff + extra;
                  if (outSize < 1) continue;
                  // The definition: which (input, tap) pairs meet at each output.
                  const expected = new Map<number, string[]>();
                  for (let o = 0; o < outSize; o++) expected.set(o, []);
                  for (let a = 0; a < (op === 'conv' ? outSize : inSize); a++)
                    for (let k = 0; k < kernel; k++) {
                      const b = a * stride - pad + k * dilation;
                      const [i, o] = op === 'conv' ? [b, a] : [a, b];
                      if (i >= 0 && i < inSize && o >= 0 && o < outSize) expected.get(o)!.push(`${i}:${k}`);
                    }
                  const seen = new Map<number, string[]>();
                  for (const phase of dimPhases(op, inSize, outSize, kernel, stride, dilation, pad)) {
                    for (let j = 0; j < phase.jCount; j++) {
                      const o = phase.oStart + phase.oStep * j;
                      assert.ok(!seen.has(o), `output ${o} in two phases`);
                      const pairs: string[] = [];
                      for (let t = 0; t < phase.tCount; t++) {
                        const k = phase.kStart + phase.kStep * t;
                        assert.ok(k >= 0 && k < kernel);
                        const i = phase.base + phase.jStep * j + phase.tStep * t;
                        if (i >= 0 && i < inSize) pairs.push(`${i}:${k}`);
                      }
                      seen.set(o, pairs);
                    }
                  }
                  const context = JSON.stringify({ op, inSize, kernel, stride, dilation, pad, extra });
                  assert.equal(seen.size, outSize, context);
                  for (const [o, pairs] of expected) {
                    assert.deepEqual([...seen.get(o)!].sort(), [...pairs].sort(), `${context} output ${o}`);
                  }
                  checked++;
                }
    assert.ok(checked > 1000, `only ${checked} configurations checked`);
  });

  it('a transposed conv visits only the taps that land (stride 2, kernel 4: two taps per output, not four)', () => {
    const phases = dimPhases('conv_transpose', 32, 64, 4, 2, 1, 1);
    assert.equal(phases.length, 2);
    assert.deepEqual(
      phases.map((p) => [p.tCount, p.kStart, p.kStep]),
      [
        [2, 1, 2],
        [2, 0, 2],
      ],
    );
    // Stride 2, dilation 2: taps reach only even outputs (with no padding), so odd outputs are bias alone.
    const sparse = dimPhases('conv_transpose', 3, 9, 3, 2, 2, 0);
    assert.deepEqual(
      sparse.map((p) => p.tCount),
      [3, 0],
    );
  });

  it('the phase plan reproduces all 427 golden cases when its index arithmetic runs in JavaScript', () => {
    const cases = loadCases('torch_numeric.json');
    assert.equal(cases.length, 427);
    for (const [i, golden] of cases.entries()) {
      const problem = problemFromGoldenCase(golden);
      assert.ok(problem.ok, problem.ok ? '' : problem.error);
      const y = emulate(problem.value);
      assert.deepEqual(Array.from(y), golden['y'], `case ${i}`);
    }
  });

  it('picks the tiled kernel only for large channel counts, and splits what exceeds the device', () => {
    const small = drawProblem(random(11), { channels: 'small', values: 'integer' });
    // conv2d 20 → 24 channels on 16×16, batch 4: an input item (20 KiB) outweighs the weight (17 KiB).
    const large: ConvProblem = {
      op: 'conv',
      xShape: [4, 20, 16, 16],
      wShape: [24, 20, 3, 3],
      x: new Float32Array(4 * 20 * 16 * 16),
      w: new Float32Array(24 * 20 * 9),
      b: null,
      stride: [1, 1],
      padBegin: [1, 0],
      padEnd: [0, 1],
      dilation: [1, 1],
      groups: 1,
      outputPadding: [],
    };
    const geometry = (p: ConvProblem) => {
      const g = validateProblem(p);
      assert.ok(g.ok);
      return g.value;
    };
    assert.equal(chooseKernel(geometry(small), planPhases(geometry(small)), 'auto'), 'direct');
    assert.equal(chooseKernel(geometry(large), planPhases(geometry(large)), 'auto'), 'tiled');
    assert.equal(chooseKernel(geometry(small), planPhases(geometry(small)), 'tiled'), 'tiled');

    const whole = planProblem(large, geometry(large), BIG_DEVICE, 'auto');
    assert.ok(whole.ok);
    assert.equal(whole.value.chunks.length, 1);
    const item = Math.max(whole.value.xItem, whole.value.yItem) * 4;
    const tight = { ...BIG_DEVICE, maxStorageBufferBindingSize: item };
    const split = planProblem(large, geometry(large), tight, 'auto');
    assert.ok(split.ok);
    assert.equal(split.value.chunks.length, 4, 'the batch was not split into single items');
    // The chunks follow one another and cover the batch.
    split.value.chunks.forEach((chunk, i) => {
      assert.equal(chunk.n0, i === 0 ? 0 : split.value.chunks[i - 1]!.n1);
      assert.ok(chunk.n1 > chunk.n0);
    });
    assert.equal(split.value.chunks.at(-1)!.n1, 4);
    const refused = planProblem(
      large,
      geometry(large),
      { ...BIG_DEVICE, maxStorageBufferBindingSize: 64 },
      'auto',
    );
    assert.ok(!refused.ok);
    assert.match(refused.error, /use the CPU engine/);
  });

  it('keeps kernels as data: distinct keys, one 256-byte parameter block per dispatch', () => {
    assert.notEqual(DIRECT_KERNEL.key, TILED_KERNEL.key);
    assert.equal(PARAMS_BYTES, 256);
    assert.equal(Math.max(...Object.values(PARAM)) + 4, PARAMS_BYTES / 4);
    for (const kernel of [DIRECT_KERNEL, TILED_KERNEL]) assert.match(kernel.code, /@compute @workgroup_size/);
  });
});

/**
 * The worker script: compiled beside this file by `npm test` (tsc), or, when this test file was bundled on
 * its own, bundled here the same way into node_modules/.cache, where its `import('webgpu')` resolves.
 */
function workerScript(): string {
  const compiled = path.join(__dirname, '../webgpu/worker.js');
  if (fs.existsSync(compiled)) return compiled;
  const bundled = path.resolve('node_modules/.cache/conv-lens/webgpu-worker.js');
  const args = [
    'test/webgpu/worker.ts',
    '--bundle',
    '--platform=node',
    `--outfile=${bundled}`,
    '--external:webgpu',
  ];
  const built = spawnSync(path.resolve('node_modules/.bin/esbuild'), [...args, '--log-level=warning'], {
    encoding: 'utf8',
  });
  if (built.status !== 0)
    throw new Error(`Could not bundle the WebGPU worker: ${built.stderr ?? built.error}`);
  return bundled;
}

/** Starts the worker for some suites; resolves with its report, or rejects with its exit code and stderr. */
function runWorker(suites: string[]): Promise<WorkerReport> {
  const worker = workerScript();
  const reportFile = path.join(os.tmpdir(), `convlens-webgpu-${process.pid}-${suites.join('-')}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, reportFile, ...suites], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const report = fs.existsSync(reportFile)
        ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as WorkerReport)
        : null;
      fs.rmSync(reportFile, { force: true });
      if (code === 0 && report) resolve(report);
      else
        reject(
          new Error(`The WebGPU worker (${suites.join(', ')}) exited with ${signal ?? code}:\n${stderr}`),
        );
    });
  });
}

describe('WebGPU engine on Dawn (SwiftShader in CI)', function () {
  this.timeout(240_000);
  // One worker per suite, one after another: SwiftShader already spreads a dispatch over the cores, so
  // workers side by side only compete (measured slower on two cores).
  const expectations: Record<string, string> = {
    golden: 'matches all 427 golden cases bit for bit on the direct, tiled and automatic kernels',
    reference:
      'matches a naive reference on random problems (exactly for integers, within rounding for reals)',
    limits:
      'splits work for a small device (batch chunks, offset dispatches) and refuses what cannot be split',
    recovery: 'replaces a lost device, caches pipelines, fails bad problems alone, stops after dispose',
  };
  for (const [name, title] of Object.entries(expectations)) {
    it(title, async function () {
      const report = await runWorker([name]);
      if (report.skipped) {
        const banner = '!'.repeat(100);
        console.warn(
          `\n${banner}\nWEBGPU TESTS SKIPPED: Dawn offers no adapter here.\n${report.skipped}\n${banner}\n`,
        );
        this.skip();
      }
      const suite = report.suites.find((s) => s.name === name);
      assert.ok(suite, `the worker did not report ${name}`);
      assert.deepEqual(suite.failures, [], `${name} on ${report.adapter}:\n${suite.failures.join('\n')}`);
      const golden = loadCases('torch_numeric.json').length;
      const expectedChecks: Record<string, number> = { golden: 3 * golden + Math.ceil(golden / 40) };
      if (expectedChecks[name] !== undefined) assert.equal(suite.checks, expectedChecks[name]);
      else assert.ok(suite.checks > 100, `${name}: only ${suite.checks} checks`);
    });
  }
});
