/**
 * The browser front end, built by Vite into `dist/web/` (hashed names under `assets/`): the verifier page
 * (`verify/`) and the applicant's web app (`app/`, React). The verifier is imported straight from `src/`
 * as TypeScript, so the server, the command line and the page run one source. A build fails when
 * anything a page imports reaches for a Node module: the pages must never need a server to check a
 * document. `BUBUH_WEB_OUT_DIR` builds elsewhere (a test build beside its compiled server).
 */
import { builtinModules } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repositoryRoot = join(webRoot, '..');
const outDir = process.env['BUBUH_WEB_OUT_DIR']
  ? resolve(process.env['BUBUH_WEB_OUT_DIR'])
  : join(repositoryRoot, 'dist', 'web');
const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Refuses `node:` and Node built-in imports anywhere in the page's module graph. */
function refuseNodeModules(): Plugin {
  return {
    name: 'bubuh:refuse-node-modules',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source.startsWith('node:') || nodeBuiltins.has(source)) {
        throw new Error(
          `the browser build imports the Node module "${source}" (from ${importer ?? 'an entry'})`,
        );
      }
      return null;
    },
  };
}

/** Writes `.gz` and `.br` beside every text asset, so the server sends them precompressed. */
function precompressAssets(): Plugin {
  return {
    name: 'bubuh:precompress-assets',
    apply: 'build',
    async writeBundle(options, bundle) {
      const directory = options.dir ?? '';
      for (const name of Object.keys(bundle)) {
        if (!/^assets\/.*\.(js|mjs|css|svg|ttf)$/.test(name)) continue;
        const data = await readFile(join(directory, name));
        await writeFile(join(directory, `${name}.gz`), gzipSync(data, { level: 9 }));
        await writeFile(
          join(directory, `${name}.br`),
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  plugins: [refuseNodeModules(), react(), precompressAssets()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // No preload polyfill: it is an inline script the CSP forbids. The app's one dynamic import (the PDF
    // renderer, on the stamp screen only) then loads as a plain import() of a same-origin chunk.
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      input: {
        verify: join(webRoot, 'verify', 'index.html'),
        app: join(webRoot, 'app', 'index.html'),
      },
    },
  },
});
