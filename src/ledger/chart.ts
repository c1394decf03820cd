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
