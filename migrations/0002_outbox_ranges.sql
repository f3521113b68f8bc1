-- 0002_outbox_ranges: a sink's backlog as ranges of reading ids instead of a row per reading.
--
-- Readings get their ids in the order they are written (AUTOINCREMENT, consecutive within a
-- run), and a sink takes them in that order, so its backlog is nearly always one range: "every
-- reading from id a to id b". Queuing a run then extends that range instead of inserting a row
-- per reading, and delivering a batch moves its start instead of deleting a row per reading:
-- on an SD card that is one page written per run and per batch instead of dozens, and draining a
-- large backlog no longer spends half its time deleting. A sink that was disabled for a while has
-- a gap between two ranges; a reading parked as rejected leaves its range for `rejections`.

CREATE TABLE outbox_ranges (
  sink_id          INTEGER NOT NULL REFERENCES sinks (id),
  first_reading_id INTEGER NOT NULL,
  last_reading_id  INTEGER NOT NULL,   -- inclusive
  PRIMARY KEY (sink_id, first_reading_id),
  CHECK (first_reading_id BETWEEN 1 AND last_reading_id)
) STRICT, WITHOUT ROWID;

-- Readings a sink refused (HTTP 400/422 and the like), with the server's reason. They wait here
-- until someone decides (fix and backfill again); prune keeps them meanwhile.
CREATE TABLE rejections (
  sink_id     INTEGER NOT NULL REFERENCES sinks (id),
  reading_id  INTEGER NOT NULL REFERENCES readings (id),
  rejected_at INTEGER NOT NULL,        -- epoch ms
  reason      TEXT NOT NULL,
  PRIMARY KEY (sink_id, reading_id)
) STRICT, WITHOUT ROWID;

-- The reading_id foreign key needs it: deleting a reading (prune) looks here for rejections.
CREATE INDEX rejections_by_reading ON rejections (reading_id);

-- The pending rows of 0001 become ranges of consecutive ids ("gaps and islands"): an island of
-- ids n, n+1, …, m is exactly the range [n, m].
INSERT INTO outbox_ranges (sink_id, first_reading_id, last_reading_id)
SELECT sink_id, min(reading_id), max(reading_id)
  FROM (SELECT sink_id, reading_id, reading_id - row_number() OVER (PARTITION BY sink_id ORDER BY reading_id) AS island
          FROM outbox WHERE rejected = 0)
 GROUP BY sink_id, island;

INSERT INTO rejections (sink_id, reading_id, rejected_at, reason)
SELECT sink_id, reading_id, rejected_at, reason FROM outbox WHERE rejected = 1;

DROP TABLE outbox;

-- The database's own guarantee that a reading a sink still owes is never deleted, whatever the
-- code above it does (the rejections foreign key does the same for parked ones). A sink has a
-- handful of ranges, so the check is a short scan.
CREATE TRIGGER readings_owed_are_kept BEFORE DELETE ON readings
WHEN EXISTS (SELECT 1 FROM outbox_ranges WHERE first_reading_id <= OLD.id AND last_reading_id >= OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'a sink still owes this reading: it is deleted once delivered');
END;
