// Self-test of the real-server harness (test/support/servers.ts): both servers start on
// 127.0.0.1, take line protocol, store a point sent twice once, keep their data through a
// restart, and refuse a wrong password. It also pins down the server behaviour the delivery
// code relies on (status codes, what VictoriaMetrics makes of line protocol).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  serverUnavailable,
  startInfluxDb1,
  startVictoriaMetrics,
  type Credentials,
  type InfluxDb1Server,
  type Sample,
  type VictoriaMetricsServer,
} from '../support/servers.js';

const admin: Credentials = { username: 'admin', password: 's3cret pass' };
const t0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const t1 = t0 + 60_000;
const lines = [
  `kamstrup,meter=flat\\ 3,serial=6812345 heat_energy=55648.1,volume=1234.567,hour_counter=34140i,max_flow_date="2026-01-07" ${t0}`,
  `kamstrup,meter=flat\\ 3,serial=6812345 heat_energy=55649.5,volume=1234.601,hour_counter=34141i,max_flow_date="2026-01-07" ${t1}`,
];

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

async function post(url: string, body: string, credentials: Credentials | null): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (credentials !== null) headers.Authorization = basic(credentials);
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

/** field@time → how many values the server holds for it. */
function counts(samples: readonly Sample[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const s of samples) {
    const key = `${s.field}@${s.time}`;
    result.set(key, (result.get(key) ?? 0) + 1);
  }
  return result;
}

function valueOf(samples: readonly Sample[], field: string, time: number): Sample['value'] | undefined {
  return samples.find((s) => s.field === field && s.time === time)?.value;
}

describe('InfluxDB 1.6 harness', { skip: serverUnavailable('influxdb-1.6') ?? false }, () => {
  let server: InfluxDb1Server | null = null;
  const db = 'heat';

  before(async () => {
    server = await startInfluxDb1({ auth: admin });
    assert.ok(server, 'influxd is on PATH');
    await server.createDatabase(db);
  });
  after(async () => {
    await server?.close();
  });

  function running(): InfluxDb1Server {
    assert.ok(server);
    return server;
  }

  it('listens on 127.0.0.1 with the generated config', () => {
    const s = running();
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.version, /^1\./);
    assert.ok(s.startupMs < 30_000);
  });

  it('stores two points written with POST /write, and a point sent twice once', async () => {
    const s = running();
    const write = `${s.url}/write?db=${db}&precision=ms`;
    assert.equal((await post(write, lines.join('\n'), admin)).status, 204);
    assert.equal((await post(write, lines[0] ?? '', admin)).status, 204);
    const samples = await s.samples('kamstrup', { db });
    assert.deepEqual([...counts(samples).values()], Array.from({ length: 8 }, () => 1));
    assert.equal(valueOf(samples, 'heat_energy', t0), 55648.1);
    assert.equal(valueOf(samples, 'hour_counter', t1), 34141);
    assert.equal(valueOf(samples, 'max_flow_date', t0), '2026-01-07');
    assert.deepEqual(samples[0]?.tags, { meter: 'flat 3', serial: '6812345' });
    assert.equal(samples[0]?.db, db);
    const [series] = await s.query(db, 'SELECT count("heat_energy") FROM "kamstrup"');
    assert.deepEqual(series?.values, [[0, 2]]);
  });

  it('answers 400 with the reason for a field-type conflict, and keeps the good points of the batch', async () => {
    const s = running();
    const answer = await post(
      `${s.url}/write?db=${db}&precision=ms`,
      [`kamstrup,meter=flat\\ 4 heat_energy=1.5 ${t0}`, `kamstrup,meter=flat\\ 3 heat_energy="oops" ${t1 + 60_000}`].join('\n'),
      admin,
    );
    assert.equal(answer.status, 400);
    assert.match(answer.body, /partial write: field type conflict: input field \\"heat_energy\\" on measurement \\"kamstrup\\" is type string, already exists as type float dropped=1/);
    const stored = (await s.samples('kamstrup', { db })).filter((x) => x.tags.meter === 'flat 4');
    assert.equal(stored.length, 1);
  });

  it('answers 401 to a wrong password and to no credentials', async () => {
    const s = running();
    const wrong = await post(`${s.url}/write?db=${db}`, lines[0] ?? '', { ...admin, password: 'wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.trim(), '{"error":"authorization failed"}');
    assert.equal((await post(`${s.url}/write?db=${db}`, lines[0] ?? '', null)).status, 401);
    assert.equal((await s.request('GET', '/query?q=SHOW+DATABASES', { auth: { ...admin, password: 'wrong' } })).status, 401);
  });

  it('answers 404 for an unknown database', async () => {
    const s = running();
    const answer = await post(`${s.url}/write?db=nope&precision=ms`, lines[0] ?? '', admin);
    assert.equal(answer.status, 404);
    assert.match(answer.body, /database not found: \\"nope\\"/);
  });

  it('keeps the data through stop and start on the same port, and through SIGKILL', async () => {
    const s = running();
    const before = await s.samples('kamstrup', { db });
    const port = s.port;
    await s.stop();
    assert.equal(s.running, false);
    await assert.rejects(fetch(`${s.url}/ping`));
    await s.start();
    assert.equal(s.port, port);
    assert.deepEqual(await s.samples('kamstrup', { db }), before);

    // InfluxDB fsyncs its WAL before answering 204: nothing acknowledged is lost to SIGKILL.
    assert.equal((await post(`${s.url}/write?db=${db}&precision=ms`, `kamstrup,meter=flat\\ 5 heat_energy=7 ${t0}`, admin)).status, 204);
    s.kill();
    await s.start();
    assert.equal((await s.samples('kamstrup', { db })).length, before.length + 1);
  });
});

describe('InfluxDB 1.6 harness without auth', { skip: serverUnavailable('influxdb-1.6') ?? false }, () => {
  it('takes writes without credentials', async () => {
    const server = await startInfluxDb1();
    assert.ok(server);
    try {
      await server.createDatabase('open');
      assert.equal((await post(`${server.url}/write?db=open&precision=ms`, lines.join('\n'), null)).status, 204);
      assert.equal((await server.samples('kamstrup')).length, 8);
    } finally {
      await server.close();
    }
  });
});

describe('VictoriaMetrics harness', { skip: serverUnavailable('victoria-metrics') ?? false }, () => {
  let server: VictoriaMetricsServer | null = null;

  before(async () => {
    server = await startVictoriaMetrics({ auth: admin });
    assert.ok(server, 'victoria-metrics is on PATH');
  });
  after(async () => {
    await server?.close();
  });

  function running(): VictoriaMetricsServer {
    assert.ok(server);
    return server;
  }

  it('stores points from /api/v2/write and /write as <measurement>_<field>, a point sent twice once', async () => {
    const s = running();
    const v2 = `${s.url}/api/v2/write?org=home&bucket=heat&precision=ms`;
    assert.equal((await post(v2, lines.join('\n'), admin)).status, 204);
    assert.equal((await post(v2, lines[0] ?? '', admin)).status, 204);
    assert.equal((await post(`${s.url}/write?db=heat1&precision=ms`, lines[1] ?? '', admin)).status, 204);

    const exported = await s.export('{__name__=~"kamstrup_.*"}');
    assert.deepEqual(
      [...new Set(exported.map((series) => series.metric.__name__))].sort(),
      ['kamstrup_heat_energy', 'kamstrup_hour_counter', 'kamstrup_max_flow_date', 'kamstrup_volume'],
    );

    const viaV2 = await s.samples('kamstrup').then((all) => all.filter((x) => x.db === null));
    assert.deepEqual([...counts(viaV2).values()], Array.from({ length: 8 }, () => 1), 'deduplicated');
    assert.equal(valueOf(viaV2, 'heat_energy', t0), 55648.1);
    assert.equal(valueOf(viaV2, 'hour_counter', t1), 34141);
    assert.equal(valueOf(viaV2, 'max_flow_date', t0), 0, 'a string field that is no number is stored as 0');
    assert.deepEqual(viaV2[0]?.tags, { meter: 'flat 3', serial: '6812345' });

    const viaV1 = await s.samples('kamstrup', { db: 'heat1' });
    assert.equal(viaV1.length, 4);
    assert.ok(viaV1.every((x) => x.time === t1));
  });

  it('answers 204 to a malformed line, skips it and keeps the rest of the batch', async () => {
    const s = running();
    const answer = await post(
      `${s.url}/api/v2/write?bucket=heat&precision=ms`,
      [`bad,meter=a heat_energy= ${t0}`, 'this is no line protocol', `bad,meter=b heat_energy=2 ${t0}`].join('\n'),
      admin,
    );
    assert.equal(answer.status, 204);
    const stored = await s.samples('bad');
    assert.deepEqual(stored.map((x) => [x.tags.meter, x.value]), [['b', 2]]);
  });

  it('answers 401 to a wrong password, to no credentials and to a v2 token', async () => {
    const s = running();
    const v2 = `${s.url}/api/v2/write?bucket=heat&precision=ms`;
    assert.equal((await post(v2, lines[0] ?? '', { ...admin, password: 'wrong' })).status, 401);
    assert.equal((await post(v2, lines[0] ?? '', null)).status, 401);
    const token = await fetch(v2, { method: 'POST', headers: { Authorization: `Token ${admin.username}:${admin.password}` }, body: lines[0] ?? '' });
    assert.equal(token.status, 401, 'httpAuth takes Basic only');
    await token.text();
    assert.equal((await post(`${s.url}/write?db=heat`, lines[0] ?? '', { ...admin, password: 'wrong' })).status, 401);
  });

  it('keeps the data through stop and start on the same port', async () => {
    const s = running();
    const before = await s.samples('kamstrup');
    const port = s.port;
    await s.stop();
    await assert.rejects(fetch(`${s.url}/health`));
    await s.start();
    assert.equal(s.port, port);
    assert.deepEqual(await s.samples('kamstrup'), before);
  });
});

describe('VictoriaMetrics without deduplication', { skip: serverUnavailable('victoria-metrics') ?? false }, () => {
  it('keeps both copies of a point sent twice', async () => {
    const server = await startVictoriaMetrics({ dedup: false });
    assert.ok(server);
    try {
      const v2 = `${server.url}/api/v2/write?bucket=heat&precision=ms`;
      assert.equal((await post(v2, lines[0] ?? '', null)).status, 204);
      assert.equal((await post(v2, lines[0] ?? '', null)).status, 204);
      const samples = await server.samples('kamstrup');
      assert.deepEqual([...counts(samples).values()], [2, 2, 2, 2]);
    } finally {
      await server.close();
    }
  });
});
