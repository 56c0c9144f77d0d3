import * as assert from 'node:assert/strict';
import { parseCallExpression } from '../../src/core/callExpression';
import { analyzeLayerCall, describeLayerCall, parseShape } from '../../src/core/describe';

describe('reading a typed layer call', () => {
  it('reads positional and keyword arguments, tuples and strings', () => {
    const call = parseCallExpression("nn.Conv2d(3, 16, (3, 5), stride=2, padding='same', bias=False)");
    assert.ok(call.ok);
    assert.deepEqual(call.value.positional, [3, 16, [3, 5]]);
    assert.deepEqual(call.value.keyword, { stride: 2, padding: 'same', bias: false });
  });
  it('tells a parenthesised number from a one-element tuple', () => {
    const call = parseCallExpression('nn.Conv1d(1, 1, (3), stride=(2,))');
    assert.ok(call.ok);
    assert.deepEqual(call.value.positional[2], 3);
    assert.deepEqual(call.value.keyword['stride'], [2]);
  });
  it('reads negative numbers and None', () => {
    const call = parseCallExpression('f(-1, None, [1, -2])');
    assert.ok(call.ok);
    assert.deepEqual(call.value.positional, [-1, null, [1, -2]]);
  });
  it('records bare names (the input tensor of functional forms)', () => {
    const call = parseCallExpression('F.conv2d(x, weight=[8, 3, 3, 3])');
    assert.ok(call.ok);
    assert.deepEqual(call.value.positionalNames, ['x']);
  });
  it('reports half-typed and broken expressions without throwing', () => {
    for (const text of [
      'nn.Conv2d(3, 16',
      'nn.Conv2d(3,, 16)',
      'nn.Conv2d(stride=2, 3)',
      '(3)',
      '',
      'nn.Conv2d(3, 16, k=',
      "x('abc",
      'a(1)(2)',
      'a(b=1, b=2)',
    ]) {
      const call = parseCallExpression(text);
      assert.equal(call.ok, false, text);
      assert.ok(!call.ok && call.error.length > 10, text);
    }
  });
});

describe('describing a layer', () => {
  it('gives shape, formula, weights and params for the DCGAN upsampling layer', () => {
    const text = describeLayerCall('nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)', '1,64,16,16');
    assert.match(text, /\(1, 64, 16, 16\) → \(1, 32, 32, 32\)/);
    assert.match(text, /H_out = 2·H_in/);
    assert.match(text, /weight \(64, 32, 4, 4\)/);
    assert.match(text, /params 32,800/);
  });
  it('drops the input tensor of a functional form', () => {
    const analysis = analyzeLayerCall('F.conv2d(x, [16, 3, 5, 5], stride=2, padding=2)', [2, 3, 64, 64]);
    assert.ok(analysis.ok, JSON.stringify(analysis));
    assert.deepEqual(analysis.value.shape.output, [2, 16, 32, 32]);
  });
  it('reads nn.Conv as Flax and nn.Conv2d as PyTorch', () => {
    const flax = analyzeLayerCall('nn.Conv(16, (3, 3))', [1, 32, 32, 3]);
    assert.ok(flax.ok);
    assert.equal(flax.value.def.name, 'flax.linen.Conv');
    const torch = analyzeLayerCall('nn.Conv2d(3, 16, 3)', [1, 3, 32, 32]);
    assert.ok(torch.ok);
    assert.equal(torch.value.def.name, 'torch.nn.Conv2d');
  });
  it('explains unknown layers and bad shapes', () => {
    assert.match(describeLayerCall('nn.Conv7d(1, 1, 1)', '1,1,1'), /not a layer Conv Lens knows/);
    assert.match(describeLayerCall('nn.Conv2d(1, 1, 1)', '1,a,3'), /'a' in the input shape is not a size/);
    assert.deepEqual(parseShape('(1, 3, 224, 224)'), { ok: true, value: [1, 3, 224, 224] });
    assert.deepEqual(parseShape('[1 x 3 x 8]'), { ok: true, value: [1, 3, 8] });
  });
});
