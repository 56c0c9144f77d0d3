/**
 * The extension host's side of the animation renderers:
 * - renderer messaging for the notebook output renderer (`conv-lens.animation`) and the notebook Markdown
 *   renderer (`conv-lens.markdown`): exports the user makes in a widget arrive here and are saved where the user
 *   says (a save dialog starting next to the notebook);
 * - the `convLens.exportAnimation` command, which asks the renderers for an export of the animation used last (or
 *   of a given output) and saves it; with a `destination` argument it saves there without asking, which is how
 *   the real-host tests and scripts use it;
 * - `extendMarkdownIt`, returned from activate(), which adds the ```conv-lens plugin (src/markdown/fence.ts) to
 *   the Markdown preview (contributes.markdown.markdownItPlugins).
 * Messages from webviews are untrusted and read through src/renderer/protocol.ts.
 */
import * as vscode from 'vscode';
import { type MarkdownItLike, convLensMarkdownIt } from '../markdown/fence';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportImageMessage,
  MARKDOWN_RENDERER_ID,
  OUTPUT_RENDERER_ID,
  type RequestExportMessage,
  exportExtension,
  readExportMessage,
} from '../renderer/protocol';

export const EXPORT_COMMAND = 'convLens.exportAnimation';

/** How long the export command waits for a renderer to answer (PNG and animated exports take a moment). */
const EXPORT_TIMEOUT_MS = 30_000;
/** After one renderer says it has nothing to export, how long to wait for the other to answer with an export. */
const FAILURE_GRACE_MS = 1_500;

/** Arguments of `convLens.exportAnimation`; all optional. */
export interface ExportCommandArgs {
  readonly format?: ExportFormat;
  /** Where to save (a Uri or a file path / URI string); without it a save dialog asks. */
  readonly destination?: vscode.Uri | string;
  /** The output item id (or `<cell id>#<block index>`) to export; without it, the animation used last. */
  readonly outputId?: string;
}

interface PendingRequest {
  readonly resolve: (message: ExportImageMessage) => void;
  readonly fail: (error: string) => void;
}

export interface MarkdownItExtension {
  extendMarkdownIt<T extends MarkdownItLike>(md: T): T;
}

export function registerRenderers(context: vscode.ExtensionContext): MarkdownItExtension {
  const pending = new Map<string, PendingRequest>();
  const channels = [OUTPUT_RENDERER_ID, MARKDOWN_RENDERER_ID].map((id) =>
    vscode.notebooks.createRendererMessaging(id),
  );
  let nextRequest = 0;

  for (const channel of channels) {
    context.subscriptions.push(
      channel.onDidReceiveMessage(({ editor, message }) => {
        const m = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>;
        const requestId = typeof m['requestId'] === 'string' ? m['requestId'] : undefined;
        const request = requestId === undefined ? undefined : pending.get(requestId);
        if (m['type'] === 'conv-lens.exportFailed') {
          request?.fail(typeof m['error'] === 'string' ? m['error'] : 'The export failed.');
          return;
        }
        if (m['type'] !== 'conv-lens.exportImage') return;
        const read = readExportMessage(message);
        if (!read.ok) {
          if (request) request.fail(`The renderer sent an export that cannot be saved: ${read.error}.`);
          else void vscode.window.showErrorMessage(`Conv Lens could not save the export: ${read.error}.`);
          return;
        }
        if (request) request.resolve(read.value);
        else void saveExport(read.value, editor.notebook.uri, undefined);
      }),
    );
  }

  context.subscriptions.push(
    vscode.commands.registerCommand(EXPORT_COMMAND, async (args?: ExportCommandArgs) => {
      const editor = vscode.window.activeNotebookEditor;
      if (!editor) {
        void vscode.window.showErrorMessage(
          'Conv Lens: open a notebook that shows an animation (an application/vnd.conv-lens+json output or a ' +
            '```conv-lens block) to export it.',
        );
        return undefined;
      }
      let format = args?.format;
      if (format !== undefined && !EXPORT_FORMATS.includes(format)) {
        void vscode.window.showErrorMessage(
          `Conv Lens: unknown export format "${String(format)}"; use svg, png or animated-svg.`,
        );
        return undefined;
      }
      if (format === undefined) {
        const picked = await vscode.window.showQuickPick(
          [
            { label: 'SVG', description: 'the frame on screen', format: 'svg' as const },
            { label: 'PNG', description: 'the frame on screen, at twice its size', format: 'png' as const },
            {
              label: 'Animated SVG',
              description: 'every frame, played in a loop',
              format: 'animated-svg' as const,
            },
          ],
          { title: 'Export the Conv Lens animation as' },
        );
        if (!picked) return undefined;
        format = picked.format;
      }
      const requestId = `export-${Date.now()}-${++nextRequest}`;
      const request: RequestExportMessage = {
        type: 'conv-lens.requestExport',
        requestId,
        format,
        ...(args?.outputId === undefined ? {} : { outputId: args.outputId }),
      };
      let answer: ExportImageMessage;
      try {
        answer = await new Promise<ExportImageMessage>((resolve, reject) => {
          const failures: string[] = [];
          let grace: ReturnType<typeof setTimeout> | undefined;
          const done = (): void => {
            clearTimeout(timer);
            if (grace !== undefined) clearTimeout(grace);
            pending.delete(requestId);
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(failures[0] ?? 'No Conv Lens animation in this notebook answered.'));
          }, EXPORT_TIMEOUT_MS);
          pending.set(requestId, {
            resolve: (message) => {
              done();
              resolve(message);
            },
            fail: (error) => {
              // Both renderers get the request; one may have nothing to export while the other has.
              failures.push(error);
              if (grace !== undefined) clearTimeout(grace);
              grace = setTimeout(() => {
                done();
                reject(new Error(failures.find((f) => !/^No Conv Lens animation/.test(f)) ?? failures[0]!));
              }, FAILURE_GRACE_MS);
            },
          });
          for (const channel of channels) void channel.postMessage(request, editor);
        });
      } catch (error) {
        void vscode.window.showErrorMessage(`Conv Lens could not export: ${(error as Error).message}`);
        return undefined;
      }
      const saved = await saveExport(answer, editor.notebook.uri, toUri(args?.destination));
      return saved?.toString();
    }),
  );

  return {
    extendMarkdownIt: (md) => convLensMarkdownIt(md),
  };
}

function toUri(destination: vscode.Uri | string | undefined): vscode.Uri | undefined {
  if (destination === undefined) return undefined;
  if (destination instanceof vscode.Uri) return destination;
  return /^[a-z][a-z0-9+.-]+:/i.test(destination) && !/^[a-z]:[\\/]/i.test(destination)
    ? vscode.Uri.parse(destination)
    : vscode.Uri.file(destination);
}

/**
 * Saves an export: to `destination` when given, otherwise where the user picks in a save dialog that starts next to
 * the notebook with the renderer's file name. Returns where it was saved, or undefined when the user cancelled.
 */
async function saveExport(
  message: ExportImageMessage,
  notebook: vscode.Uri,
  destination: vscode.Uri | undefined,
): Promise<vscode.Uri | undefined> {
  let target = destination;
  if (!target) {
    // Next to the notebook when it is a file; an untitled notebook has no folder, so the workspace's.
    const folder =
      notebook.scheme === 'untitled'
        ? (vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.env['HOME'] ?? '/'))
        : vscode.Uri.joinPath(notebook, '..');
    const extension = exportExtension(message.format);
    target = await vscode.window.showSaveDialog({
      title: `Export the Conv Lens animation (${message.format === 'animated-svg' ? 'animated SVG' : message.format.toUpperCase()})`,
      defaultUri: vscode.Uri.joinPath(folder, message.fileName),
      filters: extension === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] },
    });
    if (!target) return undefined;
  }
  const bytes =
    message.encoding === 'base64' ? Buffer.from(message.data, 'base64') : Buffer.from(message.data, 'utf8');
  try {
    await vscode.workspace.fs.writeFile(target, bytes);
  } catch (error) {
    void vscode.window.showErrorMessage(
      `Conv Lens could not write ${target.fsPath || target.toString()}: ${(error as Error).message}`,
    );
    return undefined;
  }
  if (!destination) {
    void vscode.window
      .showInformationMessage(`Saved the animation as ${target.path.split('/').pop()}.`, 'Open')
      .then((choice) => {
        if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
      });
  }
  return target;
}
