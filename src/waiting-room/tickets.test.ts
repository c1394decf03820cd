import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { cookieValue, developmentKeyFile, serializeCookie, TicketSigner, ticketSecretOf } from './tickets.js';

const key = 'k'.repeat(32);
const client = 'AAAAAAAAAAAAAAAAAAAAAA';
const other = 'BBBBBBBBBBBBBBBBBBBBBB';
const issuedAt = Date.UTC(2026, 11, 1);

test('a ticket verifies with its own client id and names the visitor of that client', () => {
  const signer = new TicketSigner(key);
  const ticket = signer.issue(client, issuedAt);
  const visitor = signer.visitorOf(client);
  assert.match(visitor, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(ticket.split('.')[0], visitor);
  assert.equal(ticket.split('.')[1], (issuedAt / 1000).toString(36));
  assert.equal(signer.verify(ticket, client), visitor);
  // The same client always has the same visitor (a reload keeps its place); another has another.
  assert.equal(new TicketSigner(key).visitorOf(client), visitor);
  assert.notEqual(signer.visitorOf(other), visitor);
});

test('a ticket with another client cookie, another key or one changed character is refused', () => {
  const signer = new TicketSigner(key);
  const ticket = signer.issue(client, issuedAt);
  assert.equal(signer.verify(ticket, other), null);
  assert.equal(new TicketSigner('j'.repeat(32)).verify(ticket, client), null);
  const [visitor, issued, mac] = ticket.split('.') as [string, string, string];
  const flip = (text: string, index: number): string =>
    text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
  assert.equal(signer.verify(`${flip(visitor, 0)}.${issued}.${mac}`, client), null);
  assert.equal(signer.verify(`${visitor}.${(issuedAt / 1000 + 1).toString(36)}.${mac}`, client), null);
  assert.equal(signer.verify(`${visitor}.${issued}.${flip(mac, 5)}`, client), null);
  // The last character holds 2 unused bits: another spelling of the same bytes is refused too.
  const last = mac.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
  assert.deepEqual(Buffer.from(mac.slice(0, -1) + twin, 'base64url'), Buffer.from(mac, 'base64url'));
  assert.equal(signer.verify(`${visitor}.${issued}.${mac.slice(0, -1)}${twin}`, client), null);
  // A ticket of another client, re-signed by nobody, cannot be moved to this one.
  const foreign = signer.issue(other, issuedAt);
  assert.equal(signer.verify(foreign, client), null);
  for (const junk of ['', '.', 'a.b.c', `${ticket}.x`, 'x'.repeat(200)])
    assert.equal(signer.verify(junk, client), null);
  assert.throws(() => new TicketSigner('short'), /at least 32 bytes/);
});

test('development keeps its ticket key in the data directory; production needs the setting', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-wr-'));
  try {
    const first = ticketSecretOf({ mode: 'development', dataDir, waitingRoomSecret: undefined });
    assert.match(first, /^[0-9a-f]{64}$/);
    const path = join(dataDir, developmentKeyFile);
    assert.equal(readFileSync(path, 'utf8'), `${first}\n`);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(ticketSecretOf({ mode: 'development', dataDir, waitingRoomSecret: undefined }), first);
    assert.equal(ticketSecretOf({ mode: 'production', dataDir, waitingRoomSecret: key }), key);
    assert.throws(
      () => ticketSecretOf({ mode: 'production', dataDir, waitingRoomSecret: undefined }),
      (error: unknown) =>
        error instanceof BubuhError &&
        error.code === 'CONFIG_INVALID' &&
        error.details['variable'] === 'BUBUH_WAITING_ROOM_SECRET',
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('cookies are read from the Cookie header and written HttpOnly, SameSite=Lax, Secure on https', () => {
  assert.equal(cookieValue('a=1; bubuh_wr_client=xyz; b=2', 'bubuh_wr_client'), 'xyz');
  assert.equal(cookieValue(['a=1', 'bubuh_wr_ticket=t.u.v'], 'bubuh_wr_ticket'), 't.u.v');
  assert.equal(cookieValue('a=1', 'bubuh_wr_client'), undefined);
  assert.equal(cookieValue(undefined, 'bubuh_wr_client'), undefined);
  assert.equal(
    serializeCookie('n', 'v', { maxAgeSeconds: 60, secure: false }),
    'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax',
  );
  assert.equal(
    serializeCookie('n', 'v', { maxAgeSeconds: 60, secure: true }),
    'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure',
  );
});
