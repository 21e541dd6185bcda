#!/usr/bin/env node
// The example platform's backend: it serves its page (dist/examples/embed, built by
// `npm run build`) and, at POST /session, mints a short-lived Amisi key for the customer who
// is signed in, so the operator key never reaches a browser. Run it beside `amisi serve`:
//
//   AMISI_CORS_ORIGINS=http://127.0.0.1:3000 amisi serve &
//   AMISI_URL=http://127.0.0.1:8787 AMISI_OPERATOR_KEY=amk_... EXAMPLE_ACCOUNT=alice \
//     node examples/embed/server.mjs
//
// Settings: AMISI_URL (where the browser and this backend reach Amisi), AMISI_OPERATOR_KEY,
// EXAMPLE_ACCOUNT (the signed-in customer: a real app takes it from its own login), PORT
// (default 3000), EXAMPLE_KEY_TTL_SECONDS (default 900).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'amisi-credits/client';

const ROOT = fileURLToPath(new URL('../../dist/examples/embed/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const setting = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`examples/embed: set ${name}`);
    process.exit(2);
  }
  return value;
};
const amisiUrl = setting('AMISI_URL', 'http://127.0.0.1:8787');
const accountId = setting('EXAMPLE_ACCOUNT');
const ttlSeconds = Number(setting('EXAMPLE_KEY_TTL_SECONDS', '900'));
const amisi = createClient({ baseUrl: amisiUrl, apiKey: setting('AMISI_OPERATOR_KEY') });

async function session(res) {
  // A real app checks its own login first; the key reaches this customer's account only.
  const made = await amisi.accounts.createKey(accountId, { ttlSeconds, name: 'example page' });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ baseUrl: amisiUrl, accountId, key: made.key }));
}

async function page(path, res) {
  const file = normalize(join(ROOT, path === '/' ? 'index.html' : path));
  if (!file.startsWith(ROOT)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
  const body = await readFile(file);
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(body);
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const answer = req.method === 'POST' && path === '/session' ? session(res) : page(path, res);
  answer.catch((error) => {
    const missing = error?.code === 'ENOENT';
    if (!missing) console.error(error);
    res.writeHead(missing ? 404 : 502, { 'content-type': 'text/plain' });
    res.end(missing ? 'not found' : 'could not reach Amisi');
  });
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`example platform page at http://127.0.0.1:${port}/ (Amisi at ${amisiUrl})`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => server.close(() => process.exit(0)));
