/**
 * PyTorch torch.nn layers around the convs (src/core/arithmetic/torchModules.ts). There is no golden file for
 * these: expected values follow the shape formulas in the PyTorch documentation of each module
 * (pytorch.org/docs/stable/generated/torch.nn.<Name>.html, "Shape:" sections) and the checks in
 * torch/nn/modules/*.py and torch/nn/functional.py, cited per block.
 */
import * as assert from 'node:assert/strict';
import { bindArguments } from '../../src/core/arithmetic/args';
import { layerByQualifiedName, resolveLayerName } from '../../src/core/arithmetic/registry';
import { torchModuleLayers, torchPassThroughFunctions } from '../../src/core/arithmetic/torchModules';
import type { LayerShape, PyValue } from '../../src/core/arithmetic/types';
import { type Dim, isMultiInputLayer, isTensorLayer, type TensorLayerShape } from '../../src/core/tensor/ops';

type Args = Record<string, PyValue>;

function bind(name: string, args: Args, positional: PyValue[] = []) {
  const def = layerByQualifiedName(`torch.nn.${name}`);
  assert.ok(def, `torch.nn.${name} is registered`);
  const bound = bindArguments(def.name, def.params, positional, args);
  assert.ok(bound.ok, bound.ok ? '' : bound.error);
  return { def, args: bound.value };
}

function shape(name: string, args: Args, input: number[], positional: PyValue[] = []): LayerShape {
  const { def, args: bound } = bind(name, args, positional);
  const answer = def.infer(bound, input);
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value;
}

const out = (name: string, args: Args, input: number[], positional: PyValue[] = []) =>
  shape(name, args, input, positional).output;

function tensorShape(name: string, args: Args, input: Dim[]): TensorLayerShape {
  const { def, args: bound } = bind(name, args);
  assert.ok(isTensorLayer(def));
  const answer = def.inferTensor(bound, input);
  assert.ok(answer.ok, answer.ok ? '' : answer.error);
  return answer.value;
}

function error(name: string, args: Args, input: Dim[], positional: PyValue[] = []): string {
  const def = layerByQualifiedName(`torch.nn.${name}`);
  assert.ok(def && isTensorLayer(def));
  const bound = bindArguments(def.name, def.params, positional, args);
  if (!bound.ok) return bound.error;
  let answer: ReturnType<typeof def.inferTensor> | undefined;
  assert.doesNotThrow(() => {
    answer = def.inferTensor(bound.value, input);
  });
  assert.ok(answer && !answer.ok, `expected an error, got ${JSON.stringify(answer)}`);
  return answer.error;
}

describe('torch.nn.Linear / LazyLinear / Bilinear', () => {
  // Linear docs: input (*, H_in), output (*, H_out); weight (out_features, in_features), bias (out_features).
  it('maps the last dimension and counts weights', () => {
    const s = shape('Linear', {}, [8, 3136], [3136, 10]);
    assert.deepEqual(s.output, [8, 10]);
    assert.deepEqual(s.weightShape, [10, 3136]);
    assert.deepEqual(s.biasShape, [10]);
    assert.equal(s.params, 3136 * 10 + 10);
    assert.equal(s.macs, 8 * 3136 * 10);
    assert.deepEqual(out('Linear', { in_features: 5, out_features: 2, bias: false }, [2, 7, 5]), [2, 7, 2]);
    assert.equal(shape('Linear', { in_features: 5, out_features: 2, bias: false }, [5]).params, 10);
  });

  it('says which in_features to set', () => {
    assert.equal(
      error('Linear', { in_features: 3000, out_features: 10 }, [1, 3136]),
      "Linear expects the input's last dimension to be in_features=3000, but the input (1, 3136) has 3136 " +
        'there. Set in_features=3136, or reshape the input so its last dimension is 3000.',
    );
    assert.match(error('Linear', { in_features: 3, out_features: 1 }, []), /at least one dimension/);
    assert.match(
      error('Linear', { in_features: -3, out_features: 1 }, [2, 3]),
      /in_features must be at least 0/,
    );
    assert.match(
      error('Linear', { in_features: 'a', out_features: 1 }, [2, 3]),
      /in_features must be an integer/,
    );
  });

  it('notes a Linear on an unflattened feature map', () => {
    const s = shape('Linear', { in_features: 7, out_features: 10 }, [1, 64, 7, 7]);
    assert.deepEqual(s.output, [1, 64, 7, 10]);
    assert.match(s.notes.join(' '), /Flatten first/);
  });

  it('keeps unknown sizes unknown', () => {
    const s = tensorShape('Linear', { in_features: 3136, out_features: 10 }, [null, 3136]);
    assert.deepEqual(s.output, [null, 10]);
    assert.equal(s.params, 31370);
    assert.equal(s.macs, null);
    // An unknown last size cannot be checked: the output is still known to end in out_features.
    assert.deepEqual(
      tensorShape('Linear', { in_features: 3136, out_features: 10 }, [2, null]).output,
      [2, 10],
    );
  });

  it('LazyLinear takes in_features from the input', () => {
    const s = shape('LazyLinear', { out_features: 4 }, [2, 9]);
    assert.deepEqual(s.output, [2, 4]);
    assert.deepEqual(s.weightShape, [4, 9]);
    assert.equal(s.params, 40);
    const unknown = tensorShape('LazyLinear', { out_features: 4 }, [2, null]);
    assert.equal(unknown.params, null);
    assert.deepEqual(unknown.weightShape, [4, null]);
  });

  it('Bilinear takes two inputs with the same leading dimensions', () => {
    const def = layerByQualifiedName('torch.nn.Bilinear')!;
    assert.ok(isMultiInputLayer(def));
    const bound = bindArguments(def.name, def.params, [20, 30, 40], {});
    assert.ok(bound.ok);
    const answer = def.inferMany(bound.value, [
      [128, 20],
      [128, 30],
    ]);
    assert.ok(answer.ok);
    assert.deepEqual(answer.value.output, [128, 40]);
    assert.deepEqual(answer.value.weightShape, [40, 20, 30]);
    assert.equal(answer.value.params, 40 * 20 * 30 + 40);
    const wrong = def.inferMany(bound.value, [
      [128, 21],
      [128, 30],
    ]);
    assert.ok(!wrong.ok && /in1_features=21/.test(wrong.error));
    const single = def.infer(bound.value, [128, 20]);
    assert.ok(!single.ok && /two inputs/.test(single.error));
    const batches = def.inferMany(bound.value, [
      [2, 20],
      [3, 30],
    ]);
    assert.ok(!batches.ok && /same leading/.test(batches.error));
  });
});

describe('shape-only layers: Flatten, Unflatten, Identity', () => {
  it('Flatten(start_dim=1, end_dim=-1)', () => {
    assert.deepEqual(out('Flatten', {}, [8, 64, 7, 7]), [8, 3136]);
    assert.deepEqual(out('Flatten', { start_dim: 0 }, [8, 64, 7, 7]), [8 * 3136]);
    assert.deepEqual(tensorShape('Flatten', {}, [null, 64, 7, 7]).output, [null, 3136]);
    assert.match(error('Flatten', {}, [5]), /start_dim 1 is out of range for a 1-D tensor \(valid -1 to 0\)/);
  });

  it('Unflatten(dim, unflattened_size)', () => {
    assert.deepEqual(out('Unflatten', { dim: 1, unflattened_size: [64, 7, 7] }, [8, 3136]), [8, 64, 7, 7]);
    assert.deepEqual(out('Unflatten', { dim: -1, unflattened_size: [2, -1] }, [8, 10]), [8, 2, 5]);
    assert.match(error('Unflatten', { dim: 1, unflattened_size: [3, 3] }, [8, 10]), /9 elements/);
  });

  it('Identity passes anything through', () => {
    assert.deepEqual(out('Identity', {}, [1, 2, 3]), [1, 2, 3]);
  });
});

describe('dropout (torch/nn/modules/dropout.py, F.dropout1d/2d/3d)', () => {
  it('keeps the shape; p must lie in [0, 1]', () => {
    assert.deepEqual(out('Dropout', { p: 0.3 }, [4, 10]), [4, 10]);
    assert.match(error('Dropout', { p: 1.5 }, [4]), /between 0 and 1, but got 1.5/);
    assert.match(error('Dropout', { p: 'x' }, [4]), /p must be a number/);
  });

  it('Dropout1d accepts only 2-D and 3-D input; 2d/3d warn', () => {
    assert.deepEqual(out('Dropout1d', {}, [4, 3, 10]), [4, 3, 10]);
    assert.match(error('Dropout1d', {}, [4, 3, 10, 10]), /Dropout1d expects a 2-D or 3-D input/);
    assert.match(shape('Dropout2d', {}, [3, 8, 8]).notes.join(' '), /3-D input/);
    assert.equal(shape('Dropout2d', {}, [1, 3, 8, 8]).notes.length, 0);
    assert.match(error('Dropout2d', {}, [5]), /at least 2 dimensions/);
    assert.equal(shape('Dropout3d', {}, [1, 3, 4, 8, 8]).notes.length, 0);
  });
});

describe('normalisation layers', () => {
  // batchnorm.py _check_input_dim; F.batch_norm needs running_mean of size C.
  it('BatchNorm1d/2d/3d: ranks and num_features', () => {
    const s = shape('BatchNorm2d', { num_features: 64 }, [8, 64, 56, 56]);
    assert.deepEqual(s.output, [8, 64, 56, 56]);
    assert.equal(s.params, 128);
    assert.deepEqual(s.weightShape, [64]);
    assert.deepEqual(out('BatchNorm1d', { num_features: 10 }, [8, 10]), [8, 10]);
    assert.deepEqual(out('BatchNorm1d', { num_features: 10 }, [8, 10, 50]), [8, 10, 50]);
    assert.equal(shape('BatchNorm2d', { num_features: 64, affine: false }, [8, 64, 4, 4]).params, 0);
    assert.equal(
      error('BatchNorm2d', { num_features: 64 }, [8, 32, 56, 56]),
      'BatchNorm2d(num_features=64) got an input with 32 channels (dimension 1 of (8, 32, 56, 56)). Set ' +
        'num_features=32.',
    );
    assert.match(
      error('BatchNorm2d', { num_features: 3 }, [3, 32, 32]),
      /expects a 4-D input.*3-D input \(3, 32, 32\)\. Add the batch dimension/,
    );
    assert.match(error('BatchNorm1d', { num_features: 3 }, [1, 3, 4, 4]), /2-D or 3-D input/);
    assert.match(
      shape('BatchNorm1d', { num_features: 3 }, [1, 3]).notes.join(' '),
      /more than 1 value per channel/,
    );
    assert.deepEqual(tensorShape('BatchNorm2d', { num_features: 64 }, [null, null, 7, 7]).output, [
      null,
      null,
      7,
      7,
    ]);
  });

  // instancenorm.py: (N, C, L) or (C, L) for 1d; channel mismatch is an error only with affine=True.
  it('InstanceNorm: batched or unbatched; channels checked when affine', () => {
    assert.deepEqual(out('InstanceNorm2d', { num_features: 3 }, [3, 8, 8]), [3, 8, 8]);
    assert.deepEqual(out('InstanceNorm1d', { num_features: 3 }, [2, 3, 8]), [2, 3, 8]);
    assert.match(
      error('InstanceNorm2d', { num_features: 4, affine: true }, [1, 3, 8, 8]),
      /Set num_features=3/,
    );
    assert.match(shape('InstanceNorm2d', { num_features: 4 }, [1, 3, 8, 8]).notes.join(' '), /only warns/);
    assert.match(error('InstanceNorm2d', { num_features: 3 }, [1, 3, 1, 1]), /more than 1 spatial element/);
    assert.equal(shape('InstanceNorm2d', { num_features: 3, affine: true }, [1, 3, 4, 4]).params, 6);
    assert.match(error('InstanceNorm3d', { num_features: 3 }, [3, 4, 4]), /4-D or 5-D input/);
  });

  // normalization.py LayerNorm: input (N, *), normalized_shape the trailing dims.
  it('LayerNorm: the input must end in normalized_shape', () => {
    const s = shape('LayerNorm', { normalized_shape: [10, 10] }, [20, 5, 10, 10]);
    assert.equal(s.params, 200);
    assert.deepEqual(s.weightShape, [10, 10]);
    assert.equal(shape('LayerNorm', { normalized_shape: 768, bias: false }, [2, 16, 768]).params, 768);
    assert.equal(
      error('LayerNorm', { normalized_shape: 64 }, [1, 32]),
      'LayerNorm(normalized_shape=64) expects an input ending in (64,), but got (1, 32). Set normalized_shape=32.',
    );
    assert.match(error('LayerNorm', { normalized_shape: [5, 5] }, [5]), /ending in \(5, 5\)/);
  });

  it('GroupNorm: num_groups divides num_channels; channels match', () => {
    assert.equal(shape('GroupNorm', { num_groups: 32, num_channels: 64 }, [2, 64, 8, 8]).params, 128);
    assert.match(
      error('GroupNorm', { num_groups: 32, num_channels: 48 }, [2, 48, 8, 8]),
      /num_channels \(48\) must be divisible by num_groups \(32\)\. Valid num_groups for 48 channels: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48/,
    );
    assert.match(
      error('GroupNorm', { num_groups: 8, num_channels: 64 }, [2, 32, 8, 8]),
      /Set num_channels=32\./,
    );
    assert.match(error('GroupNorm', { num_groups: 8, num_channels: 64 }, [64]), /at least 2 dimensions/);
    assert.match(
      error('GroupNorm', { num_groups: 0, num_channels: 64 }, [2, 64]),
      /num_groups must be at least 1/,
    );
  });

  it('LocalResponseNorm needs 3 or more dimensions', () => {
    assert.deepEqual(out('LocalResponseNorm', { size: 2 }, [1, 16, 8, 8]), [1, 16, 8, 8]);
    assert.match(error('LocalResponseNorm', { size: 2 }, [1, 16]), /3-D or higher/);
  });
});

describe('activations (torch/nn/modules/activation.py)', () => {
  it('element-wise activations keep any shape', () => {
    for (const name of [
      'ReLU',
      'ReLU6',
      'LeakyReLU',
      'ELU',
      'SELU',
      'CELU',
      'GELU',
      'SiLU',
      'Mish',
      'Sigmoid',
      'Tanh',
      'Hardtanh',
      'Hardswish',
      'Hardsigmoid',
      'Softplus',
    ]) {
      assert.deepEqual(out(name, {}, [2, 3, 4]), [2, 3, 4], name);
      assert.deepEqual(tensorShape(name, {}, [null, 3]).output, [null, 3], name);
    }
    assert.deepEqual(out('Threshold', { threshold: 0.1, value: 20 }, [5]), [5]);
  });

  it('validates their arguments', () => {
    assert.match(error('GELU', { approximate: 'fast' }, [3]), /approximate must be 'none' or 'tanh'/);
    assert.match(
      error('Hardtanh', { min_val: 1, max_val: -1 }, [3]),
      /max_val \(-1\) must be greater than min_val \(1\)/,
    );
    assert.match(error('LeakyReLU', { negative_slope: 'x' }, [3]), /negative_slope must be a number/);
    assert.match(error('Threshold', { threshold: 1 }, [3]), /needs 'value'/);
  });

  // F.softmax: _get_softmax_dim picks 0 for 0-, 1- and 3-D inputs, else 1.
  it('Softmax checks dim; without dim it notes the implicit choice', () => {
    assert.deepEqual(out('Softmax', { dim: -1 }, [2, 10]), [2, 10]);
    assert.match(
      error('Softmax', { dim: 2 }, [2, 10]),
      /dim 2 is out of range for a 2-D tensor \(valid -2 to 1\)/,
    );
    assert.match(shape('Softmax', {}, [2, 10]).notes.join(' '), /dim=1/);
    assert.match(shape('LogSoftmax', {}, [3, 2, 10]).notes.join(' '), /dim=0/);
    assert.match(error('Softmax2d', {}, [2, 10]), /3-D or 4-D input/);
  });

  it('PReLU: one slope per channel (dim 1, or dim 0 for 1-D input)', () => {
    const s = shape('PReLU', { num_parameters: 64 }, [1, 64, 8, 8]);
    assert.equal(s.params, 64);
    assert.deepEqual(s.weightShape, [64]);
    assert.equal(shape('PReLU', {}, [1, 64, 8, 8]).params, 1);
    assert.match(error('PReLU', { num_parameters: 3 }, [1, 64, 8, 8]), /Set num_parameters=64, or 1/);
    assert.match(error('PReLU', { num_parameters: 3 }, []), /0-D input/);
    assert.deepEqual(out('PReLU', { num_parameters: 4 }, [4]), [4]);
  });

  it('GLU halves an even dimension', () => {
    assert.deepEqual(out('GLU', {}, [4, 10]), [4, 5]);
    assert.deepEqual(out('GLU', { dim: 0 }, [4, 10]), [2, 10]);
    assert.match(error('GLU', {}, [4, 5]), /must be even.*size 5/);
  });
});

describe('upsampling (F.interpolate) and pixel shuffles', () => {
  it('Upsample: floor(in · scale) or size', () => {
    const s = shape('Upsample', { scale_factor: 2 }, [1, 3, 7, 7]);
    assert.deepEqual(s.output, [1, 3, 14, 14]);
    // Nearest by a whole factor is exactly a transposed window with kernel = stride = factor.
    assert.deepEqual(s.dims[0], {
      kind: 'transposed',
      kernel: 2,
      dilation: 1,
      stride: 2,
      padBegin: 0,
      padEnd: 0,
      outputPadding: 0,
    });
    assert.deepEqual(out('Upsample', { scale_factor: 1.5, mode: 'bilinear' }, [1, 3, 7, 7]), [1, 3, 10, 10]);
    assert.equal(shape('Upsample', { scale_factor: 1.5, mode: 'bilinear' }, [1, 3, 7, 7]).dims.length, 0);
    assert.deepEqual(out('Upsample', { size: [5, 6] }, [1, 3, 7, 7]), [1, 3, 5, 6]);
    assert.deepEqual(out('Upsample', { scale_factor: 2, mode: 'linear' }, [1, 3, 7]), [1, 3, 14]);
    assert.deepEqual(out('UpsamplingNearest2d', { scale_factor: 3 }, [1, 3, 4, 4]), [1, 3, 12, 12]);
    assert.deepEqual(out('UpsamplingBilinear2d', { size: 9 }, [1, 3, 4, 4]), [1, 3, 9, 9]);
    assert.match(
      error('Upsample', { scale_factor: 2, mode: 'bilinear' }, [1, 3, 7]),
      /mode='bilinear' needs a 4-D input/,
    );
    assert.match(error('Upsample', {}, [1, 3, 7, 7]), /either size or scale_factor/);
  });

  // PixelShuffle docs: (*, C·r², H, W) → (*, C, H·r, W·r).
  it('PixelShuffle / PixelUnshuffle check channel and size divisibility', () => {
    assert.deepEqual(out('PixelShuffle', { upscale_factor: 3 }, [1, 9, 4, 4]), [1, 1, 12, 12]);
    assert.deepEqual(out('PixelUnshuffle', { downscale_factor: 3 }, [1, 1, 12, 12]), [1, 9, 4, 4]);
    assert.match(
      error('PixelShuffle', { upscale_factor: 2 }, [1, 6, 4, 4]),
      /divisible by 2² = 4, but \(1, 6, 4, 4\) has 6 channels/,
    );
    assert.match(
      error('PixelUnshuffle', { downscale_factor: 2 }, [1, 1, 5, 4]),
      /height divisible by 2.*height 5/,
    );
    assert.match(error('PixelShuffle', { upscale_factor: 2 }, [4, 4]), /at least 3 dimensions/);
    assert.match(error('PixelShuffle', { upscale_factor: 0 }, [1, 4, 4, 4]), /at least 1/);
  });
});

describe('padding layers (padding.py, F.pad)', () => {
  it('an int pads every side of the last `rank` dims; a tuple is (left, right, top, bottom, …)', () => {
    assert.deepEqual(out('ZeroPad2d', { padding: 2 }, [1, 3, 8, 8]), [1, 3, 12, 12]);
    assert.deepEqual(out('ZeroPad2d', { padding: [1, 2, 3, 4] }, [1, 3, 8, 8]), [1, 3, 15, 11]);
    assert.deepEqual(out('ConstantPad1d', { padding: 3, value: 3.5 }, [2, 4]), [2, 10]);
    assert.deepEqual(out('ReplicationPad3d', { padding: 1 }, [1, 1, 2, 2, 2]), [1, 1, 4, 4, 4]);
    assert.deepEqual(out('CircularPad2d', { padding: 1 }, [1, 1, 3, 3]), [1, 1, 5, 5]);
    assert.deepEqual(out('ZeroPad2d', { padding: [-1, -1, 0, 0] }, [1, 3, 8, 8]), [1, 3, 8, 6]);
  });

  it('reports each padded dimension as a window rule (kernel 1)', () => {
    const s = shape('ZeroPad2d', { padding: [1, 2, 3, 4] }, [1, 3, 8, 8]);
    assert.deepEqual(
      s.dims.map((d) => (d.kind === 'window' ? [d.padBegin, d.padEnd] : null)),
      [
        [3, 4],
        [1, 2],
      ],
    );
  });

  it('reflect needs pads below the input size; circular checks rank', () => {
    assert.deepEqual(out('ReflectionPad2d', { padding: 2 }, [1, 3, 3, 3]), [1, 3, 7, 7]);
    assert.match(
      error('ReflectionPad2d', { padding: 3 }, [1, 3, 3, 3]),
      /smaller than the input size.*size 3 and pads \(3, 3\)/,
    );
    assert.match(error('ReflectionPad2d', { padding: 1 }, [1, 1, 3, 3, 3]), /5-D/);
    assert.match(error('CircularPad1d', { padding: 1 }, [1, 1, 3, 3]), /2-D or 3-D input/);
    assert.match(error('CircularPad1d', { padding: 4 }, [1, 3]), /at most once/);
    assert.match(
      error('ZeroPad2d', { padding: 'x' }, [1, 3, 3, 3]),
      /padding must be an int or a tuple of 4 ints/,
    );
  });
});

describe('Embedding, Fold / Unfold, ChannelShuffle', () => {
  it('Embedding appends embedding_dim', () => {
    const s = shape('Embedding', { num_embeddings: 1000, embedding_dim: 64 }, [8, 20]);
    assert.deepEqual(s.output, [8, 20, 64]);
    assert.equal(s.params, 64000);
    assert.match(
      error('Embedding', { num_embeddings: 10, embedding_dim: 4, padding_idx: 10 }, [3]),
      /padding_idx \(10\) must be within num_embeddings \(10\)/,
    );
    assert.deepEqual(
      out('Embedding', { num_embeddings: 10, embedding_dim: 4, padding_idx: -1 }, [3]),
      [3, 4],
    );
  });

  // Unfold docs: L = ∏ floor((size + 2·padding − dilation·(k − 1) − 1)/stride + 1).
  it('Unfold counts sliding blocks; Fold checks them', () => {
    assert.deepEqual(out('Unfold', { kernel_size: [2, 3] }, [2, 5, 3, 4]), [2, 30, 4]);
    assert.deepEqual(out('Unfold', { kernel_size: 3, padding: 1, stride: 2 }, [1, 3, 8, 8]), [1, 27, 16]);
    assert.match(error('Unfold', { kernel_size: 5 }, [1, 3, 4, 4]), /no sliding blocks/);
    assert.deepEqual(out('Fold', { output_size: [4, 5], kernel_size: [2, 2] }, [1, 12, 12]), [1, 3, 4, 5]);
    assert.match(
      error('Fold', { output_size: [4, 5], kernel_size: [2, 2] }, [1, 12, 10]),
      /3 × 4 = 12 sliding blocks, but the input's last dimension \(L\) is 10/,
    );
    assert.match(
      error('Fold', { output_size: [4, 5], kernel_size: [2, 2] }, [1, 10, 12]),
      /divisible by the product of kernel_size/,
    );
  });

  it('ChannelShuffle needs channels divisible by groups', () => {
    assert.deepEqual(out('ChannelShuffle', { groups: 2 }, [1, 4, 2, 2]), [1, 4, 2, 2]);
    assert.match(
      error('ChannelShuffle', { groups: 2 }, [1, 5, 2, 2]),
      /channels \(5\) must be divisible by groups \(2\)/,
    );
  });
});

describe('registry and robustness', () => {
  it('short names resolve to PyTorch', () => {
    assert.equal(resolveLayerName('nn.Linear', 'pytorch')[0]?.name, 'torch.nn.Linear');
    assert.equal(resolveLayerName('nn.BatchNorm2d')[0]?.name, 'torch.nn.BatchNorm2d');
    assert.ok(torchPassThroughFunctions.includes('torch.nn.functional.relu'));
  });

  it('every layer refuses absurd input without throwing', () => {
    const inputs: unknown[] = [[-1, 3], [1.5], ['a'], 'x', [2 ** 60, 2], new Array(70).fill(1)];
    for (const def of torchModuleLayers) {
      assert.ok(isTensorLayer(def));
      const defaults = def.params.filter((p) => p.default === undefined).map((p) => p.name);
      const args = Object.fromEntries(
        def.params.map((p) => [p.name, p.default === undefined ? 3 : p.default]),
      );
      for (const input of inputs) {
        assert.doesNotThrow(() => {
          const answer = def.inferTensor(args, input as Dim[]);
          assert.ok(!answer.ok, `${def.name} accepted ${JSON.stringify(input)}`);
        }, def.name);
      }
      for (const name of defaults) {
        for (const bad of [-5, 'x', [1, 'a'], 1e300, null]) {
          assert.doesNotThrow(
            () => def.inferTensor({ ...args, [name]: bad }, [2, 3, 8, 8]),
            `${def.name} ${name}`,
          );
        }
      }
    }
  });

  it('infer and inferTensor agree on known shapes', () => {
    for (const [name, args, input] of [
      ['Linear', { in_features: 8, out_features: 3 }, [2, 8]],
      ['BatchNorm2d', { num_features: 4 }, [2, 4, 5, 5]],
      ['Upsample', { scale_factor: 2 }, [1, 1, 3, 3]],
    ] as const) {
      const { def, args: bound } = bind(name, args as Args);
      assert.ok(isTensorLayer(def));
      const a = def.infer(bound, [...input]);
      const b = def.inferTensor(bound, [...input]);
      assert.ok(a.ok && b.ok);
      assert.deepEqual(a.value.output, b.value.output);
      assert.equal(a.value.params, b.value.params);
    }
  });
});
