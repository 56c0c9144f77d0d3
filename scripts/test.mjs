#!/usr/bin/env node
// The one test command: builds, compiles the tests, runs the unit suite (mocha, including every golden case
// in ../shared/oracle) and then the real-host suite (the extension inside VS Code, see test/host/). Prints a
// closing line `N passed, N failed` over everything that ran.
//   node scripts/test.mjs           everything
//   node scripts/test.mjs --unit    unit tests only
//   node scripts/test.mjs --host    real-host tests only
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const onlyUnit = process.argv.includes('--unit');
const onlyHost = process.argv.includes('--host');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(command, args) {
  const status = run(command, args);
  if (status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${status}).`);
    console.log('0 passed, 1 failed');
    process.exit(status);
  }
}

const totals = { passed: 0, failed: 0 };

// Chromium (and, for the host suite, Node 24 + code-server) must be there before any test needs them: the unit
// suite drives Chromium for the renderer and preview pages, and runs WebGPU on the SwiftShader it ships.
// Idempotent and cached: a second run costs nothing.
must(process.execPath, [path.join(root, 'test/host/toolchain.mjs')]);

must(process.execPath, ['esbuild.js']);
fs.rmSync(path.join(root, 'out'), { recursive: true, force: true });
must(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);

if (!onlyHost) {
  const reportFile = path.join(root, 'out', 'unit-report.json');
  const status = run(process.execPath, [
    path.join(root, 'node_modules/mocha/bin/mocha.js'),
    '--reporter',
    path.join(root, 'scripts/mocha-reporter.cjs'),
    '--reporter-option',
    `output=${reportFile}`,
    'out/test/unit/**/*.unit.test.js',
  ]);
  const report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : null;
  if (report) {
    totals.passed += report.passed;
    totals.failed += report.failed;
  } else {
    totals.failed += 1;
  }
  if (status !== 0 && report && report.failed === 0) totals.failed += 1;
}

if (!onlyUnit) {
  const hostRunner = path.join(root, 'test/host/run.mjs');
  const result = spawnSync(process.execPath, [hostRunner], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const output = result.stdout?.toString() ?? '';
  process.stdout.write(output);
  const summary = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  if (summary) {
    totals.passed += Number(summary[1]);
    totals.failed += Number(summary[2]);
  }
  if (result.status !== 0 && (!summary || Number(summary[2]) === 0)) totals.failed += 1;
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
