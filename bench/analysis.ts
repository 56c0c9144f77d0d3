/**
 * How fast the editor analysis is on a large model file: a generated 5,000-line file of realistic modules
 * (conv stacks, residual blocks, a U-Net-style network with skips), timed for the first parse, a full
 * analysis, an incremental re-parse after a one-character edit, the re-analysis, and a hover lookup.
 * Run with `npm run bench:analysis`; prints a table and writes bench/results/analysis.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeDocument } from '../src/python/document';
import { SourceFile } from '../src/python/syntax';

function block(i: number): string {
  return `
class Block${i}(nn.Module):
    def __init__(self, cin=${16 + (i % 4) * 16}, cout=${32 + (i % 3) * 16}, stride=${1 + (i % 2)}):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 or cin != cout else nn.Identity()
        self.up = nn.ConvTranspose2d(cout, cout, 4, stride=2, padding=1)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        y = F.relu(y + self.skip(x))
        return self.up(y)


# convlens: input (2, ${16 + (i % 4) * 16}, 64, 64)
class Net${i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Block${i}()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(${32 + (i % 3) * 16}, 10))

    def forward(self, x):
        return self.head(self.stem(x))
`;
}

const header = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';
let text = header;
for (let i = 0; text.split('\n').length < 5000; i++) text += block(i);
const lines = text.split('\n').length;

function time<T>(run: () => T, repeats = 5): { value: T; ms: number } {
  const samples: number[] = [];
  let value!: T;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    value = run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { value, ms: samples[Math.floor(samples.length / 2)]! };
}

const parse = time(() => new SourceFile('big.py', text));
const analysis = time(() => analyzeDocument(parse.value), 3);
const editAt = text.indexOf('stride=2, padding=1)') + 'stride='.length;
const edited = text.slice(0, editAt) + '3' + text.slice(editAt + 1);
const reparse = time(
  () =>
    new SourceFile('big.py', edited, {
      tree: parse.value.tree,
      changes: [{ from: editAt, to: editAt + 1, insertLength: 1 }],
    }),
);
const reanalysis = time(() => analyzeDocument(reparse.value), 3);
const target = analysis.value.layers[Math.floor(analysis.value.layers.length / 2)]!;
const hover = time(
  () => analysis.value.layers.find((layer) => layer.from <= target.from && target.from < layer.to),
  50,
);

const rows = [
  ['first parse', parse.ms],
  ['full analysis', analysis.ms],
  ['incremental re-parse after an edit', reparse.ms],
  ['re-analysis after the edit', reanalysis.ms],
  ['hover lookup (cached analysis)', hover.ms],
] as const;
console.log(
  `Analysis of a ${lines}-line model file (${analysis.value.layers.length} layer sites, ${analysis.value.hints.length} shape hints); median ms`,
);
for (const [what, ms] of rows) console.log(`  ${what.padEnd(40)} ${ms.toFixed(2).padStart(9)}`);
if (analysis.value.problems.length) console.log(`  note: ${analysis.value.problems.join('; ')}`);
const out = path.resolve('bench/results');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(
  path.join(out, 'analysis.json'),
  JSON.stringify(
    {
      lines,
      layerSites: analysis.value.layers.length,
      results: Object.fromEntries(rows),
      problems: analysis.value.problems,
    },
    null,
    2,
  ),
);
