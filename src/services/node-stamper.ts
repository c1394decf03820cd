/**
 * What a node needs to issue stamps: its signer (in development mode the data directory's own PKI,
 * generated on first use and labelled NOT FOR PRODUCTION) and the stamping environment.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { loadOrCreateDevPki } from '../pki/key-files.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { type IssueStampInput, type IssuedStamp, issueStamp } from './issue-stamp.js';

export interface NodeStamper {
  readonly signerFingerprint: string;
  /** True when this call generated the development hierarchy. */
  readonly developmentPkiCreated: boolean;
  issue(input: IssueStampInput): Promise<IssuedStamp>;
}

export async function createNodeStamper(config: Config, ledger: Ledger): Promise<NodeStamper> {
  if (config.mode !== 'development') throw new BubuhError('PKI_NOT_CONFIGURED');
  const { pki, created } = await loadOrCreateDevPki(config.dataDir);
  const signer = createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
  const signerFingerprint = createHash('sha256').update(pki.signer.certificate).digest('hex');
  const environment = nodeStampEnvironment(signer);
  const dependencies = {
    ledger,
    environment,
    signerFingerprint,
    publicBaseUrl: config.publicBaseUrl,
    reservationTimeoutSeconds: config.stampReservationTimeoutSeconds,
  };
  return {
    signerFingerprint,
    developmentPkiCreated: created,
    issue: (input) => issueStamp(dependencies, input),
  };
}
