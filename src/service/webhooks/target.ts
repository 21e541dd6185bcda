import { lookup } from 'node:dns/promises';
import { lookup as lookupCallback, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { AmisiError } from '../../core/errors.js';

/**
 * Where a customer's webhook may point. An account key registering an endpoint must not make
 * the server post to the operator's own network (the database, a metadata service, an admin
 * port), so loopback, private, link-local and every other special-purpose address (the IANA
 * IPv4 and IPv6 special-purpose registries, with the IPv4 address inside the IPv6 forms that
 * carry one decoded) is refused, for IP literals and for every address a host name resolves to.
 * The check is made at registration and again at every delivery (`publicOnlyLookup`), so a name
 * that changes its answer afterwards (DNS rebinding) is refused too. Operators may register any
 * URL, and AMISI_WEBHOOK_ALLOW_PRIVATE=1 lifts the check (a private network where that is
 * intended).
 */
export async function requirePublicTarget(url: string): Promise<void> {
  const host = hostOf(url);
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true, verbatim: true }).then(
        (found) => found.map((a) => a.address),
        () => {
          throw refuse(url, `${host} does not resolve`);
        },
      );
  const special = addresses.find(isSpecialAddress);
  if (special !== undefined || isLocalName(host)) {
    throw refuse(url, `${host} is a loopback, private or reserved address (${special ?? host})`);
  }
}

/** The URL's host without IPv6 brackets; an unparsable URL is invalid_argument on `url`. */
export function hostOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AmisiError('invalid_argument', 'url must be an http or https URL', {
      field: 'url',
      value: url.slice(0, 200),
    });
  }
  return parsed.hostname.replace(/^\[|\]$/g, '');
}

function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

function refuse(url: string, why: string): AmisiError {
  return new AmisiError('invalid_argument', `webhook url must reach a public address: ${why}`, {
    field: 'url',
    value: url.slice(0, 200),
  });
}

/** A delivery refused because its host is (or resolves to) a special-purpose address. */
export class PrivateTargetError extends Error {
  override readonly name = 'PrivateTargetError';
}

/**
 * Why an IP literal may not be delivered to, or null. Names are checked on what they resolve
 * to, when the connection is made (`publicOnlyLookup`).
 */
export function literalRefusal(host: string): string | null {
  if (isIP(host) !== 0 && isSpecialAddress(host)) {
    return `${host} is a loopback, private or reserved address`;
  }
  return null;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that resolves the host and refuses it when any address is special,
 * so the connection goes only to an address that was checked (no second resolution to rebind).
 */
export function publicOnlyLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  lookupCallback(hostname, { ...options, all: true }, (error, found) => {
    if (error) {
      callback(error, []);
      return;
    }
    const special = found.find((a) => isSpecialAddress(a.address));
    if (special !== undefined || found.length === 0) {
      const why = `${hostname} resolves to ${special?.address ?? 'nothing'}, a loopback, private or reserved address`;
      callback(Object.assign(new PrivateTargetError(why), { code: 'EPRIVATE' }), []);
      return;
    }
    if (options.all === true) callback(null, found);
    else callback(null, found[0]!.address, found[0]!.family);
  });
}

/** An IPv4 block: the first address as a 32-bit number and the prefix length. */
type Block4 = readonly [string, number];

/** The IANA IPv4 special-purpose registry, with multicast and the reserved 240/4. */
const SPECIAL_V4: readonly Block4[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/** An IPv6 block: its first address and the prefix length. */
type Block6 = readonly [string, number];

/**
 * The IANA IPv6 special-purpose registry (and the deprecated site-local fec0::/10). The forms
 * that carry an IPv4 address (mapped, translated, 6to4) are decoded instead (see `embedded4`).
 */
const SPECIAL_V6: readonly Block6[] = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible addresses
  ['64:ff9b::', 96], // NAT64, well-known prefix
  ['64:ff9b:1::', 48], // NAT64, local use
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, Teredo (2001::/32) among them
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

function parse4(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function in4(value: number, [base, bits]: Block4): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(parse4(base) / size);
}

/** The eight 16-bit groups of an IPv6 address (a valid one: checked with isIP first). */
export function parse6(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parse4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  if (tail === undefined) return left;
  const right = groups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function in6(groups: readonly number[], [base, bits]: Block6): boolean {
  const prefix = parse6(base);
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const keep = Math.min(bits, 16);
    const mask = (0xffff << (16 - keep)) & 0xffff;
    if ((groups[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address carries (mapped, translated, 6to4), or null. */
function embedded4(g: readonly number[]): string | null {
  const dotted = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated, RFC 2765).
  if (zeros(0, 5) && g[5] === 0xffff) return dotted(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return dotted(g[6]!, g[7]!);
  // 2002:aabb:ccdd::/48 (6to4).
  if (g[0] === 0x2002) return dotted(g[1]!, g[2]!);
  return null;
}

/** Addresses that are not the public internet (the IANA special-purpose registries). */
export function isSpecialAddress(address: string): boolean {
  const version = isIP(address.replace(/%.*$/, ''));
  if (version === 4) {
    const value = parse4(address);
    return SPECIAL_V4.some((block) => in4(value, block));
  }
  if (version !== 6) return true; // not an address: never a public one
  const groups = parse6(address);
  const inner = embedded4(groups);
  if (inner !== null) return isSpecialAddress(inner);
  return SPECIAL_V6.some((block) => in6(groups, block));
}
