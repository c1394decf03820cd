/**
 * The time-stamping authority over HTTP (RFC 3161 §3.4): `POST /tsa` with a DER TimeStampReq as
 * `application/timestamp-query` answers a DER TimeStampResp as `application/timestamp-reply`. Every
 * answer is a TimeStampResp, a refusal included: a malformed or unsupported request gets status
 * rejection with its PKIFailureInfo bit (badRequest, badDataFormat, badAlg, unacceptedPolicy…), a wrong
 * content type HTTP 415 and an oversized body HTTP 413 with a badRequest reply, a node without a TSA key
 * HTTP 503 with systemFailure. The key is the node's PKI TSA key (in development the data directory's).
 */
import type { FastifyReply } from 'fastify';
import { nodePkiLoader } from './pki.js';
import type { RouteModule } from './index.js';
import type { TimeStampAuthority } from '../../tsa/authority.js';
import { createBuiltInAuthority } from '../../tsa/node-time-stamper.js';
import { encodeTimeStampResponse, type PkiFailureName } from '../../tsa/protocol.js';

/** A TimeStampReq is about 100 bytes; a SHA-512 imprint with a long nonce and extensions stays far below. */
export const tsaRequestBytesMax = 8 * 1024;
const queryType = 'application/timestamp-query';
const replyType = 'application/timestamp-reply';

function sendReply(reply: FastifyReply, status: number, body: Uint8Array) {
  return reply
    .status(status)
    .header('content-type', replyType)
    .header('cache-control', 'no-store')
    .send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

function refusal(reply: FastifyReply, status: number, failure: PkiFailureName, statusString: string) {
  return sendReply(reply, status, encodeTimeStampResponse({ failure, statusString }));
}

export const tsaRoutes: RouteModule = async (app, node) => {
  const loadPki = nodePkiLoader(node);
  let authority: Promise<TimeStampAuthority> | null = null;
  const authorityOf = (): Promise<TimeStampAuthority> => {
    const policy = node.config.tsaPolicy;
    authority ??= loadPki()
      .then((pki) => createBuiltInAuthority(pki, policy === undefined ? {} : { policy }))
      .catch((error: unknown) => {
        authority = null;
        throw error;
      });
    return authority;
  };

  await app.register(async (scope) => {
    // Every body reaches the handler as bytes, so a wrong content type is answered in the protocol too.
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: tsaRequestBytesMax },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((error, _request, reply) => {
      if ((error as { statusCode?: number }).statusCode === 413) {
        return refusal(reply, 413, 'badRequest', `the request is larger than ${tsaRequestBytesMax} bytes`);
      }
      throw error;
    });
    scope.post('/tsa', async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== queryType) {
        return refusal(reply, 415, 'badRequest', `the content type must be ${queryType}`);
      }
      const body = request.body;
      if (!Buffer.isBuffer(body)) return refusal(reply, 400, 'badRequest', 'the request has no body');
      let tsa: TimeStampAuthority;
      try {
        tsa = await authorityOf();
      } catch (error) {
        request.log.error({ err: error }, 'tsa: no time-stamping key');
        return refusal(reply, 503, 'systemFailure', 'the time-stamping key of this node is not installed');
      }
      const answer = await tsa.respond(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      return sendReply(reply, 200, answer);
    });
  });
};
