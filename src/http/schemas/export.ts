import { Type } from '@sinclair/typebox';
import { TRANSACTION_KINDS } from '../../core/journal.js';
import { oneOf, Time } from './common.js';

/** The CSV export of an account's history (src/service/export.ts has the format). */

export const ExportQuery = Type.Object({
  kind: Type.Optional(
    Type.Array(oneOf(TRANSACTION_KINDS), {
      description: 'Only these kinds (repeat the parameter).',
    }),
  ),
  since: Type.Optional(Time('From this time (inclusive).')),
  until: Type.Optional(Time('Before this time (exclusive).')),
});

/** The 200 answer: CSV text, documented like /metrics documents its text. */
export const ExportCsvResponse = {
  description:
    'RFC 4180 CSV in UTF-8: a header row, then one row per journal transaction, newest first; rows end with CRLF. Columns: transaction_id, time (ISO 8601 UTC), kind, credits (signed change to available + held), held (signed change to held), grant_source, grant_id, hold_id, member, project, labels, operations, resolutions, catalog_version, idempotency_key, description. Text fields starting with = + - @ tab or CR get a leading apostrophe (formula injection guard); the integer columns never do. Streamed: an error after the first bytes ends the connection without completing the body.',
  content: { 'text/csv': { schema: { type: 'string' } } },
} as const;
