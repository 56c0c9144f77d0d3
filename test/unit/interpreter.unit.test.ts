/**
 * The static shape interpreter, construct by construct. Expected shapes follow from the PyTorch docs'
 * formulas (Conv2d: ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1; ConvTranspose2d: (H − 1)s − 2p + d(k − 1) + op + 1),
 * each checked by hand in the comments.
 */
import * as assert from 'node:assert/strict';
import { traceModel } from '../../src/python/analysis';
import { BudgetExceeded, Interpreter, type ModuleLoader } from '../../src/python/interpreter';
import { Library } from '../../src/python/library';
import { SourceFile } from '../../src/python/syntax';
import { Scope, tensor } from '../../src/python/values';

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

/** [line, col, op, output] of each traced layer call. */
function rows(result: ReturnType<typeof trace>) {
  return result.layers.map((l) => [l.line, l.col, l.op, l.output]);
}

describe('shape interpreter: constructs of real model files', () => {
  it('reads a float literal with a trailing dot (64.)', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self, planes=64, base_width=4, groups=32):
        super().__init__()
        width = int(planes * (base_width / 64.)) * groups
        self.conv = nn.Conv2d(3, width, 1)

    def forward(self, x):
        return self.conv(x)
`;
    // int(64 · 4/64) · 32 = 128 channels.
    assert.deepEqual(trace(source, 'Net()', [1, 3, 5, 5]).layers[0]!.output, [1, 128, 5, 5]);
  });

  it('applies decorators it can follow and keeps definitions under library decorators', () => {
    const source = `${HEADER}
def twice(fn):
    def wrapper(*args, **kwargs):
        kwargs['width'] = kwargs.get('width', 4) * 2
        return fn(*args, **kwargs)
    return wrapper

class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 1)

    @torch.jit.unused
    def helper(self, x):
        return self.conv(x)

    def forward(self, x):
        return self.helper(x)

@twice
def build(width=4):
    return Net(width=width)

@some_registry.register()
def plain():
    return Net()
`;
    assert.deepEqual(trace(source, 'build()', [1, 3, 2, 2]).layers[0]!.output, [1, 8, 2, 2]);
    assert.deepEqual(trace(source, 'plain()', [1, 3, 2, 2]).layers[0]!.output, [1, 4, 2, 2]);
  });

  it('knows torchvision helpers and locates their layers at the call in the model file', () => {
    const source = `${HEADER}from functools import partial
from torchvision.ops.misc import Conv2dNormActivation, SqueezeExcitation
from torchvision.models._utils import _make_divisible

class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = _make_divisible(cin * 1.5, 8)
        self.expand = Conv2dNormActivation(cin, mid, kernel_size=1, activation_layer=nn.Hardswish)
        se = partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)
        self.se = se(mid, _make_divisible(mid // 4, 8))
        self.project = Conv2dNormActivation(mid, cout, stride=2, norm_layer=None, activation_layer=None)

    def forward(self, x):
        return self.project(self.se(self.expand(x)))
`;
    const result = trace(source, 'Block(16, 8)', [1, 16, 9, 9]);
    // _make_divisible(24.0, 8) = 24; _make_divisible(6, 8) = 8 (at least the divisor).
    assert.deepEqual(rows(result), [
      [12, 22, 'Conv2d', [1, 24, 9, 9]], // padding (1 − 1) // 2 = 0
      [12, 22, 'BatchNorm2d', [1, 24, 9, 9]],
      [12, 22, 'Hardswish', [1, 24, 9, 9]],
      [14, 18, 'AdaptiveAvgPool2d', [1, 24, 1, 1]],
      [14, 18, 'Conv2d', [1, 8, 1, 1]],
      [14, 18, 'ReLU', [1, 8, 1, 1]],
      [14, 18, 'Conv2d', [1, 24, 1, 1]],
      [14, 18, 'Hardsigmoid', [1, 24, 1, 1]],
      [15, 23, 'Conv2d', [1, 8, 5, 5]], // 3x3, padding (3 − 1) // 2 = 1, stride 2: ⌊(9 + 2 − 3)/2⌋ + 1 = 5
    ]);
  });

  it('falls back to the torchvision stand-ins for relative imports of a copied torchvision file', () => {
    const loader = memoryLoader({
      'models/net.py': `${HEADER}from ..ops.misc import Conv2dNormActivation
from ._utils import _ovewrite_named_param
from ..utils import _log_api_usage_once

def build(**kwargs):
    _ovewrite_named_param(kwargs, "width", 6)
    return Conv2dNormActivation(3, kwargs["width"])
`,
    });
    const result = traceModel(loader.file('models/net.py'), 'build()', [[1, 3, 4, 4]], { loader });
    assert.deepEqual(
      result.layers.map((l) => [l.file, l.line, l.op, l.output]),
      [
        ['models/net.py', 10, 'Conv2d', [1, 6, 4, 4]],
        ['models/net.py', 10, 'BatchNorm2d', [1, 6, 4, 4]],
        ['models/net.py', 10, 'ReLU', [1, 6, 4, 4]],
      ],
    );
  });

  it('runs subclasses of nn.Sequential, nn.ModuleList and nn.ModuleDict', () => {
    const source = `${HEADER}
class Stem(nn.Sequential):
    def __init__(self, cin):
        super().__init__(nn.Conv2d(cin, 4, 3, stride=2), nn.ReLU())

class Transition(nn.Sequential):
    def __init__(self, c):
        super().__init__()
        self.norm = nn.BatchNorm2d(c)
        self.pool = nn.AvgPool2d(2)

class Stages(nn.ModuleList):
    def __init__(self):
        super().__init__([nn.Conv2d(4, 4, 1) for _ in range(2)])
        self.append(nn.Identity())

class Heads(nn.ModuleDict):
    def __init__(self):
        super().__init__()
        self.add_module("a", nn.Conv2d(4, 2, 1))
        self["b"] = nn.Conv2d(4, 3, 1)

    def forward(self, x):
        return [head(x) for name, head in self.items()]

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stem(3)
        self.transition = Transition(4)
        self.stages = Stages()
        self.heads = Heads()

    def forward(self, x):
        x = self.transition(self.stem(x))
        for stage in self.stages[:len(self.stages) - 1]:
            x = stage(x)
        x = self.stages[-1](x)
        return self.heads(x)
`;
    assert.deepEqual(
      trace(source, 'Net()', [1, 3, 21, 21]).layers.map((l) => [l.op, l.output]),
      [
        ['Conv2d', [1, 4, 10, 10]], // ⌊(21 − 3)/2⌋ + 1 = 10
        ['ReLU', [1, 4, 10, 10]],
        ['BatchNorm2d', [1, 4, 10, 10]],
        ['AvgPool2d', [1, 4, 5, 5]],
        ['Conv2d', [1, 4, 5, 5]],
        ['Conv2d', [1, 4, 5, 5]],
        ['Identity', [1, 4, 5, 5]],
        ['Conv2d', [1, 2, 5, 5]],
        ['Conv2d', [1, 3, 5, 5]],
      ],
    );
  });

  it('names a layer subclass by its own class and records its own forward once', () => {
    const source = `${HEADER}
class Conv3x3(nn.Conv2d):
    def __init__(self, cin, cout):
        super().__init__(in_channels=cin, out_channels=cout, kernel_size=3, padding=1, bias=False)

class Same(nn.Conv2d):
    def forward(self, x):
        return super().forward(F.pad(x, [1, 1, 1, 1]))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Conv3x3(3, 8)
        self.b = Same(8, 8, 3)

    def forward(self, x):
        return self.b(self.a(x))
`;
    assert.deepEqual(rows(trace(source, 'Net()', [1, 3, 6, 6])), [
      [7, 8, 'Conv3x3', [1, 8, 6, 6]], // located at the super().__init__(...) call that builds the layer
      [17, 17, 'Same', [1, 8, 6, 6]], // padded to 8, then 3x3 without padding: 6
    ]);
  });

  it('builds dataclass configs through super().__init__, copies them, and binds classmethods', () => {
    const source = `${HEADER}import copy
from dataclasses import dataclass

@dataclass
class _Config:
    cin: int
    cout: int
    stride: int

class Config(_Config):
    def __init__(self, cin, cout, stride, width_mult=1.0):
        super().__init__(self.adjust(cin, width_mult), self.adjust(cout, width_mult), stride)

    @staticmethod
    def adjust(c, mult):
        return int(c * mult)

class Weights:
    @classmethod
    def verify(cls, obj):
        return obj

class Net(nn.Module):
    def __init__(self, weights=None):
        super().__init__()
        weights = Weights.verify(weights)
        cfg = Config(3, 8, 2, width_mult=2.0)
        layers = []
        for i in range(2):
            block = copy.copy(cfg)
            if layers:
                block.cin = block.cout
                block.stride = 1
            layers.append(nn.Conv2d(block.cin, block.cout, 3, block.stride, 1))
        self.body = nn.Sequential(*layers)
        self.bias = weights is None

    def forward(self, x):
        return self.body(x)
`;
    // Config(3, 8, 2, 2.0): cin 6, cout 16. The copy's changes leave cfg as it was.
    assert.deepEqual(
      trace(source, 'Net()', [1, 6, 9, 9]).layers.map((l) => [l.op, l.input, l.output]),
      [
        ['Conv2d', [1, 6, 9, 9], [1, 16, 5, 5]], // ⌊(9 + 2 − 3)/2⌋ + 1 = 5
        ['Conv2d', [1, 16, 5, 5], [1, 16, 5, 5]],
      ],
    );
  });

  it('computes with torch.tensor of known numbers (padding to a skip connection)', () => {
    const source = `${HEADER}
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.conv = nn.Conv2d(8, 2, 1)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = torch.tensor([x2.size()[2] - x1.size()[2]])
        diffX = torch.tensor([x2.size()[3] - x1.size()[3]])
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x2, x1], dim=1))
`;
    // Up-sampled 4x3 → 8x6; the skip is 9x7: one row and one column of padding make it 9x7.
    assert.deepEqual(trace(source, 'Up()', [1, 4, 4, 3], [1, 4, 9, 7]).layers.at(-1)!.input, [1, 8, 9, 7]);
  });

  it('decides `x is None` for tensors, and isinstance against typing.Sequence', () => {
    const source = `${HEADER}from typing import Sequence

class Net(nn.Module):
    def __init__(self, setting):
        super().__init__()
        if not (isinstance(setting, Sequence) and all([isinstance(s, int) for s in setting])):
            raise TypeError("setting")
        self.convs = nn.ModuleList([nn.Conv1d(2, 2, k, padding=k // 2) for k in setting])

    def forward(self, x):
        out = None
        for conv in self.convs:
            if out is None:
                out = conv(x)
            else:
                out += conv(x)
        return out
`;
    // Each conv runs once: the condition is decided, so no branch runs twice.
    assert.deepEqual(
      trace(source, 'Net([3, 5])', [1, 2, 10]).layers.map((l) => l.output),
      [
        [1, 2, 10],
        [1, 2, 10],
      ],
    );
  });

  it('reads attributes of a dict subclass whose __dict__ is itself, of namedtuples and of argparse defaults', () => {
    const source = `${HEADER}import argparse
from collections import namedtuple

class AttrDict(dict):
    def __init__(self, *args, **kwargs):
        super(AttrDict, self).__init__(*args, **kwargs)
        self.__dict__ = self

parser = argparse.ArgumentParser()
parser.add_argument('--ngf', type=int, default=6)
parser.add_argument('--cuda', action='store_true')
parser.add_argument('--dataset', required=True)
opt = parser.parse_args()
Spec = namedtuple("Spec", ["kernel", "stride"])

class Net(nn.Module):
    def __init__(self, h):
        super().__init__()
        spec = Spec(3, stride=2)
        self.conv = nn.Conv2d(3, h.channels * opt.ngf, spec.kernel, spec[1])
        self.cuda_known = opt.cuda
        self.dataset = opt.dataset

    def forward(self, x):
        return self.conv(x)
`;
    const result = trace(source, 'Net(AttrDict({"channels": 2}))', [1, 3, 7, 7]);
    // 2 · 6 = 12 channels; ⌊(7 − 3)/2⌋ + 1 = 3.
    assert.deepEqual(result.layers[0]!.output, [1, 12, 3, 3]);
  });

  it('resolves super() from the class that defines the method, through several levels', () => {
    const source = `${HEADER}
class Base(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 1)

class Middle(Base):
    def __init__(self, c):
        super().__init__(c * 2)

class Top(Middle):
    def __init__(self):
        super().__init__(2)

    def forward(self, x):
        return self.conv(x)
`;
    assert.deepEqual(trace(source, 'Top()', [1, 4, 3, 3]).layers[0]!.output, [1, 4, 3, 3]);
  });

  it('can stop at the first certain shape error, as a forward pass does, but not under an unknown condition', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.flag = flag
        self.bad = nn.Conv2d(5, 4, 1)
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        if self.flag:
            x = self.bad(x)
        x = self.a(x)
        x = self.bad(x)
        return self.b(x)
`;
    const run = (stop: boolean) => {
      const library = new Library();
      library.stopAtFirstError = stop;
      const interp = new Interpreter(library, null);
      const file = new SourceFile('model.py', source);
      const scope = interp.runModule(file, false);
      const entry = new SourceFile('<entry>', 'Net(unknown_flag)');
      const model = interp.eval(entry.tree.topNode.firstChild!.firstChild!, new Scope(scope), entry);
      let stopped = false;
      try {
        interp.call(model, { positional: [tensor([1, 3, 4, 4])], keyword: new Map(), site: null });
      } catch (error) {
        if (!(error instanceof BudgetExceeded)) throw error;
        stopped = true;
      }
      return { ops: library.calls.map((c) => [c.layer.frameworkClass, c.error !== null]), stopped };
    };
    // The speculative self.bad(x) (channel mismatch) does not stop it; the certain one after self.a does.
    assert.deepEqual(run(true), {
      ops: [
        ['Conv2d', true],
        ['Conv2d', false],
        ['Conv2d', true],
      ],
      stopped: true,
    });
    assert.equal(run(false).ops.length, 4);
  });

  it('follows LSTM, GRU and RNN layers, which return tuples', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2, bidirectional=True)
        self.gru = nn.GRU(32, 6, batch_first=True)
        self.rnn = nn.RNN(6, 5, 1, 'relu')
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        out, h2 = self.gru(out.permute(1, 0, 2))
        out = self.rnn(out)[0]
        return self.fc(out), h, c, h2
`;
    const result = trace(source, 'Net()', [7, 3, 8]);
    assert.deepEqual(
      result.layers.map((l) => [l.op, l.input, l.output]),
      [
        ['LSTM', [7, 3, 8], [7, 3, 32]], // D · hidden = 2 · 16
        ['GRU', [3, 7, 32], [3, 7, 6]],
        ['RNN', [3, 7, 6], [3, 7, 5]],
        ['Linear', [3, 7, 5], [3, 7, 2]],
      ],
    );
  });

  it('follows einops patterns, the Rearrange module and einsum', () => {
    const source = `${HEADER}from einops import rearrange, repeat, reduce
from einops.layers.torch import Rearrange

class Net(nn.Module):
    def __init__(self, frames=4):
        super().__init__()
        self.frames = frames
        self.to_tokens = nn.Sequential(Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=4, p2=4), nn.Linear(48, 32))
        self.attn_head = nn.Linear(12, 5)
        self.cls_head = nn.Linear(32, 2)

    def forward(self, x):
        x = rearrange(x, '(b t) c h w -> b c t h w', t=self.frames)
        x = reduce(x, 'b c t h w -> (b t) c h w', 'mean')
        tokens = self.to_tokens(x)
        attn = torch.einsum('bid,bjd->bij', tokens, tokens)
        cls = repeat(torch.zeros(1, 1, 32), '() n d -> b n d', b=tokens.shape[0])
        return self.attn_head(attn), self.cls_head(cls)
`;
    // (8, 3, 16, 12): b = 2, t = 4 → (2, 3, 4, 16, 12) → back to (8, 3, 16, 12); 4x4 patches: 4·3 = 12 tokens of
    // 4·4·3 = 48 features; einsum bid,bjd->bij gives (8, 12, 12); repeat gives (8, 1, 32).
    assert.deepEqual(
      trace(source, 'Net()', [8, 3, 16, 12]).layers.map((l) => [l.op, l.input, l.output]),
      [
        ['Linear', [8, 12, 48], [8, 12, 32]],
        ['Linear', [8, 12, 12], [8, 12, 5]],
        ['Linear', [8, 1, 32], [8, 1, 2]],
      ],
    );
  });

  it('does not record a layer whose forward is called directly (no forward hook runs)', () => {
    const source = `${HEADER}
class SpectralNorm(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module.forward(x)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = SpectralNorm(nn.Conv2d(3, 4, 3))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x))
`;
    assert.deepEqual(
      trace(source, 'Net()', [1, 3, 5, 5]).layers.map((l) => [l.op, l.output]),
      [['ReLU', [1, 4, 3, 3]]],
    );
  });

  it('runs nn.TransformerEncoder and nn.MultiheadAttention through the modules they are built of', () => {
    const source = `${HEADER}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.attn = nn.MultiheadAttention(16, 2)

    def forward(self, x):
        x = self.encoder(x)
        out, weights = self.attn(x, x, x)
        return out, weights
`;
    const result = trace(source, 'Net()', [3, 5, 16]);
    // Per layer (post-norm): dropout1 after self-attention, norm1, linear1, dropout, linear2, dropout2, norm2, all
    // located at the nn.TransformerEncoderLayer(...) call; MultiheadAttention calls no module itself.
    const layer = [
      ['Dropout', [3, 5, 16]],
      ['LayerNorm', [3, 5, 16]],
      ['Linear', [3, 5, 32]],
      ['Dropout', [3, 5, 32]],
      ['Linear', [3, 5, 16]],
      ['Dropout', [3, 5, 16]],
      ['LayerNorm', [3, 5, 16]],
    ];
    assert.deepEqual(
      result.layers.map((l) => [l.op, l.output]),
      [...layer, ...layer],
    );
    assert.ok(result.layers.every((l) => l.line === 8 && l.col === 16));
  });

  it('parses configuration strings with the re module', () => {
    const source = `${HEADER}import re

class Norm(nn.Module):
    def __init__(self, config_text, norm_nc):
        super().__init__()
        parsed = re.search(r'spade(\\D+)(\\d)x\\d', config_text)
        kind = str(parsed.group(1))
        ks = int(parsed.group(2))
        if kind == 'instance':
            self.norm = nn.InstanceNorm2d(norm_nc, affine=False)
        elif kind == 'batch':
            self.norm = nn.BatchNorm2d(norm_nc, affine=False)
        self.conv = nn.Conv2d(norm_nc, norm_nc, kernel_size=ks, padding=ks // 2)

    def forward(self, x):
        return self.conv(self.norm(x))
`;
    assert.deepEqual(
      trace(source, "Norm('spadebatch5x5', 4)", [1, 4, 9, 9]).layers.map((l) => [l.op, l.output]),
      [
        ['BatchNorm2d', [1, 4, 9, 9]],
        ['Conv2d', [1, 4, 9, 9]], // 5x5, padding 2
      ],
    );
  });

  it('raises no shape error for what only unknowns or a missing constructor argument leave open', () => {
    const source = `${HEADER}
class SamePool(nn.MaxPool3d):
    def forward(self, x):
        return super().forward(x)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 4, 1)

    def forward(self, x):
        return self.conv(x).squeeze(2)
`;
    // SamePool() lacks kernel_size (the constructor would raise): its output is unknown, not an error; squeeze(2)
    // of an unknown size cannot tell the rank, which is not an error either.
    const pool = trace(source, 'SamePool()', [1, 3, 4, 4, 4]);
    assert.equal(pool.layers[0]!.output, null);
    assert.deepEqual(pool.diagnostics, []);
    const squeezed = trace(source, 'Net()', [1, 3, null, 5, 6] as unknown as number[]);
    assert.deepEqual(squeezed.layers[0]!.output, [1, 4, null, 5, 6]);
    assert.deepEqual(squeezed.diagnostics, []);
  });
});
