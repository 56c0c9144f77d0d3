/**
 * Kernel presets and the weights a preview layer runs with. Pure code (no DOM), shared by the page and the
 * unit tests.
 *
 * A preset names one kh×kw filter. With every preset but `random`, each output channel filters its own input
 * channel with it (weight[o][i] = filter when o = i, zero otherwise), so an RGB image stays an RGB image and
 * each map shows what the filter does to that channel. `random` fills every (output, input) pair from a seeded
 * generator, with the layer's own number of output channels (at most MAX_PREVIEW_CHANNELS shown).
 */
import { MAX_PREVIEW_CHANNELS, type KernelPreset, type PreviewLayer } from '../../protocol/preview';

/** A kh×kw filter, row-major. */
export interface Filter {
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** Binomial coefficients of row n (n + 1 values): the smoothing half of a Sobel filter. */
function binomial(n: number): number[] {
  let row = [1];
  for (let i = 0; i < n; i++) row = [...row, 0].map((value, j) => value + (j > 0 ? row[j - 1]! : 0));
  return row;
}

function convolve1d(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  a.forEach((av, i) => b.forEach((bv, j) => (out[i + j]! += av * bv)));
  return out;
}

/** Length-k first difference of a binomial smoothing (k = 3: [-1, 0, 1]; k = 2: [-1, 1]). */
function derivative(k: number): number[] {
  return k < 2 ? [0] : convolve1d(binomial(k - 2), [-1, 1]);
}

/** Length-k second difference (k = 3: [1, -2, 1]); zeros below 3. */
function secondDerivative(k: number): number[] {
  return k < 3 ? new Array<number>(k).fill(0) : convolve1d(binomial(k - 3), [1, -2, 1]);
}

function outer(rows: readonly number[], columns: readonly number[]): Filter {
  const data = new Float32Array(rows.length * columns.length);
  rows.forEach((r, i) => columns.forEach((c, j) => (data[i * columns.length + j] = r * c)));
  return { height: rows.length, width: columns.length, data };
}

/** 1-D Gaussian of length k with OpenCV's default sigma for that size, summing to 1. */
function gaussian(k: number): number[] {
  const sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
  const centre = (k - 1) / 2;
  const values = Array.from({ length: k }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  const sum = values.reduce((a, b) => a + b, 0);
  return values.map((v) => v / sum);
}

/**
 * The bilinear-upsampling kernel of length k (FCN's `get_upsampling_filter`, Long et al. 2015):
 * f = ⌈k / 2⌉, centre c = f − 1 for odd k and f − 0.5 for even k, value 1 − |i − c| / f. With k = 2·stride
 * (e.g. k 4, stride 2: [0.25, 0.75, 0.75, 0.25]) a transposed conv then upsamples by bilinear interpolation.
 */
export function bilinear1d(k: number): number[] {
  const factor = Math.ceil(k / 2);
  const centre = k % 2 === 1 ? factor - 1 : factor - 0.5;
  return Array.from({ length: k }, (_, i) => 1 - Math.abs(i - centre) / factor);
}

/** A small, fast, seeded generator (mulberry32), so `random` with one seed gives the same weights everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The filter of a preset at kh×kw (`random` gives a seeded uniform filter in [-1, 1]). */
export function presetFilter(preset: KernelPreset, kh: number, kw: number, seed = 1): Filter {
  switch (preset) {
    case 'identity': {
      const data = new Float32Array(kh * kw);
      data[Math.floor((kh - 1) / 2) * kw + Math.floor((kw - 1) / 2)] = 1;
      return { height: kh, width: kw, data };
    }
    case 'box':
      return { height: kh, width: kw, data: new Float32Array(kh * kw).fill(1 / (kh * kw)) };
    case 'gaussian':
      return outer(gaussian(kh), gaussian(kw));
    case 'sobel-x':
      return outer(binomial(kh - 1), derivative(kw));
    case 'sobel-y':
      return outer(derivative(kh), binomial(kw - 1));
    case 'laplacian': {
      if (kh === 3 && kw === 3) {
        return { height: 3, width: 3, data: Float32Array.from([0, 1, 0, 1, -4, 1, 0, 1, 0]) };
      }
      // Larger sizes: ∂²/∂y² (smoothed across) plus ∂²/∂x² (smoothed down), the Sobel construction's analogue.
      const a = outer(secondDerivative(kh), binomial(kw - 1));
      const b = outer(binomial(kh - 1), secondDerivative(kw));
      return { height: kh, width: kw, data: a.data.map((v, i) => v + b.data[i]!) };
    }
    case 'bilinear':
      return outer(bilinear1d(kh), bilinear1d(kw));
    case 'random': {
      const next = seededRandom(seed);
      return { height: kh, width: kw, data: Float32Array.from({ length: kh * kw }, () => next() * 2 - 1) };
    }
  }
}

/**
 * Reads a custom kernel typed as rows of numbers (spaces or commas between values, one row per line) and checks
 * that it is kh×kw. The message says what was found and what is needed.
 */
export function parseCustomFilter(
  text: string,
  kh: number,
  kw: number,
): { ok: true; filter: Filter } | { ok: false; error: string } {
  const rows = text
    .split(/\n|;/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split(/[\s,]+/).filter((cell) => cell.length > 0));
  if (rows.length !== kh || rows.some((row) => row.length !== kw)) {
    return {
      ok: false,
      error: `The custom kernel must be ${kh} rows of ${kw} numbers (the layer's kernel_size), not ${rows.length} row${
        rows.length === 1 ? '' : 's'
      } of ${rows.map((row) => row.length).join(', ') || 'no'} numbers.`,
    };
  }
  const values = rows.flat().map(Number);
  const bad = rows.flat().find((cell, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) return { ok: false, error: `'${bad}' in the custom kernel is not a number.` };
  return { ok: true, filter: { height: kh, width: kw, data: Float32Array.from(values) } };
}

/** What a layer of the stack runs with. */
export interface LayerWeights {
  /** PyTorch layout: conv [C_out, C_in, kh, kw]; transposed [C_in, C_out, kh, kw]. */
  readonly w: Float32Array;
  readonly wShape: [number, number, number, number];
  readonly outChannels: number;
}

/**
 * The weights of `layer` on `inChannels` input channels: the preset's filter per channel (C_out = C_in), or for
 * `random` (and a `custom` filter's random channel mixing is never implied) every pair from the seed with
 * min(layer.outChannels, MAX_PREVIEW_CHANNELS) output channels, scaled by 1/√(fan-in) like PyTorch's default
 * initialisation so stacked layers keep their range.
 */
export function layerWeights(
  layer: PreviewLayer,
  inChannels: number,
  preset: KernelPreset,
  seed: number,
  custom: Filter | null = null,
): LayerWeights {
  const [kh, kw] = layer.kernel;
  const taps = kh * kw;
  if (preset === 'random' && custom === null) {
    const outChannels = Math.min(layer.outChannels, MAX_PREVIEW_CHANNELS);
    const next = seededRandom(seed);
    const scale = 1 / Math.sqrt(inChannels * taps);
    const w = Float32Array.from({ length: outChannels * inChannels * taps }, () => (next() * 2 - 1) * scale);
    const wShape: [number, number, number, number] =
      layer.op === 'conv' ? [outChannels, inChannels, kh, kw] : [inChannels, outChannels, kh, kw];
    return { w, wShape, outChannels };
  }
  const filter = custom ?? presetFilter(preset, kh, kw, seed);
  const w = new Float32Array(inChannels * inChannels * taps);
  for (let c = 0; c < inChannels; c++) w.set(filter.data, (c * inChannels + c) * taps);
  return { w, wShape: [inChannels, inChannels, kh, kw], outChannels: inChannels };
}
