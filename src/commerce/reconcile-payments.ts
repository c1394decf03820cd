/**
 * Reconciliation: asks the gateway about every order still awaiting payment that is older than a short
 * delay, and applies the answer through the same code path as a notification — so a payment whose
 * notification never came is credited, exactly once, all the same. It also retries refunds the gateway
 * has not confirmed. Runs at start-up and then periodically; every round is bounded.
 */
import { OldestKeys } from '../oldest-keys.js';
import type { OrdersTable } from '../storage/schema.js';
import { applyPaymentEvent, close } from './apply-payment.js';
import type { CommerceContext } from './context.js';
import { payOut } from './refund-order.js';

export interface ReconcileOptions {
  /** Orders younger than this are left to their notification. */
  readonly delaySeconds: number;
  /** Most orders and most refunds one round handles. */
  readonly batchMax: number;
}

/**
 * Where a round's walk over the orders left waiting stopped (the last order it asked about, in
 * `created_at, id` order): the next round goes on after it, so orders nobody pays (they wait until
 * their window closes) cannot keep the same first `batchMax` in every round while a paid order
 * behind them is never asked about.
 */
export interface ReconcileCursor {
  readonly createdAt: number;
  readonly id: string;
}

export interface ReconcileReport {
  readonly ordersChecked: number;
  /** Where the next round starts; null when this one reached the newest order (start over). */
  readonly next: ReconcileCursor | null;
  /** Outcome name → count (see `EventOutcome`; `unknown_expired` when the gateway never heard of it). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly refundsRetried: number;
  readonly errors: number;
}

/** A gateway that never heard of an order past its window plus this margin: the order is closed. */
const unknownOrderGraceMs = 60_000;

export async function reconcileOnce(
  context: CommerceContext,
  options: ReconcileOptions,
  after: ReconcileCursor | null = null,
): Promise<ReconcileReport> {
  const now = context.clock();
  const outcomes: Record<string, number> = {};
  let errors = 0;
  const count = (name: string) => {
    outcomes[name] = (outcomes[name] ?? 0) + 1;
  };
  const waiting = context.gateway
    ? await context.storage.db
        .selectFrom('orders')
        .selectAll()
        .where('status', '=', 'awaiting_payment')
        .where('created_at', '<=', now - options.delaySeconds * 1000)
        .$if(after !== null, (query) =>
          query.where((eb) =>
            eb.or([
              eb('created_at', '>', after!.createdAt),
              eb.and([eb('created_at', '=', after!.createdAt), eb('id', '>', after!.id)]),
            ]),
          ),
        )
        .orderBy('created_at')
        .orderBy('id')
        .limit(options.batchMax)
        .execute()
    : [];
  for (const order of waiting) {
    try {
      const status = await context.gateway!.getStatus(order.id);
      if (status) {
        count(await applyPaymentEvent(context, status, 'reconciliation'));
      } else if (now > Number(order.expires_at) + unknownOrderGraceMs) {
        await close(context, order);
        count('unknown_expired');
      } else {
        count('unknown_waiting');
      }
    } catch (error) {
      errors += 1;
      context.logger.warn(
        { err: error, order: order.id },
        'commerce: reconciling an order failed; will retry',
      );
    }
  }
  const due = await context.storage.db
    .selectFrom('refunds')
    .selectAll()
    .where('status', 'in', ['requested', 'failed'])
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(options.batchMax)
    .execute();
  for (const refund of due) {
    try {
      await payOut(context, refund);
    } catch (error) {
      errors += 1;
      context.logger.warn({ err: error, refund: refund.id }, 'commerce: retrying a refund failed');
    }
  }
  const last = waiting.at(-1);
  return {
    ordersChecked: waiting.length,
    next:
      last !== undefined && waiting.length >= options.batchMax
        ? { createdAt: Number(last.created_at), id: last.id }
        : null,
    outcomes,
    refundsRetried: due.length,
    errors,
  };
}

/**
 * Reconciliation rounds, one at a time, each going on where the last stopped (`ReconcileCursor`):
 * `start` runs one now and then every `intervalMs`; `round` runs one when asked (after any round in
 * progress).
 */
export class Reconciler {
  private cursor: ReconcileCursor | null = null;
  private running: Promise<ReconcileReport> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly context: CommerceContext,
    private readonly options: ReconcileOptions & { readonly intervalMs: number },
  ) {}

  async round(): Promise<ReconcileReport> {
    while (this.running) await this.running.catch(() => undefined);
    const running = reconcileOnce(this.context, this.options, this.cursor);
    this.running = running;
    try {
      const report = await running;
      this.cursor = report.next;
      return report;
    } finally {
      this.running = null;
    }
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running) await this.running.catch(() => undefined);
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.round()
      .then((report) => {
        if (report.ordersChecked > 0 || report.refundsRetried > 0) {
          this.context.logger.info(report, 'commerce: reconciliation round');
        }
      })
      .catch((error: unknown) =>
        this.context.logger.warn({ err: error }, 'commerce: reconciliation failed; will retry'),
      );
  }
}

/** An order is asked about when its buyer looks at it only once it is this old (its notification usually comes first). */
export const askOnLookAfterMs = 10_000;
/** And at most this often per order, however often the buyer's page polls. */
export const askOnLookEveryMs = 10_000;
/** Orders whose last look is remembered; past it the oldest are forgotten. */
const lookedAtMax = 100_000;

/**
 * Reconciliation of one order when its buyer looks at it: the order page polls while an order awaits
 * payment, so a buyer who paid and whose notification was lost is credited within seconds of looking,
 * not when the periodic walk comes round (minutes when thousands of orders wait). Asks the gateway at
 * most every `askOnLookEveryMs` per order and applies the answer through the same code path. A gateway
 * that fails leaves the order as it was (the periodic walk still comes); a slow one holds that look's
 * answer for at most the gateway's own time-out.
 */
export class LookReconciler {
  private readonly askedAt = new Map<string, number>();
  private readonly oldestAsked = new OldestKeys(this.askedAt);

  constructor(private readonly context: CommerceContext) {}

  /** True when the gateway was asked and its answer applied (read the order again). */
  async onLook(order: OrdersTable): Promise<boolean> {
    const gateway = this.context.gateway;
    if (!gateway || order.status !== 'awaiting_payment') return false;
    const now = this.context.clock();
    if (now - Number(order.created_at) < askOnLookAfterMs) return false;
    const last = this.askedAt.get(order.id);
    if (last !== undefined && now - last < askOnLookEveryMs) return false;
    if (last === undefined && this.askedAt.size >= lookedAtMax) {
      const oldest = this.oldestAsked.next();
      if (oldest !== undefined) this.askedAt.delete(oldest);
    }
    this.askedAt.delete(order.id);
    this.askedAt.set(order.id, now);
    try {
      const status = await gateway.getStatus(order.id);
      if (!status) return false;
      await applyPaymentEvent(this.context, status, 'reconciliation');
      return true;
    } catch (error) {
      this.context.logger.warn(
        { err: error, order: order.id },
        'commerce: asking the gateway about a looked-at order failed',
      );
      return false;
    }
  }
}
