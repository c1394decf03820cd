/**
 * Stamped files, kept for download until their retention ends (72 h by default), then deleted. Files
 * live on disk (a directory every node can reach when there are several), grouped in one directory
 * per hour of expiry, so deleting a whole expired hour is one `rm -r` rather than a database scan.
 *
 * The stamping worker writes and fsyncs a file at `pathFor` BEFORE the stamp commits: a stamp recorded
 * as `stamped` always has its file. A file whose commit then fails is removed; one left behind by a crash between the write and the
 * commit has no history row and is deleted with its hour.
 */
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const HOUR_MS = 60 * 60 * 1000;
const ID_PATTERN = /^[0-9a-f]{32}$/;

export interface StampFileStore {
  /** The path the file expiring at `expiresAt` is written to, its directory made. */
  pathFor(id: string, expiresAt: number): Promise<string>;
  /** The bytes, or null when the file is gone. */
  get(id: string, expiresAt: number): Promise<Uint8Array | null>;
  remove(id: string, expiresAt: number): Promise<void>;
  /** Deletes every hour directory whose hour has fully passed; returns how many it removed. */
  sweep(now: number): Promise<number>;
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`file store invariant: bad stamp id ${JSON.stringify(id)}`);
}

export function createDiskFileStore(root: string): StampFileStore {
  const hourOf = (expiresAt: number) => Math.ceil(expiresAt / HOUR_MS);
  const pathOf = (id: string, expiresAt: number) => {
    checkId(id);
    return join(root, String(hourOf(expiresAt)), `${id}.pdf`);
  };
  const madeDirectories = new Set<number>();

  return {
    async pathFor(id, expiresAt) {
      const hour = hourOf(expiresAt);
      if (!madeDirectories.has(hour)) {
        await mkdir(join(root, String(hour)), { recursive: true, mode: 0o700 });
        madeDirectories.add(hour);
      }
      return pathOf(id, expiresAt);
    },
    async get(id, expiresAt) {
      try {
        const buffer = await readFile(pathOf(id, expiresAt));
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async remove(id, expiresAt) {
      await unlink(pathOf(id, expiresAt)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    async sweep(now) {
      let entries: string[];
      try {
        entries = await readdir(root);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw error;
      }
      // A directory named h holds files expiring in ((h-1)·1h, h·1h]: all expired once now ≥ h·1h.
      let removed = 0;
      for (const entry of entries) {
        if (!/^\d+$/.test(entry)) continue;
        const hour = Number(entry);
        if (hour * HOUR_MS > now) continue;
        await rm(join(root, entry), { recursive: true, force: true });
        madeDirectories.delete(hour);
        removed += 1;
      }
      return removed;
    },
  };
}
