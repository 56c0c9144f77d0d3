/**
 * The ```conv-lens markdown-it plugin (src/markdown/fence.ts) on a real markdown-it (version 14, the one VS Code's
 * Markdown preview and notebook Markdown renderer use): valid blocks become placeholders that carry exactly the
 * payload the core reads from the spec, invalid ones become the core's message, other fences are untouched, and
 * nothing from a block can reach the page as markup.
 */
import * as assert from 'node:assert/strict';
import { parseSpec, specToPayload } from '../../src/core/animation/spec';
import { timelineFromPayload } from '../../src/core/animation/timeline';
import {
  BLOCK_CLASS,
  ERROR_ATTRIBUTE,
  INVALID_CLASS,
  PAYLOAD_ATTRIBUTE,
  checkFence,
  convLensMarkdownIt,
  escapeHtml,
  isConvLensFence,
  readPlaceholderPayload,
} from '../../src/markdown/fence';

/** The part of markdown-it's API these tests use (the package ships no types of its own). */
interface Token {
  type: string;
  info: string;
  content: string;
  map: [number, number] | null;
  attrs: Array<[string, string]> | null;
  attrSet(name: string, value: string): void;
  attrJoin(name: string, value: string): void;
}
type Rule = (tokens: Token[], index: number, options: unknown, env: unknown, self: Renderer) => string;
interface Renderer {
  rules: Record<string, Rule | undefined>;
  renderToken(tokens: Token[], index: number, options: unknown): string;
}
interface MarkdownIt {
  renderer: Renderer;
  core: { ruler: { push(name: string, rule: (state: { tokens: Token[] }) => void): void } };
  render(source: string, env?: unknown): string;
}
// markdown-it comes with @vscode/vsce; VS Code's Markdown preview and notebook renderer run the same major version.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (options?: { html?: boolean }) => MarkdownIt;

function markdown(): MarkdownIt {
  return convLensMarkdownIt(new MarkdownIt({ html: true }));
}

/** Undoes escapeHtml, as an HTML parser would for an attribute value. */
function unescape(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(html: string, name: string): string | null {
  const match = new RegExp(`${name}="([^"]*)"`).exec(html);
  return match ? unescape(match[1]!) : null;
}

describe('```conv-lens Markdown fences', () => {
  it('recognises the fence language, with or without attributes, in any case', () => {
    assert.equal(isConvLensFence('conv-lens'), true);
    assert.equal(isConvLensFence('  Conv-Lens {.wide}'), true);
    assert.equal(isConvLensFence('conv-lens-extra'), false);
    assert.equal(isConvLensFence('python'), false);
    assert.equal(isConvLensFence(''), false);
  });

  it('turns a valid block into a placeholder carrying the payload the core reads from it', () => {
    const spec =
      'conv_transpose2d input=3x3 kernel=3 stride=2 padding=1 output_padding=1\nframework: pytorch  # rules';
    const html = markdown().render(`# Up-sampling\n\n\`\`\`conv-lens\n${spec}\n\`\`\`\n`);
    assert.match(html, new RegExp(`<div class="${BLOCK_CLASS}" ${PAYLOAD_ATTRIBUTE}="`));
    const payload = readPlaceholderPayload(attribute(html, PAYLOAD_ATTRIBUTE));
    const expected = specToPayload(spec);
    assert.ok(expected.ok);
    assert.deepEqual(payload, expected.value);
    // The placeholder's payload draws the same timeline as the spec.
    const t = timelineFromPayload(payload);
    assert.ok(t.ok);
    assert.deepEqual(t.value.outputSize, [6, 6]);
    // The source stays readable where no script runs, and the fallback names the layer and its sizes.
    assert.match(
      html,
      /<pre class="conv-lens-source"><code class="language-conv-lens">conv_transpose2d input=3x3/,
    );
    assert.match(html, /torch\.nn\.ConvTranspose2d\(.*\): input 3×3 → output 6×6/);
    assert.doesNotMatch(html, new RegExp(INVALID_CLASS));
  });

  it('shows the core message, with the line, for a block that cannot be drawn', () => {
    const cases: Array<[string, RegExp]> = [
      ['conv2d input=5x5 kernal=3', /^Unknown field "kernal"\. Did you mean "kernel"\?/],
      ['conv2d input=5x5\nkernel=(3, 3', /^line 2: a bracket is not closed\.$/],
      [
        'conv2d input=5x5 kernel=3 output_padding=1',
        /"output_padding" only applies to transposed convolutions/,
      ],
      // Well-formed, but no output: caught by the timeline, not left for the browser to fail on.
      ['conv2d input=2x2 kernel=5', /smaller than the kernel \(5\)/],
      ['', /The conv-lens block is empty/],
    ];
    for (const [spec, message] of cases) {
      const html = markdown().render(`\`\`\`conv-lens\n${spec}\n\`\`\`\n`);
      assert.match(html, new RegExp(`class="${BLOCK_CLASS} ${INVALID_CLASS}" role="alert"`), spec);
      assert.doesNotMatch(html, new RegExp(PAYLOAD_ATTRIBUTE), spec);
      const error = attribute(html, ERROR_ATTRIBUTE);
      assert.match(error ?? '', message, spec);
      assert.match(html, /<strong>Conv Lens cannot draw this block\.<\/strong>/);
      const check = checkFence(spec);
      assert.equal(check.ok, false);
      assert.equal(check.ok ? '' : check.error, error);
      // Where the spec parser itself fails, the fence shows the very same message.
      const parsed = parseSpec(spec);
      if (!parsed.ok) assert.equal(error, parsed.error);
    }
  });

  it('leaves every other fence to the rule that was there before', () => {
    const plain = new MarkdownIt().render('```python\nx = 1\n```\n');
    assert.equal(markdown().render('```python\nx = 1\n```\n'), plain);
    // A highlighter or another plugin installed before keeps working.
    const md = new MarkdownIt();
    const previous = md.renderer.rules.fence!;
    md.renderer.rules.fence = (tokens, index, options, env, self) =>
      `<!-- highlighted -->${previous(tokens, index, options, env, self)}`;
    convLensMarkdownIt(md);
    const html = md.render('```js\n1\n```\n\n```conv-lens\nconv1d input=7 kernel=3\n```\n');
    assert.match(html, /^<!-- highlighted --><pre><code class="language-js">1\n<\/code><\/pre>/);
    assert.equal(html.match(/<!-- highlighted -->/g)?.length, 1);
    assert.match(html, new RegExp(PAYLOAD_ATTRIBUTE));
  });

  it("keeps VS Code's line markers, merging classes, so the preview scrolls with the editor", () => {
    const md = markdown();
    // What VS Code's Markdown preview does: every block token gets data-line and the code-line class.
    md.core.ruler.push('source_map_data_attribute', (state) => {
      for (const token of state.tokens) {
        if (token.map && token.type !== 'inline') {
          token.attrSet('data-line', String(token.map[0]));
          token.attrJoin('class', 'code-line');
        }
      }
    });
    const html = md.render(
      'Text.\n\n```conv-lens\nconv2d input=4x4 kernel=2\n```\n\n```conv-lens\nconv2d\n```\n',
    );
    assert.match(
      html,
      new RegExp(`<div class="${BLOCK_CLASS} code-line" ${PAYLOAD_ATTRIBUTE}="[^"]*" data-line="2">`),
    );
    assert.match(
      html,
      new RegExp(`<div class="${BLOCK_CLASS} ${INVALID_CLASS} code-line" role="alert" [^>]*data-line="6">`),
    );
    assert.equal(
      html.match(/ class="/g)?.length,
      html.match(/<[a-z]+ [^>]*class="/g)?.length,
      'one class attribute per tag',
    );
  });

  it('lets nothing in a block reach the page as markup', () => {
    const hostile = `conv2d input=5x5 kernel=3\ntitle: "<img src=x onerror=alert(1)> & \\" '"`;
    const html = markdown().render(`\`\`\`conv-lens\n${hostile}\n\`\`\`\n`);
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /onerror=alert\(1\)>/);
    const payload = readPlaceholderPayload(attribute(html, PAYLOAD_ATTRIBUTE));
    assert.equal(payload?.['title'], `<img src=x onerror=alert(1)> & \\" '`);
    const refused = markdown().render('```conv-lens\nconv2d input=5x5 <script>=1\n```\n');
    assert.doesNotMatch(refused, /<script>/);
    assert.match(refused, /&lt;script&gt;/);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('reads placeholder payloads back defensively', () => {
    assert.deepEqual(readPlaceholderPayload('{"op":"conv"}'), { op: 'conv' });
    assert.equal(readPlaceholderPayload('[1, 2]'), null);
    assert.equal(readPlaceholderPayload('{"op":'), null);
    assert.equal(readPlaceholderPayload(null), null);
  });
});
