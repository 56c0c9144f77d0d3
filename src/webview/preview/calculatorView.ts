/// <reference lib="dom" />
/**
 * The preview panel's Calculator section: the Shape Calculator command (src/extension/calculator.ts) as a form.
 * It calls the pure core (src/core/codegen.ts) directly in the page, so every keystroke recomputes without a
 * round trip to the host; only "Insert at cursor" talks to the host, through the protocol's `insertCode`.
 *
 * Forward mode: framework, layer kind and rank, one field per parameter the core asks for (prefilled with its
 * prefills), the input shape, and the result: output shape, per-dimension formulas, weight and parameter count,
 * and the generated code. Inverse mode: from → to sizes (optional kernel/stride) and each framework's settings.
 * All messages shown are the core's own, so the form and the command say the same things.
 */
import {
  CALCULATOR_FRAMEWORKS,
  type CalculatorFramework,
  calculateLayer,
  calculatorParams,
  bindValues,
  defaultInput,
  FRAMEWORK_IMPORTS,
  FRAMEWORK_NAMES,
  inputLayout,
  inverseSettings,
  LAYER_KINDS,
  type LayerChoice,
  type LayerKind,
  parsePyValue,
  parseSizePair,
  type PerDimValue,
  probeInput,
  pyLiteral,
} from '../../core/codegen';
import { layerReport, parseShape } from '../../core/describe';
import type { PyValue } from '../../core/arithmetic/types';

/** What the section needs from the page: a way to ask the host to insert code at the editor's cursor. */
export interface CalculatorHost {
  insertCode(code: string): void;
}

type Mode = 'forward' | 'inverse';

const KIND_NAMES: Readonly<Record<LayerKind, string>> = {
  conv: 'Conv',
  convTranspose: 'ConvTranspose',
  maxPool: 'MaxPool',
  avgPool: 'AvgPool',
};

/** Names for the inverse answers' frameworks (the core also answers for raw TensorFlow ops). */
const SETTING_NAMES: Readonly<Record<string, string>> = {
  ...FRAMEWORK_NAMES,
  keras: 'Keras',
  tensorflow: 'TensorFlow',
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * Copies text to the clipboard: the asynchronous clipboard API where the webview grants it, else the older
 * selection-and-execCommand way, which works in every Chromium webview.
 */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', { 'aria-hidden': 'true', class: 'calc-offscreen' });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
}

/** A code block with Copy and Insert buttons; `status` reports what the buttons did. */
function codeBlock(code: string, host: CalculatorHost, testId: string): HTMLElement {
  const status = el('span', { class: 'calc-status', role: 'status' });
  const copy = el('button', { type: 'button', 'data-testid': `${testId}-copy` }, 'Copy');
  copy.addEventListener('click', () => {
    void copyText(code).then((done) => {
      status.textContent = done ? 'Copied.' : 'The clipboard refused; select the code and copy it by hand.';
    });
  });
  const insert = el('button', { type: 'button', 'data-testid': `${testId}-insert` }, 'Insert at cursor');
  insert.title = 'Insert this code at the cursor of the last active editor';
  insert.addEventListener('click', () => {
    host.insertCode(code);
    status.textContent = 'Sent to the editor.';
  });
  return el(
    'div',
    { class: 'calc-code-block' },
    el('pre', { class: 'calc-code', 'data-testid': testId }, el('code', {}, code)),
    el('div', { class: 'calc-actions' }, copy, insert, status),
  );
}

/** Reads an optional per-dimension integer (`4` or `(4, 4)`) for the inverse mode; '' means not given. */
function readPerDim(text: string, name: string): { value?: PerDimValue; error?: string } {
  if (text.trim() === '') return {};
  const parsed = parsePyValue(text);
  if (!parsed.ok) return { error: `${name}: ${parsed.error}` };
  const value: PyValue = parsed.value;
  const isSize = (v: PyValue): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (isSize(value)) return { value };
  if (Array.isArray(value) && value.length >= 1 && (value as readonly PyValue[]).every(isSize)) {
    return { value: value as readonly number[] };
  }
  return {
    error: `${name} must be a whole number of at least 1 or a tuple of them, e.g. 4 or (4, 4); got ${text.trim()}.`,
  };
}

/** Builds the Calculator section; the page appends the returned element where it wants it. */
export function createCalculatorView(host: CalculatorHost): HTMLElement {
  let mode: Mode = 'forward';
  let choice: LayerChoice = { framework: 'pytorch', kind: 'convTranspose', rank: 2 };
  /** The parameter fields' texts, per parameter name, for the current choice. */
  let texts: Record<string, string> = {};
  let inputText = '';

  const section = el('details', { class: 'calculator', 'data-testid': 'calculator' });
  const summary = el('summary', {}, 'Calculator');
  const tabs = el('div', { class: 'calc-tabs', role: 'tablist' });
  const forwardTab = el(
    'button',
    { type: 'button', role: 'tab', 'data-testid': 'calc-tab-forward' },
    'Forward',
  );
  const inverseTab = el(
    'button',
    { type: 'button', role: 'tab', 'data-testid': 'calc-tab-inverse' },
    'Inverse',
  );
  tabs.append(forwardTab, inverseTab);
  const forwardPane = el('div', { class: 'calc-pane', role: 'tabpanel', 'data-testid': 'calc-forward' });
  const inversePane = el('div', { class: 'calc-pane', role: 'tabpanel', 'data-testid': 'calc-inverse' });
  section.append(summary, tabs, forwardPane, inversePane);

  const showMode = (next: Mode): void => {
    mode = next;
    forwardTab.setAttribute('aria-selected', String(mode === 'forward'));
    inverseTab.setAttribute('aria-selected', String(mode === 'inverse'));
    forwardPane.hidden = mode !== 'forward';
    inversePane.hidden = mode !== 'inverse';
  };
  forwardTab.addEventListener('click', () => showMode('forward'));
  inverseTab.addEventListener('click', () => showMode('inverse'));

  // -------------------------------------------------------------------------------------------------------
  // Forward mode.

  const frameworkBox = el('select', { 'aria-label': 'framework', 'data-testid': 'calc-framework' });
  for (const framework of CALCULATOR_FRAMEWORKS)
    frameworkBox.append(el('option', { value: framework }, FRAMEWORK_NAMES[framework]));
  const kindBox = el('select', { 'aria-label': 'layer kind', 'data-testid': 'calc-kind' });
  for (const kind of LAYER_KINDS) kindBox.append(el('option', { value: kind }, KIND_NAMES[kind]));
  const rankBox = el('select', { 'aria-label': 'rank', 'data-testid': 'calc-rank' });
  for (const rank of [1, 2, 3]) rankBox.append(el('option', { value: String(rank) }, `${rank}-D`));
  const paramsBox = el('div', { class: 'calc-params', 'data-testid': 'calc-params' });
  const inputBox = el('input', { type: 'text', 'aria-label': 'input shape', 'data-testid': 'calc-input' });
  const inputHint = el('span', { class: 'calc-hint' });
  const paramError = el('div', { class: 'error', role: 'alert', 'data-testid': 'calc-error' });
  const result = el('div', { class: 'calc-result', 'data-testid': 'calc-result' });

  forwardPane.append(
    el(
      'div',
      { class: 'controls' },
      el('label', { class: 'field' }, 'framework ', frameworkBox),
      el('label', { class: 'field' }, 'layer ', kindBox),
      el('label', { class: 'field' }, 'rank ', rankBox),
    ),
    paramsBox,
    el('div', { class: 'controls' }, el('label', { class: 'field' }, 'input shape ', inputBox), inputHint),
    paramError,
    result,
  );

  /** New fields for a new choice: the core's parameter list, each prefilled; a typical input in its layout. */
  const rebuildFields = (): void => {
    frameworkBox.value = choice.framework;
    kindBox.value = choice.kind;
    rankBox.value = String(choice.rank);
    const params = calculatorParams(choice);
    texts = Object.fromEntries(params.map((param) => [param.name, param.prefill]));
    paramsBox.replaceChildren();
    for (const param of params) {
      const input = el('input', {
        type: 'text',
        value: param.prefill,
        'aria-label': param.name,
        'data-param': param.name,
        spellcheck: 'false',
      });
      input.addEventListener('input', () => {
        texts[param.name] = input.value;
        recompute();
      });
      const label = el(
        'label',
        { class: 'field calc-param' },
        el('span', { class: 'calc-param-name' }, param.name),
        input,
      );
      label.title = param.required ? 'required' : `default ${param.prefill}`;
      if (param.required) label.classList.add('required');
      paramsBox.append(label);
    }
    const inChannels = Number(texts['in_channels'] ?? '64');
    inputText = `(${defaultInput(choice.framework, choice.rank, Number.isInteger(inChannels) ? inChannels : 64).join(', ')})`;
    inputBox.value = inputText;
    inputHint.textContent = inputLayout(choice.framework, choice.rank);
    recompute();
  };

  const markInvalid = (names: ReadonlySet<string>): void => {
    for (const input of paramsBox.querySelectorAll<HTMLInputElement>('input[data-param]')) {
      const invalid = names.has(input.dataset['param'] ?? '');
      input.classList.toggle('invalid', invalid);
      input.setAttribute('aria-invalid', String(invalid));
    }
    inputBox.classList.toggle('invalid', names.has('input shape'));
  };

  const showProblem = (message: string, fields: ReadonlySet<string>): void => {
    paramError.textContent = message;
    markInvalid(fields);
    result.classList.add('stale');
  };

  /** Which parameter a core message is about: the first parameter name it mentions after the layer's name. */
  const blamed = (message: string): Set<string> => {
    const body = message.replace(/^[\w.]+:\s*/, '');
    let best: { name: string; at: number } | null = null;
    for (const name of Object.keys(texts)) {
      const at = new RegExp(`\\b${name}\\b`).exec(body)?.index;
      if (at !== undefined && (!best || at < best.at)) best = { name, at };
    }
    return new Set(best ? [best.name] : []);
  };

  function recompute(): void {
    const keyword: Record<string, PyValue> = {};
    for (const [name, text] of Object.entries(texts)) {
      const parsed = parsePyValue(text);
      if (!parsed.ok) return showProblem(`${name}: ${parsed.error}`, new Set([name]));
      keyword[name] = parsed.value;
    }
    const values = bindValues(choice, [], keyword);
    if (!values.ok) return showProblem(values.error, blamed(values.error));
    // The parameters alone first, on an input large enough for any sane kernel, so a parameter's problem is
    // blamed on the parameter and not on the input shape.
    const probe = calculateLayer(choice, values.value, probeInput(choice, values.value));
    if (!probe.ok) return showProblem(probe.error, blamed(probe.error));
    const shape = parseShape(inputBox.value);
    if (!shape.ok) return showProblem(shape.error, new Set(['input shape']));
    const calculated = calculateLayer(choice, values.value, shape.value);
    if (!calculated.ok) return showProblem(calculated.error, new Set(['input shape']));
    paramError.textContent = '';
    markInvalid(new Set());
    result.classList.remove('stale');
    const report = layerReport(calculated.value.analysis);
    const rows: [string, string, string][] = [
      ['Input', report.inputText, 'calc-in'],
      ['Output', report.outputText, 'calc-output'],
      ['Weight', report.weightText ?? '—', 'calc-weight'],
      ['Params', report.params.toLocaleString('en-US'), 'calc-param-count'],
      ['MACs', report.macs.toLocaleString('en-US'), 'calc-macs'],
    ];
    result.replaceChildren(
      el(
        'dl',
        { class: 'calc-facts' },
        ...rows.flatMap(([term, value, testId]) => [
          el('dt', {}, term),
          el('dd', { 'data-testid': testId }, value),
        ]),
      ),
      el(
        'ul',
        { class: 'calc-formulas', 'data-testid': 'calc-formulas' },
        ...report.formulas.map((formula) => el('li', {}, formula)),
      ),
      ...(report.notes.length > 0
        ? [el('ul', { class: 'calc-notes' }, ...report.notes.map((note) => el('li', {}, note)))]
        : []),
      el('div', { class: 'calc-import' }, FRAMEWORK_IMPORTS[choice.framework]),
      codeBlock(calculated.value.code, host, 'calc-code'),
    );
  }

  const changeChoice = (change: Partial<LayerChoice>): void => {
    const next = { ...choice, ...change };
    // Flax pools with functions the calculator does not write; say so instead of showing an empty form.
    if (next.framework === 'flax' && (next.kind === 'maxPool' || next.kind === 'avgPool')) {
      choice = next;
      frameworkBox.value = next.framework;
      kindBox.value = next.kind;
      paramsBox.replaceChildren();
      texts = {};
      result.replaceChildren();
      showProblem(
        'Flax pools with the functions nn.max_pool / nn.avg_pool, which the calculator does not cover yet; ' +
          'pick Conv or ConvTranspose, or another framework.',
        new Set(),
      );
      return;
    }
    choice = next;
    rebuildFields();
  };
  frameworkBox.addEventListener('change', () =>
    changeChoice({ framework: frameworkBox.value as CalculatorFramework }),
  );
  kindBox.addEventListener('change', () => changeChoice({ kind: kindBox.value as LayerKind }));
  rankBox.addEventListener('change', () => changeChoice({ rank: Number(rankBox.value) }));
  inputBox.addEventListener('input', () => recompute());

  // -------------------------------------------------------------------------------------------------------
  // Inverse mode.

  const sizesBox = el('input', {
    type: 'text',
    value: '37 -> 75',
    'aria-label': 'from and to sizes',
    'data-testid': 'calc-sizes',
    placeholder: '37x37 -> 75x75',
  });
  const kernelBox = el('input', {
    type: 'text',
    'aria-label': 'kernel (optional)',
    'data-testid': 'calc-inverse-kernel',
    placeholder: 'any',
  });
  const strideBox = el('input', {
    type: 'text',
    'aria-label': 'stride (optional)',
    'data-testid': 'calc-inverse-stride',
    placeholder: 'any',
  });
  const inverseError = el('div', { class: 'error', role: 'alert', 'data-testid': 'calc-inverse-error' });
  const answers = el('div', { class: 'calc-answers', 'data-testid': 'calc-answers' });
  inversePane.append(
    el(
      'div',
      { class: 'controls' },
      el('label', { class: 'field' }, 'from → to ', sizesBox),
      el('label', { class: 'field' }, 'kernel ', kernelBox),
      el('label', { class: 'field' }, 'stride ', strideBox),
    ),
    inverseError,
    answers,
  );

  const recomputeInverse = (): void => {
    const fail = (message: string): void => {
      inverseError.textContent = message;
      answers.classList.add('stale');
    };
    const sizes = parseSizePair(sizesBox.value);
    if (!sizes.ok) return fail(sizes.error);
    const kernel = readPerDim(kernelBox.value, 'kernel');
    if (kernel.error) return fail(kernel.error);
    const stride = readPerDim(strideBox.value, 'stride');
    if (stride.error) return fail(stride.error);
    const answer = inverseSettings({
      ...sizes.value,
      ...(kernel.value !== undefined ? { kernel: kernel.value } : {}),
      ...(stride.value !== undefined ? { stride: stride.value } : {}),
    });
    if (!answer.ok) return fail(answer.error);
    inverseError.textContent = '';
    answers.classList.remove('stale');
    const { direction, from, to } = answer.value;
    answers.replaceChildren(
      el(
        'div',
        { class: 'calc-hint' },
        `${pyLiteral(from)} → ${pyLiteral(to)}: ${direction === 'transposed' ? 'a transposed conv' : 'a conv'}`,
      ),
      ...answer.value.settings.map((setting) => {
        const name = SETTING_NAMES[setting.framework] ?? setting.framework;
        const card = el(
          'div',
          {
            class: `calc-answer${setting.reachable ? '' : ' unreachable'}`,
            'data-testid': 'calc-answer',
            'data-framework': setting.framework,
          },
          el('div', { class: 'calc-answer-head' }, el('strong', {}, name), ` via ${setting.via}`),
        );
        if (setting.reachable && setting.code) {
          card.append(
            el('div', { class: 'calc-hint' }, setting.formulas.join(', ')),
            codeBlock(setting.code, host, `calc-answer-code-${setting.framework}`),
          );
        } else {
          card.append(el('div', { class: 'calc-reason' }, setting.reason ?? 'Not reachable.'));
        }
        if (setting.notes.length > 0) {
          card.append(el('ul', { class: 'calc-notes' }, ...setting.notes.map((note) => el('li', {}, note))));
        }
        return card;
      }),
    );
  };
  for (const box of [sizesBox, kernelBox, strideBox]) box.addEventListener('input', recomputeInverse);

  showMode('forward');
  rebuildFields();
  recomputeInverse();
  return section;
}
