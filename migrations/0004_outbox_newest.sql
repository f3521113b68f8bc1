-- 0004_outbox_newest: sinks that keep each of their keys on its newest value.
--
-- Domoticz (and, later, an MQTT broker) takes no timestamp: whatever arrives is shown as live.
-- Replaying the readings of an outage one by one would show old values as current and make
-- the logger, not the meter, decide what a tile says. Such a sink owes, per key (a Domoticz
-- device), only the newest value: a run that updates a key replaces the value still waiting for
-- it, which is counted as superseded and never sent. The outbox of every-reading sinks (ranges,
-- payloads) stays as it is; both kinds are drained by the same delivery loop, which pages
-- through this table by `seq` as it pages through a range of reading ids.

-- How the sink takes readings: 'every-reading' (the outbox ranges) or 'newest-per-key' (here).
ALTER TABLE sinks ADD COLUMN delivery TEXT NOT NULL DEFAULT 'every-reading' CHECK (delivery IN ('every-reading', 'newest-per-key'));

-- One row per key of a sink, for as long as the key is configured: what waits for it, or what
-- it was last sent. A few rows per sink (one per device), rewritten in place.
CREATE TABLE outbox_newest (
  sink_id      INTEGER NOT NULL REFERENCES sinks (id),
  key          TEXT NOT NULL,          -- what the sink updates, e.g. 'idx=12 type=electric meter=home registers=80,60'
  -- The entry's place in its sink's queue, from a counter per sink: a new one each time the
  -- entry waits again (a newer value, a refresh), so the delivery loop pages past what it took.
  seq          INTEGER NOT NULL CHECK (seq >= 1),
  payload      TEXT NOT NULL,          -- the newest value, as the sink sends it
  read_at      INTEGER NOT NULL,       -- epoch ms: when the meter was read for it
  -- pending: waits to be sent; sent: the sink confirmed it; held: the logger keeps it back (a
  -- counter that went backwards), until a value for the key that is not held; refused: the sink's
  -- target refused the key (a Domoticz idx that does not exist), until the key changes.
  state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'held', 'refused')),
  reason       TEXT,                   -- why held or refused, in words
  changed_at   INTEGER NOT NULL,       -- epoch ms: when state last changed
  superseded   INTEGER NOT NULL DEFAULT 0 CHECK (superseded >= 0),  -- values replaced before they were sent
  sent_payload TEXT,                   -- what the sink last confirmed for the key: what its target shows
  sent_read_at INTEGER,
  sent_at      INTEGER,
  PRIMARY KEY (sink_id, key),
  UNIQUE (sink_id, seq),
  CHECK ((reason IS NULL) = (state IN ('pending', 'sent'))),
  CHECK ((sent_payload IS NULL) = (sent_at IS NULL) AND (sent_at IS NULL) = (sent_read_at IS NULL))
) STRICT, WITHOUT ROWID;

-- The delivery loop's query: a sink's waiting entries in queue order.
CREATE INDEX outbox_newest_pending ON outbox_newest (sink_id, seq) WHERE state = 'pending';
