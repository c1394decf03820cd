/**
 * Signer renewal while a node runs. A node's signer certificate is short-lived (default 30 days); it is
 * checked against the clock on every use, and when it is within SIGNER_RENEWAL_MARGIN_MS of its end a
 * fresh one is built (`build`, which issues it from the issuing CA and saves it) and swapped in for the
 * stamps that start afterwards. Stamps already running keep the value they started with; the old value
 * is closed once the last of them finishes. Two uses that find the signer due together share one build.
 * A build that fails while the old certificate is still valid leaves the old one in use (the next use
 * tries again); once it has expired, the failure reaches the caller.
 *
 * Revocation: given `revoked`, the current certificate is also checked against the revocations at most
 * once every `revocationCheckMs` (default SIGNER_REVOCATION_CHECK_MS, not on every stamp; uses in the
 * meantime share the last answer, and uses that arrive during a check wait for it). A revoked signer is
 * replaced at once (`build` is told which certificate it must not return) and is never used again: when
 * the build fails, or returns the revoked certificate once more, the use fails with PKI_SIGNER_REVOKED
 * or the build's error. A check that itself fails keeps the signer (the next interval asks again).
 */
import * as x509 from '@peculiar/x509';
import { BubuhError } from '../errors.js';
import { certificateSerialOf } from './crl.js';
import { SIGNER_RENEWAL_MARGIN_MS } from './key-files.js';

/** How often a running node asks whether its signer certificate was revoked: once a minute. */
export const SIGNER_REVOCATION_CHECK_MS = 60_000;

export interface SignerRenewalOptions<T> {
  /**
   * Builds a value whose signer certificate is valid at `now` (renewing it when due). `replacing` is a
   * revoked certificate the value must not sign with: a fresh one is issued when it is still current.
   */
  readonly build: (now: Date, replacing?: Uint8Array) => Promise<T>;
  /** The signer certificate (DER) a value signs with. */
  readonly certificateOf: (value: T) => Uint8Array;
  /** Releases a value that is no longer current and no longer in use. */
  readonly close?: (value: T) => Promise<void>;
  /** Milliseconds since the epoch; default Date.now. */
  readonly clock?: () => number;
  /** Default SIGNER_RENEWAL_MARGIN_MS (one day). */
  readonly marginMs?: number;
  /** Whether a value's signer certificate has been revoked (see src/pki/signer-revocation.ts). */
  readonly revoked?: (value: T) => Promise<boolean>;
  /** At most one revocation check per this many milliseconds; default SIGNER_REVOCATION_CHECK_MS. */
  readonly revocationCheckMs?: number;
  /** Told when a check fails (the signer stays in use until the next check). */
  readonly onRevocationCheckFailed?: (error: unknown) => void;
  /** Told of each swap, with the certificates before and after. */
  readonly onRenewed?: (previous: Uint8Array, next: Uint8Array) => void;
}

export interface SignerRenewal<T> {
  /** Runs `work` with the current value, renewing it first when its certificate is due. */
  use<R>(work: (value: T) => Promise<R>): Promise<R>;
  /** How many times the value was swapped for a renewed one. */
  readonly renewals: number;
  /** Closes the current value (after the stamps using it finish); later uses build afresh. */
  close(): Promise<void>;
}

interface Entry<T> {
  readonly value: T;
  readonly notAfter: number;
  inFlight: number;
  retired: boolean;
  /** When the revocation check last started (clock ms), and the check under way. */
  checkedAt: number;
  checking: Promise<boolean> | null;
  revoked: boolean;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

export function createSignerRenewal<T>(options: SignerRenewalOptions<T>): SignerRenewal<T> {
  const clock = options.clock ?? Date.now;
  const margin = options.marginMs ?? SIGNER_RENEWAL_MARGIN_MS;
  const checkEvery = options.revocationCheckMs ?? SIGNER_REVOCATION_CHECK_MS;
  let current: Entry<T> | null = null;
  let building: Promise<Entry<T>> | null = null;
  let renewals = 0;

  const closeWhenIdle = async (entry: Entry<T>) => {
    if (entry.retired && entry.inFlight === 0) await options.close?.(entry.value);
  };

  const retire = async (entry: Entry<T>) => {
    entry.retired = true;
    await closeWhenIdle(entry);
  };

  const build = (now: number, replacing?: Uint8Array): Promise<Entry<T>> => {
    building ??= (async () => {
      try {
        const value = await options.build(new Date(now), replacing);
        const certificate = options.certificateOf(value);
        if (replacing !== undefined && sameBytes(certificate, replacing)) {
          await options.close?.(value);
          throw new BubuhError('PKI_SIGNER_REVOKED', { serial: certificateSerialOf(certificate) });
        }
        const entry: Entry<T> = {
          value,
          notAfter: new x509.X509Certificate(certificate).notAfter.getTime(),
          inFlight: 0,
          retired: false,
          // A certificate issued just now is first checked one interval later.
          checkedAt: now,
          checking: null,
          revoked: false,
        };
        const previous = current;
        current = entry;
        if (previous !== null) {
          renewals += 1;
          options.onRenewed?.(options.certificateOf(previous.value), certificate);
          await retire(previous);
        }
        return entry;
      } finally {
        building = null;
      }
    })();
    return building;
  };

  /** Whether `entry` is revoked, asking again when the last check is older than the interval. */
  const isRevoked = async (entry: Entry<T>, now: number): Promise<boolean> => {
    const check = options.revoked;
    if (check === undefined || entry.revoked) return entry.revoked;
    if (entry.checking === null && now - entry.checkedAt >= checkEvery) {
      entry.checkedAt = now;
      entry.checking = check(entry.value).then(
        (revoked) => {
          if (revoked) entry.revoked = true;
          return revoked;
        },
        (error: unknown) => {
          options.onRevocationCheckFailed?.(error);
          return false;
        },
      );
      void entry.checking.finally(() => {
        entry.checking = null;
      });
    }
    return entry.checking === null ? entry.revoked : await entry.checking;
  };

  const acquire = async (): Promise<Entry<T>> => {
    const now = clock();
    const entry = current;
    if (entry !== null && (await isRevoked(entry, now))) {
      // Never signs again, whatever happens to the replacement.
      return entry === current ? build(now, options.certificateOf(entry.value)) : acquire();
    }
    if (entry !== null && entry.notAfter - now >= margin) return entry;
    try {
      return await build(now);
    } catch (error) {
      // The old certificate still signs validly until its end: better than refusing every stamp.
      if (entry !== null && entry === current && entry.notAfter > now) return entry;
      throw error;
    }
  };

  return {
    async use(work) {
      const entry = await acquire();
      entry.inFlight += 1;
      try {
        return await work(entry.value);
      } finally {
        entry.inFlight -= 1;
        await closeWhenIdle(entry);
      }
    },
    get renewals() {
      return renewals;
    },
    async close() {
      const entry = current;
      current = null;
      if (entry !== null) await retire(entry);
    },
  };
}
