/**
 * The vscode-free half of the editor features: the analysis engine the worker runs (incremental parsing,
 * imports read from the editor's text, layer calls found from the syntax) and the hover and hint texts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AnalysisEngine,
  layerCalls,
  MAX_ANALYZED_CHARS,
  textChange,
} from '../../src/extension/analysisEngine';
import type { EditorLayer } from '../../src/extension/analysisProtocol';
import {
  callHoverMarkdown,
  escapeMarkdown,
  formatDims,
  formatMacs,
  layerHintText,
  layerHoverMarkdown,
} from '../../src/extension/shapePresentation';
import { SourceFile } from '../../src/python/syntax';

/** The repository: three folders up from out/test/unit when compiled, or the working folder when bundled. */
const root =
  [path.resolve(__dirname, '../../..'), process.cwd()].find((dir) =>
    fs.existsSync(path.join(dir, 'examples', 'pytorch', 'dcgan.py')),
  ) ?? process.cwd();
const dcganPath = path.join(root, 'examples', 'pytorch', 'dcgan.py');

function analyze(engine: AnalysisEngine, filePath: string, text: string, version = 1) {
  return engine.analyze({ key: filePath, path: filePath, version, text, inputShapes: {} });
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

describe('textChange', () => {
  it('finds the one replaced range that turns one text into the other', () => {
    const cases: [string, string][] = [
      ['abcdef', 'abXYef'],
      ['abc', 'abc!'],
      ['abc', 'Xabc'],
      ['aaaa', 'aa'],
      ['', 'new'],
      ['gone', ''],
      ['x = conv(x)\n', 'x = self.conv(x)\n'],
    ];
    for (const [before, after] of cases) {
      const change = textChange(before, after);
      assert.ok(change, `${before} → ${after}`);
      const rebuilt =
        before.slice(0, change.from) +
        after.slice(change.from, change.from + change.insertLength) +
        before.slice(change.to);
      assert.equal(rebuilt, after, `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      assert.ok(change.from <= change.to && change.to <= before.length);
    }
    assert.equal(textChange('same', 'same'), null);
  });

  it('lets the engine re-parse incrementally to the same tree as a fresh parse', () => {
    const engine = new AnalysisEngine();
    const text = fs.readFileSync(dcganPath, 'utf8');
    engine.openFile('/virtual/dcgan.py', text);
    const edits = [
      text.replace('ngf * 8, 4, 1, 0', 'ngf * 8, 5, 1, 0'),
      text.replace('    def forward(self, z', '    # a comment\n    def forward(self, z'),
      text.replace('nn.Tanh(),', ''),
      text.slice(0, 500),
    ];
    for (const edited of edits) {
      const incremental = engine.openFile('/virtual/dcgan.py', edited);
      assert.equal(incremental.tree.toString(), new SourceFile('/fresh.py', edited).tree.toString());
    }
  });
});

describe('AnalysisEngine', () => {
  it('reports the layers of dcgan.py with their constructors as written and the forward calls', () => {
    const text = fs.readFileSync(dcganPath, 'utf8');
    const analysis = analyze(new AnalysisEngine(), dcganPath, text);
    assert.deepEqual(analysis.problems, []);
    const first = analysis.layers[0]!;
    assert.equal(first.callee, 'nn.ConvTranspose2d');
    assert.equal(lineOf(text, first.from), 22);
    assert.deepEqual(first.formulas, ['H_out = H_in + 3', 'W_out = W_in + 3']);
    assert.deepEqual(first.applications[0]?.output, [16, 512, 4, 4]);
    // `return self.main(z)` applies the Sequential's 14 layers; `self.main(image)` the discriminator's 13.
    const mains = analysis.calls.filter((call) => call.name === 'self.main');
    assert.deepEqual(
      mains.map((call) => [lineOf(text, call.from), call.layers.length, call.container]),
      [
        [43, 14, true],
        [71, 13, true],
      ],
    );
    assert.equal(analysis.layers[mains[0]!.layers[0]!], first);
  });

  it('maps self attributes, local names and constructors applied at once to their layers', () => {
    const text = [
      'from torch import nn',
      'class Net(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(3, 8, 3)',
      '    def forward(self, x):',
      '        x = self.conv(x)',
      '        return nn.MaxPool2d(2)(x)',
      'pool = nn.MaxPool2d(2)',
      'def helper(t):',
      '    return pool(t)',
      '',
    ].join('\n');
    const file = new SourceFile('/virtual/net.py', text);
    const site = (needle: string): EditorLayer => {
      const from = text.indexOf(needle);
      const to = text.indexOf(')', from) + 1;
      return {
        from,
        to,
        callee: needle.split('(')[0]!,
        className: needle.split('(')[0]!.split('.')[1]!,
        framework: 'torch',
        qualifiedName: null,
        receptiveField: null,
        formulas: [],
        weightShape: null,
        params: null,
        applications: [],
        notes: [],
      };
    };
    const conv = site('nn.Conv2d(3, 8, 3)');
    const inlinePool = site('nn.MaxPool2d(2)(x)');
    const pool = { ...site('nn.MaxPool2d(2)\ndef'), to: text.indexOf('\ndef') };
    const calls = layerCalls(file, [conv, inlinePool, pool]);
    assert.deepEqual(
      calls.map((call) => [text.slice(call.from, call.to), call.layers, call.container]),
      [
        ['self.conv(x)', [0], false],
        ['nn.MaxPool2d(2)(x)', [1], false],
        ['pool(t)', [2], false],
      ],
    );
    // The statement around the call, so a hover anywhere on the line finds it.
    assert.equal(text.slice(calls[0]!.statementFrom, calls[0]!.statementTo), 'x = self.conv(x)');
  });

  it("reads an imported module from the editor's text when it is open, and lists it as a dependency", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-engine-'));
    try {
      const models = path.join(dir, 'models.py');
      const main = path.join(dir, 'main.py');
      const modelsText = [
        'from torch import nn',
        'class Net(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.conv = nn.Conv2d(3, 8, 3)',
        '    def forward(self, x):',
        '        return self.conv(x)',
        '',
      ].join('\n');
      fs.writeFileSync(models, modelsText);
      const mainText = [
        'import torch',
        'from models import Net',
        'y = Net()(torch.randn(1, 3, 32, 32))',
        '',
      ].join('\n');
      const engine = new AnalysisEngine();
      engine.setRoots([dir]);
      const before = analyze(engine, main, mainText);
      assert.deepEqual(before.dependencies, [models]);
      assert.deepEqual(
        before.hints.map((hint) => hint.text),
        ['(1, 8, 30, 30)'],
      );
      // The same module, edited in the editor but not saved: the analysis follows the editor.
      engine.setOverlay(models, modelsText.replace('nn.Conv2d(3, 8, 3)', 'nn.Conv2d(3, 16, 5)'));
      const edited = analyze(engine, main, mainText, 2);
      assert.deepEqual(
        edited.hints.map((hint) => hint.text),
        ['(1, 16, 28, 28)'],
      );
      // Closed without saving: the disk again.
      engine.setOverlay(models, null);
      assert.deepEqual(
        analyze(engine, main, mainText, 3).hints.map((hint) => hint.text),
        ['(1, 8, 30, 30)'],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips a text larger than 1 MB, saying so', () => {
    const text = '# filler\n'.repeat(Math.ceil(MAX_ANALYZED_CHARS / 9) + 1);
    const analysis = analyze(new AnalysisEngine(), '/virtual/big.py', text);
    assert.deepEqual(analysis.layers, []);
    assert.match(analysis.problems[0]!, /larger than 1 MB/);
  });
});

describe('shape presentation', () => {
  const text = fs.readFileSync(dcganPath, 'utf8');
  const analysis = analyze(new AnalysisEngine(), dcganPath, text);

  it('shows a layer with its formulas, weight, parameters and each input → output with its source', () => {
    const markdown = layerHoverMarkdown(analysis.layers[0]!)!;
    assert.ok(markdown.startsWith('**`nn.ConvTranspose2d`**'), markdown);
    assert.ok(markdown.includes('`H_out = H_in + 3` · `W_out = W_in + 3`'), markdown);
    assert.ok(markdown.includes('weight `(100, 512, 4, 4)` · 819,200 parameters'), markdown);
    assert.ok(
      markdown.includes('| `(16, 100, 1, 1)` | `(16, 512, 4, 4)` | an example call in this file | 13.1 M |'),
      markdown,
    );
  });

  it('says nothing about a layer nothing is known about', () => {
    const bare: EditorLayer = { ...analysis.layers[0]!, formulas: [], weightShape: null, applications: [] };
    assert.equal(layerHoverMarkdown(bare), null);
  });

  it('shows a forward call on a container as one row per layer', () => {
    const call = analysis.calls.find((c) => c.name === 'self.main')!;
    const markdown = callHoverMarkdown(
      call,
      analysis.layers,
      (offset) => lineOf(text, offset),
      '(16, 3, 64, 64)',
    )!;
    assert.ok(markdown.includes('**`self.main`**: 14 layers'), markdown);
    assert.ok(
      markdown.includes('| `nn.ConvTranspose2d` (line 22) | `(16, 100, 1, 1)` | `(16, 512, 4, 4)` |'),
      markdown,
    );
    assert.ok(markdown.endsWith('Result: `(16, 3, 64, 64)`'), markdown);
  });

  it('gives a definition line a hint only when its output is one shape', () => {
    assert.equal(layerHintText(analysis.layers[0]!), '(16, 512, 4, 4)');
    const twice: EditorLayer = {
      ...analysis.layers[0]!,
      applications: [
        {
          input: [1, 100, 1, 1],
          output: [1, 512, 4, 4],
          macs: null,
          source: 'a',
          callFrom: null,
          callTo: null,
        },
        {
          input: [2, 100, 1, 1],
          output: [2, 512, 4, 4],
          macs: null,
          source: 'a',
          callFrom: null,
          callTo: null,
        },
      ],
    };
    assert.equal(layerHintText(twice), null);
  });

  it('formats shapes, counts and text the way the hovers need', () => {
    assert.equal(formatDims([1, null, 3]), '(1, ?, 3)');
    assert.equal(formatDims([7]), '(7,)');
    assert.equal(formatDims(null), '?');
    assert.equal(formatMacs(13_107_200), '13.1 M');
    assert.equal(formatMacs(950), '950');
    assert.equal(escapeMarkdown('a*b_c|d'), 'a\\*b\\_c\\|d');
  });
});
