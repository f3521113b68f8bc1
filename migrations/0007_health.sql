-- 0007_health: the logger's own health, for the InfluxDB measurements kamstrup_health and
-- kamstrup_delivery (src/sinks/influxdb/point.ts).
--
-- The every-reading outbox carries reading ids, so a failed run, which has no readings, has
-- nothing to carry to InfluxDB. Health therefore goes out as cumulative counters (as Prometheus
-- counters do) with every run that has readings: the failures of a meter outage reach InfluxDB
-- with the next good run, and a dashboard takes differences. The counts start at zero here:
-- the runs table cannot give lifetime counts, prune deletes old runs.

-- Per meter and job: runs by outcome, and the failed or partial ones by cause. One row, updated
-- in each run's transaction.
CREATE TABLE job_health (
  meter_id       INTEGER NOT NULL REFERENCES meters (id),
  job_id         INTEGER NOT NULL REFERENCES jobs (id),
  runs           INTEGER NOT NULL CHECK (runs >= 0),
  ok             INTEGER NOT NULL CHECK (ok >= 0),
  partial        INTEGER NOT NULL CHECK (partial >= 0),
  failed         INTEGER NOT NULL CHECK (failed >= 0),
  no_answer      INTEGER NOT NULL CHECK (no_answer >= 0),       -- the meter stayed silent
  corrupt_answer INTEGER NOT NULL CHECK (corrupt_answer >= 0),  -- garbled answers (CRC, length)
  line_noise     INTEGER NOT NULL CHECK (line_noise >= 0),      -- bytes that were no KMP answer
  link_failure   INTEGER NOT NULL CHECK (link_failure >= 0),    -- the link could not be opened or broke
  other          INTEGER NOT NULL CHECK (other >= 0),           -- anything else: cut short by a stop, no register answered
  PRIMARY KEY (meter_id, job_id),
  CHECK (runs = ok + partial + failed),
  CHECK (partial + failed = no_answer + corrupt_answer + line_noise + link_failure + other)
) STRICT, WITHOUT ROWID;

-- Per sink: the newest delivery the sink confirmed, and how long after its run was committed
-- (the run's finished_at, taken just before its commit). run_id is the newest run of that
-- delivery: a backfill that sends older runs again leaves the figure alone.
CREATE TABLE sink_latency (
  sink_id      INTEGER PRIMARY KEY REFERENCES sinks (id),
  run_id       INTEGER NOT NULL,
  latency_ms   INTEGER NOT NULL,
  confirmed_at INTEGER NOT NULL          -- epoch ms
) STRICT;
