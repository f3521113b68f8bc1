-- 0005_simulated_runs: a job run recorded by `kamstrup-logger simulate --history` (the simulator's
-- model, timestamped in the past) is marked, so status and report can say which figures are not
-- the meter's. Real runs, and every run written before this version, are 0.

ALTER TABLE runs ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1));
