/**
 * The preview's layer from a layer constructor in the editor: kernel, stride, padding, dilation and
 * output_padding read from the call's literal arguments, the channels and the kernel from the interpreter's
 * weight shape where the source writes an expression (`nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1)`). Pure (no
 * vscode), so it is unit-tested.
 *
 * The analysis reports the weight shape but not the bound arguments, so literal arguments are read here with
 * the same small expression reader the CLI uses; an argument that is not a literal falls back to the weight
 * shape or the default, and a note says so.
 */
import { parseCallExpression } from '../core/callExpression';
import { layerByQualifiedName } from '../core/arithmetic/registry';
import type { PyValue } from '../core/arithmetic/types';
import type { LayerSiteReport } from '../python/document';
import { MAX_PREVIEW_KERNEL, MAX_SETTING, type Pair, type PreviewLayer } from '../protocol/preview';

/** Splits the text between a call's outer parentheses at its top-level commas. */
export function splitArguments(call: string): string[] | null {
  const open = call.indexOf('(');
  const close = call.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const inside = call.slice(open + 1, close);
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < inside.length; i++) {
    const ch = inside[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(inside.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inside.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

/** A literal argument's value (`4`, `(1, 0)`, `'same'`), or undefined for an expression the reader cannot fold. */
function literal(text: string): PyValue | undefined {
  const parsed = parseCallExpression(`f(${text.replace(/#[^\n]*/g, '')})`);
  if (!parsed.ok || parsed.value.positional.length !== 1 || parsed.value.positionalNames[0] !== null)
    return undefined;
  return parsed.value.positional[0];
}

/** The call's arguments by parameter name; undefined marks one written as an expression. */
export function readArguments(
  qualifiedName: string | null,
  call: string,
): Map<string, PyValue | undefined> | null {
  const parts = splitArguments(call);
  if (!parts) return null;
  const def = qualifiedName ? layerByQualifiedName(qualifiedName) : undefined;
  const positionalNames = def ? def.params.filter((p) => !p.keywordOnly).map((p) => p.name) : [];
  const args = new Map<string, PyValue | undefined>();
  parts.forEach((part, index) => {
    const keyword = /^([A-Za-z_]\w*)\s*=(?!=)\s*([\s\S]*)$/.exec(part);
    if (keyword) args.set(keyword[1]!, literal(keyword[2]!));
    else if (index < positionalNames.length) args.set(positionalNames[index]!, literal(part));
  });
  return args;
}

const NAMES = {
  kernel: ['kernel_size', 'kernel_shape'],
  stride: ['stride', 'strides'],
  padding: ['padding', 'pads'],
  dilation: ['dilation', 'dilation_rate', 'kernel_dilation', 'dilations', 'rhs_dilation'],
  outputPadding: ['output_padding'],
  outChannels: ['out_channels', 'filters', 'features'],
} as const;

/** The spatial rank the class name says (`Conv2d` → 2), else 2. */
function rankOf(name: string): number {
  const match = /([123])[dD]/.exec(name);
  return match ? Number(match[1]) : 2;
}

/**
 * The preview layer for one layer site of the analysis, with notes on what was filled in; null (with a note)
 * for a layer that is not a convolution.
 */
export function previewLayerFromSite(
  site: Pick<LayerSiteReport, 'className' | 'qualifiedName' | 'weightShape' | 'framework'> & {
    /** The constructor as written (`nn.ConvTranspose2d`), for the label. */
    readonly callee?: string;
  },
  callText: string,
  where: string,
): { layer: PreviewLayer | null; notes: string[] } {
  const name = site.qualifiedName ?? site.className;
  if (!/conv/i.test(name)) {
    return {
      layer: null,
      notes: [`${site.callee ?? site.className} is not a convolution; the preview shows a 3×3 conv instead.`],
    };
  }
  const op = /transpose/i.test(name) ? 'conv_transpose' : 'conv';
  const rank = rankOf(name);
  const notes: string[] = [];
  const args = readArguments(site.qualifiedName, callText) ?? new Map<string, PyValue | undefined>();
  const weightKernel = site.weightShape && site.framework === 'torch' ? site.weightShape.slice(2) : null;

  const read = (key: keyof typeof NAMES): { value: PyValue | undefined; written: string | null } => {
    for (const written of NAMES[key]) if (args.has(written)) return { value: args.get(written), written };
    return { value: null, written: null };
  };
  /** A per-dimension setting as [height, width] (1-D: [1, k]; 3-D: the last two), clamped to the preview's limits. */
  const pair = (
    key: keyof typeof NAMES,
    fallback: number,
    min: number,
    max: number,
    from?: number[] | null,
  ): Pair => {
    const { value, written } = read(key);
    let values: number[] | null = null;
    if (typeof value === 'number') values = new Array<number>(rank).fill(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) values = value as number[];
    if (key === 'padding' && typeof value === 'string') {
      const kernel = pair('kernel', 3, 1, MAX_PREVIEW_KERNEL, weightKernel);
      const dilation = pair('dilation', 1, 1, MAX_SETTING);
      if (value === 'same')
        notes.push(
          `padding='same' is shown as padding ${kernel.map((k, d) => Math.floor((dilation[d]! * (k - 1)) / 2)).join('×')} on both sides.`,
        );
      return value === 'same'
        ? [Math.floor((dilation[0] * (kernel[0] - 1)) / 2), Math.floor((dilation[1] * (kernel[1] - 1)) / 2)]
        : [0, 0];
    }
    if (values && key === 'padding' && values.length === 2 * rank) values = values.slice(0, rank);
    if (!values && from) values = from;
    if (!values && value === undefined) {
      notes.push(
        `${written} is an expression the preview cannot read; it uses ${fallback} (edit it in the panel).`,
      );
    }
    const picked = values
      ? rank === 1
        ? [min, values[0] ?? fallback]
        : values.slice(-2)
      : rank === 1
        ? [min, fallback]
        : [fallback, fallback];
    const clamped = picked.map((v) => Math.min(max, Math.max(min, Math.round(v))));
    if (clamped.some((v, i) => v !== picked[i]))
      notes.push(
        `${NAMES[key][0]} ${picked.join('×')} is outside what the preview runs; it shows ${clamped.join('×')}.`,
      );
    return [clamped[0]!, clamped[1]!];
  };

  const kernel = pair('kernel', 3, 1, MAX_PREVIEW_KERNEL, weightKernel);
  const stride = pair('stride', 1, 1, MAX_SETTING);
  const padding = pair('padding', 0, 0, MAX_SETTING);
  const dilation = pair('dilation', 1, 1, MAX_SETTING);
  const outputPadding =
    op === 'conv_transpose' ? pair('outputPadding', 0, 0, MAX_SETTING) : ([0, 0] as const);
  const channels = read('outChannels').value;
  let outChannels = typeof channels === 'number' && channels >= 1 ? channels : 1;
  if (typeof channels !== 'number' && site.weightShape && site.framework === 'torch') {
    // PyTorch's weight is [C_out, C_in/g, …] for a conv and [C_in, C_out/g, …] for a transposed conv.
    outChannels = site.weightShape[op === 'conv' ? 0 : 1] ?? 1;
  }
  if (rank === 3) notes.push('A 3-D layer is shown on its last two dimensions.');
  if (rank === 1) notes.push('A 1-D layer is shown along the rows of a 2-D map.');
  return {
    layer: {
      op,
      kernel,
      stride,
      padding,
      dilation,
      outputPadding,
      outChannels,
      label: `${site.callee ?? site.className} (${where})`,
    },
    notes,
  };
}
