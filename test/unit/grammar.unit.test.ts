/**
 * The TextMate grammar of the ```conv-lens spec language (syntaxes/), tokenized by vscode-textmate with the
 * Oniguruma regex engine, as VS Code does. Grammars are found the way VS Code finds them: through package.json's
 * contributes.grammars (scope names, paths, injectTo), so the manifest is tested too. The grammar must agree with
 * the parser (src/core/animation): every operation and setting name the parser accepts is named, the ones it
 * refuses are marked invalid. The Markdown injection is tested on VS Code's own Markdown grammar when code-server
 * is in the cache (test/host/toolchain.mjs puts it there), and always on a minimal stand-in.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { parseAnimationPayload } from '../../src/core/animation/payload';
import { specToPayload } from '../../src/core/animation/spec';

function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'conv-lens')
      return dir;
  }
  return process.cwd();
}

const ROOT = repositoryRoot();

interface GrammarContribution {
  language?: string;
  scopeName: string;
  path: string;
  injectTo?: string[];
  embeddedLanguages?: Record<string, string>;
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { grammars: GrammarContribution[]; languages: Array<{ id: string }> };
};

/** VS Code's Markdown grammar from the code-server that the host tests install, if it is there. */
function vscodeMarkdownGrammar(): string | null {
  const cache = process.env['CONV_LENS_CACHE'] || path.join(os.homedir(), '.cache', 'conv-lens');
  if (!fs.existsSync(cache)) return null;
  for (const name of fs
    .readdirSync(cache)
    .filter((entry) => entry.startsWith('code-server-'))
    .sort()) {
    const file = path.join(
      cache,
      name,
      'node_modules/code-server/lib/vscode/extensions/markdown-basics/syntaxes/markdown.tmLanguage.json',
    );
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/**
 * A stand-in for VS Code's Markdown grammar: its catch-all fenced block, which a ```conv-lens fence would fall into
 * without the injection, and paragraphs.
 */
const STAND_IN_MARKDOWN = JSON.stringify({
  scopeName: 'text.html.markdown',
  patterns: [{ include: '#fenced' }, { include: '#paragraph' }],
  repository: {
    fenced: {
      begin: '(^|\\G)(\\s*)(`{3,}|~{3,})\\s*(?=([^`]*)?$)',
      end: '(^|\\G)(\\2|\\s{0,3})(\\3)\\s*$',
      name: 'markup.fenced_code.block.markdown',
      contentName: 'markup.raw.block.markdown',
    },
    paragraph: { match: '.+', name: 'meta.paragraph.markdown' },
  },
});

let onigurumaReady: Promise<textmate.IOnigLib> | null = null;
function onigLib(): Promise<textmate.IOnigLib> {
  onigurumaReady ??= (async () => {
    const wasm = fs.readFileSync(path.join(ROOT, 'node_modules/vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    return {
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    };
  })();
  return onigurumaReady;
}

/** A registry that loads grammars as VS Code would from this extension's manifest (plus a Markdown grammar). */
async function registry(markdownGrammar: { file: string; content: string }): Promise<textmate.Registry> {
  const byScope = new Map<string, string>();
  const injections = new Map<string, string[]>();
  for (const grammar of manifest.contributes.grammars) {
    byScope.set(grammar.scopeName, path.join(ROOT, grammar.path));
    for (const target of grammar.injectTo ?? []) {
      injections.set(target, [...(injections.get(target) ?? []), grammar.scopeName]);
    }
  }
  return new textmate.Registry({
    onigLib: onigLib(),
    loadGrammar: async (scopeName) => {
      if (scopeName === 'text.html.markdown') {
        return textmate.parseRawGrammar(markdownGrammar.content, markdownGrammar.file);
      }
      const file = byScope.get(scopeName);
      // Other embedded languages (```python…) are not needed; VS Code would load them from their own extensions.
      return file ? textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null;
    },
    getInjections: (scopeName) => injections.get(scopeName),
  });
}

interface Token {
  text: string;
  scopes: string[];
}

function tokenize(grammar: textmate.IGrammar, text: string): Token[][] {
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((token) => ({
      text: line.slice(token.startIndex, token.endIndex),
      scopes: token.scopes,
    }));
  });
}

/** The innermost scope of the token that covers `text` (the first one on the line). */
function scopeOf(line: Token[], text: string): string {
  const token = line.find((candidate) => candidate.text === text);
  assert.ok(token, `No token "${text}" in ${JSON.stringify(line.map((t) => t.text))}`);
  return token.scopes[token.scopes.length - 1]!;
}

function hasScope(line: Token[], text: string, scope: string): boolean {
  const token = line.find((candidate) => candidate.text === text);
  return token !== undefined && token.scopes.includes(scope);
}

describe('TextMate grammar for the ```conv-lens spec language', () => {
  let spec: textmate.IGrammar;
  const standIn = { file: 'stand-in-markdown.json', content: STAND_IN_MARKDOWN };

  before(async () => {
    const loaded = await (await registry(standIn)).loadGrammar('source.conv-lens');
    assert.ok(loaded, 'source.conv-lens did not load');
    spec = loaded;
  });

  it('is contributed for the conv-lens language, with the Markdown injection', () => {
    assert.ok(manifest.contributes.languages.some((language) => language.id === 'conv-lens'));
    const own = manifest.contributes.grammars.find((grammar) => grammar.scopeName === 'source.conv-lens');
    assert.equal(own?.language, 'conv-lens');
    const injection = manifest.contributes.grammars.find((grammar) =>
      grammar.injectTo?.includes('text.html.markdown'),
    );
    assert.deepEqual(injection?.embeddedLanguages, { 'meta.embedded.block.conv-lens': 'conv-lens' });
    for (const grammar of manifest.contributes.grammars)
      assert.ok(fs.existsSync(path.join(ROOT, grammar.path)));
  });

  it('names the operation, settings, sizes, words and comments of a one-line spec', () => {
    const [line] = tokenize(
      spec,
      'conv_transpose2d input=3x3 kernel=3 stride = 2 padding=same output_padding=1  # a comment',
    );
    assert.equal(scopeOf(line!, 'conv_transpose2d'), 'entity.name.function.operation.conv-lens');
    assert.equal(scopeOf(line!, 'input'), 'variable.parameter.setting.conv-lens');
    assert.equal(scopeOf(line!, '='), 'keyword.operator.assignment.conv-lens');
    assert.equal(scopeOf(line!, 'x'), 'keyword.operator.times.conv-lens');
    assert.equal(scopeOf(line!, '3'), 'constant.numeric.integer.conv-lens');
    assert.equal(scopeOf(line!, 'stride'), 'variable.parameter.setting.conv-lens');
    assert.equal(scopeOf(line!, '2'), 'constant.numeric.integer.conv-lens');
    assert.equal(scopeOf(line!, 'same'), 'constant.language.padding.conv-lens');
    assert.equal(scopeOf(line!, '#'), 'punctuation.definition.comment.conv-lens');
    assert.ok(hasScope(line!, ' a comment', 'comment.line.number-sign.conv-lens'));
  });

  it('reads key: value lines, tuples, JSON values, strings and booleans', () => {
    const lines = tokenize(
      spec,
      [
        'framework: pytorch',
        'padding: ((1, 2), (0, 1))',
        'values: {"input": [1, 2.5, -3]}',
        'ceil_mode=True view=scatter title="a # is not a comment"',
        'op: MaxPool2d',
      ].join('\n'),
    );
    assert.equal(scopeOf(lines[0]!, 'framework'), 'variable.parameter.setting.conv-lens');
    assert.equal(scopeOf(lines[0]!, ':'), 'punctuation.separator.key-value.conv-lens');
    assert.equal(scopeOf(lines[0]!, 'pytorch'), 'support.constant.framework.conv-lens');
    assert.equal(scopeOf(lines[1]!, '('), 'punctuation.section.parens.begin.conv-lens');
    assert.ok(hasScope(lines[1]!, '2', 'meta.tuple.conv-lens'));
    assert.equal(scopeOf(lines[2]!, '{'), 'punctuation.section.braces.begin.conv-lens');
    assert.ok(hasScope(lines[2]!, 'input', 'string.quoted.double.conv-lens'));
    assert.equal(scopeOf(lines[2]!, '2.5'), 'constant.numeric.float.conv-lens');
    assert.equal(scopeOf(lines[2]!, '-3'), 'constant.numeric.integer.conv-lens');
    assert.equal(scopeOf(lines[3]!, 'True'), 'constant.language.boolean.conv-lens');
    assert.equal(scopeOf(lines[3]!, 'scatter'), 'constant.language.view.conv-lens');
    assert.ok(hasScope(lines[3]!, 'a # is not a comment', 'string.quoted.double.conv-lens'));
    assert.ok(lines[3]!.every((token) => !token.scopes.some((s) => s.startsWith('comment.'))));
    assert.equal(scopeOf(lines[4]!, 'MaxPool2d'), 'entity.name.function.operation.conv-lens');
  });

  it('marks what the parser would refuse: unknown settings and operations', () => {
    const [line] = tokenize(spec, 'convolve2d input=5x5 kernal=3');
    assert.equal(scopeOf(line!, 'convolve2d'), 'invalid.illegal.unknown-operation.conv-lens');
    assert.equal(scopeOf(line!, 'kernal'), 'invalid.illegal.unknown-setting.conv-lens');
    assert.equal(scopeOf(line!, 'input'), 'variable.parameter.setting.conv-lens');
  });

  it('agrees with the parser on every operation spelling', () => {
    const words = [
      'conv',
      'conv1d',
      'conv2d',
      'Conv2d',
      'conv_2d',
      'convolution',
      'convolution2d',
      'conv3d',
      'ConvTranspose2d',
      'conv_transpose2d',
      'conv-transpose1d',
      'convtranspose',
      'deconv',
      'deconv2d',
      'transposed',
      'transposed_conv',
      'max_pool',
      'MaxPool2d',
      'maxpool1d',
      'max_pool2d',
      'avg_pool',
      'AvgPool2d',
      'average_pool2d',
      'AveragePool',
      'averagepool1d',
      'convolve',
      'pool',
      'upsample',
      'linear',
      'conv4d',
      'maxpooling2d',
      'dense',
      'transpose',
    ];
    for (const word of words) {
      const outcome = parseAnimationPayload({ op: word, input: [5, 5], kernel: 1 });
      const parserAccepts = outcome.ok || !/cannot animate/.test(outcome.error);
      const [line] = tokenize(spec, `${word} input=5x5 kernel=1`);
      const scope = scopeOf(line!, word);
      assert.equal(
        scope === 'entity.name.function.operation.conv-lens',
        parserAccepts,
        `${word}: grammar says ${scope}, parser ${outcome.ok ? 'accepts' : `says ${outcome.error}`}`,
      );
    }
  });

  it('agrees with the parser on every setting name', () => {
    const grammar = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'syntaxes/conv-lens.tmLanguage.json'), 'utf8'),
    ) as { repository: { key: { match: string } } };
    const names = /\^\(\?:(.*)\)\$/.exec(grammar.repository.key.match)![1]!.split('|');
    assert.ok(names.length >= 15);
    for (const name of names) {
      // Written as a spec, each name reaches the payload reader, which must know it.
      const payload = specToPayload(`${name}=1`);
      assert.ok(payload.ok, name);
      const outcome = parseAnimationPayload(payload.value);
      assert.ok(
        !outcome.ok && !/Unknown field/.test(outcome.error),
        `${name}: ${outcome.ok ? '' : outcome.error}`,
      );
    }
    // And a name it does not know is refused by both.
    const unknown = parseAnimationPayload({ kernal: 1 });
    assert.ok(!unknown.ok && /Unknown field "kernal"/.test(unknown.error));
    assert.ok(!names.includes('kernal'));
    // Every field the parser lists as known is named by the grammar.
    const refused = parseAnimationPayload({ op: 'conv', nonsense_field: 1 });
    assert.ok(!refused.ok);
    const known = /Known fields: (.*)\.$/.exec(refused.error)![1]!.split(', ');
    for (const field of known) assert.ok(names.includes(field), `the grammar does not know "${field}"`);
  });

  const hosts: Array<[string, () => { file: string; content: string } | null]> = [
    ['a stand-in Markdown grammar', () => standIn],
    [
      "VS Code's own Markdown grammar",
      () => {
        const file = vscodeMarkdownGrammar();
        return file ? { file, content: fs.readFileSync(file, 'utf8') } : null;
      },
    ],
  ];
  for (const [name, load] of hosts) {
    it(`highlights \`\`\`conv-lens fences in Markdown (${name})`, async function () {
      const host = load();
      if (!host) {
        // Without code-server in the cache only the stand-in runs; CI installs it before the unit tests.
        this.skip();
      }
      const markdown = await (await registry(host)).loadGrammar('text.html.markdown');
      assert.ok(markdown);
      const lines = tokenize(
        markdown,
        [
          '# Up-sampling',
          '',
          '```conv-lens',
          'conv_transpose2d input=3x3 kernel=3 stride=2  # doubles the size',
          'framework: pytorch',
          '```',
          '',
          'After the block.',
          '',
          '~~~ conv-lens',
          'max_pool2d input=4x4 kernel=2',
          '~~~',
          '',
          '```python',
          'conv2d = 1',
          '```',
        ].join('\n'),
      );
      const embedded = 'meta.embedded.block.conv-lens';
      assert.ok(hasScope(lines[2]!, 'conv-lens', 'fenced_code.block.language.markdown'), 'fence language');
      assert.ok(hasScope(lines[3]!, 'conv_transpose2d', embedded));
      assert.ok(hasScope(lines[3]!, 'conv_transpose2d', 'entity.name.function.operation.conv-lens'));
      assert.ok(hasScope(lines[3]!, 'stride', 'variable.parameter.setting.conv-lens'));
      assert.ok(lines[3]!.some((token) => token.scopes.includes('comment.line.number-sign.conv-lens')));
      assert.ok(hasScope(lines[4]!, 'pytorch', 'support.constant.framework.conv-lens'));
      // The closing fence ends the block: the text after it is Markdown again.
      assert.ok(
        lines[5]!.every((token) => !token.scopes.includes(embedded)),
        'closing fence',
      );
      assert.ok(
        lines[7]!.every((token) => !token.scopes.some((s) => s.endsWith('.conv-lens'))),
        'after the block',
      );
      assert.ok(hasScope(lines[10]!, 'max_pool2d', 'entity.name.function.operation.conv-lens'), '~~~ fence');
      // Other fences are not conv-lens.
      assert.ok(
        lines[14]!.every((token) => !token.scopes.some((s) => s.endsWith('.conv-lens'))),
        '```python',
      );
    });
  }
});
