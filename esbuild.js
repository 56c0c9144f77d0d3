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
  // The notebook renderer: an ES module VS Code loads in the notebook's output webview (src/renderer/renderer.ts).
  createConfig('src/renderer/renderer.ts', 'dist/renderer.js', 'browser', 'esm'),
  // ```conv-lens blocks in notebook Markdown cells: extends VS Code's Markdown renderer (src/renderer/markdownCell.ts).
  createConfig('src/renderer/markdownCell.ts', 'dist/markdownCell.js', 'browser', 'esm'),
  // ```conv-lens blocks in the Markdown preview: a classic script the preview loads (src/renderer/markdownPreview.ts).
  createConfig('src/renderer/markdownPreview.ts', 'dist/markdownPreview.js', 'browser', 'iife'),
  // The preview panel's page, a classic script under the panel's CSP (src/webview/preview/main.ts), and its CPU
  // engine's Web Worker (src/webview/preview/worker.ts), which the page starts from a blob: URL.
  createConfig('src/webview/preview/main.ts', 'dist/preview.js', 'browser', 'iife'),
  createConfig('src/webview/preview/worker.ts', 'dist/previewWorker.js', 'browser', 'iife'),
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
