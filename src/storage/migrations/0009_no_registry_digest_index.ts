/**
 * The registry's index on `content_digest` goes: nothing looks a stamp up by its document's digest (the
 * verifier and the public serial record find a stamp by its serial and compare the digest they read),
 * and the index cost every stamp a leaf of its own in a randomly keyed B-tree, the largest single share
 * of the pages a stamp writes (docs/benchmarks.md).
 */
import type { Kysely, Migration } from 'kysely';

export const noRegistryDigestIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('stamp_registry_digest').ifExists().execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema
      .createIndex('stamp_registry_digest')
      .ifNotExists()
      .on('stamp_registry')
      .column('content_digest')
      .execute();
  },
};
