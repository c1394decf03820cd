/**
 * One worker thread of the stamping pool: builds this node's stamping environment once from the
 * configuration it was given, then stamps. Refusals travel back as codes (errors lose their class
 * crossing threads); a task whose deadline passed while it queued is refused without being started.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
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
    if (task.outputPath !== undefined) {
      // Written and fsync'd here, before the main thread commits: a stamped row always has its file.
      const descriptor = openSync(task.outputPath, 'wx', 0o600);
      try {
        let written = 0;
        while (written < result.pdf.length) written += writeSync(descriptor, result.pdf, written);
        fdatasyncSync(descriptor);
      } finally {
        closeSync(descriptor);
      }
    }
    const fileBytes = result.pdf.length;
    const pdf = task.returnPdf ? result.pdf : new Uint8Array(0);
    return {
      ok: true,
      result: { ...result, pdf, fileBytes },
      queuedMs: started - task.queuedAt,
      runMs: Date.now() - started,
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
