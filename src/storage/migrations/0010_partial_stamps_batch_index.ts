/**
 * The index on `stamps.batch_id` keeps only the stamps of bulk jobs. It serves one query, the history
 * of one job (`batch_id = ?`), which never matches the NULL of a single stamp; yet every single stamp,
 * nearly all of them, wrote an entry for its NULL.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export const partialStampsBatchIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('stamps_batch').ifExists().execute();
    await db.schema
      .createIndex('stamps_batch')
      .on('stamps')
      .column('batch_id')
      .where(sql.ref('batch_id'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('stamps_batch').ifExists().execute();
    await db.schema.createIndex('stamps_batch').on('stamps').column('batch_id').execute();
  },
};
