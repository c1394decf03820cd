/**
 * One worker thread of the stamping pool: builds this node's stamping environment from the
 * configuration it was given, then stamps; when the signer certificate nears its end, the next stamp
 * renews it first (src/pki/signer-renewal.ts) while stamps already running finish with the old one; so
 * does a signer found revoked in the saved CRL (checked at most once a minute). Refusals travel back
 * as codes (errors lose their class crossing threads); a task whose deadline passed while it queued is
 * refused without being started.
 */
import { workerData } from 'piscina';
import type { Config } from '../config.js';
import { isBubuhError } from '../errors.js';
import { nodeInflateRaw } from '../pdf/inflate-node.js';
import { stampDocument, stampSummary } from '../stamping/stamp-document.js';
import { type VerificationReport, verifyDocument } from '../verify/verify-document.js';
import { type ConfiguredStampEnvironment, createStampEnvironment } from '../services/node-stamper.js';
import { configuredPkiPaths } from '../pki/key-files.js';
import { createSignerRenewal, type SignerRenewal } from '../pki/signer-renewal.js';
import { crlFileRevocationCheck } from '../pki/signer-revocation.js';
import type { EngineOutcome, EngineStampResult, EngineTask, VerifyTask } from './engine-pool.js';
import { formatLocation, SegmentWriter } from './segment-writer.js';
import { lowerCurrentThreadPriority } from './thread-priority.js';

// Below the main thread, which admits and refuses: see thread-priority.ts. Where that cannot be done the
// thread stamps at normal priority and says why once.
const priorityProblem = lowerCurrentThreadPriority((workerData as { config: Config }).config.stampWorkerNice);
if (priorityProblem !== null) {
  process.emitWarning(`stamping thread keeps normal priority: ${priorityProblem}`, {
    code: 'BUBUH_THREAD_PRIORITY',
  });
}

let environment: SignerRenewal<ConfiguredStampEnvironment> | null = null;

function workerSignerRenewal(config: Config): SignerRenewal<ConfiguredStampEnvironment> {
  const revoked = crlFileRevocationCheck(configuredPkiPaths(config));
  return createSignerRenewal({
    build: (now, replacing) =>
      createStampEnvironment(config, {
        now,
        ...(replacing === undefined ? {} : { replacingSigner: replacing }),
      }),
    certificateOf: (built) => built.environment.signer.certificate,
    close: (built) => built.close(),
    revoked: (built) => revoked(built.environment.signer.certificate, built.issuingCaCertificate),
  });
}

/** This thread's segments of stamped files. */
const segments = new SegmentWriter();
const emptyBytes = new Uint8Array(0);

export default async function stampTask(task: EngineTask): Promise<EngineOutcome> {
  const started = Date.now();
  if (started > task.deadline) {
    return {
      ok: false,
      code: 'STAMP_BUSY',
      details: { retryAfterSeconds: 1 },
      queuedMs: started - task.queuedAt,
    };
  }
  environment ??= workerSignerRenewal((workerData as { config: Config }).config);
  try {
    const { result, signerFingerprint } = await environment.use(async (built) => ({
      result: await stampDocument(task.request, built.environment),
      signerFingerprint: built.signerFingerprint,
    }));
    const runMs = Date.now() - started;
    // Written and fsync'd here, before the main thread commits: a stamped row always has its file. The
    // write and the fsync run on the thread pool, so while this file reaches the disk the thread stamps
    // the next task (the pool gives each thread BUBUH_STAMP_TASKS_PER_THREAD tasks at once); the tasks
    // waiting for the disk share one fdatasync of the thread's segment. The file is written as its two
    // parts, the upload and what the stamp appended, never joined into one buffer here.
    const location =
      task.outputDirectory === undefined
        ? undefined
        : await segments.append(task.outputDirectory, [result.original, result.appended]);
    const answer: EngineStampResult = Object.assign(
      stampSummary(result, task.returnPdf ? result.pdf : emptyBytes),
      {
        fileBytes: result.original.length + result.appended.length,
        fileLocation: location === undefined ? undefined : formatLocation(location),
        signerFingerprint,
      },
    );
    return {
      ok: true,
      result: answer,
      queuedMs: started - task.queuedAt,
      runMs,
      syncMs: Date.now() - started - runMs,
    };
  } catch (error) {
    if (isBubuhError(error)) {
      return {
        ok: false,
        code: error.code,
        details: { ...error.details },
        queuedMs: started - task.queuedAt,
      };
    }
    return {
      ok: false,
      code: 'INTERNAL',
      details: { problem: error instanceof Error ? error.message : String(error) },
      queuedMs: started - task.queuedAt,
    };
  }
}

/** Verifies one document offline (the registry is asked afterwards, on the main thread). */
export async function verify(
  task: VerifyTask,
): Promise<
  | { ok: true; report: VerificationReport }
  | { ok: false; code: string; details: Record<string, string | number> }
> {
  if (Date.now() > task.deadline) return { ok: false, code: 'STAMP_BUSY', details: { retryAfterSeconds: 1 } };
  const report = await verifyDocument(task.pdf, {
    trustAnchors: task.trustAnchors,
    crls: task.crls,
    inflate: nodeInflateRaw,
    ...(task.password !== undefined ? { password: task.password } : {}),
  });
  return { ok: true, report };
}
