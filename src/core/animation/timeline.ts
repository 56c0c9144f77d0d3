/**
 * Kernel-movement timelines: for a checked animation payload, which input cells (padding cells, inserted
 * zeros and dilation gaps included) feed which output cell, frame by frame, in each view the renderer draws.
 *
 * - direct view: one frame per output cell (row-major); the kernel footprint over the source grid. For convs and
 *   pooling the source is the padded input; for transposed convs it is the equivalent direct convolution over
 *   the zero-inserted, padded input with the kernel flipped (Dumoulin & Visin, "A guide to convolution
 *   arithmetic", §4).
 * - scatter view (transposed convs): one frame per input cell; the cell stamps the kernel onto the output, and
 *   stamps that land on the same cell accumulate (the overlap counts behind checkerboard artifacts).
 * - matrix view: the operation as a sparse matrix acting on the flattened input: C for a conv, Cᵀ for a
 *   transposed conv (C being the conv whose gradient it is).
 *
 * Sizes come only from the arithmetic core: each dimension's DimRule (from the framework's LayerDef, or built
 * from the numbers as written, see rules.ts) goes through applyDimRule, and the formula panel through
 * dimFormulaSteps. This module only lays out the cells those rules imply. 2-D frames are the products of two
 * 1-D axes, because every rule here acts on each spatial dimension independently.
 */
import { effectiveKernel, floorDiv } from '../arithmetic/args';
import { applyDimRule, samePads } from '../arithmetic/dims';
import { dimFormulaSteps, dimNames } from '../arithmetic/symbolic';
import type { DimRule, Framework, Outcome } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import {
  type AnimationOp,
  type AnimationSpec,
  type AnimationView,
  LIMITS,
  parseAnimationPayload,
} from './payload';
import { layerRules } from './rules';

/**
 * What a source position holds: a real input cell, padding, a zero inserted between input cells (transposed
 * convs, input dilation), a real cell cut off by negative padding, or a position past the padded input that
 * only a ceil_mode pooling window reaches.
 */
export type SourceKind = 'input' | 'pad' | 'hole' | 'cropped' | 'overhang';

/** One spatial dimension of the animation. */
export interface Axis {
  /** L; H, W (as the formulas name them). */
  readonly name: string;
  /** The layer's rule for this dimension, as the arithmetic core has it. */
  readonly rule: DimRule;
  readonly inputSize: number;
  /** applyDimRule(rule, inputSize). */
  readonly outputSize: number;
  readonly kernel: number;
  readonly dilation: number;
  readonly stride: number;
  /** Transposed convs: output cells added at the end by output_padding (marked in the output grid). */
  readonly outputPadding: number;
  /** Transposed convs: what the padding crops from the full scatter at the begin and end (may be negative). */
  readonly cropBegin: number;
  readonly cropEnd: number;
  /** The direct view's source axis. */
  readonly source: SourceAxis;
  /** Scatter view: the drawn output range [lo, hi), which includes cells the padding crops (outside [0, out)). */
  readonly scatterLo: number;
  readonly scatterHi: number;
}

/**
 * The grid the direct view's kernel slides over, in "spread" coordinates: real input cell j sits at
 * j·inputDilation, padding extends it by padBegin/padEnd, and output cell o's window starts at
 * o·stride − padBegin and reads every dilation-th position for kernel taps.
 */
export interface SourceAxis {
  readonly inputDilation: number;
  readonly padBegin: number;
  readonly padEnd: number;
  readonly stride: number;
  /** Transposed convs: tap m of the direct view uses kernel weight k − 1 − m (the flipped kernel). */
  readonly flipped: boolean;
  /** Positions drawn, [lo, hi): the padded input, cells cropped by negative padding, ceil_mode overhang. */
  readonly lo: number;
  readonly hi: number;
}

export interface Channels {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
}

/** The formula panel for one dimension: textbook form, numbers substituted, simplified, and the value. */
export interface FormulaLine {
  readonly dim: string;
  readonly general: string;
  readonly substituted: string;
  readonly simplified: string;
  /** `H_out = 3 for H_in = 5`. */
  readonly evaluated: string;
}

export interface Timeline {
  readonly spec: AnimationSpec;
  readonly op: AnimationOp;
  readonly framework: Framework | null;
  readonly layerName: string;
  readonly call: string;
  readonly rank: 1 | 2;
  readonly axes: readonly Axis[];
  /** Drawn spatial sizes (after any cap). */
  readonly inputSize: readonly number[];
  readonly outputSize: readonly number[];
  readonly kernel: readonly number[];
  /** The views this operation has, the first being the default unless the payload chose one. */
  readonly views: readonly AnimationView[];
  readonly initialView: AnimationView;
  readonly channels: Channels | null;
  /** Average pooling: whether the divisor counts padding cells. */
  readonly countIncludePad: boolean;
  readonly formulas: readonly FormulaLine[];
  /** Caps applied, the layer's own notes (checkerboard risk, unread rows), values dropped, … */
  readonly notices: readonly string[];
  /** Values to compute with (flat, row-major), or null. */
  readonly values: { readonly input: readonly number[]; readonly kernel: readonly number[] | null } | null;
}

/** One kernel tap of a direct-view frame. */
export interface Tap {
  /** Position in the source grid, per dimension (spread coordinates, see SourceAxis). */
  readonly source: readonly number[];
  /** Kernel index per dimension that multiplies this position (flipped for transposed convs). */
  readonly weight: readonly number[];
  readonly kind: SourceKind;
  /** The real input cell at this position, or null for padding, holes, cropped and overhang positions. */
  readonly input: readonly number[] | null;
}

export interface DirectFrame {
  readonly index: number;
  /** The output cell being written. */
  readonly output: readonly number[];
  readonly taps: readonly Tap[];
}

export interface ScatterTap {
  /** Output position per dimension (outside [0, out) when the padding crops it). */
  readonly output: readonly number[];
  readonly weight: readonly number[];
  readonly inside: boolean;
}

export interface ScatterFrame {
  readonly index: number;
  /** The input cell stamping the kernel. */
  readonly input: readonly number[];
  readonly taps: readonly ScatterTap[];
}

export interface MatrixEntry {
  readonly row: number;
  readonly col: number;
  /** Flat (row-major) kernel index of the weight at this entry. */
  readonly weight: number;
}

export interface MatrixView {
  /** 'C' for convs and pooling (rows: output cells, columns: input cells); 'Cᵀ' for transposed convs. */
  readonly label: 'C' | 'Cᵀ';
  readonly rows: number;
  readonly cols: number;
  readonly entries: readonly MatrixEntry[];
}

/** Largest matrix (rows or columns) the matrix view lays out. */
export const MAX_MATRIX_SIDE = 144;

// ---------------------------------------------------------------------------------------------------------
// Building a timeline.

/** Parses, checks and lays out a payload. Never throws. */
export function timelineFromPayload(raw: unknown): Outcome<Timeline> {
  const spec = parseAnimationPayload(raw);
  return spec.ok ? buildTimeline(spec.value) : spec;
}

export function buildTimeline(spec: AnimationSpec): Outcome<Timeline> {
  try {
    return buildChecked(spec);
  } catch (error) {
    // Nothing here should throw; if it does, the cell still gets a sentence instead of a blank output.
    return fail(`Conv Lens could not lay out this animation (${(error as Error).message}).`);
  }
}

function buildChecked(spec: AnimationSpec): Outcome<Timeline> {
  const names = dimNames(spec.rank);
  // The user's own sizes first: their errors and their output size are what the notice reports.
  const full = layerRules(spec, spec.input);
  if (!full.ok) return full;
  const notices: string[] = [];

  // Draw at most LIMITS.maxDrawn cells per side of the input and of the output.
  const drawn = [...spec.input];
  let rules = full.value;
  const tooLarge = (): number =>
    rules.outputSize.findIndex((size, i) => size > LIMITS.maxDrawn || drawn[i]! > LIMITS.maxDrawn);
  for (let i = 0; i < spec.rank; i++) drawn[i] = Math.min(drawn[i]!, LIMITS.maxDrawn);
  if (drawn.some((size, i) => size !== spec.input[i])) {
    const smaller = layerRules(spec, drawn);
    if (!smaller.ok) {
      return fail(
        `The input ${spec.input.join('×')} is larger than the ${LIMITS.maxDrawn} cells per side Conv Lens draws, ` +
          `and at ${drawn.join('×')} the layer fails: ${smaller.error}`,
      );
    }
    rules = smaller.value;
  }
  for (let guard = 0; tooLarge() >= 0 && guard < 4 * LIMITS.maxDrawn; guard++) {
    const i = tooLarge();
    if (drawn[i]! <= 1) {
      return fail(
        `Even a 1-cell input gives ${rules.outputSize[i]} output cells along ${names[i]}, more than the ` +
          `${LIMITS.maxDrawn} Conv Lens draws; use a smaller kernel, stride or dilation.`,
      );
    }
    drawn[i] = drawn[i]! - 1;
    const smaller = layerRules(spec, drawn);
    if (!smaller.ok)
      return fail(`The layer cannot be drawn smaller than ${spec.input.join('×')}: ${smaller.error}`);
    rules = smaller.value;
  }
  if (tooLarge() >= 0)
    return fail(`This layer is too large to draw (more than ${LIMITS.maxDrawn} cells a side).`);
  const capped = drawn.some((size, i) => size !== spec.input[i]);
  if (capped) {
    notices.push(
      `Conv Lens draws at most ${LIMITS.maxDrawn} cells a side (input and output). For the input ` +
        `${spec.input.join('×')} the output is ${full.value.outputSize.join('×')}; the animation uses the input ` +
        `${drawn.join('×')} (output ${rules.outputSize.join('×')}) with the same kernel, stride and padding.`,
    );
  }

  const axes: Axis[] = [];
  for (let i = 0; i < spec.rank; i++) {
    const axis = makeAxis(names[i]!, rules.dims[i]!, drawn[i]!, rules.outputSize[i]!);
    if (!axis.ok) return axis;
    axes.push(axis.value);
  }
  notices.push(...full.value.notes);

  let values: Timeline['values'] = null;
  if (spec.values) {
    if (capped) {
      notices.push(
        'The values are not used: they are for the full input, which is larger than the one drawn.',
      );
    } else if (spec.values.input === null) {
      notices.push('"values.kernel" needs "values.input" too; the animation shows positions only.');
    } else {
      values = { input: spec.values.input, kernel: spec.values.kernel };
      if (spec.values.kernel === null && (spec.op === 'conv' || spec.op === 'conv_transpose')) {
        notices.push('No "values.kernel" was given, so every weight is 1.');
      }
    }
  }

  const formulas = axes.map((axis): FormulaLine => {
    const steps = dimFormulaSteps(axis.rule, axis.name);
    return {
      dim: axis.name,
      general: steps.general,
      substituted: steps.substituted,
      simplified: steps.simplified,
      evaluated: `${axis.name}_out = ${axis.outputSize} for ${axis.name}_in = ${axis.inputSize}`,
    };
  });

  const views: AnimationView[] =
    spec.op === 'conv_transpose' ? ['scatter', 'direct', 'matrix'] : ['direct', 'matrix'];
  const isPool = spec.op === 'max_pool' || spec.op === 'avg_pool';
  return ok({
    spec,
    op: spec.op,
    framework: spec.framework,
    layerName: rules.layerName,
    call: rules.call,
    rank: spec.rank,
    axes,
    inputSize: drawn,
    outputSize: axes.map((axis) => axis.outputSize),
    kernel: spec.kernel,
    views,
    initialView: spec.view ?? views[0]!,
    channels: isPool
      ? null
      : { inChannels: spec.inChannels, outChannels: spec.outChannels, groups: spec.groups },
    countIncludePad: rules.countIncludePad,
    formulas,
    notices,
    values,
  });
}

/**
 * Lays out one dimension from its rule. Pads per rule kind:
 * - window: as the rule says (PyTorch, ONNX explicit pads, Flax explicit pairs, input_dilation spreads the input);
 * - same: samePads (TF/Keras/ONNX SAME, PyTorch 'same'), which depend on the input size;
 * - transposed: the crop p_begin/p_end and output_padding; the direct view pads the zero-inserted input by
 *   k_eff − 1 − p_begin before and k_eff − 1 − p_end + output_padding after (Dumoulin & Visin, relationship 14);
 * - transposed-same (Keras/TF, Flax/JAX 'SAME'): out = in·s; the crop is total = k_eff − s split as
 *   ⌊total/2⌋ at the begin and the rest at the end (TF conv2d_backprop_input pads the forward SAME conv this way;
 *   JAX's lax._conv_transpose_padding gives the same split). A negative total means s − k_eff output cells at the
 *   end that no input reaches.
 */
function makeAxis(name: string, rule: DimRule, inputSize: number, outputSize: number): Outcome<Axis> {
  if (applyDimRule(rule, inputSize) !== outputSize) {
    return fail(`Conv Lens disagrees with itself about the output size along ${name}.`);
  }
  let source: SourceAxis;
  let kernel: number;
  let dilation: number;
  let stride: number;
  let outputPadding = 0;
  let cropBegin = 0;
  let cropEnd = 0;
  switch (rule.kind) {
    case 'window':
    case 'same': {
      kernel = rule.kernel;
      dilation = rule.dilation;
      stride = rule.stride;
      const [padBegin, padEnd] =
        rule.kind === 'window' ? [rule.padBegin, rule.padEnd] : samePads(rule, inputSize);
      const inputDilation = rule.kind === 'window' && rule.inputDilation ? rule.inputDilation : 1;
      const spread = (inputSize - 1) * inputDilation + 1;
      const lastEnd = (outputSize - 1) * stride - padBegin + effectiveKernel(kernel, dilation);
      source = {
        inputDilation,
        padBegin,
        padEnd,
        stride,
        flipped: false,
        lo: Math.min(0, 0 - padBegin),
        hi: Math.max(spread, spread + padEnd, lastEnd),
      };
      break;
    }
    case 'transposed':
    case 'transposed-same': {
      kernel = rule.kernel;
      dilation = rule.dilation;
      stride = rule.stride;
      const kEff = effectiveKernel(kernel, dilation);
      if (rule.kind === 'transposed') {
        cropBegin = rule.padBegin;
        cropEnd = rule.padEnd;
        outputPadding = rule.outputPadding;
      } else {
        const total = kEff - stride;
        cropBegin = floorDiv(Math.max(total, 0), 2);
        cropEnd = total - cropBegin;
      }
      const padBegin = kEff - 1 - cropBegin;
      const padEnd = kEff - 1 - cropEnd + outputPadding;
      const spread = (inputSize - 1) * stride + 1;
      source = {
        inputDilation: stride,
        padBegin,
        padEnd,
        stride: 1,
        flipped: true,
        lo: Math.min(0, 0 - padBegin),
        hi: Math.max(spread, spread + padEnd),
      };
      const direct = applyDimRule(
        {
          kind: 'window',
          kernel,
          dilation,
          stride: 1,
          padBegin,
          padEnd,
          ceilMode: false,
          inputDilation: stride,
        },
        inputSize,
      );
      if (direct !== outputSize) {
        return fail(
          `Along ${name} the equivalent direct convolution gives ${direct} cells but the transposed conv ${outputSize}.`,
        );
      }
      break;
    }
    case 'fixed':
      return fail(
        `Along ${name} the output size is fixed (${rule.size}); there is no sliding window to animate.`,
      );
  }
  const fullEnd = (inputSize - 1) * stride + effectiveKernel(kernel, dilation) - cropBegin;
  return ok({
    name,
    rule,
    inputSize,
    outputSize,
    kernel,
    dilation,
    stride,
    outputPadding,
    cropBegin,
    cropEnd,
    source,
    scatterLo: Math.min(0, 0 - cropBegin),
    scatterHi: Math.max(outputSize, fullEnd),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Per-axis geometry.

/** What the source position `g` of an axis holds. */
export function sourceKind(axis: Axis, g: number): SourceKind {
  const { inputDilation: a, padBegin, padEnd } = axis.source;
  const spread = (axis.inputSize - 1) * a + 1;
  const inPadded = g >= -padBegin && g < spread + padEnd;
  if (g >= 0 && g < spread) {
    if (!inPadded) return 'cropped';
    return g % a === 0 ? 'input' : 'hole';
  }
  return inPadded ? 'pad' : 'overhang';
}

/** The real input cell at source position g, or null. */
function inputAt(axis: Axis, g: number): number | null {
  return sourceKind(axis, g) === 'input' ? g / axis.source.inputDilation : null;
}

/** 1-D taps of output cell o in the direct view: source position and kernel index per tap. */
export function axisDirectTaps(axis: Axis, o: number): Array<{ source: number; weight: number }> {
  const start = o * axis.source.stride - axis.source.padBegin;
  const taps: Array<{ source: number; weight: number }> = [];
  for (let m = 0; m < axis.kernel; m++) {
    taps.push({ source: start + m * axis.dilation, weight: axis.source.flipped ? axis.kernel - 1 - m : m });
  }
  return taps;
}

/** 1-D stamps of input cell i in the scatter view: o = i·s − crop_begin + m·d (Dumoulin & Visin §4). */
export function axisScatterTaps(axis: Axis, i: number): Array<{ output: number; weight: number }> {
  const taps: Array<{ output: number; weight: number }> = [];
  for (let m = 0; m < axis.kernel; m++) {
    taps.push({ output: i * axis.stride - axis.cropBegin + m * axis.dilation, weight: m });
  }
  return taps;
}

// ---------------------------------------------------------------------------------------------------------
// Frames.

/** Row-major multi-index of flat index `index` in a grid of `sizes`. */
export function unflatten(index: number, sizes: readonly number[]): number[] {
  const result = new Array<number>(sizes.length);
  let rest = index;
  for (let d = sizes.length - 1; d >= 0; d--) {
    result[d] = rest % sizes[d]!;
    rest = Math.floor(rest / sizes[d]!);
  }
  return result;
}

export function flatten(index: readonly number[], sizes: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < sizes.length; d++) flat = flat * sizes[d]! + index[d]!;
  return flat;
}

/** Every combination of one item per dimension, the last dimension varying fastest. */
function product<T>(lists: readonly (readonly T[])[]): T[][] {
  let combos: T[][] = [[]];
  for (const list of lists) combos = combos.flatMap((combo) => list.map((item) => [...combo, item]));
  return combos;
}

const KIND_ORDER: readonly SourceKind[] = ['overhang', 'cropped', 'pad', 'hole', 'input'];

/** A 2-D position is padding if either coordinate is, and so on, in the order of KIND_ORDER. */
function combineKinds(kinds: readonly SourceKind[]): SourceKind {
  for (const kind of KIND_ORDER) if (kinds.includes(kind)) return kind;
  return 'input';
}

/** What a position of the drawn source grid holds, all dimensions combined. */
export function sourceCellKind(timeline: Timeline, source: readonly number[]): SourceKind {
  return combineKinds(timeline.axes.map((axis, d) => sourceKind(axis, source[d]!)));
}

/** Frames of a view: output cells for the direct and matrix views, input cells for the scatter view. */
export function frameCount(timeline: Timeline, view: AnimationView): number {
  const sizes = view === 'scatter' ? timeline.inputSize : timeline.outputSize;
  return sizes.reduce((a, b) => a * b, 1);
}

/** The direct-view frame `index`: the output cell and its kernel footprint over the source grid. */
export function directFrame(timeline: Timeline, index: number): DirectFrame {
  const output = unflatten(index, timeline.outputSize);
  const perAxis = timeline.axes.map((axis, d) => axisDirectTaps(axis, output[d]!));
  const taps = product(perAxis).map((combo): Tap => {
    const source = combo.map((tap) => tap.source);
    const kinds = combo.map((tap, d) => sourceKind(timeline.axes[d]!, tap.source));
    const kind = combineKinds(kinds);
    const input = kind === 'input' ? combo.map((tap, d) => inputAt(timeline.axes[d]!, tap.source)!) : null;
    return { source, weight: combo.map((tap) => tap.weight), kind, input };
  });
  return { index, output, taps };
}

/** The scatter-view frame `index`: the input cell and where its kernel stamp lands on the output. */
export function scatterFrame(timeline: Timeline, index: number): ScatterFrame {
  const input = unflatten(index, timeline.inputSize);
  const perAxis = timeline.axes.map((axis, d) => axisScatterTaps(axis, input[d]!));
  const taps = product(perAxis).map((combo): ScatterTap => ({
    output: combo.map((tap) => tap.output),
    weight: combo.map((tap) => tap.weight),
    inside: combo.every((tap, d) => tap.output >= 0 && tap.output < timeline.axes[d]!.outputSize),
  }));
  return { index, input, taps };
}

/** Drawn scatter-output grid: per-dimension [lo, hi) and its sizes. */
export function scatterGrid(timeline: Timeline): { lo: number[]; sizes: number[] } {
  return {
    lo: timeline.axes.map((axis) => axis.scatterLo),
    sizes: timeline.axes.map((axis) => axis.scatterHi - axis.scatterLo),
  };
}

/** Drawn source grid of the direct view: per-dimension [lo, hi) and its sizes. */
export function sourceGrid(timeline: Timeline): { lo: number[]; sizes: number[] } {
  return {
    lo: timeline.axes.map((axis) => axis.source.lo),
    sizes: timeline.axes.map((axis) => axis.source.hi - axis.source.lo),
  };
}

/**
 * How many kernel stamps have landed on each cell of the drawn scatter grid (see scatterGrid) after frames
 * 0..through. Flat, row-major over the drawn grid, so cropped cells are counted too.
 */
export function scatterCounts(timeline: Timeline, through: number): Int32Array {
  const { lo, sizes } = scatterGrid(timeline);
  const counts = new Int32Array(sizes.reduce((a, b) => a * b, 1));
  const last = Math.min(through, frameCount(timeline, 'scatter') - 1);
  for (let f = 0; f <= last; f++) {
    for (const tap of scatterFrame(timeline, f).taps) {
      counts[
        flatten(
          tap.output.map((o, d) => o - lo[d]!),
          sizes,
        )
      ]! += 1;
    }
  }
  return counts;
}

/**
 * The final overlap count of every output cell of a transposed conv (flat over [0, out)): the product over
 * dimensions of how many (input cell, tap) pairs reach it, since the stamps are separable.
 */
export function overlapCounts(timeline: Timeline): Int32Array {
  const perAxis = timeline.axes.map((axis) => {
    const counts = new Int32Array(axis.outputSize);
    for (let i = 0; i < axis.inputSize; i++) {
      for (const tap of axisScatterTaps(axis, i)) {
        if (tap.output >= 0 && tap.output < axis.outputSize) counts[tap.output]! += 1;
      }
    }
    return counts;
  });
  const total = new Int32Array(timeline.outputSize.reduce((a, b) => a * b, 1));
  for (let flat = 0; flat < total.length; flat++) {
    const index = unflatten(flat, timeline.outputSize);
    total[flat] = index.reduce((acc, o, d) => acc * perAxis[d]![o]!, 1);
  }
  return total;
}

/** Whether output cell `output` was added by output_padding (the last cells of a transposed conv). */
export function isOutputPadding(timeline: Timeline, output: readonly number[]): boolean {
  return timeline.axes.some(
    (axis, d) => axis.outputPadding > 0 && output[d]! >= axis.outputSize - axis.outputPadding,
  );
}

/** Direct view, hover on a source position: every output cell whose window reads it. */
export function directReaders(timeline: Timeline, source: readonly number[]): number[][] {
  const perAxis = timeline.axes.map((axis, d) => {
    const outputs: number[] = [];
    for (let o = 0; o < axis.outputSize; o++) {
      if (axisDirectTaps(axis, o).some((tap) => tap.source === source[d])) outputs.push(o);
    }
    return outputs;
  });
  return product(perAxis);
}

/** Scatter view, hover on an output position: every input cell whose stamp reaches it. */
export function scatterSources(timeline: Timeline, output: readonly number[]): number[][] {
  const perAxis = timeline.axes.map((axis, d) => {
    const inputs: number[] = [];
    for (let i = 0; i < axis.inputSize; i++) {
      if (axisScatterTaps(axis, i).some((tap) => tap.output === output[d])) inputs.push(i);
    }
    return inputs;
  });
  return product(perAxis);
}

/**
 * The operation as a sparse matrix over the flattened input: entry (row, col) holds the kernel weight that
 * multiplies input cell `col` into output cell `row`. For a transposed conv this is Cᵀ, the transpose of the
 * matrix of the conv it inverts the shape of (same stride, kernel and padding, mapping the output grid back
 * onto the input grid). Pooling windows are matrices too (max picks one entry per row, avg weighs them
 * equally). Fails, with the sizes, when the matrix is too large to lay out.
 */
export function matrixView(timeline: Timeline): Outcome<MatrixView> {
  const rows = timeline.outputSize.reduce((a, b) => a * b, 1);
  const cols = timeline.inputSize.reduce((a, b) => a * b, 1);
  if (rows > MAX_MATRIX_SIDE || cols > MAX_MATRIX_SIDE) {
    return fail(
      `The matrix would be ${rows}×${cols} (output cells × input cells); the matrix view shows up to ` +
        `${MAX_MATRIX_SIDE}×${MAX_MATRIX_SIDE}. Use a smaller input to see it.`,
    );
  }
  const entries: MatrixEntry[] = [];
  const kernelSizes = timeline.axes.map((axis) => axis.kernel);
  if (timeline.op === 'conv_transpose') {
    for (let col = 0; col < cols; col++) {
      for (const tap of scatterFrame(timeline, col).taps) {
        if (!tap.inside) continue;
        entries.push({
          row: flatten(tap.output, timeline.outputSize),
          col,
          weight: flatten(tap.weight, kernelSizes),
        });
      }
    }
    entries.sort((x, y) => x.row - y.row || x.col - y.col);
  } else {
    for (let row = 0; row < rows; row++) {
      for (const tap of directFrame(timeline, row).taps) {
        if (tap.input === null) continue;
        entries.push({
          row,
          col: flatten(tap.input, timeline.inputSize),
          weight: flatten(tap.weight, kernelSizes),
        });
      }
    }
  }
  return ok({ label: timeline.op === 'conv_transpose' ? 'Cᵀ' : 'C', rows, cols, entries });
}

// ---------------------------------------------------------------------------------------------------------
// Values.

/** The value of one output cell and the terms that make it, for the formula panel. */
export interface CellValue {
  readonly value: number;
  /** Conv: `x·w` products; pooling: the cells compared or averaged. */
  readonly terms: ReadonlyArray<{
    readonly input: readonly number[];
    readonly weight: readonly number[] | null;
  }>;
  /** Average pooling: the divisor used. */
  readonly divisor: number | null;
}

/**
 * The value of output cell `output` computed from the payload's values (single channel): a conv or transposed
 * conv sums input × weight over the cell's connections (weights 1 when none are given); max pooling takes the
 * largest real cell (padding never wins, as in PyTorch where it is −∞); average pooling divides the sum of the
 * real cells by the window's cells inside the padded input (count_include_pad) or by the real cells only.
 * Null without values.
 */
export function cellValue(timeline: Timeline, output: readonly number[]): CellValue | null {
  const values = timeline.values;
  if (values === null) return null;
  const frame = directFrame(timeline, flatten(output, timeline.outputSize));
  const kernelSizes = timeline.axes.map((axis) => axis.kernel);
  const real = frame.taps.filter((tap) => tap.input !== null);
  const x = (tap: Tap): number => values.input[flatten(tap.input!, timeline.inputSize)]!;
  switch (timeline.op) {
    case 'conv':
    case 'conv_transpose': {
      const w = (tap: Tap): number =>
        values.kernel === null ? 1 : values.kernel[flatten(tap.weight, kernelSizes)]!;
      return {
        value: real.reduce((sum, tap) => sum + x(tap) * w(tap), 0),
        terms: real.map((tap) => ({ input: tap.input!, weight: tap.weight })),
        divisor: null,
      };
    }
    case 'max_pool':
      return {
        value: real.reduce((best, tap) => Math.max(best, x(tap)), -Infinity),
        terms: real.map((tap) => ({ input: tap.input!, weight: null })),
        divisor: null,
      };
    case 'avg_pool': {
      const divisor = timeline.countIncludePad
        ? frame.taps.filter((tap) => tap.kind === 'input' || tap.kind === 'pad').length
        : real.length;
      return {
        value: divisor === 0 ? 0 : real.reduce((sum, tap) => sum + x(tap), 0) / divisor,
        terms: real.map((tap) => ({ input: tap.input!, weight: null })),
        divisor,
      };
    }
  }
}
