import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDiskFileStore } from './file-store.js';
import { formatLocation, parseLocation, SegmentWriter } from './segment-writer.js';

const HOUR_MS = 3600_000;

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bubuh-segments-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

/** `length` bytes, all `fill`. */
const bytesOf = (length: number, fill: number) => new Uint8Array(length).fill(fill);

/** A scratch file store, the directory of the hour that `expiresAt` falls in, and a segment writer. */
async function hourOfStore(t: { after: (fn: () => Promise<void>) => void }, expiresAt: number) {
  const root = await scratch(t);
  const store = createDiskFileStore(root);
  return { root, store, directory: await store.directoryFor(expiresAt), writer: new SegmentWriter() };
}

test('locations: only `<segment>@<offset>` of a segment name this store makes parses', () => {
  assert.equal(formatLocation({ segment: '1a-2-0f3e-1.seg', offset: 4096 }), '1a-2-0f3e-1.seg@4096');
  assert.deepEqual(parseLocation('1a-2-0f3e-1.seg@4096'), { segment: '1a-2-0f3e-1.seg', offset: 4096 });
  assert.deepEqual(parseLocation('x.seg@0'), { segment: 'x.seg', offset: 0 });
  for (const bad of [
    '../x.seg@0',
    'a/b.seg@0',
    'x.seg@-1',
    'x.seg@1.5',
    'x.pdf@0',
    'X.seg@0',
    'x.seg',
    '@0',
    'x.seg@1234567890123456',
  ]) {
    assert.equal(parseLocation(bad), null, bad);
  }
});

test('segment writer: concurrent appends get consecutive offsets in one segment and read back exactly', async (t) => {
  const expiresAt = 500 * HOUR_MS - 1;
  const { root, store, directory, writer } = await hourOfStore(t, expiresAt);
  assert.equal(directory, join(root, '500'));
  const sizes = [100, 33_000, 1, 4096, 70_001, 7, 512, 9_999, 2, 65_536, 300, 12, 5_000, 42, 1_000, 8];
  const files = sizes.map((size, index) => bytesOf(size, index + 1));
  const locations = await Promise.all(files.map((file) => writer.append(directory, file)));

  const segment = locations[0]!.segment;
  assert.match(segment, /^[0-9a-z]+-[0-9a-z]+-[0-9a-f]{10}-1\.seg$/);
  let offset = 0;
  for (const [index, location] of locations.entries()) {
    assert.deepEqual(location, { segment, offset });
    offset += sizes[index]!;
  }
  assert.deepEqual(await readdir(directory), [segment]);
  assert.equal((await stat(join(directory, segment))).size, offset);
  assert.equal(writer.stats.segments, 1);
  // Every append waited for an fdatasync that started after its write; at least some shared one.
  assert.ok(writer.stats.syncs >= 1 && writer.stats.syncs < files.length, `${writer.stats.syncs} syncs`);

  for (const [index, location] of locations.entries()) {
    const file = {
      id: index.toString(16).padStart(32, '0'),
      expiresAt,
      location: formatLocation(location),
      bytes: sizes[index]!,
    };
    assert.deepEqual(await store.get(file), files[index]);
  }
  writer.close();
});

test('segment writer: a file given in parts is written as their concatenation at its offset', async (t) => {
  const expiresAt = 500 * HOUR_MS - 1;
  const { store, directory, writer } = await hourOfStore(t, expiresAt);
  const first = await writer.append(directory, bytesOf(10, 1));
  const parts = [bytesOf(70_001, 2), bytesOf(0, 3), bytesOf(6_000, 4)];
  const second = await writer.append(directory, parts);
  const third = await writer.append(directory, [bytesOf(5, 5)]);
  assert.equal(second.offset, 10);
  assert.equal(third.offset, 10 + 76_001);
  const joined = new Uint8Array(76_001);
  joined.set(parts[0]!);
  joined.set(parts[2]!, 70_001);
  const file = { id: '0'.repeat(32), expiresAt, location: formatLocation(second), bytes: 76_001 };
  assert.deepEqual(await store.get(file), joined);
  assert.equal((await stat(join(directory, second.segment))).size, 10 + 76_001 + 5);
  assert.equal(first.segment, second.segment);
  writer.close();
});

test('segment writer: a new segment for a new hour, when one is full, after an error, and after idling', async (t) => {
  const root = await scratch(t);
  const writer = new SegmentWriter({ segmentBytesMax: 100, idleCloseMs: 50 });
  const first = join(root, '1');
  const second = join(root, '2');
  await mkdir(first);

  const a = await writer.append(first, bytesOf(40, 1));
  const b = await writer.append(first, bytesOf(40, 2));
  const c = await writer.append(first, bytesOf(40, 3)); // 120 > 100: the next segment
  const d = await writer.append(first, bytesOf(150, 4)); // larger than a segment: one of its own
  const e = await writer.append(first, bytesOf(10, 5));
  const name = (sequence: number) => a.segment.replace(/-1\.seg$/, `-${sequence}.seg`);
  assert.deepEqual(
    [a, b, c, d, e],
    [
      { segment: name(1), offset: 0 },
      { segment: name(1), offset: 40 },
      { segment: name(2), offset: 0 },
      { segment: name(3), offset: 0 },
      { segment: name(4), offset: 0 },
    ],
  );

  // The second hour's directory does not exist yet: the append fails and nothing is kept for it.
  await assert.rejects(writer.append(second, bytesOf(10, 6)), { code: 'ENOENT' });
  await mkdir(second);
  assert.deepEqual(await writer.append(second, bytesOf(10, 7)), { segment: name(6), offset: 0 });
  assert.deepEqual(await writer.append(second, bytesOf(10, 8)), { segment: name(6), offset: 10 });

  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(await writer.append(second, bytesOf(10, 9)), { segment: name(7), offset: 0 });
  assert.equal(writer.stats.segments, 7);

  assert.deepEqual((await readdir(first)).sort(), [name(1), name(2), name(3), name(4)].sort());
  assert.deepEqual((await readdir(second)).sort(), [name(6), name(7)].sort());
  assert.deepEqual(
    new Uint8Array(await readFile(join(second, name(6)))),
    new Uint8Array([...bytesOf(10, 7), ...bytesOf(10, 8)]),
  );
  writer.close();
});

test('file store: segment files read and zeroed in place, files of their own still served, hours swept whole', async (t) => {
  const expiresAt = 10 * HOUR_MS - 5;
  const { root, store, directory, writer } = await hourOfStore(t, expiresAt);
  const kept = await writer.append(directory, bytesOf(30, 0x25));
  const dropped = await writer.append(directory, bytesOf(20, 0x41));
  const after = await writer.append(directory, bytesOf(10, 0x42));
  writer.close();
  const ref = (id: string, location: { segment: string; offset: number }, bytes: number) => ({
    id: id.repeat(32),
    expiresAt,
    location: formatLocation(location),
    bytes,
  });

  await store.remove(ref('b', dropped, 20));
  const segmentBytes = new Uint8Array(await readFile(join(directory, kept.segment)));
  assert.deepEqual(
    segmentBytes,
    new Uint8Array([...bytesOf(30, 0x25), ...bytesOf(20, 0), ...bytesOf(10, 0x42)]),
  );
  assert.deepEqual(await store.get(ref('a', kept, 30)), bytesOf(30, 0x25));
  assert.deepEqual(await store.get(ref('c', after, 10)), bytesOf(10, 0x42));
  // A row that says more bytes than the segment holds, or a segment that is not there: gone.
  assert.equal(await store.get(ref('c', after, 11)), null);
  assert.equal(await store.get(ref('d', { segment: 'x-1.seg', offset: 0 }, 10)), null);
  await assert.rejects(
    store.get({ id: 'e'.repeat(32), expiresAt, location: '../../etc/passwd@0', bytes: 10 }),
    /bad location/,
  );

  // A stamp from before segments: its own file in the hour's directory, no location.
  const legacy = { id: 'f'.repeat(32), expiresAt, location: null, bytes: null };
  await writeFile(join(directory, `${legacy.id}.pdf`), bytesOf(5, 0x50));
  assert.deepEqual(await store.get(legacy), bytesOf(5, 0x50));
  await store.remove(legacy);
  assert.equal(await store.get(legacy), null);

  assert.equal(await store.sweep(10 * HOUR_MS - 1), 0);
  assert.equal(await store.sweep(10 * HOUR_MS), 1);
  assert.deepEqual(await readdir(root), []);
  assert.equal(await store.get(ref('a', kept, 30)), null);
});
