-- 0006_consumption: energy, volume, hours and the rest per meter and local day, ISO week,
-- month, year and billing year, kept up to date as each job run is written (in its
-- transaction), so `report` and the InfluxDB measurement kamstrup_consumption never re-read
-- years of readings, and prune, which deletes old readings, never takes the figures with it.
--
-- Figures are exact decimals (text, as readings are): sums of counter differences at six
-- decimal places, split at period boundaries in proportion to time (src/consumption/).
-- The tables are filled by the code when it opens the database: from the stored readings in
-- one pass on the first opening after this migration, and again whenever the settings they
-- depend on (time zone, gap threshold, billing dates) change.

CREATE TABLE consumption_periods (
  meter_id      INTEGER NOT NULL REFERENCES meters (id),
  kind          TEXT NOT NULL CHECK (kind IN ('day', 'week', 'month', 'year', 'billing')),
  start_at      INTEGER NOT NULL,       -- epoch ms, the period's first instant (local midnight)
  end_at        INTEGER NOT NULL,       -- epoch ms, the next period's first instant
  label         TEXT NOT NULL,          -- 2026-03-29, 2026-W13, 2026-03, 2026; billing: its first day
  -- Sums over the period, NULL while the register was not read in it.
  energy_kwh    TEXT CHECK (energy_kwh NOT GLOB '*[^0-9.-]*'),
  volume_m3     TEXT CHECK (volume_m3 NOT GLOB '*[^0-9.-]*'),
  hours         TEXT CHECK (hours NOT GLOB '*[^0-9.-]*'),
  m3_t1         TEXT CHECK (m3_t1 NOT GLOB '*[^0-9.-]*'),   -- Δ(m³ × T1), m³×°C
  m3_t2         TEXT CHECK (m3_t2 NOT GLOB '*[^0-9.-]*'),
  peak_power_kw TEXT CHECK (peak_power_kw NOT GLOB '*[^0-9.-]*'),
  peak_power_at INTEGER,                -- epoch ms
  gap_ms        INTEGER NOT NULL DEFAULT 0 CHECK (gap_ms >= 0),   -- time in intervals longer than the gap threshold
  resets        INTEGER NOT NULL DEFAULT 0 CHECK (resets >= 0),   -- intervals in which a counter went down
  simulated     INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
  PRIMARY KEY (meter_id, kind, start_at),
  CHECK (end_at > start_at),
  CHECK ((peak_power_kw IS NULL) = (peak_power_at IS NULL))
) STRICT, WITHOUT ROWID;

-- Where each meter's counters stand: the newest value of each cumulative register (in the
-- figure's unit: kWh, m³, h, m³×°C), so the next run's difference needs no look back.
CREATE TABLE consumption_series (
  meter_id    INTEGER NOT NULL REFERENCES meters (id),
  register_id INTEGER NOT NULL,
  read_at     INTEGER NOT NULL,
  value       TEXT NOT NULL CHECK (value <> '' AND value NOT GLOB '*[^0-9.-]*'),
  PRIMARY KEY (meter_id, register_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE consumption_meters (
  meter_id     INTEGER PRIMARY KEY REFERENCES meters (id),
  series_at    INTEGER,                -- the newest run that read a counter: gaps count from it
  last_at      INTEGER,                -- the newest run counted; one read before it is out of order
  billing_date TEXT CHECK (billing_date IS NULL OR billing_date GLOB '[0-1][0-9]-[0-3][0-9]')  -- the meter's target date (register 98), MM-DD
) STRICT;

-- One row: the settings the figures were computed with, as JSON. Different settings rebuild them.
CREATE TABLE consumption_settings (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL
) STRICT;
