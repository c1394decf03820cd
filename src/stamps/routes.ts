/**
 * HTTP routes of the stamping service: upload and stamp, history, download, and the document kinds.
 * The engine pool and the node's keys are set up on the first stamp, so an app that never stamps
 * (most tests, a verify-only node) starts no worker threads.
 */
import multipart from '@fastify/multipart';
import { unzipSync } from 'fflate';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../accounts/index.js';
import { BubuhError } from '../errors.js';
import { idempotencyKeyOf, idempotent } from '../http/idempotency.js';
import type { BubuhNode } from '../node.js';
import { type BatchFile, batchFilesMax, createBatchService, type BatchService } from './batches.js';
import { docTypes } from './doc-types.js';
import { serialPageRoutes } from './serial-page.js';
import { createStampEnvironment } from '../services/node-stamper.js';
import { nodePkiLoader, serialRecord } from '../http/routes/pki.js';
import { currentCrl } from '../pki/revocations.js';
import { configuredPkiPaths } from '../pki/key-files.js';
import { isBubuhError } from '../errors.js';
import { type RegistryFetch, withRegistryCheck } from '../verify/verify-document.js';
import { createEnginePool, type EnginePool } from './engine-pool.js';
import { admitAfterBody } from '../overload/hooks.js';
import {
  createStampService,
  type StampMetadata,
  type StampPlacement,
  type StampService,
} from './stamp-service.js';

const HOUR_MS = 3600 * 1000;

/** One stamp service per node, created on first use and shared by the routes that need it. */
export interface StampServiceHandle {
  get(): Promise<StampService>;
  /** The pool when it exists (metrics must not create it). */
  poolIfStarted(): EnginePool | null;
  close(): Promise<void>;
}

const handles = new WeakMap<BubuhNode, StampServiceHandle>();

export function stampServiceOf(node: BubuhNode): StampServiceHandle {
  const existing = handles.get(node);
  if (existing) return existing;
  let pool: EnginePool | null = null;
  let service: Promise<StampService> | null = null;
  const handle: StampServiceHandle = {
    get() {
      service ??= (async () => {
        // Loading (in development: creating) the keys here, once, before any worker reads them.
        const own = await createStampEnvironment(node.config);
        const { signerFingerprint, developmentPkiCreated } = own;
        await own.close();
        if (developmentPkiCreated) {
          node.logger.warn('development keys generated in the data directory (NOT FOR PRODUCTION)');
        }
        const created = createEnginePool(node.config);
        created.onTiming = (queuedMs, runMs, syncMs) => {
          node.metrics.stampStageSeconds.observe({ stage: 'queue' }, queuedMs / 1000);
          node.metrics.stampStageSeconds.observe({ stage: 'run' }, runMs / 1000);
          node.metrics.stampStageSeconds.observe({ stage: 'sync' }, syncMs / 1000);
        };
        created.onError = (error) => node.logger.error({ err: error }, 'stamping pool: fault outside a task');
        node.metrics.gauge(
          'bubuh_stamp_workers',
          'Worker threads that stamp.',
          () => created.stats().threads,
        );
        node.metrics.gauge(
          'bubuh_stamp_queue_depth',
          'Stamps waiting for a worker.',
          () => created.stats().queued,
        );
        node.metrics.gauge(
          'bubuh_stamp_running',
          'Stamps being made right now.',
          () => created.stats().running,
        );
        node.metrics.gauge(
          'bubuh_stamp_refused_busy_total',
          'Stamps refused because they could not start before their deadline.',
          () => created.stats().refusedBusy,
        );
        pool = created;
        return createStampService({ node, pool, signerFingerprint });
      })();
      service.catch(() => {
        service = null;
      });
      return service;
    },
    poolIfStarted: () => pool,
    async close() {
      if (pool) await pool.close();
      pool = null;
    },
  };
  handles.set(node, handle);
  return handle;
}

const errorBody = { type: 'object', additionalProperties: true } as const;

const stampViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    serial: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'stamped', 'refunded'] },
    reason_code: { type: ['string', 'null'] },
    file_name: { type: 'string' },
    doc_type: { type: 'string' },
    doc_number: { type: ['string', 'null'] },
    doc_date: { type: ['string', 'null'] },
    batch_id: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    stamped_at: { type: ['string', 'null'] },
    page: { type: ['integer', 'null'] },
    added_bytes: { type: ['integer', 'null'] },
    file_bytes: { type: ['integer', 'null'] },
    downloadable: { type: 'boolean' },
    download_url: { type: ['string', 'null'] },
    expires_at: { type: ['string', 'null'] },
  },
} as const;

function fieldInvalid(field: string, problem: string): BubuhError {
  return new BubuhError('STAMP_FIELD_INVALID', { field, problem });
}

function parseNumber(field: string, raw: string, min: number, max: number, integer = false): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw fieldInvalid(field, `"${raw.slice(0, 40)}" is not a${integer ? 'n integer' : ' number'}`);
  }
  if (value < min || value > max) throw fieldInvalid(field, `${value} is outside ${min}–${max}`);
  return value;
}

interface ParsedUpload {
  readonly pdf: Uint8Array;
  readonly fileName: string;
  readonly placement: StampPlacement;
  readonly metadata: StampMetadata;
}

interface UploadedFile {
  readonly fieldName: string;
  readonly fileName: string;
  readonly bytes: Uint8Array;
}

interface FormLimits {
  readonly files: number;
  readonly fileBytesMax: number;
  /** All files together. */
  readonly totalBytesMax: number;
}

/** An upload's name as shown and used in downloads: control characters and path separators become '_'. */
export function cleanFileName(name: string | undefined): string {
  return (name || 'document.pdf').replace(unsafeFileNameCharacters, '_').slice(-200);
}
/** Control characters (C0, DEL and C1: Unicode's Cc) and both path separators. */
const unsafeFileNameCharacters = /[\p{Cc}/\\]/gu;

/** Reads a multipart form: its fields and files, each file's size checked as it streams in. */
async function readForm(
  request: FastifyRequest,
  limits: FormLimits,
): Promise<{ fields: Map<string, string>; files: UploadedFile[] }> {
  const fields = new Map<string, string>();
  const files: UploadedFile[] = [];
  let total = 0;
  if (!request.isMultipart()) throw new BubuhError('STAMP_FILE_MISSING');
  const parts = request.parts({
    limits: { fileSize: limits.fileBytesMax, files: limits.files, fields: 24, fieldSize: 64 * 1024 },
  });
  try {
    for await (const part of parts) {
      if (part.type === 'file') {
        const buffer = await part.toBuffer();
        total += buffer.byteLength;
        if (total > limits.totalBytesMax) {
          throw new BubuhError('STAMP_FILE_TOO_LARGE', { limitBytes: limits.totalBytesMax });
        }
        files.push({
          fieldName: part.fieldname,
          fileName: cleanFileName(part.filename),
          bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
        });
      } else {
        fields.set(part.fieldname, String(part.value));
      }
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw new BubuhError('STAMP_FILE_TOO_LARGE', { limitBytes: limits.fileBytesMax });
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') throw new BubuhError('STAMP_FILE_MISSING');
    if (code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
      throw fieldInvalid('form', `too many parts: at most ${limits.files} file(s) and 24 fields`);
    }
    throw error;
  }
  return { fields, files };
}

/** Placement and document fields, from a form or from one entry of a batch's `rules`. */
function placementOf(fields: ReadonlyMap<string, string>): {
  placement: StampPlacement;
  metadata: StampMetadata;
} {
  const pageRaw = fields.get('page');
  const placement: {
    page?: number | 'last';
    x?: number;
    y?: number;
    sizePt?: number;
    password?: string;
  } = {};
  if (pageRaw !== undefined && pageRaw !== '' && pageRaw !== 'last') {
    placement.page = parseNumber('page', pageRaw, 1, 1_000_000, true);
  }
  const x = fields.get('x');
  const y = fields.get('y');
  if ((x === undefined) !== (y === undefined))
    throw fieldInvalid(x === undefined ? 'x' : 'y', 'give both x and y, or neither');
  if (x !== undefined && y !== undefined) {
    placement.x = parseNumber('x', x, -100_000, 100_000);
    placement.y = parseNumber('y', y, -100_000, 100_000);
  }
  const size = fields.get('size');
  if (size !== undefined && size !== '') placement.sizePt = parseNumber('size', size, 40, 150);
  const password = fields.get('password');
  if (password !== undefined && password !== '') placement.password = password;
  const docType = fields.get('doc_type') ?? '';
  if (docType === '') throw fieldInvalid('doc_type', 'required: choose one from GET /v1/doc-types');
  const docNumber = fields.get('doc_number');
  const docDate = fields.get('doc_date');
  if (docNumber !== undefined && docNumber.length > 100)
    throw fieldInvalid('doc_number', 'at most 100 characters');
  if (docDate !== undefined && docDate !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(docDate)) {
    throw fieldInvalid('doc_date', 'use YYYY-MM-DD');
  }
  return {
    placement,
    metadata: {
      docType,
      docNumber: docNumber && docNumber !== '' ? docNumber : null,
      docDate: docDate && docDate !== '' ? docDate : null,
    },
  };
}

/** Reads the multipart form of one stamp: one `file` and the placement fields. */
export async function readStampUpload(request: FastifyRequest, fileBytesMax: number): Promise<ParsedUpload> {
  const { fields, files } = await readForm(request, { files: 1, fileBytesMax, totalBytesMax: fileBytesMax });
  const file = files[0];
  if (!file || file.bytes.length === 0) throw new BubuhError('STAMP_FILE_MISSING');
  if (file.fieldName !== 'file') throw fieldInvalid(file.fieldName, 'send the PDF in the field "file"');
  return { pdf: file.bytes, fileName: file.fileName, ...placementOf(fields) };
}

/**
 * Reads a batch: PDFs in `file` fields and/or ZIP archives in `archive` fields (every `.pdf` inside;
 * other entries ignored), the placement fields for all, and an optional `rules` JSON object mapping a
 * file name to its own fields (page, x, y, size, password, doc_type, doc_number, doc_date).
 */
export async function readBatchUpload(request: FastifyRequest, limits: FormLimits): Promise<BatchFile[]> {
  const { fields, files } = await readForm(request, limits);
  let rules: Record<string, Record<string, unknown>> = {};
  const rulesText = fields.get('rules');
  if (rulesText !== undefined && rulesText !== '') {
    try {
      const parsed: unknown = JSON.parse(rulesText);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      rules = parsed as Record<string, Record<string, unknown>>;
    } catch {
      throw fieldInvalid('rules', 'a JSON object from file name to its fields');
    }
  }
  const pdfs: { fileName: string; bytes: Uint8Array }[] = [];
  for (const file of files) {
    if (file.fieldName === 'archive') {
      let entries: Record<string, Uint8Array>;
      let expanded = 0;
      try {
        entries = unzipSync(file.bytes, {
          filter: (entry) => {
            if (!/\.pdf$/i.test(entry.name) || entry.name.startsWith('__MACOSX/')) return false;
            expanded += entry.originalSize;
            // Bounded before inflating: a ZIP bomb is refused, not expanded.
            if (entry.originalSize > limits.fileBytesMax || expanded > limits.totalBytesMax) {
              throw new BubuhError('STAMP_FILE_TOO_LARGE', { limitBytes: limits.totalBytesMax });
            }
            return true;
          },
        });
      } catch (error) {
        if (error instanceof BubuhError) throw error;
        throw new BubuhError('BATCH_ARCHIVE_INVALID', { problem: (error as Error).message.slice(0, 200) });
      }
      for (const [name, bytes] of Object.entries(entries)) {
        pdfs.push({ fileName: cleanFileName(name.split('/').pop()), bytes });
      }
    } else if (file.fieldName === 'file') {
      pdfs.push({ fileName: file.fileName, bytes: file.bytes });
    } else {
      throw fieldInvalid(file.fieldName, 'send PDFs in "file" fields or ZIP archives in "archive" fields');
    }
  }
  if (pdfs.length === 0) throw new BubuhError('STAMP_FILE_MISSING');
  return pdfs.map(({ fileName, bytes }) => {
    const own = rules[fileName];
    const merged = new Map(fields);
    merged.delete('rules');
    if (own && typeof own === 'object') {
      for (const [name, value] of Object.entries(own)) {
        if (value === null || value === undefined) merged.delete(name);
        else merged.set(name, String(value));
      }
    }
    return { fileName, pdf: bytes, ...placementOf(merged) };
  });
}

function wantsPdf(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/pdf/i.test(accept) && !/application\/json/i.test(accept.split(',')[0] ?? '');
}

function sendPdf(reply: FastifyReply, pdf: Uint8Array, serial: string, fileName: string) {
  const safeName = fileName.replace(/\.pdf$/i, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'document';
  return reply
    .header('content-type', 'application/pdf')
    .header('bubuh-serial', serial)
    .header('content-disposition', `attachment; filename="${safeName}-${serial}.pdf"`)
    .header('cache-control', 'private, no-store')
    .send(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength));
}

const batchHandles = new WeakMap<BubuhNode, BatchService>();

export function batchServiceOf(node: BubuhNode): BatchService {
  let service = batchHandles.get(node);
  if (!service) {
    const handle = stampServiceOf(node);
    service = createBatchService(node, () => handle.get());
    batchHandles.set(node, service);
  }
  return service;
}

const batchViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    total: { type: 'integer' },
    done: { type: 'integer' },
    counts: { type: 'object', additionalProperties: { type: 'integer' } },
    finished: { type: 'boolean' },
    created_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          file_name: { type: 'string' },
          status: { type: 'string', enum: ['queued', 'stamped', 'refunded', 'refused', 'failed'] },
          stamp_id: { type: ['string', 'null'] },
          error_code: { type: ['string', 'null'] },
        },
      },
    },
    results_url: { type: ['string', 'null'] },
  },
} as const;

export async function stampRoutes(app: FastifyInstance, node: BubuhNode): Promise<void> {
  const handle = stampServiceOf(node);
  const batches = batchServiceOf(node);
  const config = node.config;
  serialPageRoutes(app, node);
  const sweeper = setInterval(() => {
    const pool = handle.poolIfStarted();
    if (!pool) return;
    handle
      .get()
      .then((service) => service.sweepFiles())
      .then((removed) => {
        if (removed > 0) node.logger.info({ removed }, 'stamps: expired files deleted');
      })
      .catch((error: unknown) => node.logger.warn({ err: error }, 'stamps: file sweep failed; will retry'));
  }, HOUR_MS / 4);
  sweeper.unref();
  const batchSweeper = setInterval(() => {
    batches
      .sweepInterrupted()
      .then((marked) => {
        if (marked > 0) node.logger.warn({ marked }, 'batches: files of interrupted batches marked failed');
      })
      .catch((error: unknown) => node.logger.warn({ err: error }, 'batches: sweep failed; will retry'));
  }, 60_000);
  batchSweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    clearInterval(batchSweeper);
    batches.stop();
    await batches.idle();
    await handle.close();
  });

  app.get(
    '/v1/doc-types',
    {
      schema: {
        tags: ['stamps'],
        summary: 'The kinds of document that carry stamp duty',
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { code: { type: 'string' }, id: { type: 'string' }, en: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=3600');
      return { items: docTypes };
    },
  );

  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: config.stampFileBytesMax, files: 1, fields: 16 },
    });

    scope.post(
      '/v1/stamps',
      {
        bodyLimit: config.stampFileBytesMax + 64 * 1024,
        schema: {
          tags: ['stamps'],
          summary:
            'Stamp a PDF (multipart: file, page, x, y, size, password, doc_type, doc_number, doc_date)',
          consumes: ['multipart/form-data'],
          headers: {
            type: 'object',
            properties: { 'idempotency-key': { type: 'string' } },
            required: ['idempotency-key'],
          },
          response: { 201: stampViewSchema, '4xx': errorBody, '5xx': errorBody },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, node);
        // Idempotency without extra writes: the key names the stamp's own history row (see
        // stampIdForKey), which commits with the reservation; a retry finds it and answers from it.
        const idempotencyKey = idempotencyKeyOf(request, true)!;
        const service = await handle.get();
        // Admission before work: refuse at once, before reading the upload or touching quota.
        service.admit(principal.accountId);
        const uploadStarted = performance.now();
        const upload = await readStampUpload(request, config.stampFileBytesMax);
        node.metrics.stampStageSeconds.observe(
          { stage: 'upload' },
          (performance.now() - uploadStarted) / 1000,
        );
        await admitAfterBody(request, reply, node);
        const outcome = await service.stamp({
          accountId: principal.accountId,
          quotaAccountId: principal.quotaAccountId,
          fileName: upload.fileName,
          pdf: upload.pdf,
          placement: upload.placement,
          metadata: upload.metadata,
          idempotencyKey,
          returnPdf: wantsPdf(request),
          // The upload is not read again here: it moves to the stamping thread, not copied.
          transferPdf: true,
        });
        reply.status(201).header('location', `/v1/stamps/${outcome.view.id}`);
        if (outcome.replayed) reply.header('idempotent-replayed', 'true');
        if (wantsPdf(request)) {
          if (!outcome.pdf) {
            throw new BubuhError('STAMP_FILE_GONE', { retentionHours: config.stampRetentionHours });
          }
          return sendPdf(reply, outcome.pdf, outcome.view.serial, upload.fileName);
        }
        return outcome.view;
      },
    );

    scope.post(
      '/v1/batches',
      {
        bodyLimit: config.batchBytesMax + 1024 * 1024,
        schema: {
          tags: ['stamps'],
          summary:
            'Stamp many PDFs in the background (multipart: file… and/or archive (ZIP), placement fields for all, rules JSON per file)',
          consumes: ['multipart/form-data'],
          headers: {
            type: 'object',
            properties: { 'idempotency-key': { type: 'string' } },
            required: ['idempotency-key'],
          },
          response: { 202: batchViewSchema, '4xx': errorBody, '5xx': errorBody },
        },
      },
      async (request, reply) => {
        const principal = await authenticate(request, node);
        const files = await readBatchUpload(request, {
          files: batchFilesMax,
          fileBytesMax: config.stampFileBytesMax,
          totalBytesMax: config.batchBytesMax,
        });
        await admitAfterBody(request, reply, node);
        const service = await handle.get();
        const digest = files.map((file) => [
          file.fileName,
          service.requestDigest(file.pdf, file.placement, file.metadata),
        ]);
        return idempotent(
          request,
          reply,
          node,
          principal.accountId,
          async () => {
            const batch = await batches.create(principal.accountId, principal.quotaAccountId, files);
            return { status: 202, body: batch, headers: { location: `/v1/batches/${batch.id}` } };
          },
          { parameters: { files: digest } },
        );
      },
    );
  });

  app.get(
    '/v1/batches/:id',
    {
      schema: {
        tags: ['stamps'],
        summary: 'Progress and outcome of one of the caller’s batches',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: batchViewSchema, '4xx': errorBody },
      },
    },
    async (request) => {
      const principal = await authenticate(request, node);
      const { id } = request.params as { id: string };
      return batches.get(principal.accountId, id);
    },
  );

  app.get(
    '/v1/batches/:id/results.zip',
    {
      schema: {
        tags: ['stamps'],
        summary: 'The batch’s stamped files still kept, as one ZIP',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        produces: ['application/zip'],
        response: { '4xx': errorBody },
      },
    },
    async (request, reply) => {
      const principal = await authenticate(request, node);
      const { id } = request.params as { id: string };
      const zip = await batches.results(principal.accountId, id);
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="bubuh-batch-${id}.zip"`)
        .header('cache-control', 'private, no-store')
        .send(Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength));
    },
  );

  app.get(
    '/v1/stamps',
    {
      schema: {
        tags: ['stamps'],
        summary: "The caller's stamps, newest first",
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            batch_id: { type: 'string', maxLength: 64 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: stampViewSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          '4xx': errorBody,
        },
      },
    },
    async (request) => {
      const principal = await authenticate(request, node);
      const query = request.query as { cursor?: string; limit: number; batch_id?: string };
      const service = await handle.get();
      return service.list(principal.accountId, {
        cursor: query.cursor,
        limit: query.limit,
        ...(query.batch_id ? { batchId: query.batch_id } : {}),
      });
    },
  );

  const pki = nodePkiLoader(node);
  /** The node's own registry, answered from its database as `GET /v1/serials/{serial}` would. */
  const localRegistry: RegistryFetch = async (url) => {
    const serial = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
    try {
      const record = await serialRecord(node, serial);
      return { status: 200, json: async () => record };
    } catch (error) {
      if (isBubuhError(error)) return { status: error.status, json: async () => error.toBody() };
      throw error;
    }
  };

  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: config.stampFileBytesMax, files: 1, fields: 4 } });
    scope.post(
      '/v1/verify',
      {
        bodyLimit: config.stampFileBytesMax + 64 * 1024,
        schema: {
          tags: ['verify'],
          summary:
            'Verify a PDF on the server (multipart: file, optional password): offline checks plus this registry. The browser page verifies without uploading.',
          consumes: ['multipart/form-data'],
          response: {
            200: {
              type: 'object',
              properties: {
                verdict: {
                  type: 'string',
                  enum: ['valid', 'valid_with_later_changes', 'modified', 'invalid', 'untrusted', 'no_stamp'],
                },
                signatures: { type: 'array', items: { type: 'object', additionalProperties: true } },
                reasons: { type: 'array', items: { type: 'object', additionalProperties: true } },
              },
            },
            '4xx': errorBody,
            '5xx': errorBody,
          },
        },
      },
      async (request, reply) => {
        const { pool } = await handle.get();
        pool.admit();
        const { fields, files } = await readForm(request, {
          files: 1,
          fileBytesMax: config.stampFileBytesMax,
          totalBytesMax: config.stampFileBytesMax,
        });
        const file = files[0];
        if (!file || file.bytes.length === 0 || file.fieldName !== 'file')
          throw new BubuhError('STAMP_FILE_MISSING');
        await admitAfterBody(request, reply, node);
        const hierarchy = await pki();
        const crl = await currentCrl(configuredPkiPaths(config), node.storage, hierarchy, {
          validityDays: config.crlValidityDays,
        });
        const password = fields.get('password');
        const offline = await pool.verify({
          pdf: file.bytes,
          trustAnchors: [hierarchy.root.certificate],
          crls: [crl.der],
          ...(password ? { password } : {}),
        });
        const report = await withRegistryCheck(offline, { registryUrl: 'local:', fetch: localRegistry });
        node.metrics.verifications.inc({ verdict: report.verdict });
        reply.header('cache-control', 'no-store');
        return report;
      },
    );
  });

  app.get(
    '/v1/stamps/:id',
    {
      schema: {
        tags: ['stamps'],
        summary: 'One of the caller’s stamps',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: stampViewSchema, '4xx': errorBody },
      },
    },
    async (request) => {
      const principal = await authenticate(request, node);
      const { id } = request.params as { id: string };
      return (await handle.get()).get(principal.accountId, id);
    },
  );

  app.get(
    '/v1/stamps/:id/file',
    {
      schema: {
        tags: ['stamps'],
        summary: 'Download the stamped PDF (owner only, until retention ends)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        produces: ['application/pdf'],
        response: { '4xx': errorBody },
      },
    },
    async (request, reply) => {
      const principal = await authenticate(request, node);
      const { id } = request.params as { id: string };
      const { view, pdf } = await (await handle.get()).file(principal.accountId, id);
      return sendPdf(reply, pdf, view.serial, view.file_name);
    },
  );
}
