import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async () => {
  const { dir, cleanup } = tempDir('amisi-store-');
  const store = new SqliteStore({ path: join(dir, 'store.db') });
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      cleanup();
    },
  };
});
