/**
 * Command-palette shape questions answered by the core: "what does this layer output?" and "what settings
 * reach this size?".
 */
import * as vscode from 'vscode';
import { describeLayerCall } from '../core/describe';

export function registerShapeCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(
      'convLens.shapeOfLayer',
      async (layerText?: string, inputText?: string) => {
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
        if (layerText === undefined) void vscode.window.showInformationMessage(text, { modal: true });
        return text;
      },
    ),
  );
}
