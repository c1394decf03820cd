import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { isBubuhError } from '../errors.js';
import type { Storage } from '../storage/database.js';
import { eachBackend } from '../testing/backends.js';
import { checkLedger } from './check.js';
import { Ledger, type LedgerOptions } from './ledger.js';
import type { TransferInput } from './types.js';

const quota = 1;
const id = (n: number) => n.toString(16).padStart(32, '0');

function makeLedger(storage: Ledger['storage'], options: Partial<LedgerOptions> = {}) {
  return new Ledger(storage, { batchTransfersMax: 1024, queueTransfersMax: 16384, ...options });
}

/** One unit from the issuer straight to `stamped`, transfer id `n`. */
const issuedUnit = (n: number): TransferInput => ({
  id: id(n),
  debitAccountId: 'issuer',
  creditAccountId: 'stamped',
  amount: 1,
  ledger: quota,
  code: 1,
});

async function setUpAccounts(ledger: Ledger) {
  const results = await ledger.createAccounts([
    { id: 'issuer', ledger: quota, code: 1 },
    { id: 'channel:direct:stock', ledger: quota, code: 2, debitsMustNotExceedCredits: true },
    { id: 'customer:a:quota', ledger: quota, code: 3, debitsMustNotExceedCredits: true },
    { id: 'customer:b:quota', ledger: quota, code: 3, debitsMustNotExceedCredits: true },
    { id: 'stamped', ledger: quota, code: 4 },
  ]);
  assert.deepEqual(
    results.map((r) => r.result),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
  );
}

async function balances(ledger: Ledger, ids: string[]) {
  const accounts = await ledger.lookupAccounts(ids);
  return Object.fromEntries(
    accounts.map((a) => [a.id, [a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted]]),
  );
}

test('accounts: created once; identical re-creation is exists; a different one is refused', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    const again = await ledger.createAccounts([
      { id: 'issuer', ledger: quota, code: 1 },
      { id: 'stamped', ledger: quota, code: 9 },
      { id: 'Bad Id', ledger: quota, code: 1 },
      { id: 'x', ledger: 0, code: 1 },
      { id: 'y', ledger: 1, code: 1, debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true },
    ]);
    assert.deepEqual(
      again.map((r) => r.result),
      [
        'exists',
        'exists_with_different_fields',
        'id_invalid',
        'ledger_invalid',
        'flags_are_mutually_exclusive',
      ],
    );
    const [stamped] = await ledger.lookupAccounts(['stamped']);
    assert.equal(stamped?.code, 4);
    await ledger.close();
  });
});

test('posted transfers move units, respect limits, and are idempotent by id', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    const mint: TransferInput = {
      id: id(1),
      debitAccountId: 'issuer',
      creditAccountId: 'channel:direct:stock',
      amount: 10,
      ledger: quota,
      code: 1,
    };
    const sell = {
      ...mint,
      id: id(2),
      debitAccountId: 'channel:direct:stock',
      creditAccountId: 'customer:a:quota',
    };
    const results = await ledger.createTransfers([mint, { ...sell, amount: 11 }, { ...sell, amount: 4 }]);
    assert.deepEqual(
      results.map((r) => r.result),
      ['ok', 'exceeds_credits', 'ok'],
    );
    const retried = await ledger.createTransfers([mint, { ...sell, amount: 4 }, { ...sell, amount: 5 }]);
    assert.deepEqual(
      retried.map((r) => r.result),
      ['exists', 'exists', 'exists_with_different_fields'],
    );
    assert.equal(retried[0]?.timestamp, results[0]?.timestamp);
    assert.deepEqual(await balances(ledger, ['issuer', 'channel:direct:stock', 'customer:a:quota']), {
      issuer: [0, 10, 0, 0],
      'channel:direct:stock': [0, 4, 0, 10],
      'customer:a:quota': [0, 0, 0, 4],
    });
    const refusals = await ledger.createTransfers([
      { ...mint, id: id(3), creditAccountId: 'issuer' },
      { ...mint, id: id(4), amount: 0 },
      { ...mint, id: id(5), debitAccountId: 'nobody' },
      { ...mint, id: id(6), creditAccountId: 'nobody' },
      { ...mint, id: 'xyz' },
      { ...mint, id: id(7), timeoutSeconds: 5 },
      { ...mint, id: id(8), pendingId: id(1) },
      { ...mint, id: id(9), ledger: 2 },
    ]);
    assert.deepEqual(
      refusals.map((r) => r.result),
      [
        'accounts_must_be_different',
        'amount_must_be_positive',
        'debit_account_not_found',
        'credit_account_not_found',
        'id_invalid',
        'timeout_reserved_for_pending_transfer',
        'pending_id_must_be_absent',
        'transfer_must_have_the_same_ledger_as_accounts',
      ],
    );
    assert.equal((await checkLedger(storage)).ok, true);
    await ledger.close();
  });
});

test('a pending transfer resolves once: post (partial), void, or expiry', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    let now = 1_700_000_000_000;
    const ledger = makeLedger(storage, { clock: () => now });
    await setUpAccounts(ledger);
    const base = { ledger: quota, code: 1 };
    await ledger.createTransfers([
      { id: id(1), debitAccountId: 'issuer', creditAccountId: 'customer:a:quota', amount: 3, ...base },
    ]);
    const reserve = (n: number, timeoutSeconds = 60): TransferInput => ({
      id: id(n),
      kind: 'pending',
      debitAccountId: 'customer:a:quota',
      creditAccountId: 'stamped',
      amount: 1,
      timeoutSeconds,
      ...base,
    });
    const reserved = await ledger.createTransfers([reserve(10), reserve(11), reserve(12, 5), reserve(13)]);
    assert.deepEqual(
      reserved.map((r) => r.result),
      ['ok', 'ok', 'ok', 'exceeds_credits'],
    );
    assert.deepEqual(await balances(ledger, ['customer:a:quota']), { 'customer:a:quota': [3, 0, 0, 3] });

    const post = { id: id(20), kind: 'post_pending', pendingId: id(10) } as const;
    const voided = { id: id(21), kind: 'void_pending', pendingId: id(11) } as const;
    const first = await ledger.createTransfers([post, voided]);
    assert.deepEqual(
      first.map((r) => r.result),
      ['ok', 'ok'],
    );
    const second = await ledger.createTransfers([
      post,
      { id: id(22), kind: 'void_pending', pendingId: id(10) },
      { id: id(23), kind: 'post_pending', pendingId: id(11) },
      { id: id(24), kind: 'post_pending', pendingId: id(12), amount: 2 },
      { id: id(25), kind: 'post_pending', pendingId: id(1) },
      { id: id(26), kind: 'post_pending', pendingId: id(99) },
      { id: id(27), kind: 'void_pending', pendingId: id(12), amount: 7 },
      { id: id(28), kind: 'post_pending', pendingId: id(12), debitAccountId: 'customer:b:quota' },
    ]);
    assert.deepEqual(
      second.map((r) => r.result),
      [
        'exists',
        'pending_transfer_already_posted',
        'pending_transfer_already_voided',
        'exceeds_pending_transfer_amount',
        'pending_transfer_not_pending',
        'pending_transfer_not_found',
        'pending_transfer_has_different_amount',
        'pending_transfer_has_different_debit_account_id',
      ],
    );
    assert.deepEqual(await balances(ledger, ['customer:a:quota', 'stamped']), {
      'customer:a:quota': [1, 1, 0, 3],
      stamped: [0, 0, 1, 1],
    });

    now += 5_000;
    const late = await ledger.createTransfers([{ id: id(30), kind: 'post_pending', pendingId: id(12) }]);
    assert.equal(late[0]?.result, 'pending_transfer_expired');
    assert.deepEqual(await ledger.expirePending(100), [id(12)]);
    assert.deepEqual(await ledger.expirePending(100), []);
    const [state] = await ledger.lookupPending([id(12)]);
    assert.equal(state?.status, 'expired');
    assert.deepEqual(await balances(ledger, ['customer:a:quota', 'stamped']), {
      'customer:a:quota': [0, 1, 0, 3],
      stamped: [0, 0, 0, 1],
    });
    const report = await checkLedger(storage);
    assert.deepEqual(report.problems, []);
    assert.equal(report.pendingOpen, 0);
    await ledger.close();
  });
});

test('linked transfers succeed or fail together; an open chain is refused', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    const move = (n: number, amount: number, linked: boolean): TransferInput => ({
      id: id(n),
      debitAccountId: 'issuer',
      creditAccountId: 'customer:a:quota',
      amount,
      ledger: quota,
      code: 1,
      linked,
    });
    const spend = (n: number, amount: number, linked: boolean): TransferInput => ({
      id: id(n),
      debitAccountId: 'customer:a:quota',
      creditAccountId: 'stamped',
      amount,
      ledger: quota,
      code: 2,
      linked,
    });
    const results = await ledger.createTransfers([
      move(1, 5, true),
      spend(2, 9, true),
      move(3, 1, false),
      move(4, 2, false),
      move(5, 1, true),
      spend(6, 3, false),
      move(7, 1, true),
    ]);
    assert.deepEqual(
      results.map((r) => r.result),
      [
        'linked_event_failed',
        'exceeds_credits',
        'linked_event_failed',
        'ok',
        'ok',
        'ok',
        'linked_event_chain_open',
      ],
    );
    assert.deepEqual(await balances(ledger, ['customer:a:quota']), { 'customer:a:quota': [0, 3, 0, 3] });
    assert.equal((await ledger.lookupTransfers([id(1), id(2), id(3), id(7)])).length, 0);
    await ledger.close();
  });
});

test('group commit: concurrent requests share transactions and each keeps its own result', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const batches: number[] = [];
    const ledger = makeLedger(storage, { onBatch: (info) => batches.push(info.operations) });
    await setUpAccounts(ledger);
    await ledger.createTransfers([
      {
        id: id(1),
        debitAccountId: 'issuer',
        creditAccountId: 'channel:direct:stock',
        amount: 150,
        ledger: 1,
        code: 1,
      },
    ]);
    batches.length = 0;
    const requests = Array.from({ length: 200 }, (_, index) =>
      ledger.createTransfers([
        {
          id: id(1000 + index),
          debitAccountId: 'channel:direct:stock',
          creditAccountId: index % 2 ? 'customer:a:quota' : 'customer:b:quota',
          amount: 1,
          ledger: 1,
          code: 2,
        },
      ]),
    );
    const results = await Promise.all(requests);
    const codes = results.map((r) => r[0]?.result);
    // Arrival order is commit order: the first 150 fit the stock, the last 50 are refused.
    assert.deepEqual(codes, [...Array(150).fill('ok'), ...Array(50).fill('exceeds_credits')]);
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      200,
    );
    assert.ok(batches.length < 20, `expected few commits for 200 concurrent requests, got ${batches.length}`);
    assert.deepEqual(await balances(ledger, ['channel:direct:stock']), {
      'channel:direct:stock': [0, 150, 0, 150],
    });
    await ledger.close();
  });
});

test('durable: false is answered once committed; durable requests wait for the fsync, the next batch does not', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    let settles = 0;
    let gate: Promise<void> | null = null;
    let openGate: () => void = () => {};
    // The storage's own settle (SQLite: the WAL's fsync), held back while the test keeps a gate shut.
    const gated: Storage = {
      ...storage,
      settle: async () => {
        settles += 1;
        if (gate) await gate;
        await storage.settle();
      },
    };
    const ledger = makeLedger(gated);
    await setUpAccounts(ledger);
    settles = 0;
    gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    // Submitted in one turn of the event loop: one batch.
    const early = ledger.createTransfers([issuedUnit(1)], undefined, { durable: false });
    let lateDone = false;
    const late = ledger.createTransfers([issuedUnit(2)]).then((result) => {
      lateDone = true;
      return result;
    });
    assert.deepEqual(
      (await early).map((r) => r.result),
      ['ok'],
    );
    // While the first batch's fsync is held, the next batch commits and its early request is answered.
    assert.deepEqual(
      (await ledger.createTransfers([issuedUnit(3)], undefined, { durable: false })).map((r) => r.result),
      ['ok'],
    );
    assert.equal(settles, 1, 'only the batch with a durable request waits for an fsync');
    assert.equal(lateDone, false, 'the durable request waits for the fsync');
    openGate();
    gate = null;
    assert.deepEqual(
      (await late).map((r) => r.result),
      ['ok'],
    );
    await ledger.createTransfers([issuedUnit(4)]);
    assert.equal(settles, 2);
    assert.deepEqual(await balances(ledger, ['stamped']), { stamped: [0, 0, 0, 4] });
    await ledger.close();
  });
});

test('the queue is bounded: past its limit requests are refused with LEDGER_OVERLOADED and Retry-After', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage, { batchTransfersMax: 5, queueTransfersMax: 10 });
    await setUpAccounts(ledger);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) => ledger.createTransfers([issuedUnit(index + 1)])),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(refused.length, 2);
    for (const outcome of refused) {
      const reason = (outcome as PromiseRejectedResult).reason;
      assert.ok(isBubuhError(reason));
      assert.equal(reason.code, 'LEDGER_OVERLOADED');
      assert.equal(reason.retryAfterSeconds, 1);
    }
    const tooBig = await ledger
      .createTransfers(Array.from({ length: 6 }, (_, i) => issuedUnit(100 + i)))
      .catch((e) => e);
    assert.equal(tooBig.code, 'LEDGER_REQUEST_INVALID');
    await ledger.close();
    const closed = await ledger.createTransfers([issuedUnit(200)]).catch((e) => e);
    assert.equal(closed.code, 'LEDGER_CLOSED');
  });
});

test('history: an account’s transfers newest first, paged by a transfer-id cursor', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    for (let n = 1; n <= 5; n += 1) {
      await ledger.createTransfers([
        {
          id: id(n),
          debitAccountId: 'issuer',
          creditAccountId: 'customer:a:quota',
          amount: n,
          ledger: 1,
          code: 1,
        },
      ]);
    }
    await ledger.createTransfers([
      {
        id: id(6),
        debitAccountId: 'customer:a:quota',
        creditAccountId: 'stamped',
        amount: 1,
        ledger: 1,
        code: 2,
      },
    ]);
    const page1 = await ledger.getAccountTransfers('customer:a:quota', { limit: 4 });
    assert.deepEqual(
      page1.map((transfer) => transfer.id),
      [id(6), id(5), id(4), id(3)],
    );
    const page2 = await ledger.getAccountTransfers('customer:a:quota', { limit: 4, after: page1[3]!.id });
    assert.deepEqual(
      page2.map((transfer) => transfer.id),
      [id(2), id(1)],
    );
    assert.deepEqual(await ledger.getAccountTransfers('customer:a:quota', { after: id(1) }), []);
    const issuer = await ledger.getAccountTransfers('issuer', { limit: 1000 });
    assert.deepEqual(
      issuer.map((transfer) => transfer.id),
      [id(5), id(4), id(3), id(2), id(1)],
    );
    assert.deepEqual(await ledger.getAccountTransfers('nobody'), []);
    await ledger.close();
  });
});

test('ledger check detects a balance that does not match its transfers', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    await ledger.createTransfers([
      {
        id: id(1),
        debitAccountId: 'issuer',
        creditAccountId: 'customer:a:quota',
        amount: 2,
        ledger: 1,
        code: 1,
      },
    ]);
    assert.equal((await checkLedger(storage)).ok, true);
    await sql`update ledger_accounts set credits_posted = 3 where id = 'customer:a:quota'`.execute(
      storage.db,
    );
    const report = await checkLedger(storage);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems, [
      'account customer:a:quota: stored creditsPosted 3, transfers say 2',
      'posted debits 2 != posted credits 3',
    ]);
    await ledger.close();
  });
});

test('attachments are written with their transfers only when every transfer is new and ok', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = makeLedger(storage);
    await setUpAccounts(ledger);
    const row = (serial: string, transfer: string) => ({
      table: 'stamp_registry' as const,
      row: {
        serial,
        content_digest: 'ab'.repeat(32),
        transfer_id: transfer,
        signer_fingerprint: 'cd'.repeat(32),
        page: 1,
        stamped_at: 1_700_000_000_000,
        status: 'valid',
      },
    });
    const move = (n: number, amount: number): TransferInput => ({
      id: id(n),
      debitAccountId: 'issuer',
      creditAccountId: 'customer:a:quota',
      amount,
      ledger: 1,
      code: 1,
    });
    const spend = (n: number): TransferInput => ({
      id: id(n),
      debitAccountId: 'customer:a:quota',
      creditAccountId: 'stamped',
      amount: 1,
      ledger: 1,
      code: 10,
    });
    assert.deepEqual(
      (await ledger.createTransfers([move(1, 1)], [row('SERIALA', id(1))])).map((r) => r.result),
      ['ok'],
    );
    // The same key again: the whole request is refused and nothing moves.
    assert.deepEqual(
      (await ledger.createTransfers([move(2, 1)], [row('SERIALA', id(2))])).map((r) => r.result),
      ['attachment_exists'],
    );
    // A failing transfer writes no attachment; an idempotent retry writes none twice.
    assert.deepEqual(
      (await ledger.createTransfers([spend(3), spend(4)], [row('SERIALB', id(3))])).map((r) => r.result),
      ['ok', 'exceeds_credits'],
    );
    assert.deepEqual(
      (await ledger.createTransfers([move(1, 1)], [row('SERIALC', id(1))])).map((r) => r.result),
      ['exists'],
    );
    // Two requests in one group commit naming the same key: the first wins.
    const [first, second] = await Promise.all([
      ledger.createTransfers([move(5, 1)], [row('SERIALD', id(5))]),
      ledger.createTransfers([move(6, 1)], [row('SERIALD', id(6))]),
    ]);
    assert.deepEqual([first?.[0]?.result, second?.[0]?.result], ['ok', 'attachment_exists']);
    const registry = await storage.db
      .selectFrom('stamp_registry')
      .select(['serial', 'transfer_id'])
      .orderBy('serial')
      .execute();
    assert.deepEqual(registry, [
      { serial: 'SERIALA', transfer_id: id(1) },
      { serial: 'SERIALD', transfer_id: id(5) },
    ]);
    assert.deepEqual(await balances(ledger, ['customer:a:quota']), { 'customer:a:quota': [0, 1, 0, 2] });
    await ledger.close();
  });
});
