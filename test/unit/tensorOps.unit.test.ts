/**
 * Tensor shape operations over partly-known shapes (src/core/tensor/ops.ts). Expected values are worked out
 * from the documented rules, cited per block: the PyTorch docs of each function (pytorch.org/docs/stable),
 * NumPy's broadcasting and indexing pages (numpy.org/doc/stable/user/basics.broadcasting.html,
 * basics.indexing.html) and Python's slice.indices.
 */
import * as assert from 'node:assert/strict';
import {
  broadcast,
  broadcastMany,
  cat,
  checkShape,
  chunk,
  expand,
  flatten,
  formatDims,
  index,
  interpolate,
  matmul,
  normalizeDim,
  numel,
  pad,
  permute,
  reduce,
  repeat,
  reshape,
  sizeAt,
  sliceLength,
  split,
  squeeze,
  stack,
  tile,
  topk,
  transpose,
  unbind,
  unflatten,
  unsqueeze,
  view,
  alongDim,
  reverseDims,
  type Dim,
  type TensorShape,
} from '../../src/core/tensor/ops';
import type { Outcome } from '../../src/core/arithmetic/types';

function value<T>(outcome: Outcome<T>): T {
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  return outcome.value;
}

function error(outcome: Outcome<unknown>): string {
  assert.ok(!outcome.ok, `expected an error, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

/** Calls `fn` and checks it neither throws nor succeeds. */
function refuses(fn: () => Outcome<unknown>): string {
  let outcome: Outcome<unknown> | undefined;
  assert.doesNotThrow(() => {
    outcome = fn();
  });
  return error(outcome!);
}

describe('tensor ops: conventions', () => {
  it('formats shapes as the frameworks print them, None for unknown', () => {
    assert.equal(formatDims([1, null, 3]), '(1, None, 3)');
    assert.equal(formatDims([5]), '(5,)');
    assert.equal(formatDims([]), '()');
  });

  it('normalizes negative dims and words the range error the same way everywhere', () => {
    assert.equal(value(normalizeDim(-1, 4)), 3);
    assert.equal(value(normalizeDim(-4, 4)), 0);
    assert.equal(error(normalizeDim(4, 4)), 'dim 4 is out of range for a 4-D tensor (valid -4 to 3).');
    assert.match(error(normalizeDim(-5, 4)), /dim -5 is out of range for a 4-D tensor \(valid -4 to 3\)/);
    // maybe_wrap_dim(wrap_scalar=true): a 0-D tensor accepts 0 and -1.
    assert.equal(value(normalizeDim(-1, 0)), 0);
    assert.match(error(normalizeDim(1.5, 3)), /must be an integer/);
  });

  it('checkShape refuses negative, fractional, non-numeric and absurdly long shapes', () => {
    assert.match(error(checkShape([1, -3])), /invalid size -3 at dimension 1/);
    assert.match(error(checkShape([1, 2.5])), /invalid size 2.5/);
    assert.match(error(checkShape([1, 'a'] as unknown as Dim[])), /invalid size 'a'/);
    assert.match(error(checkShape('abc' as unknown as Dim[])), /must be a shape/);
    assert.match(error(checkShape(new Array(65).fill(1))), /at most 64/);
    assert.deepEqual(value(checkShape([null, 0, 3])), [null, 0, 3]);
  });

  it('numel and sizeAt read sizes; unknowns stay unknown, but a 0 decides numel', () => {
    assert.equal(value(numel([2, 3, 4])), 24);
    assert.equal(value(numel([])), 1);
    assert.equal(value(numel([null, 3])), null);
    assert.equal(value(numel([null, 0])), 0);
    assert.equal(value(sizeAt([1, 64, 56, 56], -1)), 56);
    assert.equal(value(sizeAt([null, 64], 0)), null);
    assert.match(error(sizeAt([1, 2], 2)), /dim 2 is out of range for a 2-D tensor \(valid -2 to 1\)/);
    assert.match(error(sizeAt([], 0)), /0-D tensor/);
  });

  it('refuses products beyond 2^53 instead of losing precision', () => {
    assert.match(error(numel([2 ** 31, 2 ** 31, 2 ** 31])), /2\^53/);
  });
});

describe('broadcast (NumPy rules: align from the right, equal or 1)', () => {
  it('broadcasts equal, 1 and missing dimensions', () => {
    assert.deepEqual(value(broadcast([8, 1, 6, 1], [7, 1, 5])), [8, 7, 6, 5]);
    assert.deepEqual(value(broadcast([5, 4], [1])), [5, 4]);
    assert.deepEqual(value(broadcast([], [3])), [3]);
  });

  it('names the mismatching dimension and both sizes', () => {
    assert.equal(
      error(broadcast([1, 64, 56, 56], [1, 64, 57, 57], 'add')),
      'cannot add shapes (1, 64, 56, 56) and (1, 64, 57, 57): dimension 2 is 56 vs 57. Sizes must be equal, or 1 ' +
        'to broadcast.',
    );
    assert.match(error(broadcast([2, 3], [4])), /dimension -1 \(aligned from the right\) is 3 vs 4/);
  });

  it('keeps unknowns unknown unless the other side fixes the size', () => {
    // An unknown next to 64 must be 1 or 64: either way the result is 64.
    assert.deepEqual(value(broadcast([null, 64], [64])), [null, 64]);
    assert.deepEqual(value(broadcast([null], [5])), [5]);
    assert.deepEqual(value(broadcast([null], [1])), [null]);
    assert.deepEqual(value(broadcast([null], [null])), [null]);
  });

  it('broadcastMany folds several shapes', () => {
    assert.deepEqual(
      value(
        broadcastMany([
          [3, 1],
          [1, 4],
          [2, 1, 1],
        ]),
      ),
      [2, 3, 4],
    );
    assert.match(error(broadcastMany([[3], [4]])), /3 vs 4/);
  });
});

describe('cat and stack (torch.cat, torch.stack)', () => {
  it('adds sizes along dim; negative dims count from the end', () => {
    assert.deepEqual(
      value(
        cat(
          [
            [1, 64, 28, 28],
            [1, 32, 28, 28],
          ],
          1,
        ),
      ),
      [1, 96, 28, 28],
    );
    assert.deepEqual(
      value(
        cat(
          [
            [2, 3],
            [2, 5],
          ],
          -1,
        ),
      ),
      [2, 8],
    );
    assert.deepEqual(
      value(
        cat(
          [
            [null, 3],
            [4, 3],
          ],
          0,
        ),
      ),
      [null, 3],
    );
    assert.deepEqual(
      value(
        cat(
          [
            [null, 3],
            [4, null],
          ],
          0,
        ),
      ),
      [null, 3],
    );
  });

  it('names the dimension that differs and both sizes', () => {
    assert.equal(
      error(
        cat(
          [
            [1, 64, 56, 56],
            [1, 32, 28, 28],
          ],
          1,
        ),
      ),
      'cannot concatenate (1, 64, 56, 56) and (1, 32, 28, 28) along dim 1: dimension 2 is 56 vs 28 (every ' +
        'dimension except dim 1 must match).',
    );
    assert.match(
      error(
        cat(
          [
            [2, 3],
            [2, 3, 4],
          ],
          0,
        ),
      ),
      /different ranks/,
    );
    assert.match(error(cat([[2, 3]], 2)), /dim 2 is out of range for a 2-D tensor \(valid -2 to 1\)/);
    assert.match(error(cat([[], []], 0)), /zero-dimensional/);
    assert.match(error(cat([], 0)), /empty list/);
  });

  it('skips legacy 1-D empty tensors as PyTorch does', () => {
    assert.deepEqual(value(cat([[0], [2, 3], [4, 3]], 0)), [6, 3]);
  });

  it('stack inserts a new dimension of the number of tensors', () => {
    assert.deepEqual(
      value(
        stack(
          [
            [3, 4],
            [3, 4],
          ],
          0,
        ),
      ),
      [2, 3, 4],
    );
    assert.deepEqual(
      value(
        stack(
          [
            [3, 4],
            [3, 4],
            [3, 4],
          ],
          -1,
        ),
      ),
      [3, 4, 3],
    );
    assert.deepEqual(
      value(
        stack(
          [
            [null, 4],
            [3, 4],
          ],
          1,
        ),
      ),
      [3, 2, 4],
    );
    assert.match(
      error(
        stack(
          [
            [3, 4],
            [3, 5],
          ],
          0,
        ),
      ),
      /tensor 0 is \(3, 4\) and tensor 1 is \(3, 5\) \(dimension 1: 4 vs 5\)/,
    );
    assert.match(error(stack([[3, 4]], 3)), /dim 3 is out of range for a 3-D tensor/);
  });
});

describe('chunk, split, unbind', () => {
  it('chunk uses ceil(size/chunks) pieces, possibly fewer than asked', () => {
    // torch.chunk docs: "may return fewer than the specified number of chunks".
    assert.deepEqual(value(chunk([5, 2], 3)), [
      [2, 2],
      [2, 2],
      [1, 2],
    ]);
    assert.deepEqual(value(chunk([1, 6], 4, 1)), [
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    assert.deepEqual(value(chunk([1, 64, 8, 8], 2, 1)), [
      [1, 32, 8, 8],
      [1, 32, 8, 8],
    ]);
    assert.deepEqual(value(chunk([0], 2)), [[0], [0]]);
  });

  it('chunk refuses an unknown size and bad counts', () => {
    assert.match(error(chunk([null, 4], 2, 0)), /unknown size/);
    assert.match(error(chunk([4], 0)), /positive integer/);
  });

  it('split by size or by sections; sections must add up', () => {
    assert.deepEqual(value(split([7, 2], 3)), [
      [3, 2],
      [3, 2],
      [1, 2],
    ]);
    assert.deepEqual(value(split([null, 7], [3, 4], 1)), [
      [null, 3],
      [null, 4],
    ]);
    assert.match(error(split([1, 7], [3, 3], 1)), /add up to 6, but dimension 1 of \(1, 7\) has size 7/);
    assert.match(error(split([5], 0)), /only be 0 if the dimension is empty/);
    assert.match(error(split([2 ** 30], 1)), /more than supported/);
  });

  it('unbind removes the dimension', () => {
    assert.deepEqual(value(unbind([2, 3, 4], 1)), [
      [2, 4],
      [2, 4],
      [2, 4],
    ]);
    assert.match(error(unbind([null, 3])), /unknown size/);
  });
});

describe('reshape / view (InferSize.h)', () => {
  it('infers a single -1', () => {
    assert.deepEqual(value(reshape([1, 64, 7, 7], [1, -1])), [1, 3136]);
    assert.deepEqual(value(view([2, 3, 4], [-1, 4])), [6, 4]);
    assert.deepEqual(value(reshape([2, 3], [6])), [6]);
  });

  it('says when -1 does not divide and when the element count changes', () => {
    assert.equal(
      error(reshape([1, 3136], [-1, 64, 5])),
      'cannot reshape (1, 3136) (3136 elements) into (-1, 64, 5): 3136 is not divisible by 320 (the product of ' +
        'the other sizes), so -1 has no whole-number size.',
    );
    assert.match(error(reshape([2, 3], [4, 2])), /\(6 elements\) into \(4, 2\) \(8 elements\)/);
    assert.match(error(reshape([2, 3], [-1, -1])), /only one size can be inferred/);
    assert.match(error(reshape([2, 3], [-2, 3])), /invalid size -2/);
    assert.match(error(reshape([0, 3], [0, -1])), /-1 could be anything/);
  });

  it('leaves -1 unknown when an input size is unknown, and still catches impossible targets', () => {
    assert.deepEqual(value(reshape([null, 64, 7, 7], [null, -1])), [null, null]);
    assert.deepEqual(value(reshape([null, 64, 7, 7], [-1, 3136])), [null, 3136]);
    // 3136 elements never fit (unknown, 100): 100 does not divide 3136.
    assert.match(error(reshape([1, 3136], [null, 100])), /not a multiple of 100/);
  });
});

describe('flatten and unflatten', () => {
  it('torch.flatten merges start_dim…end_dim', () => {
    assert.deepEqual(value(flatten([2, 3, 4, 5], 1)), [2, 60]);
    assert.deepEqual(value(flatten([2, 3, 4, 5])), [120]);
    assert.deepEqual(value(flatten([2, 3, 4, 5], 1, 2)), [2, 12, 5]);
    assert.deepEqual(value(flatten([null, 64, 7, 7], 1)), [null, 3136]);
    assert.deepEqual(value(flatten([2, null, 4], 1)), [2, null]);
    assert.deepEqual(value(flatten([], 0)), [1]);
  });

  it('refuses start_dim after end_dim and out-of-range dims', () => {
    assert.match(error(flatten([2, 3, 4], 2, 1)), /start_dim \(2\) comes after end_dim \(1\)/);
    assert.match(error(flatten([5], 1)), /start_dim 1 is out of range for a 1-D tensor \(valid -1 to 0\)/);
  });

  it('unflatten splits a dimension, inferring one -1', () => {
    assert.deepEqual(value(unflatten([2, 12, 5], 1, [3, 4])), [2, 3, 4, 5]);
    assert.deepEqual(value(unflatten([2, 12], -1, [-1, 4])), [2, 3, 4]);
    assert.deepEqual(value(unflatten([2, null], 1, [-1, 4])), [2, null, 4]);
    assert.match(error(unflatten([2, 7], 1, [2, 3])), /6 elements/);
    assert.match(error(unflatten([2, 7], 1, [])), /must not be empty/);
  });
});

describe('permute, transpose, squeeze, unsqueeze', () => {
  it('permute reorders and refuses repeats or wrong counts', () => {
    assert.deepEqual(value(permute([1, 3, 224, 224], [0, 2, 3, 1])), [1, 224, 224, 3]);
    assert.deepEqual(value(permute([1, 3, 5], [-1, 0, 1])), [5, 1, 3]);
    assert.match(error(permute([1, 3, 5], [0, 1])), /one entry per dimension/);
    assert.match(error(permute([1, 3, 5], [0, 1, 1])), /dim 1 appears more than once/);
    assert.match(error(permute([1, 3, 5], [0, 1, 3])), /dim 3 is out of range for a 3-D tensor/);
  });

  it('transpose swaps two dims; .T reverses', () => {
    assert.deepEqual(value(transpose([2, 3, 4], 0, -1)), [4, 3, 2]);
    assert.match(error(transpose([2, 3], 0, 2)), /dim1 2 is out of range/);
    assert.deepEqual(value(reverseDims([2, 3, 4])), [4, 3, 2]);
  });

  it('squeeze removes size-1 dims; an unknown size leaves the rank unknown', () => {
    assert.deepEqual(value(squeeze([1, 3, 1, 5])), [3, 5]);
    assert.deepEqual(value(squeeze([1, 3, 1, 5], 0)), [3, 1, 5]);
    assert.deepEqual(value(squeeze([1, 3, 1, 5], [0, 2])), [3, 5]);
    // PyTorch leaves a non-1 dim alone; NumPy refuses it.
    assert.deepEqual(value(squeeze([2, 3], 0)), [2, 3]);
    assert.match(error(squeeze([2, 3], 0, { strict: true })), /its size is 2, not 1/);
    assert.match(error(squeeze([null, 3])), /unknown size at dimension 0/);
    assert.match(error(squeeze([null, 3], 0)), /unknown size at dimension 0/);
    assert.deepEqual(value(squeeze([null, 1], 1)), [null]);
  });

  it('unsqueeze accepts -rank-1 … rank', () => {
    assert.deepEqual(value(unsqueeze([3, 4], 0)), [1, 3, 4]);
    assert.deepEqual(value(unsqueeze([3, 4], -1)), [3, 4, 1]);
    assert.deepEqual(value(unsqueeze([3, 4], 2)), [3, 4, 1]);
    assert.match(error(unsqueeze([3, 4], 3)), /dim 3 is out of range for a 3-D tensor \(valid -3 to 2\)/);
  });
});

describe('expand, repeat, tile', () => {
  it('expand grows size-1 dims, keeps -1, adds leading dims', () => {
    assert.deepEqual(value(expand([3, 1], [3, 4])), [3, 4]);
    assert.deepEqual(value(expand([3, 1], [-1, 4])), [3, 4]);
    assert.deepEqual(value(expand([3, 1], [2, 3, 4])), [2, 3, 4]);
    assert.deepEqual(value(expand([null, 1], [-1, 5])), [null, 5]);
    assert.deepEqual(value(expand([3, 1], [null, null])), [3, null]);
  });

  it('expand explains the non-singleton rule', () => {
    assert.match(
      error(expand([2, 3], [2, 5])),
      /the size 5 must match the existing size 3 at dimension 1, which is not 1/,
    );
    assert.match(error(expand([2, 3], [3])), /at least one size per dimension/);
    assert.match(error(expand([3], [-1, 3])), /-1 is not allowed for the new leading dimension 0/);
  });

  it('repeat multiplies, padding the shape with leading 1s', () => {
    assert.deepEqual(value(repeat([3], [4, 2])), [4, 6]);
    assert.deepEqual(value(repeat([2, 3], [1, 1])), [2, 3]);
    assert.deepEqual(value(repeat([null, 3], [2, 2])), [null, 6]);
    assert.deepEqual(value(repeat([null, 3], [0, 2])), [0, 6]);
    assert.match(error(repeat([2, 3], [2])), /at least one count per dimension/);
    assert.match(error(repeat([2, 3], [2, -1])), /invalid size -1/);
  });

  it('tile pads short repeats with 1s', () => {
    assert.deepEqual(value(tile([2, 3], [2])), [2, 6]);
    assert.deepEqual(value(tile([3], [2, 2])), [2, 6]);
  });
});

describe('indexing (Python slice semantics, NumPy advanced indexing)', () => {
  it('sliceLength follows slice.indices with clamping and negatives', () => {
    assert.equal(sliceLength(10, 2, 5), 3);
    assert.equal(sliceLength(10, null, null, 3), 4); // 0, 3, 6, 9
    assert.equal(sliceLength(10, -3), 3);
    assert.equal(sliceLength(10, 5, 100), 5);
    assert.equal(sliceLength(10, -100, 2), 2);
    assert.equal(sliceLength(10, 7, 3), 0);
    assert.equal(sliceLength(10, null, null, -1), 10);
    assert.equal(sliceLength(10, 8, 2, -2), 3); // 8, 6, 4
    assert.equal(sliceLength(null, 0, 3), null);
    assert.equal(sliceLength(10, 'unknown', 3), null);
  });

  it('integers drop dims, slices resize, None adds, Ellipsis fills', () => {
    assert.deepEqual(value(index([4, 5, 6], [0])), [5, 6]);
    assert.deepEqual(value(index([4, 5, 6], [{ start: 1, stop: 3 }, -1])), [2, 6]);
    assert.deepEqual(value(reshape([1, 3136], [-1, 64, 7])), [7, 64, 7]);
    assert.deepEqual(value(index([4, 5, 6], ['...', 0])), [4, 5]);
    assert.deepEqual(value(index([4, 5, 6], [null, '...', null])), [1, 4, 5, 6, 1]);
    assert.deepEqual(value(index([4, 5, 6], [{}, { step: 2 }])), [4, 3, 6]);
    assert.deepEqual(value(index([null, 5], [{ start: 0, stop: 2 }, 1])), [null]);
  });

  it('bounds-checks integers and refuses bad indices', () => {
    assert.equal(
      error(index([4, 5], [{}, 5])),
      'index 5 is out of bounds for dimension 1 with size 5 (valid -5 to 4).',
    );
    assert.match(error(index([4, 5], [0, 0, 0])), /too many indices for a 2-D tensor/);
    assert.match(error(index([4, 5], ['...', '...'])), /single ellipsis/);
    assert.match(error(index([4], [{ step: 0 }])), /step cannot be zero/);
    assert.match(error(index([4], [{ step: -1 }])), /only supports positive steps/);
    assert.deepEqual(value(index([4], [{ step: -1 }], { negativeStep: true })), [4]);
  });

  it('advanced indices broadcast and go in place when adjacent, else in front', () => {
    assert.deepEqual(value(index([5, 6, 7], [{ array: [2, 3] }])), [2, 3, 6, 7]);
    assert.deepEqual(value(index([5, 6, 7], [{}, { array: [4] }, { array: [4] }])), [5, 4]);
    assert.deepEqual(value(index([5, 6, 7], [{ array: [4] }, {}, { array: [4] }])), [4, 6]);
    assert.deepEqual(value(index([5, 6], [{ mask: [5, 6] }])), [null]);
    assert.match(error(index([5, 6], [{ mask: [4] }])), /mask \(4,\) does not match/);
    assert.match(error(index([5, 6], [{ array: [2] }, { array: [3] }])), /2 vs 3/);
  });
});

describe('matmul (torch.matmul docs)', () => {
  it('covers dot, matrix-vector, matrix-matrix and batched products', () => {
    assert.deepEqual(value(matmul([3], [3])), []);
    assert.deepEqual(value(matmul([2, 3], [3])), [2]);
    assert.deepEqual(value(matmul([3], [3, 4])), [4]);
    assert.deepEqual(value(matmul([2, 3], [3, 4])), [2, 4]);
    assert.deepEqual(value(matmul([10, 1, 2, 3], [5, 3, 4])), [10, 5, 2, 4]);
    assert.deepEqual(value(matmul([null, 2, 3], [3, 4])), [null, 2, 4]);
  });

  it('names the inner sizes that differ', () => {
    assert.equal(
      error(matmul([1, 3136], [3000, 10])),
      'cannot multiply (1, 3136) by (3000, 10): the last dimension of the first (3136) must equal the ' +
        'second-to-last dimension of the second (3000).',
    );
    assert.match(error(matmul([], [3])), /at least 1-D/);
    assert.match(error(matmul([2, 2, 3], [3, 3, 4])), /dimension 0 is 2 vs 3/);
  });
});

describe('reductions, softmax-style dims, topk', () => {
  it('removes dims, or keeps them as 1', () => {
    assert.deepEqual(value(reduce([2, 3, 4], [2])), [2, 3]);
    assert.deepEqual(value(reduce([1, 64, 7, 7], [2, 3])), [1, 64]);
    assert.deepEqual(value(reduce([1, 64, 7, 7], [-1, -2], true)), [1, 64, 1, 1]);
    assert.deepEqual(value(reduce([2, 3])), []);
    assert.deepEqual(value(reduce([2, 3], null, true)), [1, 1]);
    assert.deepEqual(value(reduce([2, 3], [])), []);
    assert.match(error(reduce([2, 3], [1, -1])), /dim 1 appears more than once/);
    assert.match(error(reduce([2, 3], 2)), /out of range for a 2-D tensor/);
  });

  it('alongDim only checks the dim', () => {
    assert.deepEqual(value(alongDim([2, 10], -1)), [2, 10]);
    assert.match(error(alongDim([2, 10], 2)), /out of range/);
  });

  it('topk replaces the size of dim by k', () => {
    assert.deepEqual(value(topk([2, 10], 3)), [2, 3]);
    assert.match(error(topk([2, 10], 11)), /k \(11\) is larger than dimension 1/);
  });
});

describe('interpolate (torch.nn.functional.interpolate)', () => {
  it('scale_factor gives floor(in · scale)', () => {
    assert.deepEqual(value(interpolate([1, 3, 7, 7], { scale_factor: 2 })), [1, 3, 14, 14]);
    // floor(7 · 1.5) = 10; floor(5 · 0.5) = 2.
    assert.deepEqual(value(interpolate([1, 3, 7, 5], { scale_factor: [1.5, 0.5] })), [1, 3, 10, 2]);
    // 3 · 1.1 = 3.3000000000000003 in double precision → 3.
    assert.deepEqual(value(interpolate([1, 1, 3], { scale_factor: 1.1, mode: 'linear' })), [1, 1, 3]);
    assert.deepEqual(
      value(interpolate([1, 3, 7, 7], { scale_factor: 2, recompute_scale_factor: true })),
      [1, 3, 14, 14],
    );
    assert.deepEqual(value(interpolate([null, 3, null, 8], { scale_factor: 2 })), [null, 3, null, 16]);
  });

  it('size is taken as is', () => {
    assert.deepEqual(value(interpolate([1, 3, 7, 7], { size: [20, 30], mode: 'bilinear' })), [1, 3, 20, 30]);
    assert.deepEqual(value(interpolate([1, 3, 7, 7], { size: 9 })), [1, 3, 9, 9]);
  });

  it('checks modes, ranks, align_corners and size/scale combinations', () => {
    assert.match(
      error(interpolate([1, 3, 7, 7], { scale_factor: 2, mode: 'linear' })),
      /mode='linear' needs a 3-D input/,
    );
    assert.match(error(interpolate([3, 7], { scale_factor: 2 })), /only 3-D, 4-D and 5-D/);
    assert.match(
      error(interpolate([1, 3, 7, 7], { scale_factor: 2, align_corners: true })),
      /align_corners can only/,
    );
    assert.match(
      error(interpolate([1, 3, 7, 7], { size: 4, scale_factor: 2 })),
      /either size or scale_factor, not both/,
    );
    assert.match(error(interpolate([1, 3, 7, 7], {})), /give either size or scale_factor/);
    assert.match(
      error(interpolate([1, 3, 7, 7], { size: [4] })),
      /2 spatial dimensions \[7, 7\] but size \(4,\) has 1/,
    );
    assert.match(error(interpolate([1, 3, 3, 3], { scale_factor: 0.2 })), /from 3 to floor\(3 × 0.2\) = 0/);
    assert.match(error(interpolate([1, 3, 7, 7], { scale_factor: 2, mode: 'cubic' })), /mode must be one of/);
    assert.match(
      error(interpolate([1, 3, 7, 7], { size: 4, recompute_scale_factor: true })),
      /recompute_scale_factor is not meaningful/,
    );
  });
});

describe('pad (torch.nn.functional.pad, last dimension first)', () => {
  it('pads and crops (negative pads) in last-dim-first order', () => {
    assert.deepEqual(value(pad([1, 3, 4, 4], [1, 1])), [1, 3, 4, 6]);
    assert.deepEqual(value(pad([1, 3, 4, 4], [1, 2, 3, 4])), [1, 3, 11, 7]);
    assert.deepEqual(value(pad([1, 3, 4, 4], [-1, -1])), [1, 3, 4, 2]);
    assert.deepEqual(value(pad([5], [-2, -3])), [0]);
    assert.deepEqual(value(pad([null, 3, 4], [1, 1, 2, 2])), [null, 7, 6]);
    assert.deepEqual(value(pad([2, null], [1, 1])), [2, null]);
  });

  it('checks pad length and the results', () => {
    assert.match(error(pad([4], [1, 2, 3])), /odd count/);
    assert.match(error(pad([4], [1, 1, 1, 1])), /has only 1/);
    assert.match(error(pad([5], [-3, -3])), /leave -1, which is negative/);
  });

  it('reflect needs pads below the size; circular at most the size; ranks for non-constant modes', () => {
    assert.deepEqual(value(pad([1, 3, 4, 4], [3, 3, 3, 3], 'reflect')), [1, 3, 10, 10]);
    assert.match(
      error(pad([1, 3, 4, 4], [4, 4, 0, 0], 'reflect')),
      /smaller than the input size.*size 4 and pads \(4, 4\)/,
    );
    assert.deepEqual(value(pad([1, 3, 4], [4, 4], 'circular')), [1, 3, 12]);
    assert.match(error(pad([1, 3, 4], [5, 0], 'circular')), /at most once/);
    assert.deepEqual(value(pad([1, 3, 2], [5, 5], 'replicate')), [1, 3, 12]);
    assert.match(error(pad([1, 1, 3, 4, 4], [1, 1], 'reflect')), /5-D/);
    assert.match(error(pad([4, 4], [1, 1], 'zeros')), /mode must be/);
  });
});

describe('absurd input never throws', () => {
  const junk: unknown[] = [undefined, null, 'x', 3, [1, -1], [1.5], [NaN], [Infinity], {}, [[1]], [2 ** 60]];
  it('every op answers with an error for junk shapes', () => {
    for (const bad of junk) {
      const shape = bad as TensorShape;
      if (bad === null || (Array.isArray(bad) && bad.length === 0)) continue;
      refuses(() => reshape(shape, [-1]));
      refuses(() => flatten(shape));
      refuses(() => permute(shape, [0]));
      refuses(() => pad(shape, [1, 1]));
      refuses(() => interpolate(shape, { scale_factor: 2 }));
      refuses(() => index(shape, [0]));
      refuses(() => matmul(shape, [3]));
      refuses(() => broadcast(shape, [3]));
      refuses(() => cat([shape, [3]], 0));
      refuses(() => reduce(shape, [0]));
      refuses(() => squeeze(shape));
    }
  });

  it('junk arguments are refused with a message', () => {
    refuses(() => reshape([2, 3], 'x' as unknown as number[]));
    refuses(() => permute([2, 3], [0, 'a'] as unknown as number[]));
    refuses(() => flatten([2, 3], 0.5));
    refuses(() => chunk([4], 1.5));
    refuses(() => split([4], -1));
    refuses(() => pad([4], [0.5, 1]));
    refuses(() => expand([4], [-2]));
    refuses(() => index([4], [{ start: 1.5 }]));
    refuses(() => interpolate([1, 1, 4], { scale_factor: 'x' }));
    refuses(() => interpolate([1, 1, 4], { size: -3 }));
    refuses(() => topk([4], -1));
  });
});
