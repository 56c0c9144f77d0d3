// Starting and stopping code-server and Chromium, shared by the real-host test runner (test/host/run.mjs) and
// `npm start` (scripts/start.mjs). Details that were found by trial are in shared/notes/vscode-host-testing.md.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Flags that let Debian's Chromium run headless as root on a machine whose only network is the package
 * registries: without the background-networking ones it keeps trying (and failing) to reach Google's hosts.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/**
 * User settings for a clean, quiet workbench: the chat box would otherwise take focus (and typed keys), and the
 * rest stops telemetry, git scanning, update checks and the welcome page.
 */
export const USER_SETTINGS = {
  'chat.disableAIFeatures': true,
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** Resolves with `preferred` when it is free on 127.0.0.1, else with a port the system picks. */
export async function freePort(preferred = 0) {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const { port: bound } = server.address();
        server.close(() => resolve(bound));
      });
    });
  return (preferred && (await tryPort(preferred))) || (await tryPort(0));
}

/**
 * Makes a throwaway home for one run: HOME, the XDG folders and TMPDIR point inside it, because code-server
 * writes ~/.config/code-server and puts its IPC sockets in the temporary folder otherwise.
 * @returns {{ dir: string, env: NodeJS.ProcessEnv, userDataDir: string, extensionsDir: string, config: string }}
 */
export function createSandbox(prefix = 'conv-lens-host-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const sub = (name) => {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    return folder;
  };
  const env = cleanEnv({
    HOME: sub('home'),
    XDG_CONFIG_HOME: sub('xdg/config'),
    XDG_DATA_HOME: sub('xdg/data'),
    XDG_CACHE_HOME: sub('xdg/cache'),
    XDG_STATE_HOME: sub('xdg/state'),
    XDG_RUNTIME_DIR: sub('xdg/run'),
    TMPDIR: sub('tmp'),
  });
  const userDataDir = sub('user-data');
  const extensionsDir = sub('extensions');
  const config = path.join(dir, 'config.yaml');
  writeUserSettings(userDataDir);
  writeServerConfig(config);
  return { dir, env, userDataDir, extensionsDir, config };
}

/** Writes the user settings into a profile (`settings.json` under `userDataDir`). */
export function writeUserSettings(userDataDir) {
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(USER_SETTINGS, null, 2) + '\n',
  );
}

/** Writes code-server's own config file; without one it writes a default with a password to ~/.config. */
export function writeServerConfig(config) {
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
}

/**
 * The environment for code-server: the caller's, minus variables that would tie it to a VS Code this script may
 * be running inside (its IPC hooks, Electron's run-as-node switch), minus PORT (code-server listens on $PORT
 * whatever --bind-addr says), plus `overrides`.
 */
export function cleanEnv(overrides = {}) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || key === 'PORT') delete env[key];
  }
  return { ...env, ...overrides };
}

/**
 * Starts code-server on 127.0.0.1:port in its own process group (so stopping it takes its extension host and
 * other children too), appends its output to `logFile` and waits until it answers /healthz.
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, url: string, stop: () => Promise<void> }>}
 */
export async function startCodeServer({
  toolchain,
  port,
  env,
  userDataDir,
  extensionsDir,
  config,
  logFile,
  extraArgs = [],
  readyTimeoutMs = 120_000,
}) {
  const log = fs.openSync(logFile, 'a');
  const args = [
    toolchain.codeServer,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--config',
    config,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...extraArgs,
  ];
  const child = spawn(toolchain.node, args, { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });

  const stop = async () => {
    if (exited) return;
    killGroup(child.pid, 'SIGTERM');
    const graceful = await Promise.race([exitPromise.then(() => true), delay(5_000).then(() => false)]);
    if (!graceful) {
      killGroup(child.pid, 'SIGKILL');
      await Promise.race([exitPromise, delay(2_000)]);
    }
    // The extension host and other children may outlive the server process by a moment: end the whole group.
    killGroup(child.pid, 'SIGKILL');
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(
        `code-server exited before it was ready (${exited.code ?? exited.signal}); see ${logFile}.`,
      );
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `code-server did not answer on ${url} within ${readyTimeoutMs / 1000} s; see ${logFile}.`,
      );
    }
    await delay(250);
  }
  return { child, url, stop, exited: () => exited };
}

/** Sends `signal` to a whole process group; a group that is already gone is fine. */
export function killGroup(pid, signal) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Launches Debian's Chromium through playwright-core (Playwright's own browser download cannot work here). */
export async function launchChromium(toolchain, env) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: toolchain.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    env,
    timeout: 60_000,
    // The scripts handle Ctrl-C themselves, so that code-server is stopped too; Playwright's own handlers would
    // end the process as soon as the browser is closed.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}
