/**
 * `convlens trace FILE --entry EXPR --input SHAPE [--input SHAPE ...] [--json]`: builds the model with EXPR in
 * FILE's module scope and follows the given input shapes through its forward pass, statically.
 */
import * as path from 'node:path';
import { formatShape } from '../core/arithmetic/args';
import { parseShape } from '../core/describe';
import { traceModel } from '../python/analysis';
import type { Dim } from '../python/values';
import { FileLoader } from './fileLoader';
import { parseOptions, reportUsage, UsageError } from './options';

export function runTrace(args: readonly string[]): number {
  try {
    const options = parseOptions(args, ['entry', 'input'], ['json']);
    // --input may repeat: one per positional argument of forward.
    const inputs: Dim[][] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      const value = arg === '--input' ? args[i + 1] : arg.startsWith('--input=') ? arg.slice(8) : undefined;
      if (value === undefined) continue;
      const shape = parseShape(value);
      if (!shape.ok) throw new UsageError(`--input ${value}: ${shape.error}`);
      inputs.push(shape.value);
    }
    const [fileArg] = options.positional;
    if (!fileArg || options.positional.length > 1) throw new UsageError('give one Python file to trace.');
    const entry = options.values.get('entry');
    if (!entry)
      throw new UsageError("--entry EXPR is required, e.g. --entry 'UNet(n_channels=3, n_classes=2)'");
    if (inputs.length === 0)
      throw new UsageError('give at least one --input SHAPE, e.g. --input 1,3,572,572');
    const loader = new FileLoader();
    const file = loader.load(fileArg);
    if (!file) {
      process.stderr.write(`convlens trace: cannot read ${fileArg}.\n`);
      return 1;
    }
    const cwd = process.cwd();
    const result = traceModel(file, entry, inputs, {
      loader,
      // Paths are shown the way the file was named: absolute when given absolute, else relative to here.
      displayPath: (f) =>
        f.path.startsWith('<') || path.isAbsolute(fileArg) ? f.path : path.relative(cwd, f.path) || f.path,
    });
    if (options.flags.has('json')) {
      process.stdout.write(
        JSON.stringify({
          layers: result.layers,
          diagnostics: result.diagnostics,
          problems: result.problems,
        }) + '\n',
      );
      return 0;
    }
    const rows = result.layers.map((layer) => [
      `${layer.file}:${layer.line}:${layer.col}`,
      layer.op,
      layer.input ? formatShape(layer.input.map((d) => d ?? NaN)).replace(/NaN/g, '?') : '?',
      layer.output ? formatShape(layer.output.map((d) => d ?? NaN)).replace(/NaN/g, '?') : '?',
    ]);
    const header = ['where', 'layer', 'input', 'output'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    const out = [line(header), ...rows.map(line)];
    for (const d of result.diagnostics) out.push(`${d.severity}: ${d.file}:${d.line}:${d.col}: ${d.message}`);
    for (const problem of result.problems) out.push(`note: ${problem}`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } catch (error) {
    return reportUsage('trace', error);
  }
}
