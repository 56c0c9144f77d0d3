/**
 * From an AnimationSpec to the per-dimension DimRules the animation draws. Where the payload names a
 * framework, the spec is written as that framework's own layer call and handed to its LayerDef (torch.ts,
 * keras.ts, flax.ts, onnx.ts), so its checks, defaults and conventions ('same' placement, pooling stride
 * defaults, output_padding limits) apply and its messages reach the user. Without a framework the rules are
 * built directly from the numbers as written (Dumoulin & Visin's arithmetic), checked here. Either way, every
 * size comes from applyDimRule (dims.ts).
 */
import { effectiveKernel } from '../arithmetic/args';
import { bindArguments } from '../arithmetic/args';
import { applyDimRule, checkerboardNote } from '../arithmetic/dims';
import { layerByQualifiedName } from '../arithmetic/registry';
import { dimNames } from '../arithmetic/symbolic';
import type { DimRule, Framework, Outcome, PyValue } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import type { AnimationSpec } from './payload';

export interface LayerRules {
  /** What the layer is called in its framework (`torch.nn.ConvTranspose2d`), or a neutral name. */
  readonly layerName: string;
  /** The call as the user would write it, for the header: `nn.ConvTranspose2d(1, 1, 3, stride=2)`. */
  readonly call: string;
  readonly dims: readonly DimRule[];
  readonly outputSize: readonly number[];
  readonly notes: readonly string[];
  /** Whether average pooling divides by the padded window (PyTorch's default) or by the real cells only. */
  readonly countIncludePad: boolean;
}

/** The rules for `spec` applied to the spatial input `input` (which may be smaller than the spec's own). */
export function layerRules(spec: AnimationSpec, input: readonly number[]): Outcome<LayerRules> {
  return spec.framework === null ? neutralRules(spec, input) : frameworkRules(spec, spec.framework, input);
}

// ---------------------------------------------------------------------------------------------------------
// Framework-neutral arithmetic.

function neutralRules(spec: AnimationSpec, input: readonly number[]): Outcome<LayerRules> {
  const names = dimNames(spec.rank);
  const isPool = spec.op === 'max_pool' || spec.op === 'avg_pool';
  const dims: DimRule[] = [];
  const outputSize: number[] = [];
  const notes: string[] = [];
  for (let i = 0; i < spec.rank; i++) {
    const name = names[i]!;
    const k = spec.kernel[i]!;
    const d = spec.dilation?.[i] ?? 1;
    const s = spec.stride?.[i] ?? (isPool ? k : 1);
    const kEff = effectiveKernel(k, d);
    const n = input[i]!;
    let rule: DimRule;
    if (spec.op === 'conv_transpose') {
      const op = spec.outputPadding?.[i] ?? 0;
      // The rule every framework shares (PyTorch's check in NaiveConvolutionTranspose): the extra cells must be
      // fewer than the stride or the dilation, or they would fall beyond where any input could reach.
      if (op >= s && op >= d) {
        const most = Math.max(s, d) - 1;
        return fail(
          `output_padding must be smaller than stride or dilation, but along ${name} output_padding is ${op} with ` +
            `stride ${s} and dilation ${d}; it can be ${most === 0 ? '0 only' : `0 to ${most}`}.`,
        );
      }
      const padding = spec.padding;
      if (padding?.kind === 'same' || padding?.kind === 'same_lower') {
        if (op !== 0) return fail(`output_padding cannot be combined with padding "same" (out = in·stride).`);
        rule = { kind: 'transposed-same', kernel: k, dilation: d, stride: s };
      } else {
        const [padBegin, padEnd] =
          padding?.kind === 'explicit' ? [padding.begin[i]!, padding.end[i]!] : [0, 0];
        if (padBegin < 0 || padEnd < 0) {
          return fail(
            `A transposed conv's padding crops the output, so it cannot be negative (along ${name}: ` +
              `${padBegin}, ${padEnd}); use output_padding to add cells at the end.`,
          );
        }
        rule = { kind: 'transposed', kernel: k, dilation: d, stride: s, padBegin, padEnd, outputPadding: op };
      }
      const note = checkerboardNote(name, k, d, s);
      if (note) notes.push(note);
    } else {
      const padding = spec.padding;
      if (padding?.kind === 'same' || padding?.kind === 'same_lower') {
        rule = {
          kind: 'same',
          kernel: k,
          dilation: d,
          stride: s,
          extraPadAt: padding.kind === 'same' ? 'end' : 'begin',
        };
      } else {
        const [padBegin, padEnd] =
          padding?.kind === 'explicit' ? [padding.begin[i]!, padding.end[i]!] : [0, 0];
        const padded = n + padBegin + padEnd;
        // ceil_mode may let a window overhang the padded input by fewer than stride cells (PyTorch's
        // pooling_output_shape); applyDimRule decides below whether any window is left.
        if (padded < kEff && !(isPool && spec.ceilMode)) {
          return fail(
            `Along ${name} the padded input (${n} + ${padBegin + padEnd} padding = ${padded}) is smaller than the ` +
              `${d > 1 ? `dilated kernel (${d}·(${k} − 1) + 1 = ${kEff})` : `kernel (${k})`}; the input needs ` +
              `${name} ≥ ${kEff - padBegin - padEnd}, or a smaller kernel, or more padding.`,
          );
        }
        if (isPool && spec.ceilMode && Math.max(padBegin, padEnd) >= kEff) {
          return fail(
            `Along ${name} the padding (${Math.max(padBegin, padEnd)}) is as large as the pooling window ` +
              `(${kEff}), so some windows would see only padding; use padding ≤ ${kEff - 1}.`,
          );
        }
        rule = {
          kind: 'window',
          kernel: k,
          dilation: d,
          stride: s,
          padBegin,
          padEnd,
          ceilMode: isPool && spec.ceilMode,
        };
      }
    }
    const size = applyDimRule(rule, n);
    if (size < 1) {
      return fail(
        `Along ${name} the output would have ${size} cells (input ${n}); the padding crops away everything. ` +
          `Use less padding.`,
      );
    }
    dims.push(rule);
    outputSize.push(size);
  }
  const opName = {
    conv: 'conv',
    conv_transpose: 'conv_transpose',
    max_pool: 'max_pool',
    avg_pool: 'avg_pool',
  }[spec.op];
  return ok({
    layerName: `${opName}${spec.rank}d`,
    call: `${opName}${spec.rank}d(${neutralArguments(spec)})`,
    dims,
    outputSize,
    notes,
    countIncludePad: spec.countIncludePad ?? true,
  });
}

function neutralArguments(spec: AnimationSpec): string {
  const list = (values: readonly number[]): string =>
    values.every((v) => v === values[0]) ? String(values[0]) : `(${values.join(', ')})`;
  const parts = [`kernel=${list(spec.kernel)}`];
  if (spec.stride) parts.push(`stride=${list(spec.stride)}`);
  const padding = spec.padding;
  if (padding?.kind === 'explicit') {
    const symmetric = padding.begin.every((b, i) => b === padding.end[i]);
    parts.push(
      `padding=${symmetric ? list(padding.begin) : `(${padding.begin.map((b, i) => `(${b}, ${padding.end[i]})`).join(', ')})`}`,
    );
  } else if (padding) {
    parts.push(`padding='${padding.kind}'`);
  }
  if (spec.dilation) parts.push(`dilation=${list(spec.dilation)}`);
  if (spec.outputPadding) parts.push(`output_padding=${list(spec.outputPadding)}`);
  if (spec.groups !== 1) parts.push(`groups=${spec.groups}`);
  if (spec.ceilMode) parts.push('ceil_mode=True');
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------------------
// Framework conventions, through the registry's LayerDefs.

interface FrameworkCall {
  readonly name: string;
  readonly args: Record<string, PyValue>;
  readonly input: number[];
}

function frameworkRules(
  spec: AnimationSpec,
  framework: Framework,
  input: readonly number[],
): Outcome<LayerRules> {
  const call = frameworkCall(spec, framework, input);
  if (!call.ok) return call;
  const def = layerByQualifiedName(call.value.name);
  if (!def) return fail(`Conv Lens has no ${call.value.name} to take the conventions from.`);
  const bound = bindArguments(def.name, def.params, [], call.value.args);
  if (!bound.ok) return bound;
  const inferred = def.infer(bound.value, call.value.input);
  if (!inferred.ok) return inferred;
  const shape = inferred.value;
  if (shape.dims.length !== spec.rank) {
    return fail(`${def.name} reported ${shape.dims.length} spatial dimensions for a ${spec.rank}-D input.`);
  }
  const outputSize = shape.dims.map((rule, i) => applyDimRule(rule, input[i]!));
  const empty = outputSize.findIndex((size) => size < 1);
  if (empty >= 0) {
    return fail(
      `${def.name} gives an empty output along ${dimNames(spec.rank)[empty]} for input ${input.join('×')}; ` +
        `there is nothing to animate.`,
    );
  }
  if (shape.dims.some((rule) => rule.kind === 'fixed')) {
    return fail(`${def.name} has a fixed output size here; the animation shows sliding windows only.`);
  }
  const countIncludePad = spec.countIncludePad ?? (framework === 'pytorch' ? true : false);
  return ok({
    layerName: def.name,
    call: `${def.name}(${Object.entries(call.value.args)
      .map(([key, value]) => `${key}=${pythonValue(value)}`)
      .join(', ')})`,
    dims: shape.dims,
    outputSize,
    notes: shape.notes,
    countIncludePad,
  });
}

function pythonValue(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `(${value.map(pythonValue).join(', ')}${value.length === 1 ? ',' : ''})`;
  return String(value);
}

/** Writes the spec as the framework's own layer call (qualified name, keyword arguments, input shape). */
function frameworkCall(
  spec: AnimationSpec,
  framework: Framework,
  input: readonly number[],
): Outcome<FrameworkCall> {
  const rank = spec.rank;
  const isPool = spec.op === 'max_pool' || spec.op === 'avg_pool';
  const padding = spec.padding;
  const asymmetric = padding?.kind === 'explicit' && padding.begin.some((b, i) => b !== padding.end[i]);
  const optional = (entries: Array<[string, PyValue | null | undefined]>): Record<string, PyValue> => {
    const args: Record<string, PyValue> = {};
    for (const [key, value] of entries) if (value !== undefined && value !== null) args[key] = value;
    return args;
  };
  const list = (values: readonly number[] | null): PyValue | null => (values === null ? null : [...values]);
  const unsupported = (what: string, hint: string): Outcome<never> =>
    fail(`${frameworkLabel(framework)} ${what}. ${hint}`);

  switch (framework) {
    case 'pytorch': {
      const suffix = `${rank}d`;
      if (asymmetric) {
        return unsupported(
          'layers take one padding per dimension, the same on both sides',
          'For asymmetric padding PyTorch pads first with F.pad(x, ...); leave "framework" out to animate ' +
            'the asymmetric padding directly.',
        );
      }
      if (padding?.kind === 'same_lower') {
        return unsupported(`has no padding "same_lower"`, 'PyTorch\'s "same" puts the odd cell at the end.');
      }
      const torchPadding: PyValue | null =
        padding === null
          ? null
          : padding.kind === 'explicit'
            ? [...padding.begin]
            : padding.kind === 'valid'
              ? 'valid'
              : 'same';
      const channelsFirst = [1, spec.inChannels, ...input];
      switch (spec.op) {
        case 'conv':
          return ok({
            name: `torch.nn.Conv${suffix}`,
            args: optional([
              ['in_channels', spec.inChannels],
              ['out_channels', spec.outChannels],
              ['kernel_size', [...spec.kernel]],
              ['stride', list(spec.stride)],
              ['padding', torchPadding],
              ['dilation', list(spec.dilation)],
              ['groups', spec.groups === 1 ? null : spec.groups],
            ]),
            input: channelsFirst,
          });
        case 'conv_transpose':
          return ok({
            name: `torch.nn.ConvTranspose${suffix}`,
            args: optional([
              ['in_channels', spec.inChannels],
              ['out_channels', spec.outChannels],
              ['kernel_size', [...spec.kernel]],
              ['stride', list(spec.stride)],
              ['padding', torchPadding],
              ['output_padding', list(spec.outputPadding)],
              ['groups', spec.groups === 1 ? null : spec.groups],
              ['dilation', list(spec.dilation)],
            ]),
            input: channelsFirst,
          });
        case 'max_pool':
          return ok({
            name: `torch.nn.MaxPool${suffix}`,
            args: optional([
              ['kernel_size', [...spec.kernel]],
              ['stride', list(spec.stride)],
              ['padding', torchPadding],
              ['dilation', list(spec.dilation)],
              ['ceil_mode', spec.ceilMode || null],
            ]),
            input: channelsFirst,
          });
        case 'avg_pool':
          if (spec.dilation?.some((d) => d !== 1)) {
            return unsupported('average pooling has no dilation', 'Use "max_pool", or dilation 1.');
          }
          return ok({
            name: `torch.nn.AvgPool${suffix}`,
            args: optional([
              ['kernel_size', [...spec.kernel]],
              ['stride', list(spec.stride)],
              ['padding', torchPadding],
              ['ceil_mode', spec.ceilMode || null],
              ['count_include_pad', spec.countIncludePad],
            ]),
            input: channelsFirst,
          });
      }
      break;
    }
    case 'keras':
    case 'tensorflow': {
      const suffix = `${rank}D`;
      if (
        padding?.kind === 'explicit' &&
        (padding.begin.some((b) => b !== 0) || padding.end.some((e) => e !== 0))
      ) {
        return unsupported(
          'layers take padding "valid" or "same" only',
          'Numeric padding needs a ZeroPadding layer before; leave "framework" out to animate it directly.',
        );
      }
      if (padding?.kind === 'same_lower') {
        return unsupported('has no padding "same_lower"', 'Its "same" puts the odd cell at the end.');
      }
      const kerasPadding = padding?.kind === 'same' ? 'same' : padding === null ? null : 'valid';
      if (spec.ceilMode) {
        return unsupported(
          'pooling has no ceil_mode',
          'padding="same" rounds up instead: out = ⌈in/stride⌉.',
        );
      }
      if (isPool && spec.dilation?.some((d) => d !== 1)) {
        return unsupported('pooling has no dilation', 'Use dilation 1.');
      }
      if (isPool && spec.countIncludePad === true) {
        return unsupported('average pooling never counts the padding', 'Leave "count_include_pad" out.');
      }
      const channelsLast = [1, ...input, spec.inChannels];
      switch (spec.op) {
        case 'conv':
          return ok({
            name: `keras.layers.Conv${suffix}`,
            args: optional([
              ['filters', spec.outChannels],
              ['kernel_size', [...spec.kernel]],
              ['strides', list(spec.stride)],
              ['padding', kerasPadding],
              ['dilation_rate', list(spec.dilation)],
              ['groups', spec.groups === 1 ? null : spec.groups],
            ]),
            input: channelsLast,
          });
        case 'conv_transpose':
          if (spec.groups !== 1) return unsupported('transposed convs have no groups', 'Use groups 1.');
          return ok({
            name: `keras.layers.Conv${suffix}Transpose`,
            args: optional([
              ['filters', spec.outChannels],
              ['kernel_size', [...spec.kernel]],
              ['strides', list(spec.stride)],
              ['padding', kerasPadding],
              ['output_padding', list(spec.outputPadding)],
              ['dilation_rate', list(spec.dilation)],
            ]),
            input: channelsLast,
          });
        case 'max_pool':
        case 'avg_pool':
          return ok({
            name: `keras.layers.${spec.op === 'max_pool' ? 'MaxPooling' : 'AveragePooling'}${suffix}`,
            args: optional([
              ['pool_size', [...spec.kernel]],
              ['strides', list(spec.stride)],
              ['padding', kerasPadding],
            ]),
            input: channelsLast,
          });
      }
      break;
    }
    case 'flax':
    case 'jax': {
      if (isPool) {
        return unsupported(
          'pooling is not among the layers Conv Lens models for Flax',
          'Use "framework": "pytorch" or "onnx", or leave it out.',
        );
      }
      const flaxPadding: PyValue | null =
        padding === null
          ? null
          : padding.kind === 'explicit'
            ? padding.begin.map((b, i) => [b, padding.end[i]!])
            : padding.kind === 'same'
              ? 'SAME'
              : padding.kind === 'same_lower'
                ? 'SAME_LOWER'
                : 'VALID';
      const channelsLast = [1, ...input, spec.inChannels];
      if (spec.op === 'conv') {
        return ok({
          name: 'flax.linen.Conv',
          args: optional([
            ['features', spec.outChannels],
            ['kernel_size', [...spec.kernel]],
            ['strides', list(spec.stride)],
            ['padding', flaxPadding],
            ['kernel_dilation', list(spec.dilation)],
            ['feature_group_count', spec.groups === 1 ? null : spec.groups],
          ]),
          input: channelsLast,
        });
      }
      if (spec.outputPadding?.some((op) => op !== 0)) {
        return unsupported(
          'ConvTranspose has no output_padding',
          'Explicit padding pairs set the output size instead; leave "framework" out to animate output_padding.',
        );
      }
      if (spec.groups !== 1) return unsupported('ConvTranspose has no groups', 'Use groups 1.');
      return ok({
        name: 'flax.linen.ConvTranspose',
        args: optional([
          ['features', spec.outChannels],
          ['kernel_size', [...spec.kernel]],
          ['strides', list(spec.stride)],
          ['padding', flaxPadding],
          ['kernel_dilation', list(spec.dilation)],
        ]),
        input: channelsLast,
      });
    }
    case 'onnx': {
      const pads =
        padding?.kind === 'explicit'
          ? [...padding.begin, ...padding.end]
          : padding?.kind === 'valid'
            ? null
            : null;
      const autoPad =
        padding?.kind === 'same'
          ? 'SAME_UPPER'
          : padding?.kind === 'same_lower'
            ? 'SAME_LOWER'
            : padding?.kind === 'valid'
              ? 'VALID'
              : null;
      const channelsFirst = [1, spec.inChannels, ...input];
      const common: Array<[string, PyValue | null]> = [
        ['kernel_shape', [...spec.kernel]],
        ['strides', list(spec.stride)],
        ['pads', pads],
        ['auto_pad', autoPad],
        ['dilations', list(spec.dilation)],
      ];
      switch (spec.op) {
        case 'conv':
          return ok({
            name: 'onnx.Conv',
            args: optional([
              ...common,
              ['group', spec.groups === 1 ? null : spec.groups],
              ['weight_shape', [spec.outChannels, spec.inChannels / spec.groups, ...spec.kernel]],
            ]),
            input: channelsFirst,
          });
        case 'conv_transpose':
          return ok({
            name: 'onnx.ConvTranspose',
            args: optional([
              ...common,
              ['output_padding', list(spec.outputPadding)],
              ['group', spec.groups === 1 ? null : spec.groups],
              ['weight_shape', [spec.inChannels, spec.outChannels / spec.groups, ...spec.kernel]],
            ]),
            input: channelsFirst,
          });
        case 'max_pool':
          return ok({
            name: 'onnx.MaxPool',
            args: optional([...common, ['ceil_mode', spec.ceilMode ? 1 : null]]),
            input: channelsFirst,
          });
        case 'avg_pool':
          return ok({
            name: 'onnx.AveragePool',
            args: optional([
              ...common,
              ['ceil_mode', spec.ceilMode ? 1 : null],
              ['count_include_pad', spec.countIncludePad === null ? null : spec.countIncludePad ? 1 : 0],
            ]),
            input: channelsFirst,
          });
      }
      break;
    }
  }
  return fail(`Conv Lens cannot write ${spec.op} for ${framework}.`);
}

function frameworkLabel(framework: Framework): string {
  return {
    pytorch: 'PyTorch',
    keras: 'Keras',
    tensorflow: 'TensorFlow',
    flax: 'Flax',
    jax: 'JAX',
    onnx: 'ONNX',
  }[framework];
}
