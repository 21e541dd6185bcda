export * from './unit-of-work.js';
export * from './batch-commands.js';
export * from './commands.js';
export * from './committer.js';
export * from './ledger.js';
export * from './ports.js';
export * from './store.js';
export * from './verify.js';
