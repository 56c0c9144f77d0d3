/// <reference lib="dom" />
/**
 * ```conv-lens blocks in notebook Markdown cells: a renderer that extends VS Code's built-in Markdown renderer
 * (contributes.notebookRenderer with `entrypoint: {extends: 'vscode.markdown-it-renderer', path}`). It adds the
 * ```conv-lens markdown-it plugin (src/markdown/fence.ts) to the notebook's markdown-it, and after each cell is
 * rendered it mounts the animation widget into that cell's placeholders. The built-in renderer writes the HTML
 * into a shadow root on the element whose id is the cell's id (env.outputItem.id), right after markdown-it
 * returns, so mounting runs as a microtask after that.
 *
 * With messaging (requiresMessaging: optional), it reports what each block drew to the host and answers export
 * requests, as the output renderer does; block ids are `<cell id>#<block index>`.
 */
import { type MarkdownItLike, convLensMarkdownIt } from '../markdown/fence';
import type { RendererContext } from './api';
import { mountBlocks } from './mount';
import type { AnimationWidget } from './view';
import { WidgetRegistry } from './widgets';

/** The built-in Markdown renderer's API, as much of it as this renderer uses. */
interface MarkdownItRendererApi {
  extendMarkdownIt(extend: (md: NotebookMarkdownIt) => void): void;
}

interface NotebookMarkdownIt extends MarkdownItLike {
  renderer: MarkdownItLike['renderer'] & {
    render(tokens: unknown[], options: unknown, env: unknown): string;
  };
}

export const MARKDOWN_IT_RENDERER = 'vscode.markdown-it-renderer';

export async function activate(context: RendererContext): Promise<void> {
  const markdownIt = (await context.getRenderer?.(MARKDOWN_IT_RENDERER)) as MarkdownItRendererApi | undefined;
  if (!markdownIt || typeof markdownIt.extendMarkdownIt !== 'function') {
    throw new Error(`Conv Lens: VS Code's Markdown renderer (${MARKDOWN_IT_RENDERER}) is not available.`);
  }
  const widgets = new WidgetRegistry(context, 'markdown');
  /** Per cell: the widgets drawn before, so a re-rendered cell keeps each block's view and frame. */
  const previousByCell = new Map<string, Map<string, AnimationWidget>>();

  const mountCell = (cellId: string): void => {
    const root = document.getElementById(cellId)?.shadowRoot ?? document.getElementById(cellId);
    const prefix = `${cellId}#`;
    const fresh = new Set<string>();
    let previous = previousByCell.get(cellId);
    if (!previous) previousByCell.set(cellId, (previous = new Map()));
    if (root) {
      mountBlocks(root, {
        host: widgets.host,
        previous,
        onMounted: (index, widget) => {
          fresh.add(`${prefix}${index}`);
          widgets.set(`${prefix}${index}`, widget);
        },
        onRefused: (index, message) => {
          fresh.add(`${prefix}${index}`);
          widgets.failed(`${prefix}${index}`, message);
        },
      });
    }
    // Blocks the cell no longer has.
    widgets.clear((id) => id.startsWith(prefix) && !fresh.has(id));
    for (const [key, widget] of previous) {
      if (!widget.root.isConnected) previous.delete(key);
    }
    if (previous.size === 0) previousByCell.delete(cellId);
  };

  markdownIt.extendMarkdownIt((md) => {
    convLensMarkdownIt(md);
    const render = md.renderer.render;
    md.renderer.render = function (tokens, options, env) {
      const html = render.call(this, tokens, options, env);
      const cellId = (env as { outputItem?: { id?: unknown } } | undefined)?.outputItem?.id;
      if (typeof cellId === 'string') {
        queueMicrotask(() => mountCell(cellId));
      }
      return html;
    };
  });
}
