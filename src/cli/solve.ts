/**
 * `convlens solve`: the inverse questions — which settings reach a size — answered by core/arithmetic/solve.
 */
import {
  type PerDim,
  type SizeSetting,
  forwardSettings,
  settingsForTarget,
  transposedSettings,
  translateSame,
  upsampleSettings,
} from '../core/arithmetic/solve';
import type { Framework, Outcome } from '../core/arithmetic/types';
import { integerOption, type ParsedOptions, parseOptions, reportUsage, UsageError } from './options';

const FRAMEWORKS: readonly Framework[] = ['pytorch', 'keras', 'tensorflow', 'flax', 'jax', 'onnx'];

export function runSolve(args: readonly string[]): number {
  const [mode, ...rest] = args;
  try {
    switch (mode) {
      case 'transposed':
        return solveTransposed(rest);
      case 'forward':
        return solveForward(rest);
      case 'upsample':
        return solveUpsample(rest);
      case 'same':
        return solveSame(rest);
      default:
        throw new UsageError(
          `say what to solve: 'transposed', 'forward', 'upsample' or 'same'${mode ? ` (not '${mode}')` : ''}.`,
        );
    }
  } catch (error) {
    return reportUsage('solve', error);
  }
}

/** A size option given as one number or one per spatial dimension: `37` or `37,45`. */
function perDimOption(options: ParsedOptions, name: string, required: boolean): PerDim | undefined {
  const text = options.values.get(name);
  if (text === undefined) {
    if (required) throw new UsageError(`--${name} is required.`);
    return undefined;
  }
  const values = text.split(/[,x×]/).map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isSafeInteger(value))) {
    throw new UsageError(`--${name} must be a whole number or comma-separated whole numbers, not '${text}'.`);
  }
  return values.length === 1 ? values[0]! : values;
}

function emit<T>(outcome: Outcome<T>, json: boolean, render: (value: T) => string[]): number {
  if (!outcome.ok) {
    if (json) process.stdout.write(JSON.stringify({ error: outcome.error }) + '\n');
    else process.stderr.write(`convlens solve: ${outcome.error}\n`);
    return 1;
  }
  process.stdout.write(
    json ? JSON.stringify(outcome.value, null, 2) + '\n' : render(outcome.value).join('\n') + '\n',
  );
  return 0;
}

function settingLines(settings: readonly SizeSetting[]): string[] {
  if (settings.length === 0) return ['  (no setting within the searched range)'];
  return settings.flatMap((setting, index) => [
    `${String(index + 1).padStart(3)}. ${setting.code.split('\n').join('\n      ')}`,
    `      ${setting.formula}${setting.checkerboard ? '   (uneven overlap: checkerboard risk)' : ''}`,
    ...(setting.waste ? [`      ${setting.waste}`] : []),
  ]);
}

function solveTransposed(args: readonly string[]): number {
  const options = parseOptions(
    args,
    ['input', 'target', 'kernel', 'stride', 'padding', 'dilation', 'limit'],
    ['json'],
  );
  const json = options.flags.has('json');
  const inputSize = perDimOption(options, 'input', true)!;
  const target = perDimOption(options, 'target', true)!;
  const kernel = perDimOption(options, 'kernel', false);
  if (kernel === undefined) {
    // No kernel given: search for transposed convs that map the size, simplest first.
    if (Array.isArray(inputSize) || Array.isArray(target)) {
      throw new UsageError(
        'without --kernel, give one --input and one --target size (the search is per dimension).',
      );
    }
    const search = transposedSettings({
      inputSize: inputSize as number,
      outputSize: target as number,
      limit: integerOption(options, 'limit', 10),
    });
    return emit(search, json, (settings) => [
      `Transposed convs that turn ${String(inputSize)} into ${String(target)}, simplest first:`,
      ...settingLines(settings),
    ]);
  }
  const answer = settingsForTarget({
    kernel,
    inputSize,
    target,
    stride: perDimOption(options, 'stride', false),
    padding: perDimOption(options, 'padding', false),
    dilation: perDimOption(options, 'dilation', false),
  });
  return emit(answer, json, (value) => {
    const lines = [
      `From ${String(inputSize)} to ${String(target)} with a transposed conv ` +
        `(kernel ${String(kernel)}, stride ${String(options.values.get('stride') ?? 1)}):`,
      ...value.ranges.map(
        (range, i) =>
          `  ${value.dims[i]}: PyTorch reaches ${range.min === range.max ? range.min : `${range.min} to ${range.max}`} ` +
          `with this padding`,
      ),
      '',
    ];
    for (const setting of value.settings) {
      const head = `${setting.framework.padEnd(10)} ${setting.via}`;
      if (setting.reachable) {
        lines.push(`✓ ${head}`, `    ${setting.code!.split('\n').join('\n    ')}`);
        for (const formula of setting.formulas) lines.push(`    ${formula}`);
      } else {
        lines.push(`✗ ${head}`, `    ${setting.reason}`);
      }
      for (const note of setting.notes) lines.push(`    note: ${note}`);
    }
    return lines;
  });
}

function solveForward(args: readonly string[]): number {
  const options = parseOptions(
    args,
    ['input', 'output', 'max-kernel', 'max-stride', 'max-dilation', 'limit'],
    ['json'],
  );
  const inputSize = integerOption(options, 'input');
  const outputSize = integerOption(options, 'output');
  const search = forwardSettings({
    inputSize,
    outputSize,
    maxKernel: integerOption(options, 'max-kernel', 7),
    maxStride: options.values.has('max-stride') ? integerOption(options, 'max-stride') : undefined,
    maxDilation: integerOption(options, 'max-dilation', 2),
    limit: integerOption(options, 'limit', 10),
  });
  return emit(search, options.flags.has('json'), (settings) => [
    `Convs that turn ${inputSize} into ${outputSize}, simplest first:`,
    ...settingLines(settings),
  ]);
}

function solveUpsample(args: readonly string[]): number {
  const options = parseOptions(args, ['factor', 'max-kernel'], ['json']);
  const factor = integerOption(options, 'factor');
  const answer = upsampleSettings(factor, {
    maxKernel: options.values.has('max-kernel') ? integerOption(options, 'max-kernel') : undefined,
  });
  return emit(answer, options.flags.has('json'), (value) => [
    `Transposed convs that give exactly ${factor}× for every input size:`,
    ...settingLines(value.settings),
    '',
    ...value.notes.map((note) => `note: ${note}`),
  ]);
}

function solveSame(args: readonly string[]): number {
  const options = parseOptions(args, ['kernel', 'stride', 'dilation', 'input', 'from', 'to'], ['json']);
  const from = (options.values.get('from') ?? 'tensorflow') as Framework;
  const to = (options.values.get('to') ?? 'pytorch') as Framework;
  for (const framework of [from, to]) {
    if (!FRAMEWORKS.includes(framework))
      throw new UsageError(`frameworks are ${FRAMEWORKS.join(', ')}, not '${framework}'.`);
  }
  const answer = translateSame({
    from,
    to,
    kernel: perDimOption(options, 'kernel', true)!,
    stride: perDimOption(options, 'stride', false),
    dilation: perDimOption(options, 'dilation', false),
    inputSize: perDimOption(options, 'input', true)!,
  });
  return emit(answer, options.flags.has('json'), (value) => [
    `${from} 'same' → ${to}`,
    ...value.dims.map(
      (dim, i) =>
        `  ${dim}: pads ${value.pads[i]![0]} before, ${value.pads[i]![1]} after → output ${value.output[i]}`,
    ),
    `  ${from}: ${value.fromCode}`,
    `  ${to}: ${value.toCode.split('\n').join('\n    ')}`,
    value.everySize
      ? '  This matches for every input size.'
      : `  This matches only for ${value.matchesFor ?? 'this input size'}: the source pads adapt to the input.`,
    ...value.notes.map((note) => `  note: ${note}`),
  ]);
}
