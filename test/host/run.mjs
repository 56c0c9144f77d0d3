#!/usr/bin/env node
// Runs the real-host suite (test/host/suite, compiled to out/test/host/suite) inside VS Code: code-server from npm
// on Node 24, driven by Debian's Chromium through playwright-core, because no desktop VS Code can be downloaded
// here. It builds nothing: `npm test` (scripts/test.mjs) runs esbuild and tsc first. By hand:
//   node esbuild.js && npx tsc -p tsconfig.json && node test/host/run.mjs
//
// How it works: code-server starts with VS Code's smoke-test driver enabled, on a free port, with a throwaway
// home, profile and extensions folder. Chromium opens a copy of examples/ with a `payload` that names the
// repository as the extension under development and the compiled suite as the extension tests; VS Code then
// calls the suite's run() in the extension host, forwards the host's console to the page's codeAutomationLog()
// and reports the end through codeAutomationExit(code).
//
// Prints the host's console (mocha's report) on stdout and closes with `N passed, N failed`. Exits non-zero when
// anything failed, nothing ran, or the run took longer than $CONV_LENS_HOST_TIMEOUT_S (default 300) seconds; on
// failure a screenshot and the logs go to .test-artifacts/. Every process it started is ended on the way out.
//
// Environment: CONV_LENS_HOST_TIMEOUT_S (limit for the suite), CONV_LENS_EXTENSION_DIR (load the extension from
// another folder than the repository root), CONV_LENS_HOST_KEEP=1 (keep the temporary folder for inspection).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { createSandbox, delay, freePort, launchChromium, startCodeServer } from './codeServer.mjs';
import { ensureToolchain } from './toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const extensionDir = path.resolve(process.env.CONV_LENS_EXTENSION_DIR || root);
const suiteDir = path.join(root, 'out', 'test', 'host', 'suite');
const examplesDir = path.join(root, 'examples');
const artifactsDir = path.join(root, '.test-artifacts');
const suiteTimeoutMs = Number(process.env.CONV_LENS_HOST_TIMEOUT_S || 300) * 1000;
// These two lines come from test/host/suite/index.ts.
const START_LINE = 'conv-lens-host-start';
const RESULT_PREFIX = 'conv-lens-host-result ';
/**
 * Errors that say nothing about the extension: this machine is offline (VS Code looks up extensions in the
 * marketplace), resources the web build probes for are absent, and requests are cancelled as the window closes.
 */
const NOISE = /ENOTFOUND|ECONNREFUSED|EAI_AGAIN|net::ERR_|Failed to load resource|Canceled/;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The first line of each distinct error the workbench or the page reported, shown when the run fails. */
const errors = new Set();
function noteError(text) {
  const first = String(text)
    .replace(/^%c\s*ERR\s+color:\s*\S+\s*/, '')
    .split('\n')[0]
    .trim();
  if (first && !NOISE.test(text) && errors.size < 50) errors.add(first);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
/** Progress goes to stderr, so stdout carries only the host's console and the closing line. */
const note = (line) => console.error(`[host] ${line}`);

function finish(passed, failed, why) {
  if (why) console.error(`\n[host] ${why}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

async function main() {
  for (const [file, hint] of [
    [path.join(extensionDir, 'dist', 'extension.js'), 'node esbuild.js'],
    [path.join(suiteDir, 'index.js'), 'npx tsc -p tsconfig.json'],
  ]) {
    if (!fs.existsSync(file))
      return finish(0, 1, `${file} is missing: run \`${hint}\` first (npm test does).`);
  }

  let toolchain;
  try {
    toolchain = ensureToolchain({ log: note });
  } catch (error) {
    return finish(0, 1, `The host toolchain is not ready: ${error instanceof Error ? error.message : error}`);
  }

  // Artifacts of an earlier failed run would be mistaken for this run's.
  for (const name of ['host-failure.png', 'host-code-server.log', 'host-browser.log', 'host-console.log']) {
    fs.rmSync(path.join(artifactsDir, name), { force: true });
  }
  const sandbox = createSandbox();
  const workspace = path.join(sandbox.dir, 'workspace');
  fs.cpSync(examplesDir, workspace, { recursive: true });
  const serverLog = path.join(sandbox.dir, 'code-server.log');
  const browserLog = [];
  const hostLog = [];
  let server;
  let browser;
  let page;
  let result = null;

  const cleanup = async () => {
    if (browser) await Promise.race([browser.close().catch(() => {}), delay(10_000)]);
    browser = undefined;
    if (server) await server.stop();
    server = undefined;
    if (process.env.CONV_LENS_HOST_KEEP === '1') note(`Kept ${sandbox.dir}.`);
    else fs.rmSync(sandbox.dir, { recursive: true, force: true });
  };
  // Ctrl-C or a CI kill still ends code-server and Chromium, and nothing else is reported after it.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      interrupted = true;
      note(`${signal}: stopping.`);
      console.log('0 passed, 1 failed');
      cleanup().finally(() => process.exit(130));
    });
  }
  // A last resort against any await that never settles: stop everything and fail.
  const watchdog = setTimeout(() => {
    note(`No result after ${(suiteTimeoutMs + 180_000) / 1000} s in all; giving up.`);
    console.log('0 passed, 1 failed');
    cleanup().finally(() => process.exit(1));
  }, suiteTimeoutMs + 180_000);

  try {
    const port = await freePort();
    note(`Starting code-server on 127.0.0.1:${port}…`);
    server = await startCodeServer({
      toolchain,
      port,
      env: sandbox.env,
      userDataDir: sandbox.userDataDir,
      extensionsDir: sandbox.extensionsDir,
      config: sandbox.config,
      logFile: serverLog,
      // Released VS Code builds ignore extension test paths unless the smoke-test driver is enabled.
      extraArgs: ['--vscode-option', 'enable-smoke-test-driver'],
    });
    note(`code-server ready (${elapsed()}); opening the workbench in Chromium…`);

    browser = await launchChromium(toolchain, sandbox.env);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      browserLog.push(`[${message.type()}] ${message.text()}`);
      if (message.type() === 'error') noteError(message.text());
    });
    page.on('pageerror', (error) => {
      browserLog.push(`[pageerror] ${error.stack ?? error.message}`);
      noteError(error.message);
    });

    let settle;
    const exitCode = new Promise((resolve) => (settle = resolve));
    // The workbench forwards its own console and the extension host's through codeAutomationLog, mixed. Lines
    // between the suite's start line and its result line (mocha's report and whatever the extension logs while
    // tested) go to stdout; the rest only to the log file, with the first line of each error kept for a failure.
    let inSuite = false;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // Colour codes (mocha's check marks are coloured when the host thinks it writes to a terminal) are dropped:
      // this output goes to logs and CI.
      const text = format(...(Array.isArray(args) ? args : [args])).replace(ANSI, '');
      hostLog.push(`[${type}] ${text}`);
      if (type === 'error') noteError(text);
      for (const line of text.split('\n')) {
        if (line === START_LINE) {
          inSuite = true;
        } else if (line.startsWith(RESULT_PREFIX)) {
          inSuite = false;
          try {
            result = JSON.parse(line.slice(RESULT_PREFIX.length));
          } catch {
            console.error(`[host] Unreadable result line: ${line}`);
          }
        } else if (inSuite && !(type === 'error' && NOISE.test(text))) {
          console.log(line);
        }
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));

    const remote = (file) => `vscode-remote://127.0.0.1:${port}${file}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionDir)],
      ['extensionTestsPath', remote(suiteDir)],
      ['skipWelcome', 'true'],
    ];
    const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url, { timeout: 120_000 });

    const serverGone = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (server?.exited()) {
          clearInterval(timer);
          resolve('code-server exited during the run');
        }
      }, 500);
      timer.unref();
    });
    const outcome = await Promise.race([
      exitCode,
      serverGone,
      delay(suiteTimeoutMs).then(() => `the suite did not finish within ${suiteTimeoutMs / 1000} s`),
    ]);

    if (typeof outcome === 'number' && outcome === 0 && result && result.failed === 0 && result.passed > 0) {
      note(`Done in ${elapsed()}.`);
      return finish(result.passed, 0);
    }
    const why =
      typeof outcome === 'string'
        ? `Failed: ${outcome}.`
        : !result
          ? `The extension host exited with ${outcome} without reporting results (did the suite load?).`
          : result.passed + result.failed === 0
            ? 'No host test ran.'
            : `The extension host exited with ${outcome}.`;
    await saveArtifacts(page, serverLog, browserLog, hostLog);
    return finish(result?.passed ?? 0, Math.max(result?.failed ?? 0, 1), why);
  } catch (error) {
    if (interrupted) return new Promise(() => {}); // The signal handler exits.
    await saveArtifacts(page, serverLog, browserLog, hostLog);
    return finish(result?.passed ?? 0, Math.max(result?.failed ?? 0, 1), `Failed: ${error?.stack ?? error}`);
  } finally {
    clearTimeout(watchdog);
    if (!interrupted) await cleanup();
  }
}

/** Keeps what explains a failure: what the page showed, and the server's, browser's and host's logs. */
async function saveArtifacts(page, serverLog, browserLog, hostLog) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  if (page) {
    const shot = path.join(artifactsDir, 'host-failure.png');
    await page
      .screenshot({ path: shot, timeout: 15_000 })
      .then(() => note(`Screenshot: ${path.relative(root, shot)}`))
      .catch((error) => note(`No screenshot: ${error.message}`));
  }
  if (fs.existsSync(serverLog)) fs.copyFileSync(serverLog, path.join(artifactsDir, 'host-code-server.log'));
  fs.writeFileSync(path.join(artifactsDir, 'host-browser.log'), browserLog.join('\n') + '\n');
  fs.writeFileSync(path.join(artifactsDir, 'host-console.log'), hostLog.join('\n') + '\n');
  note(`Logs: ${path.relative(root, artifactsDir)}/host-{code-server,browser,console}.log`);
  if (errors.size > 0) note(`Errors the workbench reported:\n  ${[...errors].join('\n  ')}`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
