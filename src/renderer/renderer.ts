/// <reference lib="dom" />
/**
 * The Conv Lens notebook renderer (contributes.notebookRenderer, MIME `application/vnd.conv-lens+json`). VS Code
 * loads this ES module in the notebook's output webview and calls `activate`; each output item is drawn by the
 * animation widget (view.ts). A payload that cannot be drawn becomes a message in the cell: never a blank output
 * and never an exception.
 *
 * From Python, with nothing to install:
 *
 *   from IPython.display import display
 *   display({"application/vnd.conv-lens+json": {"op": "conv_transpose", "input": [3, 3], "kernel": 3,
 *            "stride": 2, "padding": 1, "output_padding": 1}}, raw=True)
 */
import type { ActivationFunction, OutputItem } from './api';
import { renderAnimation, renderMessage } from './view';
import { WidgetRegistry } from './widgets';

export { ANIMATION_MIME } from '../core/animation/payload';

export const activate: ActivationFunction = (context) => {
  // Reports each draw to the host and answers its export requests (see widgets.ts and protocol.ts).
  const widgets = new WidgetRegistry(context, 'output');
  return {
    renderOutputItem(outputItem: OutputItem, element: HTMLElement, signal?: AbortSignal): void {
      widgets.delete(outputItem.id);
      if (signal?.aborted) return;
      try {
        let payload: unknown;
        try {
          payload = outputItem.json();
        } catch (error) {
          let text = '';
          try {
            text = outputItem.text();
          } catch {
            // Nothing readable at all; the message says so.
          }
          const message = `The output is not valid JSON (${(error as Error).message}).`;
          renderMessage(element, message, text);
          widgets.failed(outputItem.id, message);
          return;
        }
        const widget = renderAnimation(element, payload, widgets.host);
        if (widget) {
          widgets.set(outputItem.id, widget);
          signal?.addEventListener('abort', () => widgets.delete(outputItem.id), { once: true });
        } else {
          const shown =
            element.querySelector('.cl-error-message')?.textContent ?? 'The payload cannot be drawn.';
          widgets.failed(outputItem.id, shown);
        }
      } catch (error) {
        const message = `Something went wrong while drawing (${(error as Error).message}).`;
        renderMessage(element, message);
        widgets.failed(outputItem.id, message);
      }
    },
    disposeOutputItem(id?: string): void {
      if (id === undefined) widgets.clear();
      else widgets.delete(id);
    },
  };
};
