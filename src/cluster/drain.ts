/**
 * Draining a node before it stops, so a load balancer moves its traffic elsewhere without a refused
 * request: first /readyz answers 503 (CLUSTER_DRAINING) for BUBUH_DRAIN_DELAY_MS while every other
 * route keeps serving; then the server stops accepting connections, lets the requests in flight finish
 * (at most BUBUH_SHUTDOWN_GRACE_MS) and the node closes.
 */
export interface Drain {
  /** True from the first call to `start` on: /readyz answers 503. */
  readonly draining: boolean;
  /** Starts draining; resolves when the delay has passed (at once when it is 0). Idempotent. */
  start(): Promise<void>;
}

export function createDrain(delayMs: number): Drain {
  let started: Promise<void> | null = null;
  return {
    get draining() {
      return started !== null;
    },
    start() {
      started ??= delayMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, delayMs));
      return started;
    },
  };
}
