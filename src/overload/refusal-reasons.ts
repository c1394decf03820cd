/**
 * Why admission refused a request (the `reason` label of `bubuh_admission_refused_total` and the
 * operator dashboard's breakdown). Pure, so the browser app can name them too.
 * - queue_full: the queue (or the class's share of it) was full;
 * - deadline: it could not start, or did not start, before its class's deadline;
 * - shed: CoDel shed it from a standing queue, or a higher class took its place;
 * - busy: the event-loop guard refused it on arrival (event-loop-guard.ts).
 */
export type RefusalReason = 'queue_full' | 'deadline' | 'shed' | 'busy';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['queue_full', 'deadline', 'shed', 'busy'];
