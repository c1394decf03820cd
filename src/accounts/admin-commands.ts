/**
 * Account commands of operators. `bubuh admin role --phone P --add ROLE | --remove ROLE` grants or
 * withdraws a role of an existing account (accounts are created by their owner's first sign-in) and
 * prints the roles after the change; `bubuh accounts api-key …` creates and revokes API keys.
 */
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import { createLogger } from '../logger.js';
import { type BubuhNode, createNode } from '../node.js';
import { accountStoreOf, apiKeyStoreOf } from './authenticate.js';
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

/**
 * `bubuh accounts api-key create --phone P --name N` prints a new key of that account once (it is
 * never stored and cannot be shown again); `bubuh accounts api-key revoke ID` revokes one by its id.
 */
export async function accountsApiKey(config: Config, flags: ApiKeyCommandFlags): Promise<number> {
  const action = flags.positionals[2];
  if (action !== 'create' && action !== 'revoke') {
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'say what to do: bubuh accounts api-key create --phone P --name N, or revoke ID',
    });
  }
  const node = await createNode(config, createLogger('silent'));
  try {
    return action === 'create' ? await createApiKey(node, flags) : await revokeApiKey(node, flags);
  } finally {
    await node.close();
  }
}

export interface ApiKeyCommandFlags extends RoleCommandFlags {
  readonly positionals: readonly string[];
}

async function createApiKey(node: BubuhNode, flags: ApiKeyCommandFlags): Promise<number> {
  const { phone: phoneText, name } = flags.options;
  if (phoneText === undefined || name === undefined) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'name the account and the key: bubuh accounts api-key create --phone P --name N',
    });
  }
  const phone = normalisePhone(phoneText);
  const account = await accountStoreOf(node).findByPhone(phone);
  if (!account) throw new BubuhError('ACCOUNT_NOT_FOUND', { phone });
  const { key, apiKey } = await apiKeyStoreOf(node).create(account.id, name);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ id: apiKey.id, account_id: account.id, phone: account.phone, name: apiKey.name, key })}\n`
      : [
          `API key ${apiKey.id} "${apiKey.name}" for ${account.phone} (account ${account.id}):`,
          `  ${key}`,
          'This is the only time the key is shown; store it now. Send it as "Authorization: Bearer <key>".',
          '',
        ].join('\n'),
  );
  return 0;
}

async function revokeApiKey(node: BubuhNode, flags: ApiKeyCommandFlags): Promise<number> {
  const id = flags.positionals[3];
  if (id === undefined) {
    throw new BubuhError('REQUEST_INVALID', { problem: 'name the key: bubuh accounts api-key revoke ID' });
  }
  const revoked = await apiKeyStoreOf(node).revoke(id);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ id: revoked.id, account_id: revoked.accountId, name: revoked.name, revoked_at: new Date(revoked.revokedAt ?? 0).toISOString() })}\n`
      : `API key ${revoked.id} "${revoked.name}" of account ${revoked.accountId} revoked\n`,
  );
  return 0;
}
