/**
 * `convlens shape LAYER --input SHAPE`: one layer, one input, everything the core knows about it.
 */
import { analyzeLayerCall, layerReport, parseShape } from '../core/describe';
import type { Framework } from '../core/arithmetic/types';
import { parseOptions, reportUsage, UsageError } from './options';

const FRAMEWORKS: readonly Framework[] = ['pytorch', 'keras', 'tensorflow', 'flax', 'jax', 'onnx'];

export function runShape(args: readonly string[]): number {
  try {
    const options = parseOptions(args, ['input', 'output-size', 'framework'], ['json']);
    if (options.positional.length !== 1) {
      throw new UsageError(
        'give one layer, quoted, e.g. convlens shape "nn.Conv2d(3, 16, 3)" --input 1,3,32,32',
      );
    }
    const inputText = options.values.get('input');
    if (inputText === undefined) throw new UsageError('--input SHAPE is required, e.g. --input 1,3,224,224');
    const framework = options.values.get('framework') as Framework | undefined;
    if (framework !== undefined && !FRAMEWORKS.includes(framework)) {
      throw new UsageError(`--framework must be one of ${FRAMEWORKS.join(', ')}.`);
    }
    const input = parseShape(inputText);
    if (!input.ok) return fail(input.error, options.flags.has('json'));
    const outputSizeText = options.values.get('output-size');
    const outputSize = outputSizeText === undefined ? null : parseShape(outputSizeText);
    if (outputSize && !outputSize.ok)
      return fail(`--output-size: ${outputSize.error}`, options.flags.has('json'));

    const analysis = analyzeLayerCall(
      options.positional[0]!,
      input.value,
      framework,
      outputSize?.value ?? null,
    );
    if (!analysis.ok) return fail(analysis.error, options.flags.has('json'));
    const report = layerReport(analysis.value);
    if (options.flags.has('json')) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      const lines = [
        `${report.layer}`,
        `  input   ${report.inputText}`,
        `  output  ${report.outputText}`,
        ...report.formulas.map((formula) => `          ${formula}`),
      ];
      if (report.weight)
        lines.push(`  weight  ${report.weightText}${report.bias ? `   bias ${report.biasText}` : ''}`);
      lines.push(
        `  params  ${report.params.toLocaleString('en-US')}`,
        `  MACs    ${report.macs.toLocaleString('en-US')}`,
      );
      for (const note of report.notes) lines.push(`  note    ${note}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  } catch (error) {
    return reportUsage('shape', error);
  }
}

function fail(message: string, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify({ error: message }) + '\n');
  else process.stderr.write(`convlens shape: ${message}\n`);
  return 1;
}
