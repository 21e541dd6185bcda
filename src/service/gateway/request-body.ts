import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { AmisiError } from '../../core/errors.js';

/** Form fields read from a multipart body: text fields only, files are skipped. */
const MAX_FORM_FIELDS = 64;
const MAX_FIELD_BYTES = 64 * 1024;

/**
 * The whole body of a request, at most `limitBytes` (413 `payload_too_large` past it, read no
 * further). The gateway keeps the bytes to forward them unchanged after it has priced them.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function tooLarge(limitBytes: number): AmisiError {
  return new AmisiError('payload_too_large', `the body is over this route's ${limitBytes} bytes`, {
    limitBytes,
  });
}

/**
 * The fields a route's parameters are read from: the JSON object, an urlencoded form's or a
 * multipart form's text fields; undefined for an empty body or another type. A body that says
 * it is JSON and is not is refused, since its price cannot be known.
 */
export async function fieldsOf(body: Buffer, contentType: string | undefined): Promise<unknown> {
  if (body.length === 0) return undefined;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new AmisiError('invalid_argument', 'the body is not valid JSON', { field: 'body' });
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  }
  if (type === 'multipart/form-data') return multipartFields(body, contentType!);
  return undefined;
}

function multipartFields(body: Buffer, contentType: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: { 'content-type': contentType },
        limits: { fields: MAX_FORM_FIELDS, fieldSize: MAX_FIELD_BYTES },
      });
    } catch {
      reject(badForm());
      return;
    }
    parser.on('field', (name: string, value: string) => {
      if (!Object.hasOwn(fields, name)) fields[name] = value;
    });
    parser.on('error', () => reject(badForm()));
    parser.on('finish', () => resolve(fields));
    parser.end(body);
  });
}

function badForm(): AmisiError {
  return new AmisiError('invalid_argument', 'the body is not a valid multipart form', {
    field: 'body',
  });
}
