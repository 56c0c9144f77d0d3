/**
 * Analysis of one open model file for the editor: which layers it builds, what shapes reach each of them and
 * from where, the shape after each forward line, and what is wrong. Pure: the extension host turns the result
 * into hovers, inlay hints, diagnostics and quick fixes.
 *
 * Where input shapes come from, in this order:
 *   1. the file's own example code, run as `__main__` (`model(torch.randn(1, 3, 572, 572))`,
 *      `summary(model, (3, 224, 224))`, `keras.Input(shape=...)`);
 *   2. an annotation comment above a class: `# convlens: input (1, 3, 256, 256)`, optionally followed by
 *      `entry UNet(n_channels=3)` to say how to build it (several inputs: `input (1, 3, 64, 64), (1, 10)`);
 *   3. a workspace setting naming the class and its input shape;
 *   4. otherwise each module class is built with its defaults and run on a tensor of unknown size, so formulas
 *      and argument errors still show.
 */
import { formatFraction, receptiveField } from '../core/arithmetic/receptive';
import { dimFormula, dimNames } from '../core/arithmetic/symbolic';

import type { DimRule } from '../core/arithmetic/types';
import { parseShape } from '../core/describe';
import { BudgetExceeded, type Budget, Interpreter, type ModuleLoader } from './interpreter';
import type { LayerCall } from './layers';
import { type ArgumentSuggestion, Library } from './library';
import { SourceFile, type SyntaxNode, children } from './syntax';
import {
  type Dim,
  type Framework,
  type LayerValue,
  type Value,
  Scope,
  formatDims,
  tensor,
  inputTensor,
} from './values';

export const EDITOR_BUDGET: Budget = { steps: 400_000, depth: 60, loopIterations: 20_000, milliseconds: 400 };

export interface LayerApplication {
  readonly input: readonly Dim[] | null;
  readonly output: readonly Dim[] | null;
  readonly macs: number | null;
  /** Where the input shape came from, in words. */
  readonly source: string;
  /** The call that applied the layer (`self.conv(x)`), when it stands in this file. */
  readonly callFrom: number | null;
  readonly callTo: number | null;
}

/** Everything known about one layer constructor call in the document. */
export interface LayerSiteReport {
  readonly from: number;
  readonly to: number;
  /** `nn.ConvTranspose2d`, as the framework names the class. */
  readonly className: string;
  readonly framework: Framework;
  /** The core's qualified name (`torch.nn.ConvTranspose2d`), or null for a layer the core does not model. */
  readonly qualifiedName: string | null;
  /** One formula per spatial dimension (`H_out = 2·H_in`), when the arguments fix them. */
  readonly formulas: string[];
  readonly weightShape: number[] | null;
  readonly params: number | null;
  /** Every distinct application seen, in order. */
  readonly applications: LayerApplication[];
  /**
   * The receptive field of this layer's outputs in the model input, per spatial dimension, e.g.
   * `11×11 (jump 4×4)`; null when the path from the input is not known.
   */
  readonly receptiveField: string | null;
  readonly notes: string[];
}

export interface QuickFix {
  readonly title: string;
  readonly from: number;
  readonly to: number;
  readonly newText: string;
}

export interface DocumentDiagnostic {
  readonly from: number;
  readonly to: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: string;
  readonly message: string;
  readonly fix?: QuickFix;
}

export interface ShapeHint {
  /** Offset where the hint goes: the end of the statement. */
  readonly at: number;
  readonly text: string;
}

export interface DocumentAnalysis {
  readonly layers: LayerSiteReport[];
  readonly diagnostics: DocumentDiagnostic[];
  readonly hints: ShapeHint[];
  /** Why the analysis is incomplete, when it is. */
  readonly problems: string[];
}

export interface DocumentOptions {
  readonly loader?: ModuleLoader | null;
  readonly budget?: Budget;
  /** Input shapes by class name, from the workspace settings. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

const ANNOTATION = /#\s*convlens:\s*input\s+(.+?)(?:\s+entry\s+(.+))?\s*$/;

export function analyzeDocument(file: SourceFile, options: DocumentOptions = {}): DocumentAnalysis {
  const library = new Library();
  const interp = new Interpreter(library, options.loader ?? null, options.budget ?? EDITOR_BUDGET);
  const problems: string[] = [];
  const run = (what: () => void) => {
    try {
      what();
    } catch (error) {
      if (!(error instanceof BudgetExceeded)) throw error;
      if (!problems.includes(error.message)) problems.push(error.message);
    }
  };
  let moduleScope: Scope | null = null;
  run(() => {
    moduleScope = interp.runModule(file, true);
  });
  const classes = moduleClasses(file);
  const owners = new Map<number, string | null>();
  const ownerOf = (call: LayerCall) => {
    const from = call.layer.site.from;
    if (!owners.has(from)) owners.set(from, ownerClass(call, file));
    return owners.get(from)!;
  };

  // Annotations and settings.
  for (const { name, node } of classes) {
    const annotation = annotationAbove(file, node);
    const fromSettings = options.inputShapes?.[name];
    if (!annotation && !fromSettings) continue;
    const inputs = annotation ? annotation.inputs : [fromSettings!.map((d) => d as Dim)];
    const entry = annotation?.entry ?? `${name}()`;
    library.inputSource = annotation
      ? `the annotation above class ${name} (line ${file.position(annotation.at).line})`
      : `the setting convLens.inputShapes for '${name}'`;
    run(() => callEntry(interp, moduleScope, entry, inputs));
  }
  // Every other module class: built with defaults, run on an input of unknown size.
  const exercised = new Set<string>();
  for (const call of library.calls) {
    if (call.input !== null && call.layer.site.file === file) exercised.add(ownerOf(call) ?? '');
  }
  for (const { name } of classes) {
    if (exercised.has(name)) continue;
    library.inputSource = 'no known input shape (formulas only)';
    run(() => callEntry(interp, moduleScope, `${name}()`, null));
  }

  return {
    layers: layerReports(library, file),
    diagnostics: documentDiagnostics(library, file),
    hints: shapeHints(library, file),
    problems,
  };
}

/** Builds the entry in the module scope and calls it on tensors of the given shapes (or of unknown shape). */
function callEntry(
  interp: Interpreter,
  moduleScope: Scope | null,
  entry: string,
  inputs: (readonly Dim[])[] | null,
): void {
  if (!moduleScope) return;
  const entryFile = new SourceFile('<entry>', entry);
  const statement = entryFile.tree.topNode.firstChild;
  const expression = statement?.firstChild;
  if (!expression || statement?.name !== 'ExpressionStatement') return;
  const model = interp.eval(expression, new Scope(moduleScope), entryFile);
  if (model.kind === 'unknown') return;
  const framework = frameworkOf(model);
  const args = inputs ? inputs.map((shape) => inputTensor(shape, framework)) : [tensor(null, framework)];
  interp.call(model, { positional: args, keyword: new Map(), site: null });
}

function frameworkOf(model: Value): Framework {
  if (model.kind === 'object') {
    const base = model.cls.bases.find((b) => b.kind === 'namespace');
    if (base?.kind === 'namespace' && base.path.startsWith('flax')) return 'flax';
    if (base?.kind === 'namespace' && base.path.startsWith('keras')) return 'keras';
  }
  return 'torch';
}

/** Top-level classes of the file that look like modules (they have a base class). */
function moduleClasses(file: SourceFile): { name: string; node: SyntaxNode }[] {
  const found: { name: string; node: SyntaxNode }[] = [];
  for (const statement of children(file.tree.topNode)) {
    const node = statement.name === 'DecoratedStatement' ? statement.getChild('ClassDefinition') : statement;
    if (node?.name !== 'ClassDefinition' || !node.getChild('ArgList')) continue;
    const nameNode = node.getChild('VariableName');
    if (nameNode) found.push({ name: file.textOf(nameNode), node: statement });
  }
  return found;
}

/** The class whose methods created the layer of a call, when it is defined in this file. */
function ownerClass(call: LayerCall, file: SourceFile): string | null {
  if (call.layer.site.file !== file) return null;
  for (let node: SyntaxNode | null = file.tree.resolve(call.layer.site.from, 1); node; node = node.parent) {
    if (node.name === 'ClassDefinition') {
      const nameNode = node.getChild('VariableName');
      return nameNode ? file.textOf(nameNode) : null;
    }
  }
  return null;
}

/** `# convlens: input (1, 3, 256, 256) [entry UNet(3)]` on the lines right above a class. */
function annotationAbove(
  file: SourceFile,
  classNode: SyntaxNode,
): { inputs: Dim[][]; entry: string | null; at: number } | null {
  // Walk back line by line from the class (at most 5 lines: blank lines and other comments may stand between).
  let lineEnd = file.text.lastIndexOf('\n', classNode.from - 1);
  for (let looked = 0; lineEnd > 0 && looked < 5; looked++) {
    const lineStart = file.text.lastIndexOf('\n', lineEnd - 1) + 1;
    const line = file.text.slice(lineStart, lineEnd);
    lineEnd = lineStart - 1;
    const trimmed = line.trim();
    if (trimmed === '' || (trimmed.startsWith('#') && !ANNOTATION.test(trimmed))) continue;
    const match = ANNOTATION.exec(trimmed);
    if (!match) return null;
    const shapes = [...match[1]!.matchAll(/[([]([^)\]]*)[)\]]/g)].map((m) => parseShape(m[1]!));
    if (shapes.length === 0 || shapes.some((shape) => !shape.ok)) return null;
    return {
      inputs: shapes.map((shape) => (shape.ok ? shape.value : [])),
      entry: match[2]?.trim() ?? null,
      at: lineStart + line.indexOf('#'),
    };
  }
  return null;
}

function layerReports(library: Library, file: SourceFile): LayerSiteReport[] {
  const bySite = new Map<number, { layer: LayerValue; calls: LayerCall[] }>();
  for (const layer of library.layers) {
    if (layer.site.file !== file) continue;
    if (!bySite.has(layer.site.from)) bySite.set(layer.site.from, { layer, calls: [] });
  }
  for (const call of library.calls) {
    if (call.layer.site.file !== file) continue;
    const entry = bySite.get(call.layer.site.from) ?? { layer: call.layer, calls: [] };
    entry.calls.push(call);
    bySite.set(call.layer.site.from, entry);
  }
  const reports: LayerSiteReport[] = [];
  for (const { layer, calls } of bySite.values()) {
    const dims = calls.find((call) => call.dims)?.dims ?? null;
    const names = dims ? dimNames(dims.length) : [];
    const known = calls.find((call) => call.shape);
    const applications: LayerApplication[] = [];
    const seen = new Set<string>();
    for (const call of calls) {
      if (call.input === null && call.output === null) continue;
      const key = JSON.stringify([call.input, call.output, call.callSite?.from ?? null]);
      if (seen.has(key)) continue;
      seen.add(key);
      const here = call.callSite?.file === file;
      applications.push({
        input: call.input,
        output: call.output,
        macs: call.shape?.macs ?? null,
        source: call.source,
        callFrom: here ? call.callSite!.from : null,
        callTo: here ? call.callSite!.to : null,
      });
    }
    reports.push({
      from: layer.site.from,
      to: layer.site.to,
      className: layer.className,
      framework: layer.framework,
      qualifiedName: layer.def?.name ?? null,
      formulas: dims ? dims.map((rule: DimRule, i: number) => dimFormula(rule, names[i]!)) : [],
      weightShape: known?.shape?.weightShape ?? null,
      params: known?.shape?.params ?? null,
      applications,
      notes: known?.shape?.notes ?? [],
      receptiveField: describeField(calls.find((call) => call.history && call.history.length > 0)?.history),
    });
  }
  return reports.sort((a, b) => a.from - b.from);
}

function documentDiagnostics(library: Library, file: SourceFile): DocumentDiagnostic[] {
  const diagnostics: DocumentDiagnostic[] = [];
  const seen = new Set<string>();
  // A fix edits a layer's constructor, so it goes on the diagnostic placed there, not on the call in forward.
  const constructorSites = new Set(
    library.layers.filter((l) => l.site.file === file).map((l) => l.site.from),
  );
  for (const d of library.diagnostics) {
    if (d.site.file !== file) continue;
    const key = `${d.site.from}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push({
      from: d.site.from,
      to: d.site.to,
      severity: d.severity,
      code: d.code,
      message: d.message,
      fix:
        (d.suggestion && d.suggestion.layer.file === file ? argumentFix(file, d.suggestion) : undefined) ??
        (constructorSites.has(d.site.from) ? linearFix(file, d.site.from, d.message) : undefined),
    });
  }
  // Checkerboard risk and similar notes, once per layer site, as information.
  for (const call of library.calls) {
    if (call.layer.site.file !== file || !call.shape) continue;
    for (const note of call.shape.notes) {
      if (!note.includes('checkerboard')) continue;
      const key = `${call.layer.site.from}:${note}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push({
        from: call.layer.site.from,
        to: call.layer.site.to,
        severity: 'info',
        code: 'checkerboard',
        message: note,
      });
    }
  }
  return diagnostics;
}

/** Sets one keyword argument of a constructor call: replaces its value, or adds it before the closing paren. */
function argumentFix(file: SourceFile, suggestion: ArgumentSuggestion): QuickFix | undefined {
  let node: SyntaxNode | null = file.tree.resolveInner(suggestion.layer.from, 1);
  while (node && !(node.name === 'CallExpression' && node.from === suggestion.layer.from)) node = node.parent;
  const argList = node?.getChild('ArgList');
  if (!argList) return undefined;
  const args = children(argList);
  const keyword = args.findIndex(
    (a, i) =>
      a.name === 'VariableName' && file.textOf(a) === suggestion.param && args[i + 1]?.name === 'AssignOp',
  );
  const value = keyword >= 0 ? args[keyword + 2] : undefined;
  if (value) return { title: suggestion.title, from: value.from, to: value.to, newText: suggestion.value };
  const close = args[args.length - 1];
  if (close?.name !== ')') return undefined;
  const hasArguments = args.some((a) => !['(', ')', ','].includes(a.name));
  const trailingComma = args[args.length - 2]?.name === ',';
  const separator = !hasArguments || trailingComma ? '' : ', ';
  return {
    title: suggestion.title,
    from: close.from,
    to: close.from,
    newText: `${separator}${suggestion.param}=${suggestion.value}`,
  };
}

/** "set in_features=3136" on a Linear: replace its first argument with the number. */
function linearFix(file: SourceFile, from: number, message: string): QuickFix | undefined {
  const match = /set in_features=(\d+)/i.exec(message);
  if (!match) return undefined;
  const call = file.tree.resolveInner(from, 1);
  let node: SyntaxNode | null = call;
  while (node && !(node.name === 'CallExpression' && node.from === from)) node = node.parent;
  const argList = node?.getChild('ArgList');
  if (!argList) return undefined;
  const args = children(argList).filter((c) => !['(', ')', ','].includes(c.name));
  const first = args[0];
  if (!first) return undefined;
  if (first.name === 'VariableName' && args[1]?.name === 'AssignOp') {
    const keywordIndex = args.findIndex(
      (a, i) =>
        a.name === 'VariableName' && file.textOf(a) === 'in_features' && args[i + 1]?.name === 'AssignOp',
    );
    const valueNode = keywordIndex >= 0 ? args[keywordIndex + 2] : undefined;
    if (!valueNode) return undefined;
    return {
      title: `Set in_features=${match[1]}`,
      from: valueNode.from,
      to: valueNode.to,
      newText: match[1]!,
    };
  }
  return { title: `Set in_features=${match[1]}`, from: first.from, to: first.to, newText: match[1]! };
}

/** `11×11 (jump 4×4)` from the rules per spatial dimension (receptive.ts), or null. */
function describeField(history: readonly (readonly DimRule[])[] | undefined): string | null {
  if (!history || history.length === 0) return null;
  const fields: string[] = [];
  const jumps: string[] = [];
  for (const rules of history) {
    const field = receptiveField(rules);
    if (!field.ok || field.value.stoppedAt) return null;
    fields.push(formatFraction(field.value.field));
    jumps.push(formatFraction(field.value.jump));
  }
  return `${fields.join('×')} (jump ${jumps.join('×')})`;
}

/** The shape after each statement that produced exactly one tensor, in this file. */
function shapeHints(library: Library, file: SourceFile): ShapeHint[] {
  const byStatement = new Map<number, Set<string>>();
  for (const assignment of library.assignments) {
    if (assignment.file !== file || assignment.shape === null) continue;
    if (assignment.shape.every((d) => d === null)) continue;
    const at = assignment.node.to;
    const set = byStatement.get(at) ?? new Set<string>();
    set.add(formatDims(assignment.shape));
    byStatement.set(at, set);
  }
  return [...byStatement.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([at, shapes]) => ({
      at,
      text: [...shapes].slice(0, 3).join(' | ') + (shapes.size > 3 ? ' | …' : ''),
    }));
}
