// The SQLite store: readings, job runs and the delivery outbox (issue 3).
export { StoreError, toStoreError, type StoreErrorCode } from './errors.js';
export { DATABASE_SIDE_FILES, databaseFiles, fileIdentity } from './files.js';
export { lockDatabase, type DatabaseLock } from './lock.js';
export { defaultMigrationsDir, loadMigrations, migrate, schemaVersion, type Migration, type MigrationResult } from './migrations.js';
export { MAX_PENDING_LIMIT } from './outbox.js';
export { DEFAULT_PRUNE_CHUNK } from './prune.js';
export { splitPayloads } from './payloads.js';
export { rangesOf, readingRangesOf, union, type IdRange } from './ranges.js';
export { BUSY_TIMEOUT_MS, Store } from './store.js';
export * from './types.js';
