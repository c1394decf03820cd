/**
 * `bubuh admin mint --quantity N` (issuer → operator stock) and `bubuh admin allocate --channel ID
 * --quantity N [--fee RUPIAH]` (operator stock → the channel's stock; the channel is created with the
 * fee per unit if it does not exist). Both are single ledger transfers.
 */
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { allocateStock, mintStock } from './stock.js';

export interface AdminCommandFlags {
  readonly json: boolean;
  readonly options: Readonly<Record<string, string | undefined>>;
}

function wholeNumber(name: string, text: string | undefined): number {
  if (text === undefined) throw new BubuhError('REQUEST_INVALID', { problem: `--${name} is required` });
  if (!/^\d{1,9}$/.test(text.trim())) {
    throw new BubuhError('REQUEST_INVALID', { problem: `--${name} must be a whole number, not "${text}"` });
  }
  return Number(text.trim());
}

export async function adminMint(config: Config, flags: AdminCommandFlags): Promise<number> {
  const quantity = wholeNumber('quantity', flags.options['quantity']);
  const node = await createNode(config, createLogger('silent'));
  try {
    const moved = await mintStock(node.ledger, quantity);
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ minted: quantity, transfer_id: moved.transferId, operator_stock: moved.available })}\n`
        : `minted ${quantity} e-meterai into operator:stock (transfer ${moved.transferId}); operator stock now ${moved.available}\n`,
    );
    return 0;
  } finally {
    await node.close();
  }
}

export async function adminAllocate(config: Config, flags: AdminCommandFlags): Promise<number> {
  const channel = flags.options['channel'];
  if (!channel) throw new BubuhError('REQUEST_INVALID', { problem: '--channel is required' });
  const quantity = wholeNumber('quantity', flags.options['quantity']);
  const fee = flags.options['fee'];
  const node = await createNode(config, createLogger('silent'));
  try {
    const moved = await allocateStock(node.ledger, node.storage, channel, quantity, {
      ...(fee !== undefined ? { feeRupiah: wholeNumber('fee', fee) } : {}),
    });
    const feeRupiah = Number(moved.channel.fee_rupiah);
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ channel, allocated: quantity, transfer_id: moved.transferId, channel_stock: moved.available, fee_rupiah: feeRupiah })}\n`
        : `allocated ${quantity} e-meterai to channel ${channel} (transfer ${moved.transferId}); its stock now ${moved.available}, fee Rp${feeRupiah} per unit\n`,
    );
    return 0;
  } finally {
    await node.close();
  }
}
