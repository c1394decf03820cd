/**
 * `bubuh ledger check`: recomputes every balance from the immutable transfers and checks the
 * guarantees of DESIGN §3.1 — stored balances equal recomputed ones, the sum of all balances is zero
 * (posted and pending), every limit flag holds, and every pending transfer resolved at most once.
 */
import { sql } from 'kysely';
import type { Storage } from '../storage/database.js';
import { accountFlags, transferKinds } from './types.js';

export interface LedgerCheckReport {
  readonly ok: boolean;
  readonly accounts: number;
  readonly transfers: number;
  readonly pendingOpen: number;
  readonly totals: {
    readonly debitsPosted: number;
    readonly creditsPosted: number;
    readonly debitsPending: number;
    readonly creditsPending: number;
  };
  readonly problems: readonly string[];
}

interface Sums {
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
}

const problemsMax = 100;

async function recomputeBalances(storage: Storage): Promise<Map<string, Sums>> {
  const sums = new Map<string, Sums>();
  const entry = (id: string): Sums => {
    let value = sums.get(id);
    if (!value) {
      value = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };
      sums.set(id, value);
    }
    return value;
  };
  const postedKinds = [transferKinds.posted, transferKinds.post_pending];
  const posted = await sql<{ account: string; side: string; total: number }>`
    select debit_account_id as account, 'd' as side, sum(amount) as total from ledger_transfers
      where kind in (${sql.join(postedKinds)}) group by debit_account_id
    union all
    select credit_account_id as account, 'c' as side, sum(amount) as total from ledger_transfers
      where kind in (${sql.join(postedKinds)}) group by credit_account_id`.execute(storage.db);
  for (const row of posted.rows) {
    if (row.side === 'd') entry(row.account).debitsPosted += Number(row.total);
    else entry(row.account).creditsPosted += Number(row.total);
  }
  const pending = await sql<{ account: string; side: string; total: number }>`
    select t.debit_account_id as account, 'd' as side, sum(t.amount) as total from ledger_transfers t
      join ledger_pending p on p.id = t.id where p.status = 'pending' group by t.debit_account_id
    union all
    select t.credit_account_id as account, 'c' as side, sum(t.amount) as total from ledger_transfers t
      join ledger_pending p on p.id = t.id where p.status = 'pending' group by t.credit_account_id`.execute(
    storage.db,
  );
  for (const row of pending.rows) {
    if (row.side === 'd') entry(row.account).debitsPending += Number(row.total);
    else entry(row.account).creditsPending += Number(row.total);
  }
  return sums;
}

async function checkPendingStates(storage: Storage, problems: string[]): Promise<number> {
  const missing = await sql<{ id: string }>`
    select t.id from ledger_transfers t left join ledger_pending p on p.id = t.id
    where t.kind = ${transferKinds.pending} and p.id is null`.execute(storage.db);
  for (const row of missing.rows) problems.push(`pending transfer ${row.id} has no pending state`);
  // Each pending transfer is resolved by at most one post or void, and that one matches its state.
  const resolutions = await sql<{ pending_id: string; count: number; status: string | null; kind: number }>`
    select r.pending_id, count(*) as count, max(p.status) as status, max(r.kind) as kind
    from ledger_transfers r left join ledger_pending p on p.id = r.pending_id
    where r.kind in (${transferKinds.post_pending}, ${transferKinds.void_pending})
    group by r.pending_id`.execute(storage.db);
  for (const row of resolutions.rows) {
    if (Number(row.count) !== 1)
      problems.push(`pending transfer ${row.pending_id} resolved ${row.count} times`);
    const expected = Number(row.kind) === transferKinds.post_pending ? 'posted' : 'voided';
    if (row.status !== expected) {
      problems.push(`pending transfer ${row.pending_id} is '${row.status}' but was ${expected}`);
    }
  }
  const unresolved = await sql<{ id: string; status: string }>`
    select p.id, p.status from ledger_pending p
      left join (select distinct pending_id from ledger_transfers where pending_id is not null) r
        on r.pending_id = p.id
    where p.status in ('posted', 'voided') and r.pending_id is null`.execute(storage.db);
  for (const row of unresolved.rows)
    problems.push(`pending transfer ${row.id} is '${row.status}' with no resolution`);
  const open = await storage.db
    .selectFrom('ledger_pending')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(open.count);
}

export async function checkLedger(storage: Storage): Promise<LedgerCheckReport> {
  const problems: string[] = [];
  const recomputed = await recomputeBalances(storage);
  const accounts = await storage.db.selectFrom('ledger_accounts').selectAll().execute();
  const totals = { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 };
  const known = new Set<string>();
  for (const account of accounts) {
    known.add(account.id);
    const stored: Sums = {
      debitsPending: account.debits_pending,
      debitsPosted: account.debits_posted,
      creditsPending: account.credits_pending,
      creditsPosted: account.credits_posted,
    };
    const expected = recomputed.get(account.id) ?? {
      debitsPending: 0,
      debitsPosted: 0,
      creditsPending: 0,
      creditsPosted: 0,
    };
    for (const field of Object.keys(stored) as (keyof Sums)[]) {
      totals[field] += stored[field];
      if (stored[field] !== expected[field]) {
        problems.push(
          `account ${account.id}: stored ${field} ${stored[field]}, transfers say ${expected[field]}`,
        );
      }
      if (stored[field] < 0) problems.push(`account ${account.id}: ${field} is negative (${stored[field]})`);
    }
    const debits = stored.debitsPending + stored.debitsPosted;
    const credits = stored.creditsPending + stored.creditsPosted;
    if (account.flags & accountFlags.debitsMustNotExceedCredits && debits > stored.creditsPosted) {
      problems.push(`account ${account.id}: debits ${debits} exceed posted credits ${stored.creditsPosted}`);
    }
    if (account.flags & accountFlags.creditsMustNotExceedDebits && credits > stored.debitsPosted) {
      problems.push(`account ${account.id}: credits ${credits} exceed posted debits ${stored.debitsPosted}`);
    }
  }
  for (const id of recomputed.keys())
    if (!known.has(id)) problems.push(`transfers name unknown account ${id}`);
  if (totals.debitsPosted !== totals.creditsPosted) {
    problems.push(`posted debits ${totals.debitsPosted} != posted credits ${totals.creditsPosted}`);
  }
  if (totals.debitsPending !== totals.creditsPending) {
    problems.push(`pending debits ${totals.debitsPending} != pending credits ${totals.creditsPending}`);
  }
  const pendingOpen = await checkPendingStates(storage, problems);
  const transferCount = await storage.db
    .selectFrom('ledger_transfers')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return {
    ok: problems.length === 0,
    accounts: accounts.length,
    transfers: Number(transferCount.count),
    pendingOpen,
    totals,
    problems: problems.slice(0, problemsMax),
  };
}
