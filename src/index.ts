export * from './core/index.js';
export * from './ledger/index.js';
export { SqliteStore, type SqliteOptions } from './store/sqlite/sqlite-store.js';
export { openStore } from './store/open.js';
