/** Settings of cluster/; merged into the one configuration table in src/config.ts. */
import { hostname } from 'node:os';
import type { Setting } from '../config.js';

export interface ClusterConfig {
  /**
   * The PKI every node shares (root and issuing CA certificates, the issuing CA's key, the TSA, the CRL
   * and the archive of issued certificates); undefined means `<data dir>/pki`, as for one node.
   */
  readonly pkiDir: string | undefined;
  /** This node's name: in its signer certificate's subject and in every log line. */
  readonly nodeId: string;
  /** How long a stopping node answers /readyz with 503 before it stops taking connections. */
  readonly drainDelayMs: number;
}

export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The host name as a node id: characters a certificate subject and a log field take without quoting. */
export function defaultNodeId(name: string = hostname()): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return cleaned === '' ? 'node-1' : cleaned;
}

export const clusterSettings: readonly Setting[] = [
  {
    key: 'pkiDir',
    variable: 'BUBUH_PKI_DIR',
    kind: { type: 'string', pattern: /^.+$/, allowed: 'a directory path' },
    fallback: undefined,
    help: 'the PKI all nodes share (root.pem, ca.pem, ca.key, tsa.*, crl.der, issued/); default <data dir>/pki. Each node keeps its own signer key in <data dir>/pki',
  },
  {
    key: 'nodeId',
    variable: 'BUBUH_NODE_ID',
    kind: {
      type: 'string',
      pattern: NODE_ID_PATTERN,
      allowed: '1–64 letters, digits, dots, dashes or underscores',
    },
    fallback: defaultNodeId(),
    help: "this node's name, in its signer certificate and its logs; default the host name. Give every node its own",
  },
  {
    key: 'drainDelayMs',
    variable: 'BUBUH_DRAIN_DELAY_MS',
    kind: { type: 'integer', min: 0, max: 600_000 },
    fallback: 0,
    help: 'after SIGTERM, how long /readyz answers 503 (so a load balancer stops sending) before the node stops taking connections; behind a balancer set it above two health-check intervals',
  },
];
