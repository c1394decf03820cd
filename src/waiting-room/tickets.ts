/**
 * Waiting-room tickets: HMAC-SHA256 signed and bound to the browser. The browser holds a random client
 * id in an HttpOnly cookie; its visitor id (its place in the room) is derived from the client id with
 * the key, so the same cookie always finds the same place (a reload keeps it), and a ticket
 * `<visitor>.<issued>.<mac>` over visitor, client id and issue time is valid only next to that cookie.
 * A ticket copied to another browser, or changed in one character, is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BubuhError } from '../errors.js';
import type { Config } from '../config.js';

const clientIdPattern = /^[A-Za-z0-9_-]{22,64}$/;

/** 128 random bits, base64url: the value of the client cookie. */
export function newClientId(): string {
  return randomBytes(16).toString('base64url');
}

export function isClientId(value: string | undefined): value is string {
  return typeof value === 'string' && clientIdPattern.test(value);
}

export class TicketSigner {
  private readonly key: Buffer;

  constructor(secret: string | Uint8Array) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (this.key.length < 32) throw new Error('waiting room: the ticket key must have at least 32 bytes');
  }

  /** The place of this client in the room: the same for the same client id, unguessable without the key. */
  visitorOf(clientId: string): string {
    return this.mac(`visitor\0${clientId}`).subarray(0, 16).toString('base64url');
  }

  issue(clientId: string, issuedAtMs: number): string {
    const visitor = this.visitorOf(clientId);
    const issued = Math.floor(issuedAtMs / 1000).toString(36);
    return `${visitor}.${issued}.${this.ticketMac(visitor, clientId, issued).toString('base64url')}`;
  }

  /** The visitor id when `ticket` is genuine and was issued to `clientId`; null otherwise. */
  verify(ticket: string, clientId: string): string | null {
    if (ticket.length > 128) return null;
    const parts = ticket.split('.');
    if (parts.length !== 3) return null;
    const [visitor, issued, mac] = parts as [string, string, string];
    if (!/^[0-9a-z]{1,12}$/.test(issued) || !/^[A-Za-z0-9_-]{43}$/.test(mac)) return null;
    // Compared as text: base64url's last character carries 2 unused bits, so decoding would accept
    // four spellings of one MAC.
    const given = Buffer.from(mac, 'utf8');
    const expected = Buffer.from(this.ticketMac(visitor, clientId, issued).toString('base64url'), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return visitor === this.visitorOf(clientId) ? visitor : null;
  }

  private ticketMac(visitor: string, clientId: string, issued: string): Buffer {
    return this.mac(`ticket\0${visitor}\0${clientId}\0${issued}`);
  }

  private mac(message: string): Buffer {
    return createHmac('sha256', this.key).update(message, 'utf8').digest();
  }
}

export const developmentKeyFile = 'waiting-room.key';

/**
 * The ticket key: BUBUH_WAITING_ROOM_SECRET; in development without it, `<data>/waiting-room.key`
 * (generated on first use, mode 0600). Production without it refuses to start, because every node
 * must check the tickets of every other.
 */
export function ticketSecretOf(config: Pick<Config, 'mode' | 'dataDir' | 'waitingRoomSecret'>): string {
  if (config.waitingRoomSecret) return config.waitingRoomSecret;
  if (config.mode === 'production') {
    throw new BubuhError('CONFIG_INVALID', {
      variable: 'BUBUH_WAITING_ROOM_SECRET',
      problem: 'required in production while BUBUH_WAITING_ROOM_CAPACITY is above 0 (the same on every node)',
    });
  }
  const path = join(config.dataDir, developmentKeyFile);
  mkdirSync(config.dataDir, { recursive: true });
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (!/^\S{32,256}$/.test(secret)) {
    throw new BubuhError('CONFIG_INVALID', {
      variable: 'BUBUH_WAITING_ROOM_SECRET',
      problem: `${path} does not hold a key of 32 to 256 characters; delete it to generate a new one`,
    });
  }
  return secret;
}

/** One cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const part of line.split(';')) {
      const index = part.indexOf('=');
      if (index < 0) continue;
      if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
    }
  }
  return undefined;
}

export interface CookieOptions {
  readonly maxAgeSeconds: number;
  readonly secure: boolean;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return `${name}=${value}; Path=/; Max-Age=${options.maxAgeSeconds}; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}
