/**
 * Prometheus metrics of one node (prom-client), one registry per node so tests and several nodes in
 * one process never share counters. `GET /metrics` serves `registry.metrics()`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const latencyBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

export interface Metrics {
  readonly registry: Registry;
  readonly stamps: Counter<'outcome'>;
  readonly refunds: Counter<'reason'>;
  readonly stampStageSeconds: Histogram<'stage'>;
  readonly ledgerBatchTransfers: Histogram;
  readonly ledgerBatchSeconds: Histogram;
  readonly verifications: Counter<'verdict'>;
  /** Gauges whose values are read when scraped. */
  gauge(name: string, help: string, read: () => number): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, event-loop lag, GC) under the same prefix.
  collectDefaultMetrics({ register: registry, prefix: 'bubuh_process_' });
  const stamps = new Counter({
    name: 'bubuh_stamps_total',
    help: 'Stamp requests that reserved a unit, by outcome (stamped, refunded).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const refunds = new Counter({
    name: 'bubuh_stamp_refunds_total',
    help: 'Reserved units returned automatically, by reason code.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const stampStageSeconds = new Histogram({
    name: 'bubuh_stamp_stage_seconds',
    help: 'Time spent in each stage of a stamp request.',
    labelNames: ['stage'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const ledgerBatchTransfers = new Histogram({
    name: 'bubuh_ledger_batch_transfers',
    help: 'Transfers committed per ledger transaction (group commit).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const ledgerBatchSeconds = new Histogram({
    name: 'bubuh_ledger_batch_seconds',
    help: 'Duration of one ledger transaction (on SQLite without the WAL fsync after it, which runs while the next one commits).',
    buckets: latencyBuckets,
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'bubuh_verifications_total',
    help: 'Documents verified by the server, by verdict.',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const gaugeNames = new Set<string>();
  return {
    registry,
    stamps,
    refunds,
    stampStageSeconds,
    ledgerBatchTransfers,
    ledgerBatchSeconds,
    verifications,
    gauge(name, help, read) {
      if (gaugeNames.has(name)) return;
      gaugeNames.add(name);
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    },
  };
}
