import pg from 'pg';

/**
 * The PostgreSQL server the benchmarks use: DATABASE_URL, or a throwaway local cluster
 * (scripts/pg-cluster.mjs) when it is not set. `query` runs one admin statement (CREATE or
 * DROP DATABASE); `databaseUrl` names another database on the same server; `stop` ends the
 * throwaway cluster, if one was started.
 */
export interface PostgresAdmin {
  readonly url: string;
  query(sql: string): Promise<void>;
  databaseUrl(name: string): string;
  stop(): void;
}

export async function postgresAdmin(): Promise<PostgresAdmin> {
  let cluster: { url: string; stop(): void } | null = null;
  let url = process.env.DATABASE_URL;
  if (!url) {
    const script = new URL('../../scripts/pg-cluster.mjs', import.meta.url).href;
    const { startCluster } = (await import(script)) as {
      startCluster: () => Promise<{ url: string; stop(): void } | null>;
    };
    cluster = await startCluster();
    if (!cluster) throw new Error('PostgreSQL is not installed and DATABASE_URL is not set');
    url = cluster.url;
  }
  const adminUrl = url;
  return {
    url: adminUrl,
    async query(sql) {
      const c = new pg.Client(adminUrl);
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    databaseUrl(name) {
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    stop: () => cluster?.stop(),
  };
}
