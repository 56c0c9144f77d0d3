/**
 * `convlens compute`, run from the built CLI (dist/cli.js) as scripts run it: JSON Lines in, one answer per
 * line out, in order, bad lines answered with an error and never stopping the stream. scripts/test.mjs
 * builds before testing (by hand: `node esbuild.js`).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../../src/core/arithmetic/types';
import { DEFAULT_LIMITS, type ConvEngine } from '../../src/core/engine/types';
import { computeLine } from '../../src/cli/compute';
import { loadCases } from './oracle.helpers';

const CLI = [
  path.resolve(__dirname, '../../../dist/cli.js'),
  path.resolve(process.cwd(), 'dist/cli.js'),
].find((candidate) => fs.existsSync(candidate));

function convlens(args: string[], stdin = ''): { status: number | null; stdout: string; stderr: string } {
  assert.ok(CLI, 'dist/cli.js is missing: build first (node esbuild.js).');
  const result = spawnSync(process.execPath, [CLI, ...args], {
    input: stdin,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function answers(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface NumericCase {
  y_shape: number[];
  y: number[];
  [key: string]: unknown;
}

describe('convlens compute', function () {
  // Each test starts node (and Dawn, for WebGPU, on a software driver here): slow on a busy CI machine.
  this.timeout(120_000);
  const cases = loadCases('torch_numeric.json') as unknown as NumericCase[];
  const questions = cases.map(({ y: _y, y_shape: _shape, ...question }) => JSON.stringify(question));

  it(`computes every case of torch_numeric.json (${cases.length}) exactly, in order, with --engine cpu`, () => {
    const run = convlens(['compute', '--engine', 'cpu'], questions.join('\n') + '\n');
    assert.equal(run.status, 0, run.stderr);
    const got = answers(run.stdout);
    assert.equal(got.length, cases.length);
    const wrong = cases.filter(
      (golden, i) =>
        JSON.stringify(got[i]!['y_shape']) !== JSON.stringify(golden.y_shape) ||
        JSON.stringify(got[i]!['y']) !== JSON.stringify(golden.y),
    );
    assert.equal(wrong.length, 0, `${wrong.length} wrong, first: ${JSON.stringify(wrong[0])?.slice(0, 300)}`);
  });

  it('uses the CPU engine when --engine is left out', () => {
    const run = convlens(['compute'], questions[0]! + '\n');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(answers(run.stdout)[0]!['y'], cases[0]!.y);
  });

  it('answers each bad line with an error line and goes on, in order', () => {
    const input = [
      questions[0]!,
      'not json',
      '',
      '{"op": "conv9d"}',
      '[1, 2, 3]',
      '{"op": "conv1d", "x_shape": [1, 1, 3], "x": [1, 2], "w_shape": [1, 1, 1], "w": [1]}',
      '{"op": "conv1d", "x_shape": [1, 1, NaN], "x": [], "w_shape": [1, 1, 1], "w": [1]}',
      '{"op": "conv1d", "x_shape": [1, 1, -3], "x": [], "w_shape": [1, 1, 1], "w": [1]}',
      '{"op": "conv2d", "x_shape": [1, 2, 3, 3], "x": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "w_shape": [1, 3, 1, 1], "w": [1, 1, 1]}',
      '{"op": "conv1d", "x_shape": [1, 1, 3], "x": [1, 2, 3], "w_shape": [1, 1, 2], "w": [1, 10], "padding": [[1, 0]], "b": [100]}',
      questions[1]!,
    ];
    const run = convlens(['compute', '--engine', 'cpu'], input.join('\n'));
    assert.equal(run.status, 0, run.stderr);
    const got = answers(run.stdout);
    assert.equal(got.length, 10, run.stdout);
    assert.deepEqual(got[0], { y_shape: cases[0]!.y_shape, y: cases[0]!.y });
    assert.match(String(got[1]!['error']), /not valid JSON/);
    assert.match(String(got[2]!['error']), /"op" must be one of conv1d/);
    assert.match(String(got[3]!['error']), /JSON object/);
    assert.match(String(got[4]!['error']), /"x" has 2 values, but "x_shape" needs 3/);
    assert.match(String(got[5]!['error']), /not valid JSON/);
    assert.match(String(got[6]!['error']), /non-negative integers/);
    assert.match(String(got[7]!['error']), /expects 3 input channels .* has 2 channels/);
    assert.deepEqual(got[8], { y_shape: [1, 1, 3], y: [110, 121, 132] });
    assert.deepEqual(got[9], { y_shape: cases[1]!.y_shape, y: cases[1]!.y });
  });

  it('refuses work past --max-macs and --max-elements on that line only', () => {
    const run = convlens(['compute', '--max-macs', '10'], [questions[0]!, questions[0]!].join('\n'));
    assert.equal(run.status, 0, run.stderr);
    const got = answers(run.stdout);
    assert.equal(got.length, 2);
    for (const answer of got) {
      assert.match(String(answer['error']), /multiply-accumulates; the limit is 10 — .*maxMacs/);
    }
    const elements = convlens(['compute', '--max-elements', '5'], questions[0]!);
    assert.match(String(answers(elements.stdout)[0]!['error']), /elements; the limit is 5/);
  });

  it('answers every case with --engine webgpu too: on the GPU where WebGPU runs, else on the CPU, saying so', () => {
    const run = convlens(['compute', '--engine', 'webgpu'], questions.join('\n') + '\n');
    assert.equal(run.status, 0, run.stderr);
    const got = answers(run.stdout);
    assert.equal(got.length, cases.length);
    const wrong = cases.filter(
      (golden, i) =>
        JSON.stringify(got[i]!['y_shape']) !== JSON.stringify(golden.y_shape) ||
        JSON.stringify(got[i]!['y']) !== JSON.stringify(golden.y),
    );
    assert.equal(wrong.length, 0, `${wrong.length} wrong; stderr: ${run.stderr.slice(0, 500)}`);
  });

  it('falls back to the CPU engine, and says why, where WebGPU has no driver', function () {
    if (process.platform !== 'linux') this.skip();
    const result = spawnSync(process.execPath, [CLI!, 'compute', '--engine', 'webgpu'], {
      input: questions[0]! + '\n',
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/no_driver_icd.json' },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /convlens compute: .*Using the CPU engine instead\./);
    assert.deepEqual(answers(result.stdout)[0], { y_shape: cases[0]!.y_shape, y: cases[0]!.y });
  });

  it('computes a problem the GPU engine cannot run on the CPU, with a note; refusals stay refusals', async () => {
    const failing: ConvEngine = {
      name: 'WebGPU',
      run: () => Promise.resolve(fail('Past the adapter limits.')),
    };
    const throwing: ConvEngine = {
      name: 'WebGPU',
      run: () => Promise.reject(new Error('Device lost.')),
    };
    for (const engine of [failing, throwing]) {
      const notes: string[] = [];
      const answer = await computeLine(questions[0]!, engine, DEFAULT_LIMITS, {
        fallbackToCpu: true,
        note: (note) => notes.push(note),
      });
      assert.deepEqual(JSON.parse(answer), { y_shape: cases[0]!.y_shape, y: cases[0]!.y });
      assert.equal(notes.length, 1);
      assert.match(notes[0]!, /(Past the adapter limits|Device lost)\..*Computed on the CPU instead\./);
    }
    const notes: string[] = [];
    const refused = await computeLine(
      '{"op": "conv1d", "x_shape": [1, 2, 3], "x": [1, 2, 3, 4, 5, 6], "w_shape": [1, 3, 1], "w": [1, 1, 1]}',
      failing,
      DEFAULT_LIMITS,
      { fallbackToCpu: true, note: (note) => notes.push(note) },
    );
    assert.match(String((JSON.parse(refused) as { error: string }).error), /expects 3 input channels/);
    assert.deepEqual(notes, []);
    const strict = await computeLine(questions[0]!, failing, DEFAULT_LIMITS);
    assert.deepEqual(JSON.parse(strict), { error: 'Past the adapter limits.' });
  });

  it('says clearly when the options are wrong', () => {
    const unknown = convlens(['compute', '--engine', 'tpu'], '');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--engine must be one of cpu, webgpu/);
    const limit = convlens(['compute', '--max-macs', 'lots'], '');
    assert.equal(limit.status, 2);
    assert.match(limit.stderr, /--max-macs must be a positive number/);
    const stray = convlens(['compute', 'input.jsonl'], '');
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /the problems come on stdin/);
  });

  it('is listed in the help', () => {
    const run = convlens(['help']);
    assert.match(run.stdout, /convlens compute \[--engine cpu\|webgpu\]/);
  });
});
