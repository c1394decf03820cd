/**
 * The public PKI and the public serial record, for anyone checking an e-meterai:
 *
 * - `GET /pki/root.der`, `/pki/ca.der`: the root and issuing CA certificates (application/pkix-cert);
 * - `GET /pki/crl.der`: the issuing CA's CRL (application/pkix-crl), reissued when a revocation is
 *   missing from it or its nextUpdate nears, so the bytes always agree with the database;
 * - `GET /v1/serials/{serial}`: what the registry knows of one serial — status, time, page and the
 *   first 16 hex characters of the signed content digest; never anything about the person or document.
 *
 * In development the PKI is the data directory's own hierarchy (made on first use); in production the
 * node serves the hierarchy `bubuh pki import` installed and answers PKI_NOT_CONFIGURED without one.
 * These answers are public and carry `access-control-allow-origin: *` so a verifier page on any origin
 * can use them; they take no cookies and change nothing.
 */
import type { FastifyReply } from 'fastify';
import { BubuhError } from '../../errors.js';
import type { BubuhNode } from '../../node.js';
import type { DevPki } from '../../pki/dev-pki.js';
import { configuredPkiPaths, loadNodePki } from '../../pki/key-files.js';
import { currentCrl, findRevocation } from '../../pki/revocations.js';
import { normaliseSerial, serialProblem } from '../../seal/serial.js';
import type { RouteModule } from './index.js';

export const certificateMaxAgeSeconds = 86_400;
/** Short: a revocation must reach verifiers that cache the CRL within minutes. */
export const crlMaxAgeSeconds = 300;
/** Length of the digest prefix the serial record shows. */
export const digestPrefixLength = 16;

export interface SerialRecord {
  readonly serial: string;
  readonly status: 'valid' | 'revoked';
  readonly stamped_at: string;
  readonly page: number;
  readonly digest_prefix: string;
  readonly revocation: { readonly reason: string; readonly revoked_at: string } | null;
}

/** The node's PKI, loaded once (generated first in development). */
export function nodePkiLoader(node: BubuhNode): () => Promise<DevPki> {
  let loading: Promise<DevPki> | null = null;
  return () => {
    loading ??= (async () => {
      const { config } = node;
      // The same serialised load as the stamping service's, so the two never each issue this node a
      // signer; production never generates (PKI_NOT_CONFIGURED until `bubuh pki import`).
      return (
        await loadNodePki(configuredPkiPaths(config), config.mode, {
          validityDays: config.signerValidityDays,
          nodeName: config.nodeId,
        })
      ).pki;
    })().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

function sendDer(reply: FastifyReply, type: string, maxAgeSeconds: number, der: Uint8Array) {
  return reply
    .header('content-type', type)
    .header('cache-control', `public, max-age=${maxAgeSeconds}`)
    .header('x-content-type-options', 'nosniff')
    .send(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
}

export async function serialRecord(node: BubuhNode, text: string): Promise<SerialRecord> {
  const problem = serialProblem(text);
  if (problem !== null) throw new BubuhError('SERIAL_MALFORMED', { serial: text.slice(0, 64), problem });
  const serial = normaliseSerial(text);
  const row = await node.storage.db
    .selectFrom('stamp_registry')
    .select(['serial', 'status', 'stamped_at', 'page', 'content_digest'])
    .where('serial', '=', serial)
    .executeTakeFirst();
  if (row === undefined) throw new BubuhError('SERIAL_UNKNOWN', { serial });
  const revocation = row.status === 'revoked' ? await findRevocation(node.storage, 'stamp', serial) : null;
  return {
    serial,
    status: row.status === 'revoked' ? 'revoked' : 'valid',
    stamped_at: new Date(Number(row.stamped_at)).toISOString(),
    page: Number(row.page),
    digest_prefix: row.content_digest.slice(0, digestPrefixLength),
    revocation:
      revocation === null
        ? null
        : { reason: revocation.reason, revoked_at: revocation.revokedAt.toISOString() },
  };
}

export const pkiRoutes: RouteModule = async (root, node) => {
  const pki = nodePkiLoader(node);
  // A scope of its own, so the public headers also reach these routes' refusals (404, 400) and no others.
  await root.register(async (app) => {
    app.addHook('onSend', async (_request, reply) => {
      reply.header('access-control-allow-origin', '*');
    });

    app.get('/pki/root.der', async (_request, reply) =>
      sendDer(reply, 'application/pkix-cert', certificateMaxAgeSeconds, (await pki()).root.certificate),
    );

    app.get('/pki/ca.der', async (_request, reply) =>
      sendDer(reply, 'application/pkix-cert', certificateMaxAgeSeconds, (await pki()).issuingCa.certificate),
    );

    app.get('/pki/crl.der', async (_request, reply) => {
      const crl = await currentCrl(configuredPkiPaths(node.config), node.storage, await pki(), {
        validityDays: node.config.crlValidityDays,
      });
      return sendDer(reply, 'application/pkix-crl', crlMaxAgeSeconds, crl.der);
    });

    app.get<{ Params: { serial: string } }>('/v1/serials/:serial', async (request, reply) => {
      const record = await serialRecord(node, request.params.serial);
      reply.header('cache-control', 'no-cache');
      return record;
    });
  });
};
