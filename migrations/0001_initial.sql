-- 0001_initial: meters, job runs, readings as read, and the outbox of their deliveries.
--
-- Sized for years of readings on a Raspberry Pi's SD card (target: at most 100 bytes on disk per
-- reading, its outbox row included): a reading row holds only small integers and the short
-- decimal text; names, unit symbols and job names live once in lookup tables.
--
-- STRICT tables refuse a value of the wrong type instead of converting it: an exact decimal
-- must never become a binary float by column affinity. (STRICT needs SQLite 3.37 to read the
-- file; better-sqlite3 bundles a newer one, and so does the sqlite3 shell of Debian 12.)
--
-- The migration runner (src/store/migrations.ts) runs this file in one transaction and records
-- it in schema_migrations and PRAGMA user_version; files are never edited once released.

CREATE TABLE meters (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL UNIQUE,          -- the config's meter name, a tag downstream
  model  TEXT NOT NULL,                 -- catalogue model, e.g. multical-402
  serial INTEGER                        -- as the meter reports it; NULL until read once
) STRICT;

CREATE TABLE jobs (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
) STRICT;

-- Register names from the catalogue. A row exists for every register id that was ever read,
-- so readings can reference it; name is NULL for an id the catalogue does not know.
CREATE TABLE registers (
  id   INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 65535),
  name TEXT
) STRICT;

-- Unit symbols as src/kmp/units.ts unitSymbol() gives them, one row per unit byte seen.
CREATE TABLE units (
  code   INTEGER PRIMARY KEY CHECK (code BETWEEN 0 AND 255),
  symbol TEXT NOT NULL
) STRICT;

-- One row per job run on one meter, failed ones included (status reports them).
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  meter_id      INTEGER NOT NULL REFERENCES meters (id),
  job_id        INTEGER NOT NULL REFERENCES jobs (id),
  read_at       INTEGER NOT NULL,       -- epoch ms, the one timestamp of all readings of the run
  finished_at   INTEGER NOT NULL,       -- epoch ms
  outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'partial', 'failed')),
  error         TEXT,
  missing       TEXT,                   -- JSON array of register ids the meter left out; NULL when none
  reading_count INTEGER NOT NULL CHECK (reading_count >= 0)  -- as written; prune does not change it
) STRICT;

-- Status (last run per meter and job) and prune (the newest run per meter and job is kept).
CREATE INDEX runs_by_meter_job ON runs (meter_id, job_id, read_at);
-- Export (ordered by read time) and prune (runs older than the retention age).
CREATE INDEX runs_by_read_at ON runs (read_at);

CREATE TABLE readings (
  -- AUTOINCREMENT: ids only ever grow, even after prune deleted the newest rows, so a sink's
  -- keyset cursor (reading id > last delivered) can never skip a reading that reuses an id.
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id      INTEGER NOT NULL REFERENCES runs (id),
  register_id INTEGER NOT NULL REFERENCES registers (id),
  value       TEXT NOT NULL CHECK (value <> '' AND value NOT GLOB '*[^0-9.-]*'),  -- exact decimal, "63.44"
  unit_code   INTEGER NOT NULL REFERENCES units (code),
  -- The unsigned mantissa as sent: up to 8 bytes, so up to 2^64 - 1, beyond SQLite's signed
  -- 64-bit INTEGER. Stored as INTEGER when it fits (nearly always, and compact), else as its
  -- decimal TEXT; ANY keeps either exactly (a NUMERIC column would turn big text into a float).
  mantissa    ANY NOT NULL CHECK (
                (typeof(mantissa) = 'integer' AND mantissa >= 0)
                OR (typeof(mantissa) = 'text' AND length(mantissa) BETWEEN 19 AND 20
                    AND mantissa NOT GLOB '*[^0-9]*')),
  exponent    INTEGER NOT NULL CHECK (exponent BETWEEN -63 AND 63),
  negative    INTEGER NOT NULL CHECK (negative IN (0, 1)),
  -- Date and time registers only: "2022-01-12", "20:02:43"; NULL while the meter holds no date.
  text        TEXT CHECK (text IS NULL OR unit_code IN (47, 48, 49, 50, 79)),
  -- A run reads each register once. The index also serves the run_id foreign key: without it,
  -- deleting a run (prune) would scan every reading.
  UNIQUE (run_id, register_id)
) STRICT;

-- Delivery targets (influxdb, domoticz, …). A sink removed from the config stays, disabled, with
-- whatever it had not delivered: readings it still owes are never pruned silently.
CREATE TABLE sinks (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
) STRICT;

-- One row per reading per sink that has not yet taken it. Delivered rows are DELETED, so the
-- table holds only the backlog and rejections, never the delivered history. The key puts the
-- rejected flag before the reading id: a sink's drain ("oldest pending of sink S") is a range
-- scan that starts at its first pending row and never walks over rejected ones.
CREATE TABLE outbox (
  sink_id     INTEGER NOT NULL REFERENCES sinks (id),
  rejected    INTEGER NOT NULL DEFAULT 0 CHECK (rejected IN (0, 1)),
  reading_id  INTEGER NOT NULL REFERENCES readings (id),
  rejected_at INTEGER,                  -- epoch ms
  reason      TEXT,
  -- For people reading the file with the sqlite3 shell; computed on read, takes no space.
  state       TEXT GENERATED ALWAYS AS (CASE rejected WHEN 0 THEN 'pending' ELSE 'rejected' END) VIRTUAL,
  PRIMARY KEY (sink_id, rejected, reading_id),
  CHECK ((rejected = 0) = (rejected_at IS NULL AND reason IS NULL))
) STRICT, WITHOUT ROWID;

-- The reading_id foreign key needs it: prune deletes readings, and SQLite checks each deleted
-- reading for outbox rows still pointing at it. That check is also the database's own guarantee
-- that an undelivered reading is never deleted. UNIQUE: at most one row per reading and sink.
CREATE UNIQUE INDEX outbox_by_reading ON outbox (reading_id, sink_id);
