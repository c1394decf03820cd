/**
 * Token buckets in Redis, shared by every node. One decision is one Lua script run (EVALSHA; EVAL when
 * the server answers NOSCRIPT, after a restart or a SCRIPT FLUSH), so refill and take are atomic however
 * many nodes take from one bucket at once. A bucket is a hash `{u: units, t: ms}` that expires once it
 * would be full again, so idle buckets vanish by themselves.
 *
 * Time. By default the script reads the Redis server's own clock (TIME): every node sharing a bucket
 * then measures refill on one clock, and a node whose clock runs ahead cannot hand out tokens early nor
 * one behind withhold them. Tests pass `clock` instead, and the script uses the time it is given, so
 * the numbers are exact. The arithmetic is `decide` in bucket.ts, line for line.
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from '../redis/link.js';
import {
  type Decision,
  type RateLimiter,
  type Rule,
  assertRule,
  effectiveCost,
  unitsPerToken,
} from './bucket.js';

const script = `
-- Redis before 5 refuses writes after TIME unless effects are replicated; later versions always do.
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local unit = tonumber(ARGV[5])
local now
if ARGV[4] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[4])
end
local capacityUnits = capacity * unit
local costUnits = cost * unit
local units = capacityUnits
local state = redis.call('HMGET', KEYS[1], 'u', 't')
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  units = math.min(capacityUnits, tonumber(state[1]) + elapsed * rate)
end
if units < costUnits then
  return {0, math.floor(units / unit), math.ceil((costUnits - units) / rate), math.ceil((capacityUnits - units) / rate)}
end
local left = units - costUnits
local reset = math.ceil((capacityUnits - left) / rate)
redis.call('HSET', KEYS[1], 'u', string.format('%.0f', left), 't', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], reset + 1000)
return {1, math.floor(left / unit), 0, reset}
`;

export interface RedisLimiterOptions {
  /** Time for the script; absent, the Redis server's own clock decides (the production choice). */
  readonly clock?: () => number;
  /**
   * A comment appended to the script, which changes its SHA-1: a test passes a fresh one to meet a
   * server that has never seen the script (NOSCRIPT) without flushing the shared script cache.
   */
  readonly scriptTag?: string;
}

export class RedisLimiter implements RateLimiter {
  private readonly script: string;
  /** SHA-1 of the script, as EVALSHA names it. */
  readonly scriptSha: string;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RedisLimiterOptions = {},
  ) {
    this.script =
      options.scriptTag === undefined ? script : `${script}-- ${options.scriptTag.replace(/\n/g, ' ')}\n`;
    this.scriptSha = createHash('sha1').update(this.script, 'utf8').digest('hex');
  }

  /** Rejects when Redis is not ready or the command fails; the caller decides what to do then. */
  async take(key: string, rule: Rule, cost = 1): Promise<Decision> {
    assertRule(rule);
    if (!this.link.ready) throw new Error('redis: not ready');
    const keys = [`${this.link.prefix}ratelimit:${key}`];
    const args = [
      String(rule.capacity),
      String(rule.refillPerHour),
      String(effectiveCost(rule, cost)),
      this.options.clock ? String(Math.floor(this.options.clock())) : '',
      String(unitsPerToken),
    ];
    let reply: unknown;
    try {
      reply = await this.link.client.evalSha(this.scriptSha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.link.client.eval(this.script, { keys, arguments: args });
    }
    return decisionOf(reply);
  }
}

function decisionOf(reply: unknown): Decision {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((value) => typeof value === 'number')) {
    throw new Error(`redis: the rate limit script answered ${JSON.stringify(reply)}`);
  }
  const [allowed, remaining, retryAfterMs, resetMs] = reply as number[];
  return { allowed: allowed === 1, remaining: remaining!, retryAfterMs: retryAfterMs!, resetMs: resetMs! };
}
