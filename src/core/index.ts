export * from './catalog.js';
export * from './credits.js';
export * from './errors.js';
export * from './grants.js';
export * from './holds.js';
export * from './journal.js';
export * from './quote.js';
export * from './money.js';
