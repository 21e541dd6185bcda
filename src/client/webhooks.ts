/**
 * amisi-credits/webhooks: for receivers of Amisi webhooks. A separate entry from the client
 * because it uses node:crypto (HMAC-SHA256 in constant time), which a browser bundle lacks and
 * does not need: only the receiving server holds the endpoint's secret.
 *
 *   const result = verifySignature(secret, rawBody, request.headers[SIGNATURE_HEADER]);
 *   if (!result.ok) return reply.status(400).send(); // malformed, mismatch or too_old
 */

export {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  verifySignature,
  type VerifyResult,
} from '../service/webhooks/signature.js';
