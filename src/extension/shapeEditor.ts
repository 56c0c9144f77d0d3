/**
 * Shapes in the Python editor: a hover on each layer constructor (formulas, weights, every known input → output)
 * and on forward calls that apply layers, inlay hints with the shape after each statement and after each layer
 * definition, diagnostics for shape errors, and quick fixes. All of it reads one analysis per document version
 * from the AnalysisService, which runs the shape interpreter off the main thread.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DocumentDiagnostic } from '../python/document';
import type { EditorAnalysis, EditorLayer } from './analysisProtocol';
import { AnalysisService } from './analysisService';
import { callHoverMarkdown, formatDims, layerHintText, layerHoverMarkdown } from './shapePresentation';

/** The `source` of every diagnostic this extension reports. */
export const DIAGNOSTIC_SOURCE = 'Conv Lens';

const SELECTOR: vscode.DocumentSelector = [
  { language: 'python', scheme: 'file' },
  { language: 'python', scheme: 'untitled' },
];

const SEVERITY: Record<DocumentDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

function setting<T>(name: string, fallback: T, scope?: vscode.Uri): T {
  return vscode.workspace.getConfiguration('convLens', scope).get<T>(name, fallback);
}

/** Registers the editor features; returns the analysis service, which the preview panel reads layers from. */
export function registerShapeEditor(context: vscode.ExtensionContext): AnalysisService {
  const log = vscode.window.createOutputChannel('Conv Lens', { log: true });
  const warnedSettings = new Set<string>();
  const service = new AnalysisService(
    path.join(context.extensionPath, 'dist', 'analysisWorker.js'),
    log,
    (document) => inputShapesSetting(document, log, warnedSettings),
  );
  const diagnostics = vscode.languages.createDiagnosticCollection('convLens');
  const hintsChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(log, service, diagnostics, hintsChanged);

  const publish = (document: vscode.TextDocument, analysis: EditorAnalysis) => {
    if (!setting('diagnostics.enabled', true, document.uri)) {
      diagnostics.delete(document.uri);
      return;
    }
    diagnostics.set(
      document.uri,
      analysis.diagnostics.map((d) => toDiagnostic(document, d)),
    );
  };

  context.subscriptions.push(
    service.onDidAnalyze(({ document, analysis }) => {
      publish(document, analysis);
      hintsChanged.fire();
    }),
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover: async (document, position, token) => {
        const analysis = await service.analysisFor(document, token);
        return analysis && !token.isCancellationRequested ? hoverAt(document, position, analysis) : undefined;
      },
    }),
    vscode.languages.registerInlayHintsProvider(SELECTOR, {
      onDidChangeInlayHints: hintsChanged.event,
      provideInlayHints: async (document, range, token) => {
        if (!setting('inlayHints.enabled', true, document.uri)) return [];
        const analysis = await service.analysisFor(document, token);
        return analysis && !token.isCancellationRequested ? inlayHints(document, range, analysis) : [];
      },
    }),
    vscode.languages.registerCodeActionsProvider(
      SELECTOR,
      {
        provideCodeActions: async (document, range, codeActionContext, token) => {
          if (!setting('diagnostics.enabled', true, document.uri)) return [];
          const analysis = await service.analysisFor(document, token);
          return analysis && !token.isCancellationRequested
            ? quickFixes(document, range, codeActionContext, analysis)
            : [];
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
    vscode.workspace.onDidOpenTextDocument((document) => service.schedule(document, 0)),
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.contentChanges.length > 0) service.schedule(event.document);
    }),
    vscode.workspace.onDidCloseTextDocument((document) => {
      diagnostics.delete(document.uri);
      service.forget(document);
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('convLens.inputShapes')) {
        warnedSettings.clear();
        service.reanalyzeAll();
      }
      if (event.affectsConfiguration('convLens.diagnostics.enabled')) {
        for (const document of vscode.workspace.textDocuments) {
          const analysis = service.cached(document);
          if (analysis) publish(document, analysis);
          else diagnostics.delete(document.uri);
        }
      }
      if (event.affectsConfiguration('convLens.inlayHints.enabled')) hintsChanged.fire();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => service.reanalyzeAll()),
  );

  // Files changed on disk (a checkout, another tool) matter to the open documents that import them; open
  // documents themselves come through their change events, with the editor's text.
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.py');
  const isOpen = (uri: vscode.Uri) =>
    vscode.workspace.textDocuments.some((document) => document.uri.toString() === uri.toString());
  context.subscriptions.push(
    watcher,
    watcher.onDidChange((uri) => {
      if (!isOpen(uri)) service.dependencyChanged(uri.fsPath);
    }),
    watcher.onDidDelete((uri) => service.dependencyChanged(uri.fsPath)),
    // A new file may be the module an import could not find until now.
    watcher.onDidCreate((uri) => {
      if (!isOpen(uri)) service.reanalyzeAll();
    }),
  );

  for (const document of vscode.workspace.textDocuments) service.schedule(document, 0);
  return service;
}

/** `convLens.inputShapes`: class name → input shape; entries that are not lists of sizes are skipped, once said. */
function inputShapesSetting(
  document: vscode.TextDocument,
  log: vscode.LogOutputChannel,
  warned: Set<string>,
): Record<string, number[]> {
  const raw = vscode.workspace.getConfiguration('convLens', document.uri).get<unknown>('inputShapes', {});
  const shapes: Record<string, number[]> = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return shapes;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(value) && value.length > 0 && value.every((d) => Number.isInteger(d) && d >= 1)) {
      shapes[name] = value as number[];
    } else if (!warned.has(name)) {
      warned.add(name);
      log.warn(
        `convLens.inputShapes: the entry for '${name}' should be a list of sizes of at least 1, like [1, 3, 224, 224]; it is ignored.`,
      );
    }
  }
  return shapes;
}

function rangeOf(document: vscode.TextDocument, from: number, to: number): vscode.Range {
  return new vscode.Range(document.positionAt(from), document.positionAt(to));
}

function toDiagnostic(document: vscode.TextDocument, d: DocumentDiagnostic): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(rangeOf(document, d.from, d.to), d.message, SEVERITY[d.severity]);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  diagnostic.code = d.code;
  return diagnostic;
}

/** The innermost item whose range holds the offset. */
function innermost<T extends { from: number; to: number }>(
  items: readonly T[],
  offset: number,
): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (item.from > offset || offset > item.to) continue;
    if (!best || item.to - item.from < best.to - best.from) best = item;
  }
  return best;
}

function hoverAt(
  document: vscode.TextDocument,
  position: vscode.Position,
  analysis: EditorAnalysis,
): vscode.Hover | undefined {
  const offset = document.offsetAt(position);
  const lineOf = (at: number) => document.positionAt(at).line + 1;
  const layer = innermost(analysis.layers, offset);
  if (layer) {
    const markdown = layerHoverMarkdown(layer, analysis.problems);
    if (markdown) {
      const hover = new vscode.MarkdownString(markdown);
      // Convolutions get a link that opens the preview panel on this layer (src/extension/previewPanel.ts).
      if (/conv/i.test(layer.qualifiedName ?? layer.className)) {
        const args = encodeURIComponent(
          JSON.stringify([{ uri: document.uri.toString(), offset: layer.from }]),
        );
        hover.appendMarkdown(`\n\n[Preview this layer](command:convLens.openPreview?${args})`);
        hover.isTrusted = { enabledCommands: ['convLens.openPreview'] };
      }
      return new vscode.Hover(hover, rangeOf(document, layer.from, layer.to));
    }
  }
  // A forward line: the call under the cursor, or every layer call of the statement the cursor is on.
  const call = innermost(analysis.calls, offset);
  const calls = call
    ? [call]
    : analysis.calls.filter((c) => c.statementFrom <= offset && offset <= c.statementTo);
  if (calls.length === 0) return undefined;
  const sections = calls
    .map((c) => {
      const result = analysis.hints.find((hint) => hint.at === c.statementTo)?.text ?? null;
      return callHoverMarkdown(
        c,
        analysis.layers,
        lineOf,
        calls.length === 1 || c === calls.at(-1) ? result : null,
      );
    })
    .filter((section): section is string => section !== null);
  if (sections.length === 0) return undefined;
  const range = call
    ? rangeOf(document, call.from, call.to)
    : rangeOf(document, calls[0]!.statementFrom, calls[0]!.statementTo);
  return new vscode.Hover(new vscode.MarkdownString(sections.join('\n\n---\n\n')), range);
}

/**
 * The shape after each statement the interpreter followed, and the output after each layer definition whose
 * output is known, at the end of the line. One hint per line: a statement's result wins over a layer's output,
 * and a line with several layers gets none of theirs (it would not say which one it is).
 */
function inlayHints(
  document: vscode.TextDocument,
  range: vscode.Range,
  analysis: EditorAnalysis,
): vscode.InlayHint[] {
  const byLine = new Map<number, { text: string; tooltip: string }>();
  for (const hint of analysis.hints) {
    const line = document.positionAt(hint.at).line;
    byLine.set(line, { text: hint.text, tooltip: 'Conv Lens: the shape this statement produces.' });
  }
  const layersByLine = new Map<number, EditorLayer[]>();
  for (const layer of analysis.layers) {
    const line = document.positionAt(layer.to).line;
    layersByLine.set(line, [...(layersByLine.get(line) ?? []), layer]);
  }
  for (const [line, layers] of layersByLine) {
    if (byLine.has(line) || layers.length !== 1) continue;
    const layer = layers[0]!;
    const text = layerHintText(layer);
    if (!text) continue;
    const application = layer.applications.find((a) => a.output && formatDims(a.output) === text);
    byLine.set(line, {
      text,
      tooltip: `Conv Lens: the output of ${layer.callee}${
        application?.input ? ` for the input ${formatDims(application.input)} (${application.source})` : ''
      }.`,
    });
  }
  const hints: vscode.InlayHint[] = [];
  for (const [line, { text, tooltip }] of [...byLine].sort((a, b) => a[0] - b[0])) {
    if (line < range.start.line || line > range.end.line) continue;
    const end = new vscode.Position(line, document.lineAt(line).text.trimEnd().length);
    const hint = new vscode.InlayHint(end, `→ ${text}`, vscode.InlayHintKind.Type);
    hint.paddingLeft = true;
    hint.tooltip = tooltip;
    hints.push(hint);
  }
  return hints;
}

/**
 * A quick fix for each diagnostic with a fix in the range asked about. A fix must edit a layer constructor's
 * arguments (that is what every fix is for); anything else would be a misplaced edit and is not offered.
 */
function quickFixes(
  document: vscode.TextDocument,
  range: vscode.Range,
  context: vscode.CodeActionContext,
  analysis: EditorAnalysis,
): vscode.CodeAction[] {
  const actions: vscode.CodeAction[] = [];
  const seen = new Set<string>();
  for (const d of analysis.diagnostics) {
    const fix = d.fix;
    if (!fix) continue;
    const where = rangeOf(document, d.from, d.to);
    if (!where.intersection(range)) continue;
    if (!analysis.layers.some((layer) => layer.from <= fix.from && fix.to <= layer.to)) continue;
    const key = `${fix.from}:${fix.to}:${fix.newText}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
    action.edit = new vscode.WorkspaceEdit();
    action.edit.replace(document.uri, rangeOf(document, fix.from, fix.to), fix.newText);
    const reported = context.diagnostics.filter(
      (diagnostic) =>
        diagnostic.source === DIAGNOSTIC_SOURCE &&
        diagnostic.message === d.message &&
        diagnostic.range.isEqual(where),
    );
    action.diagnostics = reported.length > 0 ? reported : [toDiagnostic(document, d)];
    action.isPreferred = true;
    actions.push(action);
  }
  return actions;
}
