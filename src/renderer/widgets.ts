/// <reference lib="dom" />
/**
 * The widgets one renderer has drawn, and its side of the messaging with the extension host (protocol.ts): after
 * each draw it reports what it drew (`conv-lens.rendered`), and it answers the host's export requests
 * (`conv-lens.requestExport`, sent by the `convLens.exportAnimation` command) with the export or the reason there
 * is none. Shared by the notebook output renderer (renderer.ts) and the notebook Markdown renderer
 * (markdownCell.ts). Without messaging (a renderer context with no postMessage) it only keeps the widgets.
 */
import type { RendererContext } from './api';
import {
  EXPORT_FORMATS,
  type ExportFailedMessage,
  type ExportFormat,
  type RenderedMessage,
} from './protocol';
import type { AnimationHost, AnimationWidget } from './view';

export class WidgetRegistry {
  private readonly widgets = new Map<string, AnimationWidget>();
  readonly host: AnimationHost;

  constructor(
    private readonly context: Pick<RendererContext, 'postMessage' | 'onDidReceiveMessage'>,
    private readonly source: RenderedMessage['source'],
  ) {
    this.host = context.postMessage ? { postMessage: context.postMessage.bind(context) } : {};
    context.onDidReceiveMessage?.((message) => this.onMessage(message));
  }

  get(id: string): AnimationWidget | undefined {
    return this.widgets.get(id);
  }

  /** Keeps `widget` under `id` (disposing the one drawn there before) and reports what it drew. */
  set(id: string, widget: AnimationWidget): void {
    const previous = this.widgets.get(id);
    if (previous && previous !== widget) previous.dispose();
    this.widgets.delete(id);
    this.widgets.set(id, widget);
    this.post({
      type: 'conv-lens.rendered',
      source: this.source,
      outputId: id,
      ok: true,
      summary: widget.summary(),
    });
  }

  /** Reports that `id` shows a message instead of an animation. */
  failed(id: string, error: string): void {
    this.delete(id);
    this.post({ type: 'conv-lens.rendered', source: this.source, outputId: id, ok: false, error });
  }

  delete(id: string): void {
    this.widgets.get(id)?.dispose();
    this.widgets.delete(id);
  }

  /** Disposes every widget whose id passes `test` (all of them without one). */
  clear(test: (id: string) => boolean = () => true): void {
    for (const id of [...this.widgets.keys()]) if (test(id)) this.delete(id);
  }

  /** The widget an export without an id means: the one used last, else the first still on screen. */
  private pick(outputId: string | undefined): AnimationWidget | string {
    if (outputId !== undefined) {
      const widget = this.widgets.get(outputId);
      return widget && widget.root.isConnected
        ? widget
        : `No Conv Lens animation with the id ${outputId} is shown.`;
    }
    let best: AnimationWidget | undefined;
    for (const widget of this.widgets.values()) {
      if (!widget.root.isConnected) continue;
      if (!best || widget.lastActive > best.lastActive) best = widget;
    }
    return best ?? 'No Conv Lens animation is shown in this notebook.';
  }

  private onMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (m['type'] !== 'conv-lens.requestExport') return;
    const requestId = typeof m['requestId'] === 'string' ? m['requestId'] : undefined;
    const format = m['format'];
    const outputId = typeof m['outputId'] === 'string' ? m['outputId'] : undefined;
    if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
      this.fail(requestId, `Unknown export format ${JSON.stringify(format)}; use svg, png or animated-svg.`);
      return;
    }
    const widget = this.pick(outputId);
    if (typeof widget === 'string') {
      this.fail(requestId, widget);
      return;
    }
    void widget.deliverExport(format as ExportFormat, requestId);
  }

  private fail(requestId: string | undefined, error: string): void {
    const message: ExportFailedMessage = {
      type: 'conv-lens.exportFailed',
      error,
      ...(requestId === undefined ? {} : { requestId }),
    };
    this.post(message);
  }

  private post(message: unknown): void {
    try {
      this.context.postMessage?.(message);
    } catch {
      // A closed webview cannot be told anything; the drawing itself is unaffected.
    }
  }
}
