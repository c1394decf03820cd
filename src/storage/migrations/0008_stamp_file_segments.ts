/**
 * Stamped files appended to segments (stamps/segment-writer.ts): the outcome row records where, as
 * `<segment>@<offset>`; its length is `file_bytes`. Rows from before keep NULL: their file is one of its
 * own, `<hour>/<id>.pdf`, and is read as before until its hour is swept.
 */
import type { Kysely, Migration } from 'kysely';

export const stampFileSegmentsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('stamp_outcomes').addColumn('file_location', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('stamp_outcomes').dropColumn('file_location').execute();
  },
};
