// The InfluxDB sink against urls that lead somewhere hostile or wrong, on loopback HTTP(S)
// doubles: a web page answering 200 with HTML to everything, endpoints slower than timeout_ms,
// JSON that is not InfluxDB's, a write answered 200 (with an error body) instead of 204, a
// redirect, a server that never answers, https:// to plain HTTP and a self-signed certificate.
//
// What the real servers answer, from their documentation: a write that stored every point gets
// 204 No Content (InfluxDB 2.x "Troubleshoot issues writing data" and the API reference for
// POST /api/v2/write and the v1-compatible POST /write; InfluxDB 1.x's HTTP API reference for
// /write; InfluxDB 3 and Cloud Dedicated's write troubleshooting pages, "204 No Content: all of the
// data is ingested"); a partial write is a 400 (1.x: `{"error":"partial write: … dropped=N"}`);
// /ping is 204 (1.x, 2.x, VictoriaMetrics) or 200 with a version (InfluxDB 3). Nothing documents a
// 200 to a write.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type InfluxDbSinkConfig } from '../../src/config/index.js';
import { SinkError, type Sink } from '../../src/delivery/sink.js';
import { createInfluxSink } from '../../src/sinks/influxdb/sink.js';
import { Store } from '../../src/store/index.js';
import { onPath } from '../support/programs.js';
import { eventually, startHttpDouble, UNSET_SINK_SETTINGS, type HttpDouble } from '../support/servers.js';

const LINE = 'kamstrup,meter=home heat_energy=1 1000';
const base = { ...UNSET_SINK_SETTINGS, batchSize: 5000, timeoutMs: 5000 } as const;

const flavours = [
  { api: 'v1', target: '/query', config: (url: string, more: Partial<InfluxDbSinkConfig> = {}): InfluxDbSinkConfig => ({ ...base, url, api: 'v1', database: 'heat', ...more }) },
  { api: 'v2', target: '/api/v2/buckets', config: (url: string, more: Partial<InfluxDbSinkConfig> = {}): InfluxDbSinkConfig => ({ ...base, url, api: 'v2', token: 't', org: 'home', bucket: 'heat', ...more }) },
] as const;

/** As InfluxDB answers: /ping 204, the target exists, writes 204. */
function influxAnswer(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? '';
  if (path.startsWith('/query')) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'databases', columns: ['name'], values: [['heat']] }] }] }));
  if (path.startsWith('/api/v2/buckets')) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ buckets: [{ name: 'heat' }] }));
  response.writeHead(204).end();
}

const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>…</form></body></html>';

async function writeFailure(sink: Sink): Promise<SinkError> {
  try {
    await sink.write([LINE]);
  } catch (error) {
    assert.ok(error instanceof SinkError, `a SinkError, not ${String(error)}`);
    return error;
  }
  assert.fail('the write was taken as confirmed');
}

describe('the InfluxDB sink against what a wrong or hostile url answers', () => {
  const doubles: HttpDouble[] = [];
  const sinks: Sink[] = [];
  const start = async (handle: Parameters<typeof startHttpDouble>[0], tls?: Parameters<typeof startHttpDouble>[1]): Promise<HttpDouble> => {
    const double = await startHttpDouble(handle, tls);
    doubles.push(double);
    return double;
  };
  const sinkFor = (config: InfluxDbSinkConfig): Sink => {
    const sink = createInfluxSink(config);
    sinks.push(sink);
    return sink;
  };
  after(async () => {
    for (const sink of sinks) await sink.close();
    for (const double of doubles) await double.close();
  });

  for (const flavour of flavours) {
    describe(`api ${flavour.api}`, () => {
      it('check() says a web page answers with HTML on every path, and a write through it is an error that keeps the readings', async () => {
        const page = await start((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGIN_PAGE));
        const sink = sinkFor(flavour.config(page.url));
        const problem = await sink.check();
        assert.match(problem ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${page.port} answered /ping with an HTML page \\(200\\), not InfluxDB`));
        const error = await writeFailure(sink);
        assert.equal(error.kind, 'wrong-url');
        assert.match(error.message, /answered the write with an HTML page \(200\), not InfluxDB.*the readings stay queued/);
      });

      it('check() says an HTML page without a content type is a web page too, on the target path', async () => {
        const page = await start((request, response) => (request.url === '/ping' ? response.writeHead(204).end() : response.writeHead(200).end(LOGIN_PAGE)));
        assert.match((await sinkFor(flavour.config(page.url)).check()) ?? '', new RegExp(`${page.url} answered .* with an HTML page \\(200\\), not InfluxDB`));
      });

      for (const slow of ['/ping', flavour.target]) {
        it(`check() resolves with "did not answer within" when ${slow} is slower than timeout_ms, and leaves no connection open`, async () => {
          const server = await start((request, response) => {
            if (!(request.url ?? '').startsWith(slow)) influxAnswer(request, response);
            // else: never answers
          });
          const sink = sinkFor(flavour.config(server.url, { timeoutMs: 300 }));
          assert.equal(await sink.check(), `${server.url} did not answer GET ${slow} within 300 ms: check the url, or raise sinks.influxdb.timeout_ms for a slow server`);
          await eventually('connections the server still holds', () => server.openConnections(), (open) => open === 0);
        });
      }

      it('check() says JSON that is not InfluxDB\'s is not what InfluxDB answers', async () => {
        const server = await start((request, response) => (request.url === '/ping' ? response.writeHead(204).end() : response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","app":"grafana"}')));
        assert.match((await sinkFor(flavour.config(server.url)).check()) ?? '', new RegExp(`${server.url} answered .* with 200 "\\{\\\\"status\\\\":\\\\"ok\\\\",\\\\"app\\\\":\\\\"grafana\\\\"\\}", not what InfluxDB answers`));
      });

      it('check() of a server that answers as InfluxDB does finds nothing wrong', async () => {
        const server = await start(influxAnswer);
        assert.equal(await sinkFor(flavour.config(server.url)).check(), null);
      });

      it('only 204 confirms a write: 200 with an error body, 200, 201, 202 and HTML are errors naming what answered', async () => {
        let status = 200;
        let body = '';
        let type = 'application/json';
        const server = await start((_request, response) => response.writeHead(status, { 'content-type': type }).end(body));
        const sink = sinkFor(flavour.config(server.url));
        const cases = [
          { status: 200, body: '{"error":"partial write: field type conflict dropped=1"}', type: 'application/json', message: /answered the write with 200 "\{\\"error\\":\\"partial write: field type conflict dropped=1\\"\}", not what InfluxDB answers/ },
          { status: 200, body: '', type: 'text/plain', message: /answered the write with 200 \(empty\)/ },
          { status: 201, body: '', type: 'text/plain', message: /answered the write with 201 \(empty\)/ },
          { status: 202, body: 'queued', type: 'text/plain', message: /answered the write with 202 "queued"/ },
          { status: 200, body: LOGIN_PAGE, type: 'text/html', message: /answered the write with an HTML page \(200\)/ },
        ];
        for (const example of cases) {
          ({ status, body, type } = example);
          const error = await writeFailure(sink);
          assert.equal(error.kind, 'wrong-url', `${example.status} ${example.body}`);
          assert.equal(error.status, example.status);
          assert.match(error.message, example.message);
        }
        status = 204;
        await sink.write([LINE]);
      });

      it('a web page answering 400, 413 or 422 is no refused point: wrong-url, nothing parked or split; a proxy\'s 502 page stays transient', async () => {
        let status = 400;
        const server = await start((_request, response) => response.writeHead(status, { 'content-type': 'text/html' }).end(LOGIN_PAGE));
        const sink = sinkFor(flavour.config(server.url));
        for (status of [400, 413, 422]) {
          const error = await writeFailure(sink);
          assert.equal(error.kind, 'wrong-url', `HTML ${status}`);
          assert.match(error.message, new RegExp(`answered the write with an HTML page \\(${status}\\)`));
        }
        status = 502;
        assert.equal((await writeFailure(sink)).kind, 'unavailable');
      });

      it('a partial write answered 400 still parks the refused point (rejected), as InfluxDB 1.x answers it', async () => {
        const server = await start((_request, response) => response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"partial write: field type conflict: input field \\"heat_energy\\" is type float, already exists as type string dropped=1"}'));
        const error = await writeFailure(sinkFor(flavour.config(server.url)));
        assert.equal(error.kind, 'rejected');
        assert.match(error.message, /answered 400: .*partial write: field type conflict.*dropped=1/);
      });

      it('a redirect to a path prefix (a proxy\'s /influxdb) suggests the url with that prefix', async () => {
        const redirecting = await start((request, response) => response.writeHead(301, { location: `http://127.0.0.1:1/influxdb${request.url ?? ''}` }).end());
        const sink = sinkFor(flavour.config(redirecting.url));
        assert.match((await sink.check()) ?? '', /use http:\/\/127\.0\.0\.1:1\/influxdb in sinks\.influxdb\.url$/);
        assert.match((await writeFailure(sink)).message, /use http:\/\/127\.0\.0\.1:1\/influxdb in sinks\.influxdb\.url/);
      });

      for (const status of [301, 302, 307, 308]) {
        it(`a ${status} redirect is not followed: check() and the write name where it leads and say to use that url`, async () => {
          const real = await start(influxAnswer);
          const redirecting = await start((request, response) => response.writeHead(status, { location: `${real.url}${request.url ?? ''}` }).end());
          const sink = sinkFor(flavour.config(redirecting.url));
          assert.equal(await sink.check(), `${redirecting.url} redirects /ping to ${real.url}/ping: redirects are not followed; use ${real.url} in sinks.influxdb.url`);
          const error = await writeFailure(sink);
          assert.equal(error.kind, 'wrong-url');
          assert.equal(error.status, status);
          assert.match(error.message, new RegExp(`redirects the write to ${real.url}/.*: redirects are not followed; use ${real.url} in sinks.influxdb.url`));
          assert.deepEqual(real.requests, [], 'nothing reached the server the redirect names');
        });
      }

      for (const [status, contentType, kind] of [
        [400, 'application/json', 'rejected'],
        [200, 'application/json', 'wrong-url'],
        [503, 'text/plain', 'unavailable'],
      ] as const) {
        it(`an answer ${status} (${contentType}) that streams without end is cut at 64 KiB: the write fails by its status, not the deadline, and its connection closes`, async () => {
          let sent = 0;
          // 16 KiB every 10 ms: a body without a bound fills the heap before any deadline; this one is slow enough to stay harmless if the cut is missing.
          const streaming = await start((_request, response) => {
            response.writeHead(status, { 'content-type': contentType });
            const chunk = contentType === 'application/json' ? `{"error":"${'x'.repeat(16 * 1024)}` : 'x'.repeat(16 * 1024);
            const pump = setInterval(() => {
              sent += chunk.length;
              response.write(chunk);
            }, 10);
            response.on('close', () => clearInterval(pump));
          });
          const sink = sinkFor(flavour.config(streaming.url, { timeoutMs: 10_000 }));
          const error = await writeFailure(sink);
          assert.equal(error.kind, kind, error.message);
          assert.equal(error.status, status);
          assert.doesNotMatch(error.message, /did not answer/);
          assert.ok(sent < 4 * 1024 * 1024, `${sent} bytes were read before the write failed`);
          await eventually('the connection of the cut answer still open', () => streaming.openConnections(), (open) => open === 0);
        });
      }

      it('a write to a server that never answers times out, and each timed-out write closes its connection', async () => {
        const silent = await start(() => undefined);
        const sink = sinkFor(flavour.config(silent.url, { timeoutMs: 200 }));
        for (let write = 0; write < 3; write++) {
          const error = await writeFailure(sink);
          assert.equal(error.kind, 'unavailable');
          assert.match(error.message, /did not answer POST \/.*write within 200 ms/);
        }
        assert.equal(silent.requests.length, 3);
        await eventually('connections still open after three timed-out writes', () => silent.openConnections(), (open) => open === 0);
      });

      it('close() releases every connection: idle keep-alive ones and one with a write in flight', async () => {
        let answering = true;
        const server = await start((request, response) => (answering ? influxAnswer(request, response) : undefined));
        // A timeout far beyond the wait below: only close() can end the write in flight in time.
        const sink = createInfluxSink(flavour.config(server.url, { timeoutMs: 600_000 }));
        await sink.write([LINE]);
        await sink.write([LINE]);
        answering = false;
        const inFlight = sink.write([LINE]).then(
          () => 'confirmed',
          (error: unknown) => (error instanceof SinkError ? error.kind : String(error)),
        );
        await eventually('the write in flight reaching the server', () => server.requests.length, (n) => n === 3);
        assert.ok(server.openConnections() >= 1);
        await sink.close();
        await eventually('connections still open after close()', () => server.openConnections(), (open) => open === 0);
        assert.equal(await inFlight, 'unavailable', 'the write in flight fails, nothing is confirmed');
      });
    });
  }
});

describe('the InfluxDB sink over https', () => {
  const openssl = onPath('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'kamstrup-tls-'));
  const doubles: HttpDouble[] = [];
  const sinks: Sink[] = [];
  let tls: { key: string; cert: string };
  before(() => {
    if (!openssl) return;
    // A self-signed certificate for 127.0.0.1, made now: nothing secret is kept in the repository.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  after(async () => {
    for (const sink of sinks) await sink.close();
    for (const double of doubles) await double.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sinkFor = (config: InfluxDbSinkConfig): Sink => {
    const sink = createInfluxSink(config);
    sinks.push(sink);
    return sink;
  };

  for (const flavour of flavours) {
    it(`api ${flavour.api}: a self-signed certificate is said in plain words with the fix, and trusted once given as ca`, { skip: openssl ? false : 'openssl not installed (apt install openssl): https tests skipped' }, async () => {
      const server = await startHttpDouble(influxAnswer, tls);
      doubles.push(server);
      const untrusting = sinkFor(flavour.config(server.url));
      const problem = `the certificate of ${server.url} is self-signed, so not trusted here (DEPTH_ZERO_SELF_SIGNED_CERT): give the server's CA certificate (PEM) as sinks.influxdb.ca_file, or set NODE_EXTRA_CA_CERTS=/path/to/ca.pem for the logger`;
      assert.equal(await untrusting.check(), problem);
      const error = await writeFailure(untrusting);
      assert.equal(error.kind, 'wrong-url', 'a certificate does not get trusted by waiting: delivery pauses');
      assert.equal(error.message, problem);
      const trusting = sinkFor(flavour.config(server.url, { ca: tls.cert }));
      assert.equal(await trusting.check(), null);
      await trusting.write([LINE]);
      assert.ok(server.requests.some((line) => line.startsWith('POST ')), 'the write went through');
    });
  }

  for (const flavour of flavours) {
    it(`api ${flavour.api}: https:// to a plain HTTP port says to use http://`, async () => {
      const plain = await startHttpDouble(influxAnswer);
      doubles.push(plain);
      const url = plain.url.replace('http:', 'https:');
      const sink = sinkFor(flavour.config(url));
      const problem = `${url} speaks plain HTTP, not HTTPS: use ${plain.url} in sinks.influxdb.url`;
      assert.equal(await sink.check(), problem);
      const error = await writeFailure(sink);
      assert.equal(error.kind, 'wrong-url');
      assert.equal(error.message, problem);
    });
  }
});

describe('status, run and the config with a sink url that leads to a web page', () => {
  const binPath = fileURLToPath(new URL('../../../bin/kamstrup-logger', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'kamstrup-web-page-'));
  let page: HttpDouble;
  before(async () => {
    page = await startHttpDouble((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(LOGIN_PAGE));
  });
  after(async () => {
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = (name: string, sinkYaml: string, jobs = ''): string => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage: { path: ./${name}.sqlite }\n${jobs}sinks:\n  influxdb: ${sinkYaml}\nlog: { level: info }\n`);
    return path;
  };

  for (const flavour of flavours) {
    const sinkYaml = (): string => (flavour.api === 'v1' ? `{ url: "${page.url}", api: v1, database: heat }` : `{ url: "${page.url}", api: v2, org: home, bucket: heat }`);

    it(`api ${flavour.api}: status prints what answered and exits 0, as for any sink problem, instead of crashing`, async () => {
      const path = config(`status-${flavour.api}`, sinkYaml());
      Store.open(join(dir, `status-${flavour.api}.sqlite`), { sinks: ['influxdb'] }).close();
      const result = await runCli(binPath, ['status', '--config', path]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`influxdb: ${page.url.replace(/\./g, '\\.')} answered /ping with an HTML page \\(200\\), not InfluxDB`));
      assert.doesNotMatch(result.stderr, /SyntaxError|Unexpected token|at .*\.js:\d+/);
    });

    it(`api ${flavour.api}: run warns what answered and keeps reading; nothing is marked delivered`, async () => {
      const path = config(`run-${flavour.api}`, sinkYaml(), 'jobs:\n  - { name: live, cron: "* * * * * *", registers: [heat_energy, power] }\n');
      const database = join(dir, `run-${flavour.api}.sqlite`);
      const daemon = spawn(process.execPath, [binPath, 'run', '--config', path, '--no-pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      daemon.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(daemon, 'exit') as Promise<[number | null, string | null]>;
      let exit: [number | null, string | null] | null = null;
      void exited.then((value) => (exit = value));
      try {
        await eventually('runs stored while the sink leads to a web page', () => (exit === null && existsSync(database) ? storedRuns(database) : exit === null ? 0 : -1), (runs) => runs >= 3 || runs === -1, 30_000);
        assert.equal(exit, null, `the daemon exited: ${stderr}${stdout}`);
      } finally {
        daemon.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
        if (exit === null) daemon.kill('SIGKILL');
      }
      assert.deepEqual(exit, [0, null], `stopped cleanly on SIGTERM: ${stderr}`);
      assert.match(stdout, /answered \/ping with an HTML page \(200\), not InfluxDB.*readings are kept until it is fixed/);
      assert.match(stdout, /answered the write with an HTML page \(200\), not InfluxDB.*delivery paused, readings kept/);
      const store = Store.open(database, { sinks: [] });
      try {
        const readings = [...store.exportReadings()].length;
        assert.ok(readings >= 6);
        assert.equal(store.status().sinks.find((sink) => sink.name === 'influxdb')?.pending, readings, 'every reading still queued');
      } finally {
        store.close();
      }
    });
  }

  it('ca_file is read relative to the config file; one that cannot be read or holds no certificate is a config error naming the key', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    mkdirSync(join(dir, 'tls'), { recursive: true });
    writeFileSync(join(dir, 'tls', 'ca.pem'), pem);
    writeFileSync(join(dir, 'tls', 'key.txt'), 'not a certificate');
    const withCa = (caFile: string): string => config('ca', `{ url: "https://127.0.0.1:8086", api: v1, database: heat, ca_file: ${caFile} }`);
    assert.equal(loadConfig({ path: withCa('tls/ca.pem'), env: {} }).config.sinks.influxdb?.ca, pem);
    assert.equal(loadConfig({ path: withCa('tls/ca.pem'), env: {} }).config.sinks.influxdb?.url, 'https://127.0.0.1:8086');
    for (const [caFile, message] of [
      ['tls/missing.pem', /sinks\.influxdb\.ca_file.*cannot read .*tls\/missing\.pem/s],
      ['tls/key.txt', /sinks\.influxdb\.ca_file.*tls\/key\.txt holds no PEM certificate/s],
    ] as const) {
      assert.throws(() => loadConfig({ path: withCa(caFile), env: {} }), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    }
  });
});

function storedRuns(path: string): number {
  const store = Store.open(path, { sinks: [] });
  try {
    return store.status().jobs.length === 0 ? 0 : new Set([...store.exportReadings()].map((row) => row.readAt.getTime())).size;
  } finally {
    store.close();
  }
}

async function runCli(binPath: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
