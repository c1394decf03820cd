/**
 * The answer of `GET /v1/operator/dashboard` (operator-dashboard.ts builds it; its OpenAPI schema is
 * the reference). Pure types, shared with the browser app (web/app/operator.tsx).
 */
import type { PriorityClass } from '../overload/priority.js';
import type { RefusalReason } from '../overload/refusal-reasons.js';

export interface DashboardClass {
  readonly class: PriorityClass;
  readonly admitted: number;
  readonly refused: Readonly<Record<RefusalReason, number>>;
  readonly refused_total: number;
  readonly queued: number;
}

export interface DashboardChannel {
  readonly id: string;
  readonly name: string;
  /** Units the channel can still sell (posted credits less posted and pending debits). */
  readonly stock: number;
  readonly orders_awaiting_payment: number;
  readonly units_awaiting_payment: number;
}

export interface OperatorDashboard {
  readonly at: string;
  readonly stamps: { readonly stamped: number; readonly refunded: number };
  readonly refunds: Readonly<Record<string, number>>;
  readonly admission: {
    readonly limit: number;
    readonly in_flight: number;
    readonly shedding: boolean;
    readonly queue_depth: number;
    readonly queue_wait_ms: { readonly p50: number; readonly p99: number };
    readonly classes: readonly DashboardClass[];
  };
  readonly stamp_queue: { readonly waiting: number | null; readonly running: number | null };
  readonly commerce: {
    readonly operator_stock: number;
    readonly channels: readonly DashboardChannel[];
    readonly orders_awaiting_payment: number;
    readonly units_awaiting_payment: number;
  };
  readonly waiting_room: {
    readonly waiting: number;
    readonly admitted: number;
    readonly capacity: number;
  } | null;
}
