/**
 * One worker thread of the stamping pool: builds this node's stamping environment once from the
 * configuration it was given, then stamps. Refusals travel back as codes (errors lose their class
 * crossing threads); a task whose deadline passed while it queued is refused without being started.
 */
import { workerData } from 'piscina';
import type { Config } from '../config.js';
import { isBubuhError } from '../errors.js';
import { nodeInflateRaw } from '../pdf/inflate-node.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { type VerificationReport, verifyDocument } from '../verify/verify-document.js';
import { type ConfiguredStampEnvironment, createStampEnvironment } from '../services/node-stamper.js';
import type { EngineOutcome, EngineTask, VerifyTask } from './engine-pool.js';

let environment: Promise<ConfiguredStampEnvironment> | null = null;

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
  environment ??= createStampEnvironment((workerData as { config: Config }).config);
  try {
    const { environment: stampEnvironment } = await environment;
    const result = await stampDocument(
      { ...task.request, signingTime: new Date(task.signingTimeMs) },
      stampEnvironment,
    );
    // The result is copied back by structured clone: a memcpy of the file, cheap next to the stamp.
    return { ok: true, result, queuedMs: started - task.queuedAt, runMs: Date.now() - started };
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
