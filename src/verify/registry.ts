/**
 * The online check (DESIGN §5, Verify): for each e-meterai found in the document, ask the registry
 * `GET <registry>/v1/serials/{serial}` and compare. The fetch is injected, so the same code runs in
 * the server, the command line and the browser (which passes `globalThis.fetch`); nothing about the
 * document leaves the machine except the serials it already shows on its seals.
 *
 * - the registry does not know the serial → `registry_serial_unknown` (invalid: not issued there);
 * - the registry binds the serial to another digest → `registry_digest_mismatch` (invalid: the stamp,
 *   signature and all, was lifted from another document — a reused serial);
 * - the serial is revoked → `registry_serial_revoked` (invalid);
 * - no usable answer → `registry_unavailable` (untrusted: what the caller asked for was not checked).
 *
 * A document without an e-meterai signature asks nothing: a seal image copied onto a page without its
 * signature is `no_stamp` online as offline.
 */
import type { SignatureFinding, SignatureVerdict } from './check-signature.js';
import { type Finding, finding, type FindingCode } from './findings.js';

export interface RegistryResponse {
  readonly status: number;
  json(): Promise<unknown>;
}

/** The part of `fetch` the online check uses. */
export type RegistryFetch = (
  url: string,
  init: { readonly headers: Readonly<Record<string, string>> },
) => Promise<RegistryResponse>;

export interface OnlineOptions {
  /** The registry's base URL, e.g. `https://bubuh.example` (a trailing slash is ignored). */
  readonly registryUrl: string;
  readonly fetch: RegistryFetch;
}

/** Digest characters the registry shows and the check compares. */
export const registryDigestPrefixLength = 16;

type RegistryCode =
  'registry_serial_unknown' | 'registry_digest_mismatch' | 'registry_serial_revoked' | 'registry_unavailable';

const invalidCodes: ReadonlySet<string> = new Set([
  'registry_serial_unknown',
  'registry_digest_mismatch',
  'registry_serial_revoked',
]);

/** Worst first, as the overall verdict ranks them. */
const verdictOrder: readonly SignatureVerdict[] = [
  'invalid',
  'untrusted',
  'modified',
  'valid_with_later_changes',
  'valid',
];

interface RegistryAnswer {
  readonly findings: readonly Finding[];
  readonly outcome: 'ok' | RegistryCode;
}

type Lookup =
  | { readonly kind: 'found'; readonly record: SerialRecordView }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'unavailable'; readonly problem: string };

interface SerialRecordView {
  readonly status: string;
  readonly digestPrefix: string;
  readonly reason: string | null;
  readonly revokedAt: string | null;
}

function baseOf(url: string): string {
  return url.replace(/\/+$/, '');
}

function readRecord(body: unknown): SerialRecordView | null {
  if (body === null || typeof body !== 'object') return null;
  const record = body as Record<string, unknown>;
  const status = record['status'];
  const digestPrefix = record['digest_prefix'];
  if ((status !== 'valid' && status !== 'revoked') || typeof digestPrefix !== 'string') return null;
  const revocation = record['revocation'];
  const details =
    revocation !== null && typeof revocation === 'object' ? (revocation as Record<string, unknown>) : {};
  return {
    status,
    digestPrefix: digestPrefix.toLowerCase(),
    reason: typeof details['reason'] === 'string' ? details['reason'] : null,
    revokedAt: typeof details['revoked_at'] === 'string' ? details['revoked_at'] : null,
  };
}

async function lookUp(options: OnlineOptions, serial: string): Promise<Lookup> {
  let response: RegistryResponse;
  try {
    response = await options.fetch(
      `${baseOf(options.registryUrl)}/v1/serials/${encodeURIComponent(serial)}`,
      {
        headers: { accept: 'application/json' },
      },
    );
  } catch (error) {
    return { kind: 'unavailable', problem: error instanceof Error ? error.message : String(error) };
  }
  if (response.status === 404) return { kind: 'unknown' };
  if (response.status !== 200) return { kind: 'unavailable', problem: `HTTP ${response.status}` };
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { kind: 'unavailable', problem: 'the answer is not JSON' };
  }
  const record = readRecord(body);
  return record === null
    ? { kind: 'unavailable', problem: 'the answer is not a serial record' }
    : { kind: 'found', record };
}

function judge(signature: SignatureFinding, lookup: Lookup, registry: string): RegistryAnswer {
  const serial = signature.serial ?? '?';
  if (lookup.kind === 'unavailable') {
    return {
      outcome: 'registry_unavailable',
      findings: [finding('registry_unavailable', { registry, serial, problem: lookup.problem })],
    };
  }
  if (lookup.kind === 'unknown') {
    return {
      outcome: 'registry_serial_unknown',
      findings: [finding('registry_serial_unknown', { registry, serial })],
    };
  }
  const { record } = lookup;
  const findings: Finding[] = [];
  let outcome: 'ok' | RegistryCode = 'ok';
  const documentPrefix = signature.contentDigest?.slice(0, registryDigestPrefixLength) ?? null;
  if (documentPrefix !== null && documentPrefix !== record.digestPrefix) {
    findings.push(
      finding('registry_digest_mismatch', {
        serial,
        registeredPrefix: record.digestPrefix,
        documentPrefix,
      }),
    );
    outcome = 'registry_digest_mismatch';
  }
  if (record.status === 'revoked') {
    findings.push(
      finding('registry_serial_revoked', {
        serial,
        revokedAt: record.revokedAt ?? 'unknown time',
        reason: record.reason ?? 'unspecified',
      }),
    );
    if (outcome === 'ok') outcome = 'registry_serial_revoked';
  }
  return { outcome, findings };
}

function worse(left: SignatureVerdict, right: SignatureVerdict): SignatureVerdict {
  return verdictOrder.indexOf(left) <= verdictOrder.indexOf(right) ? left : right;
}

const serialProblemCodes: ReadonlySet<FindingCode> = new Set(['serial_invalid', 'serial_mismatch']);

/**
 * The signatures with the registry's answers folded in: each e-meterai (with a well-formed serial)
 * gains `checks.registry`, its findings and, when the registry disagrees, a worse verdict. Serials
 * are asked once each, all at the same time.
 */
export async function checkRegistry(
  signatures: readonly SignatureFinding[],
  options: OnlineOptions,
): Promise<SignatureFinding[]> {
  const registry = baseOf(options.registryUrl);
  const lookups = new Map<string, Promise<Lookup>>();
  const asks = (signature: SignatureFinding) =>
    signature.isEmeterai &&
    signature.serial !== null &&
    !signature.findings.some((item) => serialProblemCodes.has(item.code));
  for (const signature of signatures) {
    if (asks(signature) && !lookups.has(signature.serial!)) {
      lookups.set(signature.serial!, lookUp(options, signature.serial!));
    }
  }
  const answers = new Map<string, Lookup>();
  for (const [serial, pending] of lookups) answers.set(serial, await pending);
  return signatures.map((signature) => {
    if (!asks(signature)) return signature;
    const answer = judge(signature, answers.get(signature.serial!)!, registry);
    const registryVerdict: SignatureVerdict =
      answer.outcome === 'ok' ? 'valid' : invalidCodes.has(answer.outcome) ? 'invalid' : 'untrusted';
    return {
      ...signature,
      checks: { ...signature.checks, registry: answer.outcome },
      verdict: worse(signature.verdict, registryVerdict),
      findings: [...signature.findings, ...answer.findings],
    };
  });
}
