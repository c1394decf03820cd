/**
 * Stamped files, kept for download until their retention ends (72 h by default), then deleted. Files
 * live on disk (a directory every node can reach when there are several), grouped in one directory
 * per hour of expiry, so deleting a whole expired hour is one `rm -r` rather than a database scan.
 *
 * Inside an hour's directory the stamping threads append files to segments (segment-writer.ts); the
 * stamp's outcome row records where (`file_location`: `<segment>@<offset>`, its length `file_bytes`).
 * Rows written before segments existed have no location: their file is `<hour>/<id>.pdf`, one per stamp,
 * and is still read and deleted as such.
 *
 * The stamping worker writes and fsyncs the bytes BEFORE the stamp commits: a stamp recorded as
 * `stamped` always has its file. Bytes whose commit then fails are overwritten with zeros; bytes left
 * behind by a crash between the write and the commit are referenced by no row and go with their hour.
 */
import { mkdir, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLocation } from './segment-writer.js';

const HOUR_MS = 60 * 60 * 1000;
const ID_PATTERN = /^[0-9a-f]{32}$/;

/** Where one stamp's file is: its id and expiry, and for files in a segment the location and size. */
export interface StampFileRef {
  readonly id: string;
  readonly expiresAt: number;
  readonly location: string | null;
  readonly bytes: number | null;
}

export interface StampFileStore {
  /** The directory of the hour in which a file expiring at `expiresAt` ends, made if missing. */
  directoryFor(expiresAt: number): Promise<string>;
  /** The bytes, or null when the file is gone. */
  get(file: StampFileRef): Promise<Uint8Array | null>;
  /** Deletes one file (a segment's bytes are overwritten with zeros). */
  remove(file: StampFileRef): Promise<void>;
  /** Deletes every hour directory whose hour has fully passed; returns how many it removed. */
  sweep(now: number): Promise<number>;
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`file store invariant: bad stamp id ${JSON.stringify(id)}`);
}

function missing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export function createDiskFileStore(root: string): StampFileStore {
  const hourOf = (expiresAt: number) => Math.ceil(expiresAt / HOUR_MS);
  const directoryOf = (expiresAt: number) => join(root, String(hourOf(expiresAt)));
  /** The segment and byte range of a file in a segment; null for a file of its own. */
  const segmentOf = (file: StampFileRef) => {
    checkId(file.id);
    if (file.location === null) return null;
    const parsed = parseLocation(file.location);
    if (parsed === null || file.bytes === null || !Number.isSafeInteger(file.bytes) || file.bytes <= 0) {
      throw new Error(`file store invariant: bad location ${JSON.stringify(file.location)} of ${file.id}`);
    }
    return {
      path: join(directoryOf(file.expiresAt), parsed.segment),
      offset: parsed.offset,
      bytes: file.bytes,
    };
  };
  const madeDirectories = new Set<number>();

  return {
    async directoryFor(expiresAt) {
      const hour = hourOf(expiresAt);
      if (!madeDirectories.has(hour)) {
        await mkdir(join(root, String(hour)), { recursive: true, mode: 0o700 });
        madeDirectories.add(hour);
      }
      return directoryOf(expiresAt);
    },
    async get(file) {
      const segment = segmentOf(file);
      try {
        if (segment === null) {
          const buffer = await readFile(join(directoryOf(file.expiresAt), `${file.id}.pdf`));
          return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        }
        const handle = await open(segment.path, 'r');
        try {
          const bytes = new Uint8Array(segment.bytes);
          let read = 0;
          while (read < bytes.length) {
            const { bytesRead } = await handle.read(bytes, read, bytes.length - read, segment.offset + read);
            // A segment shorter than its rows say was cut short outside this store: the file is gone.
            if (bytesRead === 0) return null;
            read += bytesRead;
          }
          return bytes;
        } finally {
          await handle.close();
        }
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },
    async remove(file) {
      const segment = segmentOf(file);
      try {
        if (segment === null) {
          await unlink(join(directoryOf(file.expiresAt), `${file.id}.pdf`));
          return;
        }
        const handle = await open(segment.path, 'r+');
        try {
          await handle.write(new Uint8Array(segment.bytes), 0, segment.bytes, segment.offset);
        } finally {
          await handle.close();
        }
      } catch (error) {
        if (!missing(error)) throw error;
      }
    },
    async sweep(now) {
      let entries: string[];
      try {
        entries = await readdir(root);
      } catch (error) {
        if (missing(error)) return 0;
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
