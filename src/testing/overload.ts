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
