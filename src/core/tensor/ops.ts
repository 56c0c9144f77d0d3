/**
 * Tensor operations over shapes whose sizes may be unknown. The static shape interpreter follows a tensor
 * through a model's forward pass with these: every function takes shapes, returns the result shape or a
 * message in the user's words, and never guesses — a size that cannot be known is `null` and stays `null`.
 *
 * Conventions shared by every function here:
 * - `Dim` is a non-negative integer, or `null` for a size that is not known statically (a batch size given
 *   as None, a size read from data).
 * - Dimensions are counted from 0; negative dims count from the end. `normalizeDim` turns either into an
 *   index and words the range error the same way everywhere. Like PyTorch (maybe_wrap_dim), a 0-D tensor
 *   accepts dim 0 and −1 as if it were 1-D.
 * - Shapes print as the frameworks print them, with `None` for an unknown size: (None, 64, 56, 56).
 *
 * Sources: torch/_refs/__init__.py and torch/_prims_common/__init__.py (the reference shape rules of
 * cat, stack, reshape, flatten, unflatten, expand, repeat, chunk, split, squeeze), aten/src/ATen/ExpandUtils.cpp
 * (infer_size: broadcasting), aten/src/ATen/native/LinearAlgebra.cpp (matmul), aten/src/ATen/InferSize.h
 * (infer_size for view/reshape), torch/csrc/autograd/python_variable_indexing.cpp + NumPy's "Indexing on
 * ndarrays" (basic and advanced indexing), torch/nn/functional.py (interpolate, pad),
 * aten/src/ATen/native/UpSample.cpp (compute_output_size), aten/src/ATen/native/PadNd.cpp (_pad_enum,
 * constant_pad_nd, _pad_circular), ReflectionPad.cpp and ReplicationPad.cpp (their size checks).
 */
import { formatValue, isInteger } from '../arithmetic/args';
import type {
  BoundArgs,
  DimRule,
  Framework,
  LayerDef,
  LayerShape,
  Outcome,
  ParamSpec,
  PyValue,
} from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';

/** A size, or null when it is not known statically. */
export type Dim = number | null;
/** A tensor's shape, outermost dimension first. */
export type TensorShape = readonly Dim[];

/** PyTorch refuses tensors of more than 64 dimensions; nothing real comes close. */
export const MAX_RANK = 64;

/** Splits and unbinds that would return more pieces than this are refused rather than enumerated. */
export const MAX_PIECES = 1 << 16;

// ---------------------------------------------------------------------------------------------------------
// Rendering and validation
// ---------------------------------------------------------------------------------------------------------

/** Renders a shape as the frameworks print it, with None for unknown sizes: (None, 3, 224, 224), (5,), (). */
export function formatDims(shape: TensorShape): string {
  const items = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
}

/** A short description of a value that may not be a Python value at all (for "must be an integer" messages). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isPyValueLike(value)) return formatValue(value);
  return `a ${typeof value}`;
}

function isPyValueLike(value: unknown): value is PyValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return true;
  return Array.isArray(value) && value.every(isPyValueLike);
}

/**
 * Checks that `shape` is a list of sizes: each a non-negative safe integer or null. Everything that enters
 * from outside (an interpreter's evaluation of user code) goes through here first, so nothing below has to
 * fear NaN, strings or negative sizes.
 */
export function checkShape(shape: unknown, what = 'the input'): Outcome<Dim[]> {
  if (!Array.isArray(shape))
    return fail(`${what} must be a shape (a list of sizes), not ${describeValue(shape)}.`);
  if (shape.length > MAX_RANK) {
    return fail(`${what} has ${shape.length} dimensions; tensors have at most ${MAX_RANK}.`);
  }
  for (let i = 0; i < shape.length; i++) {
    const size: unknown = shape[i];
    if (size === null) continue;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      return fail(
        `${what} has an invalid size ${describeValue(size)} at dimension ${i}; sizes must be non-negative ` +
          `integers (or None when unknown).`,
      );
    }
  }
  return ok([...(shape as Dim[])]);
}

/**
 * Turns a possibly negative dim into an index in [0, rank). The valid range is −rank … rank − 1; a 0-D
 * tensor accepts −1 and 0 (PyTorch's maybe_wrap_dim with wrap_scalar). `name` is how the user calls the
 * argument (`dim`, `axis`, `start_dim`).
 */
export function normalizeDim(dim: unknown, rank: number, name = 'dim'): Outcome<number> {
  if (!isInteger(dim as PyValue)) return fail(`${name} must be an integer, not ${describeValue(dim)}.`);
  const d = dim as number;
  const span = Math.max(rank, 1);
  if (d < -span || d >= span) {
    const label = name === 'dim' ? 'dim' : `${name}`;
    return fail(`${label} ${d} is out of range for a ${rank}-D tensor (valid ${-span} to ${span - 1}).`);
  }
  return ok(d < 0 ? d + span : d);
}

/** Normalises a list of dims and refuses repeats (`dim 1 appears twice in (1, -3)`). */
export function normalizeDims(dims: unknown, rank: number, name = 'dim'): Outcome<number[]> {
  const list = Array.isArray(dims) ? (dims as unknown[]) : [dims];
  const result: number[] = [];
  for (const item of list) {
    const d = normalizeDim(item, rank, name);
    if (!d.ok) return d;
    if (result.includes(d.value)) {
      return fail(
        `${name} ${d.value} appears more than once in ${describeValue(dims)} (a ${rank}-D tensor); each ` +
          `dimension can be named once.`,
      );
    }
    result.push(d.value);
  }
  return ok(result);
}

/** The product of sizes: 0 if any size is 0 (whatever the unknowns), else null if any is unknown. */
export function productOf(dims: TensorShape): Outcome<Dim> {
  if (dims.some((d) => d === 0)) return ok(0);
  if (dims.some((d) => d === null)) return ok(null);
  let total = 1;
  for (const d of dims as number[]) {
    total *= d;
    if (!Number.isSafeInteger(total)) {
      return fail(
        `the sizes ${formatDims(dims)} multiply to more than 2^53 elements, which no tensor can hold.`,
      );
    }
  }
  return ok(total);
}

/** The number of elements (torch.numel, np.size): null when an unknown size decides it. */
export function numel(shape: TensorShape): Outcome<Dim> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  return productOf(checked.value);
}

/** The size at one dim, as `x.size(d)` / `x.shape[d]` reads it: null when that size is unknown. */
export function sizeAt(shape: TensorShape, dim: number): Outcome<Dim> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) {
    return fail(`a 0-D tensor has no dimensions to read: x.size(${dim}) / x.shape[${dim}] is out of range.`);
  }
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  return ok(checked.value[d.value]!);
}

/** Two sizes that must be equal, merged: a known size wins over an unknown one; null when they disagree. */
function mergeEqual(a: Dim, b: Dim): { ok: true; value: Dim } | { ok: false } {
  if (a === null) return { ok: true, value: b };
  if (b === null || a === b) return { ok: true, value: a };
  return { ok: false };
}

function sumDims(dims: readonly Dim[]): Outcome<Dim> {
  if (dims.some((d) => d === null)) return ok(null);
  const total = (dims as number[]).reduce((a, b) => a + b, 0);
  if (!Number.isSafeInteger(total)) return fail('the sizes add up to more than 2^53.');
  return ok(total);
}

// ---------------------------------------------------------------------------------------------------------
// Broadcasting
// ---------------------------------------------------------------------------------------------------------

/**
 * NumPy / PyTorch broadcasting (ExpandUtils.cpp infer_size): shapes are aligned from the right, a missing
 * dimension counts as 1, and each pair of sizes must be equal or contain a 1. An unknown size next to a
 * known size s ≠ 1 must be 1 or s, so the result is s; next to a 1 or another unknown it stays unknown.
 * `verb` names the operation in the message: "cannot add shapes (1, 64, 56, 56) and (1, 64, 57, 57):
 * dimension 2 is 56 vs 57".
 */
export function broadcast(a: TensorShape, b: TensorShape, verb = 'broadcast'): Outcome<Dim[]> {
  const left = checkShape(a, 'the first shape');
  if (!left.ok) return left;
  const right = checkShape(b, 'the second shape');
  if (!right.ok) return right;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)]! : 1;
    const y = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)]! : 1;
    if (x === y) out.push(x);
    else if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === null) out.push(y);
    else if (y === null) out.push(x);
    else {
      const where =
        a.length === b.length ? `dimension ${i}` : `dimension ${i - rank} (aligned from the right)`;
      return fail(
        `cannot ${verb} shapes ${formatDims(a)} and ${formatDims(b)}: ${where} is ${x} vs ${y}. Sizes must be ` +
          `equal, or 1 to broadcast.`,
      );
    }
  }
  return ok(out);
}

/** Broadcasts several shapes together (torch.broadcast_shapes, torch.where, jnp.broadcast_shapes). */
export function broadcastMany(shapes: readonly TensorShape[], verb = 'broadcast'): Outcome<Dim[]> {
  if (shapes.length === 0) return ok([]);
  let acc = checkShape(shapes[0], 'the first shape');
  for (let i = 1; i < shapes.length && acc.ok; i++) acc = broadcast(acc.value, shapes[i]!, verb);
  return acc;
}

// ---------------------------------------------------------------------------------------------------------
// Joining and splitting
// ---------------------------------------------------------------------------------------------------------

/**
 * torch.cat / jnp.concatenate along `dim`: same rank, every other dimension equal, the sizes along `dim`
 * added. PyTorch still skips 1-D empty tensors of shape (0,) (the legacy rule in cat's shape check).
 */
export function cat(shapes: readonly TensorShape[], dim = 0): Outcome<Dim[]> {
  if (!Array.isArray(shapes) || shapes.length === 0) {
    return fail('cannot concatenate an empty list of tensors; pass at least one.');
  }
  const checked: Dim[][] = [];
  for (let i = 0; i < shapes.length; i++) {
    const shape = checkShape(shapes[i], `tensor ${i}`);
    if (!shape.ok) return shape;
    checked.push(shape.value);
  }
  const kept = checked
    .map((shape, index) => ({ shape, index }))
    .filter(({ shape }) => !(shape.length === 1 && shape[0] === 0));
  if (kept.length === 0) return ok([0]);
  const scalar = kept.find(({ shape }) => shape.length === 0);
  if (scalar) {
    return fail(
      `zero-dimensional tensors cannot be concatenated (tensor ${scalar.index} has shape ()); use stack, or ` +
        `unsqueeze them first.`,
    );
  }
  const first = kept[0]!;
  const rank = first.shape.length;
  const d = normalizeDim(dim, rank);
  if (!d.ok) return d;
  const out = [...first.shape];
  for (const { shape, index } of kept.slice(1)) {
    if (shape.length !== rank) {
      return fail(
        `cannot concatenate tensors of different ranks: tensor ${first.index} is ${rank}-D ` +
          `${formatDims(first.shape)} and tensor ${index} is ${shape.length}-D ${formatDims(shape)}; all need ` +
          `the same number of dimensions.`,
      );
    }
    for (let j = 0; j < rank; j++) {
      if (j === d.value) continue;
      const merged = mergeEqual(out[j]!, shape[j]!);
      if (!merged.ok) {
        return fail(
          `cannot concatenate ${formatDims(first.shape)} and ${formatDims(shape)} along dim ${d.value}: ` +
            `dimension ${j} is ${out[j]} vs ${shape[j]} (every dimension except dim ${d.value} must match).`,
        );
      }
      out[j] = merged.value;
    }
  }
  const total = sumDims(kept.map(({ shape }) => shape[d.value]!));
  if (!total.ok) return total;
  out[d.value] = total.value;
  return ok(out);
}

/** torch.stack / jnp.stack: identical shapes, joined along a new dimension at `dim` (−rank−1 … rank). */
export function stack(shapes: readonly TensorShape[], dim = 0): Outcome<Dim[]> {
  if (!Array.isArray(shapes) || shapes.length === 0) {
    return fail('stack needs at least one tensor.');
  }
  const first = checkShape(shapes[0], 'tensor 0');
  if (!first.ok) return first;
  const common = [...first.value];
  for (let i = 1; i < shapes.length; i++) {
    const shape = checkShape(shapes[i], `tensor ${i}`);
    if (!shape.ok) return shape;
    const mismatch = (j: number | null) =>
      fail(
        `stack needs tensors of the same shape, but tensor 0 is ${formatDims(first.value)} and tensor ${i} is ` +
          `${formatDims(shape.value)}` +
          (j === null ? '.' : ` (dimension ${j}: ${first.value[j]} vs ${shape.value[j]}).`),
      );
    if (shape.value.length !== common.length) return mismatch(null);
    for (let j = 0; j < common.length; j++) {
      const merged = mergeEqual(common[j]!, shape.value[j]!);
      if (!merged.ok) return mismatch(j);
      common[j] = merged.value;
    }
  }
  const d = normalizeDim(dim, common.length + 1);
  if (!d.ok) return d;
  common.splice(d.value, 0, shapes.length);
  return ok(common);
}

/**
 * torch.chunk: pieces of ceil(size / chunks) along `dim`, the last one smaller, so there may be fewer than
 * `chunks` pieces (size 5 in 3 chunks gives 2, 2, 1; size 6 in 4 chunks gives 2, 2, 2). An empty dimension
 * gives `chunks` empty pieces. The number of pieces depends on the size, so an unknown size is refused.
 */
export function chunk(shape: TensorShape, chunks: number, dim = 0): Outcome<Dim[][]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (!isInteger(chunks) || chunks < 1) {
    return fail(`chunk needs chunks to be a positive integer, got ${describeValue(chunks)}.`);
  }
  if (chunks > MAX_PIECES) return fail(`chunk into ${chunks} pieces is more than supported.`);
  if (checked.value.length === 0) return fail('chunk needs at least a 1-D tensor; this one is 0-D.');
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  const size = checked.value[d.value]!;
  if (size === null) {
    return fail(
      `chunk cannot tell how many pieces an unknown size (dimension ${d.value} of ${formatDims(shape)}) splits ` +
        `into; the count depends on the size.`,
    );
  }
  if (size === 0) return piecesOf(checked.value, d.value, new Array<number>(chunks).fill(0));
  return split(checked.value, Math.ceil(size / chunks), d.value);
}

/**
 * torch.split: an int splits into pieces of that size (the last one smaller); a list gives the piece sizes,
 * which must add up to the size of `dim`. With a list the pieces are known even when the size is not.
 */
export function split(
  shape: TensorShape,
  sizeOrSections: number | readonly number[],
  dim = 0,
): Outcome<Dim[][]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) return fail('split needs at least a 1-D tensor; this one is 0-D.');
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  const size = checked.value[d.value]!;
  if (Array.isArray(sizeOrSections)) {
    const sections = sizeOrSections as readonly unknown[];
    if (!sections.every((s) => isInteger(s as PyValue) && (s as number) >= 0)) {
      return fail(`split sizes must be non-negative integers, got ${describeValue(sections)}.`);
    }
    if (sections.length > MAX_PIECES)
      return fail(`split into ${sections.length} pieces is more than supported.`);
    const total = (sections as number[]).reduce((a, b) => a + b, 0);
    if (size !== null && total !== size) {
      return fail(
        `split sizes ${describeValue(sections)} add up to ${total}, but dimension ${d.value} of ` +
          `${formatDims(shape)} has size ${size}; they must add up exactly.`,
      );
    }
    return piecesOf(checked.value, d.value, sections as number[]);
  }
  const piece = sizeOrSections;
  if (!isInteger(piece) || piece < 0) {
    return fail(`split_size must be a non-negative integer or a list of sizes, got ${describeValue(piece)}.`);
  }
  if (size === null) {
    return fail(
      `split cannot tell how many pieces an unknown size (dimension ${d.value} of ${formatDims(shape)}) gives; ` +
        `pass the list of piece sizes instead.`,
    );
  }
  if (piece === 0) {
    if (size !== 0) {
      return fail(
        `split_size can only be 0 if the dimension is empty, but dimension ${d.value} has size ${size}.`,
      );
    }
    return piecesOf(checked.value, d.value, [0]);
  }
  const count = Math.max(1, Math.ceil(size / piece));
  if (count > MAX_PIECES) {
    return fail(`splitting size ${size} into pieces of ${piece} gives ${count} pieces, more than supported.`);
  }
  const sizes = Array.from({ length: count }, (_, i) => Math.min(piece, size - i * piece));
  return piecesOf(checked.value, d.value, sizes);
}

function piecesOf(shape: Dim[], dim: number, sizes: readonly number[]): Outcome<Dim[][]> {
  return ok(sizes.map((s) => shape.map((size, j) => (j === dim ? s : size))));
}

/** torch.unbind / list(x): one piece per index along `dim`, with that dimension removed. */
export function unbind(shape: TensorShape, dim = 0): Outcome<Dim[][]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) return fail('cannot unbind (iterate over) a 0-D tensor.');
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  const size = checked.value[d.value]!;
  if (size === null) {
    return fail(`cannot tell how many pieces unbinding an unknown size (dimension ${d.value}) gives.`);
  }
  if (size > MAX_PIECES) return fail(`unbinding ${size} pieces is more than supported.`);
  const rest = checked.value.filter((_, j) => j !== d.value);
  return ok(Array.from({ length: size }, () => [...rest]));
}

// ---------------------------------------------------------------------------------------------------------
// Reshaping
// ---------------------------------------------------------------------------------------------------------

/** A target size as the user wrote it: an integer (−1 = infer), or null for a size only known at run time. */
export type TargetDim = number | null;

function checkTarget(target: unknown, op: string, allowInfer: boolean): Outcome<TargetDim[]> {
  if (!Array.isArray(target)) return fail(`${op} needs a list of sizes, not ${describeValue(target)}.`);
  if (target.length > MAX_RANK)
    return fail(`${op}: ${target.length} sizes is more than ${MAX_RANK} dimensions.`);
  let inferred = 0;
  for (const item of target as unknown[]) {
    if (item === null) continue;
    if (typeof item !== 'number' || !Number.isSafeInteger(item)) {
      return fail(
        `${op}: sizes must be integers, but ${describeValue(target)} contains ${describeValue(item)}.`,
      );
    }
    if (item === -1 && allowInfer) {
      inferred++;
      continue;
    }
    if (item < 0) {
      return fail(
        `${op}: invalid size ${item} in ${describeValue(target)}; sizes are non-negative` +
          (allowInfer ? ', with at most one -1 to infer.' : '.'),
      );
    }
  }
  if (inferred > 1) {
    return fail(
      `${op}: only one size can be inferred, but ${describeValue(target)} has ${inferred} entries of -1.`,
    );
  }
  return ok([...(target as TargetDim[])]);
}

/**
 * Fills in a single −1 so that the product matches `total` (InferSize.h infer_size_impl). `total` null
 * leaves −1 unknown; a target that provably cannot hold `total` elements is refused even when some sizes are
 * unknown (3136 elements never fit (None, 100): 100 does not divide 3136).
 */
function inferTarget(op: string, source: string, total: Dim, target: TargetDim[]): Outcome<Dim[]> {
  const known = target.filter((t): t is number => t !== null && t !== -1);
  let knownProduct = 1;
  for (const t of known) {
    knownProduct *= t;
    if (!Number.isSafeInteger(knownProduct)) return fail(`${op}: the sizes multiply to more than 2^53.`);
  }
  const inferAt = target.indexOf(-1);
  const hasUnknown = target.some((t) => t === null);
  const targetText = describeValue(target.map((t) => (t === null ? null : t)));
  if (total === null) return ok(target.map((t) => (t === -1 ? null : t)));
  if (inferAt < 0) {
    if (!hasUnknown && knownProduct !== total) {
      return fail(
        `cannot ${op} ${source} (${total} elements) into ${targetText} (${knownProduct} elements); the number ` +
          `of elements must stay the same.`,
      );
    }
    if (hasUnknown && (knownProduct === 0 ? total !== 0 : total % knownProduct !== 0)) {
      return fail(
        `cannot ${op} ${source} (${total} elements) into ${targetText}: ${total} is not a multiple of ` +
          `${knownProduct}, the product of the known sizes.`,
      );
    }
    return ok([...target]);
  }
  if (knownProduct === 0) {
    return fail(
      total === 0
        ? `cannot ${op} ${source} (0 elements) into ${targetText}: with a 0 among the sizes, -1 could be anything.`
        : `cannot ${op} ${source} (${total} elements) into ${targetText}: a 0 among the sizes leaves no room.`,
    );
  }
  if (total % knownProduct !== 0) {
    return fail(
      `cannot ${op} ${source} (${total} elements) into ${targetText}: ${total} is not divisible by ` +
        `${knownProduct} (the product of the other sizes), so -1 has no whole-number size.`,
    );
  }
  if (hasUnknown) return ok(target.map((t) => (t === -1 ? null : t)));
  return ok(target.map((t) => (t === -1 ? total / knownProduct : t)));
}

/**
 * torch.reshape / Tensor.view / jnp.reshape: the same elements in a new shape, with at most one −1 inferred
 * as numel / (product of the other sizes). With an unknown input size, −1 is unknown. (view's extra
 * stride-compatibility rule for non-contiguous tensors is not a shape question and is not checked.)
 */
export function reshape(shape: TensorShape, target: readonly TargetDim[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const sizes = checkTarget(target, 'reshape', true);
  if (!sizes.ok) return sizes;
  const total = productOf(checked.value);
  if (!total.ok) return total;
  return inferTarget('reshape', formatDims(shape), total.value, sizes.value);
}

/** Tensor.view has reshape's shape rule. */
export const view = reshape;

/**
 * torch.flatten(x, start_dim=0, end_dim=-1): dims start…end become one of their product. A 0-D tensor
 * becomes (1,). start_dim may not come after end_dim once both are counted from the front.
 */
export function flatten(shape: TensorShape, startDim = 0, endDim = -1): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const rank = checked.value.length;
  const start = normalizeDim(startDim, rank, 'start_dim');
  if (!start.ok) return start;
  const end = normalizeDim(endDim, rank, 'end_dim');
  if (!end.ok) return end;
  if (start.value > end.value) {
    return fail(
      `flatten: start_dim (${startDim}) comes after end_dim (${endDim}) for a ${rank}-D tensor ` +
        `${formatDims(shape)}; start_dim must be ≤ end_dim once negative dims are counted from the end.`,
    );
  }
  if (rank === 0) return ok([1]);
  const merged = productOf(checked.value.slice(start.value, end.value + 1));
  if (!merged.ok) return merged;
  return ok([...checked.value.slice(0, start.value), merged.value, ...checked.value.slice(end.value + 1)]);
}

/** torch.unflatten(x, dim, sizes): one dimension becomes `sizes` (one −1 may be inferred). */
export function unflatten(shape: TensorShape, dim: number, sizes: readonly TargetDim[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (checked.value.length === 0) return fail('unflatten needs at least a 1-D tensor; this one is 0-D.');
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  const target = checkTarget(sizes, 'unflatten', true);
  if (!target.ok) return target;
  if (target.value.length === 0) return fail('unflatten: sizes must not be empty.');
  const size = checked.value[d.value]!;
  const filled = inferTarget(
    'unflatten',
    `dimension ${d.value} (size ${size ?? 'None'})`,
    size,
    target.value,
  );
  if (!filled.ok) return filled;
  return ok([...checked.value.slice(0, d.value), ...filled.value, ...checked.value.slice(d.value + 1)]);
}

/** Tensor.permute / np.transpose(axes): every dimension named exactly once. */
export function permute(shape: TensorShape, dims: readonly number[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const rank = checked.value.length;
  if (!Array.isArray(dims) || dims.length !== rank) {
    const given = Array.isArray(dims) ? `${dims.length}` : 'none';
    return fail(
      `permute needs one entry per dimension: ${formatDims(shape)} is ${rank}-D, but the dims ` +
        `${describeValue(dims)} have ${given}.`,
    );
  }
  if (rank === 0) return ok([]);
  const order = normalizeDims(dims, rank);
  if (!order.ok) return order;
  return ok(order.value.map((d) => checked.value[d]!));
}

/** torch.transpose(x, dim0, dim1) / Tensor.swapaxes: two dimensions trade places. */
export function transpose(shape: TensorShape, dim0: number, dim1: number): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const rank = checked.value.length;
  const a = normalizeDim(dim0, rank, 'dim0');
  if (!a.ok) return a;
  const b = normalizeDim(dim1, rank, 'dim1');
  if (!b.ok) return b;
  if (rank === 0) return ok([]);
  const out = [...checked.value];
  out[a.value] = checked.value[b.value]!;
  out[b.value] = checked.value[a.value]!;
  return ok(out);
}

/** Tensor.T / np.transpose without axes: all dimensions reversed. */
export function reverseDims(shape: TensorShape): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  return ok([...checked.value].reverse());
}

/**
 * torch.squeeze(x, dim?) removes dimensions of size 1: all of them without `dim`, else the named ones that
 * are 1 (PyTorch leaves others alone; NumPy and JAX refuse them, `strict`). An unknown size might or might
 * not be 1, so the result's rank would be unknown: that is refused with a message saying which dim.
 */
export function squeeze(
  shape: TensorShape,
  dim?: number | readonly number[] | null,
  options: { readonly strict?: boolean } = {},
): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const rank = checked.value.length;
  let targets: number[];
  if (dim === undefined || dim === null) {
    const unknownAt = checked.value.indexOf(null);
    if (unknownAt >= 0) {
      return fail(
        `squeeze() without a dim cannot tell whether the unknown size at dimension ${unknownAt} of ` +
          `${formatDims(shape)} is 1, so the result's rank is unknown; name the dims to squeeze.`,
      );
    }
    targets = checked.value.flatMap((size, j) => (size === 1 ? [j] : []));
  } else {
    const dims = normalizeDims(dim, rank);
    if (!dims.ok) return dims;
    if (rank === 0) return ok([]);
    targets = [];
    for (const d of dims.value) {
      const size = checked.value[d]!;
      if (size === null) {
        return fail(
          `squeeze(${d}) cannot tell whether the unknown size at dimension ${d} of ${formatDims(shape)} is 1, ` +
            `so the result's rank is unknown.`,
        );
      }
      if (size === 1) targets.push(d);
      else if (options.strict) {
        return fail(`cannot squeeze dimension ${d} of ${formatDims(shape)}: its size is ${size}, not 1.`);
      }
    }
  }
  return ok(checked.value.filter((_, j) => !targets.includes(j)));
}

/** torch.unsqueeze(x, dim) / np.expand_dims: a new size-1 dimension at `dim` (−rank−1 … rank). */
export function unsqueeze(shape: TensorShape, dim: number): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (checked.value.length >= MAX_RANK) return fail(`unsqueeze would exceed ${MAX_RANK} dimensions.`);
  const d = normalizeDim(dim, checked.value.length + 1);
  if (!d.ok) return d;
  const out = [...checked.value];
  out.splice(d.value, 0, 1);
  return ok(out);
}

/**
 * Tensor.expand(*sizes) / torch.broadcast_to: sizes are aligned from the right; −1 keeps a size; only size-1
 * dimensions can grow; new leading dimensions are added in front and cannot be −1. A null target size (read
 * from another tensor at run time) keeps a known size that is not 1 and is unknown otherwise.
 */
export function expand(shape: TensorShape, sizes: readonly TargetDim[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (!Array.isArray(sizes) || sizes.length > MAX_RANK) {
    return fail(`expand needs a list of sizes, not ${describeValue(sizes)}.`);
  }
  for (const item of sizes as unknown[]) {
    if (item !== null && (typeof item !== 'number' || !Number.isSafeInteger(item) || item < -1)) {
      return fail(
        `expand: sizes must be non-negative integers or -1 (keep the size), but ${describeValue(sizes)} ` +
          `contains ${describeValue(item)}.`,
      );
    }
  }
  const wanted = [...(sizes as TargetDim[])];
  const rank = checked.value.length;
  if (wanted.length < rank) {
    return fail(
      `expand: ${describeValue(wanted)} has ${wanted.length} sizes, but the tensor ${formatDims(shape)} has ` +
        `${rank} dimensions; give at least one size per dimension.`,
    );
  }
  const lead = wanted.length - rank;
  const out: Dim[] = [];
  for (let i = 0; i < wanted.length; i++) {
    const t = wanted[i]!;
    if (i < lead) {
      if (t === -1) {
        return fail(
          `expand: -1 is not allowed for the new leading dimension ${i} of ${describeValue(wanted)}; it has ` +
            `no existing size to keep.`,
        );
      }
      out.push(t);
      continue;
    }
    const e = checked.value[i - lead]!;
    if (t === -1) out.push(e);
    else if (t === null) out.push(e !== null && e !== 1 ? e : null);
    else if (e === null || e === t || e === 1) out.push(t);
    else {
      return fail(
        `expand: the size ${t} must match the existing size ${e} at dimension ${i}, which is not 1 ` +
          `(target ${describeValue(wanted)}, tensor ${formatDims(shape)}); only size-1 dimensions can be expanded.`,
      );
    }
  }
  return ok(out);
}

/**
 * Tensor.repeat(*repeats): at least one repeat per dimension; the shape is padded with leading 1s to the
 * number of repeats and multiplied element-wise.
 */
export function repeat(shape: TensorShape, repeats: readonly number[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const counts = checkTarget(repeats, 'repeat', false);
  if (!counts.ok) return counts;
  if (counts.value.length < checked.value.length) {
    return fail(
      `repeat needs at least one count per dimension: ${describeValue(repeats)} has ${counts.value.length}, ` +
        `but the tensor ${formatDims(shape)} has ${checked.value.length} dimensions.`,
    );
  }
  return repeatKnown(checked.value, counts.value);
}

function repeatKnown(shape: Dim[], counts: TargetDim[]): Outcome<Dim[]> {
  const padded = [...new Array<Dim>(Math.max(0, counts.length - shape.length)).fill(1), ...shape];
  const out: Dim[] = [];
  for (let i = 0; i < padded.length; i++) {
    const product = productOf([padded[i]!, counts[i] ?? 1]);
    if (!product.ok) return product;
    out.push(product.value);
  }
  return ok(out);
}

/** torch.tile / np.tile: like repeat, but fewer repeats than dimensions are padded with leading 1s. */
export function tile(shape: TensorShape, reps: readonly number[]): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const counts = checkTarget(reps, 'tile', false);
  if (!counts.ok) return counts;
  const padded = [
    ...new Array<TargetDim>(Math.max(0, checked.value.length - counts.value.length)).fill(1),
    ...counts.value,
  ];
  return repeatKnown(checked.value, padded);
}

// ---------------------------------------------------------------------------------------------------------
// Indexing
// ---------------------------------------------------------------------------------------------------------

/** A slice bound: an integer, null for None / omitted, or 'unknown' for a value only known at run time. */
export type SliceBound = number | null | 'unknown';

/** One item of a subscript `x[...]`. */
export type IndexItem =
  /** An integer index: selects one position and removes the dimension. */
  | number
  /** None / np.newaxis: inserts a size-1 dimension. */
  | null
  /** Ellipsis: as many full slices as needed. */
  | '...'
  /** start:stop:step. */
  | { readonly start?: SliceBound; readonly stop?: SliceBound; readonly step?: SliceBound }
  /** An integer index tensor of this shape (advanced indexing). */
  | { readonly array: TensorShape }
  /** A boolean mask of this shape: consumes as many dimensions, gives one of unknown length. */
  | { readonly mask: TensorShape };

/**
 * Length of `start:stop:step` over a dimension of `size`, by Python's slice.indices: negative bounds count
 * from the end, then bounds are clamped into range. With step > 0: max(0, ceil((stop − start)/step)); with
 * step < 0 the same counted downwards. Unknown sizes or bounds give null (except the full slice `::1`).
 */
export function sliceLength(
  size: Dim,
  start: SliceBound = null,
  stop: SliceBound = null,
  step: SliceBound = null,
): Dim {
  const s = step === null ? 1 : step;
  if (s === 'unknown' || start === 'unknown' || stop === 'unknown') return null;
  // An unknown size stays unknown: even the full slice `::1` has the (unknown) size of the input.
  if (size === null) return null;
  if (s > 0) {
    const lo = start === null ? 0 : clamp(start < 0 ? start + size : start, 0, size);
    const hi = stop === null ? size : clamp(stop < 0 ? stop + size : stop, 0, size);
    return Math.max(0, Math.ceil((hi - lo) / s));
  }
  const lo = start === null ? size - 1 : clamp(start < 0 ? start + size : start, -1, size - 1);
  const hi = stop === null ? -1 : clamp(stop < 0 ? stop + size : stop, -1, size - 1);
  return Math.max(0, Math.ceil((lo - hi) / -s));
}

const clamp = (value: number, lo: number, hi: number): number => Math.min(Math.max(value, lo), hi);

function isSliceItem(item: object): item is { start?: SliceBound; stop?: SliceBound; step?: SliceBound } {
  return !('array' in item) && !('mask' in item);
}

/**
 * `x[items]`: basic indexing (integers, slices, None, one Ellipsis) and advanced indexing (integer index
 * tensors, boolean masks). Integer indices are bounds-checked where the size is known. Advanced indices are
 * broadcast together; their result goes where the first of them was if they are adjacent, else in front
 * (NumPy's rule, which PyTorch follows). PyTorch refuses negative steps; NumPy/JAX allow them (`negativeStep`).
 */
export function index(
  shape: TensorShape,
  items: readonly IndexItem[],
  options: { readonly negativeStep?: boolean } = {},
): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (!Array.isArray(items)) return fail(`an index must be a list of items, not ${describeValue(items)}.`);
  const rank = checked.value.length;
  let ellipses = 0;
  let consumed = 0;
  for (const item of items as unknown[]) {
    if (item === '...') ellipses++;
    else if (item === null) continue;
    else if (typeof item === 'number') consumed++;
    else if (typeof item === 'object' && !Array.isArray(item)) {
      const record = item as Record<string, unknown>;
      if ('mask' in record) {
        const mask = checkShape(record['mask'], 'the boolean mask');
        if (!mask.ok) return mask;
        consumed += mask.value.length;
      } else consumed++;
    } else
      return fail(
        `cannot index with ${describeValue(item)}; use integers, slices, None, ... or index tensors.`,
      );
  }
  if (ellipses > 1)
    return fail(`an index can only have a single ellipsis ('...'), but this one has ${ellipses}.`);
  if (consumed > rank) {
    return fail(
      `too many indices for a ${rank}-D tensor ${formatDims(shape)}: ${consumed} dimensions are indexed.`,
    );
  }
  const expanded: IndexItem[] = [];
  for (const item of items) {
    if (item === '...') for (let k = 0; k < rank - consumed; k++) expanded.push({});
    else expanded.push(item);
  }
  if (ellipses === 0) for (let k = consumed; k < rank; k++) expanded.push({});

  const out: Dim[] = [];
  const advanced: Dim[][] = [];
  const advancedItemPositions: number[] = [];
  let insertAt = -1;
  let dim = 0;
  for (let position = 0; position < expanded.length; position++) {
    const item = expanded[position]!;
    if (item === null) {
      out.push(1);
      continue;
    }
    if (typeof item === 'number') {
      if (!Number.isSafeInteger(item)) return fail(`index ${describeValue(item)} must be an integer.`);
      const size = checked.value[dim]!;
      if (size !== null && (item >= size || item < -size)) {
        return fail(
          `index ${item} is out of bounds for dimension ${dim} with size ${size} (valid ${-size} to ${size - 1}).`,
        );
      }
      dim++;
      continue;
    }
    if (typeof item === 'string') continue;
    if ('array' in item || 'mask' in item) {
      let resultShape: Dim[];
      let width = 1;
      if ('array' in item) {
        const arrayShape = checkShape(item.array, 'the index tensor');
        if (!arrayShape.ok) return arrayShape;
        resultShape = arrayShape.value;
      } else {
        const maskShape = checkShape(item.mask, 'the boolean mask');
        if (!maskShape.ok) return maskShape;
        width = maskShape.value.length;
        for (let k = 0; k < width; k++) {
          const size = checked.value[dim + k]!;
          const m = maskShape.value[k]!;
          if (size !== null && m !== null && size !== m) {
            return fail(
              `the boolean mask ${formatDims(maskShape.value)} does not match the indexed tensor ` +
                `${formatDims(shape)} at dimension ${dim + k}: ${m} vs ${size}.`,
            );
          }
        }
        resultShape = [null];
      }
      if (insertAt < 0) insertAt = out.length;
      advanced.push(resultShape);
      advancedItemPositions.push(position);
      dim += width;
      continue;
    }
    if (isSliceItem(item)) {
      const step = item.step ?? null;
      for (const bound of [item.start, item.stop, step]) {
        if (bound !== undefined && bound !== null && bound !== 'unknown' && !Number.isSafeInteger(bound)) {
          return fail(`slice bounds must be integers or None, got ${describeValue(bound)}.`);
        }
      }
      if (step === 0) return fail('slice step cannot be zero.');
      if (typeof step === 'number' && step < 0 && !options.negativeStep) {
        return fail(
          `slice step ${step} is negative; PyTorch only supports positive steps (use torch.flip to reverse).`,
        );
      }
      out.push(sliceLength(checked.value[dim]!, item.start ?? null, item.stop ?? null, step));
      dim++;
    }
  }
  if (advanced.length === 0) return ok(out);
  const joint = broadcastMany(advanced, 'broadcast index tensors of');
  if (!joint.ok) return joint;
  const adjacent = advancedItemPositions.every((p, k) => k === 0 || p === advancedItemPositions[k - 1]! + 1);
  const at = adjacent ? insertAt : 0;
  return ok([...out.slice(0, at), ...joint.value, ...out.slice(at)]);
}

// ---------------------------------------------------------------------------------------------------------
// Linear algebra and reductions
// ---------------------------------------------------------------------------------------------------------

/**
 * torch.matmul / np.matmul / the @ operator: 1-D·1-D is a dot product (); 2-D·2-D (n, k)·(k, m) → (n, m);
 * a 1-D first argument gets a 1 prepended and removed afterwards, a 1-D second argument a 1 appended; batch
 * dimensions (all but the last two) broadcast. The inner sizes must match.
 */
export function matmul(a: TensorShape, b: TensorShape): Outcome<Dim[]> {
  const left = checkShape(a, 'the first argument');
  if (!left.ok) return left;
  const right = checkShape(b, 'the second argument');
  if (!right.ok) return right;
  if (a.length === 0 || b.length === 0) {
    return fail(
      `matmul needs both arguments to be at least 1-D, but got ${formatDims(a)} and ${formatDims(b)}; use * for ` +
        `a scalar product.`,
    );
  }
  const x = a.length === 1 ? [1, a[0]!] : [...left.value];
  const y = b.length === 1 ? [b[0]!, 1] : [...right.value];
  const inner1 = x[x.length - 1]!;
  const inner2 = y[y.length - 2]!;
  if (inner1 !== null && inner2 !== null && inner1 !== inner2) {
    return fail(
      `cannot multiply ${formatDims(a)} by ${formatDims(b)}: the last dimension of the first (${inner1}) must ` +
        `equal the ${b.length === 1 ? 'length of the second' : 'second-to-last dimension of the second'} (${inner2}).`,
    );
  }
  const batch = broadcast(x.slice(0, -2), y.slice(0, -2), 'broadcast the batch dimensions of');
  if (!batch.ok) return batch;
  const out: Dim[] = [...batch.value];
  if (a.length !== 1) out.push(x[x.length - 2]!);
  if (b.length !== 1) out.push(y[y.length - 1]!);
  return ok(out);
}

/**
 * Reductions (sum, mean, amax, amin, prod, std, var, argmax, any, all, norm…): the named dims are removed,
 * or kept as size 1 with keepdim. No dims (None, or PyTorch's empty list) reduces every dimension.
 */
export function reduce(
  shape: TensorShape,
  dims?: number | readonly number[] | null,
  keepdim = false,
): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const rank = checked.value.length;
  const all = dims === undefined || dims === null || (Array.isArray(dims) && dims.length === 0);
  let targets: number[];
  if (all) targets = checked.value.map((_, j) => j);
  else {
    const normalized = normalizeDims(dims, rank);
    if (!normalized.ok) return normalized;
    targets = rank === 0 ? [] : normalized.value;
  }
  if (keepdim) return ok(checked.value.map((size, j) => (targets.includes(j) ? 1 : size)));
  return ok(checked.value.filter((_, j) => !targets.includes(j)));
}

/** Functions that keep the shape but read a dim (softmax, log_softmax, cumsum, argsort): checks the dim. */
export function alongDim(shape: TensorShape, dim: number, name = 'dim'): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const d = normalizeDim(dim, checked.value.length, name);
  if (!d.ok) return d;
  return ok(checked.value);
}

/** torch.topk(x, k, dim=-1): k must not exceed the size of `dim`; that dimension becomes k. */
export function topk(shape: TensorShape, k: number, dim = -1): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (!isInteger(k) || k < 0) return fail(`topk: k must be a non-negative integer, got ${describeValue(k)}.`);
  if (checked.value.length === 0)
    return k <= 1 ? ok([]) : fail(`topk: k (${k}) is out of range for a 0-D tensor.`);
  const d = normalizeDim(dim, checked.value.length);
  if (!d.ok) return d;
  const size = checked.value[d.value]!;
  if (size !== null && k > size) {
    return fail(`topk: k (${k}) is larger than dimension ${d.value} of ${formatDims(shape)} (size ${size}).`);
  }
  const out = [...checked.value];
  out[d.value] = k;
  return ok(out);
}

// ---------------------------------------------------------------------------------------------------------
// Interpolation and padding
// ---------------------------------------------------------------------------------------------------------

/** The keyword arguments of torch.nn.functional.interpolate (and nn.Upsample), as the user wrote them. */
export interface InterpolateArgs {
  readonly size?: PyValue;
  readonly scale_factor?: PyValue;
  readonly mode?: PyValue;
  readonly align_corners?: PyValue;
  readonly recompute_scale_factor?: PyValue;
  readonly antialias?: PyValue;
}

const INTERPOLATE_MODES: Readonly<Record<string, readonly number[]>> = {
  nearest: [3, 4, 5],
  'nearest-exact': [3, 4, 5],
  area: [3, 4, 5],
  linear: [3],
  bilinear: [4],
  bicubic: [4],
  trilinear: [5],
};

/**
 * torch.nn.functional.interpolate on an (N, C, d1, …, dK) input: exactly one of size and scale_factor. With
 * size, out = size. With scale_factor s, out = floor(in · s) in double precision (UpSample.cpp
 * compute_output_size truncates in·s; with recompute_scale_factor=True functional.py floors the same
 * product, so both give the same size). Each mode needs a given rank (linear 3-D, bilinear/bicubic 4-D,
 * trilinear 5-D, the rest 3- to 5-D); align_corners only goes with the interpolating modes; every output
 * size must be at least 1.
 */
export function interpolate(shape: TensorShape, args: InterpolateArgs, op = 'interpolate'): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  const mode = args.mode ?? 'nearest';
  if (typeof mode !== 'string' || !(mode in INTERPOLATE_MODES)) {
    return fail(
      `${op}: mode must be one of ${Object.keys(INTERPOLATE_MODES)
        .map((m) => `'${m}'`)
        .join(', ')}, not ` + `${describeValue(mode)}.`,
    );
  }
  const rank = checked.value.length;
  const spatialCount = rank - 2;
  const allowed = INTERPOLATE_MODES[mode]!;
  if (!allowed.includes(rank)) {
    if (rank < 3 || rank > 5) {
      return fail(
        `${op} supports only 3-D, 4-D and 5-D inputs (N, C, then 1 to 3 spatial sizes), but got a ${rank}-D ` +
          `input ${formatDims(shape)}` +
          (rank === 2 || rank === 3 ? '; add the batch dimension with unsqueeze(0).' : '.'),
      );
    }
    return fail(
      `${op}: mode='${mode}' needs a ${allowed[0]}-D input, but got a ${rank}-D input ${formatDims(shape)}` +
        ` (linear is for 3-D, bilinear/bicubic for 4-D, trilinear for 5-D).`,
    );
  }
  const alignCorners = args.align_corners ?? null;
  if (alignCorners !== null && !['linear', 'bilinear', 'bicubic', 'trilinear'].includes(mode)) {
    return fail(
      `${op}: align_corners can only be set with the interpolating modes linear, bilinear, bicubic and ` +
        `trilinear, not with mode='${mode}'; leave it as None.`,
    );
  }
  const antialias = args.antialias ?? false;
  if (antialias === true && !(['bilinear', 'bicubic'].includes(mode) && rank === 4)) {
    return fail(`${op}: antialias=True works only with mode 'bilinear' or 'bicubic' on a 4-D input.`);
  }
  const size = args.size ?? null;
  const scale = args.scale_factor ?? null;
  if (size !== null && scale !== null) {
    return fail(`${op}: give either size or scale_factor, not both.`);
  }
  if (size === null && scale === null) return fail(`${op}: give either size or scale_factor.`);
  const spatial = checked.value.slice(2);
  const spatialText = `[${spatial.map((d) => d ?? 'None').join(', ')}]`;
  if (size !== null) {
    if (args.recompute_scale_factor === true) {
      return fail(`${op}: recompute_scale_factor is not meaningful with an explicit size; drop one of them.`);
    }
    const sizes = Array.isArray(size)
      ? (size as readonly PyValue[])
      : new Array<PyValue>(spatialCount).fill(size);
    if (sizes.length !== spatialCount) {
      return fail(
        `${op}: the input has ${spatialCount} spatial dimension${spatialCount === 1 ? '' : 's'} ${spatialText} ` +
          `but size ${formatValue(size)} has ${sizes.length}; give one size per spatial dimension.`,
      );
    }
    const out: Dim[] = [];
    for (const s of sizes) {
      if (s === null) out.push(null);
      else if (!isInteger(s)) return fail(`${op}: size must be integers, not ${formatValue(size)}.`);
      else if (s < 1 || s > Number.MAX_SAFE_INTEGER) {
        return fail(`${op}: every output size must be at least 1, but size is ${formatValue(size)}.`);
      } else out.push(s);
    }
    return ok([checked.value[0]!, checked.value[1]!, ...out]);
  }
  const factors = Array.isArray(scale)
    ? (scale as readonly PyValue[])
    : new Array<PyValue>(spatialCount).fill(scale);
  if (factors.length !== spatialCount) {
    return fail(
      `${op}: the input has ${spatialCount} spatial dimension${spatialCount === 1 ? '' : 's'} ${spatialText} ` +
        `but scale_factor ${formatValue(scale)} has ${factors.length}; give one factor per spatial dimension.`,
    );
  }
  const out: Dim[] = [];
  for (let i = 0; i < spatialCount; i++) {
    const f = factors[i]!;
    if (typeof f !== 'number' || !Number.isFinite(f)) {
      return fail(`${op}: scale_factor must be numbers, not ${formatValue(scale)}.`);
    }
    const inSize = spatial[i]!;
    if (inSize === null) {
      if (f <= 0) return fail(`${op}: scale_factor must be positive, got ${formatValue(scale)}.`);
      out.push(null);
      continue;
    }
    const size = Math.trunc(inSize * f);
    if (size < 1 || inSize < 1) {
      return fail(
        `${op}: input and output sizes must be greater than 0, but spatial dimension ${i} goes from ${inSize} ` +
          `to floor(${inSize} × ${f}) = ${size}; use a larger scale_factor or an explicit size.`,
      );
    }
    if (!Number.isSafeInteger(size)) return fail(`${op}: the output would be larger than any tensor can be.`);
    out.push(size);
  }
  return ok([checked.value[0]!, checked.value[1]!, ...out]);
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * torch.nn.functional.pad(x, pad, mode): `pad` lists (begin, end) pairs from the LAST dimension backwards
 * ((left, right, top, bottom, front, back)); negative pads crop. Constant padding works on any rank with
 * len(pad) ≤ 2·rank and needs every result ≥ 0. The other modes pad 1, 2 or 3 trailing dimensions of an
 * input with one or two more (PadNd.cpp _pad_enum): reflect needs each pad < the input size, circular at most
 * the input size, and reflect/replicate results of at least 1.
 */
export function pad(
  shape: TensorShape,
  padding: readonly number[],
  mode: PadMode | string = 'constant',
): Outcome<Dim[]> {
  const checked = checkShape(shape);
  if (!checked.ok) return checked;
  if (!Array.isArray(padding) || !padding.every((p) => Number.isSafeInteger(p))) {
    return fail(`pad must be a list of integers, not ${describeValue(padding)}.`);
  }
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    return fail(
      `pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', not ${describeValue(mode)}.`,
    );
  }
  const rank = checked.value.length;
  if (padding.length % 2 !== 0) {
    return fail(
      `pad needs (begin, end) pairs, but ${describeValue(padding)} has ${padding.length} values (an odd count).`,
    );
  }
  if (padding.length > 2 * rank) {
    return fail(
      `pad ${describeValue(padding)} pads ${padding.length / 2} dimensions, but the input ${formatDims(shape)} has ` +
        `only ${rank}; pad lists at most two values per dimension, last dimension first.`,
    );
  }
  const padded = padding.length / 2;
  if (mode !== 'constant') {
    if (padded < 1 || padded > 3 || (rank !== padded + 1 && rank !== padded + 2)) {
      return fail(
        `pad: mode='${mode}' pads 1 to 3 trailing dimensions of an input with one or two more (a ${padded + 1}-D ` +
          `or ${padded + 2}-D input for ${padding.length} pad values), but the input ${formatDims(shape)} is ` +
          `${rank}-D.`,
      );
    }
  }
  const out = [...checked.value];
  for (let k = 0; k < padded; k++) {
    const dim = rank - 1 - k;
    const begin = padding[2 * k]!;
    const end = padding[2 * k + 1]!;
    const size = checked.value[dim]!;
    if (size === null) {
      out[dim] = null;
      continue;
    }
    const result = size + begin + end;
    if (mode === 'reflect' && (begin >= size || end >= size) && (begin > 0 || end > 0)) {
      return fail(
        `pad: mode='reflect' needs each pad smaller than the input size, but dimension ${dim} of ` +
          `${formatDims(shape)} has size ${size} and pads (${begin}, ${end}); use pads ≤ ${Math.max(0, size - 1)}, ` +
          `or mode='replicate'.`,
      );
    }
    if (mode === 'circular' && (begin > size || end > size)) {
      return fail(
        `pad: mode='circular' can wrap around at most once, but dimension ${dim} of ${formatDims(shape)} has size ` +
          `${size} and pads (${begin}, ${end}); use pads ≤ ${size}.`,
      );
    }
    if (result < 0 || (mode !== 'constant' && mode !== 'circular' && result < 1)) {
      return fail(
        `pad: dimension ${dim} of ${formatDims(shape)} has size ${size}; the pads (${begin}, ${end}) leave ` +
          `${result}, which is ${result < 0 ? 'negative' : 'empty'}.`,
      );
    }
    if (!Number.isSafeInteger(result)) return fail('pad: the result would be larger than any tensor can be.');
    out[dim] = result;
  }
  return ok(out);
}

// ---------------------------------------------------------------------------------------------------------
// Layers over partly-known shapes
// ---------------------------------------------------------------------------------------------------------

/** What a layer does to a shape whose sizes may be unknown (LayerShape, with nulls allowed). */
export interface TensorLayerShape {
  readonly output: Dim[];
  /** One rule per padded / resized spatial dimension where one describes the layer exactly, else []. */
  readonly dims: DimRule[];
  readonly weightShape: Dim[] | null;
  readonly biasShape: Dim[] | null;
  /** Trainable parameters; null when they depend on an unknown size (LazyLinear on an unknown input). */
  readonly params: Dim;
  /** Multiply-accumulates; null when an unknown size decides them. 0 for layers without products. */
  readonly macs: Dim;
  readonly notes: string[];
}

/**
 * A LayerDef that also answers for shapes with unknown sizes. `infer` (the LayerDef entry point with a fully
 * known input) and `inferTensor` give the same answer whenever every size is known.
 */
export interface TensorLayerDef extends LayerDef {
  inferTensor(args: BoundArgs, input: TensorShape): Outcome<TensorLayerShape>;
}

/**
 * A layer called on several tensors (Keras Concatenate/Add/…, torch.nn.Bilinear). The interpreter calls
 * `inferMany(args, [shapeA, shapeB, …])` with the inputs in call order; `infer` / `inferTensor` with one
 * shape answer with a message saying how many inputs the layer wants.
 */
export interface MultiInputLayerDef extends TensorLayerDef {
  readonly minInputs: number;
  /** null: any number from minInputs up. */
  readonly maxInputs: number | null;
  inferMany(args: BoundArgs, inputs: readonly TensorShape[]): Outcome<TensorLayerShape>;
}

export function isTensorLayer(def: LayerDef): def is TensorLayerDef {
  return typeof (def as Partial<TensorLayerDef>).inferTensor === 'function';
}

export function isMultiInputLayer(def: LayerDef): def is MultiInputLayerDef {
  return typeof (def as Partial<MultiInputLayerDef>).inferMany === 'function';
}

/** Converts an answer for a fully known input into the LayerShape the rest of the core reads. */
function toLayerShape(layer: string, shape: TensorLayerShape, input: readonly number[]): Outcome<LayerShape> {
  const known = (dims: Dim[] | null): number[] | null | undefined =>
    dims === null ? null : dims.every((d) => d !== null) ? (dims as number[]) : undefined;
  const output = known(shape.output);
  const weightShape = known(shape.weightShape);
  const biasShape = known(shape.biasShape);
  if (
    !output ||
    weightShape === undefined ||
    biasShape === undefined ||
    shape.params === null ||
    shape.macs === null
  ) {
    return fail(
      input.some((d) => d === null)
        ? `${layer}: the result depends on a size that is not known.`
        : `${layer}: a size or count in the result is too large to compute exactly (more than 2^53).`,
    );
  }
  return ok({ ...shape, output, weightShape, biasShape, params: shape.params, macs: shape.macs });
}

type TensorInfer = (layer: string, args: BoundArgs, input: Dim[]) => Outcome<TensorLayerShape>;
type ManyInfer = (layer: string, args: BoundArgs, inputs: Dim[][]) => Outcome<TensorLayerShape>;

/** Builds a single-input layer from its rule over partly-known shapes. */
export function defineTensorLayer(
  framework: Framework,
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  rule: TensorInfer,
): TensorLayerDef {
  const short = name.slice(name.lastIndexOf('.') + 1);
  const inferTensor = (args: BoundArgs, input: TensorShape): Outcome<TensorLayerShape> => {
    const checked = checkShape(input);
    if (!checked.ok) return fail(`${short}: ${checked.error}`);
    return rule(short, args, checked.value);
  };
  return {
    framework,
    name,
    params,
    summary,
    inferTensor,
    infer: (args, input) => {
      const answer = inferTensor(args, input);
      return answer.ok ? toLayerShape(short, answer.value, input) : answer;
    },
  };
}

/** Builds a layer that takes several tensors; a single tensor is refused with a hint. */
export function defineMultiInputLayer(
  framework: Framework,
  name: string,
  params: readonly ParamSpec[],
  summary: string,
  counts: { readonly min: number; readonly max: number | null; readonly usage: string },
  rule: ManyInfer,
): MultiInputLayerDef {
  const short = name.slice(name.lastIndexOf('.') + 1);
  const inferMany = (args: BoundArgs, inputs: readonly TensorShape[]): Outcome<TensorLayerShape> => {
    if (!Array.isArray(inputs)) return fail(`${short} takes a list of inputs: ${counts.usage}.`);
    const wanted =
      counts.max === counts.min
        ? `exactly ${counts.min}`
        : counts.max === null
          ? `at least ${counts.min}`
          : `${counts.min} to ${counts.max}`;
    if (inputs.length < counts.min || (counts.max !== null && inputs.length > counts.max)) {
      const noun =
        (counts.max === counts.min ? counts.min : (counts.max ?? counts.min)) === 1 ? 'input' : 'inputs';
      return fail(`${short} takes ${wanted} ${noun}, got ${inputs.length}: ${counts.usage}.`);
    }
    const shapes: Dim[][] = [];
    for (let i = 0; i < inputs.length; i++) {
      const checked = checkShape(inputs[i], `input ${i}`);
      if (!checked.ok) return fail(`${short}: ${checked.error}`);
      shapes.push(checked.value);
    }
    return rule(short, args, shapes);
  };
  const singleMessage = `${short} takes ${counts.min === 2 && counts.max === 2 ? 'two inputs' : 'a list of inputs'}: ${counts.usage}.`;
  return {
    framework,
    name,
    params,
    summary,
    minInputs: counts.min,
    maxInputs: counts.max,
    inferMany,
    inferTensor: () => fail(singleMessage),
    infer: () => fail(singleMessage),
  };
}

/** A layer result that keeps the shape and has no weights. */
export function sameShape(input: Dim[], notes: string[] = []): Outcome<TensorLayerShape> {
  return ok({ output: [...input], dims: [], weightShape: null, biasShape: null, params: 0, macs: 0, notes });
}

// ---------------------------------------------------------------------------------------------------------
// Argument readers shared by the layer modules (messages name the layer and the parameter as written)
// ---------------------------------------------------------------------------------------------------------

/** Sizes in arguments past this are refused: the arithmetic must stay exact and nothing real is larger. */
export const MAX_ARG_SIZE = 2 ** 31;

/** An integer argument in [min, MAX_ARG_SIZE]. */
export function intArg(
  layer: string,
  name: string,
  value: PyValue | undefined,
  min: number,
): Outcome<number> {
  if (!isInteger(value ?? null)) {
    return fail(`${layer}: ${name} must be an integer, not ${describeValue(value)}.`);
  }
  const v = value as number;
  if (v < min) return fail(`${layer}: ${name} must be at least ${min}, got ${v}.`);
  if (v > MAX_ARG_SIZE) return fail(`${layer}: ${name} = ${v} is larger than supported (at most 2^31).`);
  return ok(v);
}

/** A real-number argument (ints accepted) within [min, max]. */
export function numberArg(
  layer: string,
  name: string,
  value: PyValue | undefined,
  min = -Infinity,
  max = Infinity,
): Outcome<number> {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    return fail(`${layer}: ${name} must be a number, not ${describeValue(value)}.`);
  }
  if (value < min || value > max) {
    const range =
      min === -Infinity
        ? `at most ${max}`
        : max === Infinity
          ? `at least ${min}`
          : `between ${min} and ${max}`;
    return fail(`${layer}: ${name} must be ${range}, got ${value}.`);
  }
  return ok(value);
}

/** An int or a tuple of ints, as a list (an int alone gives a 1-element list). */
export function intListArg(
  layer: string,
  name: string,
  value: PyValue | undefined,
  min: number,
): Outcome<number[]> {
  const items = Array.isArray(value) ? (value as readonly PyValue[]) : [value ?? null];
  const result: number[] = [];
  for (const item of items) {
    if (!isInteger(item) || item < min || item > MAX_ARG_SIZE) {
      return fail(
        `${layer}: ${name} must be ${Array.isArray(value) ? 'a tuple of integers' : 'an integer or a tuple of integers'}` +
          ` each at least ${min}, not ${describeValue(value)}.`,
      );
    }
    result.push(item);
  }
  return ok(result);
}
