/**
 * Answers "what does this layer do to this input?" for a layer written as text, in the form people read:
 * the output shape, weights and parameter count. Shared by the CLI and the command palette.
 */
import { bindArguments, formatShape } from './arithmetic/args';
import { resolveLayerName } from './arithmetic/registry';
import type { BoundArgs, Framework, LayerDef, LayerShape, Outcome } from './arithmetic/types';
import { fail, ok } from './arithmetic/types';
import { parseCallExpression } from './callExpression';

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
  const args = bindArguments(def.name, def.params, call.value.positional, call.value.keyword);
  if (!args.ok) return args;
  const shape = def.infer(args.value, input, { outputSize: outputSize ?? null });
  if (!shape.ok) return shape;
  return ok({ def, args: args.value, input: [...input], shape: shape.value });
}

/** A few lines of plain text: the answer, or what is wrong. */
export function describeLayerCall(layerText: string, inputText: string): string {
  const input = parseShape(inputText);
  if (!input.ok) return input.error;
  const analysis = analyzeLayerCall(layerText, input.value);
  if (!analysis.ok) return analysis.error;
  const { def, shape } = analysis.value;
  const lines = [`${def.name}: ${formatShape(input.value)} → ${formatShape(shape.output)}`];
  if (shape.weightShape) lines.push(`weight ${formatShape(shape.weightShape)}`);
  lines.push(`params ${shape.params.toLocaleString('en-US')}, MACs ${shape.macs.toLocaleString('en-US')}`);
  lines.push(...shape.notes);
  return lines.join('\n');
}
