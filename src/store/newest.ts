// The outbox of a newest-per-key sink (migrations/0004_outbox_newest.sql): per key one row, the
// newest value and what the sink last confirmed. Queuing a value replaces the one still waiting
// (superseded); the delivery loop takes waiting entries by `seq`, as it takes reading ids from
// the ranges of an every-reading sink, so one loop drains both.

import type { Database, Statement } from 'better-sqlite3';
import type { IdRange } from './ranges.js';
import type { HeldEntry, KeyedEntryState, KeyedEntryStatus, KeyedPayload, PendingPayloads } from './types.js';

interface EntryRow {
  readonly key: string;
  readonly state: KeyedEntryState;
  readonly reason: string | null;
  readonly payload: string;
  readonly readAt: number;
  readonly changedAt: number;
  readonly superseded: number;
  readonly sentPayload: string | null;
  readonly sentReadAt: number | null;
  readonly sentAt: number | null;
}

const entryColumns = `key, state, reason, payload, read_at AS readAt, changed_at AS changedAt, superseded,
  sent_payload AS sentPayload, sent_read_at AS sentReadAt, sent_at AS sentAt`;

export class NewestOutbox {
  private readonly entry: Statement<[number, string], EntryRow>;
  private readonly nextSeq: Statement<[number], number>;
  private readonly insert: Statement<[number, string, number, string, number, KeyedEntryState, string | null, number]>;
  private readonly replace: Statement<[number, string, number, KeyedEntryState, string | null, number, number, number, string]>;
  private readonly pendingAfter: Statement<[number, number, number], [number, string]>;
  private readonly markSent: Statement<[number, number, number, number, number]>;
  private readonly refuse: Statement<[string, number, number, number]>;
  private readonly staleKeys: Statement<[number, number, number], string>;
  private readonly requeueKey: Statement<[number, number, number, string]>;
  private readonly held: Statement<[number], HeldEntry>;
  private readonly entries: Statement<[number], EntryRow>;
  private readonly keysOf: Statement<[number], string>;
  private readonly deleteKey: Statement<[number, string]>;
  private readonly refreshAll: (sinkId: number, olderThan: number, now: number) => number;

  constructor(
    db: Database,
    private readonly now: () => Date,
  ) {
    this.entry = db.prepare(`SELECT ${entryColumns} FROM outbox_newest WHERE sink_id = ? AND key = ?`);
    this.nextSeq = db.prepare<[number], number>('SELECT coalesce(max(seq), 0) + 1 FROM outbox_newest WHERE sink_id = ?').pluck(true);
    this.insert = db.prepare(
      `INSERT INTO outbox_newest (sink_id, key, seq, payload, read_at, state, reason, changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.replace = db.prepare(
      `UPDATE outbox_newest SET seq = ?, payload = ?, read_at = ?, state = ?, reason = ?, changed_at = ?, superseded = superseded + ?
        WHERE sink_id = ? AND key = ?`,
    );
    this.pendingAfter = db
      .prepare<[number, number, number], [number, string]>(`SELECT seq, payload FROM outbox_newest WHERE sink_id = ? AND state = 'pending' AND seq > ? ORDER BY seq LIMIT ?`)
      .raw(true);
    this.markSent = db.prepare(
      `UPDATE outbox_newest SET state = 'sent', sent_payload = payload, sent_read_at = read_at, sent_at = ?, changed_at = ?
        WHERE sink_id = ? AND state = 'pending' AND seq BETWEEN ? AND ?`,
    );
    this.refuse = db.prepare(`UPDATE outbox_newest SET state = 'refused', reason = ?, changed_at = ? WHERE sink_id = ? AND state = 'pending' AND seq = ?`);
    // A time in the future is a clock that was stepped back: that value counts as stale too, or
    // the key would wait until the clock caught up.
    this.staleKeys = db
      .prepare<[number, number, number], string>(`SELECT key FROM outbox_newest WHERE sink_id = ? AND state = 'sent' AND (sent_at < ? OR sent_at > ?) ORDER BY sent_at`)
      .pluck(true);
    this.requeueKey = db.prepare(`UPDATE outbox_newest SET state = 'pending', seq = ?, changed_at = ? WHERE sink_id = ? AND key = ?`);
    this.held = db.prepare(`SELECT key, state, reason FROM outbox_newest WHERE sink_id = ? AND state IN ('held', 'refused') ORDER BY key`);
    this.entries = db.prepare(`SELECT ${entryColumns} FROM outbox_newest WHERE sink_id = ? ORDER BY key`);
    this.keysOf = db.prepare<[number], string>('SELECT key FROM outbox_newest WHERE sink_id = ?').pluck(true);
    this.deleteKey = db.prepare('DELETE FROM outbox_newest WHERE sink_id = ? AND key = ?');
    this.refreshAll = db.transaction((sinkId: number, olderThan: number, now: number): number => {
      const keys = this.staleKeys.all(sinkId, olderThan, now);
      let seq = this.nextSeq.get(sinkId) ?? 1;
      for (const key of keys) this.requeueKey.run(seq++, now, sinkId, key);
      return keys.length;
    }).immediate;
  }

  /** The payload the sink last confirmed for the key, or null. */
  sent(sinkId: number, key: string): string | null {
    return this.entry.get(sinkId, key)?.sentPayload ?? null;
  }

  /**
   * Makes each payload its key's newest value; the writer calls it inside the run's transaction.
   * A value still waiting is superseded. A refused key stays refused (its target would refuse
   * this value too) but keeps the value, so status shows the newest.
   */
  queue(sinkId: number, payloads: readonly KeyedPayload[], readAt: Date): void {
    const at = this.now().getTime();
    const read = readAt.getTime();
    for (const { key, payload, held } of payloads) {
      const known = this.entry.get(sinkId, key);
      const seq = this.nextSeq.get(sinkId) ?? 1;
      const state: KeyedEntryState = known?.state === 'refused' ? 'refused' : held === null ? 'pending' : 'held';
      const reason = state === 'refused' ? (known?.reason ?? null) : held;
      if (!known) this.insert.run(sinkId, key, seq, payload, read, state, reason, at);
      else this.replace.run(seq, payload, read, state, reason, state === known.state ? known.changedAt : at, known.state === 'pending' ? 1 : 0, sinkId, key);
    }
  }

  /** The waiting entries after `after` in queue order, each as a one-run payload whose "reading ids" are its seq. */
  pending(sinkId: number, after: number, limit: number): PendingPayloads[] {
    return this.pendingAfter.all(sinkId, after, limit).map(([seq, payload]) => ({ firstReadingId: seq, lastReadingId: seq, payload, runs: 1, runEnds: String(seq) }));
  }

  /** The sink confirmed the entries with these seqs; returns how many were still waiting (a superseded one is not). */
  markDelivered(sinkId: number, delivered: readonly IdRange[]): number {
    const at = this.now().getTime();
    let count = 0;
    for (const [first, last] of delivered) count += this.markSent.run(at, at, sinkId, first, last).changes;
    return count;
  }

  /**
   * The target refused the entry with this seq: its key is not sent again until it changes.
   * False when the entry no longer waits under that seq (a newer value took its place, and
   * will be tried in its turn).
   */
  markRefused(sinkId: number, seq: number, reason: string): boolean {
    return this.refuse.run(reason, this.now().getTime(), sinkId, seq).changes > 0;
  }

  /** Queues again every key the sink confirmed longer than `olderThanMs` ago; returns how many. */
  refresh(sinkId: number, olderThanMs: number): number {
    const now = this.now().getTime();
    // Asked every poll while idle: the write lock only when something is due.
    if (this.staleKeys.all(sinkId, now - olderThanMs, now).length === 0) return 0;
    return this.refreshAll(sinkId, now - olderThanMs, now);
  }

  heldEntries(sinkId: number): HeldEntry[] {
    return this.held.all(sinkId);
  }

  /** Drops the entries of keys the sink no longer has (a device removed from the config, or remapped). */
  retain(db: Database, sinkId: number, keys: readonly string[]): void {
    const wanted = new Set(keys);
    const gone = this.keysOf.all(sinkId).filter((key) => !wanted.has(key));
    if (gone.length === 0) return;
    db.transaction(() => {
      for (const key of gone) this.deleteKey.run(sinkId, key);
    }).immediate();
  }

  status(sinkId: number): KeyedEntryStatus[] {
    return this.entries.all(sinkId).map((row) => ({
      key: row.key,
      state: row.state,
      reason: row.reason,
      payload: row.payload,
      readAt: new Date(row.readAt),
      changedAt: new Date(row.changedAt),
      superseded: row.superseded,
      sent: row.sentPayload === null || row.sentAt === null || row.sentReadAt === null ? null : { payload: row.sentPayload, readAt: new Date(row.sentReadAt), at: new Date(row.sentAt) },
    }));
  }
}
