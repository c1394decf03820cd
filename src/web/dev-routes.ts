/**
 * Development only: `GET /v1/dev/outbox/latest?phone=` answers the newest sign-in code the file channel
 * wrote for a phone, so the web app can show it in its development banner instead of sending people to
 * read `<data>/outbox/whatsapp.jsonl`. The route exists only when `BUBUH_MODE=development`; a
 * production node has no such path (404), and the app then shows no banner.
 *
 * Only the file's tail is read (`outboxTailBytesMax`): the outbox of a long-running development node
 * grows without end, and the newest code is always near the end.
 */
import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { normalisePhone } from '../accounts/phone.js';
import { outboxFilePath } from '../accounts/whatsapp.js';
import type { RouteModule } from '../http/routes/index.js';
import type { BubuhNode } from '../node.js';

export const devOutboxPath = '/v1/dev/outbox/latest';
/** How much of the outbox's end is searched for the phone's newest code. */
export const outboxTailBytesMax = 256 * 1024;

export interface LatestCode {
  readonly code: string;
  readonly at: string;
}

/** The newest `{code, at}` the file channel wrote to `phone` (E.164) within the file's tail, or null. */
export async function latestOutboxCode(path: string, phone: string): Promise<LatestCode | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, outboxTailBytesMax);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    // The first line may be cut by the tail's start; it fails to parse and is skipped like any bad line.
    for (let index = lines.length - 1; index >= 0; index -= 1) {
      const found = parseLine(lines[index]!, phone);
      if (found) return found;
    }
    return null;
  } finally {
    await handle.close();
  }
}

function parseLine(line: string, phone: string): LatestCode | null {
  if (line.trim() === '') return null;
  try {
    const entry = JSON.parse(line) as { to?: unknown; code?: unknown; at?: unknown };
    if (entry.to !== phone || typeof entry.code !== 'string' || typeof entry.at !== 'string') return null;
    return { code: entry.code, at: entry.at };
  } catch {
    return null;
  }
}

const latestSchema = {
  summary: 'Development only: the newest sign-in code written to the file outbox for a phone',
  description:
    'Registered only when BUBUH_MODE=development (404 otherwise). Without `phone` it only says which ' +
    'channel delivers codes. `code` is null when the channel is not the file outbox or no code was written ' +
    'for the phone.',
  tags: ['development'],
  querystring: {
    type: 'object',
    properties: { phone: { type: 'string', maxLength: 40 } },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['development'] },
        channel: { type: 'string', enum: ['file', 'http'] },
        outbox: {
          type: ['string', 'null'],
          description: 'the file codes are written to, under the data directory',
        },
        phone: { type: ['string', 'null'], description: 'E.164' },
        code: { type: ['string', 'null'] },
        at: { type: ['string', 'null'], format: 'date-time' },
      },
      required: ['mode', 'channel', 'outbox', 'phone', 'code', 'at'],
    },
    400: { type: 'object', additionalProperties: true },
  },
} as const;

function registerDevRoutes(app: FastifyInstance, node: BubuhNode): void {
  if (node.config.mode !== 'development') return;
  const { config } = node;
  const fileChannel = config.whatsappChannel !== 'http' || !config.whatsappUrl || !config.whatsappSecret;
  const path = outboxFilePath(config.dataDir);
  app.get<{ Querystring: { phone?: string } }>(
    devOutboxPath,
    { schema: latestSchema },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const raw = request.query.phone;
      const phone = raw === undefined || raw === '' ? null : normalisePhone(raw);
      const latest = fileChannel && phone !== null ? await latestOutboxCode(path, phone) : null;
      return {
        mode: 'development',
        channel: fileChannel ? 'file' : 'http',
        outbox: fileChannel ? 'outbox/whatsapp.jsonl' : null,
        phone,
        code: latest?.code ?? null,
        at: latest?.at ?? null,
      };
    },
  );
}

export const devRoutes: RouteModule = registerDevRoutes;
