/**
 * Who is asking: the client's address, and the part of it a budget is keyed by. X-Forwarded-For is
 * believed only as far as BUBUH_TRUST_PROXY_HOPS says: with N trusted proxies the client is the N-th
 * address from the right of `X-Forwarded-For, socket` (whatever the client itself wrote further left
 * is ignored, so it cannot pick its own bucket). An IPv6 client is keyed by its /64, the block one
 * subscriber line usually gets, so rotating addresses inside it buys nothing.
 */
import { isIP } from 'node:net';

/** The client's address as the trusted proxies saw it (the socket's address with no proxy). */
export function clientAddress(
  request: { readonly ip: string; readonly headers: Readonly<Record<string, string | string[] | undefined>> },
  trustProxyHops: number,
): string {
  const socket = request.ip;
  if (trustProxyHops <= 0) return socket;
  const header = request.headers['x-forwarded-for'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const chain = [
    ...text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== ''),
    socket,
  ];
  const index = Math.max(0, chain.length - 1 - trustProxyHops);
  const candidate = chain[index]!;
  // A proxy that wrote garbage (or a port) is not trusted with the answer: fall back to the socket.
  return isIP(candidate) !== 0 ? candidate : socket;
}

/**
 * The bucket name of an address: an IPv4 address as it is (also when written IPv4-mapped, `::ffff:a.b.c.d`),
 * an IPv6 address as its /64 in full lowercase hex (`2001:0db8:0000:0001::/64`). Anything else is kept
 * as written, so a strange address still gets a bucket of its own.
 */
export function addressBucket(address: string): string {
  const unzoned = address.split('%')[0]!;
  const kind = isIP(unzoned);
  if (kind === 4) return unzoned;
  if (kind !== 6) return address;
  const groups = ipv6Groups(unzoned);
  if (!groups) return address;
  // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16).padStart(4, '0'))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 tail allowed), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest];
  return groups.length === 8 &&
    groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : null;
}
