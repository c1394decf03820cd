/** Settings of connections/; merged into the one configuration table in src/config.ts. */
import type { Setting } from '../config.js';

export interface ConnectionsConfig {
  /** Largest request body of a route that sets no limit of its own (JSON bodies), in bytes. */
  readonly bodyBytesMax: number;
  /** A client must finish sending its request headers within this long (slowloris), in ms. */
  readonly headersTimeoutMs: number;
  /** A client must finish sending its whole request (headers and body) within this long, in ms. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long, in ms. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections this node accepts; a socket beyond it is closed at once. */
  readonly maxConnections: number;
  readonly listenBacklog: number;
  /** Uploads (multipart routes) one client address (an IPv6 /64) may have in progress at once. */
  readonly uploadsPerIp: number;
}

export const connectionsSettings: readonly Setting[] = [
  {
    key: 'bodyBytesMax',
    variable: 'BUBUH_BODY_BYTES_MAX',
    kind: { type: 'integer', min: 1024, max: 64 * 1024 * 1024 },
    fallback: 1024 * 1024,
    help: 'largest request body of a route without its own limit (uploads have theirs), in bytes',
  },
  {
    key: 'headersTimeoutMs',
    variable: 'BUBUH_HEADERS_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 600_000 },
    fallback: 10_000,
    help: 'a client still sending its request headers after this long is answered 408 and cut off (slowloris)',
  },
  {
    key: 'requestTimeoutMs',
    variable: 'BUBUH_REQUEST_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 3_600_000 },
    fallback: 300_000,
    help: 'a client still sending its request (headers and body) after this long is answered 408 and cut off',
  },
  {
    key: 'keepAliveTimeoutMs',
    variable: 'BUBUH_KEEP_ALIVE_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 600_000 },
    fallback: 72_000,
    help: 'an idle keep-alive connection is closed after this long (keep it above the load balancer’s idle timeout)',
  },
  {
    key: 'maxConnections',
    variable: 'BUBUH_MAX_CONNECTIONS',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 4096,
    help: 'open connections this node accepts; a socket beyond it is closed at once',
  },
  {
    key: 'listenBacklog',
    variable: 'BUBUH_LISTEN_BACKLOG',
    kind: { type: 'integer', min: 1, max: 65_535 },
    fallback: 4096,
    help: 'connections the kernel may hold for this node before it accepts them (capped by net.core.somaxconn); a full queue drops new connections, which clients retry only after 1, 3, 7 s',
  },
  {
    key: 'uploadsPerIp',
    variable: 'BUBUH_UPLOADS_PER_IP',
    kind: { type: 'integer', min: 1, max: 100_000 },
    fallback: 8,
    help: 'uploads (stamp, batch, verify) one client address (an IPv6 /64) may have in progress at once',
  },
];
