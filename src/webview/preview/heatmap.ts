/**
 * Heatmaps: values to colours. Feature maps use a diverging map (ColorBrewer's RdBu, blue below zero, red
 * above, white at zero) over a range symmetric about zero, so the sign of every value reads at a glance and
 * two maps with the same limit compare directly. Inputs and overlap counts, which are never negative, use a
 * sequential map (viridis) from their smallest to their largest value.
 */

export type ColourMap = 'diverging' | 'sequential';

/** RdBu (ColorBrewer, 7 classes), from -1 (blue) to +1 (red). */
const DIVERGING: readonly (readonly [number, number, number])[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];
/** Viridis, sampled at 6 stops from 0 to 1. */
const SEQUENTIAL: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
];

/** The colour at t in [0, 1] along the stops, linearly interpolated. */
function along(stops: readonly (readonly [number, number, number])[], t: number): [number, number, number] {
  const position = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(position));
  const f = position - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** What a map's colours stand for: the values at its two ends (and zero in the middle for a diverging map). */
export interface Scale {
  readonly map: ColourMap;
  readonly low: number;
  readonly high: number;
}

/**
 * The scale for values in [min, max]: diverging maps are symmetric, ±max(|min|, |max|) (at least a tiny
 * positive limit, so an all-zero map is white, not undefined); sequential maps span [min, max].
 */
export function scaleFor(map: ColourMap, min: number, max: number): Scale {
  if (map === 'diverging') {
    const limit = Math.max(Math.abs(min), Math.abs(max), 1e-12);
    return { map, low: -limit, high: limit };
  }
  return { map, low: min, high: max > min ? max : min + 1 };
}

export function colourOf(scale: Scale, value: number): [number, number, number] {
  const t = (value - scale.low) / (scale.high - scale.low);
  return along(scale.map === 'diverging' ? DIVERGING : SEQUENTIAL, t);
}

/** Fills `canvas` (one pixel per value) with one channel's heatmap. */
export function drawMap(
  canvas: HTMLCanvasElement,
  values: Float32Array,
  offset: number,
  height: number,
  width: number,
  scale: Scale,
): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  const pixels = context.createImageData(width, height);
  for (let i = 0; i < height * width; i++) {
    const [r, g, b] = colourOf(scale, values[offset + i]!);
    pixels.data[4 * i] = r;
    pixels.data[4 * i + 1] = g;
    pixels.data[4 * i + 2] = b;
    pixels.data[4 * i + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

/** A horizontal colour bar for the legend, 128 pixels from low to high. */
export function drawLegend(canvas: HTMLCanvasElement, scale: Scale): void {
  canvas.width = 128;
  canvas.height = 1;
  const context = canvas.getContext('2d');
  if (!context) return;
  const pixels = context.createImageData(128, 1);
  for (let i = 0; i < 128; i++) {
    const [r, g, b] = colourOf(scale, scale.low + ((scale.high - scale.low) * i) / 127);
    pixels.data.set([r, g, b, 255], 4 * i);
  }
  context.putImageData(pixels, 0, 0);
}

/** A value as the legend and readout print it: 4 significant digits, no trailing noise. */
export function formatValue(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}
