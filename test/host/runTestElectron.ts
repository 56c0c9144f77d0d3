/**
 * Runs the real-host suite in desktop VS Code through @vscode/test-electron, for machines that can download VS Code
 * (a developer's own). The project's machines and CI cannot, so `npm test` runs the same suite in code-server
 * instead (test/host/run.mjs). After `node esbuild.js && npx tsc -p tsconfig.json`:
 *   node out/test/host/runTestElectron.js [--version stable|insiders|1.139.0]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<number> {
  // This file compiles to out/test/host/runTestElectron.js, three levels below the repository root.
  const root = path.resolve(__dirname, '..', '..', '..');
  const versionFlag = process.argv.indexOf('--version');
  const version = versionFlag >= 0 ? process.argv[versionFlag + 1] : undefined;

  // The suite opens files from a workspace: a copy of examples/, so nothing the tests do touches the repository.
  // A fresh profile and extensions folder keep the developer's own settings and extensions out of the run.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-lens-electron-'));
  const workspace = path.join(scratch, 'workspace');
  fs.cpSync(path.join(root, 'examples'), workspace, { recursive: true });
  try {
    return await runTests({
      ...(version ? { version } : {}),
      // The downloaded VS Code is cached beside the code-server toolchain, outside the repository.
      cachePath: path.join(os.homedir(), '.cache', 'conv-lens', 'vscode-test'),
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(__dirname, 'suite'),
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(scratch, 'user-data')}`,
        `--extensions-dir=${path.join(scratch, 'extensions')}`,
      ],
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('The VS Code test run failed:', error);
    process.exit(1);
  },
);
