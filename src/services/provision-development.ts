/**
 * Development mode funds itself: the data directory gets an issuer, a `stamped` sink and one
 * development quota account, topped up from the issuer whenever it runs dry. Every unit still moves by
 * a ledger transfer, so `bubuh ledger check` holds in development exactly as in production.
 */
import { randomBytes } from 'node:crypto';
import { accountCodes, accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';

export const developmentCustomer = 'development';
export const developmentTopUpUnits = 1000;

export interface DevelopmentQuota {
  readonly accountId: string;
  /** Units minted into the account by this call (0 when it still had quota). */
  readonly minted: number;
  /** Units available after this call. */
  readonly available: number;
}

export async function provisionDevelopmentQuota(ledger: Ledger): Promise<DevelopmentQuota> {
  const accountId = accountIds.customerQuota(developmentCustomer);
  await ledger.createAccounts([
    { id: accountIds.issuer, ledger: quotaLedger, code: accountCodes.issuer },
    { id: accountIds.stamped, ledger: quotaLedger, code: accountCodes.stamped },
    {
      id: accountId,
      ledger: quotaLedger,
      code: accountCodes.customerQuota,
      debitsMustNotExceedCredits: true,
    },
  ]);
  const [account] = await ledger.lookupAccounts([accountId]);
  const available = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0;
  if (available >= 1) return { accountId, minted: 0, available };
  const [minted] = await ledger.createTransfers([
    {
      id: randomBytes(16).toString('hex'),
      debitAccountId: accountIds.issuer,
      creditAccountId: accountId,
      amount: developmentTopUpUnits,
      ledger: quotaLedger,
      code: transferCodes.mint,
    },
  ]);
  if (minted?.result !== 'ok') throw new Error(`development top-up refused: ${minted?.result}`);
  return { accountId, minted: developmentTopUpUnits, available: available + developmentTopUpUnits };
}
