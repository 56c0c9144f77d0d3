/**
 * Real-world-style models (test/fixtures/models, see its README) traced statically and compared, layer by
 * layer, with the shapes a forward pass produces (derived from each framework's documented formulas; the
 * derivation is stated per model in the manifest).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileLoader } from '../../src/cli/fileLoader';
import { traceModel } from '../../src/python/analysis';

const FIXTURES = [
  path.resolve(__dirname, '../../../test/fixtures/models'),
  path.resolve('test/fixtures/models'),
].find((dir) => fs.existsSync(path.join(dir, 'manifest.json')))!;

interface ManifestEntry {
  file: string;
  framework: string;
  entry: string;
  inputs: number[][];
  expected: {
    layers: { file: string; line: number; col: number; op: string; input: unknown; output: unknown }[];
    diagnostics: string[];
  };
  framework_error?: string;
}

describe('real-world-style models traced statically', () => {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'),
  ) as ManifestEntry[];
  for (const model of manifest) {
    it(`${model.file}: ${model.entry} on ${model.inputs.map((s) => `(${s.join(', ')})`).join(', ')}`, () => {
      const loader = new FileLoader();
      const file = loader.load(path.join(FIXTURES, model.file));
      assert.ok(file, `cannot read ${model.file}`);
      const result = traceModel(file, model.entry, model.inputs, {
        loader,
        displayPath: (f) => path.relative(FIXTURES, f.path),
      });
      const actual = result.layers.map((l) => ({
        file: l.file,
        line: l.line,
        col: l.col,
        op: l.op,
        input: l.input,
        output: l.output,
      }));
      // A model that fails in the framework is compared up to the layer where the forward pass stops.
      const compared = model.framework_error ? actual.slice(0, model.expected.layers.length) : actual;
      const firstDifference = model.expected.layers.findIndex(
        (layer, i) => JSON.stringify(layer) !== JSON.stringify(compared[i]),
      );
      assert.ok(
        firstDifference < 0 && compared.length === model.expected.layers.length,
        `${compared.length} layers traced, ${model.expected.layers.length} expected; first difference at #${firstDifference}:\n` +
          `  expected ${JSON.stringify(model.expected.layers[firstDifference])}\n  actual   ${JSON.stringify(compared[firstDifference])}\n` +
          `  problems ${JSON.stringify(result.problems)}`,
      );
      for (const text of model.expected.diagnostics) {
        assert.ok(
          result.diagnostics.some((d) => d.message.includes(text)),
          `no diagnostic mentions ${text}: ${JSON.stringify(result.diagnostics)}`,
        );
      }
      if (model.expected.diagnostics.length === 0) {
        assert.deepEqual(
          result.diagnostics.filter((d) => d.severity === 'error'),
          [],
        );
      }
    });
  }
});
