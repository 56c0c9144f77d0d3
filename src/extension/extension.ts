/**
 * Extension entry point. Activation stays cheap: commands are registered here and do their work when run.
 */
import * as vscode from 'vscode';
import { registerShapeCommands } from './shapeCommands';

export function activate(context: vscode.ExtensionContext): void {
  registerShapeCommands(context);
}

export function deactivate(): void {
  // Nothing to release: every disposable is owned by the extension context.
}
