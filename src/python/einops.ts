/**
 * Shapes of einops patterns and einsum equations: `rearrange(x, 'b (h w) c -> b c h w', h=8)`,
 * `repeat`, `reduce`, the Rearrange / Reduce modules, and `torch.einsum('bhid,bhjd->bhij', q, k)`.
 *
 * einops (einops/einops.py): the left side names every input dimension — a parenthesised group is a product
 * of axes, `...` stands for any number of dimensions, `1` and other numbers are anonymous axes of that size;
 * one unknown axis per group is solved from the dimension. The right side composes the output; `repeat` may
 * add axes whose lengths are given, `reduce` drops the axes it does not name. einsum (torch.einsum): each
 * letter is one size across the operands; the output lists the letters after `->`, or, without an arrow,
 * the letters that appear once, in alphabetical order.
 */
import type { Dim } from './values';

type Atom = { kind: 'name'; name: string } | { kind: 'number'; value: number } | { kind: 'ellipsis' };
type Group = Atom[];

/** Parses one side of a pattern into groups (a bare atom is a group of one). Null when it is malformed. */
function parseSide(text: string): Group[] | null {
  const groups: Group[] = [];
  let current: Group | null = null;
  const tokens = text.match(/\.\.\.|…|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|\S/g) ?? [];
  for (const token of tokens) {
    if (token === '(') {
      if (current) return null;
      current = [];
    } else if (token === ')') {
      if (!current) return null;
      groups.push(current);
      current = null;
    } else {
      let atom: Atom;
      if (token === '...' || token === '…') atom = { kind: 'ellipsis' };
      else if (/^\d+$/.test(token)) atom = { kind: 'number', value: Number(token) };
      else if (/^[A-Za-z_]/.test(token)) atom = { kind: 'name', name: token };
      else return null;
      if (current) current.push(atom);
      else groups.push([atom]);
    }
  }
  return current ? null : groups;
}

export type PatternResult = { ok: true; shape: Dim[] } | { ok: false; error: string | null };

/**
 * The output shape of an einops operation on an input of `shape`, with the axis lengths given as keywords.
 * An error message when the pattern and the input certainly disagree; null error when it cannot be told.
 */
export function einopsShape(
  operation: 'rearrange' | 'repeat' | 'reduce',
  shape: readonly Dim[],
  pattern: string,
  lengths: ReadonlyMap<string, number | null>,
): PatternResult {
  const [leftText, rightText, extra] = pattern.split('->');
  if (leftText === undefined || rightText === undefined || extra !== undefined)
    return { ok: false, error: null };
  const left = parseSide(leftText);
  const right = parseSide(rightText);
  if (!left || !right) return { ok: false, error: null };
  const sizes = new Map<string, Dim>();
  for (const [name, value] of lengths) sizes.set(name, value);
  const ellipsisGroup = left.findIndex((group) => group.some((atom) => atom.kind === 'ellipsis'));
  const fixed = left.length - (ellipsisGroup >= 0 ? 1 : 0);
  if (ellipsisGroup < 0 ? shape.length !== left.length : shape.length < fixed) {
    return {
      ok: false,
      error: `Wrong shape: expected ${ellipsisGroup < 0 ? left.length : `at least ${fixed}`} dims. Received ${shape.length}-dim tensor.`,
    };
  }
  const ellipsisLength = shape.length - fixed;
  let ellipsisDims: Dim[] = [];
  let axis = 0;
  for (let g = 0; g < left.length; g++) {
    const group = left[g]!;
    if (g === ellipsisGroup) {
      ellipsisDims = shape.slice(axis, axis + ellipsisLength) as Dim[];
      if (group.length > 1) return { ok: false, error: null };
      axis += ellipsisLength;
      continue;
    }
    const dim = shape[axis++]!;
    let known = 1;
    let unknownAtoms: string[] = [];
    let knownComplete = true;
    for (const atom of group) {
      if (atom.kind === 'number') known *= atom.value;
      else if (atom.kind === 'name') {
        const size = sizes.get(atom.name);
        if (size === undefined) unknownAtoms.push(atom.name);
        else if (size === null) knownComplete = false;
        else known *= size;
      }
    }
    unknownAtoms = [...new Set(unknownAtoms)];
    if (unknownAtoms.length > 1) {
      unknownAtoms.forEach((name) => sizes.set(name, null));
      continue;
    }
    if (unknownAtoms.length === 1) {
      const name = unknownAtoms[0]!;
      if (dim === null || !knownComplete) sizes.set(name, null);
      else if (known === 0 || dim % known !== 0)
        return {
          ok: false,
          error: `Shape mismatch, can't divide axis of length ${dim} in chunks of ${known}`,
        };
      else sizes.set(name, dim / known);
    } else if (dim !== null && knownComplete && dim !== known) {
      return { ok: false, error: `Shape mismatch, ${dim} != ${known}` };
    }
  }
  const output: Dim[] = [];
  for (const group of right) {
    if (group.length === 1 && group[0]!.kind === 'ellipsis') {
      output.push(...ellipsisDims);
      continue;
    }
    let size: Dim = 1;
    for (const atom of group) {
      let part: Dim;
      if (atom.kind === 'number') part = atom.value;
      else if (atom.kind === 'ellipsis')
        part = ellipsisDims.reduce<Dim>((a, b) => (a === null || b === null ? null : a * b), 1);
      else {
        const found = sizes.get(atom.name);
        if (found === undefined)
          return {
            ok: false,
            error:
              operation === 'repeat'
                ? `Specify sizes for new axes in repeat: ${atom.name}`
                : `Identifiers only on one side of expression (should be on both): {'${atom.name}'}`,
          };
        part = found;
      }
      size = size === null || part === null ? null : size * part;
    }
    output.push(size);
  }
  return { ok: true, shape: output };
}

/** The output shape of torch.einsum / jnp.einsum, or an error when the operands disagree on a letter. */
export function einsumShape(equation: string, operands: readonly (readonly Dim[])[]): PatternResult {
  const clean = equation.replace(/\s+/g, '');
  const [inputText, outputText] = clean.split('->');
  const inputs = inputText!.split(',');
  if (inputs.length !== operands.length || clean.includes('.')) return { ok: false, error: null };
  const sizes = new Map<string, Dim>();
  const counts = new Map<string, number>();
  for (let i = 0; i < inputs.length; i++) {
    const letters = [...inputs[i]!];
    const shape = operands[i]!;
    if (letters.length !== shape.length)
      return {
        ok: false,
        error: `einsum(): the number of subscripts in the equation (${letters.length}) does not match the number of dimensions (${shape.length}) for operand ${i}.`,
      };
    letters.forEach((letter, axis) => {
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
      const dim = shape[axis]!;
      const seen = sizes.get(letter);
      if (seen === undefined || seen === 1) sizes.set(letter, dim);
      else if (dim !== null && seen !== null && dim !== seen && dim !== 1) sizes.set(letter, NaN);
    });
  }
  for (const [letter, size] of sizes)
    if (Number.isNaN(size))
      return { ok: false, error: `einsum(): operands do not broadcast for subscript ${letter}.` };
  const outputLetters =
    outputText !== undefined
      ? [...outputText]
      : [...counts]
          .filter(([, n]) => n === 1)
          .map(([l]) => l)
          .sort();
  if (outputLetters.some((letter) => !sizes.has(letter))) return { ok: false, error: null };
  return { ok: true, shape: outputLetters.map((letter) => sizes.get(letter)!) };
}
