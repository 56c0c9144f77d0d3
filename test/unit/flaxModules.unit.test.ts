/**
 * Flax linen modules around the convs (src/core/arithmetic/flaxModules.ts). Expected values follow the
 * parameter shapes Flax builds in flax/linen/linear.py (Dense kernel (in, features); DenseGeneral kernel
 * batch + axis sizes + features) and flax/linen/normalization.py (_normalize: scale and bias over the
 * feature axes), as in the examples of their docstrings (e.g. Dense(4) on (1, 3): kernel (3, 4), bias (4,)).
 */
import * as assert from 'node:assert/strict';
import { bindArguments } from '../../src/core/arithmetic/args';
import { flaxModuleLayers, flaxPassThroughFunctions } from '../../src/core/arithmetic/flaxModules';
import { layerByQualifiedName, resolveLayerName } from '../../src/core/arithmetic/registry';
import type { PyValue } from '../../src/core/arithmetic/types';
import { type Dim, isTensorLayer, type TensorLayerShape } from '../../src/core/tensor/ops';

type Args = Record<string, PyValue>;

function run(name: string, args: Args, input: Dim[]) {
  const def = layerByQualifiedName(`flax.linen.${name}`);
  assert.ok(def && isTensorLayer(def), `flax.linen.${name} is registered`);
  const bound = bindArguments(def.name, def.params, [], args);
  if (!bound.ok) return bound;
  return def.inferTensor(bound.value, input);
}

function shape(name: string, args: Args, input: Dim[]): TensorLayerShape {
  const answer = run(name, args, input);
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value as TensorLayerShape;
}

function error(name: string, args: Args, input: Dim[]): string {
  let answer: ReturnType<typeof run> | undefined;
  assert.doesNotThrow(() => {
    answer = run(name, args, input);
  });
  assert.ok(answer && !answer.ok, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

describe('flax.linen.Dense and DenseGeneral', () => {
  it('Dense(4) on (1, 3): kernel (3, 4), bias (4,) (the docstring example)', () => {
    const s = shape('Dense', { features: 4 }, [1, 3]);
    assert.deepEqual(s.output, [1, 4]);
    assert.deepEqual(s.weightShape, [3, 4]);
    assert.deepEqual(s.biasShape, [4]);
    assert.equal(s.params, 16);
    assert.equal(s.macs, 12);
  });

  it('Dense acts on the last axis; an unknown in-size leaves the kernel partly unknown', () => {
    assert.deepEqual(shape('Dense', { features: 10, use_bias: false }, [null, 7, 64]).output, [null, 7, 10]);
    const s = shape('Dense', { features: 10 }, [2, null]);
    assert.deepEqual(s.output, [2, 10]);
    assert.deepEqual(s.weightShape, [null, 10]);
    assert.equal(s.params, null);
    assert.match(error('Dense', { features: 0 }, [2, 3]), /features must be a positive integer/);
    assert.match(error('Dense', { features: 4 }, []), /at least one dimension/);
  });

  it('DenseGeneral replaces the axis dims by features', () => {
    const s = shape('DenseGeneral', { features: [4, 5], axis: [-2, -1] }, [2, 3, 6, 7]);
    assert.deepEqual(s.output, [2, 3, 4, 5]);
    assert.deepEqual(s.weightShape, [6, 7, 4, 5]);
    assert.deepEqual(s.biasShape, [4, 5]);
    assert.equal(s.params, 6 * 7 * 20 + 20);
    assert.deepEqual(shape('DenseGeneral', { features: 8, axis: 1 }, [2, 3, 6]).output, [2, 6, 8]);
    const batched = shape('DenseGeneral', { features: 8, batch_dims: [0] }, [2, 3, 6]);
    assert.deepEqual(batched.output, [2, 3, 8]);
    assert.deepEqual(batched.weightShape, [2, 6, 8]);
    assert.deepEqual(batched.biasShape, [2, 8]);
    assert.match(
      error('DenseGeneral', { features: 8, batch_dims: [1] }, [2, 3, 6]),
      /consecutive leading dimensions/,
    );
    assert.match(
      error('DenseGeneral', { features: 8, axis: 3 }, [2, 3, 6]),
      /axis 3 is out of range for a 3-D tensor/,
    );
  });
});

describe('flax.linen.Embed', () => {
  it('appends features; embedding (num_embeddings, features)', () => {
    const s = shape('Embed', { num_embeddings: 100, features: 16 }, [4, 12]);
    assert.deepEqual(s.output, [4, 12, 16]);
    assert.equal(s.params, 1600);
    assert.match(error('Embed', { num_embeddings: 100 }, [4]), /needs 'features'/);
  });
});

describe('normalisation modules', () => {
  it('BatchNorm: scale and bias of the feature axis (the docstring: (5, 6) → scale (6,), bias (6,))', () => {
    const s = shape('BatchNorm', { use_running_average: true }, [5, 6]);
    assert.deepEqual(s.weightShape, [6]);
    assert.deepEqual(s.biasShape, [6]);
    assert.equal(s.params, 12);
    assert.match(s.notes.join(' '), /batch_stats/);
    assert.equal(shape('BatchNorm', { axis: 1, use_scale: false }, [2, 8, 4, 4]).params, 8);
  });

  it('LayerNorm / RMSNorm over the feature axes', () => {
    assert.equal(shape('LayerNorm', {}, [3, 4, 5, 6]).params, 12);
    assert.deepEqual(shape('LayerNorm', { feature_axes: [-2, -1] }, [3, 4, 5, 6]).weightShape, [5, 6]);
    assert.equal(shape('RMSNorm', {}, [5, 6]).params, 6);
    assert.equal(shape('LayerNorm', {}, [3, null]).params, null);
  });

  it('GroupNorm: exactly one of num_groups / group_size, dividing the channels', () => {
    assert.equal(shape('GroupNorm', { num_groups: 3 }, [3, 4, 5, 6]).params, 12);
    assert.equal(shape('GroupNorm', { num_groups: null, group_size: 2 }, [3, 4, 5, 6]).params, 12);
    assert.match(
      error('GroupNorm', {}, [3, 4, 5, 6]),
      /num_groups \(32\) does not divide the number of channels \(6\)/,
    );
    assert.match(error('GroupNorm', { group_size: 2 }, [3, 6]), /exactly one of num_groups and group_size/);
    assert.match(
      error('GroupNorm', { num_groups: null, group_size: 4 }, [3, 6]),
      /not a multiple of group_size \(4\)/,
    );
  });

  it('InstanceNorm refuses the batch axis as a feature axis', () => {
    assert.equal(shape('InstanceNorm', {}, [2, 3, 4, 5]).params, 10);
    assert.match(
      error('InstanceNorm', { feature_axes: 0 }, [2, 3, 4, 5]),
      /cannot include the leading \(batch\) axis/,
    );
  });
});

describe('flax.linen.Dropout', () => {
  it('keeps the shape', () => {
    assert.deepEqual(shape('Dropout', { rate: 0.1 }, [null, 10]).output, [null, 10]);
    assert.match(error('Dropout', { rate: 'x' }, [2]), /rate must be a number/);
    assert.match(shape('Dropout', { rate: 2 }, [2]).notes.join(' '), /outside \[0, 1\]/);
  });
});

describe('registry and robustness', () => {
  it('nn.Dense resolves to Flax when Flax is preferred; pass-through names exist', () => {
    assert.equal(resolveLayerName('nn.Dense', 'flax')[0]?.name, 'flax.linen.Dense');
    assert.equal(resolveLayerName('nn.BatchNorm')[0]?.name, 'flax.linen.BatchNorm');
    assert.ok(flaxPassThroughFunctions.includes('flax.linen.relu'));
    assert.ok(!flaxPassThroughFunctions.includes('flax.linen.glu'));
  });

  it('every module refuses absurd input without throwing', () => {
    for (const def of flaxModuleLayers) {
      assert.ok(isTensorLayer(def));
      const args = Object.fromEntries(
        def.params.map((p) => [p.name, p.default === undefined ? 2 : p.default]),
      );
      for (const input of [[-1, 3], [1.5], ['a'], 'x', [2 ** 60, 2]] as unknown[]) {
        assert.doesNotThrow(() => {
          const answer = def.inferTensor(args, input as Dim[]);
          assert.ok(!answer.ok, `${def.name} accepted ${JSON.stringify(input)}`);
        }, def.name);
      }
      for (const p of def.params.filter((q) => !q.keywordOnly)) {
        for (const bad of [-5, 'x', [1, 'a'], 1e300, null]) {
          assert.doesNotThrow(
            () => def.inferTensor({ ...args, [p.name]: bad }, [2, 4, 4, 4]),
            `${def.name} ${p.name}`,
          );
        }
      }
    }
  });
});
