/**
 * Test-only: runs the Debian tools that judge a stamped PDF from outside (qpdf, poppler, MuPDF, zbar,
 * OpenSSL). A test that needs a tool asks `toolSkipReason` first and skips with the reason it returns,
 * which names the tool and its package, so a machine without the tool still runs every other check.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ToolName = 'qpdf' | 'pdfsig' | 'pdftoppm' | 'mutool' | 'zbarimg' | 'openssl';

const probes: Readonly<Record<ToolName, { args: string[]; debianPackage: string }>> = {
  qpdf: { args: ['--version'], debianPackage: 'qpdf' },
  pdfsig: { args: ['-v'], debianPackage: 'poppler-utils' },
  pdftoppm: { args: ['-v'], debianPackage: 'poppler-utils' },
  mutool: { args: ['-v'], debianPackage: 'mupdf-tools' },
  zbarimg: { args: ['--version'], debianPackage: 'zbar-tools' },
  openssl: { args: ['version'], debianPackage: 'openssl' },
};

const skipReasons = new Map<ToolName, string | null>();

/** Null when the tool runs here; otherwise why the checks that need it are skipped. */
export function toolSkipReason(tool: ToolName): string | null {
  const known = skipReasons.get(tool);
  if (known !== undefined) return known;
  const probe = probes[tool];
  const result = spawnSync(tool, probe.args, { stdio: 'ignore', timeout: 10_000 });
  const reason =
    result.status === 0
      ? null
      : `${tool} is not installed (Debian package "${probe.debianPackage}"); the ${tool} check was skipped`;
  skipReasons.set(tool, reason);
  return reason;
}

export interface ToolResult {
  /** The exit status; null when the tool was killed (e.g. by the time limit). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Output beyond this is a broken tool, not a report; execFile stops it. */
const toolOutputBytesMax = 16 * 1024 * 1024;

/** Runs a tool without blocking the event loop; a non-zero exit is a result, not an exception. */
export function runTool(tool: ToolName, args: readonly string[], timeoutMs = 180_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      [...args],
      { encoding: 'latin1', timeout: timeoutMs, maxBuffer: toolOutputBytesMax },
      (error, stdout, stderr) => {
        // A string code means the tool never ran or its output overflowed: that is not a verdict.
        if (error !== null && typeof error.code === 'string') {
          reject(error);
          return;
        }
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** Applies `work` to every item with at most `limit` running at once; results keep the items' order. */
export async function mapBounded<Item, Result>(
  items: readonly Item[],
  limit: number,
  work: (item: Item, index: number) => Promise<Result>,
): Promise<Result[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error('mapBounded invariant: limit must be ≥ 1');
  const results = new Array<Result>(items.length);
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return results;
}

/** A fresh directory under the system's temporary directory; the caller removes it. */
export function temporaryDirectory(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
