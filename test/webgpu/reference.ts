/**
 * A naive reference for the compute engines, written independently of them: plain loops in float64, the
 * transposed conv as a scatter (every input element times every tap, added where it lands), which is the
 * definition, not the engines' gather-by-phase. Plus seeded random problems for comparing against it.
 */
import { validateProblem } from '../../src/core/engine/shape';
import type { ConvOp, ConvProblem } from '../../src/core/engine/types';

export interface Reference {
  readonly y: Float64Array;
  /** Σ|x·w| per output: what a float32 rounding error is proportional to. */
  readonly magnitude: Float64Array;
  readonly yShape: number[];
}

const pad3 = (values: readonly number[], fill: number): number[] => [
  ...new Array<number>(3 - values.length).fill(fill),
  ...values,
];

/** The convolution or transposed convolution of a valid problem, by definition. */
export function reference(problem: ConvProblem): Reference {
  const geometry = validateProblem(problem, { maxElements: Infinity, maxMacs: Infinity });
  if (!geometry.ok) throw new Error(geometry.error);
  const g = geometry.value;
  const inS = pad3(g.inSpatial, 1);
  const outS = pad3(g.outSpatial, 1);
  const k = pad3(g.kernel, 1);
  const s = pad3(g.stride, 1);
  const d = pad3(g.dilation, 1);
  const pb = pad3(g.padBegin, 0);
  const inVol = inS[0]! * inS[1]! * inS[2]!;
  const outVol = outS[0]! * outS[1]! * outS[2]!;
  const kVol = k[0]! * k[1]! * k[2]!;
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const y = new Float64Array(g.batch * g.outChannels * outVol);
  const magnitude = new Float64Array(y.length);
  const { x, w } = problem;
  // Visits every (input position, tap, output position) triple the definition connects.
  const each = (visit: (i: number[], t: number[], o: number[]) => void): void => {
    for (let t0 = 0; t0 < k[0]!; t0++)
      for (let t1 = 0; t1 < k[1]!; t1++)
        for (let t2 = 0; t2 < k[2]!; t2++) {
          const t = [t0, t1, t2];
          const span = problem.op === 'conv' ? outS : inS;
          for (let a = 0; a < span[0]!; a++)
            for (let b = 0; b < span[1]!; b++)
              for (let c = 0; c < span[2]!; c++) {
                const from = [a, b, c];
                // conv: input o·s − p + t·d feeds output o; transposed: input i feeds output i·s − p + t·d.
                const to = from.map((v, dim) => v * s[dim]! - pb[dim]! + t[dim]! * d[dim]!);
                const limit = problem.op === 'conv' ? inS : outS;
                if (to.some((v, dim) => v < 0 || v >= limit[dim]!)) continue;
                if (problem.op === 'conv') visit(to, t, from);
                else visit(from, t, to);
              }
        }
  };
  const flat = (p: number[], size: number[]): number => (p[0]! * size[1]! + p[1]!) * size[2]! + p[2]!;
  each((i, t, o) => {
    const tap = flat(t, k);
    const xi = flat(i, inS);
    const yo = flat(o, outS);
    for (let n = 0; n < g.batch; n++)
      for (let grp = 0; grp < g.groups; grp++)
        for (let ci = 0; ci < cinG; ci++)
          for (let co = 0; co < coutG; co++) {
            const cin = grp * cinG + ci;
            const cout = grp * coutG + co;
            const weight =
              problem.op === 'conv'
                ? w[(cout * cinG + ci) * kVol + tap]!
                : w[(cin * coutG + co) * kVol + tap]!;
            const term = x[(n * g.inChannels + cin) * inVol + xi]! * weight;
            const at = (n * g.outChannels + cout) * outVol + yo;
            y[at]! += term;
            magnitude[at]! += Math.abs(term);
          }
  });
  if (problem.b) {
    for (let n = 0; n < g.batch; n++)
      for (let c = 0; c < g.outChannels; c++)
        for (let o = 0; o < outVol; o++) {
          const at = (n * g.outChannels + c) * outVol + o;
          y[at]! += problem.b[c]!;
          magnitude[at]! += Math.abs(problem.b[c]!);
        }
  }
  return { y, magnitude, yShape: g.yShape };
}

/** mulberry32: a small seeded generator, so every run draws the same problems. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DrawOptions {
  /** Channels per group: 'small' (1–4) or 'large' (tiles of 64 get partial and full blocks). */
  readonly channels: 'small' | 'large';
  /** Integer values in [−3, 3] (sums exact in float32) or arbitrary reals. */
  readonly values: 'integer' | 'real';
  readonly batch?: number;
}

/** A random valid problem: any rank, op, stride, asymmetric padding, dilation, groups (depthwise too), bias. */
export function drawProblem(rand: () => number, options: DrawOptions): ConvProblem {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  for (;;) {
    const op: ConvOp = rand() < 0.5 ? 'conv' : 'conv_transpose';
    const rank = options.channels === 'large' ? int(1, 2) : int(1, 3);
    const groups = int(1, 3);
    const depthwise = options.channels === 'small' && rand() < 0.2;
    const cinG = depthwise ? 1 : options.channels === 'large' ? int(17, 40) : int(1, 4);
    const coutG = depthwise ? int(1, 2) : options.channels === 'large' ? int(16, 80) : int(1, 4);
    const maxSize = options.channels === 'large' ? (rank === 1 ? 20 : 7) : rank === 3 ? 5 : 9;
    const kernel = Array.from({ length: rank }, () => int(1, rank === 3 ? 3 : 4));
    const stride = Array.from({ length: rank }, () => int(1, 3));
    const dilation = Array.from({ length: rank }, () => int(1, 2));
    const padBegin = Array.from({ length: rank }, () => int(0, 2));
    const padEnd = Array.from({ length: rank }, () => int(0, 2));
    const outputPadding = op === 'conv' ? [] : stride.map((s, i) => int(0, Math.max(s, dilation[i]!) - 1));
    const batch = options.batch ?? int(1, 2);
    const xShape = [batch, groups * cinG, ...Array.from({ length: rank }, () => int(1, maxSize))];
    const wShape = op === 'conv' ? [groups * coutG, cinG, ...kernel] : [groups * cinG, coutG, ...kernel];
    const value = (): number => (options.values === 'integer' ? int(-3, 3) : (rand() - 0.5) * 4);
    const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
    const problem: ConvProblem = {
      op,
      xShape,
      wShape,
      x: Float32Array.from({ length: size(xShape) }, value),
      w: Float32Array.from({ length: size(wShape) }, value),
      b: rand() < 0.5 ? Float32Array.from({ length: groups * coutG }, value) : null,
      stride,
      padBegin,
      padEnd,
      dilation,
      groups,
      outputPadding,
    };
    const checked = validateProblem(problem);
    if (checked.ok && !checked.value.yShape.includes(0)) return problem;
  }
}
