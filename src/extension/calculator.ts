/**
 * "Conv Lens: Shape Calculator": a quick-input flow over the core's arithmetic. Forward mode asks for a
 * framework, a layer kind, its parameters and an input shape, and shows the output shape, the per-dimension
 * formulas and the parameter count, with the layer's code ready to insert in that framework's syntax. Inverse
 * mode asks for "from → to" sizes (and optionally a fixed kernel/stride) and lists, per framework, the settings
 * the solver finds, each insertable.
 *
 * The command also takes one argument object ({mode, framework, layer, params, input, target, insert}) and then
 * shows no UI at all, so tests and other features drive it directly; either way it returns what it showed.
 */
import * as vscode from 'vscode';
import type { BoundArgs, PyValue } from '../core/arithmetic/types';
import {
  CALCULATOR_FRAMEWORKS,
  type CalculatorFramework,
  FRAMEWORK_IMPORTS,
  FRAMEWORK_NAMES,
  type InverseSetting,
  LAYER_KINDS,
  type LayerChoice,
  type LayerKind,
  bindParamLine,
  bindValues,
  calculateLayer,
  calculatorParams,
  defaultInput,
  defaultValues,
  inputLayout,
  inverseSettings,
  kindLabel,
  layerCode,
  layerForChoice,
  parseLayerChoice,
  parsePyValue,
  parseSizePair,
  probeInput,
  pyLiteral,
} from '../core/codegen';
import { layerReport, parseShape } from '../core/describe';

export const CALCULATOR_COMMAND = 'convLens.shapeCalculator';
/** Not in the palette: what the calculator's quick input shows right now, for tests that drive it. */
export const CALCULATOR_STATE_COMMAND = 'convLens.shapeCalculator.state';

export interface CalculatorArgs {
  readonly mode?: 'forward' | 'inverse';
  readonly framework?: CalculatorFramework;
  /** `conv2d`, `convTranspose2d`, `maxPool1d`, `avgPool3d`, or a framework's own name (`nn.ConvTranspose2d`). */
  readonly layer?: string;
  /** Forward: `64, 32, kernel_size=4, stride=2` or {name: value}. Inverse: `kernel_size=4, stride=2`. */
  readonly params?: string | Readonly<Record<string, PyValue>>;
  /** Forward: the input shape, `1,64,16,16` or [1, 64, 16, 16]. */
  readonly input?: string | readonly number[];
  /** Inverse: `37x37 -> 75x75` or {from, to}. */
  readonly target?: string | { readonly from: readonly number[]; readonly to: readonly number[] };
  /** Insert the layer's code (forward) or the first reachable setting (inverse; of `framework` if given). */
  readonly insert?: boolean;
  /** Inverse: which way to insert, by its `via` (`output_padding`, `forward(x, output_size=...)`, `pads`, …). */
  readonly via?: string;
}

export interface ForwardResult {
  readonly mode: 'forward';
  readonly framework: CalculatorFramework;
  /** Qualified name: torch.nn.ConvTranspose2d. */
  readonly layer: string;
  readonly code: string;
  readonly input: number[];
  readonly output: number[];
  readonly outputText: string;
  readonly formulas: string[];
  readonly weight: number[] | null;
  readonly params: number;
  readonly macs: number;
  readonly notes: string[];
  /** The text inserted into the editor, or null. */
  readonly inserted: string | null;
}

export interface InverseResult {
  readonly mode: 'inverse';
  readonly from: number[];
  readonly to: number[];
  readonly direction: 'transposed' | 'forward';
  readonly candidates: { kernel: number[]; stride: number[]; dilation: number[]; formula: string }[];
  readonly settings: InverseSetting[];
  readonly inserted: string | null;
}

export interface CalculatorError {
  readonly mode: 'forward' | 'inverse';
  readonly error: string;
}

export type CalculatorResult = ForwardResult | InverseResult | CalculatorError;

/** What the open quick input shows: its step, title, value and items (for tests driving the UI). */
interface QuickState {
  step: string;
  title: string;
  value: string;
  items: string[];
  active: string | null;
  validation: string | null;
}
let quickState: QuickState | null = null;

export function registerCalculator(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(CALCULATOR_COMMAND, async (args?: CalculatorArgs) =>
      args && typeof args === 'object' ? runWithArgs(args) : runInteractive(),
    ),
    vscode.commands.registerCommand(CALCULATOR_STATE_COMMAND, () => quickState),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Driven by arguments.

function configuredFramework(): CalculatorFramework {
  const value = vscode.workspace.getConfiguration('convLens').get<string>('defaultFramework', 'pytorch');
  return (CALCULATOR_FRAMEWORKS as readonly string[]).includes(value)
    ? (value as CalculatorFramework)
    : 'pytorch';
}

async function runWithArgs(args: CalculatorArgs): Promise<CalculatorResult> {
  const mode = args.mode ?? (args.target !== undefined ? 'inverse' : 'forward');
  const failed = (error: string): CalculatorError => ({ mode, error });
  if (mode === 'inverse') {
    const sizes =
      typeof args.target === 'string'
        ? parseSizePair(args.target)
        : args.target
          ? { ok: true as const, value: { from: [...args.target.from], to: [...args.target.to] } }
          : { ok: false as const, error: "Inverse mode needs a target such as '37x37 -> 75x75'." };
    if (!sizes.ok) return failed(sizes.error);
    const fixed = readFixed(args.params);
    if (!fixed.ok) return failed(fixed.error);
    const answer = inverseSettings({ ...sizes.value, ...fixed.value });
    if (!answer.ok) return failed(answer.error);
    let inserted: string | null = null;
    if (args.insert) {
      const chosen = answer.value.settings.find(
        (setting) =>
          setting.reachable &&
          (args.via === undefined || setting.via === args.via) &&
          (args.framework === undefined ||
            setting.framework === args.framework ||
            (args.framework === 'keras' && setting.framework === 'tensorflow')),
      );
      if (!chosen?.code)
        return failed(
          `No reachable setting${args.framework ? ` for ${args.framework}` : ''}${args.via ? ` via ${args.via}` : ''} to insert.`,
        );
      inserted = await insertAtCursor(chosen.code);
    }
    return { mode: 'inverse', ...answer.value, inserted };
  }
  const framework = args.framework ?? configuredFramework();
  if (!(CALCULATOR_FRAMEWORKS as readonly string[]).includes(framework)) {
    return failed(
      `Unknown framework '${String(framework)}'; use one of ${CALCULATOR_FRAMEWORKS.join(', ')}.`,
    );
  }
  const parsedLayer = parseLayerChoice(args.layer ?? 'conv2d');
  if (!parsedLayer.ok) return failed(parsedLayer.error);
  const choice: LayerChoice = { framework, ...parsedLayer.value };
  const base = defaultValues(choice);
  if (!base.ok) return failed(base.error);
  let values: BoundArgs = base.value;
  if (typeof args.params === 'string') {
    const bound = bindParamLine(choice, args.params, base.value);
    if (!bound.ok) return failed(bound.error);
    values = bound.value;
  } else if (args.params) {
    const bound = bindValues(choice, [], { ...base.value, ...args.params });
    if (!bound.ok) return failed(bound.error);
    values = bound.value;
  }
  const input =
    args.input === undefined
      ? { ok: true as const, value: defaultInput(framework, choice.rank, guessChannels(choice, values)) }
      : typeof args.input === 'string'
        ? parseShape(args.input)
        : { ok: true as const, value: [...args.input] };
  if (!input.ok) return failed(input.error);
  const result = forwardResult(choice, values, input.value);
  if ('error' in result) return result;
  if (!args.insert) return result;
  return { ...result, inserted: await insertAtCursor(result.code) };
}

/** Inverse mode's optional fixed kernel/stride/dilation/padding, from `kernel_size=4, stride=2` or an object. */
function readFixed(params: CalculatorArgs['params']): ReturnType<typeof fixedFromLine> {
  if (params === undefined) return { ok: true, value: {} };
  if (typeof params === 'string') return fixedFromLine(params);
  return fixedFromValues(params);
}

const FIXED_NAMES: Record<string, 'kernel' | 'stride' | 'dilation' | 'padding'> = {
  kernel: 'kernel',
  kernel_size: 'kernel',
  kernel_shape: 'kernel',
  k: 'kernel',
  stride: 'stride',
  strides: 'stride',
  s: 'stride',
  dilation: 'dilation',
  dilation_rate: 'dilation',
  dilations: 'dilation',
  padding: 'padding',
  p: 'padding',
};

type Fixed = Partial<Record<'kernel' | 'stride' | 'dilation' | 'padding', number | number[]>>;

function fixedFromLine(line: string): { ok: true; value: Fixed } | { ok: false; error: string } {
  if (line.trim() === '') return { ok: true, value: {} };
  const values: Record<string, PyValue> = {};
  for (const part of splitTopLevel(line)) {
    const match = /^\s*(\w+)\s*=\s*(.+?)\s*$/.exec(part);
    if (!match)
      return { ok: false, error: `'${part.trim()}' is not name=value; write e.g. kernel_size=4, stride=2.` };
    const value = parsePyValue(match[2]!);
    if (!value.ok) return value;
    values[match[1]!] = value.value;
  }
  return fixedFromValues(values);
}

function fixedFromValues(
  values: Readonly<Record<string, PyValue>>,
): { ok: true; value: Fixed } | { ok: false; error: string } {
  const fixed: Fixed = {};
  for (const [name, value] of Object.entries(values)) {
    const key = FIXED_NAMES[name];
    if (!key) {
      return {
        ok: false,
        error: `'${name}' cannot be fixed here; give kernel_size, stride, dilation or padding.`,
      };
    }
    const list = Array.isArray(value) ? (value as readonly PyValue[]) : [value];
    if (
      !list.every(
        (item) => typeof item === 'number' && Number.isInteger(item) && item >= (key === 'padding' ? 0 : 1),
      )
    ) {
      return {
        ok: false,
        error: `${name} must be ${key === 'padding' ? 'a non-negative' : 'a positive'} whole number or a tuple of them, got ${pyLiteral(value)}.`,
      };
    }
    fixed[key] = Array.isArray(value) ? (list as number[]) : (value as number);
  }
  return { ok: true, value: fixed };
}

/** Splits `a=1, b=(2, 3)` at the commas outside brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((part) => part.trim() !== '');
}

/** The input channels a layer expects, for the default input: PyTorch's in_channels, else 64. */
function guessChannels(choice: LayerChoice, values: BoundArgs): number {
  const inChannels = values['in_channels'];
  return choice.framework === 'pytorch' &&
    typeof inChannels === 'number' &&
    Number.isInteger(inChannels) &&
    inChannels > 0
    ? inChannels
    : 64;
}

function forwardResult(
  choice: LayerChoice,
  values: BoundArgs,
  input: number[],
): ForwardResult | CalculatorError {
  const calculated = calculateLayer(choice, values, input);
  if (!calculated.ok) return { mode: 'forward', error: calculated.error };
  const report = layerReport(calculated.value.analysis);
  return {
    mode: 'forward',
    framework: choice.framework,
    layer: report.layer,
    code: calculated.value.code,
    input: report.input,
    output: report.output,
    outputText: report.outputText,
    formulas: report.formulas,
    weight: report.weight,
    params: report.params,
    macs: report.macs,
    notes: report.notes,
    inserted: null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Inserting code.

/**
 * Inserts code at the active editor's cursor (replacing a selection). Lines after the first take the cursor
 * line's indentation, so a two-line answer stays inside the block it is inserted into. Returns the inserted text,
 * or null when no editor is open.
 */
export async function insertAtCursor(code: string): Promise<string | null> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return null;
  const position = editor.selection.active;
  const line = editor.document.lineAt(position.line).text;
  const indentation = /^\s*/.exec(line)![0];
  const text = code
    .split('\n')
    .map((part, n) => (n === 0 ? part : indentation + part))
    .join('\n');
  const done = await editor.edit((edit) => edit.replace(editor.selection, text));
  return done ? text : null;
}

// ---------------------------------------------------------------------------------------------------------
// The interactive flow.

interface Item extends vscode.QuickPickItem {
  readonly id?: string;
}

const BACK = Symbol('back');

function setState(
  step: string,
  title: string,
  value: string,
  items: readonly Item[],
  active: Item | undefined,
  validation: string | null,
): void {
  quickState = {
    step,
    title,
    value,
    items: items.filter((item) => item.kind !== vscode.QuickPickItemKind.Separator).map((item) => item.label),
    active: active?.label ?? null,
    validation,
  };
}

/** One QuickPick step; resolves to the accepted item, BACK, or undefined when dismissed. */
function pick(
  step: string,
  title: string,
  items: Item[],
  placeholder: string,
  active?: Item,
): Promise<Item | typeof BACK | undefined> {
  return new Promise((resolve) => {
    const quick = vscode.window.createQuickPick<Item>();
    quick.title = title;
    quick.placeholder = placeholder;
    quick.items = items;
    quick.matchOnDescription = true;
    quick.matchOnDetail = true;
    if (active) quick.activeItems = [active];
    if (step !== 'mode') quick.buttons = [vscode.QuickInputButtons.Back];
    let settled = false;
    const finish = (value: Item | typeof BACK | undefined): void => {
      if (settled) return;
      settled = true;
      quickState = null;
      resolve(value);
      quick.dispose();
    };
    quick.onDidChangeActive((current) => setState(step, title, quick.value, items, current[0], null));
    quick.onDidTriggerButton(() => finish(BACK));
    quick.onDidAccept(() => finish(quick.activeItems[0] ?? quick.selectedItems[0]));
    quick.onDidHide(() => finish(undefined));
    setState(
      step,
      title,
      '',
      items,
      active ?? items.find((item) => item.kind !== vscode.QuickPickItemKind.Separator),
      null,
    );
    quick.show();
  });
}

/** One InputBox step with live validation; `check` returns an error, or a preview line to show as the prompt. */
function ask(
  step: string,
  title: string,
  value: string,
  prompt: string,
  check: (text: string) => { error: string } | { preview: string },
): Promise<string | typeof BACK | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = title;
    box.value = value;
    box.buttons = [vscode.QuickInputButtons.Back];
    let settled = false;
    const finish = (result: string | typeof BACK | undefined): void => {
      if (settled) return;
      settled = true;
      quickState = null;
      resolve(result);
      box.dispose();
    };
    const validate = (text: string): boolean => {
      const outcome = check(text);
      box.validationMessage = 'error' in outcome ? outcome.error : undefined;
      box.prompt = 'error' in outcome ? prompt : `${prompt}\n${outcome.preview}`;
      setState(step, title, text, [], undefined, 'error' in outcome ? outcome.error : null);
      return !('error' in outcome);
    };
    box.onDidChangeValue(validate);
    box.onDidTriggerButton(() => finish(BACK));
    box.onDidAccept(() => {
      if (validate(box.value)) finish(box.value);
    });
    box.onDidHide(() => finish(undefined));
    validate(value);
    box.show();
  });
}

async function runInteractive(): Promise<CalculatorResult | undefined> {
  const title = 'Conv Lens: Shape Calculator';
  const modes: Item[] = [
    {
      id: 'forward',
      label: '$(arrow-right) Output shape of a layer',
      detail: 'Framework, layer, parameters, input shape → output shape, formulas, code',
    },
    {
      id: 'inverse',
      label: '$(arrow-swap) Settings for a size',
      detail: 'I have 37×37 and need 75×75: the settings in every framework',
    },
  ];
  const mode = await pick('mode', title, modes, 'What do you want to know?');
  if (mode === undefined || mode === BACK) return undefined;
  return mode.id === 'inverse' ? inverseFlow(title) : forwardFlow(title);
}

async function forwardFlow(title: string): Promise<CalculatorResult | undefined> {
  // Each step can go back to the previous one, so the flow is a small state machine.
  let step = 0;
  let framework: CalculatorFramework = configuredFramework();
  let choice: LayerChoice | null = null;
  let values: BoundArgs | null = null;
  let inputText = '';
  for (;;) {
    if (step === 0) {
      const items: Item[] = [...CALCULATOR_FRAMEWORKS]
        .sort((a, b) => Number(b === framework) - Number(a === framework))
        .map((id) => ({ id, label: FRAMEWORK_NAMES[id], description: FRAMEWORK_IMPORTS[id] }));
      const picked = await pick(
        'framework',
        `${title} (1/4): framework`,
        items,
        'Which framework writes the layer?',
      );
      if (picked === undefined) return undefined;
      if (picked === BACK) return runInteractive();
      framework = picked.id as CalculatorFramework;
      step = 1;
    } else if (step === 1) {
      const items: Item[] = [];
      for (const rank of [2, 1, 3]) {
        items.push({ label: `${rank}-D`, kind: vscode.QuickPickItemKind.Separator });
        for (const kind of LAYER_KINDS) {
          const c: LayerChoice = { framework, kind, rank };
          const def = layerForChoice(c);
          if (!def.ok) continue;
          items.push({
            id: `${kind}:${rank}`,
            label: kindLabel(kind, rank),
            description: def.value.name,
            detail: def.value.summary,
          });
        }
      }
      const picked = await pick(
        'layer',
        `${title} (2/4): ${FRAMEWORK_NAMES[framework]} layer`,
        items,
        'Which layer?',
      );
      if (picked === undefined) return undefined;
      if (picked === BACK) {
        step = 0;
        continue;
      }
      const [kind, rank] = picked.id!.split(':');
      choice = { framework, kind: kind as LayerKind, rank: Number(rank) };
      const defaults = defaultValues(choice);
      if (!defaults.ok) {
        void vscode.window.showErrorMessage(defaults.error);
        continue;
      }
      values = defaults.value;
      step = 2;
    } else if (step === 2) {
      const next = await parametersStep(title, choice!, values!);
      if (next === undefined) return undefined;
      if (next === BACK) {
        step = 1;
        continue;
      }
      values = next;
      inputText = pyLiteral(defaultInput(framework, choice!.rank, guessChannels(choice!, values))).replace(
        /^\(|\)$/g,
        '',
      );
      step = 3;
    } else if (step === 3) {
      const c = choice!;
      const v = values!;
      const entered = await ask(
        'input',
        `${title} (4/4): input shape`,
        inputText,
        `Input shape (${inputLayout(c.framework, c.rank)}), e.g. ${inputText}`,
        (text) => {
          const shape = parseShape(text);
          if (!shape.ok) return { error: shape.error };
          const result = forwardResult(c, v, shape.value);
          return 'error' in result
            ? result
            : { preview: `→ ${result.outputText}   ${result.formulas.join(', ')}` };
        },
      );
      if (entered === undefined) return undefined;
      if (entered === BACK) {
        step = 2;
        continue;
      }
      inputText = entered;
      const shape = parseShape(entered);
      if (!shape.ok) continue;
      const result = forwardResult(c, v, shape.value);
      if ('error' in result) return result;
      const shown = await showForward(title, result);
      if (shown === BACK) continue;
      return shown;
    }
  }
}

/** Parameters: a list of every asked parameter (pick one to edit it), one-line editing, and Continue. */
async function parametersStep(
  title: string,
  choice: LayerChoice,
  start: BoundArgs,
): Promise<BoundArgs | typeof BACK | undefined> {
  let values = start;
  const lists = choice.framework === 'onnx';
  const check = (candidate: BoundArgs): string | null => {
    const result = calculateLayer(choice, candidate, probeInput(choice, candidate));
    return result.ok ? null : result.error;
  };
  for (;;) {
    const code = layerCode(choice, values);
    const params = calculatorParams(choice);
    const items: Item[] = [
      {
        id: 'continue',
        label: '$(check) Continue with these parameters',
        detail: code.ok ? code.value : code.error,
      },
      { id: 'line', label: '$(edit) Edit all on one line' },
      { label: 'Parameters', kind: vscode.QuickPickItemKind.Separator },
      ...params.map((param) => ({
        id: `param:${param.name}`,
        label: `${param.name} = ${pyLiteral(values[param.name] ?? null, lists)}`,
        description: param.required ? 'required' : `default ${param.prefill}`,
      })),
    ];
    const picked = await pick(
      'parameters',
      `${title} (3/4): parameters`,
      items,
      'Pick a parameter to change it, or continue',
    );
    if (picked === undefined || picked === BACK) return picked;
    if (picked.id === 'continue') {
      const problem = check(values);
      if (problem === null) return values;
      void vscode.window.showWarningMessage(problem);
      continue;
    }
    if (picked.id === 'line') {
      const line = params
        .map((param) => `${param.name}=${pyLiteral(values[param.name] ?? null, lists)}`)
        .join(', ');
      const entered = await ask(
        'parameters-line',
        `${title} (3/4): parameters on one line`,
        line,
        'Parameters as you would write them in the call',
        (text) => {
          const bound = bindParamLine(choice, text);
          if (!bound.ok) return { error: bound.error };
          const problem = check(bound.value);
          return problem === null ? { preview: layerCodeText(choice, bound.value) } : { error: problem };
        },
      );
      if (entered === undefined) return undefined;
      if (entered === BACK) continue;
      const bound = bindParamLine(choice, entered);
      if (bound.ok) values = bound.value;
      continue;
    }
    const name = picked.id!.slice('param:'.length);
    const entered = await ask(
      `param:${name}`,
      `${title} (3/4): ${name}`,
      pyLiteral(values[name] ?? null, lists),
      `${name} (a Python value: 2, (2, 2), 'same', None, True)`,
      (text) => {
        const value = parsePyValue(text);
        if (!value.ok) return { error: value.error };
        const bound = bindValues(choice, [], { ...values, [name]: value.value });
        if (!bound.ok) return { error: bound.error };
        const problem = check(bound.value);
        return problem === null ? { preview: layerCodeText(choice, bound.value) } : { error: problem };
      },
    );
    if (entered === undefined) return undefined;
    if (entered === BACK) continue;
    const value = parsePyValue(entered);
    if (value.ok) {
      const bound = bindValues(choice, [], { ...values, [name]: value.value });
      if (bound.ok) values = bound.value;
    }
  }
}

function layerCodeText(choice: LayerChoice, values: BoundArgs): string {
  const code = layerCode(choice, values);
  return code.ok ? code.value : code.error;
}

async function showForward(
  title: string,
  result: ForwardResult,
): Promise<ForwardResult | typeof BACK | undefined> {
  const summary = [
    `${result.layer}: ${pyLiteral(result.input)} → ${result.outputText}`,
    ...result.formulas,
    ...(result.weight ? [`weight ${pyLiteral(result.weight)}`] : []),
    `params ${result.params.toLocaleString('en-US')}, MACs ${result.macs.toLocaleString('en-US')}`,
    ...result.notes,
  ];
  const items: Item[] = [
    { id: 'insert', label: '$(insert) Insert at the cursor', detail: result.code },
    { id: 'copy', label: '$(copy) Copy the code', detail: result.code },
    { id: 'copy-answer', label: '$(copy) Copy the answer', detail: summary.join(' · ') },
    { label: 'Answer', kind: vscode.QuickPickItemKind.Separator },
    ...summary.map((line) => ({ id: 'info', label: line })),
  ];
  for (;;) {
    const picked = await pick(
      'result',
      `${title}: ${result.outputText}`,
      items,
      `${pyLiteral(result.input)} → ${result.outputText}`,
    );
    if (picked === undefined) return result;
    if (picked === BACK) return BACK;
    if (picked.id === 'insert') {
      const inserted = await insertAtCursor(result.code);
      if (inserted === null)
        void vscode.window.showWarningMessage(
          'No editor is open to insert into; the code is on the clipboard.',
        );
      if (inserted === null) await vscode.env.clipboard.writeText(result.code);
      return { ...result, inserted };
    }
    if (picked.id === 'copy') {
      await vscode.env.clipboard.writeText(result.code);
      return result;
    }
    if (picked.id === 'copy-answer') {
      await vscode.env.clipboard.writeText(summary.join('\n'));
      return result;
    }
  }
}

async function inverseFlow(title: string): Promise<CalculatorResult | undefined> {
  let sizesText = '37x37 -> 75x75';
  for (;;) {
    const sizes = await ask(
      'sizes',
      `${title} (1/2): from → to`,
      sizesText,
      'The size you have and the size you need, per dimension: 37x37 -> 75x75',
      (text) => {
        const pair = parseSizePair(text);
        return pair.ok
          ? { preview: `${pyLiteral(pair.value.from)} → ${pyLiteral(pair.value.to)}` }
          : { error: pair.error };
      },
    );
    if (sizes === undefined) return undefined;
    if (sizes === BACK) return runInteractive();
    sizesText = sizes;
    const pair = parseSizePair(sizes);
    if (!pair.ok) continue;
    const fixedText = await ask(
      'fixed',
      `${title} (2/2): fixed settings (optional)`,
      '',
      'Leave empty to search, or fix some: kernel_size=4, stride=2 (padding, dilation too)',
      (text) => {
        const fixed = fixedFromLine(text);
        if (!fixed.ok) return { error: fixed.error };
        const answer = inverseSettings({ ...pair.value, ...fixed.value });
        if (!answer.ok) return { error: answer.error };
        return { preview: `${answer.value.settings.filter((s) => s.reachable).length} settings found` };
      },
    );
    if (fixedText === undefined) return undefined;
    if (fixedText === BACK) continue;
    const fixed = fixedFromLine(fixedText);
    if (!fixed.ok) continue;
    const answer = inverseSettings({ ...pair.value, ...fixed.value });
    if (!answer.ok) return { mode: 'inverse', error: answer.error };
    const items: Item[] = [];
    let lastFramework = '';
    answer.value.settings.forEach((setting, index) => {
      if (setting.framework !== lastFramework) {
        items.push({ label: frameworkTitle(setting.framework), kind: vscode.QuickPickItemKind.Separator });
        lastFramework = setting.framework;
      }
      items.push(
        setting.reachable
          ? {
              id: String(index),
              label: setting.code!.split('\n').join('  ⏎  '),
              description: setting.via,
              detail: [...setting.formulas, ...setting.notes].join(' · '),
            }
          : { id: 'info', label: `$(circle-slash) ${setting.via}`, detail: setting.reason ?? '' },
      );
    });
    const result: InverseResult = { mode: 'inverse', ...answer.value, inserted: null };
    for (;;) {
      const picked = await pick(
        'inverse-result',
        `${title}: ${pyLiteral(pair.value.from)} → ${pyLiteral(pair.value.to)}`,
        items,
        'Pick a setting to insert it at the cursor',
      );
      if (picked === undefined) return result;
      if (picked === BACK) break;
      if (picked.id === 'info') continue;
      const code = answer.value.settings[Number(picked.id)]!.code!;
      const inserted = await insertAtCursor(code);
      if (inserted === null) await vscode.env.clipboard.writeText(code);
      return { ...result, inserted };
    }
  }
}

function frameworkTitle(framework: string): string {
  const names: Record<string, string> = {
    pytorch: 'PyTorch',
    keras: 'Keras',
    tensorflow: 'TensorFlow (tf.nn)',
    flax: 'Flax / JAX',
    jax: 'JAX',
    onnx: 'ONNX',
  };
  return names[framework] ?? framework;
}
