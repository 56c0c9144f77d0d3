/**
 * The extension inside a real VS Code extension host: it activates when a Python file opens, its commands are
 * registered, and the shape command answers through the real command system.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'conv-lens.conv-lens';

/** Polls `probe` until it returns true, because activation and registration happen asynchronously. */
async function eventually(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function workspaceFile(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'No workspace folder is open; the runner opens a copy of examples/.');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

function theExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(
    extension,
    `${EXTENSION_ID} is not loaded; extensionDevelopmentPath must be the repository root.`,
  );
  return extension;
}

describe('Conv Lens in a real VS Code host', () => {
  it('activates when a .py file from the workspace is opened', async () => {
    const extension = theExtension();
    const document = await vscode.workspace.openTextDocument(workspaceFile('pytorch', 'dcgan.py'));
    await vscode.window.showTextDocument(document);
    assert.equal(document.languageId, 'python');

    if (!(await eventually(() => extension.isActive, 20_000))) {
      assert.fail(`Opening dcgan.py did not activate ${EXTENSION_ID} within 20 s (onLanguage:python).`);
    }
    // isActive turns true even when activate() threw; activate() on an activated extension resolves at once, or
    // rejects with the error the first activation raised.
    await Promise.resolve(extension.activate()).catch((error: unknown) => {
      assert.fail(
        `${EXTENSION_ID} failed to activate: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  });

  it('registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('convLens.shapeOfLayer'), 'convLens.shapeOfLayer is not registered.');
  });

  it('registers every command its manifest puts in the Command Palette', async () => {
    // A contributed command that activate() never registers shows in the palette and fails with "not found".
    const manifest = theExtension().packageJSON as { contributes?: { commands?: { command: string }[] } };
    const contributed = (manifest.contributes?.commands ?? []).map((entry) => entry.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((command) => !registered.has(command)),
      [],
      'Contributed in package.json but not registered',
    );
  });

  it('answers convLens.shapeOfLayer with the output shape', async () => {
    const answer = await vscode.commands.executeCommand<unknown>(
      'convLens.shapeOfLayer',
      'nn.Conv2d(3, 8, 3)',
      '1,3,32,32',
    );
    assert.equal(typeof answer, 'string', `Expected a string, got ${JSON.stringify(answer)}.`);
    assert.ok(
      (answer as string).includes('(1, 8, 30, 30)'),
      `Expected (1, 8, 30, 30) in:\n${String(answer)}`,
    );
  });

  it('opens the example notebook as a Jupyter notebook', async () => {
    // The extension also activates on onNotebook:jupyter-notebook; this checks the example is a notebook VS Code
    // reads (nbformat 4), with its markdown and code cells.
    const notebook = await vscode.workspace.openNotebookDocument(workspaceFile('notebooks', 'shapes.ipynb'));
    assert.equal(notebook.notebookType, 'jupyter-notebook');
    assert.deepEqual(
      notebook.getCells().map((cell) => cell.kind),
      [vscode.NotebookCellKind.Markup, vscode.NotebookCellKind.Code],
    );
  });

  it('answers an impossible layer with a message instead of throwing', async () => {
    // A 5x5 kernel cannot fit a 2x2 input; the command must explain that, never crash.
    const answer = await vscode.commands.executeCommand<unknown>(
      'convLens.shapeOfLayer',
      'nn.Conv2d(3, 8, 5)',
      '1,3,2,2',
    );
    assert.equal(typeof answer, 'string', `Expected a string, got ${JSON.stringify(answer)}.`);
    assert.ok((answer as string).trim().length > 0, 'The answer is empty.');
  });
});
