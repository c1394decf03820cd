/**
 * Signer renewal while a node runs. A node's signer certificate is short-lived (default 30 days); it is
 * checked against the clock on every use, and when it is within SIGNER_RENEWAL_MARGIN_MS of its end a
 * fresh one is built (`build`, which issues it from the issuing CA and saves it) and swapped in for the
 * stamps that start afterwards. Stamps already running keep the value they started with; the old value
 * is closed once the last of them finishes. Two uses that find the signer due together share one build.
 * A build that fails while the old certificate is still valid leaves the old one in use (the next use
 * tries again); once it has expired, the failure reaches the caller.
 */
import * as x509 from '@peculiar/x509';
import { SIGNER_RENEWAL_MARGIN_MS } from './key-files.js';

export interface SignerRenewalOptions<T> {
  /** Builds a value whose signer certificate is valid at `now` (renewing it when due). */
  readonly build: (now: Date) => Promise<T>;
  /** The signer certificate (DER) a value signs with. */
  readonly certificateOf: (value: T) => Uint8Array;
  /** Releases a value that is no longer current and no longer in use. */
  readonly close?: (value: T) => Promise<void>;
  /** Milliseconds since the epoch; default Date.now. */
  readonly clock?: () => number;
  /** Default SIGNER_RENEWAL_MARGIN_MS (one day). */
  readonly marginMs?: number;
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
}

export function createSignerRenewal<T>(options: SignerRenewalOptions<T>): SignerRenewal<T> {
  const clock = options.clock ?? Date.now;
  const margin = options.marginMs ?? SIGNER_RENEWAL_MARGIN_MS;
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

  const build = (now: number): Promise<Entry<T>> => {
    building ??= (async () => {
      try {
        const value = await options.build(new Date(now));
        const certificate = options.certificateOf(value);
        const entry: Entry<T> = {
          value,
          notAfter: new x509.X509Certificate(certificate).notAfter.getTime(),
          inFlight: 0,
          retired: false,
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

  const acquire = async (): Promise<Entry<T>> => {
    const now = clock();
    const entry = current;
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
