/**
 * Binding of positional and keyword arguments onto a layer's real signature, and the small conversions every
 * framework needs (an int or a tuple to a per-dimension list, a validated positive integer). Messages name the
 * parameter as the user wrote it.
 */
import { type BoundArgs, type Outcome, type ParamSpec, type PyValue, fail, ok } from './types';

/** Binds `positional` and `keyword` onto `params` the way Python does, filling in defaults. */
export function bindArguments(
  layerName: string,
  params: readonly ParamSpec[],
  positional: readonly PyValue[],
  keyword: Readonly<Record<string, PyValue>>,
): Outcome<BoundArgs> {
  const bound: Record<string, PyValue> = {};
  const positionalParams = params.filter((p) => !p.keywordOnly);
  if (positional.length > positionalParams.length) {
    return fail(
      `${layerName} takes at most ${positionalParams.length} positional arguments ` +
        `(${positionalParams.map((p) => p.name).join(', ')}), but ${positional.length} were given.`,
    );
  }
  positional.forEach((value, index) => {
    bound[positionalParams[index]!.name] = value;
  });
  for (const [name, value] of Object.entries(keyword)) {
    if (!params.some((p) => p.name === name)) {
      const suggestion = closestName(
        name,
        params.map((p) => p.name),
      );
      return fail(
        `${layerName} has no parameter '${name}'.` + (suggestion ? ` Did you mean '${suggestion}'?` : ''),
      );
    }
    if (name in bound) return fail(`${layerName} got '${name}' twice (positionally and by keyword).`);
    bound[name] = value;
  }
  for (const param of params) {
    if (param.name in bound) continue;
    if (param.default === undefined) return fail(`${layerName} needs '${param.name}'.`);
    bound[param.name] = param.default;
  }
  return ok(bound);
}

function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previousDiagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previousDiagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      previousDiagonal = above;
    }
  }
  return row[b.length]!;
}

export function isInteger(value: PyValue): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/**
 * Reads an int-or-tuple parameter as one integer per spatial dimension (`kernel_size=3` → [3, 3]).
 * `min` is the smallest allowed value (1 for kernel sizes and strides, 0 for paddings).
 */
export function perDimension(
  layerName: string,
  paramName: string,
  value: PyValue,
  rank: number,
  min: number,
): Outcome<number[]> {
  const values = Array.isArray(value) ? (value as readonly PyValue[]) : [value];
  if (values.length === 1 && rank > 1) {
    return perDimension(
      layerName,
      paramName,
      Array.from({ length: rank }, () => values[0]!),
      rank,
      min,
    );
  }
  if (values.length !== rank) {
    return fail(
      `${layerName}: ${paramName} has ${values.length} values (${formatValue(value)}), ` +
        `but this layer has ${rank} spatial dimension${rank === 1 ? '' : 's'}.`,
    );
  }
  const result: number[] = [];
  for (const item of values) {
    if (!isInteger(item)) {
      return fail(
        `${layerName}: ${paramName} must be an integer or a tuple of integers, not ${formatValue(value)}.`,
      );
    }
    if (item < min) {
      return fail(
        `${layerName}: ${paramName} must be ${min === 0 ? 'non-negative' : `at least ${min}`}, got ${formatValue(value)}.`,
      );
    }
    result.push(item);
  }
  return ok(result);
}

/** Reads a parameter that must be one integer (channels, groups, features). */
export function integerArg(
  layerName: string,
  paramName: string,
  value: PyValue,
  min: number,
): Outcome<number> {
  if (!isInteger(value))
    return fail(`${layerName}: ${paramName} must be an integer, not ${formatValue(value)}.`);
  if (value < min) return fail(`${layerName}: ${paramName} must be at least ${min}, got ${value}.`);
  return ok(value);
}

/** Python-style rendering of a value for messages: tuples in parentheses, strings quoted. */
export function formatValue(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) {
    const items = (value as readonly PyValue[]).map(formatValue);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  return String(value);
}

/** Renders a shape as the frameworks print it: (1, 3, 224, 224). */
export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export const product = (values: readonly number[]): number => values.reduce((a, b) => a * b, 1);

/** Python's floor division for integers (rounds toward −∞, unlike Math.trunc). */
export const floorDiv = (a: number, b: number): number => Math.floor(a / b);
export const ceilDiv = (a: number, b: number): number => -Math.floor(-a / b);

/** The span a dilated kernel covers: d·(k − 1) + 1. */
export const effectiveKernel = (kernel: number, dilation: number): number => dilation * (kernel - 1) + 1;
