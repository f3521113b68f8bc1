// The migration runner: numbered, forward-only SQL files (migrations/NNNN_name.sql) bring a
// database from the version it records to the newest one, each file in its own transaction.
// The version lives in PRAGMA user_version (one integer in the file header, readable without
// any table) and in schema_migrations (which file, when), so a person can see the history.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';
import { StoreError, toStoreError } from './errors.js';

/**
 * The package's migrations folder. This module compiles to dist/src/store/migrations.js and the
 * package ships migrations/ at its root (package.json "files"), three levels up from here.
 */
export const defaultMigrationsDir = new URL('../../../migrations/', import.meta.url);

export interface Migration {
  readonly version: number;
  /** The part after the number: "initial" for 0001_initial.sql. */
  readonly name: string;
  readonly file: string;
  readonly sql: string;
}

export interface MigrationResult {
  /** The database's version before. */
  readonly from: number;
  /** Its version now: the newest migration's. */
  readonly to: number;
  readonly applied: readonly Migration[];
}

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

function directoryPath(dir: URL | string): string {
  return dir instanceof URL ? fileURLToPath(dir) : dir;
}

/**
 * Every migration in the folder, by version. Versions must run 1, 2, 3 … without gaps or
 * duplicates: a gap would mean a lost file, and the runner would otherwise skip it forever.
 */
export function loadMigrations(dir: URL | string = defaultMigrationsDir): Migration[] {
  const folder = directoryPath(dir);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    throw new StoreError('bad-migrations', `cannot read the migrations folder ${folder}: ${error instanceof Error ? error.message : String(error)}. Reinstall kamstrup-logger.`, { cause: error });
  }
  const migrations: Migration[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.sql')) continue; // README.md and the like
    const match = MIGRATION_FILE.exec(name);
    if (!match) {
      throw new StoreError('bad-migrations', `${join(folder, name)} is not named NNNN_name.sql (four digits, lower-case name): rename it.`);
    }
    const file = join(folder, name);
    migrations.push({ version: Number(match[1]), name: match[2] ?? '', file, sql: readFileSync(file, 'utf8') });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new StoreError(
        'bad-migrations',
        `the migrations in ${folder} must be numbered 0001, 0002, … without gaps or repeats; ${migration.file} is number ${migration.version} where ${index + 1} was expected.`,
      );
    }
  });
  return migrations;
}

/** The version the database records (0 for a new, empty file). */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Refuses a SQLite database of another program before anything touches it: migrating it would
 * add the logger's tables to it and switch it to WAL. The logger's own database records its
 * history in schema_migrations from the first migration on; a new file has no tables at all.
 */
export function assertLoggerDatabase(db: Database, path: string): void {
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all();
  const objects = db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get() ?? 0;
  if (objects === 0 && schemaVersion(db) === 0) return;
  const historyColumns = db.prepare<[], number>("SELECT count(*) FROM pragma_table_info('schema_migrations') WHERE name IN ('version', 'name', 'applied_at')").pluck().get();
  if (historyColumns === 3) return;
  const shown = tables.length === 0 ? 'no tables but other schema objects' : `tables such as ${tables.slice(0, 3).join(', ')}`;
  throw new StoreError(
    'foreign-database',
    `${path} is a SQLite database of another program (${shown}, and no kamstrup-logger schema history): it was left untouched. ` +
      'Point storage.path at the logger\'s own database, or at a new file such as ./data/kamstrup.sqlite.',
    { path },
  );
}

/**
 * A read-only opening cannot migrate: the database must already be at the newest version.
 * Only the daemon upgrades it (a `status` run by a newer version next to an older running
 * daemon must not change the schema under it).
 */
export function assertCurrent(db: Database, migrations: readonly Migration[], path: string): void {
  const version = schemaVersion(db);
  const newest = migrations.at(-1)?.version ?? 0;
  if (version >= newest) return;
  throw new StoreError(
    'needs-upgrade',
    `the database ${path} has schema version ${version} and this kamstrup-logger reads version ${newest}; opened read-only, it cannot be upgraded here. ` +
      'Run the daemon (kamstrup-logger run) of this version once, as a user who may write the file and its directory, to upgrade it.',
    { path },
  );
}

/**
 * Refuses a database written by a newer kamstrup-logger before anything touches it: its newer
 * tables may mean things this code would get wrong, and there is no way back down.
 */
export function assertNotTooNew(db: Database, migrations: readonly Migration[], path: string): number {
  const version = schemaVersion(db);
  const newest = migrations.at(-1)?.version ?? 0;
  if (version > newest) {
    throw new StoreError(
      'database-too-new',
      `the database ${path} has schema version ${version}, but this kamstrup-logger knows versions up to ${newest}: ` +
        'it was written by a newer kamstrup-logger. Upgrade kamstrup-logger, or restore a backup made by this version.',
      { path },
    );
  }
  return version;
}

/**
 * Applies every migration newer than the database's version, each in its own IMMEDIATE
 * transaction (the write lock is taken first, so two processes starting at once cannot both
 * apply the same file: the second re-reads the version inside its transaction and skips).
 * Foreign keys are switched off meanwhile, as SQLite requires for migrations that rebuild a
 * table, and checked before each commit instead.
 */
export function migrate(
  db: Database,
  options: { migrations: readonly Migration[]; path: string; now?: () => Date },
): MigrationResult {
  const { migrations, path } = options;
  const now = options.now ?? ((): Date => new Date());
  const from = assertNotTooNew(db, migrations, path);
  const applied: Migration[] = [];
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      const apply = db.transaction(() => {
        // Another process may have migrated between our first look and our lock.
        if (assertNotTooNew(db, migrations, path) >= migration.version) return false;
        db.exec(migration.sql);
        db.exec(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL  -- ISO 8601, UTC
           ) STRICT`,
        );
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, now().toISOString());
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) {
          throw new StoreError('migration-failed', `migration ${migration.file} leaves ${violations.length} rows pointing at rows that do not exist; it was rolled back.`, { path });
        }
        // PRAGMA takes no bound parameters; the version is an integer from the file name.
        db.pragma(`user_version = ${migration.version}`);
        return true;
      });
      try {
        if (apply.immediate()) applied.push(migration);
      } catch (error) {
        const storeError = toStoreError(error, path, `applying migration ${migration.file}`);
        if (storeError.code !== 'sqlite' && storeError.code !== 'constraint') throw storeError;
        throw new StoreError(
          'migration-failed',
          `migration ${migration.file} failed on ${path} and was rolled back; the database stays at version ${schemaVersion(db)}: ${storeError.message}`,
          { cause: error, path },
        );
      }
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return { from, to: schemaVersion(db), applied };
}
