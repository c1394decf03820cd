/**
 * The browser front end, built by Vite into `dist/web/` (hashed names under `assets/`). The verifier is
 * imported straight from `src/` as TypeScript, so the server, the command line and the page run one
 * source. A build fails when anything the page imports reaches for a Node module: the page must never
 * need a server to check a document.
 */
import { builtinModules } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repositoryRoot = join(webRoot, '..');
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
        if (!/^assets\/.*\.(js|css|svg)$/.test(name)) continue;
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
  plugins: [refuseNodeModules(), precompressAssets()],
  build: {
    outDir: join(repositoryRoot, 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    // One entry and no dynamic imports: the preload helper would only add an inline script the CSP forbids.
    modulePreload: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      input: { verify: join(webRoot, 'verify', 'index.html') },
    },
  },
});
