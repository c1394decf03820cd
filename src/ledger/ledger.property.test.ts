/**
 * Property test: random sequences of ledger operations — account creation, transfers of every kind,
 * linked chains, concurrent bursts (group commit), clock ticks, expiry sweeps, idempotent retries —
 * run through the real ledger on each backend and through the reference model. Every result and every
 * balance must match exactly, and `ledger check` must pass after every sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { eachBackend } from '../testing/backends.js';
import { checkLedger } from './check.js';
import { Ledger } from './ledger.js';
import { ReferenceLedger } from './reference-model.js';
import type { AccountInput, TransferInput, TransferKind } from './types.js';

const accountCount = 5;
const transferIdCount = 24;

const accountSpec = fc.record({
  index: fc.nat(accountCount - 1),
  ledger: fc.constantFrom(1, 1, 1, 2),
  code: fc.constantFrom(1, 2),
  limit: fc.constantFrom('none', 'none', 'debits', 'credits'),
});

const transferSpec = fc.record({
  idIndex: fc.nat(transferIdCount - 1),
  kind: fc.constantFrom<TransferKind>(
    'posted',
    'posted',
    'pending',
    'pending',
    'post_pending',
    'void_pending',
  ),
  debit: fc.nat(accountCount),
  credit: fc.nat(accountCount),
  amount: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 5 }),
  pendingIndex: fc.nat(transferIdCount - 1),
  timeout: fc.constantFrom(0, 0, 1, 2, 5),
  linked: fc.boolean(),
  ledger: fc.constantFrom(1, 1, 1, 2),
  withAccounts: fc.boolean(),
});

type TransferSpec = typeof transferSpec extends fc.Arbitrary<infer T> ? T : never;
type AccountSpec = typeof accountSpec extends fc.Arbitrary<infer T> ? T : never;

const operation = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('accounts' as const),
      specs: fc.array(accountSpec, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('request' as const),
      transfers: fc.array(transferSpec, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('burst' as const),
      requests: fc.array(fc.array(transferSpec, { minLength: 1, maxLength: 3 }), {
        minLength: 2,
        maxLength: 6,
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('expire' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('retry' as const), which: fc.nat(50) }) },
);

const sequence = fc.array(operation, { minLength: 4, maxLength: 24 });

function namer(run: number) {
  const prefix = run.toString(16).padStart(8, '0');
  return {
    account: (index: number) => `r${run}-a${index}`,
    transfer: (index: number) => `${prefix}${(index + 1).toString(16).padStart(24, '0')}`,
  };
}

function toAccount(run: number, spec: AccountSpec): AccountInput {
  return {
    id: namer(run).account(spec.index),
    ledger: spec.ledger,
    code: spec.code,
    debitsMustNotExceedCredits: spec.limit === 'debits',
    creditsMustNotExceedDebits: spec.limit === 'credits',
  };
}

function toTransfer(run: number, spec: TransferSpec): TransferInput {
  const names = namer(run);
  const resolves = spec.kind === 'post_pending' || spec.kind === 'void_pending';
  const input: Record<string, unknown> = {
    id: names.transfer(spec.idIndex),
    kind: spec.kind,
    linked: spec.linked,
  };
  if (!resolves || spec.withAccounts) {
    input['debitAccountId'] = names.account(spec.debit);
    input['creditAccountId'] = names.account(spec.credit);
    input['ledger'] = spec.ledger;
    input['code'] = 1;
  }
  if (spec.amount !== null) input['amount'] = spec.amount;
  if (resolves) input['pendingId'] = names.transfer(spec.pendingIndex);
  if (spec.kind === 'pending') input['timeoutSeconds'] = spec.timeout;
  return input as unknown as TransferInput;
}

test('property: the ledger matches the reference model on every backend', async (t) => {
  await eachBackend(t, async ({ name, storage }) => {
    let run = 0;
    const runs = Number(process.env['LEDGER_PROPERTY_RUNS'] ?? (name === 'sqlite' ? 120 : 60));
    await fc.assert(
      fc.asyncProperty(sequence, async (operations) => {
        const trace: string[] = [];
        try {
          run += 1;
          let now = 1_700_000_000_000;
          const ledger = new Ledger(storage, {
            batchTransfersMax: 64,
            queueTransfersMax: 1024,
            clock: () => now,
          });
          const model = new ReferenceLedger();
          const history: TransferInput[][] = [];
          for (const op of operations) {
            trace.push(JSON.stringify(op));
            if (op.type === 'accounts') {
              const inputs = op.specs.map((spec) => toAccount(run, spec));
              const real = await ledger.createAccounts(inputs);
              assert.deepEqual(
                real.map((r) => r.result),
                inputs.map((input) => model.createAccount(input)),
              );
            } else if (op.type === 'request' || op.type === 'retry') {
              const inputs =
                op.type === 'request'
                  ? op.transfers.map((spec) => toTransfer(run, spec))
                  : history[op.which % Math.max(history.length, 1)];
              if (!inputs) continue;
              history.push(inputs);
              const real = await ledger.createTransfers(inputs);
              trace.push(`  ${JSON.stringify(inputs)} => ${real.map((r) => r.result).join(',')}`);
              assert.deepEqual(
                real.map((r) => r.result),
                model.createTransfers(inputs, now),
              );
            } else if (op.type === 'burst') {
              const requests = op.requests.map((specs) => specs.map((spec) => toTransfer(run, spec)));
              history.push(...requests);
              const real = await Promise.all(requests.map((inputs) => ledger.createTransfers(inputs)));
              trace.push(
                `  ${JSON.stringify(requests)} => ${JSON.stringify(real.map((rs) => rs.map((r) => r.result)))}`,
              );
              const expected = requests.map((inputs) => model.createTransfers(inputs, now));
              assert.deepEqual(
                real.map((results) => results.map((r) => r.result)),
                expected,
              );
            } else if (op.type === 'tick') {
              now += op.ms;
            } else {
              // Runs share one database; earlier runs' reservations expire too, so keep this run's own.
              const prefix = namer(run).transfer(0).slice(0, 8);
              const expired = (await ledger.expirePending(10_000))
                .filter((id) => id.startsWith(prefix))
                .sort();
              assert.deepEqual(expired, model.expire(now));
            }
          }
          const expectedBalances = model.balances();
          const accounts = await ledger.lookupAccounts(Object.keys(expectedBalances));
          const realBalances = Object.fromEntries(
            accounts.map((a) => [a.id, [a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted]]),
          );
          assert.deepEqual(realBalances, expectedBalances);
          // Each account's history chain lists exactly the transfers touching it, newest first.
          for (const accountId of Object.keys(expectedBalances)) {
            const chain = await ledger.getAccountTransfers(accountId, { limit: 1000 });
            const touching = await storage.db
              .selectFrom('ledger_transfers')
              .select('id')
              .where((eb) =>
                eb.or([eb('debit_account_id', '=', accountId), eb('credit_account_id', '=', accountId)]),
              )
              .orderBy('timestamp', 'desc')
              .execute();
            assert.deepEqual(
              chain.map((transfer) => transfer.id),
              touching.map((row) => row.id),
            );
          }
          await ledger.close();
        } catch (error) {
          // The operations and the real results so far make a failure readable without a debugger.
          throw new Error(`${(error as Error).message}\nrun ${run} trace:\n${trace.join('\n')}`, {
            cause: error,
          });
        }
      }),
      {
        numRuns: runs,
        ...(process.env['LEDGER_PROPERTY_SEED']
          ? {
              seed: Number(process.env['LEDGER_PROPERTY_SEED']),
              path: process.env['LEDGER_PROPERTY_PATH'],
              endOnFailure: true,
            }
          : {}),
      },
    );
    const report = await checkLedger(storage);
    assert.deepEqual(report.problems, []);
  });
});
