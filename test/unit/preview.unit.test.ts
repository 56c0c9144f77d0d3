/**
 * The preview's pure parts: reading a layer from its constructor call, kernel presets, the hover's input window,
 * overlap counts, the round trip's output_padding, and the protocol checks both sides apply.
 */
import * as assert from 'node:assert/strict';
import { previewLayerFromSite, splitArguments } from '../../src/extension/previewLayer';
import { convolveCpu, runSlice, splitWork } from '../../src/core/engine/cpu';
import { validateProblem } from '../../src/core/engine/shape';
import type { ConvProblem } from '../../src/core/engine/types';
import { base64ToBytes, fitSize, rgbaToInput } from '../../src/webview/preview/images';
import {
  imageMimeOf,
  isBase64,
  isHostToPanel,
  isPanelToHost,
  isWorkerReply,
  isWorkerRequest,
  type PreviewLayer,
} from '../../src/protocol/preview';
import { bilinear1d, layerWeights, parseCustomFilter, presetFilter } from '../../src/webview/preview/kernels';
import { generatePattern } from '../../src/webview/preview/patterns';
import { assembleSlices, extractSlice, poolSize, workersFor } from '../../src/webview/preview/pool';
import {
  interiorOverlap,
  mirrorLayer,
  overlapCounts,
  sourceCells,
  stackShapes,
} from '../../src/webview/preview/stack';

const torchSite = (className: string, weightShape: number[] | null) => ({
  className,
  qualifiedName: `torch.nn.${className}`,
  weightShape,
  framework: 'torch' as const,
  callee: `nn.${className}`,
});

const CONV: PreviewLayer = {
  op: 'conv',
  kernel: [3, 3],
  stride: [2, 2],
  padding: [1, 1],
  dilation: [1, 1],
  outputPadding: [0, 0],
  outChannels: 4,
  label: 'conv',
};

describe('preview: layer from the editor', () => {
  it('splits arguments at top-level commas only', () => {
    assert.deepEqual(splitArguments("nn.Conv2d(a, (1, 2), k=[3, 4], s='x,y')"), [
      'a',
      '(1, 2)',
      'k=[3, 4]',
      "s='x,y'",
    ]);
  });

  it('reads DCGAN’s transposed conv: literals from the call, channels from the weight shape', () => {
    const { layer, notes } = previewLayerFromSite(
      torchSite('ConvTranspose2d', [512, 256, 4, 4]),
      'nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False)',
      'dcgan.py:26',
    );
    assert.deepEqual(notes, []);
    assert.deepEqual(layer, {
      op: 'conv_transpose',
      kernel: [4, 4],
      stride: [2, 2],
      padding: [1, 1],
      dilation: [1, 1],
      outputPadding: [0, 0],
      outChannels: 256,
      label: 'nn.ConvTranspose2d (dcgan.py:26)',
    });
  });

  it('reads keywords and tuples, and says what it could not read', () => {
    const { layer, notes } = previewLayerFromSite(
      torchSite('Conv2d', null),
      'nn.Conv2d(3, 8, kernel_size=(3, 5), stride=s, padding=(1, 2), dilation=2)',
      'x.py:1',
    );
    assert.deepEqual(layer?.kernel, [3, 5]);
    assert.deepEqual(layer?.padding, [1, 2]);
    assert.deepEqual(layer?.dilation, [2, 2]);
    assert.deepEqual(layer?.stride, [1, 1]);
    assert.equal(layer?.outChannels, 8);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /stride is an expression the preview cannot read; it uses 1/);
  });

  it('shows a 1-D layer along the rows and refuses a non-convolution', () => {
    const { layer } = previewLayerFromSite(
      torchSite('Conv1d', [4, 2, 5]),
      'nn.Conv1d(2, 4, 5, stride=2, padding=2)',
      'a.py:1',
    );
    assert.deepEqual(
      [layer?.kernel, layer?.stride, layer?.padding],
      [
        [1, 5],
        [1, 2],
        [0, 2],
      ],
    );
    const linear = previewLayerFromSite(torchSite('Linear', null), 'nn.Linear(3, 4)', 'a.py:2');
    assert.equal(linear.layer, null);
    assert.match(linear.notes[0]!, /not a convolution/);
  });
});

describe('preview: kernels and patterns', () => {
  it('has the classic 3×3 filters and the bilinear-upsampling kernel', () => {
    assert.deepEqual([...presetFilter('sobel-x', 3, 3).data], [-1, 0, 1, -2, 0, 2, -1, 0, 1]);
    assert.deepEqual([...presetFilter('laplacian', 3, 3).data], [0, 1, 0, 1, -4, 1, 0, 1, 0]);
    assert.deepEqual(bilinear1d(4), [0.25, 0.75, 0.75, 0.25]);
    assert.deepEqual(bilinear1d(3), [0.5, 1, 0.5]);
    const gaussian = presetFilter('gaussian', 5, 5).data.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(gaussian - 1) < 1e-6);
    assert.deepEqual([...presetFilter('random', 2, 2, 9).data], [...presetFilter('random', 2, 2, 9).data]);
  });

  it('filters each channel on its own with a preset, and mixes channels with random', () => {
    const diagonal = layerWeights(CONV, 3, 'identity', 1);
    assert.deepEqual(diagonal.wShape, [3, 3, 3, 3]);
    assert.equal(diagonal.w[4], 1); // output 0, input 0, centre tap
    assert.equal(diagonal.w[9 + 4], 0); // output 0, input 1
    const random = layerWeights({ ...CONV, op: 'conv_transpose', outChannels: 100 }, 2, 'random', 1);
    assert.deepEqual(random.wShape, [2, 8, 3, 3]);
  });

  it('reads a custom kernel and explains a wrong one', () => {
    const parsed = parseCustomFilter('1 2 3\n4,5,6\n7 8 9', 3, 3);
    assert.ok(parsed.ok);
    const wrong = parseCustomFilter('1 2\n3 4', 3, 3);
    assert.ok(!wrong.ok);
    assert.match(wrong.error, /must be 3 rows of 3 numbers .* not 2 rows of 2, 2 numbers/);
  });

  it('generates patterns of the asked size with values in [0, 1]', () => {
    for (const pattern of ['checkerboard', 'impulse', 'gradient', 'text', 'rings', 'shapes'] as const) {
      const image = generatePattern(pattern, 20);
      assert.equal(image.data.length, image.channels * 400);
      assert.ok(
        image.data.every((v) => v >= 0 && v <= 1),
        pattern,
      );
      assert.ok(
        image.data.some((v) => v > 0),
        `${pattern} is blank`,
      );
    }
  });
});

describe('preview: windows, overlaps, round trips', () => {
  it('names the input cells an output cell reads', () => {
    assert.deepEqual(sourceCells(CONV, [8, 8], 0, 0), [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    // A transposed conv k 4 s 2 p 1: output 2 gets input 1 (tap 1) and input 0 (tap 3).
    const up: PreviewLayer = { ...CONV, op: 'conv_transpose', kernel: [4, 4] };
    assert.deepEqual(sourceCells(up, [4, 4], 2, 2), [
      [1, 1],
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
  });

  it('counts overlapping taps: even for k 4 s 2, a checkerboard for k 3 s 2', () => {
    const even: PreviewLayer = { ...CONV, op: 'conv_transpose', kernel: [4, 4] };
    assert.deepEqual(interiorOverlap(even), { least: 4, most: 4 });
    assert.deepEqual(interiorOverlap({ ...CONV, op: 'conv_transpose' }), { least: 1, most: 4 });
    const counts = overlapCounts({ ...CONV, op: 'conv_transpose' }, [4, 4], [7, 7]);
    assert.deepEqual([...counts.slice(0, 7)], [1, 2, 1, 2, 1, 2, 1]);
  });

  it('picks the output_padding that brings a round trip back to the input size', () => {
    const back = mirrorLayer(CONV, [8, 8], [16, 16]);
    assert.equal(back.op, 'conv_transpose');
    assert.deepEqual(back.outputPadding, [1, 1]);
    const shapes = stackShapes([CONV, back], [1, 1, 16, 16], 'box');
    assert.ok(shapes.ok);
    assert.deepEqual(shapes.value, [
      [1, 1, 8, 8],
      [1, 1, 16, 16],
    ]);
    const bad = stackShapes([{ ...CONV, kernel: [15, 15], padding: [0, 0] }], [1, 1, 8, 8], 'box');
    assert.ok(!bad.ok);
    assert.match(bad.error, /^Layer 1 \(conv\): /);
  });
});

describe('preview: protocol checks', () => {
  it('accepts the messages each side sends and rejects anything else', () => {
    assert.ok(isHostToPanel({ type: 'init', layer: CONV, engine: 'auto', notes: [] }));
    assert.ok(isHostToPanel({ type: 'run', id: 1, engine: 'webgpu', input: { pattern: 'text', size: 32 } }));
    assert.ok(
      !isHostToPanel({ type: 'init', layer: { ...CONV, kernel: [99, 3] }, engine: 'auto', notes: [] }),
    );
    assert.ok(!isHostToPanel({ type: 'run', id: 1, input: { pattern: 'text', size: 100000 } }));
    assert.ok(!isHostToPanel({ type: 'run', id: -1 }));
    assert.ok(!isHostToPanel({ type: 'eval', code: 'x' }));
    assert.ok(!isHostToPanel(null));
    assert.ok(isPanelToHost({ type: 'ready' }));
    assert.ok(isPanelToHost({ type: 'error', id: null, message: 'x' }));
    const result = {
      type: 'result',
      id: 3,
      engine: 'cpu',
      engineLabel: 'CPU',
      milliseconds: 1,
      layers: [CONV],
      inputShape: [1, 1, 8, 8],
      outputShapes: [[1, 4, 4, 4]],
      min: 0,
      max: 1,
    };
    assert.ok(isPanelToHost(result));
    assert.ok(!isPanelToHost({ ...result, engine: 'tpu' }));
    assert.ok(!isPanelToHost({ ...result, values: ['1'] }));
  });
});

describe('preview: CPU worker pool', () => {
  /** A problem with integer-ish random values, [N, C_in, H, W] → C_out channels. */
  function problem(op: 'conv' | 'conv_transpose', batch: number, inC: number, outC: number): ConvProblem {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const xShape = [batch, inC, 9, 11];
    const wShape = op === 'conv' ? [outC, inC, 3, 3] : [inC, outC, 3, 3];
    return {
      op,
      x: Float32Array.from({ length: xShape.reduce((a, b) => a * b) }, random),
      xShape,
      w: Float32Array.from({ length: wShape.reduce((a, b) => a * b) }, random),
      wShape,
      b: null,
      stride: [2, 2],
      padBegin: [1, 1],
      padEnd: [1, 1],
      dilation: [1, 1],
      groups: 1,
      outputPadding: op === 'conv' ? [0, 0] : [1, 1],
    };
  }

  it('cuts slices out of an output and puts them back bit for bit, over channels and over batches', () => {
    for (const [op, batch, outC, pieces] of [
      ['conv', 1, 8, 2],
      ['conv_transpose', 1, 13, 3],
      ['conv', 5, 6, 4],
      ['conv_transpose', 3, 8, 2],
    ] as const) {
      const p = problem(op, batch, 3, outC);
      const whole = convolveCpu(p);
      assert.ok(whole.ok);
      const geometry = validateProblem(p, undefined, true);
      assert.ok(geometry.ok);
      const slices = splitWork(geometry.value, pieces);
      assert.ok(slices.length > 1, `${op} ${batch}×${outC}: ${slices.length} slice(s)`);
      const { y, yShape } = whole.value;
      // As the workers do: each slice computed by runSlice into its own whole-sized buffer, then cut out.
      const parts = [...slices].reverse().map((slice) => {
        const own = new Float32Array(y.length);
        runSlice(p, geometry.value, slice, own);
        return { slice, y: extractSlice(own, yShape, slice) };
      });
      const assembled = assembleSlices(yShape, parts);
      assert.ok(assembled.ok, assembled.ok ? '' : assembled.error);
      assert.deepEqual(Buffer.from(assembled.value.buffer), Buffer.from(y.buffer), `${op} ${batch}×${outC}`);
    }
  });

  it('refuses slices that overlap, leave a gap, lie outside or hold the wrong number of values', () => {
    const yShape = [1, 8, 2, 2];
    const y = Float32Array.from({ length: 32 }, (_, i) => i);
    const a = { batchStart: 0, batchEnd: 1, channelStart: 0, channelEnd: 4 };
    const b = { batchStart: 0, batchEnd: 1, channelStart: 4, channelEnd: 8 };
    const part = (slice: typeof a) => ({ slice, y: extractSlice(y, yShape, slice) });
    assert.deepEqual(assembleSlices(yShape, [part(b), part(a)]), { ok: true, value: y });
    const error = (outcome: ReturnType<typeof assembleSlices>) => (outcome.ok ? '' : outcome.error);
    assert.match(error(assembleSlices(yShape, [part(a), part(a)])), /overlap/);
    assert.match(error(assembleSlices(yShape, [part(a)])), /No CPU worker answered for batch 0, channel 4/);
    assert.match(
      error(assembleSlices(yShape, [{ slice: { ...b, channelEnd: 9 }, y: new Float32Array(20) }])),
      /outside the output's 1 × 8/,
    );
    assert.match(
      error(assembleSlices(yShape, [{ slice: a, y: new Float32Array(3) }])),
      /with 3 values; it needs 16/,
    );
  });

  it('sizes the pool from the cores (at most 4, at least 1) and keeps small problems on one worker', () => {
    assert.equal(poolSize(16), 4);
    assert.equal(poolSize(2), 2);
    assert.equal(poolSize(undefined), 1);
    assert.equal(poolSize(0), 1);
    assert.equal(poolSize(1, 3), 3);
    assert.equal(workersFor(1000, 4), 1);
    assert.equal(workersFor(50_000_000, 4), 4);
    assert.equal(workersFor(1000, 4, 0), 4);
  });

  it('checks slices in worker requests and replies', () => {
    const slice = { batchStart: 0, batchEnd: 1, channelStart: 4, channelEnd: 8 };
    const request = {
      type: 'convolve',
      id: 3,
      op: 'conv',
      x: new Float32Array(4),
      xShape: [1, 1, 2, 2],
      w: new Float32Array(1),
      wShape: [8, 1, 1, 1],
      stride: [1, 1],
      padBegin: [0, 0],
      padEnd: [0, 0],
      dilation: [1, 1],
      outputPadding: [0, 0],
    };
    assert.ok(isWorkerRequest(request));
    assert.ok(isWorkerRequest({ ...request, slice }));
    assert.ok(!isWorkerRequest({ ...request, slice: { ...slice, channelEnd: 4 } }));
    assert.ok(!isWorkerRequest({ ...request, slice: { ...slice, batchStart: -1 } }));
    const done = { type: 'done', id: 3, yShape: [1, 8, 2, 2], engine: 'CPU', milliseconds: 1 };
    assert.ok(isWorkerReply({ ...done, y: new Float32Array(16), slice }));
    assert.ok(!isWorkerReply({ ...done, y: new Float32Array(32), slice }));
    assert.ok(!isWorkerReply({ ...done, y: new Float32Array(16), slice: { ...slice, channelEnd: 9 } }));
  });
});

describe('preview: workspace images', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64');

  it('accepts the image messages of the protocol and rejects malformed ones', () => {
    assert.ok(isHostToPanel({ type: 'images', files: ['images/sample.png'], note: null }));
    assert.ok(
      isHostToPanel({ type: 'images', files: [], note: 'Open a folder to use its images as inputs.' }),
    );
    assert.ok(!isHostToPanel({ type: 'images', files: new Array(201).fill('a.png'), note: null }));
    assert.ok(!isHostToPanel({ type: 'images', files: [3], note: null }));
    assert.ok(isHostToPanel({ type: 'image', id: 1, name: 'a.png', mime: 'image/png', base64: png }));
    assert.ok(isHostToPanel({ type: 'image', id: null, name: 'a.jpg', mime: 'image/jpeg', base64: '' }));
    assert.ok(!isHostToPanel({ type: 'image', id: 1, name: 'a.svg', mime: 'image/svg+xml', base64: png }));
    assert.ok(
      !isHostToPanel({ type: 'image', id: 1, name: 'a.png', mime: 'image/png', base64: 'not base64!' }),
    );
    assert.ok(!isHostToPanel({ type: 'image', id: -1, name: 'a.png', mime: 'image/png', base64: png }));
    assert.ok(!isHostToPanel({ type: 'image', id: 1, name: 'a.png', mime: 'image/png' }));
    assert.ok(isHostToPanel({ type: 'imageError', id: null, message: 'a.png is 30.0 MB' }));
    assert.ok(!isHostToPanel({ type: 'imageError', id: null, message: 7 }));

    assert.ok(isPanelToHost({ type: 'listImages' }));
    assert.ok(isPanelToHost({ type: 'pickImage', name: 'images/sample.png' }));
    assert.ok(!isPanelToHost({ type: 'pickImage', name: 42 }));
    assert.ok(isPanelToHost({ type: 'imageLoaded', id: 3, name: 'a.png', width: 48, height: 32 }));
    assert.ok(!isPanelToHost({ type: 'imageLoaded', id: 3, name: 'a.png', width: 0, height: 32 }));
    assert.ok(!isPanelToHost({ type: 'imageLoaded', id: 3, name: 'a.png', width: 4.5, height: 32 }));
  });

  it('bounds base64 text by the bytes it decodes to', () => {
    assert.ok(isBase64('', 0));
    assert.ok(isBase64('AAAA', 3));
    assert.ok(!isBase64('AAAAAAAA', 3));
    assert.ok(!isBase64('AAA', 3), 'unpadded');
    assert.ok(!isBase64('AA\nA', 3), 'line breaks');
    assert.ok(!isBase64(42, 3));
    assert.deepEqual([...base64ToBytes(Buffer.from([0, 1, 254, 255]).toString('base64'))], [0, 1, 254, 255]);
  });

  it('knows the MIME type of each image extension it lists', () => {
    assert.equal(imageMimeOf('a/b.png'), 'image/png');
    assert.equal(imageMimeOf('photo.JPG'), 'image/jpeg');
    assert.equal(imageMimeOf('x.jpeg'), 'image/jpeg');
    assert.equal(imageMimeOf('x.webp'), 'image/webp');
    assert.equal(imageMimeOf('x.svg'), null);
    assert.equal(imageMimeOf('constructor'), null);
    assert.equal(imageMimeOf('x.constructor'), null);
  });

  it('fits the longer side to the chosen size and keeps the aspect ratio', () => {
    assert.deepEqual(fitSize(48, 32, 32), [21, 32]);
    assert.deepEqual(fitSize(32, 48, 16), [16, 11]);
    assert.deepEqual(fitSize(64, 64, 8), [8, 8]);
    assert.deepEqual(fitSize(1000, 1, 8), [1, 8]);
  });

  it('turns RGBA pixels into a [3, H, W] map in [0, 1], channel by channel', () => {
    const rgba = new Uint8ClampedArray([255, 0, 51, 255, 0, 102, 255, 0]);
    const input = rgbaToInput(rgba, 2, 1);
    assert.equal(input.channels, 3);
    assert.equal(input.height, 1);
    assert.equal(input.width, 2);
    assert.deepEqual(
      [...input.data].map((v) => Math.round(v * 255)),
      [255, 0, 0, 102, 51, 255],
    );
  });
});
