/**
 * Extension entry point. Activation stays cheap: commands and language features are registered here and do
 * their work when used; the shape interpreter is a separate bundle that runs in a worker thread.
 */
import * as vscode from 'vscode';
import { registerCalculator } from './calculator';
import { registerShapeCommands } from './shapeCommands';
import { type MarkdownItExtension, registerRenderers } from './renderers';
import { registerShapeEditor } from './shapeEditor';
import { registerPreviewPanel } from './previewPanel';

export function activate(context: vscode.ExtensionContext): MarkdownItExtension {
  registerShapeCommands(context);
  registerCalculator(context);
  registerPreviewPanel(context, registerShapeEditor(context));
  // Renderer messaging and exports; returns extendMarkdownIt for ```conv-lens blocks in the Markdown preview.
  return registerRenderers(context);
}

export function deactivate(): void {
  // Nothing to release: every disposable is owned by the extension context.
}
