/**
 * Stock: the issuer mints units into the operator's stock, the operator allocates them to a sales
 * channel's stock, and customers buy from a channel. Every movement is a ledger transfer, so `bubuh
 * ledger check` covers stock exactly as it covers quota.
 */
import { BubuhError } from '../errors.js';
import { accountCodes, accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Storage } from '../storage/database.js';
import type { ChannelsTable } from '../storage/schema.js';
import { timeOrderedId } from '../stamping/random-pool.js';

export const directChannel = 'direct';
/** Most units one mint or allocation moves. */
export const stockMovementUnitsMax = 10_000_000;
/** Development stock of the direct channel: topped up at start-up when below this. */
export const developmentStockUnits = 100_000;

const channelIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function available(account: {
  creditsPosted: number;
  debitsPosted: number;
  debitsPending: number;
}): number {
  return account.creditsPosted - account.debitsPosted - account.debitsPending;
}

/** Creates the issuer and operator stock accounts (idempotent). */
export async function ensureStockAccounts(ledger: Ledger, channels: readonly string[] = []): Promise<void> {
  const results = await ledger.createAccounts([
    { id: accountIds.issuer, ledger: quotaLedger, code: accountCodes.issuer },
    {
      id: accountIds.operatorStock,
      ledger: quotaLedger,
      code: accountCodes.operatorStock,
      debitsMustNotExceedCredits: true,
    },
    ...channels.map((channel) => ({
      id: accountIds.channelStock(channel),
      ledger: quotaLedger,
      code: accountCodes.channelStock,
      debitsMustNotExceedCredits: true,
    })),
  ]);
  for (const result of results) {
    if (result.result !== 'ok' && result.result !== 'exists') {
      throw new Error(`stock account ${result.id} refused by the ledger: ${result.result}`);
    }
  }
}

function checkQuantity(quantity: number): void {
  if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > stockMovementUnitsMax) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: `--quantity must be a whole number from 1 to ${stockMovementUnitsMax}, not ${quantity}`,
    });
  }
}

async function move(
  ledger: Ledger,
  from: string,
  to: string,
  quantity: number,
  code: number,
): Promise<{ transferId: string; available: number }> {
  checkQuantity(quantity);
  const transferId = timeOrderedId();
  const [result] = await ledger.createTransfers([
    {
      id: transferId,
      debitAccountId: from,
      creditAccountId: to,
      amount: quantity,
      ledger: quotaLedger,
      code,
    },
  ]);
  if (result?.result === 'exceeds_credits') {
    const [account] = await ledger.lookupAccounts([from]);
    throw new BubuhError('STOCK_INSUFFICIENT', {
      account: from,
      quantity,
      available: account ? available(account) : 0,
    });
  }
  if (result?.result !== 'ok') throw new Error(`stock transfer ${from} -> ${to} refused: ${result?.result}`);
  const [target] = await ledger.lookupAccounts([to]);
  return { transferId, available: target ? available(target) : 0 };
}

/** Issuer → operator stock. */
export async function mintStock(ledger: Ledger, quantity: number) {
  await ensureStockAccounts(ledger);
  return move(ledger, accountIds.issuer, accountIds.operatorStock, quantity, transferCodes.mint);
}

export async function findChannel(storage: Storage, channel: string): Promise<ChannelsTable | undefined> {
  return storage.db.selectFrom('channels').selectAll().where('id', '=', channel).executeTakeFirst();
}

/** Creates a channel if it does not exist; returns it. `feeRupiah` applies only to a new channel. */
export async function ensureChannel(
  storage: Storage,
  channel: string,
  options: { feeRupiah?: number; name?: string; now?: number } = {},
): Promise<ChannelsTable> {
  if (!channelIdPattern.test(channel)) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: `channel id "${channel}" must be 1-64 of a-z, 0-9, ., _ and - (starting with a letter or digit)`,
    });
  }
  const fee = options.feeRupiah ?? 0;
  if (!Number.isSafeInteger(fee) || fee < 0 || fee > 1_000_000) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: `--fee must be whole rupiah from 0 to 1000000, not ${fee}`,
    });
  }
  await storage.db
    .insertInto('channels')
    .values({
      id: channel,
      name: options.name ?? channel,
      fee_rupiah: fee,
      created_at: options.now ?? Date.now(),
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
  const row = await findChannel(storage, channel);
  if (!row) throw new Error(`channel ${channel} vanished after insert`);
  return row;
}

/** Operator stock → channel stock; the channel is created (with `feeRupiah`) if it does not exist. */
export async function allocateStock(
  ledger: Ledger,
  storage: Storage,
  channel: string,
  quantity: number,
  options: { feeRupiah?: number } = {},
) {
  checkQuantity(quantity);
  const row = await ensureChannel(storage, channel, options);
  await ensureStockAccounts(ledger, [channel]);
  const moved = await move(
    ledger,
    accountIds.operatorStock,
    accountIds.channelStock(channel),
    quantity,
    transferCodes.allocate,
  );
  return { ...moved, channel: row };
}

/**
 * Development mode stocks the direct channel: when it holds fewer than `developmentStockUnits`, the
 * difference is minted and allocated (two ledger transfers). Returns the units added (0 if none).
 */
export async function provisionDevelopmentStock(ledger: Ledger, storage: Storage): Promise<number> {
  await ensureStockAccounts(ledger, [directChannel]);
  const [account] = await ledger.lookupAccounts([accountIds.channelStock(directChannel)]);
  const missing = developmentStockUnits - (account ? available(account) : 0);
  if (missing <= 0) return 0;
  await mintStock(ledger, missing);
  await allocateStock(ledger, storage, directChannel, missing);
  return missing;
}
