/**
 * What a node needs to issue stamps: its signer (in development mode the data directory's own PKI,
 * generated on first use and labelled NOT FOR PRODUCTION) and the stamping environment.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { Ledger } from '../ledger/ledger.js';
import { currentCrl } from '../pki/revocations.js';
import type { Storage } from '../storage/database.js';
import { configuredPkiPaths, loadNodePki } from '../pki/key-files.js';
import { createConfiguredSigner } from '../pki/configured-signer.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import type { StampEnvironment } from '../stamping/stamp-document.js';
import { nodeTimeStamper } from '../tsa/node-time-stamper.js';
import { type IssueStampInput, type IssuedStamp, issueStamp, stampPdfLimits } from './issue-stamp.js';

export interface NodeStamper {
  readonly signerFingerprint: string;
  /** True when this call generated the development hierarchy. */
  readonly developmentPkiCreated: boolean;
  issue(input: IssueStampInput): Promise<IssuedStamp>;
  /** Releases the key store (a PKCS#11 session); stamps cannot be issued afterwards. */
  close(): Promise<void>;
}

/** The node's stamping environment: its signer (through the configured key store), TSA and DSS data. */
export interface ConfiguredStampEnvironment {
  readonly environment: StampEnvironment;
  /** Lowercase hex SHA-256 of the signer certificate, recorded in the registry. */
  readonly signerFingerprint: string;
  /** The issuing CA's certificate (DER): the signer's issuer, the CRL's signer. */
  readonly issuingCaCertificate: Uint8Array;
  /** True when this call generated the development hierarchy. */
  readonly developmentPkiCreated: boolean;
  /** Releases the key store (a PKCS#11 session). */
  close(): Promise<void>;
}

/**
 * Builds this node's stamping environment from its configuration. The main thread and every worker
 * thread of the stamping pool each call it, so all sign with the same key and certificate.
 */
export interface StampEnvironmentOptions {
  readonly now?: Date;
  /**
   * The database holding the revocations: with it, a B-LT stamp's /DSS also carries the issuing CA's
   * current CRL (the one `/pki/crl.der` serves, reissued first when it lags the revocations), taken
   * once, when the environment is built. Without it the DSS holds certificates only.
   */
  readonly storage?: Storage;
  /** A revoked signer certificate: when it is still this node's, a fresh one is issued first. */
  readonly replacingSigner?: Uint8Array;
}

export async function createStampEnvironment(
  config: Config,
  options: StampEnvironmentOptions = {},
): Promise<ConfiguredStampEnvironment> {
  // Development generates its hierarchy on first use; production uses the one `bubuh pki import`
  // installed (PKI_NOT_CONFIGURED without). Either way this node's signer is issued from the issuing
  // CA when it has none, and renewed when it nears expiry.
  const { pki, created } = await loadNodePki(configuredPkiPaths(config), config.mode, {
    validityDays: config.signerValidityDays,
    nodeName: config.nodeId,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.replacingSigner === undefined ? {} : { replacing: options.replacingSigner }),
  });
  // Through the configured key store: the signer key file, or a key generated in a PKCS#11 token
  // whose certificate the issuing CA issued.
  const { signer, keyStore } = await createConfiguredSigner(
    config,
    pki,
    options.now === undefined ? {} : { now: options.now },
  );
  try {
    const crls =
      options.storage === undefined
        ? []
        : [
            (
              await currentCrl(configuredPkiPaths(config), options.storage, pki, {
                validityDays: config.crlValidityDays,
                ...(options.now === undefined ? {} : { now: options.now }),
              })
            ).der,
          ];
    // PAdES B-T: every stamp carries a signature time-stamp (built-in TSA, or BUBUH_TSA_URL); a B-LT
    // stamp (`longTerm`) adds a DSS with the whole chain, the TSA's certificate and (given the
    // storage) the issuing CA's CRL.
    const environment: StampEnvironment = {
      ...nodeStampEnvironment(signer),
      timeStamper: await nodeTimeStamper(config, pki),
      validationData: {
        certificates: [
          signer.certificate,
          pki.issuingCa.certificate,
          pki.root.certificate,
          pki.tsa.certificate,
        ],
        crls,
      },
    };
    return {
      environment,
      signerFingerprint: createHash('sha256').update(signer.certificate).digest('hex'),
      issuingCaCertificate: pki.issuingCa.certificate,
      developmentPkiCreated: created,
      close: () => keyStore.close(),
    };
  } catch (error) {
    await keyStore.close().catch(() => {});
    throw error;
  }
}

/** `storage` (the node's database) puts the issuing CA's current CRL into B-LT stamps' /DSS. */
export async function createNodeStamper(
  config: Config,
  ledger: Ledger,
  options: { readonly storage?: Storage } = {},
): Promise<NodeStamper> {
  const { environment, signerFingerprint, developmentPkiCreated, close } = await createStampEnvironment(
    config,
    options.storage === undefined ? {} : { storage: options.storage },
  );
  const dependencies = {
    ledger,
    environment,
    signerFingerprint,
    publicBaseUrl: config.publicBaseUrl,
    reservationTimeoutSeconds: config.stampReservationTimeoutSeconds,
    pdfLimits: stampPdfLimits(config),
  };
  return {
    signerFingerprint,
    developmentPkiCreated,
    issue: (input) => issueStamp(dependencies, input),
    close,
  };
}
