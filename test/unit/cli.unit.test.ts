/**
 * The built CLI (dist/cli.js), run as users and scripts run it. scripts/test.mjs builds before testing.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { type GoldenCase, loadCases } from './oracle.helpers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

function convlens(args: string[], stdin = ''): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    input: stdin,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('convlens eval', () => {
  for (const file of ['torch_shapes.json', 'jax_shapes.json', 'onnx_shapes.json']) {
    it(`answers every case of ${file} as the framework did`, () => {
      const cases = loadCases(file);
      const questions = cases.map(({ output: _o, error: _e, ...question }: GoldenCase) =>
        JSON.stringify(question),
      );
      const run = convlens(['eval'], questions.join('\n') + '\n');
      assert.equal(run.status, 0, run.stderr);
      const answers = run.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { output?: number[]; error?: string });
      assert.equal(answers.length, cases.length);
      const wrong = cases.filter((golden, i) => {
        const answer = answers[i]!;
        return golden.error !== undefined
          ? answer.error === undefined
          : JSON.stringify(answer.output) !== JSON.stringify(golden.output);
      });
      assert.equal(wrong.length, 0, `${wrong.length} wrong, first: ${JSON.stringify(wrong[0])}`);
    });
  }

  it('answers a line it cannot read with an error line, and goes on', () => {
    const input = [
      '{"op": "torch.nn.Conv2d", "args": {"in_channels": 3, "out_channels": 8, "kernel_size": 3}, "input": [1, 3, 32, 32]}',
      'not json',
      '{"op": "torch.nn.Conv9d", "args": {}, "input": [1]}',
      '[1, 2]',
      '{"op": "torch.nn.Conv2d", "args": {"in_channels": 3}, "input": [1, 3, 32, 32]}',
      '{"op": "torch.nn.MaxPool2d", "args": {"kernel_size": 2}, "input": [1, 3, 32, 32]}',
    ];
    const run = convlens(['eval'], input.join('\n'));
    const answers = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(answers.length, 6);
    assert.deepEqual(answers[0], { output: [1, 8, 30, 30] });
    assert.match(String(answers[1]!['error']), /not valid JSON/);
    assert.match(String(answers[2]!['error']), /Unknown op 'torch.nn.Conv9d'/);
    assert.match(String(answers[3]!['error']), /JSON object/);
    assert.match(String(answers[4]!['error']), /needs 'out_channels'/);
    assert.deepEqual(answers[5], { output: [1, 3, 16, 16] });
  });
});

describe('convlens shape', () => {
  it('prints shape, formula, weight and params for people', () => {
    const run = convlens([
      'shape',
      'nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)',
      '--input',
      '1,64,16,16',
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /output +\(1, 32, 32, 32\)/);
    assert.match(run.stdout, /H_out = 2·H_in/);
    assert.match(run.stdout, /weight +\(64, 32, 4, 4\) +bias \(32,\)/);
    assert.match(run.stdout, /params +32,800/);
  });
  it('gives JSON with --json', () => {
    const run = convlens([
      'shape',
      "layers.Conv2D(32, 3, strides=2, padding='same')",
      '--input',
      '1,127,127,3',
      '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { output: number[]; formulas: string[]; params: number };
    assert.deepEqual(report.output, [1, 64, 64, 32]);
    assert.equal(report.params, 3 * 3 * 3 * 32 + 32);
    assert.equal(report.formulas.length, 2);
  });
  it('honours --output-size for a PyTorch transposed conv', () => {
    const run = convlens([
      'shape',
      'nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1)',
      '--input',
      '1,8,37,37',
      '--output-size',
      '74,74',
      '--json',
    ]);
    assert.deepEqual((JSON.parse(run.stdout) as { output: number[] }).output, [1, 4, 74, 74]);
  });
  it('explains mistakes with a non-zero exit and no stack trace', () => {
    const wrong = convlens(['shape', 'nn.Conv2d(3, 8, 3, stride=2, padding="same")', '--input', '1,3,32,32']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /'same' is not supported with stride 2/);
    const usage = convlens(['shape', 'nn.Conv2d(3, 8, 3)', '--inptu', '1,3,32,32']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown option --inptu/);
    assert.doesNotMatch(usage.stderr + wrong.stderr, /at .*\.js:\d+/);
  });
  it('has a help a newcomer can follow', () => {
    const run = convlens(['help']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /convlens shape LAYER --input SHAPE/);
    assert.match(run.stdout, /convlens solve transposed/);
  });
});

describe('convlens trace', () => {
  const EXAMPLE = path.resolve(__dirname, '../../../examples/pytorch/dcgan.py');

  it('lists every layer call of forward as JSON, with where each layer was built', () => {
    const run = convlens(['trace', EXAMPLE, '--entry', 'Generator()', '--input', '2,100,1,1', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      layers: { file: string; line: number; col: number; op: string; input: number[]; output: number[] }[];
      diagnostics: unknown[];
    };
    // DCGAN generator: ConvTranspose2d(100, 512, 4, 1, 0) takes 1×1 to (1 − 1)·1 + 3 + 1 = 4 (PyTorch docs).
    assert.deepEqual(result.layers[0], {
      file: EXAMPLE,
      line: 22,
      col: 12,
      op: 'ConvTranspose2d',
      input: [2, 100, 1, 1],
      output: [2, 512, 4, 4],
    });
    assert.deepEqual(result.layers.at(-1)!.output, [2, 3, 64, 64]);
    assert.ok(result.layers.every((layer) => Object.keys(layer).join() === 'file,line,col,op,input,output'));
    assert.deepEqual(result.diagnostics, []);
  });

  it('explains a missing file or entry without a stack trace', () => {
    const missing = convlens(['trace', 'no-such-model.py', '--entry', 'Net()', '--input', '1,3,8,8']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read no-such-model\.py/);
    const usage = convlens(['trace', EXAMPLE, '--input', '1,3,8,8']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--entry EXPR is required/);
  });
});
