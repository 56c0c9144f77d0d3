/// <reference lib="dom" />
/**
 * The Markdown preview script (contributes `markdown.previewScripts`): VS Code's Markdown preview renders
 * ```conv-lens fences through Conv Lens's markdown-it plugin (src/markdown/fence.ts, wired up by
 * `extendMarkdownIt` in src/extension/renderers.ts) into placeholders, and this script draws the animation widget
 * into each. The preview replaces its content on every edit and then fires `vscode.markdown.updateContent`, so the
 * script mounts again then; blocks whose spec did not change keep their view and frame (mount.ts).
 *
 * The preview gives extension scripts no channel to the extension host, so exports here are downloads.
 */
import { mountBlocks } from './mount';
import type { AnimationWidget } from './view';

const previous = new Map<string, AnimationWidget>();

function mountAll(): void {
  mountBlocks(document, { previous });
  // Widgets of blocks that are gone stop their timers (they also stop once they find themselves detached).
  for (const [key, widget] of previous) {
    if (!widget.root.isConnected) {
      widget.dispose();
      previous.delete(key);
    }
  }
}

window.addEventListener('vscode.markdown.updateContent', mountAll);
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
else mountAll();
