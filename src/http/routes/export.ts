import { Readable } from 'node:stream';
import {
  CSV_CONTENT_TYPE,
  exportFileName,
  openHistoryExport,
  HISTORY_EXPORT_PROBLEMS,
} from '../../service/export.js';
import type { App, Deps } from '../app.js';
import { accountInScope, SCOPE_PROBLEMS as S } from '../auth.js';
import { AccountParams, ExportCsvResponse, ExportQuery, problems } from '../schemas/index.js';

/** The account's history as a CSV download, streamed page by page. */
export async function exportRoutes(app: App, { ledger }: Deps): Promise<void> {
  app.get(
    '/v1/accounts/:accountId/export.csv',
    {
      config: { access: 'account', action: 'usage.all' },
      schema: {
        summary: "Download the account's history as CSV",
        description:
          "Every journal transaction matching the filters, newest first, streamed with flat memory however long the history. The account and the filters are checked before the first byte, so those errors are problems as usual. Member keys need a role with usage.all (every member's usage).",
        tags: ['accounts'],
        params: AccountParams,
        querystring: ExportQuery,
        response: {
          200: ExportCsvResponse,
          ...problems('account', false, S.account, HISTORY_EXPORT_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const accountId = accountInScope(request, request.params.accountId);
      const q = request.query;
      const csv = await openHistoryExport(ledger, {
        accountId,
        ...(q.kind ? { kinds: q.kind } : {}),
        ...(q.since === undefined ? {} : { since: q.since }),
        ...(q.until === undefined ? {} : { until: q.until }),
      });
      reply
        .type(CSV_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="${exportFileName(accountId)}"`)
        .header('cache-control', 'no-store');
      if (request.method === 'HEAD') {
        // Fastify would read a stream to its end only to drop it: the whole journal for nothing.
        await csv.chunks.return();
        return reply.send();
      }
      // Fastify logs a failure after the first bytes and ends the connection: a truncated
      // download never passes for a complete one.
      return reply.send(Readable.from(csv.chunks, { objectMode: false }));
    },
  );
}
