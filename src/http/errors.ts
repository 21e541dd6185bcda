import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AmisiError,
  isAmisiError,
  PROBLEM_TYPE,
  problemBody,
  type ErrorCode,
} from '../core/errors.js';
import { IDEMPOTENCY_HEADER } from './schemas/common.js';

/**
 * Every failure leaves as an RFC 9457 problem with the stable code from the one error table
 * (src/core/errors.ts): expected outcomes (AmisiError), request validation, Fastify's own client
 * errors. Anything else is a bug: logged with the request id, answered 500 `internal` with no
 * stack or message.
 */

export { PROBLEM_TYPE, problemBody, type ProblemBody } from '../core/errors.js';

interface ValidationIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

interface FastifyClientError extends Error {
  readonly statusCode?: number;
  readonly code?: string;
  readonly validation?: readonly ValidationIssue[];
  readonly validationContext?: string;
}

/** Fields whose validation failure has a more precise code than invalid_argument. */
const FIELD_CODES: Readonly<Record<string, ErrorCode>> = { credits: 'invalid_credits' };

function fieldOf(issue: ValidationIssue): string {
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const child = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof child === 'string') return path === '' ? child : `${path}.${child}`;
  return path;
}

function describe(issue: ValidationIssue, where: string): string {
  const field = fieldOf(issue);
  if (issue.keyword === 'additionalProperties') return `${where} has an unknown field "${field}"`;
  if (issue.keyword === 'required') return `${where}.${field} is required`;
  return `${where}${field === '' ? '' : `.${field}`} ${issue.message ?? 'is invalid'}`;
}

/**
 * A nullable field (`anyOf [T, null]`) that fails reports three issues: T's, "must be null"
 * and "must match a schema in anyOf". People need the first, with "or null" said once.
 */
function withoutNullBranches(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const nullable = new Set(
    issues
      .filter((i) => i.keyword === 'type' && i.params.type === 'null')
      .map((i) => i.instancePath)
      .filter((path) => issues.some((i) => i.keyword === 'anyOf' && i.instancePath === path)),
  );
  if (nullable.size === 0) return [...issues];
  const kept: ValidationIssue[] = [];
  const said = new Set<string>();
  for (const i of issues) {
    if (!nullable.has(i.instancePath) || i.params.missingProperty || i.params.additionalProperty) {
      kept.push(i);
    } else if (i.keyword !== 'anyOf' && !(i.keyword === 'type' && i.params.type === 'null')) {
      const first = !said.has(i.instancePath);
      said.add(i.instancePath);
      kept.push(first ? { ...i, message: `${i.message ?? 'is invalid'} (or null)` } : i);
    }
  }
  return kept;
}

/** A schema validation failure as the stable code of its first problem. */
export function fromValidation(all: readonly ValidationIssue[], context: string): AmisiError {
  const issues = withoutNullBranches(all);
  const where = context === 'querystring' ? 'query' : context;
  const first = issues[0];
  if (!first) return new AmisiError('invalid_argument', `${where} is invalid`, {});
  const field = fieldOf(first);
  if (where === 'headers' && field === IDEMPOTENCY_HEADER) {
    const message =
      first.keyword === 'required'
        ? 'the Idempotency-Key header is required on this request: one unique key per logical request, reused on every retry of it'
        : 'the Idempotency-Key header must be 1-255 printable characters without spaces';
    return new AmisiError('invalid_argument', message, { field: 'Idempotency-Key' });
  }
  const code = (where === 'body' && FIELD_CODES[field]) || 'invalid_argument';
  return new AmisiError(code, issues.map((i) => describe(i, where)).join('; '), {
    field,
    in: where,
    problems: issues.map((i) => ({ field: fieldOf(i), message: describe(i, where) })),
  });
}

/** Client errors whose HTTP status has its own code; any other 4xx is invalid_argument. */
const STATUS_ERRORS: Readonly<Record<number, () => AmisiError>> = {
  413: () =>
    new AmisiError('payload_too_large', 'the request body is larger than 1 MiB (1048576 bytes)', {
      limitBytes: 1024 * 1024,
    }),
  415: () =>
    new AmisiError(
      'unsupported_media_type',
      'the request body must be JSON sent with Content-Type: application/json',
      { accepts: ['application/json'] },
    ),
};

/** Fastify's own client errors (bad JSON, wrong content type, body too large, ...). */
function fromFastify(error: FastifyClientError): AmisiError | null {
  if (error.validation) return fromValidation(error.validation, error.validationContext ?? 'body');
  const status = error.statusCode ?? 500;
  if (status === 404) return new AmisiError('not_found', error.message, {});
  const special = STATUS_ERRORS[status];
  if (special) return special();
  if (status >= 400 && status < 500) {
    return new AmisiError('invalid_argument', error.message, {
      reason: error.code ?? 'bad_request',
    });
  }
  return null;
}

export function toAmisiError(error: unknown): AmisiError | null {
  if (isAmisiError(error)) return error;
  if (error instanceof Error) return fromFastify(error);
  return null;
}

export function sendProblem(reply: FastifyReply, error: AmisiError): FastifyReply {
  const body = problemBody(error.code, error.message, error.data);
  if (error.info.retryable && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
  return reply.status(body.status).type(PROBLEM_TYPE).send(body);
}

/** The server's one error handler. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const known = toAmisiError(error);
  if (known && known.code !== 'internal') {
    if (known.info.status >= 500) request.log.warn({ code: known.code }, known.message);
    return sendProblem(reply, known);
  }
  // A bug, or a failure the committer wrapped as `internal`: its message may name internals.
  request.log.error({ err: error }, 'internal error');
  return sendProblem(
    reply,
    new AmisiError('internal', `an internal error occurred (request ${request.id})`, {
      requestId: request.id,
    }),
  );
}

/**
 * Errors the router raises before a route is found: a path that is not valid percent-encoding
 * (`%ff`, a lone `%`) or a path parameter longer than the router takes.
 */
export function handleFrameworkError(
  error: FastifyClientError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendProblem(
      reply,
      new AmisiError(
        'invalid_argument',
        'the path is not valid: a % must start a %XX escape of UTF-8 (write % itself as %25)',
        { field: 'path', reason: 'bad_url' },
      ),
    );
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(
      reply,
      new AmisiError(
        'uri_too_long',
        'a path parameter is too long: ids are 128 characters at most',
        {
          field: 'path',
        },
      ),
    );
  }
  return handleError(error, request, reply);
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request: headers too large (which
 * includes a very long query string), a request or its headers not received in time, malformed
 * HTTP. Answered as problems on the raw socket, which is then closed.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AmisiError('request_timeout', 'the request was not received in time', {})
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new AmisiError(
            'header_too_large',
            'the request line and headers are larger than 16 KiB: send long input in a JSON body',
            {},
          )
        : new AmisiError('invalid_argument', 'the request is not valid HTTP/1.1', {
            reason: error.code ?? 'bad_request',
          });
  this.log.debug({ err: error }, 'client error');
  // Like Node itself: answer only if no answer to a request on this socket has started.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(problemBody(problem.code, problem.message, problem.data));
    const status = problem.info.status;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(
    reply,
    new AmisiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`, {}),
  );
}
