// The daemon with a sink, in process, against a small HTTP server on 127.0.0.1 that the test
// steers: a connection check that answers after the stop logs nothing after "stopped", a check
// that rejects is no unhandled rejection, and the stop leaves no timer behind.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { sleep, startDaemon } from '../support/daemon.js';

interface SteeredServer {
  readonly port: number;
  readonly paths: string[];
  /** Held /ping requests that are over: answered once released, or dropped by the client. */
  readonly pingsOver: () => number;
  /** Lets the /ping requests held so far (and later ones) answer. */
  releasePing(): void;
  /** Resolves once a request for `path` has come (bounded: rejects after `ms`). */
  waitFor(path: string, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers /ping with 204 once released, a write with 204, anything else with 404. */
async function steeredInflux(): Promise<SteeredServer> {
  const paths: string[] = [];
  const held: http.ServerResponse[] = [];
  let pingsOver = 0;
  const waiting = new Set<() => void>();
  let released = false;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    paths.push(path);
    for (const check of [...waiting]) check();
    request.resume();
    if (path === '/ping') {
      if (released) response.writeHead(204).end();
      else {
        held.push(response);
        response.on('close', () => pingsOver++);
      }
    } else if (path.endsWith('/write')) response.writeHead(204).end();
    else response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    pingsOver: () => pingsOver,
    releasePing: () => {
      released = true;
      for (const response of held.splice(0)) response.writeHead(204).end();
    },
    waitFor: (path, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!paths.includes(path)) return;
          waiting.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no request for ${path} within ${ms} ms (got ${paths.join(', ')})`));
        }, ms);
        waiting.add(check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function config(port: number, level = 'debug'): string {
  return `
meters:
  - { name: home, url: "sim://multical-402" }
storage:
  path: ./data/k.sqlite
jobs:
  - { name: live, cron: "* * * * * *", registers: [heat_energy, power] }
sinks:
  influxdb:
    url: http://127.0.0.1:${port}
    api: v2
    token: t0ken
    org: home
    bucket: heat
    timeout_ms: 5000
log: { level: ${level} }
`;
}

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('the daemon with a sink, stopping', () => {
  it('a connection check that answers after the stop logs nothing after "stopped"', async () => {
    const server = await steeredInflux();
    const daemon = startDaemon(config(server.port));
    try {
      await server.waitFor('/ping');
      await daemon.stop();
      assert.equal(daemon.logs.at(-1)?.msg, 'stopped');
      // Once its /ping is answered (or dropped by the sink's close), the check ends: with a problem
      // it would warn about, or by going on to its target, whose 404 it would warn about.
      server.releasePing();
      const deadline = Date.now() + 10_000;
      while (server.pingsOver() === 0 && Date.now() < deadline) await sleep(20);
      assert.ok(server.pingsOver() > 0, `the held /ping is over (${server.paths.join(', ')})`);
      await sleep(300);
      assert.equal(daemon.logs.at(-1)?.msg, 'stopped', `nothing after "stopped":\n${daemon.logs.map((r) => r.msg).join('\n')}`);
    } finally {
      await server.close();
      daemon.cleanup();
    }
  });

  it('the stop returns once delivery has stopped and leaves no timer behind (the delivery grace timer is cleared)', async () => {
    const server = await steeredInflux();
    server.releasePing();
    const before = timers();
    const daemon = startDaemon(config(server.port));
    try {
      await server.waitFor('/api/v2/write');
      await daemon.stop();
      assert.equal(daemon.logs.at(-1)?.msg, 'stopped');
      assert.equal(timers(), before, `timers left running after the stop: ${process.getActiveResourcesInfo().join(', ')}`);
    } finally {
      await server.close();
      daemon.cleanup();
    }
  });
});
