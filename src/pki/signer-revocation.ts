/**
 * Whether this node's own signer certificate has been revoked, for `createSignerRenewal` (which asks at
 * most once a minute). Two sources, both fed by `bubuh pki revoke` (a row in `revocations`, then the
 * CRL reissued into the PKI directory):
 * - `crlFileRevocationCheck`: the saved `crl.der`, counted only when the issuing CA signed it. Worker
 *   threads of the stamping pool have no database, and the CRL is reissued by every revocation
 *   (`bubuh pki revoke`) and whenever `/pki/crl.der` finds it behind the rows.
 * - `storageRevocationCheck`: the `revocations` row itself, where a database is at hand.
 */
import type { Storage } from '../storage/database.js';
import { certificateSerialOf, crlSignedBy, readCrlFacts } from './crl.js';
import { type PkiLocation, readCrlFile } from './key-files.js';
import { findRevocation, fingerprintOf } from './revocations.js';

/** Asks whether `certificate`, issued by `issuer` (both DER), is revoked now. */
export type SignerRevocationCheck = (certificate: Uint8Array, issuer: Uint8Array) => Promise<boolean>;

/** Revoked when the saved CRL, signed by `issuer`, lists the certificate's serial. */
export function crlFileRevocationCheck(location: PkiLocation): SignerRevocationCheck {
  // The serials of the last CRL read, keyed by its bytes and its issuer: re-read each time (it is
  // small), re-parsed and re-verified only when it changed.
  let last: { readonly key: string; readonly serials: ReadonlySet<string> } | null = null;
  return async (certificate, issuer) => {
    const der = await readCrlFile(location);
    if (der === null) return false;
    const key = `${fingerprintOf(issuer)}/${fingerprintOf(der)}`;
    if (last?.key !== key) {
      if (!(await crlSignedBy(der, issuer))) return false;
      last = { key, serials: new Set(readCrlFacts(der).entries.map((entry) => entry.serial)) };
    }
    return last.serials.has(certificateSerialOf(certificate));
  };
}

/** Revoked when `revocations` holds the certificate's serial under `issuer`. */
export function storageRevocationCheck(storage: Storage): SignerRevocationCheck {
  return async (certificate, issuer) => {
    const record = await findRevocation(storage, 'certificate', certificateSerialOf(certificate));
    return record !== null && record.issuerFingerprint === fingerprintOf(issuer);
  };
}
