#!/usr/bin/env node
// `npm start`: Conv Lens in VS Code, in your browser. Builds the extension, installs (once) code-server and the
// Node it needs (test/host/toolchain.mjs), packages the extension as a .vsix and installs it into a profile kept
// in ~/.cache/conv-lens/start-profile, then serves VS Code on 127.0.0.1 with examples/ open, until Ctrl-C.
//   npm start                     port $PORT, else 8731, else any free port
//   npm start -- --no-build       reuse dist/ as it is
// Stop it with Ctrl-C. Rerun it after changing the code: it rebuilds and reinstalls the extension.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cleanEnv,
  freePort,
  startCodeServer,
  writeServerConfig,
  writeUserSettings,
} from '../test/host/codeServer.mjs';
import { cacheRoot, ensureToolchain } from '../test/host/toolchain.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PORT = 8731;

function step(command, args, what, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.error || result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}).`);
  }
  return result;
}

async function main() {
  if (!process.argv.includes('--no-build')) {
    console.log('Building the extension…');
    step(process.execPath, ['esbuild.js'], 'node esbuild.js');
  }
  const toolchain = ensureToolchain({ log: (line) => console.log(line) });

  // One profile for every `npm start`, so layout, open editors and settings you change survive a restart.
  const profile = path.join(cacheRoot(), 'start-profile');
  const userDataDir = path.join(profile, 'user-data');
  const extensionsDir = path.join(profile, 'extensions');
  const config = path.join(profile, 'config.yaml');
  fs.mkdirSync(extensionsDir, { recursive: true });
  if (!fs.existsSync(path.join(userDataDir, 'User', 'settings.json'))) writeUserSettings(userDataDir);
  writeServerConfig(config);
  const env = cleanEnv();

  // code-server cannot install an extension from a folder, but installs the same .vsix a user would get.
  console.log('Packaging and installing the extension…');
  const vsix = path.join(profile, 'conv-lens.vsix');
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  step(
    process.execPath,
    [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix],
    'Packaging with vsce',
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  step(
    toolchain.node,
    [
      toolchain.codeServer,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--config',
      config,
      '--install-extension',
      vsix,
      '--force',
    ],
    'Installing the .vsix into code-server',
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );

  const wanted = Number(process.env.PORT) || DEFAULT_PORT;
  const port = await freePort(wanted);
  if (port !== wanted) console.log(`Port ${wanted} is taken; using ${port}.`);
  const logFile = path.join(profile, 'code-server.log');
  fs.appendFileSync(logFile, `\n--- npm start, ${new Date().toISOString()}, port ${port} ---\n`);
  const server = await startCodeServer({ toolchain, port, env, userDataDir, extensionsDir, config, logFile });

  const examples = path.join(root, 'examples');
  const url = `${server.url}/?folder=${encodeURIComponent(examples).replace(/%2F/g, '/')}`;
  console.log(`\nConv Lens is running in VS Code at:\n\n  ${url}\n`);
  console.log(
    'Open a file in pytorch/, keras/, flax/ or onnx/ and try "Conv Lens: Shape of a Layer…" from the',
  );
  console.log(`Command Palette (Ctrl+Shift+P). Server log: ${logFile}\nPress Ctrl-C to stop.`);

  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping code-server…');
    server.stop().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGHUP', () => stop(0));
  server.child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`code-server stopped by itself (${code ?? signal}); see ${logFile}.`);
    stop(1);
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
