/**
 * Reconciliation: asks the gateway about every order still awaiting payment that is older than a short
 * delay, and applies the answer through the same code path as a notification — so a payment whose
 * notification never came is credited, exactly once, all the same. It also retries refunds the gateway
 * has not confirmed. Runs at start-up and then periodically; every round is bounded.
 */
import { applyPaymentEvent, close } from './apply-payment.js';
import type { CommerceContext } from './context.js';
import { payOut } from './refund-order.js';

export interface ReconcileOptions {
  /** Orders younger than this are left to their notification. */
  readonly delaySeconds: number;
  /** Most orders and most refunds one round handles. */
  readonly batchMax: number;
}

export interface ReconcileReport {
  readonly ordersChecked: number;
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
        .orderBy('created_at')
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
  return { ordersChecked: waiting.length, outcomes, refundsRetried: due.length, errors };
}

/** Runs `reconcileOnce` now and every `intervalMs`, one round at a time; returns a stop function. */
export function startReconciler(
  context: CommerceContext,
  options: ReconcileOptions & { intervalMs: number },
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const round = () => {
    if (running || stopped) return;
    running = reconcileOnce(context, options)
      .then((report) => {
        if (report.ordersChecked > 0 || report.refundsRetried > 0) {
          context.logger.info(report, 'commerce: reconciliation round');
        }
      })
      .catch((error: unknown) =>
        context.logger.warn({ err: error }, 'commerce: reconciliation failed; will retry'),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(round, options.intervalMs);
  timer.unref();
  round();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (running) await running;
  };
}
