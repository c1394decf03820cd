/**
 * Appends stamped files to segment files, one segment per stamping thread and hour of expiry, instead
 * of creating one file per stamp: creating, filling and later deleting a file per stamp cost the
 * stamping threads and the kernel more CPU than the file's bytes (docs/benchmarks.md, "What the stamped
 * file costs"), and a day of a national surge would leave millions of files to delete.
 *
 * A file's place is `<segment>@<offset>` (its length is the stamp's `file_bytes`), recorded in the stamp's
 * outcome row, which commits only after `append` resolved: by then the bytes are written and
 * fdatasync'd. Appends reserve their offsets in call order, write at them (positional writes never
 * overlap) and share fdatasyncs: a sync that is running when a write finishes may have started before
 * it, so that write waits for the next sync, which covers every write finished by then.
 *
 * Each process and thread writes segments of its own (the name carries the process id, the thread id
 * and random characters), so nodes sharing one files directory never write the same segment. A segment
 * is never reopened for writing: after a restart, or after any write or sync error, appends go to a new
 * one. Bytes of a stamp that did not commit stay unreferenced (the service overwrites them with zeros)
 * and go with their hour's directory.
 */
import { writeSync, writevSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** A segment takes no new file once it holds this many bytes. */
export const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;

const SEGMENT_NAME = /^[0-9a-z]{1,40}(?:-[0-9a-z]{1,40}){0,4}\.seg$/;
const LOCATION = /^([^@/\\]{1,200})@(\d{1,15})$/;

export interface SegmentLocation {
  readonly segment: string;
  readonly offset: number;
}

export function formatLocation(location: SegmentLocation): string {
  return `${location.segment}@${location.offset}`;
}

/** The segment and offset of a recorded location, or null when it is not one this store wrote. */
export function parseLocation(location: string): SegmentLocation | null {
  const match = LOCATION.exec(location);
  if (!match || !SEGMENT_NAME.test(match[1]!)) return null;
  return { segment: match[1]!, offset: Number(match[2]) };
}

/** Makes a new directory entry durable: fsync of the directory itself. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class Segment {
  readonly file: Promise<FileHandle>;
  /** The next file's offset. */
  next = 0;
  appending = 0;
  retired = false;
  private syncing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    readonly directory: string,
    readonly name: string,
    private readonly stats: SegmentWriterStats,
  ) {
    const path = join(directory, name);
    this.file = open(path, 'wx', 0o600).then(async (handle) => {
      try {
        await syncDirectory(directory);
      } catch (error) {
        await handle.close().catch(() => {});
        throw error;
      }
      return handle;
    });
  }

  /** Resolves once an fdatasync that started after this call has finished. */
  synced(): Promise<void> {
    if (this.syncing === null) return this.startSync();
    this.queued ??= this.syncing
      .catch(() => {})
      .then(() => {
        this.queued = null;
        return this.startSync();
      });
    return this.queued;
  }

  private startSync(): Promise<void> {
    this.stats.syncs += 1;
    const running: Promise<void> = this.file
      .then((handle) => handle.datasync())
      .finally(() => {
        if (this.syncing === running) this.syncing = null;
      });
    this.syncing = running;
    return running;
  }

  async close(): Promise<void> {
    await (await this.file).close();
  }
}

export interface SegmentWriterOptions {
  /** Default SEGMENT_BYTES_MAX. */
  readonly segmentBytesMax?: number;
  /** A segment with no append for this long is closed (default 60 s); the next append opens a new one. */
  readonly idleCloseMs?: number;
}

export interface SegmentWriterStats {
  /** Segments opened. */
  segments: number;
  /** fdatasyncs run (each covers every write finished before it started). */
  syncs: number;
}

/**
 * Writes `parts` one after the other at `offset`: one `pwritev` for all of them, then, should it write
 * less (a signal, a full disk), the rest part by part.
 */
function writeParts(fd: number, parts: readonly Uint8Array[], length: number, offset: number): void {
  let written = writevSync(fd, parts as Uint8Array[], offset);
  if (written === length) return;
  let start = 0;
  for (const part of parts) {
    const end = start + part.length;
    if (written < end) {
      let at = written - start;
      while (at < part.length) at += writeSync(fd, part, at, part.length - at, offset + start + at);
      written = end;
    }
    start = end;
  }
}

export class SegmentWriter {
  private current: Segment | null = null;
  private sequence = 0;
  private readonly prefix = `${process.pid.toString(36)}-${threadId.toString(36)}-${randomBytes(5).toString('hex')}`;
  private readonly segmentBytesMax: number;
  private readonly idleCloseMs: number;
  private idleTimer: NodeJS.Timeout | null = null;
  readonly stats: SegmentWriterStats = { segments: 0, syncs: 0 };

  constructor(options: SegmentWriterOptions = {}) {
    this.segmentBytesMax = options.segmentBytesMax ?? SEGMENT_BYTES_MAX;
    this.idleCloseMs = options.idleCloseMs ?? 60_000;
  }

  /**
   * Appends a file (its bytes, or its parts one after another) to this thread's segment in `directory`
   * (which must exist) and resolves with the file's location once the bytes are on disk.
   */
  async append(directory: string, file: Uint8Array | readonly Uint8Array[]): Promise<SegmentLocation> {
    const parts: readonly Uint8Array[] = file instanceof Uint8Array ? [file] : file;
    let length = 0;
    for (const part of parts) length += part.length;
    let segment = this.current;
    if (
      segment === null ||
      segment.directory !== directory ||
      (segment.next > 0 && segment.next + length > this.segmentBytesMax)
    ) {
      if (segment !== null) this.retire(segment);
      this.sequence += 1;
      segment = new Segment(directory, `${this.prefix}-${this.sequence.toString(36)}.seg`, this.stats);
      this.current = segment;
      this.stats.segments += 1;
    }
    const offset = segment.next;
    segment.next += length;
    segment.appending += 1;
    try {
      const handle = await segment.file;
      // Positional writes: appends in flight at once never touch the same bytes. Written from this
      // thread (a stamping thread's, never the event loop's): copying a file into the page cache takes
      // microseconds, less than handing it to libuv's pool and being woken again.
      writeParts(handle.fd, parts, length, offset);
      await segment.synced();
      return { segment: segment.name, offset };
    } catch (error) {
      // After a failed write or sync nothing more is trusted to this segment (a failed fdatasync may
      // have dropped other writes' pages): the next append starts a new one.
      this.retire(segment);
      throw error;
    } finally {
      segment.appending -= 1;
      this.closeIfDone(segment);
      if (segment === this.current && segment.appending === 0) this.armIdleClose();
    }
  }

  private armIdleClose(): void {
    if (this.idleTimer !== null) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.current !== null && this.current.appending === 0) this.retire(this.current);
    }, this.idleCloseMs);
    this.idleTimer.unref();
  }

  /** Closes the open segment once its appends have finished. */
  close(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.current !== null) this.retire(this.current);
  }

  private retire(segment: Segment): void {
    if (this.current === segment) this.current = null;
    segment.retired = true;
    this.closeIfDone(segment);
  }

  private closeIfDone(segment: Segment): void {
    if (segment.retired && segment.appending === 0) segment.close().catch(() => {});
  }
}
