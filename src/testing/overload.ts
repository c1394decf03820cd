/**
 * The exact 503 body of an overload refusal with Retry-After 1 s, as both paths write it — admission
 * in Fastify (hooks.ts) and the guard's refusal before the router (fast-refusal.ts) — so their tests
 * assert one text and any drift between the two paths fails one of them.
 */
export const overloadedAfterOneSecond = {
  error: {
    code: 'OVERLOADED',
    message: 'The service is very busy and cannot take this request now. Try again in 1 seconds.',
    message_id:
      'Layanan sedang sangat sibuk dan tidak dapat menerima permintaan ini sekarang. Coba lagi dalam 1 detik.',
    details: { retryAfterSeconds: 1 },
  },
} as const;

/**
 * Settings for a node whose test is about something other than overload. The event-loop guard
 * (`overload/event-loop-guard.ts`) refuses sign-ups, orders and verifications when the main thread is
 * busy while requests keep arriving; in a test the client shares that thread with the node, so a quick
 * run of requests can read as a surge and refuse the next sign-in. Tests of the guard itself leave it on.
 */
export const loopGuardOff = { BUBUH_ADMISSION_LOOP_DELAY_HIGH_MS: 0 } as const;
