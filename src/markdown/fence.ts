/**
 * The ```conv-lens Markdown fence: a markdown-it plugin that turns a fenced block written in the spec language
 * (src/core/animation/spec.ts) into a placeholder that the browser side mounts the animation widget into. The same
 * plugin runs in three places: VS Code's Markdown preview (the extension host's markdown-it, through
 * `extendMarkdownIt`, see src/extension/renderers.ts), notebook Markdown cells (the notebook's own markdown-it,
 * extended by src/renderer/markdownCell.ts) and the unit tests.
 *
 * The block is checked here, by the core, before any HTML is written: a block that cannot be drawn becomes a
 * message that says what is wrong (with the line), never a blank space. A valid block becomes
 *
 *   <div class="conv-lens-block" data-conv-lens-payload="{JSON payload}"> <pre>the source</pre> <p>fallback</p> </div>
 *
 * so that the source stays readable where no script runs (an exported HTML page, an untrusted preview); the
 * preview script (src/renderer/markdownPreview.ts) and the notebook Markdown renderer replace its content with the
 * widget. This module is pure: no DOM, no node, no vscode.
 */
import { parseAnimationPayload } from '../core/animation/payload';
import { SPEC_LANGUAGE, specToPayload } from '../core/animation/spec';
import { buildTimeline } from '../core/animation/timeline';

/** The class of every element this plugin writes for a ```conv-lens block, valid or not. */
export const BLOCK_CLASS = 'conv-lens-block';
/** The class added when the block cannot be drawn. */
export const INVALID_CLASS = 'conv-lens-invalid';
/** Attribute that carries the checked payload (JSON) of a valid block. */
export const PAYLOAD_ATTRIBUTE = 'data-conv-lens-payload';
/** Attribute that carries the message of an invalid block. */
export const ERROR_ATTRIBUTE = 'data-conv-lens-error';
/** Selector for the placeholders the browser side mounts widgets into. */
export const PLACEHOLDER_SELECTOR = `.${BLOCK_CLASS}[${PAYLOAD_ATTRIBUTE}]`;

/** The part of a markdown-it token this plugin reads. */
export interface FenceToken {
  readonly info: string;
  readonly content: string;
  readonly map?: [number, number] | null;
  /** Attributes other plugins set on the token, e.g. VS Code's `data-line` and `class="code-line"`. */
  readonly attrs?: ReadonlyArray<readonly [string, string]> | null;
}

/** The part of markdown-it's renderer this plugin uses. */
export interface MarkdownItRenderer<T extends FenceToken = FenceToken> {
  rules: Record<string, RenderRule<T> | undefined>;
  renderToken(tokens: T[], index: number, options: unknown): string;
}

export type RenderRule<T extends FenceToken = FenceToken> = (
  tokens: T[],
  index: number,
  options: unknown,
  env: unknown,
  self: MarkdownItRenderer<T>,
) => string;

/**
 * A markdown-it instance as callers see it; VS Code passes a real markdown-it (version 14). Kept this loose so any
 * markdown-it typing fits; the plugin reads it as a MarkdownItRenderer.
 */
export interface MarkdownItLike {
  renderer: { rules: object };
}

/** What a ```conv-lens block becomes: the payload to draw, or the sentence that says why it cannot be drawn. */
export type FenceOutcome =
  | { readonly ok: true; readonly payload: Record<string, unknown>; readonly summary: string }
  | { readonly ok: false; readonly error: string };

/** True when a fence's info string names the spec language (```conv-lens, also ```conv-lens {title}). */
export function isConvLensFence(info: string): boolean {
  const language = info.trim().split(/\s+/, 1)[0] ?? '';
  return language.toLowerCase() === SPEC_LANGUAGE;
}

/**
 * Checks a block's source with the core: the spec language → the JSON payload → the checked spec → the timeline.
 * The last step matters: a spec can be well-formed yet give no output (a kernel larger than the padded input),
 * and that must read as a message here, not as a broken widget later.
 */
export function checkFence(source: string): FenceOutcome {
  const payload = specToPayload(source);
  if (!payload.ok) return payload;
  const spec = parseAnimationPayload(payload.value);
  if (!spec.ok) return spec;
  const timeline = buildTimeline(spec.value);
  if (!timeline.ok) return timeline;
  const t = timeline.value;
  return {
    ok: true,
    payload: payload.value,
    summary: `${t.call}: input ${t.inputSize.join('×')} → output ${t.outputSize.join('×')}`,
  };
}

/**
 * The HTML for one ```conv-lens block. `attributes` are the token's own: VS Code's preview marks each block with
 * `data-line` and `class="code-line"` to keep the preview scrolled with the editor, so they are kept (classes
 * merged with ours; attributes this plugin writes itself cannot be overridden).
 */
export function renderFence(source: string, attributes: FenceToken['attrs'] = null): string {
  const outcome = checkFence(source);
  const code = `<pre class="conv-lens-source"><code class="language-${SPEC_LANGUAGE}">${escapeHtml(source)}</code></pre>`;
  const classes = [BLOCK_CLASS];
  if (!outcome.ok) classes.push(INVALID_CLASS);
  let extra = '';
  for (const [name, value] of attributes ?? []) {
    if (name === 'class') classes.push(...value.split(/\s+/).filter((c) => c !== '' && !classes.includes(c)));
    else if (/^[a-z][a-z0-9-]*$/i.test(name) && !OWN_ATTRIBUTES.has(name.toLowerCase())) {
      extra += ` ${name}="${escapeHtml(value)}"`;
    }
  }
  const classAttribute = `class="${escapeHtml(classes.join(' '))}"`;
  if (!outcome.ok) {
    return (
      `<div ${classAttribute} role="alert" ${ERROR_ATTRIBUTE}="${escapeHtml(outcome.error)}"` +
      ` style="border-left: 3px solid var(--vscode-errorForeground, #cf222e); padding: 4px 10px; margin: 0 0 16px"${extra}>` +
      `<p style="margin: 4px 0"><strong>Conv Lens cannot draw this block.</strong> ` +
      `<span class="conv-lens-error-message">${escapeHtml(outcome.error)}</span></p>${code}</div>\n`
    );
  }
  return (
    `<div ${classAttribute} ${PAYLOAD_ATTRIBUTE}="${escapeHtml(JSON.stringify(outcome.payload))}"${extra}>` +
    `${code}<p class="conv-lens-fallback"><em>Conv Lens animation of ${escapeHtml(outcome.summary)}.</em> ` +
    `It plays where the Conv Lens extension runs: VS Code's Markdown preview and notebook Markdown cells.</p></div>\n`
  );
}

/**
 * The markdown-it plugin: ```conv-lens fences render through renderFence; every other fence goes to whatever rule
 * was there before (VS Code's highlighter, another extension's plugin), so plugins compose.
 */
export function convLensMarkdownIt<T extends MarkdownItLike>(md: T): T {
  const renderer = md.renderer as unknown as MarkdownItRenderer;
  const previous = renderer.rules['fence'];
  renderer.rules['fence'] = (tokens, index, options, env, self) => {
    const token = tokens[index]!;
    if (isConvLensFence(token.info)) {
      return renderFence(token.content.replace(/\n$/, ''), token.attrs);
    }
    return previous ? previous(tokens, index, options, env, self) : self.renderToken(tokens, index, options);
  };
  return md;
}

const OWN_ATTRIBUTES = new Set(['class', 'role', 'style', PAYLOAD_ATTRIBUTE, ERROR_ATTRIBUTE]);

/** Reads a placeholder's payload attribute back (the browser side); null when it is not valid JSON. */
export function readPlaceholderPayload(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
