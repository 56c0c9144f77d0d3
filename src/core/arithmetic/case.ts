/**
 * One shape question in the golden-case format (../shared/oracle): a layer, its arguments and an input
 * shape. `convlens eval` and the oracle tests both answer through `evaluateCase`, so there is one path from
 * a case to an answer.
 *
 *   PyTorch, Flax, JAX: {"op": "torch.nn.ConvTranspose2d", "args": {...}, "input": [...], "output_size"?: [...]}
 *   ONNX:               {"op": "onnx.Conv", "attrs": {...}, "input": [...], "weight": [...]}
 *
 * ONNX layers receive the node attributes as their arguments plus `weight_shape`, the shape of input W.
 */
import { bindArguments } from './args';
import { layerByQualifiedName } from './registry';
import type { LayerShape, Outcome, PyValue } from './types';
import { fail } from './types';

export type CaseAnswer = { readonly output: number[] } | { readonly error: string };

export function evaluateCase(raw: unknown): CaseAnswer {
  const outcome = inferCase(raw);
  return outcome.ok ? { output: outcome.value.output } : { error: outcome.error };
}

export function inferCase(raw: unknown): Outcome<LayerShape> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('Each case must be a JSON object with "op", "args" (or "attrs") and "input".');
  }
  const record = raw as Record<string, unknown>;
  const op = record['op'];
  if (typeof op !== 'string') return fail('The case has no "op" naming the layer (e.g. "torch.nn.Conv2d").');
  const def = layerByQualifiedName(op);
  if (!def) return fail(`Unknown op '${op}'.`);
  const input = record['input'];
  if (!isShape(input))
    return fail(`"input" must be a list of non-negative integers (a shape), got ${JSON.stringify(input)}.`);

  let keyword: Record<string, PyValue>;
  if (def.framework === 'onnx') {
    const attrs = record['attrs'] ?? {};
    if (!isPyRecord(attrs)) return fail('"attrs" must be an object of ONNX node attributes.');
    keyword = { ...attrs };
    if (record['weight'] !== undefined) {
      if (!isShape(record['weight'])) return fail('"weight" must be the shape of the weight input W.');
      keyword['weight_shape'] = record['weight'];
    }
  } else {
    const args = record['args'] ?? {};
    if (!isPyRecord(args)) return fail('"args" must be an object of keyword arguments.');
    keyword = { ...args };
  }
  const bound = bindArguments(def.name, def.params, [], keyword);
  if (!bound.ok) return bound;

  const outputSize = record['output_size'];
  if (outputSize !== undefined && outputSize !== null && !isIntegerList(outputSize)) {
    return fail('"output_size" must be a list of integers.');
  }
  return def.infer(bound.value, input, { outputSize: (outputSize as number[] | undefined) ?? null });
}

function isIntegerList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

function isShape(value: unknown): value is number[] {
  return isIntegerList(value) && value.every((item) => item >= 0);
}

function isPyValue(value: unknown): value is PyValue {
  if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return true;
  return Array.isArray(value) && value.every(isPyValue);
}

function isPyRecord(value: unknown): value is Record<string, PyValue> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value as Record<string, unknown>).every(isPyValue)
  );
}
