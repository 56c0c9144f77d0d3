/**
 * Answers "what does this layer do to this input?" for a layer written as text, in the form people read:
 * the output shape, weights and parameter count. Shared by the CLI and the command palette.
 */
import { bindArguments, formatShape } from './arithmetic/args';
import { resolveLayerName } from './arithmetic/registry';
import type { BoundArgs, Framework, LayerDef, LayerShape, Outcome } from './arithmetic/types';
import { fail, ok } from './arithmetic/types';
import { dimFormula, dimNames } from './arithmetic/symbolic';

import { parseCallExpression } from './callExpression';

const FUNCTIONAL_PREFIXES = ['torch.nn.functional.', 'tf.nn.', 'jax.lax.'];

export interface LayerAnalysis {
  readonly def: LayerDef;
  readonly args: BoundArgs;
  readonly input: number[];
  readonly shape: LayerShape;
}

/** Parses a shape written as `1,64,16,16`, `(1, 64, 16, 16)` or `[1, 64, 16, 16]`. */
export function parseShape(text: string): Outcome<number[]> {
  const inner = text.trim().replace(/^[([]|[)\]]$/g, '');
  if (inner.trim() === '') return fail('The input shape is empty; write it like 1,3,224,224.');
  const parts = inner.split(/[,x×\s]+/).filter((part) => part !== '');
  const shape: number[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (!Number.isInteger(value) || value < 0) {
      return fail(
        `'${part}' in the input shape is not a size; sizes are non-negative integers, e.g. 1,3,224,224.`,
      );
    }
    shape.push(value);
  }
  return ok(shape);
}

export function analyzeLayerCall(
  layerText: string,
  input: readonly number[],
  preferred?: Framework,
  outputSize?: readonly number[] | null,
): Outcome<LayerAnalysis> {
  const call = parseCallExpression(layerText);
  if (!call.ok) return call;
  const candidates = resolveLayerName(call.value.callee, preferred);
  if (candidates.length === 0) return fail(`'${call.value.callee}' is not a layer Conv Lens knows.`);
  const def = candidates[0]!;
  // Functional forms take the input tensor first (`F.conv2d(x, w, ...)`); its shape is `input`, so a bare
  // name there is dropped rather than bound to the next parameter.
  const takesTensorFirst = FUNCTIONAL_PREFIXES.some((prefix) => def.name.startsWith(prefix));
  const dropInput =
    takesTensorFirst && call.value.positionalNames[0] !== null && call.value.positional.length > 0;
  const positional = dropInput ? call.value.positional.slice(1) : call.value.positional;
  const args = bindArguments(def.name, def.params, positional, call.value.keyword);
  if (!args.ok) return args;
  const shape = def.infer(args.value, input, { outputSize: outputSize ?? null });
  if (!shape.ok) return shape;
  return ok({ def, args: args.value, input: [...input], shape: shape.value });
}

/** Everything about one analysed layer, ready to print or to serialise (`convlens shape --json`). */
export interface LayerReport {
  readonly layer: string;
  readonly framework: Framework;
  readonly input: number[];
  readonly output: number[];
  readonly inputText: string;
  readonly outputText: string;
  /** One formula per spatial dimension, e.g. `H_out = 2·H_in`. */
  readonly formulas: string[];
  readonly weight: number[] | null;
  readonly weightText: string | null;
  readonly bias: number[] | null;
  readonly biasText: string | null;
  readonly params: number;
  readonly macs: number;
  readonly notes: string[];
}

export function layerReport(analysis: LayerAnalysis): LayerReport {
  const { def, shape, input } = analysis;
  const names = dimNames(shape.dims.length);
  return {
    layer: def.name,
    framework: def.framework,
    input,
    output: shape.output,
    inputText: formatShape(input),
    outputText: formatShape(shape.output),
    formulas: shape.dims.map((rule, i) => dimFormula(rule, names[i]!)),
    weight: shape.weightShape,
    weightText: shape.weightShape && formatShape(shape.weightShape),
    bias: shape.biasShape,
    biasText: shape.biasShape && formatShape(shape.biasShape),
    params: shape.params,
    macs: shape.macs,
    notes: shape.notes,
  };
}

/** A few lines of plain text: the answer, or what is wrong. */
export function describeLayerCall(layerText: string, inputText: string): string {
  const input = parseShape(inputText);
  if (!input.ok) return input.error;
  const analysis = analyzeLayerCall(layerText, input.value);
  if (!analysis.ok) return analysis.error;
  const report = layerReport(analysis.value);
  const lines = [`${report.layer}: ${report.inputText} → ${report.outputText}`, ...report.formulas];
  if (report.weightText) lines.push(`weight ${report.weightText}`);
  lines.push(`params ${report.params.toLocaleString('en-US')}, MACs ${report.macs.toLocaleString('en-US')}`);
  lines.push(...report.notes);
  return lines.join('\n');
}
