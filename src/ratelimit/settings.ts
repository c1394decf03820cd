/** Settings of ratelimit/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

export interface RatelimitConfig {
  /** `off` turns every rate limit off (a benchmark of the node's own capacity, say); `on` otherwise. */
  readonly rateLimits: 'on' | 'off';
  readonly rateIpBurst: number;
  readonly rateIpPerMinute: number;
  readonly rateAccountBurst: number;
  readonly rateAccountPerMinute: number;
  readonly rateApiKeyBurst: number;
  readonly rateApiKeyPerMinute: number;
  readonly ratePhoneBurst: number;
  readonly ratePhonePerHour: number;
  readonly rateRedisTimeoutMs: number;
  readonly rateMemoryKeysMax: number;
  /**
   * How many reverse proxies in front of the node append to X-Forwarded-For; 0 ignores the header and
   * takes the socket's address. Every area that keys anything by client address reads this one setting.
   */
  readonly trustProxyHops: number;
}

export const ratelimitSettings: readonly Setting[] = [
  {
    key: 'rateLimits',
    variable: 'BUBUH_RATE_LIMITS',
    kind: { type: 'enum', values: ['on', 'off'] },
    fallback: 'on',
    help: 'off turns every rate limit off (benchmarks of raw capacity); on keeps the budgets below',
  },
  {
    key: 'rateIpBurst',
    variable: 'BUBUH_RATE_IP_BURST',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 600,
    help: 'requests one client address (an IPv6 /64) may make at once before its budget refills',
  },
  {
    key: 'rateIpPerMinute',
    variable: 'BUBUH_RATE_IP_PER_MINUTE',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 600,
    help: 'sustained requests per minute from one client address (a post office counter shares one)',
  },
  {
    key: 'rateAccountBurst',
    variable: 'BUBUH_RATE_ACCOUNT_BURST',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 300,
    help: 'requests one signed-in session may make at once before its budget refills',
  },
  {
    key: 'rateAccountPerMinute',
    variable: 'BUBUH_RATE_ACCOUNT_PER_MINUTE',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 300,
    help: 'sustained requests per minute of one signed-in session',
  },
  {
    key: 'rateApiKeyBurst',
    variable: 'BUBUH_RATE_API_KEY_BURST',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 1000,
    help: 'requests one API key may make at once before its budget refills',
  },
  {
    key: 'rateApiKeyPerMinute',
    variable: 'BUBUH_RATE_API_KEY_PER_MINUTE',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 3000,
    help: 'sustained requests per minute of one API key (a reseller program)',
  },
  {
    key: 'ratePhoneBurst',
    variable: 'BUBUH_RATE_PHONE_BURST',
    kind: { type: 'integer', min: 1, max: 1000 },
    fallback: 5,
    help: 'sign-in code requests for one phone number at once before its budget refills (a cheap guard ahead of BUBUH_OTP_SENDS_PER_PHONE)',
  },
  {
    key: 'ratePhonePerHour',
    variable: 'BUBUH_RATE_PHONE_PER_HOUR',
    kind: { type: 'integer', min: 1, max: 100_000 },
    fallback: 20,
    help: 'sustained sign-in code requests per hour for one phone number (20: one every 3 minutes)',
  },
  {
    key: 'rateRedisTimeoutMs',
    variable: 'BUBUH_RATE_REDIS_TIMEOUT_MS',
    kind: { type: 'integer', min: 5, max: 5000 },
    fallback: 100,
    help: 'longest wait for one rate limit decision from Redis; slower, and this node decides alone',
  },
  {
    key: 'rateMemoryKeysMax',
    variable: 'BUBUH_RATE_MEMORY_KEYS_MAX',
    kind: { type: 'integer', min: 100, max: 10_000_000 },
    fallback: 200_000,
    help: 'most rate limit buckets one node keeps in memory; the least recently used are forgotten',
  },
  {
    key: 'trustProxyHops',
    variable: 'BUBUH_TRUST_PROXY_HOPS',
    kind: { type: 'integer', min: 0, max: 10 },
    fallback: 0,
    help: 'reverse proxies in front of the node that append X-Forwarded-For; 0 ignores that header',
  },
];
