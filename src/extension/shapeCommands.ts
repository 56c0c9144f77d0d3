/**
 * Command-palette shape questions answered by the core: "what does this layer output?" and "what settings
 * turn this size into that one?". Both commands take their answers as arguments too, so tests and other
 * extensions can call them without the input boxes, and both return what they showed.
 */
import * as vscode from 'vscode';
import { forwardSettings, transposedSettings } from '../core/arithmetic/solve';
import { describeLayerCall } from '../core/describe';

export function registerShapeCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(
      'convLens.shapeOfLayer',
      async (layerText?: string, inputText?: string) => {
        const interactive = layerText === undefined;
        const layer =
          layerText ??
          (await vscode.window.showInputBox({
            title: 'Conv Lens: layer',
            prompt: 'A layer as you write it, e.g. nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)',
          }));
        if (!layer) return undefined;
        const input =
          inputText ??
          (await vscode.window.showInputBox({
            title: 'Conv Lens: input shape',
            prompt: 'Input shape, comma separated, e.g. 1,64,16,16',
          }));
        if (input === undefined) return undefined;
        const text = describeLayerCall(layer, input);
        if (interactive) void vscode.window.showInformationMessage(text, { modal: true });
        return text;
      },
    ),
    vscode.commands.registerCommand(
      'convLens.settingsForSize',
      async (fromText?: string, toText?: string) => {
        const interactive = fromText === undefined;
        const from =
          fromText ??
          (await vscode.window.showInputBox({
            title: 'Conv Lens: settings for a target size (1/2)',
            prompt: 'The size you have along one dimension, e.g. 37',
            validateInput: wholeNumberProblem,
          }));
        if (!from) return undefined;
        const to =
          toText ??
          (await vscode.window.showInputBox({
            title: 'Conv Lens: settings for a target size (2/2)',
            prompt: `The size you need from ${from}, e.g. 75 (larger: transposed conv; smaller: conv)`,
            validateInput: wholeNumberProblem,
          }));
        if (!to) return undefined;
        const inputSize = Number(from);
        const outputSize = Number(to);
        const search =
          outputSize > inputSize
            ? transposedSettings({ inputSize, outputSize })
            : forwardSettings({ inputSize, outputSize });
        if (!search.ok) {
          if (interactive) void vscode.window.showErrorMessage(search.error);
          return search.error;
        }
        const items = search.value.map((setting) => ({
          label: setting.code.split('\n').join('  '),
          description: setting.formula,
          detail: [setting.checkerboard ? 'uneven overlap: checkerboard risk' : '', setting.waste ?? '']
            .filter(Boolean)
            .join(' · '),
        }));
        if (interactive) {
          const picked = await vscode.window.showQuickPick(items, {
            title: `Conv Lens: ${inputSize} → ${outputSize}, simplest first (pick one to insert it)`,
          });
          const editor = vscode.window.activeTextEditor;
          if (picked && editor)
            await editor.edit((edit) => edit.insert(editor.selection.active, picked.label));
        }
        return items.map((item) => `${item.label}  # ${item.description}`).join('\n');
      },
    ),
  );
}

function wholeNumberProblem(text: string): string | undefined {
  return /^\s*\d+\s*$/.test(text) && Number(text) >= 1 ? undefined : 'A size: a whole number of at least 1.';
}
