import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AmisiError } from '../../core/errors.js';

/**
 * Where a customer's webhook may point. An account key registering an endpoint must not make
 * the server post to the operator's own network (the database, a metadata service, an admin
 * port), so loopback, private, link-local and other special addresses are refused, for IP
 * literals and for every address a host name resolves to. Operators may register any URL, and
 * AMISI_WEBHOOK_ALLOW_PRIVATE=1 lifts the check (a private network where that is intended).
 * A name that changes its answer after registration (DNS rebinding) is not caught here.
 */
export async function requirePublicTarget(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true, verbatim: true }).then(
        (found) => found.map((a) => a.address),
        () => {
          throw refuse(url, `${host} does not resolve`);
        },
      );
  const special = addresses.find(isSpecialAddress);
  if (special !== undefined || host === 'localhost' || host.endsWith('.localhost')) {
    throw refuse(url, `${host} is a loopback, private or reserved address (${special ?? host})`);
  }
}

function refuse(url: string, why: string): AmisiError {
  return new AmisiError('invalid_argument', `webhook url must reach a public address: ${why}`, {
    field: 'url',
    value: url.slice(0, 200),
  });
}

/** Addresses that are not the public internet (RFC 6890 and friends). */
export function isSpecialAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  const v6 = address.toLowerCase();
  // An IPv4 address mapped into IPv6, dotted or (as URL parsing writes it) in hex.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isSpecialAddress(mapped[1]!);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return isSpecialAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return (
    v6 === '::' ||
    v6 === '::1' ||
    v6.startsWith('fc') ||
    v6.startsWith('fd') ||
    v6.startsWith('fe8') ||
    v6.startsWith('fe9') ||
    v6.startsWith('fea') ||
    v6.startsWith('feb') ||
    v6.startsWith('ff')
  );
}
