/**
 * The waiting room in Redis, shared by every node (DESIGN §9). Each call is one Lua script run (EVALSHA,
 * EVAL when the server has not seen the script), so joins, polls and admissions by many nodes never
 * interleave. The same model as the memory store (store.ts), over five keys under `<prefix>waiting-room:`:
 * `queue` (sorted by the order key), `seen` (last poll of each waiting visitor), `admitted` (end time of
 * each admission, kept `graceMs` after it ends so the visitor learns it expired), `admissions` (the
 * admissions of the rate window) and `arrivals` (the FIFO counter). Every call renews their TTL, so a
 * room nobody uses leaves nothing behind. Time comes from the caller (the node's clock).
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from '../redis/link.js';
import type { RoomRules, VisitorState, VisitorStatus, WaitingRoomStore } from './store.js';

const script = `
local queue, seen, admitted, admissions, arrivals = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, visitor = ARGV[1], ARGV[2]
local now = tonumber(ARGV[3])
local capacity = tonumber(ARGV[4])
local untilIfAdmitted = ARGV[5]
local opensAt = tonumber(ARGV[6])
local windowCutoff, abandonCutoff, graceCutoff = ARGV[7], tonumber(ARGV[8]), ARGV[9]
local randomKey = ARGV[10]
local ttlMs = ARGV[11]

redis.call('ZREMRANGEBYSCORE', admitted, '-inf', graceCutoff)
redis.call('ZREMRANGEBYSCORE', admissions, '-inf', windowCutoff)

if op == 'release' then
  redis.call('ZREM', queue, visitor)
  redis.call('ZREM', seen, visitor)
  redis.call('ZREM', admitted, visitor)
elseif op == 'join' then
  local untilNow = redis.call('ZSCORE', admitted, visitor)
  local active = untilNow and tonumber(untilNow) > now
  if not active and not redis.call('ZSCORE', queue, visitor) then
    redis.call('ZREM', admitted, visitor)
    local key
    if opensAt >= 0 and now < opensAt then key = randomKey else key = 1 + redis.call('INCR', arrivals) end
    redis.call('ZADD', queue, key, visitor)
  end
end
if redis.call('ZSCORE', queue, visitor) then redis.call('ZADD', seen, ARGV[3], visitor) end

local admittedNow = 0
if opensAt < 0 or now >= opensAt then
  local free = capacity - redis.call('ZCOUNT', admitted, '(' .. ARGV[3], '+inf')
  while free > 0 do
    local popped = redis.call('ZPOPMIN', queue, free)
    if #popped == 0 then break end
    for i = 1, #popped, 2 do
      local id = popped[i]
      local last = redis.call('ZSCORE', seen, id)
      redis.call('ZREM', seen, id)
      if last and tonumber(last) > abandonCutoff then
        redis.call('ZADD', admitted, untilIfAdmitted, id)
        redis.call('ZADD', admissions, ARGV[3], id .. ':' .. ARGV[3])
        admittedNow = admittedNow + 1
        free = free - 1
      end
    end
  end
end

local untilScore = redis.call('ZSCORE', admitted, visitor)
local state, position = 'absent', 0
if untilScore and tonumber(untilScore) > now then
  state = 'admitted'
else
  local rank = redis.call('ZRANK', queue, visitor)
  if rank then
    state, position = 'waiting', rank + 1
  elseif untilScore then
    state = 'expired'
  end
end
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttlMs) end
return {state, position, untilScore or '', redis.call('ZCARD', admissions), redis.call('ZCARD', queue),
  redis.call('ZCOUNT', admitted, '(' .. ARGV[3], '+inf'), admittedNow}
`;

export interface RedisWaitingRoomStoreOptions {
  /** A comment appended to the script (a fresh SHA-1), so a test meets NOSCRIPT without flushing. */
  readonly scriptTag?: string;
}

export class RedisWaitingRoomStore implements WaitingRoomStore {
  private readonly script: string;
  private readonly scriptSha: string;
  private readonly keys: string[];
  private readonly ttlMs: number;

  constructor(
    private readonly link: RedisLink,
    private readonly rules: RoomRules,
    options: RedisWaitingRoomStoreOptions = {},
  ) {
    this.script =
      options.scriptTag === undefined ? script : `${script}-- ${options.scriptTag.replace(/\n/g, ' ')}\n`;
    this.scriptSha = createHash('sha1').update(this.script, 'utf8').digest('hex');
    const base = `${link.prefix}waiting-room:`;
    this.keys = ['queue', 'seen', 'admitted', 'admissions', 'arrivals'].map((name) => base + name);
    this.ttlMs = Math.max(rules.admittedMs + rules.graceMs, rules.windowMs, rules.abandonMs) + 3_600_000;
  }

  join(visitor: string, now: number, randomKey: number): Promise<VisitorStatus> {
    return this.run('join', visitor, now, randomKey);
  }

  status(visitor: string, now: number): Promise<VisitorStatus> {
    return this.run('status', visitor, now, 0);
  }

  release(visitor: string, now: number): Promise<VisitorStatus> {
    return this.run('release', visitor, now, 0);
  }

  private async run(op: string, visitor: string, now: number, randomKey: number): Promise<VisitorStatus> {
    if (!this.link.ready) throw new Error('redis: not ready');
    const time = Math.floor(now);
    const { rules } = this;
    const args = [
      op,
      visitor,
      String(time),
      String(rules.capacity),
      String(time + rules.admittedMs),
      String(rules.opensAt ?? -1),
      String(time - rules.windowMs),
      String(time - rules.abandonMs),
      String(time - rules.graceMs),
      String(Math.min(Math.max(randomKey, 0), 0.999999999)),
      String(this.ttlMs),
    ];
    let reply: unknown;
    try {
      reply = await this.link.client.evalSha(this.scriptSha, { keys: this.keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.link.client.eval(this.script, { keys: this.keys, arguments: args });
    }
    return statusOf(reply);
  }
}

const states: readonly VisitorState[] = ['waiting', 'admitted', 'expired', 'absent'];

function statusOf(reply: unknown): VisitorStatus {
  if (!Array.isArray(reply) || reply.length !== 7) {
    throw new Error(`redis: the waiting room script answered ${JSON.stringify(reply)}`);
  }
  const [state, position, until, inWindow, waiting, admitted, admittedNow] = reply as unknown[];
  if (typeof state !== 'string' || !states.includes(state as VisitorState)) {
    throw new Error(`redis: the waiting room script answered the state ${JSON.stringify(state)}`);
  }
  const visitorState = state as VisitorState;
  return {
    state: visitorState,
    position: Number(position),
    admittedUntil:
      (visitorState === 'admitted' || visitorState === 'expired') && until !== '' ? Number(until) : null,
    admissionsInWindow: Number(inWindow),
    waiting: Number(waiting),
    admitted: Number(admitted),
    admittedNow: Number(admittedNow),
  };
}

/**
 * The store a node uses: Redis while the link is ready, this node's memory otherwise (Redis is a helper,
 * never a dependency of correctness). While memory decides, each node runs its own room: places taken
 * in Redis are not seen until it is back. Each change of backend is logged once.
 */
export class FallbackWaitingRoomStore implements WaitingRoomStore {
  private current: 'redis' | 'memory';

  constructor(
    private readonly memory: WaitingRoomStore,
    private readonly redis: { readonly store: WaitingRoomStore; readonly ready: () => boolean } | null,
    private readonly onBackend: (backend: 'redis' | 'memory', error?: unknown) => void = () => {},
    /** A Redis call slower than this is answered from memory (a hung Redis must not hold the gate). */
    private readonly timeoutMs = 250,
  ) {
    this.current = redis ? 'redis' : 'memory';
  }

  get backend(): 'redis' | 'memory' {
    return this.current;
  }

  join(visitor: string, now: number, randomKey: number): Promise<VisitorStatus> {
    return this.use((store) => store.join(visitor, now, randomKey));
  }

  status(visitor: string, now: number): Promise<VisitorStatus> {
    return this.use((store) => store.status(visitor, now));
  }

  release(visitor: string, now: number): Promise<VisitorStatus> {
    return this.use((store) => store.release(visitor, now));
  }

  private async use(call: (store: WaitingRoomStore) => Promise<VisitorStatus>): Promise<VisitorStatus> {
    if (this.redis && this.redis.ready()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`redis: no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        });
        const status = await Promise.race([call(this.redis.store), late]);
        this.switchTo('redis');
        return status;
      } catch (error) {
        this.switchTo('memory', error);
      } finally {
        clearTimeout(timer);
      }
    } else if (this.redis) this.switchTo('memory');
    return call(this.memory);
  }

  private switchTo(backend: 'redis' | 'memory', error?: unknown): void {
    if (this.current === backend) return;
    this.current = backend;
    this.onBackend(backend, error);
  }
}
