/**
 * When a skip connection does not fit (the U-Net failure users meet at odd input sizes), the trace says which
 * input sizes near the given one work, found by tracing the model again at those sizes.
 */
import * as assert from 'node:assert/strict';
import { traceModel } from '../../src/python/analysis';
import { SourceFile } from '../../src/python/syntax';

// Two pooling steps and two stride-2 transposed convs: the skip from before the pools fits only when the size
// survives ⌊⌊H/2⌋/2⌋·4 = H, i.e. H a multiple of 4 (Conv2d/MaxPool2d/ConvTranspose2d formulas, PyTorch docs).
const SOURCE = `import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(2))
        self.up = nn.Sequential(nn.ConvTranspose2d(4, 4, 2, stride=2), nn.ConvTranspose2d(4, 4, 2, stride=2))

    def forward(self, x):
        return torch.cat([x, self.up(self.down(x))], dim=1)
`;

describe('sizes that work, for join mismatches', () => {
  it('names the residues that work when a skip concat fails at an odd size', () => {
    const result = traceModel(new SourceFile('net.py', SOURCE), 'Net()', [[1, 4, 50, 50]]);
    const mismatch = result.diagnostics.find((d) => d.message.includes('cat'));
    assert.ok(mismatch, JSON.stringify(result.diagnostics));
    assert.match(mismatch.message, /48 vs 50|50 vs 48/);
    assert.match(mismatch.message, /Input sizes that work nearby: multiples of 4, e\.g\. 44, 48, 52, 56\./);
  });

  it('says nothing more when the model fits', () => {
    const result = traceModel(new SourceFile('net.py', SOURCE), 'Net()', [[1, 4, 48, 48]]);
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.layers.at(-1)!.output, [1, 4, 48, 48]);
  });
});
