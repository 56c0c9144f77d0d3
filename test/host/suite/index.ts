/**
 * The real-host test suite's entry point, written to @vscode/test-electron's contract: VS Code loads this module
 * from `extensionTestsPath` inside the extension host and calls `run()`, which resolves when every test passed and
 * rejects otherwise. The same module runs under code-server (test/host/run.mjs) and under desktop VS Code
 * (test/host/runTestElectron.ts).
 *
 * Besides mocha's own report, it logs two machine-readable lines: `conv-lens-host-start` before the first test and
 * `conv-lens-host-result {"passed":N,...}` after the last. The code-server runner sees only the console that the
 * workbench forwards (its own messages and the extension host's, mixed), so it uses them to pick out the suite's
 * report and to print the closing `N passed, N failed`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type MochaType from 'mocha';

/** The line that opens the suite's output and the prefix of the one that carries the counts (see run.mjs). */
export const START_LINE = 'conv-lens-host-start';
export const RESULT_PREFIX = 'conv-lens-host-result ';

/**
 * Loads mocha's constructor. Mocha 12 is an ES module whose CommonJS `require` (Node's require of ES modules)
 * yields a namespace object with the class under `default`, while older versions yield the class itself.
 */
function loadMocha(): typeof MochaType {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('mocha') as typeof MochaType | { default: typeof MochaType };
  return typeof loaded === 'function' ? loaded : loaded.default;
}

export function run(): Promise<void> {
  const Mocha = loadMocha();
  // Activation and the first language features can take several seconds on a 2-core machine, so the per-test
  // limit is generous; the runner outside has its own overall limit, so a stuck test can never hang CI.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const files = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.host.test.js'))
    .sort();
  for (const name of files) mocha.addFile(path.join(__dirname, name));

  return new Promise((resolve, reject) => {
    console.log(START_LINE);
    try {
      const runner = mocha.run((failures) => {
        const passed = runner.stats?.passes ?? 0;
        const pending = runner.stats?.pending ?? 0;
        const failed = Math.max(failures, runner.stats?.failures ?? 0);
        console.log(`${RESULT_PREFIX}${JSON.stringify({ passed, failed, pending, files: files.length })}`);
        if (files.length === 0) reject(new Error(`No *.host.test.js files in ${__dirname}.`));
        else if (failed > 0) reject(new Error(`${failed} host test(s) failed.`));
        else resolve();
      });
    } catch (error) {
      console.log(
        `${RESULT_PREFIX}${JSON.stringify({ passed: 0, failed: 1, pending: 0, files: files.length })}`,
      );
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
