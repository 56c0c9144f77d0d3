import * as assert from 'node:assert/strict';
import {
  CALCULATOR_FRAMEWORKS,
  LAYER_KINDS,
  type LayerChoice,
  bindParamLine,
  calculateLayer,
  defaultInput,
  defaultValues,
  inverseSettings,
  layerCode,
  layerForChoice,
  onnxNodeAsLayerCall,
  onnxWeightShape,
  parseLayerChoice,
  parseSizePair,
} from '../../src/core/codegen';
import { analyzeLayerCall } from '../../src/core/describe';

/** Binds a parameter line on top of a choice's prefilled values, failing the test on an error. */
function values(choice: LayerChoice, line: string) {
  const base = defaultValues(choice);
  assert.ok(base.ok, base.ok ? '' : base.error);
  const bound = bindParamLine(choice, line, base.value);
  assert.ok(bound.ok, bound.ok ? '' : bound.error);
  return bound.value;
}

/** Parses generated code back through the core, as a user pasting it into the CLI would. */
function reanalyse(choice: LayerChoice, code: string, input: number[], weight: number[] | null) {
  const text =
    choice.framework === 'onnx' ? onnxNodeAsLayerCall(code, weight) : { ok: true as const, value: code };
  assert.ok(text.ok, text.ok ? '' : text.error);
  const analysis = analyzeLayerCall(text.value, input, choice.framework);
  assert.ok(analysis.ok, `${code}: ${analysis.ok ? '' : analysis.error}`);
  return analysis.value.shape.output;
}

describe('codegen: the layer in each framework syntax', () => {
  it('writes the DCGAN upsampling layer in every framework', () => {
    const expected: Record<string, string> = {
      pytorch: 'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)',
      keras: "layers.Conv2DTranspose(32, 4, strides=2, padding='same')",
      flax: "nn.ConvTranspose(features=32, kernel_size=(4, 4), strides=(2, 2), padding='SAME')",
      onnx: "helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1])",
    };
    const lines: Record<string, string> = {
      pytorch: '64, 32, kernel_size=4, stride=2, padding=1',
      keras: "32, 4, strides=2, padding='same'",
      flax: "features=32, kernel_size=(4, 4), strides=(2, 2), padding='SAME'",
      onnx: 'out_channels=32, kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1]',
    };
    for (const framework of CALCULATOR_FRAMEWORKS) {
      const choice: LayerChoice = { framework, kind: 'convTranspose', rank: 2 };
      const code = layerCode(choice, values(choice, lines[framework]!));
      assert.ok(code.ok);
      assert.equal(code.value, expected[framework], framework);
      const input = defaultInput(framework, 2, 64);
      const calculated = calculateLayer(choice, values(choice, lines[framework]!), input);
      assert.ok(calculated.ok, calculated.ok ? '' : calculated.error);
      const output = calculated.value.analysis.shape.output;
      assert.deepEqual(
        output,
        framework === 'pytorch' || framework === 'onnx' ? [1, 32, 32, 32] : [1, 32, 32, 32],
      );
    }
  });

  it('round-trips every framework, kind and rank: the code parsed back gives the same shape', () => {
    const lines: Record<string, Record<string, string>> = {
      pytorch: {
        conv: 'stride=2, padding=1',
        convTranspose: 'stride=2, padding=1, output_padding=1',
        maxPool: 'kernel_size=3, stride=2, padding=1',
        avgPool: 'ceil_mode=True',
      },
      keras: {
        conv: "strides=2, padding='same'",
        convTranspose: "strides=2, padding='same'",
        maxPool: "strides=2, padding='same'",
        avgPool: 'pool_size=3',
      },
      flax: { conv: "strides=2, padding='VALID'", convTranspose: 'strides=2', maxPool: '', avgPool: '' },
      onnx: {
        conv: "auto_pad='SAME_UPPER', strides=2",
        convTranspose: 'strides=2',
        maxPool: 'ceil_mode=1',
        avgPool: 'count_include_pad=1',
      },
    };
    let checked = 0;
    for (const framework of CALCULATOR_FRAMEWORKS) {
      for (const kind of LAYER_KINDS) {
        for (const rank of [1, 2, 3]) {
          const choice: LayerChoice = { framework, kind, rank };
          if (!layerForChoice(choice).ok) continue;
          // ONNX takes lists for every per-dimension attribute.
          let line = lines[framework]![kind]!;
          if (framework === 'onnx')
            line = line.replace('strides=2', `strides=[${Array(rank).fill(2).join(', ')}]`);
          const bound = values(choice, line);
          const input = defaultInput(framework, rank, 64);
          const calculated = calculateLayer(choice, bound, input);
          assert.ok(calculated.ok, `${framework} ${kind} ${rank}: ${calculated.ok ? '' : calculated.error}`);
          const weight =
            framework === 'onnx' && (kind === 'conv' || kind === 'convTranspose')
              ? (() => {
                  const shape = onnxWeightShape(kind, bound, 64);
                  assert.ok(shape.ok);
                  return shape.value;
                })()
              : null;
          const code = layerCode(choice, bound);
          assert.ok(code.ok);
          assert.deepEqual(
            reanalyse(choice, code.value, input, weight),
            calculated.value.analysis.shape.output,
          );
          checked++;
        }
      }
    }
    assert.equal(checked, 4 * 4 * 3 - 2 * 3);
  });

  it('leaves defaults out and keeps required parameters', () => {
    const choice: LayerChoice = { framework: 'keras', kind: 'maxPool', rank: 2 };
    const code = layerCode(choice, values(choice, 'strides=(1, 1)'));
    assert.ok(code.ok);
    assert.equal(code.value, 'layers.MaxPooling2D(strides=(1, 1))');
    const torch: LayerChoice = { framework: 'pytorch', kind: 'conv', rank: 2 };
    const plain = layerCode(torch, values(torch, 'stride=(1, 1)'));
    assert.ok(plain.ok);
    assert.equal(plain.value, 'nn.Conv2d(64, 32, kernel_size=3)');
  });

  it('reports wrong parameters in the core words', () => {
    const choice: LayerChoice = { framework: 'keras', kind: 'conv', rank: 2 };
    const base = defaultValues(choice);
    assert.ok(base.ok);
    const bound = bindParamLine(choice, 'stride=2', base.value);
    assert.ok(!bound.ok);
    assert.match(bound.error, /Did you mean 'strides'/);
    const torch: LayerChoice = { framework: 'pytorch', kind: 'convTranspose', rank: 2 };
    const wrong = calculateLayer(torch, values(torch, 'stride=2, output_padding=2'), [1, 64, 16, 16]);
    assert.ok(!wrong.ok);
    assert.match(wrong.error, /output_padding/);
    assert.ok(!layerForChoice({ framework: 'flax', kind: 'maxPool', rank: 2 }).ok);
  });

  it('reads layer names and size pairs', () => {
    assert.deepEqual(parseLayerChoice('convTranspose2d'), {
      ok: true,
      value: { kind: 'convTranspose', rank: 2 },
    });
    assert.deepEqual(parseLayerChoice('nn.ConvTranspose2d'), {
      ok: true,
      value: { kind: 'convTranspose', rank: 2 },
    });
    assert.deepEqual(parseLayerChoice('Conv1DTranspose'), {
      ok: true,
      value: { kind: 'convTranspose', rank: 1 },
    });
    assert.deepEqual(parseLayerChoice('max_pool3d'), { ok: true, value: { kind: 'maxPool', rank: 3 } });
    assert.ok(!parseLayerChoice('linear').ok);
    assert.deepEqual(parseSizePair('37x37 -> 75x75'), { ok: true, value: { from: [37, 37], to: [75, 75] } });
    assert.deepEqual(parseSizePair('37 → 75'), { ok: true, value: { from: [37], to: [75] } });
    assert.ok(!parseSizePair('37x37 -> 0x75').ok);
  });
});

describe('codegen: the inverse calculator', () => {
  it('answers 37 → 75 in every framework, each answer checked through the core', () => {
    const answer = inverseSettings({ from: [37, 37], to: [75, 75] });
    assert.ok(answer.ok, answer.ok ? '' : answer.error);
    const reachable = answer.value.settings.filter((s) => s.reachable);
    const vias = new Set(reachable.map((s) => `${s.framework}:${s.via}`));
    for (const expected of [
      'pytorch:output_padding',
      'pytorch:forward(x, output_size=...)',
      'onnx:pads',
      'flax:padding pairs',
    ]) {
      assert.ok(vias.has(expected), `${expected} missing from ${[...vias].join(', ')}`);
    }
    assert.ok(reachable.some((s) => s.framework === 'keras'));
    assert.ok(reachable.some((s) => s.framework === 'tensorflow'));
    // Every layer-form answer, with channels filled in, gives 75 through the core.
    for (const setting of reachable) {
      const code = setting
        .code!.replace('in_channels, out_channels', '8, 4')
        .replace(/\bfilters\b/, '4')
        .replace(/\bfeatures\b/, '4');
      if (setting.framework === 'pytorch' && setting.via === 'output_padding') {
        const analysis = analyzeLayerCall(code, [1, 8, 37, 37], 'pytorch');
        assert.ok(analysis.ok && analysis.value.shape.output.join() === '1,4,75,75', code);
      }
      if (setting.framework === 'keras') {
        const analysis = analyzeLayerCall(code, [1, 37, 37, 8], 'keras');
        assert.ok(analysis.ok && analysis.value.shape.output.join() === '1,75,75,4', code);
      }
      if (setting.framework === 'flax') {
        const analysis = analyzeLayerCall(code, [1, 37, 37, 8], 'flax');
        assert.ok(analysis.ok && analysis.value.shape.output.join() === '1,75,75,4', code);
      }
    }
  });

  it('uses a fixed kernel and stride, with the reason where a framework cannot', () => {
    const answer = inverseSettings({ from: [37], to: [75], kernel: 4, stride: 2, padding: 1 });
    assert.ok(answer.ok);
    const torch = answer.value.settings.find((s) => s.framework === 'pytorch' && s.via === 'output_padding');
    assert.equal(
      torch?.code,
      'nn.ConvTranspose1d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, output_padding=1)',
    );
    const keras = answer.value.settings.find((s) => s.framework === 'keras' && !s.reachable);
    assert.ok(keras?.reason?.includes('75'));
  });

  it('answers a shrinking size with forward convs in every framework', () => {
    const answer = inverseSettings({ from: [64, 64], to: [32, 32] });
    assert.ok(answer.ok);
    assert.equal(answer.value.direction, 'forward');
    assert.deepEqual(
      [...new Set(answer.value.settings.map((s) => s.framework))],
      ['pytorch', 'keras', 'flax', 'onnx'],
    );
    const torch = answer.value.settings[0]!.code!.replace('in_channels, out_channels', '3, 8');
    const analysis = analyzeLayerCall(torch, [1, 3, 64, 64]);
    assert.ok(analysis.ok && analysis.value.shape.output.join() === '1,8,32,32', torch);
  });

  it('refuses sizes that grow one way and shrink another', () => {
    const answer = inverseSettings({ from: [37, 80], to: [75, 40] });
    assert.ok(!answer.ok);
    assert.match(answer.error, /grows some dimensions and shrinks others/);
  });
});
