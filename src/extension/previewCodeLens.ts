/**
 * A "Preview this layer" CodeLens above each convolution and transposed-convolution constructor in Python files,
 * which opens the preview panel on that layer with the argument the hover's link passes (`{ uri, offset }` of
 * the constructor). The layers come from the same analysis the hovers read (AnalysisService), so the lenses
 * follow the document as it is analysed. `convLens.codeLens.enabled` turns them off.
 *
 * Pooling layers get no lens: the preview computes convolutions only, and a lens that opened a 3×3 conv in
 * their place would mislead.
 */
import * as vscode from 'vscode';
import type { EditorAnalysis } from './analysisProtocol';
import type { AnalysisService } from './analysisService';

const SELECTOR: vscode.DocumentSelector = [
  { language: 'python', scheme: 'file' },
  { language: 'python', scheme: 'untitled' },
];

const COMMAND = 'convLens.openPreview';
export const CODE_LENS_TITLE = 'Preview this layer';

function enabled(scope: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration('convLens', scope).get<boolean>('codeLens.enabled', true);
}

/** The lenses of one analysis: one per convolution constructor, at the start of its call. */
export function previewLenses(document: vscode.TextDocument, analysis: EditorAnalysis): vscode.CodeLens[] {
  const lenses: vscode.CodeLens[] = [];
  for (const layer of analysis.layers) {
    // The same test as the hover's link (src/extension/shapeEditor.ts), so both offer the same layers.
    if (!/conv/i.test(layer.qualifiedName ?? layer.className)) continue;
    const at = document.positionAt(layer.from);
    lenses.push(
      new vscode.CodeLens(new vscode.Range(at, at), {
        title: CODE_LENS_TITLE,
        command: COMMAND,
        tooltip: `Open the preview panel on ${layer.callee}`,
        arguments: [{ uri: document.uri.toString(), offset: layer.from }],
      }),
    );
  }
  return lenses;
}

export function registerPreviewCodeLens(context: vscode.ExtensionContext, service: AnalysisService): void {
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changed,
    service.onDidAnalyze(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('convLens.codeLens.enabled')) changed.fire();
    }),
    vscode.languages.registerCodeLensProvider(SELECTOR, {
      onDidChangeCodeLenses: changed.event,
      provideCodeLenses: async (document, token) => {
        if (!enabled(document.uri)) return [];
        const analysis = await service.analysisFor(document, token);
        return analysis && !token.isCancellationRequested ? previewLenses(document, analysis) : [];
      },
    }),
  );
}
