/**
 * Tests and benchmarks: gives a customer `units` of quota straight from the issuer (a mint transfer),
 * skipping the purchase. Throws when the ledger refuses.
 */
import { randomBytes } from 'node:crypto';
import { accountIds, quotaLedger, transferCodes } from '../ledger/chart.js';
import type { Ledger } from '../ledger/ledger.js';

export async function mintQuota(ledger: Ledger, customerAccountId: string, units: number): Promise<void> {
  const [result] = await ledger.createTransfers([
    {
      id: randomBytes(16).toString('hex'),
      debitAccountId: accountIds.issuer,
      creditAccountId: accountIds.customerQuota(customerAccountId),
      amount: units,
      ledger: quotaLedger,
      code: transferCodes.mint,
    },
  ]);
  if (result?.result !== 'ok')
    throw new Error(`minting ${units} units of quota was refused: ${result?.result}`);
}
