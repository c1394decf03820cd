/**
 * Child process for the crash test: opens the ledger named in BUBUH_CRASH_STORAGE (JSON storage
 * options), sweeps expired reservations as a node does at start-up, then runs concurrent clients
 * forever, printing `ack <id> <result>` for every transfer only after the ledger acknowledged it.
 * The parent kills it with SIGKILL at random moments.
 */
import { openStorage } from '../storage/database.js';
import { Ledger } from './ledger.js';

const options = JSON.parse(process.env['BUBUH_CRASH_STORAGE'] ?? '{}');
const round = Number(process.env['BUBUH_CRASH_ROUND'] ?? '0');
const clients = 16;

const storage = await openStorage(options);
const ledger = new Ledger(storage, { batchTransfersMax: 256, queueTransfersMax: 4096 });
await ledger.createAccounts([
  { id: 'issuer', ledger: 1, code: 1 },
  { id: 'channel:crash:stock', ledger: 1, code: 2, debitsMustNotExceedCredits: true },
  { id: 'customer:crash:quota', ledger: 1, code: 3, debitsMustNotExceedCredits: true },
  { id: 'stamped', ledger: 1, code: 4 },
]);
await ledger.expirePending(100_000);
process.stdout.write('ready\n');

const hex = (value: number) => value.toString(16).padStart(32, '0');

async function client(index: number): Promise<void> {
  for (let step = 0; step < 1_000_000; step += 1) {
    const base = (round * 100 + index) * 10_000_000 + step * 4;
    const [minted, reserved] = await ledger.createTransfers([
      {
        id: hex(base + 1),
        debitAccountId: 'issuer',
        creditAccountId: 'customer:crash:quota',
        amount: 2,
        ledger: 1,
        code: 1,
      },
      {
        id: hex(base + 2),
        kind: 'pending',
        debitAccountId: 'customer:crash:quota',
        creditAccountId: 'stamped',
        amount: 1,
        ledger: 1,
        code: 2,
        timeoutSeconds: 1,
      },
    ]);
    process.stdout.write(
      `ack ${hex(base + 1)} ${minted?.result}\nack ${hex(base + 2)} ${reserved?.result}\n`,
    );
    // Half of the reservations are posted; the rest are left to expire, as after a crashed stamp.
    if (step % 2 === 0) {
      const [posted] = await ledger.createTransfers([
        { id: hex(base + 3), kind: 'post_pending', pendingId: hex(base + 2) },
      ]);
      process.stdout.write(`ack ${hex(base + 3)} ${posted?.result}\n`);
    }
  }
}

await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
