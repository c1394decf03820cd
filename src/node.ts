/**
 * The composition root of one bubuh node: storage, ledger and the background sweeper, built from a
 * configuration. `bubuh serve` and the tests build nodes here; nothing else wires parts together.
 */
import type { Config } from './config.js';
import { systemAccounts } from './ledger/chart.js';
import { Ledger } from './ledger/ledger.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openStorage, type Storage } from './storage/database.js';
import { openRedisLink, type RedisLink } from './redis/link.js';

export interface BubuhNode {
  readonly config: Config;
  readonly storage: Storage;
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The shared Redis when `REDIS_URL` is set; its users fall back to this node while it is not ready. */
  readonly redis: RedisLink | null;
  /** Milliseconds since the epoch; every service built from the node reads time here (tests inject it). */
  readonly clock: () => number;
  /** Voids every pending transfer whose timeout has passed; returns how many. */
  sweep(): Promise<number>;
  startSweeper(): void;
  close(): Promise<void>;
}

export interface NodeOptions {
  readonly clock?: () => number;
  readonly postgresSchema?: string;
}

export async function createNode(
  config: Config,
  logger: Logger,
  options: NodeOptions = {},
): Promise<BubuhNode> {
  const storage = await openStorage({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    postgresPoolMax: config.postgresPoolMax,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
    sqlitePageBytes: config.sqlitePageBytes,
    sqliteCheckpointPages: config.sqliteCheckpointPages,
    sqliteCacheKib: config.sqliteCacheKib,
    sqliteCheckpointIntervalMs: config.sqliteCheckpointIntervalMs,
    onCheckpointFailure: (problem: string, failures: number) => {
      // Once per interval while it lasts: the first, then one line in a hundred.
      if (failures === 1 || failures % 100 === 0) {
        logger.warn(
          { problem, failures },
          'background SQLite checkpoint failed; SQLite checkpoints itself meanwhile',
        );
      }
    },
    ...(options.postgresSchema ? { postgresSchema: options.postgresSchema } : {}),
  });
  const metrics = createMetrics();
  const checkpointer = storage.checkpointer;
  if (checkpointer) {
    metrics.gauge(
      'bubuh_sqlite_background_checkpoints',
      'SQLite checkpoints run on their own thread, off the event loop, since start.',
      () => checkpointer.stats.checkpoints,
    );
    metrics.gauge(
      'bubuh_sqlite_checkpoint_left_frames',
      'WAL frames the last background checkpoint left uncopied (committed while it ran).',
      () => checkpointer.stats.lastLeft,
    );
  }
  const redis = config.redisUrl
    ? openRedisLink(config.redisUrl, logger, { prefix: config.redisKeyPrefix })
    : null;
  if (redis)
    metrics.gauge(
      'bubuh_redis_up',
      'Whether the shared Redis answers (1) or this node runs alone (0).',
      () => (redis.ready ? 1 : 0),
    );
  const ledger = new Ledger(storage, {
    onBatch: (batch) => {
      metrics.ledgerBatchTransfers.observe(batch.transfers);
      metrics.ledgerBatchSeconds.observe(batch.durationMs / 1000);
    },
    batchTransfersMax: config.ledgerBatchTransfersMax,
    queueTransfersMax: config.ledgerQueueTransfersMax,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  for (const result of await ledger.createAccounts(systemAccounts)) {
    if (result.result !== 'ok' && result.result !== 'exists') {
      throw new Error(`system account ${result.id} refused by the ledger: ${result.result}`);
    }
  }
  let timer: NodeJS.Timeout | null = null;
  let sweeping = false;

  const sweep = async (): Promise<number> => {
    let total = 0;
    // Bounded: at most 100 rounds of ledgerSweepBatchMax per call; the next tick continues.
    for (let round = 0; round < 100; round += 1) {
      const expired = await ledger.expirePending(config.ledgerSweepBatchMax);
      total += expired.length;
      if (expired.length < config.ledgerSweepBatchMax) break;
    }
    if (total > 0) logger.info({ expired: total }, 'ledger: expired pending transfers voided');
    return total;
  };

  return {
    config,
    storage,
    ledger,
    logger,
    metrics,
    redis,
    clock: options.clock ?? Date.now,
    sweep,
    startSweeper() {
      if (timer) return;
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        sweep()
          .catch((error: unknown) => logger.warn({ err: error }, 'ledger: sweep failed; will retry'))
          .finally(() => {
            sweeping = false;
          });
      }, config.ledgerSweepIntervalMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
      await ledger.close();
      await storage.close();
      await redis?.close();
    },
  };
}
