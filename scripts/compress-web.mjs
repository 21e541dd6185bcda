// Precompresses the dashboard's built assets (dist/web/assets): a .br and a .gz beside each
// text file, which `amisi serve` sends to browsers that accept them (src/http/dashboard.ts,
// @fastify/static preCompressed). Run by `npm run build:web` after Vite; a file that does not
// shrink gets no compressed copy (it is sent as it is).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? join('dist', 'web', 'assets');
const TEXT = /\.(js|mjs|css|html|svg|json|txt|map)$/;

let files = 0;
for (const name of readdirSync(dir)) {
  if (!TEXT.test(name)) continue;
  const path = join(dir, name);
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  if (br.length < raw.length) writeFileSync(`${path}.br`, br);
  if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz);
  files += 1;
}
if (files === 0) throw new Error(`compress-web: no assets in ${dir} (did vite build run?)`);
