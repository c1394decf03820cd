/**
 * The chart of accounts and transfer codes of the e-meterai quota ledger (DESIGN §6). One unit on
 * ledger `quotaLedger` is one e-meterai.
 */
export const quotaLedger = 1;

export const accountCodes = Object.freeze({
  issuer: 1,
  operatorStock: 2,
  channelStock: 3,
  customerQuota: 4,
  stamped: 5,
  refunded: 6,
});

export const transferCodes = Object.freeze({
  mint: 1,
  allocate: 2,
  sale: 3,
  stamp: 10,
  moneyRefund: 20,
});

export const accountIds = Object.freeze({
  issuer: 'issuer',
  operatorStock: 'operator:stock',
  stamped: 'stamped',
  refunded: 'refunded',
  channelStock: (channel: string) => `channel:${channel}:stock`,
  customerQuota: (customer: string) => `customer:${customer}:quota`,
});

/**
 * The accounts every node needs before its first request: the issuer (may go negative: what it
 * minted), operator stock, and the `stamped` and `refunded` sinks. Created idempotently at start-up.
 */
export const systemAccounts = Object.freeze([
  { id: accountIds.issuer, ledger: quotaLedger, code: accountCodes.issuer },
  {
    id: accountIds.operatorStock,
    ledger: quotaLedger,
    code: accountCodes.operatorStock,
    debitsMustNotExceedCredits: true,
  },
  { id: accountIds.stamped, ledger: quotaLedger, code: accountCodes.stamped },
  { id: accountIds.refunded, ledger: quotaLedger, code: accountCodes.refunded },
]);
