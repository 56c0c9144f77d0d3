/**
 * Half-typed, truncated and mutated model files: the analysis must never throw and must stay within its
 * budget, whatever the text. Mutations come from fast-check with a fixed seed, so failures reproduce.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { traceModel } from '../../src/python/analysis';
import { analyzeDocument } from '../../src/python/document';
import { SourceFile } from '../../src/python/syntax';

const FIXTURES = [
  path.resolve(__dirname, '../../../test/fixtures/models'),
  path.resolve('test/fixtures/models'),
].find((dir) => fs.existsSync(dir))!;
const SOURCES = [
  'dcgan.py',
  'resnet.py',
  'vae.py',
  'melgan.py',
  'pix2pix_networks.py',
  'keras_functional.py',
  'flax_models.py',
].map((name) => fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
const TOKENS = [
  '(',
  ')',
  '[',
  ']',
  ':',
  ',',
  '=',
  '*',
  '**',
  'self.',
  'nn.Conv2d(',
  'x',
  '-1',
  '\n',
  '    ',
  'def ',
  'class ',
  'return ',
  'for i in range(',
  'if ',
  'lambda: ',
  '"',
  "'",
  '#',
  '0',
  '1e309',
  '10**9',
];

/** One edit: cut the text, delete a span, or insert a token. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    token: fc.constantFrom(...TOKENS),
  }),
);

function mutate(
  source: string,
  edits: readonly fc.Arbitrary<unknown>[] | { kind: string; at: number; length?: number; token?: string }[],
): string {
  let text = source;
  for (const e of edits as { kind: string; at: number; length?: number; token?: string }[]) {
    const at = Math.floor(e.at * text.length);
    if (e.kind === 'truncate') text = text.slice(0, at);
    else if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + (e.length ?? 1));
    else text = text.slice(0, at) + (e.token ?? '') + text.slice(at);
  }
  return text;
}

describe('analysis of broken code', () => {
  it('never throws and stays within its budget on mutated model files', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SOURCES.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        (index, edits) => {
          const text = mutate(SOURCES[index]!, edits);
          const started = Date.now();
          const analysis = analyzeDocument(new SourceFile('model.py', text));
          assert.ok(Array.isArray(analysis.layers) && Array.isArray(analysis.diagnostics));
          // The editor budget is 400 ms of interpretation; parsing and reporting add a little.
          assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
          const trace = traceModel(new SourceFile('model.py', text), 'Generator()', [[1, 100, 1, 1]], {
            budget: { steps: 200_000, depth: 60, loopIterations: 10_000, milliseconds: 500 },
          });
          assert.ok(Array.isArray(trace.layers));
        },
      ),
      { seed: 20261126, numRuns: 150 },
    );
  });

  it('gives up cleanly on pathological programs', () => {
    const programs = [
      'import torch.nn as nn\nx = [nn.Conv2d(1, 1, 1) for _ in range(10**8)]\n',
      'def f():\n    return f()\nf()\n',
      'while True:\n    pass\n',
      'x = "a" * 10**9\n',
      'class A(A): pass\nA()\n',
      '('.repeat(5000),
      'x = 1\n'.repeat(20000),
    ];
    for (const program of programs) {
      const started = Date.now();
      const analysis = analyzeDocument(new SourceFile('p.py', program));
      assert.ok(Array.isArray(analysis.layers));
      assert.ok(Date.now() - started < 3_000, `${program.slice(0, 30)}: ${Date.now() - started} ms`);
    }
  });
});
