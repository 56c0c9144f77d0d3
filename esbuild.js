// One build script, one config function, one target per surface: the extension host (node/cjs with `vscode`
// external), its analysis worker and the CLI (node). Browser targets (webview, renderer) join here as they
// are written.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @returns {import('esbuild').BuildOptions} */
function createConfig(entry, outfile, platform, format, extra = {}) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform,
    format,
    target: platform === 'node' ? 'node20' : 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    ...extra,
  };
}

const targets = [
  createConfig('src/extension/extension.ts', 'dist/extension.js', 'node', 'cjs', { external: ['vscode'] }),
  // The shape interpreter, run by the extension in a worker thread (see src/extension/analysisService.ts).
  createConfig('src/extension/analysisWorker.ts', 'dist/analysisWorker.js', 'node', 'cjs'),
  // `webgpu` (Dawn's native bindings, ESM) stays external: `convlens compute --engine webgpu` imports it at
  // run time, only when asked for (src/cli/webgpuNode.ts).
  createConfig('src/cli/main.ts', 'dist/cli.js', 'node', 'cjs', {
    banner: { js: '#!/usr/bin/env node' },
    external: ['webgpu'],
  }),
];

async function main() {
  if (watch) {
    for (const config of targets) {
      const context = await esbuild.context(config);
      await context.watch();
    }
    return;
  }
  await Promise.all(targets.map((config) => esbuild.build(config)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
