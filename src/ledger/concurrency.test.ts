/**
 * Contention: 64 concurrent clients buy from one hot channel-stock account through three independent
 * ledger instances (three "nodes", each with its own connections) on the same database. The stock
 * covers fewer units than are asked for, so exactly `stock` units must be sold: no lost update, no
 * negative balance where forbidden, and conservation holds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStorage, type Storage } from '../storage/database.js';
import { eachBackend } from '../testing/backends.js';
import { checkLedger } from './check.js';
import { Ledger } from './ledger.js';
import { isTransferCommitted, type TransferInput } from './types.js';

const clients = 64;
const purchasesPerClient = 25;
const stock = 1000;
const nodes = 3;

test('64 clients on one hot account across 3 nodes: exactly the stock is sold, nothing lost', async (t) => {
  await eachBackend(t, async (backend) => {
    const extra: Storage[] = [];
    for (let index = 1; index < nodes; index += 1)
      extra.push(await openStorage({ ...backend.openOptions, postgresPoolMax: 4 }));
    const ledgers = [backend.storage, ...extra].map(
      (storage) => new Ledger(storage, { batchTransfersMax: 256, queueTransfersMax: 4096 }),
    );
    const [first] = ledgers;
    const accounts = [
      { id: 'issuer', ledger: 1, code: 1 },
      { id: 'channel:hot:stock', ledger: 1, code: 2, debitsMustNotExceedCredits: true },
      { id: 'stamped', ledger: 1, code: 4 },
      ...Array.from({ length: clients }, (_, index) => ({
        id: `customer:${index}:quota`,
        ledger: 1,
        code: 3,
        debitsMustNotExceedCredits: true,
      })),
    ];
    await first!.createAccounts(accounts);
    const mint = await first!.createTransfers([
      {
        id: 'f'.repeat(32),
        debitAccountId: 'issuer',
        creditAccountId: 'channel:hot:stock',
        amount: stock,
        ledger: 1,
        code: 1,
      },
    ]);
    assert.equal(mint[0]?.result, 'ok');

    let sold = 0;
    let refused = 0;
    const client = async (index: number) => {
      const ledger = ledgers[index % nodes]!;
      for (let purchase = 0; purchase < purchasesPerClient; purchase += 1) {
        const id = (index * 1000 + purchase + 1).toString(16).padStart(32, '0');
        // Every third purchase reserves then posts, the way an order holds stock during payment.
        const transfers: TransferInput[] =
          purchase % 3 === 0
            ? [
                {
                  id,
                  kind: 'pending',
                  debitAccountId: 'channel:hot:stock',
                  creditAccountId: `customer:${index}:quota`,
                  amount: 1,
                  ledger: 1,
                  code: 2,
                  timeoutSeconds: 600,
                },
              ]
            : [
                {
                  id,
                  debitAccountId: 'channel:hot:stock',
                  creditAccountId: `customer:${index}:quota`,
                  amount: 1,
                  ledger: 1,
                  code: 2,
                },
              ];
        const [result] = await ledger.createTransfers(transfers);
        if (result?.result === 'exceeds_credits') {
          refused += 1;
          continue;
        }
        assert.ok(result && isTransferCommitted(result), `unexpected ${result?.result}`);
        if (purchase % 3 === 0) {
          const postId = `e${id.slice(1)}`;
          const [posted] = await ledger.createTransfers([
            { id: postId, kind: 'post_pending', pendingId: id },
          ]);
          assert.equal(posted?.result, 'ok');
        }
        sold += 1;
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));

    assert.equal(sold, stock);
    assert.equal(refused, clients * purchasesPerClient - stock);
    const [hot] = await first!.lookupAccounts(['channel:hot:stock']);
    assert.deepEqual(
      [hot?.debitsPending, hot?.debitsPosted, hot?.creditsPending, hot?.creditsPosted],
      [0, stock, 0, stock],
    );
    const customers = await first!.lookupAccounts(accounts.filter((a) => a.code === 3).map((a) => a.id));
    assert.equal(
      customers.reduce((sum, account) => sum + account.creditsPosted, 0),
      stock,
    );
    const report = await checkLedger(backend.storage);
    assert.deepEqual(report.problems, []);
    assert.equal(report.pendingOpen, 0);
    for (const ledger of ledgers) await ledger.close();
    for (const storage of extra) await storage.close();
  });
});
