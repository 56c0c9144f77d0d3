/**
 * Shapes in the editor, through VS Code's own provider commands: hovers on layer constructors and forward
 * calls, inlay hints, diagnostics with quick fixes, the settings that switch them, and re-analysis when an
 * imported file changes. The workspace is the runner's copy of examples/; files made here are deleted after.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const SOURCE = 'Conv Lens';

function workspaceFile(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'No workspace folder is open; the runner opens a copy of examples/.');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

/** Polls `probe` until it returns a value, because analyses finish asynchronously after edits. */
async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`Timed out after 20 s waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function hoverText(hovers: readonly vscode.Hover[]): string {
  return hovers
    .flatMap((hover) => hover.contents)
    .map((content) => (typeof content === 'string' ? content : content.value))
    .join('\n');
}

async function hoverAt(document: vscode.TextDocument, position: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
    'vscode.executeHoverProvider',
    document.uri,
    position,
  );
  return hoverText(hovers ?? []);
}

/** Line (0-based) and column of the n-th occurrence of `needle`. */
function find(document: vscode.TextDocument, needle: string, occurrence = 0): vscode.Position {
  let offset = -1;
  for (let i = 0; i <= occurrence; i++) {
    offset = document.getText().indexOf(needle, offset + 1);
    assert.ok(offset >= 0, `'${needle}' (occurrence ${occurrence}) is not in ${document.uri.path}.`);
  }
  return document.positionAt(offset);
}

async function inlayHints(document: vscode.TextDocument): Promise<Map<number, string>> {
  const end = document.lineAt(document.lineCount - 1).range.end;
  const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
    'vscode.executeInlayHintProvider',
    document.uri,
    new vscode.Range(new vscode.Position(0, 0), end),
  );
  const byLine = new Map<number, string>();
  for (const hint of hints ?? []) {
    const label = typeof hint.label === 'string' ? hint.label : hint.label.map((part) => part.value).join('');
    if (label.startsWith('→')) byLine.set(hint.position.line, label);
  }
  return byLine;
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === SOURCE);
}

/** Writes a Python file into the workspace, opens it, and removes it when the test is done. */
const made: vscode.Uri[] = [];
async function makeFile(name: string, lines: string[]): Promise<vscode.TextDocument> {
  const uri = workspaceFile(name);
  await vscode.workspace.fs.writeFile(uri, Buffer.from(lines.join('\n') + '\n', 'utf8'));
  made.push(uri);
  return vscode.workspace.openTextDocument(uri);
}

async function setSetting(name: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('convLens').update(name, value, vscode.ConfigurationTarget.Global);
}

describe('Shapes in the editor', () => {
  let dcgan: vscode.TextDocument;

  before(async () => {
    dcgan = await vscode.workspace.openTextDocument(workspaceFile('pytorch', 'dcgan.py'));
    await vscode.window.showTextDocument(dcgan);
  });

  after(async () => {
    await setSetting('inlayHints.enabled', undefined);
    await setSetting('inputShapes', undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of made) await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
  });

  it('hovers a ConvTranspose2d constructor with its formula, weight and a concrete shape', async () => {
    // The generator's first layer: kernel 4, stride 1, padding 0 grows 1×1 to 4×4 (H_out = H_in + 3).
    const at = find(dcgan, 'nn.ConvTranspose2d(nz');
    const text = await hoverAt(dcgan, at.translate(0, 5));
    assert.ok(text.includes('nn.ConvTranspose2d'), `No layer name in the hover:\n${text}`);
    assert.ok(text.includes('H_out = H_in + 3'), `No formula in the hover:\n${text}`);
    assert.ok(text.includes('(100, 512, 4, 4)'), `No weight shape in the hover:\n${text}`);
    assert.ok(
      text.includes('`(16, 100, 1, 1)` | `(16, 512, 4, 4)`'),
      `No input → output row for the example call in the hover:\n${text}`,
    );
    // A stride-2 layer of the same generator doubles: the formula follows the arguments.
    const second = await hoverAt(dcgan, find(dcgan, 'nn.ConvTranspose2d(ngf * 8').translate(0, 5));
    assert.ok(second.includes('H_out = 2·H_in'), `No doubling formula in the hover:\n${second}`);
    assert.ok(second.includes('(16, 256, 8, 8)'), `No concrete output in the hover:\n${second}`);
  });

  it('hovers a forward call with the in → out of the layers it applies', async () => {
    const text = await hoverAt(dcgan, find(dcgan, 'return self.main(z)').translate(0, 14));
    assert.ok(text.includes('self.main'), `Not the forward call's hover:\n${text}`);
    assert.ok(
      text.includes('`nn.ConvTranspose2d` (line 22) | `(16, 100, 1, 1)` | `(16, 512, 4, 4)`'),
      `No per-layer row in the hover:\n${text}`,
    );
    assert.ok(text.includes('Result: `(16, 3, 64, 64)`'), `No result shape in the hover:\n${text}`);
  });

  it('shows inlay hints after forward lines and after layer definitions', async () => {
    const hints = await inlayHints(dcgan);
    const line = (needle: string) => find(dcgan, needle).line;
    assert.equal(hints.get(line('return self.main(z)')), '→ (16, 3, 64, 64)', 'forward of the generator');
    assert.equal(hints.get(line('z = torch.randn(')), '→ (16, 100, 1, 1)', 'the example input');
    assert.equal(
      hints.get(line('nn.ConvTranspose2d(nz')),
      '→ (16, 512, 4, 4)',
      "the first layer's output, after its definition",
    );
  });

  it('turns inlay hints off with convLens.inlayHints.enabled', async () => {
    await setSetting('inlayHints.enabled', false);
    try {
      assert.equal((await inlayHints(dcgan)).size, 0, 'Hints are still shown with the setting off.');
    } finally {
      await setSetting('inlayHints.enabled', undefined);
    }
    assert.ok((await inlayHints(dcgan)).size > 0, 'Hints did not come back with the setting on.');
  });

  it('reports shape errors with their numbers and applies the in_features quick fix', async () => {
    const document = await makeFile('shape_bug_check.py', [
      'import torch',
      'from torch import nn',
      '',
      '',
      'class Broken(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(4, 64, 3)',
      '',
      '    def forward(self, x):',
      '        return self.conv(x)',
      '',
      '',
      'class Classifier(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(3, 8, 3)',
      '        self.pool = nn.MaxPool2d(2)',
      '        self.fc = nn.Linear(1000, 10)',
      '',
      '    def forward(self, x):',
      '        x = self.pool(self.conv(x))',
      '        x = torch.flatten(x, 1)',
      '        return self.fc(x)',
      '',
      '',
      'if __name__ == "__main__":',
      '    Broken()(torch.randn(2, 16, 32, 32))',
      '    Classifier()(torch.randn(2, 3, 32, 32))',
    ]);
    await vscode.window.showTextDocument(document);
    const diagnostics = await eventually(() => {
      const found = ours(document.uri);
      return found.some((d) => d.message.includes('in_features')) ? found : undefined;
    }, 'Conv Lens diagnostics on shape_bug_check.py');

    // 16 channels into Conv2d(4, 64, 3), on the constructor line, as an error with the numbers.
    const convLine = find(document, 'nn.Conv2d(4, 64, 3)').line;
    const channels = diagnostics.find((d) => d.range.start.line === convLine);
    assert.ok(channels, `No diagnostic on the Conv2d(4, 64, 3) line: ${JSON.stringify(diagnostics)}`);
    assert.equal(channels.severity, vscode.DiagnosticSeverity.Error);
    assert.match(channels.message, /4 input channels/);
    assert.match(channels.message, /16 channels/);
    assert.ok(channels.code, 'The diagnostic has no code.');

    // 8·15·15 = 1800 features reach Linear(1000, 10) after the flatten.
    const linearLine = find(document, 'nn.Linear(1000, 10)').line;
    const features = diagnostics.find((d) => d.range.start.line === linearLine);
    assert.ok(features, `No diagnostic on the Linear line: ${JSON.stringify(diagnostics)}`);
    assert.match(features.message, /1000/);
    assert.match(features.message, /1800/);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      document.uri,
      features.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = (actions ?? []).find((action) => /in_features\s*=\s*1800/.test(action.title));
    assert.ok(fix, `No in_features quick fix among: ${(actions ?? []).map((a) => a.title).join('; ')}`);
    assert.equal(fix.isPreferred, true);
    assert.ok(fix.edit, 'The quick fix has no edit.');
    assert.ok(await vscode.workspace.applyEdit(fix.edit), 'The quick fix edit did not apply.');
    assert.ok(document.getText().includes('nn.Linear(1800, 10)'), document.getText());

    // The edit is analysed again: the Linear error goes, the Conv2d one stays.
    await eventually(() => {
      const now = ours(document.uri);
      return now.some((d) => d.message.includes('in_features')) || now.length === 0 ? undefined : now;
    }, 'the in_features diagnostic to go after the fix');
    assert.ok(ours(document.uri).some((d) => d.range.start.line === convLine));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('uses convLens.inputShapes for a class the file never calls', async () => {
    const document = await makeFile('input_shapes_check.py', [
      'from torch import nn',
      '',
      '',
      'class Encoder(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.down = nn.Conv2d(3, 8, kernel_size=4, stride=2, padding=1)',
      '',
      '    def forward(self, x):',
      '        return self.down(x)',
    ]);
    const at = find(document, 'nn.Conv2d(').translate(0, 4);
    const before = await hoverAt(document, at);
    assert.ok(before.includes('H_out = ⌊H_in/2⌋'), `No formula without an input shape:\n${before}`);
    assert.ok(!before.includes('(1, 8, 32, 32)'), before);
    await setSetting('inputShapes', { Encoder: [1, 3, 64, 64] });
    const text = await eventually(async () => {
      const now = await hoverAt(document, at);
      return now.includes('(1, 8, 32, 32)') ? now : undefined;
    }, 'the hover to use convLens.inputShapes');
    assert.ok(
      text.includes('convLens.inputShapes'),
      `The hover does not say where the input came from:\n${text}`,
    );
  });

  it('analyses a document again when a module it imports is edited', async () => {
    await makeFile('blocks_check.py', [
      'from torch import nn',
      '',
      '',
      'class Block(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv = nn.Conv2d(3, 8, 3)',
      '',
      '    def forward(self, x):',
      '        return self.conv(x)',
    ]);
    const main = await makeFile('uses_blocks_check.py', [
      'import torch',
      'from blocks_check import Block',
      '',
      'y = Block()(torch.randn(1, 3, 32, 32))',
    ]);
    const line = find(main, 'y = Block()').line;
    assert.equal((await inlayHints(main)).get(line), '→ (1, 8, 30, 30)');
    // Edit the imported module in the editor, without saving: the importing document follows the editor.
    const blocks = await vscode.workspace.openTextDocument(workspaceFile('blocks_check.py'));
    const edit = new vscode.WorkspaceEdit();
    const conv = find(blocks, 'nn.Conv2d(3, 8, 3)');
    edit.replace(
      blocks.uri,
      new vscode.Range(conv, conv.translate(0, 'nn.Conv2d(3, 8, 3)'.length)),
      'nn.Conv2d(3, 16, 5)',
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    await eventually(async () => {
      const hint = (await inlayHints(main)).get(line);
      return hint === '→ (1, 16, 28, 28)' ? hint : undefined;
    }, 'the importing document to show the edited module’s shape');
    await vscode.window.showTextDocument(blocks);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
