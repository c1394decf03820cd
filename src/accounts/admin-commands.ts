/**
 * `bubuh admin role --phone P --add ROLE | --remove ROLE`: grants or withdraws a role of an existing
 * account (accounts are created by their owner's first sign-in). Prints the roles after the change.
 */
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { accountStoreOf } from './authenticate.js';
import { normalisePhone } from './phone.js';
import { roleFrom } from './roles.js';

export interface RoleCommandFlags {
  readonly json: boolean;
  readonly options: Readonly<Record<string, string | undefined>>;
}

export async function adminRole(config: Config, flags: RoleCommandFlags): Promise<number> {
  const { phone: phoneText, add, remove } = flags.options;
  if (phoneText === undefined) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'name the account: bubuh admin role --phone P --add ROLE',
    });
  }
  if ((add === undefined) === (remove === undefined)) {
    throw new BubuhError('REQUEST_INVALID', { problem: 'give exactly one of --add ROLE or --remove ROLE' });
  }
  const phone = normalisePhone(phoneText);
  const role = roleFrom((add ?? remove)!);
  const node = await createNode(config, createLogger('silent'));
  try {
    const account = await accountStoreOf(node).changeRoles(
      phone,
      add !== undefined ? [role] : [],
      remove !== undefined ? [role] : [],
    );
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ id: account.id, phone: account.phone, roles: account.roles })}\n`
        : `${account.phone} (account ${account.id}): roles ${account.roles.join(', ') || '(none)'}\n`,
    );
    return 0;
  } finally {
    await node.close();
  }
}
