/** Test helper: a node over a contract-test backend, with an injectable clock and settings. */
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { type BubuhNode, createNode } from '../node.js';
import type { Backend } from '../testing/backends.js';
import { loopGuardOff } from '../testing/overload.js';

export interface TestClock {
  (): number;
  now: number;
  advance(ms: number): void;
}

/** A clock that stands still until advanced (starts at 2024-09-06T00:00:00Z). */
export function testClock(start = Date.UTC(2024, 8, 6)): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  clock.advance = (ms: number) => {
    clock.now += ms;
  };
  return clock;
}

export async function openTestNode(
  backend: Backend,
  options: { clock?: () => number; settings?: Readonly<Record<string, string | number | undefined>> } = {},
): Promise<BubuhNode> {
  const config = loadConfig(
    {},
    {
      BUBUH_DATA_DIR: backend.openOptions.dataDir,
      DATABASE_URL: backend.openOptions.databaseUrl,
      ...loopGuardOff,
      ...options.settings,
    },
  );
  return createNode(config, createLogger('silent'), {
    ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
