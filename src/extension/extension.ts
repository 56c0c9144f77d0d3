/**
 * Extension entry point. Activation stays cheap: commands and language features are registered here and do
 * their work when used; the shape interpreter is a separate bundle that runs in a worker thread.
 */
import * as vscode from 'vscode';
import { registerShapeCommands } from './shapeCommands';
import { registerShapeEditor } from './shapeEditor';

export function activate(context: vscode.ExtensionContext): void {
  registerShapeCommands(context);
  registerShapeEditor(context);
}

export function deactivate(): void {
  // Nothing to release: every disposable is owned by the extension context.
}
