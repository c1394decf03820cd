/**
 * `npm run bench:admission` — what a 503 OVERLOADED refusal costs. A node with one admission slot,
 * held, and no queue refuses every sign-up at once; the bench times N such refusals through the real
 * app (`app.inject`, so Fastify's routing, every earlier door and the hook are included), the
 * admission decision alone (`acquire` + the cached body), and as a peer a bare Fastify app that answers
 * 503 from an onRequest hook with a constant. Also what a rate-limit decision costs a node's memory
 * limiter when it is full and every request comes from a new address (a surge of new clients: each
 * decision forgets the least recently used bucket), after three times its size in addresses. Prints a
 * table and, as its LAST line, one JSON object.
 *
 * Environment: BENCH_REFUSALS (default 20000).
 */
import Fastify from 'fastify';
import { openTestNode } from '../src/accounts/test-node.js';
import { buildApp } from '../src/http/app.js';
import { admissionOf } from '../src/overload/hooks.js';
import { MemoryLimiter } from '../src/ratelimit/memory-limiter.js';
import { disposeBackend, openFreshBackend } from '../src/testing/backends.js';

const refusals = Number(process.env['BENCH_REFUSALS'] ?? 20000);

interface Cost {
  readonly cpuMicros: number;
  readonly wallMicros: number;
}

/** CPU (user + system) and wall microseconds per call of `work`, after a warm-up of a tenth. */
async function measure(work: () => Promise<unknown> | unknown): Promise<Cost> {
  for (let index = 0; index < refusals / 10; index += 1) await work();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let index = 0; index < refusals; index += 1) await work();
  const wallMicros = ((performance.now() - wallStart) * 1000) / refusals;
  const cpu = process.cpuUsage(cpuStart);
  return { cpuMicros: (cpu.user + cpu.system) / refusals, wallMicros };
}

const backend = await openFreshBackend('sqlite');
if (!backend) throw new Error('no SQLite backend');
const node = await openTestNode(backend, {
  settings: {
    BUBUH_ADMISSION_LIMIT_MIN: 1,
    BUBUH_ADMISSION_LIMIT_MAX: 1,
    BUBUH_ADMISSION_LIMIT_INITIAL: 1,
    BUBUH_ADMISSION_QUEUE_MAX: 0,
  },
});
const app = await buildApp(node);
const admission = admissionOf(node);
const held = admission.queue.acquire(0, admission.now());
const request = { method: 'POST', url: '/v1/auth/otp', payload: { phone: '081234567890' } } as const;
const first = await app.inject(request);
if (first.statusCode !== 503 || first.json().error.code !== 'OVERLOADED') {
  throw new Error(`expected 503 OVERLOADED, got ${first.statusCode} ${first.body}`);
}
const throughApp = await measure(() => app.inject(request));
const decision = await measure(() => {
  const outcome = admission.queue.acquire(4, admission.now());
  if (typeof outcome !== 'string') throw new Error('expected a refusal');
  return admission.refusalBody(admission.queue.retryAfterSeconds());
});

const peer = Fastify();
const constant = '{"error":{"code":"OVERLOADED"}}';
peer.addHook('onRequest', (_request, reply) => {
  reply.code(503).header('retry-after', 1).header('content-type', 'application/json').send(constant);
});
peer.post('/v1/auth/otp', async () => ({}));
await peer.ready();
const throughPeer = await measure(() => peer.inject(request));

if (typeof held !== 'string') admission.finish(held, false);
await peer.close();
await app.close();
await node.close();
await disposeBackend(backend);

// The memory limiter, full and forgetting: 100,000 buckets, 300,000 addresses already seen.
let limiterClock = 0;
const limiter = new MemoryLimiter({ clock: () => limiterClock, keysMax: 100_000 });
const limiterRule = { capacity: 10, refillPerHour: 3600 };
let address = 0;
const newAddress = () => {
  limiterClock += 1;
  address += 1;
  return limiter.takeNow(`ip:${address}`, limiterRule);
};
const fillStart = performance.now();
for (let index = 0; index < 300_000; index += 1) newAddress();
const fillMs = performance.now() - fillStart;
const limiterNewKey = await measure(newAddress);

const round = (value: number) => Math.round(value * 100) / 100;
console.log('what                                   cpu µs   wall µs');
console.log(
  `refusal through bubuh (inject)       ${round(throughApp.cpuMicros).toString().padStart(8)}  ${round(throughApp.wallMicros).toString().padStart(8)}`,
);
console.log(
  `admission decision alone             ${round(decision.cpuMicros).toString().padStart(8)}  ${round(decision.wallMicros).toString().padStart(8)}`,
);
console.log(
  `peer: bare Fastify 503 hook (inject) ${round(throughPeer.cpuMicros).toString().padStart(8)}  ${round(throughPeer.wallMicros).toString().padStart(8)}`,
);
console.log(
  `rate limit, memory limiter full, new address each time ${round(limiterNewKey.cpuMicros).toString().padStart(8)}  ${round(limiterNewKey.wallMicros).toString().padStart(8)}   (filling it with 300,000 addresses: ${Math.round(fillMs)} ms)`,
);
console.log(
  JSON.stringify({
    bench: 'admission',
    refusals,
    refusal_cpu_us: round(throughApp.cpuMicros),
    refusal_wall_us: round(throughApp.wallMicros),
    decision_cpu_us: round(decision.cpuMicros),
    peer_fastify_503_cpu_us: round(throughPeer.cpuMicros),
    memory_limiter_new_key_cpu_us: round(limiterNewKey.cpuMicros),
  }),
);
