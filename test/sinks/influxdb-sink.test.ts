// What the InfluxDB sink sends and how it reads the answers, against a loopback HTTP double of
// the write endpoints for the answers the real servers the tests start never give (InfluxDB 1.6
// and VictoriaMetrics, test/delivery/influx-servers.test.ts). The double answers as the servers
// document it: InfluxDB 2.x's API reference for POST /api/v2/write (JSON {code, message}; 429 and
// 503 with Retry-After in seconds) and InfluxDB 1.x's for POST /write (JSON {error}).

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { InfluxDbSinkConfig } from '../../src/config/index.js';
import { SinkError } from '../../src/delivery/sink.js';
import { createInfluxSink } from '../../src/sinks/influxdb/sink.js';
import { UNSET_SINK_SETTINGS } from '../support/servers.js';

interface Answer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const base = { ...UNSET_SINK_SETTINGS, batchSize: 5000, timeoutMs: 5000 } as const;

const flavours = [
  {
    api: 'v2',
    config: (url: string): InfluxDbSinkConfig => ({ ...base, url, api: 'v2', token: 'secret', org: 'home', bucket: 'heat' }),
    path: '/api/v2/write?org=home&bucket=heat&precision=ms',
    authorization: 'Token secret',
    error: (code: string, message: string): string => JSON.stringify({ code, message }),
  },
  {
    api: 'v1',
    config: (url: string): InfluxDbSinkConfig => ({ ...base, url, api: 'v1', database: 'heat', username: 'logger', password: 'pw' }),
    path: '/write?db=heat&precision=ms',
    authorization: `Basic ${Buffer.from('logger:pw').toString('base64')}`,
    error: (_code: string, message: string): string => JSON.stringify({ error: message }),
  },
] as const;

describe('the InfluxDB sink over HTTP', () => {
  let server: Server;
  let url: string;
  let answer: Answer = { status: 204 };
  const received: Received[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(answer.status, { ...(answer.body !== undefined && { 'content-type': 'application/json; charset=utf-8' }), ...answer.headers });
        response.end(answer.body);
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function failure(write: Promise<void>): Promise<SinkError> {
    try {
      await write;
    } catch (error) {
      assert.ok(error instanceof SinkError, String(error));
      return error;
    }
    assert.fail('the write succeeded');
  }

  for (const flavour of flavours) {
    describe(`api ${flavour.api}`, () => {
      it('posts the texts as one uncompressed body of lines, with the target, precision and credentials', async () => {
        answer = { status: 204 };
        received.length = 0;
        const sink = createInfluxSink(flavour.config(url));
        await sink.write(['kamstrup,meter=home a=1 1000\nkamstrup,meter=home a=2 2000', 'kamstrup,meter=home a=3 3000']);
        const [request] = received;
        assert.equal(request?.method, 'POST');
        assert.equal(request.url, flavour.path);
        assert.equal(request.headers.authorization, flavour.authorization);
        assert.equal(request.headers['content-encoding'], undefined);
        assert.match(request.headers['content-type'] ?? '', /^text\/plain/);
        assert.equal(request.body, 'kamstrup,meter=home a=1 1000\nkamstrup,meter=home a=2 2000\nkamstrup,meter=home a=3 3000');
        await sink.close();
      });

      it('turns each answer into what the delivery loop does with it, with the server\'s reason', async () => {
        const sink = createInfluxSink(flavour.config(url));
        const cases: { answer: Answer; kind: string; retryAfterMs?: number; message: RegExp }[] = [
          { answer: { status: 400, body: flavour.error('invalid', 'partial write: field type conflict dropped=1') }, kind: 'rejected', message: /answered 400: .*field type conflict/ },
          { answer: { status: 401, body: flavour.error('unauthorized', 'unauthorized access') }, kind: 'auth', message: flavour.api === 'v2' ? /401.*check the token/ : /401.*check username and password/ },
          { answer: { status: 404, body: flavour.error('not found', 'bucket "heat" not found') }, kind: 'not-found', message: flavour.api === 'v2' ? /does the bucket "heat" exist in org "home"/ : /does the database "heat" exist\? \(CREATE DATABASE heat\)/ },
          { answer: { status: 413, body: flavour.error('request too large', 'unable to read data: points batch is too large') }, kind: 'too-large', message: /413/ },
          { answer: { status: 429, body: flavour.error('too many requests', 'org over quota'), headers: { 'retry-after': '30' } }, kind: 'unavailable', retryAfterMs: 30_000, message: /429.*over quota/ },
          { answer: { status: 503, body: flavour.error('unavailable', 'service unavailable'), headers: { 'retry-after': '5' } }, kind: 'unavailable', retryAfterMs: 5000, message: /503/ },
          { answer: { status: 500, body: flavour.error('internal error', 'timeout') }, kind: 'unavailable', message: /500/ },
        ];
        for (const example of cases) {
          answer = example.answer;
          const error = await failure(sink.write(['kamstrup,meter=home a=1 1000']));
          assert.equal(error.kind, example.kind, `${example.answer.status}`);
          assert.equal(error.status, example.answer.status);
          assert.equal(error.retryAfterMs, example.retryAfterMs ?? null, `Retry-After of ${example.answer.status}`);
          assert.match(error.message, example.message);
        }
        await sink.close();
      });

      it('says it cannot reach a server that is not there, and the data stays with the caller', async () => {
        const closed = createServer();
        closed.listen(0, '127.0.0.1');
        await new Promise((resolve) => closed.once('listening', resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise((resolve) => closed.close(resolve));
        const sink = createInfluxSink(flavour.config(`http://127.0.0.1:${port}`));
        const error = await failure(sink.write(['kamstrup,meter=home a=1 1000']));
        assert.equal(error.kind, 'unavailable');
        assert.match(error.message, /cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): check the url and that the server runs/);
        assert.match((await sink.check()) ?? '', /cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/, 'the start-up check says the same');
        await sink.close();
      });
    });
  }
});
