/// <reference lib="dom" />
/**
 * Mounts animation widgets into the placeholders that the ```conv-lens Markdown plugin (src/markdown/fence.ts)
 * writes. Used by the Markdown preview script (markdownPreview.ts) and the notebook Markdown renderer
 * (markdownCell.ts). Mounting is idempotent: a placeholder already holding a widget is left alone, so it can run
 * after every content update. When the preview rewrites a block whose spec did not change (every keystroke
 * elsewhere in the file does), the new widget resumes the view and frame of the old one instead of starting over.
 */
import { BLOCK_CLASS, ERROR_ATTRIBUTE, PAYLOAD_ATTRIBUTE, readPlaceholderPayload } from '../markdown/fence';
import type { AnimationView } from '../core/animation/payload';
import { type AnimationHost, type AnimationWidget, renderAnimation } from './view';

/** Marks a placeholder that holds a widget. */
export const MOUNTED_ATTRIBUTE = 'data-conv-lens-mounted';

export interface MountOptions {
  readonly host?: AnimationHost;
  /** Widgets drawn before, by block index and payload text: their view and frame carry over to a redrawn block. */
  readonly previous?: Map<string, AnimationWidget>;
  /** Called for each block drawn, with its index among the ```conv-lens blocks under the root. */
  readonly onMounted?: (index: number, widget: AnimationWidget) => void;
  /** Called for each block that shows a message instead (the plugin's or the widget's), with that message. */
  readonly onRefused?: (index: number, message: string) => void;
}

/** Draws every ```conv-lens placeholder under `root` that holds no widget yet; returns how many it drew. */
export function mountBlocks(root: ParentNode, options: MountOptions = {}): number {
  let mounted = 0;
  const blocks = Array.from(root.querySelectorAll(`.${BLOCK_CLASS}`));
  blocks.forEach((placeholder, index) => {
    const text = placeholder.getAttribute(PAYLOAD_ATTRIBUTE);
    if (text === null) {
      // The plugin found the spec invalid and wrote its message; there is nothing to draw.
      options.onRefused?.(index, placeholder.getAttribute(ERROR_ATTRIBUTE) ?? 'The block cannot be drawn.');
      return;
    }
    if (placeholder.hasAttribute(MOUNTED_ATTRIBUTE) && placeholder.querySelector('.cl-anim')) return;
    const payload = readPlaceholderPayload(text);
    placeholder.setAttribute(MOUNTED_ATTRIBUTE, 'true');
    // The plugin checked the payload already; renderAnimation checks it again and shows a message if needed.
    const widget = renderAnimation(placeholder as HTMLElement, payload ?? text, options.host);
    const key = `${index}|${text}`;
    if (widget && options.previous) {
      const before = options.previous.get(key);
      if (before && before !== widget) {
        const view = before.root.dataset['view'] as AnimationView | undefined;
        const frame = Number(before.root.dataset['frame'] ?? 0);
        const playing = before.root.dataset['playing'] === 'true';
        before.dispose();
        if (view) widget.setView(view);
        widget.showFrame(frame);
        if (!playing) widget.pause();
      }
      options.previous.set(key, widget);
    }
    if (widget) {
      mounted++;
      options.onMounted?.(index, widget);
    } else {
      options.onRefused?.(
        index,
        placeholder.querySelector('.cl-error-message')?.textContent ?? 'The block cannot be drawn.',
      );
    }
  });
  return mounted;
}
