-- 0003_outbox_payloads: what a sink will send for a queued run, rendered when the run is written.
--
-- A transactional outbox keeps the message beside the data it describes. Rendering an InfluxDB
-- line costs nothing when one run arrives every few seconds, but rendering a long backlog at
-- once (an outage of InfluxDB, weeks of readings) made the logger, not the server, the slow end
-- of the drain: most of its time went to reading each reading back into JavaScript and turning
-- it into a field again. With the payload stored, a drain reads one text per run.
--
-- A payload is only a faster way to the same bytes: the readings stay the record. It is used
-- while every reading of its run (first…last) lies in one of the sink's outbox ranges;
-- otherwise, and for runs queued again by backfill, the sink renders the readings as before.
-- Delivery only moves the ranges; the payloads of runs no longer owed are deleted by the
-- retention step (prune, daily), so the table holds the backlog and at most a day more.

CREATE TABLE outbox_payloads (
  sink_id          INTEGER NOT NULL REFERENCES sinks (id),
  first_reading_id INTEGER NOT NULL,
  last_reading_id  INTEGER NOT NULL,   -- inclusive: the run's readings
  payload          TEXT NOT NULL,      -- '' when the run has nothing to send (a date not set yet)
  PRIMARY KEY (sink_id, first_reading_id),
  CHECK (first_reading_id BETWEEN 1 AND last_reading_id)
) STRICT, WITHOUT ROWID;

-- The format the payloads of a sink were rendered in (e.g. 'influxdb-line-ms/1'); NULL while it
-- has none. A kamstrup-logger that renders differently drops the sink's payloads when it opens
-- the store, and its runs are rendered from the readings instead.
ALTER TABLE sinks ADD COLUMN payload_format TEXT;
