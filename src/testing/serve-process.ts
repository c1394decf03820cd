/**
 * A real `bubuh serve` in a child process, for the chaos test and the service benchmark: a free port,
 * the server started with only the given settings, and a wait until it answers `/readyz`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serveNodeOptions } from '../cli/serve-node-options.js';

const cliModule = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts `bubuh serve` with `env` and the Node options `npm start` gives it, then `nodeArgs`; an
 * inherited DATABASE_URL or BUBUH_* never points it elsewhere.
 */
export function startServe(
  env: Readonly<Record<string, string>>,
  nodeArgs: readonly string[] = [],
): ChildProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'DATABASE_URL' && !name.startsWith('BUBUH_')),
  );
  return spawn(
    process.execPath,
    [
      ...serveNodeOptions,
      ...nodeArgs,
      '-e',
      `import(${JSON.stringify(cliModule)}).then((m) => m.runCli(['serve']))`,
    ],
    {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

export async function waitReady(base: string, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${base} did not become ready within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
