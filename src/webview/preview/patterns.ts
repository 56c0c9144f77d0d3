/**
 * The preview's inputs, generated rather than shipped: four test patterns (one channel) and two sample images
 * (three channels, RGB). Pure code with no DOM, so the unit tests build the very same inputs the page does and
 * can check the page's results against the CPU engine on them.
 */
import type { PatternName } from '../../protocol/preview';

/** A map of [channels, size, size] values in [0, 1], row-major. */
export interface PreviewImage {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** 5×7 glyphs for the text pattern; enough letters for the words it writes. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  C: ['01110', '10001', '10000', '10000', '10000', '10001', '01110'],
  O: ['01110', '10001', '10001', '10001', '10001', '10001', '01110'],
  N: ['10001', '11001', '10101', '10011', '10001', '10001', '10001'],
  V: ['10001', '10001', '10001', '10001', '10001', '01010', '00100'],
};
const TEXT = 'CONV';

function image(
  channels: number,
  size: number,
  at: (c: number, y: number, x: number) => number,
): PreviewImage {
  const data = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) data[(c * size + y) * size + x] = at(c, y, x);
    }
  }
  return { channels, height: size, width: size, data };
}

/** Draws `TEXT` in the glyph font, scaled to fill the width, centred; 1 on the strokes, 0 elsewhere. */
function textPattern(size: number): PreviewImage {
  const columns = TEXT.length * 6 - 1;
  const scale = Math.max(1, Math.floor(size / (columns + 2)));
  const left = Math.floor((size - columns * scale) / 2);
  const top = Math.floor((size - 7 * scale) / 2);
  return image(1, size, (_c, y, x) => {
    const gx = Math.floor((x - left) / scale);
    const gy = Math.floor((y - top) / scale);
    if (x < left || y < top || gy >= 7 || gx >= columns) return 0;
    const letter = TEXT[Math.floor(gx / 6)];
    const column = gx % 6;
    if (letter === undefined || column === 5) return 0;
    return GLYPHS[letter]![gy]![column] === '1' ? 1 : 0;
  });
}

/**
 * The input named `pattern` at `size`×`size`. Checkerboard squares are an eighth of the size (at least one
 * pixel), so a stride-2 layer visibly aliases them; the impulse is a single 1 in the middle, so a conv's
 * output shows its (flipped) kernel and a transposed conv's shows the kernel itself.
 */
export function generatePattern(pattern: PatternName, size: number): PreviewImage {
  const middle = (size - 1) / 2;
  switch (pattern) {
    case 'checkerboard': {
      const square = Math.max(1, Math.floor(size / 8));
      return image(1, size, (_c, y, x) => (Math.floor(y / square) + Math.floor(x / square)) % 2);
    }
    case 'impulse': {
      const at = Math.floor(size / 2);
      return image(1, size, (_c, y, x) => (y === at && x === at ? 1 : 0));
    }
    case 'gradient':
      return image(1, size, (_c, y, x) => (size === 1 ? 0 : (x + y) / (2 * (size - 1))));
    case 'text':
      return textPattern(size);
    case 'rings':
      // Red: concentric rings; green: a radial falloff; blue: diagonal stripes.
      return image(3, size, (c, y, x) => {
        const r = Math.hypot(y - middle, x - middle) / Math.max(1, size / 2);
        if (c === 0) return 0.5 + 0.5 * Math.cos(r * Math.PI * 6);
        if (c === 1) return Math.max(0, 1 - r);
        return Math.floor((x + y) / Math.max(2, size / 8)) % 2;
      });
    case 'shapes':
      // Red: a disc; green: a square; blue: a triangle; overlapping like a small picture.
      return image(3, size, (c, y, x) => {
        const u = x / Math.max(1, size - 1);
        const v = y / Math.max(1, size - 1);
        if (c === 0) return Math.hypot(u - 0.35, v - 0.4) < 0.25 ? 1 : 0;
        if (c === 1) return u > 0.45 && u < 0.85 && v > 0.15 && v < 0.55 ? 1 : 0;
        return v > 0.5 && v < 0.9 && Math.abs(u - 0.55) < (v - 0.5) * 0.8 ? 1 : 0;
      });
  }
}
