/**
 * nginx in front of the surge replay's nodes (`npm run surge -- --proxy nginx`), configured as
 * docs/operations.md advises: keep-alive connections to the nodes, each applicant kept on one node
 * (hashed on its address, since the development sandbox's payment page lives in the memory of the
 * node that took the order), and new applicants — `POST /v1/auth/otp`, the first step of every journey
 * — limited by a `limit_req` zone that answers the node's own 503 `OVERLOADED` with `Retry-After`
 * before any node sees the request. Everything after the first step goes to the nodes, whose own
 * admission keeps its priorities.
 *
 * The replay measures the capacity through the proxy with no limit, then limits new applicants to that
 * rate (`setEntryRate`, a graceful reload) before the curve: the nodes then never see more sign-ups a
 * second than they can refuse cheaply, and their own admission decides among those.
 * `startNginxRefuser` is the refusal floor of this proxy: the same nginx answering every request with
 * that 503 and doing nothing else.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BubuhError } from '../errors.js';
import { waitReady } from '../testing/serve-process.js';

/** Whether an `nginx` binary is on the PATH (Debian: `apt-get install nginx`). */
export function nginxAvailable(): boolean {
  const result = spawnSync('nginx', ['-v'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/** The body nginx answers with: the node's own 503, so the replay counts it as the node's refusal. */
function overloadedBody(): string {
  const body = JSON.stringify(new BubuhError('OVERLOADED', { retryAfterSeconds: 1 }).toBody());
  // Inside a single-quoted nginx string: a quote or a backslash must be escaped, and `$` would name a
  // variable. The message has none of them today; refuse to write a wrong config if it ever does.
  if (/['\\$]/.test(body)) throw new Error(`the OVERLOADED body cannot be an nginx string: ${body}`);
  return body;
}

/** The parts of the configuration every instance shares: one worker, its pid and error log under `dir`. */
function preamble(dir: string): string {
  return `worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 16384; multi_accept on; }
`;
}

function httpPreamble(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${join(dir, 'client-body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
`;
}

function overloadedLocation(): string {
  return `    location @overloaded {
      add_header Retry-After 1 always;
      default_type 'application/json; charset=utf-8';
      return 503 '${overloadedBody()}';
    }
`;
}

/** The proxy's configuration; `entryRate` null: no limit (the capacity probe). */
function proxyConfig(
  dir: string,
  port: number,
  upstreams: readonly string[],
  entryRate: number | null,
): string {
  const limit =
    entryRate === null
      ? ''
      : `  limit_req_zone $server_name zone=entry:1m rate=${Math.max(1, Math.round(entryRate))}r/s;\n`;
  // Half a second of the rate may arrive at once: the replay's arrivals come in 2 ms batches.
  const burst = entryRate === null ? 0 : Math.max(1, Math.round(entryRate / 2));
  const entryLimit =
    entryRate === null
      ? ''
      : `      limit_req zone=entry burst=${burst} nodelay;
      limit_req_status 503;
      error_page 503 = @overloaded;
`;
  return `${preamble(dir)}http {
${httpPreamble(dir)}  client_max_body_size 50m;
  client_body_buffer_size 1m;
  upstream bubuh {
    hash $http_x_forwarded_for consistent;
${upstreams.map((address) => `    server ${address};\n`).join('')}    keepalive 1024;
  }
${limit}  server {
    listen 127.0.0.1:${port} backlog=4096;
    server_name surge;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    # The applicant's own address, as the edge in front of a real deployment passes it on.
    proxy_set_header X-Forwarded-For $http_x_forwarded_for;
    proxy_read_timeout 60s;
    location = /v1/auth/otp {
${entryLimit}      proxy_pass http://bubuh;
    }
    location / {
      proxy_pass http://bubuh;
    }
${overloadedLocation()}  }
}
`;
}

/** nginx answering every request but `/readyz` with the node's 503 at once: the proxy's floor. */
function refuserConfig(dir: string, port: number): string {
  return `${preamble(dir)}http {
${httpPreamble(dir)}  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /readyz { return 200 'ok'; }
    location / {
      return 503;
      error_page 503 = @overloaded;
    }
${overloadedLocation()}  }
}
`;
}

export interface NginxProcess {
  readonly base: string;
  readonly process: ChildProcess;
  /** Rewrites the configuration with this entry rate and reloads it gracefully; resolves once reloaded. */
  setEntryRate(rate: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts nginx on `render(null)`; `setEntryRate(rate)` reloads it with `render(rate)`. */
async function startNginx(
  dir: string,
  port: number,
  render: (entryRate: number | null) => string,
): Promise<NginxProcess> {
  await mkdir(dir, { recursive: true });
  // Started as root, nginx runs its workers as `nobody`: they must reach the temporary files it makes
  // here for large uploads and answers (a directory from mkdtemp is 0700).
  await chmod(dir, 0o755);
  const file = join(dir, 'nginx.conf');
  await writeFile(file, render(null));
  const child = spawn('nginx', ['-p', dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base, 15_000);
  } catch (error) {
    child.kill('SIGKILL');
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${stderr}${log}`, { cause: error });
  }
  return {
    base,
    process: child,
    async setEntryRate(rate: number): Promise<void> {
      await writeFile(file, render(rate));
      const before = await workerPids(child.pid!);
      child.kill('SIGHUP');
      // Reloaded when the workers that ran the old configuration are gone (they hold no connections:
      // the replay closed its sockets first) and a new one runs.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = await workerPids(child.pid!);
        if (now.length > 0 && now.every((pid) => !before.includes(pid))) return;
        if (Date.now() > deadline) throw new Error(`nginx did not reload: workers ${now.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The worker processes of an nginx master, from /proc (Linux). */
async function workerPids(master: number): Promise<number[]> {
  const children = await readFile(`/proc/${master}/task/${master}/children`, 'utf8').catch(() => '');
  return children.split(' ').filter(Boolean).map(Number);
}

/** nginx in front of `upstreams` (host:port each), with no entry limit until `setEntryRate`. */
export async function startNginxProxy(
  dir: string,
  port: number,
  upstreams: readonly string[],
): Promise<NginxProcess> {
  return startNginx(dir, port, (entryRate) => proxyConfig(dir, port, upstreams, entryRate));
}

/** nginx that refuses everything (the proxy's refusal floor). */
export async function startNginxRefuser(dir: string, port: number): Promise<NginxProcess> {
  return startNginx(dir, port, () => refuserConfig(dir, port));
}
