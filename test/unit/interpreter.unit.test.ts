/**
 * The static shape interpreter, construct by construct. Expected shapes follow from the PyTorch docs'
 * formulas (Conv2d: ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1; ConvTranspose2d: (H − 1)s − 2p + d(k − 1) + op + 1),
 * each checked by hand in the comments.
 */
import * as assert from 'node:assert/strict';
import { traceModel } from '../../src/python/analysis';
import type { ModuleLoader } from '../../src/python/interpreter';
import { SourceFile } from '../../src/python/syntax';

/** Files in memory, resolved like a workspace folder. */
function memoryLoader(files: Record<string, string>): ModuleLoader & { file(path: string): SourceFile } {
  const parsed = new Map<string, SourceFile>();
  const file = (path: string) => {
    if (!parsed.has(path)) parsed.set(path, new SourceFile(path, files[path]!));
    return parsed.get(path)!;
  };
  return {
    file,
    resolve(from, moduleName, level) {
      const dir = from.split('/').slice(0, -1);
      const base = level > 0 ? dir.slice(0, dir.length - (level - 1)) : [];
      const joined = [...base, ...moduleName.split('.').filter(Boolean)].join('/');
      for (const candidate of [`${joined}.py`, `${joined}/__init__.py`])
        if (candidate in files) return file(candidate);
      return null;
    },
  };
}

function trace(source: string, entry: string, ...inputs: number[][]) {
  const loader = memoryLoader({ 'model.py': source });
  return traceModel(loader.file('model.py'), entry, inputs, { loader });
}

const HEADER = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';

describe('shape interpreter', () => {
  it('follows a Sequential built from a list with a loop, and records sites', () => {
    const source = `${HEADER}
class Gen(nn.Module):
    def __init__(self, nz=100, ngf=64):
        super().__init__()
        layers = [nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False)]
        ch = ngf * 8
        for _ in range(3):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False)]
            ch //= 2
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z)
`;
    const result = trace(source, 'Gen()', [1, 100, 1, 1]);
    assert.deepEqual(
      result.layers.map((l) => [l.line, l.col, l.op, l.output]),
      [
        [8, 18, 'ConvTranspose2d', [1, 512, 4, 4]], // (1 − 1)·1 + 3 + 1 = 4
        [11, 23, 'ConvTranspose2d', [1, 256, 8, 8]], // (4 − 1)·2 − 2 + 3 + 1 = 8
        [11, 23, 'ConvTranspose2d', [1, 128, 16, 16]],
        [11, 23, 'ConvTranspose2d', [1, 64, 32, 32]],
      ],
    );
    assert.deepEqual(result.problems, []);
  });

  it('handles helpers, partial, OrderedDict, ModuleList, getattr/setattr and f-strings', () => {
    const source = `${HEADER}from collections import OrderedDict
from functools import partial

def conv_bn(cin, cout, stride=1):
    return nn.Sequential(OrderedDict([('conv', nn.Conv2d(cin, cout, 3, stride, 1)), ('act', nn.ReLU())]))

Pool = partial(nn.MaxPool2d, kernel_size=2)

class Net(nn.Module):
    def __init__(self, widths=[8, 16]):
        super().__init__()
        cin = 3
        for i, w in enumerate(widths):
            setattr(self, f'stage{i}', conv_bn(cin, w, stride=2))
            cin = w
        self.pools = nn.ModuleList([Pool() for _ in widths])
        self.n = len(widths)

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, f'stage{i}')(x)
        return self.pools[0](x)
`;
    const result = trace(source, 'Net()', [1, 3, 33, 33]);
    assert.deepEqual(
      result.layers.map((l) => [l.op, l.output]),
      [
        ['Conv2d', [1, 8, 17, 17]], // ⌊(33 + 2 − 3)/2⌋ + 1 = 17
        ['ReLU', [1, 8, 17, 17]],
        ['Conv2d', [1, 16, 9, 9]], // ⌊(17 + 2 − 3)/2⌋ + 1 = 9
        ['ReLU', [1, 16, 9, 9]],
        ['MaxPool2d', [1, 16, 4, 4]], // ⌊(9 − 2)/2⌋ + 1 = 4
      ],
    );
    // The partial's call site is where the module was created.
    assert.equal(result.layers[4]!.line, 19);
  });

  it('follows residual adds, cat, view with -1 and size() reads', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 1)
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        y = y + y
        n = y.size(0)
        return self.fc(y.view(n, -1))
`;
    const result = trace(source, 'Net()', [4, 3, 8, 8]);
    assert.deepEqual(
      result.layers.map((l) => l.input),
      [
        [4, 3, 8, 8],
        [4, 3, 8, 8],
        [4, 1024],
      ],
    );
  });

  it('follows relative imports across files and subclasses', () => {
    const loader = memoryLoader({
      'pkg/__init__.py': '',
      'pkg/parts.py': `${HEADER}
class Base(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c * 2, 3)

class Down(Base):
    def forward(self, x):
        return self.conv(x)
`,
      'pkg/model.py': `${HEADER}from .parts import *

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = Down(4)

    def forward(self, x):
        return self.down(x)
`,
    });
    const result = traceModel(loader.file('pkg/model.py'), 'Model()', [[1, 4, 10, 10]], { loader });
    assert.deepEqual(result.layers, [
      { file: 'pkg/parts.py', line: 8, col: 20, op: 'Conv2d', input: [1, 4, 10, 10], output: [1, 8, 8, 8] },
    ]);
  });

  it('reports a channel mismatch at the layer, with the numbers', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 64, 3)

    def forward(self, x):
        return self.conv(x)
`;
    const result = trace(source, 'Net()', [1, 16, 128, 128]);
    assert.equal(result.layers[0]!.output, null);
    assert.ok(
      result.diagnostics.some((d) => /expects 4 input channels .* has 16 channels/.test(d.message)),
      JSON.stringify(result.diagnostics),
    );
  });

  it('runs both sides of an unknown condition and keeps only what they agree on', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.flag = flag
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        if self.flag:
            x = self.conv(x)
        return self.conv(x)
`;
    const result = trace(source, 'Net(unknown_name)', [1, 3, 9, 9]);
    // Both paths keep (1, 3, 9, 9): the join is exact.
    assert.deepEqual(result.layers.at(-1)!.output, [1, 3, 9, 9]);
  });

  it('never throws on broken, truncated or hostile code, and stops runaway loops', () => {
    const samples = [
      `${HEADER}class Net(nn.Module):\n    def __init__(self):\n        self.conv = nn.Conv2d(3, `,
      `${HEADER}class Net(nn.Module):\n    def forward(self, x):\n        while True:\n            x = x + 1\n`,
      `${HEADER}def f(n):\n    return f(n + 1)\nclass Net(nn.Module):\n    def forward(self, x):\n        f(0)\n        return x\n`,
      `${HEADER}x = [0] * 10**9\n`,
      ')))(((',
    ];
    for (const source of samples) {
      const started = Date.now();
      const result = trace(source, 'Net()', [1, 3, 8, 8]);
      assert.ok(Array.isArray(result.layers));
      assert.ok(Date.now() - started < 20_000);
    }
  });
});
