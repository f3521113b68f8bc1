// DomoticzClient against the Domoticz double (test/support/domoticz-server.ts, which answers as
// the recorded Domoticz 2025.1) and, for what no Domoticz answers (a redirect, a web page, a 5xx,
// a server that never answers, an answer without end, TLS), loopback HTTP(S) doubles.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DomoticzAuth } from '../../src/config/index.js';
import { SinkError } from '../../src/delivery/sink.js';
import { DomoticzClient, type DomoticzClientOptions } from '../../src/sinks/domoticz/client.js';
import { DomoticzServer } from '../support/domoticz-server.js';
import { onPath } from '../support/programs.js';
import { eventually, startHttpDouble, type DoubleHandler, type HttpDouble } from '../support/servers.js';

const NONE: DomoticzAuth = { kind: 'none' };
const ADMIN: DomoticzAuth = { kind: 'basic', username: 'admin', password: 'domoticz' };
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.secret-token-value';

async function failure(promise: Promise<unknown>): Promise<SinkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SinkError, `a SinkError, not ${String(error)}`);
    return error;
  }
  assert.fail('the call was taken as confirmed');
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

describe('DomoticzClient against the Domoticz double', () => {
  const servers: DomoticzServer[] = [];
  const doubles: HttpDouble[] = [];
  const clients: DomoticzClient[] = [];
  after(async () => {
    for (const client of clients) await client.close();
    for (const server of servers) await server.close();
    for (const double of doubles) await double.close();
  });
  const domoticz = async (options: Parameters<typeof DomoticzServer.start>[0] = {}): Promise<DomoticzServer> => {
    const server = await DomoticzServer.start(options);
    servers.push(server);
    return server;
  };
  const http = async (handle: DoubleHandler, tls?: Parameters<typeof startHttpDouble>[1]): Promise<HttpDouble> => {
    const double = await startHttpDouble(handle, tls);
    doubles.push(double);
    return double;
  };
  const client = (url: string, more: Partial<DomoticzClientOptions> = {}): DomoticzClient => {
    const made = new DomoticzClient({ url, auth: NONE, timeoutMs: 5000, ca: null, ...more });
    clients.push(made);
    return made;
  };
  /** A trusted-network Domoticz with one text device (idx 1) and one temperature device (idx 2). */
  const withDevices = async (): Promise<DomoticzServer> => {
    const server = await domoticz({ settings: { trustedNetworks: '127.0.0.1' } });
    const setup = client(server.url);
    await setup.command('addhardware', { htype: 15, name: 'logger' });
    await setup.command('createdevice', { idx: 2, sensorname: 'info', sensormappedtype: '0xF313' });
    await setup.command('createdevice', { idx: 2, sensorname: 'T1', sensormappedtype: '0x5005' });
    return server;
  };

  it('says where it sends, without credentials', () => {
    assert.equal(client('http://192.168.2.253:8080', { auth: ADMIN }).description, 'Domoticz at http://192.168.2.253:8080');
    assert.equal(client('https://home.example/domoticz').description, 'Domoticz at https://home.example/domoticz');
  });

  it('OK: resolves with the answer; the svalue is URL-encoded (";" and spaces) and stored exactly as sent', async () => {
    const server = await withDevices();
    const dz = client(server.url);
    const answer = await dz.command('udevice', { idx: 1, nvalue: 0, svalue: 'leak in the heating system; T1 outside measuring range' });
    assert.deepEqual(answer, { status: 'OK', title: 'Update Device' });
    assert.equal(server.requests.at(-1)?.url, '/json.htm?type=command&param=udevice&idx=1&nvalue=0&svalue=leak%20in%20the%20heating%20system%3B%20T1%20outside%20measuring%20range');
    const read = await dz.command('getdevices', { rid: 1 });
    const [device] = read['result'] as Record<string, unknown>[];
    assert.equal(device?.['Data'], 'leak in the heating system; T1 outside measuring range');
  });

  it('200 "status":"ERR" (an idx that does not exist) is rejected, naming the call', async () => {
    const server = await withDevices();
    const error = await failure(client(server.url).command('udevice', { idx: 99, nvalue: 0, svalue: '1' }));
    assert.equal(error.kind, 'rejected');
    assert.equal(error.status, 200);
    assert.equal(error.message, `Domoticz at ${server.url} refused param=udevice: "status":"ERR"`);
  });

  it('401 with auth none says to add this machine to Trusted Networks', async () => {
    const server = await domoticz();
    const error = await failure(client(server.url).command('udevice', { idx: 1, nvalue: 0, svalue: '1' }));
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 401);
    assert.equal(error.message, `Domoticz at ${server.url} answered 401 Unauthorized: Domoticz asks for credentials: add this machine's address to Setup → Settings → Security → Trusted Networks (or use auth: basic)`);
    assert.equal(server.requests[0]?.authorization, undefined, 'auth none sends no Authorization header');
  });

  it('401 with auth basic over http:// names both causes: the account, or "Allow Basic-Auth over plain HTTP" off (even from a trusted network)', async () => {
    const server = await domoticz({ settings: { trustedNetworks: '127.0.0.1' } });
    const error = await failure(client(server.url, { auth: ADMIN }).command('getdevices', { rid: 1 }));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /answered 401 Unauthorized: Domoticz refuses the account: either it is wrong \(check sinks\.domoticz\.username and the password\), or "Allow Basic-Auth authentication over plain HTTP" is off \(Setup → Settings → Security\), which refuses Basic over http:\/\/ even from a trusted network/);
    assert.equal(server.requests[0]?.authorization, `Basic ${Buffer.from('admin:domoticz').toString('base64')}`, 'Basic goes up front: Domoticz sends no challenge');
    server.settings.allowPlainBasicAuth = true;
    assert.equal((await client(server.url, { auth: ADMIN }).command('getdevices', { rid: 1 }))['status'], 'OK', 'the same call once the setting is on');
    const wrong = await failure(client(server.url, { auth: { ...ADMIN, password: 'wrong' } }).command('getdevices', { rid: 1 }));
    assert.equal(wrong.kind, 'auth');
  });

  it('401 with auth bearer says the token is wrong or expired, and sends it as Bearer', async () => {
    const server = await domoticz();
    const error = await failure(client(server.url, { auth: { kind: 'bearer', token: TOKEN } }).command('getdevices', { rid: 1 }));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /answered 401 Unauthorized: Domoticz refuses the token: it is wrong or expired/);
    assert.equal(server.requests[0]?.authorization, `Bearer ${TOKEN}`);
  });

  it('403 (a Viewer updating a device) says the account lacks the rights', async () => {
    const server = await withDevices();
    server.settings.allowPlainBasicAuth = true;
    await client(server.url).command('adduser', { enabled: 'true', username: 'viewer', password: md5('look'), rights: 0, TabsEnabled: 0 });
    const error = await failure(client(server.url, { auth: { kind: 'basic', username: 'viewer', password: 'look' } }).command('udevice', { idx: 2, nvalue: 0, svalue: '1' }));
    assert.equal(error.kind, 'auth');
    assert.equal(error.status, 403);
    assert.match(error.message, /answered 403 Forbidden to param=udevice: the account lacks the rights \(a Viewer cannot update devices; creating devices with `kamstrup-logger domoticz setup` needs an admin\)/);
  });

  it('404 (not Domoticz\'s /json.htm) says the url is wrong', async () => {
    const server = await domoticz();
    const error = await failure(client(`${server.url}/wrong`).command('getversion'));
    assert.equal(error.kind, 'wrong-url');
    assert.equal(error.status, 404);
    assert.equal(server.requests[0]?.url, '/wrong/json.htm?type=command&param=getversion', 'a path prefix in the url goes before /json.htm');
    assert.match(error.message, /answered 404 Not Found to \/json\.htm: is sinks\.domoticz\.url Domoticz/);
  });

  for (const status of [301, 302, 307, 308]) {
    it(`a ${status} redirect is not followed: the message names the url to use instead`, async () => {
      const redirecting = await http((_request, response) => void response.writeHead(status, { location: `https://dz.example:8443/domoticz/json.htm?type=command&param=getversion` }).end());
      const error = await failure(client(redirecting.url).command('getversion'));
      assert.equal(error.kind, 'wrong-url');
      assert.equal(error.status, status);
      assert.equal(error.message, `Domoticz at ${redirecting.url} redirects to https://dz.example:8443/domoticz/json.htm?type=command&param=getversion: redirects are not followed; use https://dz.example:8443/domoticz as sinks.domoticz.url`);
      assert.equal(redirecting.requests.length, 1, 'nothing followed');
    });
  }

  it('an HTML page answered 200 (a login page) is not Domoticz', async () => {
    const page = await http((_request, response) => void response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body><form>Sign in</form></body></html>'));
    const error = await failure(client(page.url).command('udevice', { idx: 1, nvalue: 0, svalue: '1' }));
    assert.equal(error.kind, 'wrong-url');
    assert.match(error.message, /answered param=udevice with an HTML page, not Domoticz's JSON/);
    const json = await http((_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    assert.equal((await failure(client(json.url).command('getversion'))).kind, 'wrong-url', 'JSON without "status" is no Domoticz answer either');
  });

  for (const status of [500, 502, 503, 429]) {
    it(`${status} is unavailable, with Retry-After`, async () => {
      const busy = await http((_request, response) => void response.writeHead(status, { 'retry-after': '7', 'content-type': 'text/plain' }).end('busy'));
      const error = await failure(client(busy.url).command('udevice', { idx: 1, nvalue: 0, svalue: '1' }));
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.status, status);
      assert.equal(error.retryAfterMs, 7000);
    });
  }

  it('a server that never answers: each call fails after timeoutMs and its connection is destroyed', { timeout: 20_000 }, async () => {
    const silent = await http(() => undefined);
    const dz = client(silent.url, { timeoutMs: 200 });
    for (let call = 0; call < 2; call++) {
      const error = await failure(dz.command('udevice', { idx: 1, nvalue: 0, svalue: '1' }));
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.message, `Domoticz at ${silent.url} did not answer param=udevice within 200 ms: check the url, or raise sinks.domoticz.timeout_ms for a slow server`);
    }
    assert.equal(silent.requests.length, 2);
    await eventually('connections still open after two timed-out calls', () => silent.openConnections(), (open) => open === 0);
  });

  it('an answer without end is cut at 64 KiB: wrong-url, not the deadline, and its connection closes', { timeout: 20_000 }, async () => {
    let sent = 0;
    const streaming = await http((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = `{"status":"OK","x":"${'x'.repeat(16 * 1024)}`;
      const pump = setInterval(() => {
        sent += chunk.length;
        response.write(chunk);
      }, 10);
      response.on('close', () => clearInterval(pump));
    });
    const error = await failure(client(streaming.url, { timeoutMs: 60_000 }).command('getdevices', { rid: 1 }));
    assert.equal(error.kind, 'wrong-url');
    assert.match(error.message, /with more than 65536 bytes/);
    assert.ok(sent < 4 * 1024 * 1024, `${sent} bytes were sent before the call failed`);
    await eventually('the connection of the cut answer still open', () => streaming.openConnections(), (open) => open === 0);
  });

  it('connection refused is unavailable, in plain words', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const error = await failure(client(`http://127.0.0.1:${port}`).command('getversion'));
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.message, `cannot reach Domoticz at http://127.0.0.1:${port} (ECONNREFUSED): check the url and that the server runs`);
  });

  it('one keep-alive connection carries every call, and calls made at once go one after the other', async () => {
    const server = await withDevices();
    const before = server.connections;
    const dz = client(server.url);
    for (let call = 0; call < 5; call++) await dz.command('udevice', { idx: 2, nvalue: 0, svalue: `6${call}.5` });
    assert.equal(server.connections - before, 1, 'five calls, one connection');

    let open = 0;
    let most = 0;
    const slow = await http((request, response) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'OK', title: request.url }));
      }, 20);
    });
    const queued = client(slow.url);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((idx) => queued.command('udevice', { idx, nvalue: 0, svalue: '1' })));
    assert.equal(most, 1, 'requests never overlap');
    assert.deepEqual(answers.map((answer) => /idx=(\d)/.exec(String(answer['title']))?.[1]), ['1', '2', '3', '4', '5'], 'in the order called');
    assert.deepEqual(slow.requests.map((line) => /idx=(\d)/.exec(line)?.[1]), ['1', '2', '3', '4', '5']);
  });

  it('a call waiting its turn gets its whole timeout once it is sent: the wait does not count', { timeout: 20_000 }, async () => {
    const slow = await http((_request, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK"}'), 400);
    });
    // Four calls at once, each answered after 400 ms with 1000 ms to answer: the fourth waits 1200 ms for its turn.
    const queued = client(slow.url, { timeoutMs: 1000 });
    const answers = await Promise.all([1, 2, 3, 4].map((idx) => queued.command('udevice', { idx, nvalue: 0, svalue: '1' })));
    assert.deepEqual(answers.map((answer) => answer['status']), ['OK', 'OK', 'OK', 'OK']);
  });

  it('a kept-alive connection the server drops as a call goes out is replaced once: the call succeeds', async () => {
    let seen = 0;
    const dropping = await http((request, response) => {
      seen++;
      // The second request arrives on the kept-alive connection: dropped unanswered, as a server does that closed it idle.
      if (seen === 2) return void request.socket.destroy();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK","title":"Update Device"}');
    });
    const dz = client(dropping.url);
    await dz.command('udevice', { idx: 1, nvalue: 0, svalue: '1' });
    assert.equal((await dz.command('udevice', { idx: 1, nvalue: 0, svalue: '2' }))['status'], 'OK');
    assert.deepEqual(dropping.requests.map((line) => /svalue=(\d)/.exec(line)?.[1]), ['1', '2', '2']);
    // A fresh connection that fails is not sent again.
    const silent = await http((request) => void request.socket.destroy());
    assert.equal((await failure(client(silent.url).command('getversion'))).kind, 'unavailable');
    assert.equal(silent.requests.length, 1);
  });

  it('close() ends a call in flight and later calls reject', { timeout: 20_000 }, async () => {
    const silent = await http(() => undefined);
    const dz = new DomoticzClient({ url: silent.url, auth: NONE, timeoutMs: 600_000, ca: null });
    const inFlight = failure(dz.command('udevice', { idx: 1, nvalue: 0, svalue: '1' }));
    await eventually('the call reaching the server', () => silent.requests.length, (n) => n === 1);
    await dz.close();
    assert.equal((await inFlight).kind, 'unavailable');
    await eventually('connections still open after close()', () => silent.openConnections(), (open) => open === 0);
    const later = await failure(dz.command('getversion'));
    assert.match(later.message, /is closed/);
    assert.equal(silent.requests.length, 1, 'nothing sent after close()');
  });

  it('credentials are never in a URL the server saw nor in any message', async () => {
    const account = { kind: 'basic', username: 'logger', password: 'S3cret-pass' } as const;
    const secrets = [account.password, Buffer.from('logger:S3cret-pass').toString('base64'), TOKEN];
    const messages: string[] = [];
    const server = await withDevices();
    server.settings.allowPlainBasicAuth = true;
    await client(server.url).command('adduser', { enabled: 'true', username: 'logger', password: md5(account.password), rights: 1, TabsEnabled: 0 });
    const setupCalls = server.requests.length;
    const fresh = await domoticz();
    for (const target of [server, fresh]) {
      for (const auth of [account, { kind: 'bearer', token: TOKEN } as const]) {
        const dz = client(target.url, { auth });
        for (const [param, params] of [['udevice', { idx: 2, nvalue: 0, svalue: '61' }], ['getdevices', { rid: 2 }], ['udevice', { idx: 77, nvalue: 0, svalue: '1' }]] as const) {
          await dz.command(param, params).catch((error: unknown) => messages.push(error instanceof Error ? error.message : String(error)));
        }
      }
    }
    assert.ok(messages.length > 0);
    for (const seen of [...server.requests.slice(setupCalls), ...fresh.requests].map((request) => request.url).concat(messages)) {
      for (const secret of secrets) assert.ok(!seen.includes(secret), `${JSON.stringify(seen)} holds a credential`);
      assert.doesNotMatch(seen, /username=|password=|token=/);
    }
  });
});

describe('DomoticzClient over https', () => {
  const openssl = onPath('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'kamstrup-dz-tls-'));
  const doubles: HttpDouble[] = [];
  const clients: DomoticzClient[] = [];
  let tls: { key: string; cert: string };
  const unauthorized: DoubleHandler = (_request, response) => void response.writeHead(401, { 'content-type': 'text/html;charset=UTF-8' }).end('<html><head><title>Unauthorized</title></head></html>');
  before(() => {
    if (!openssl) return;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  after(async () => {
    for (const client of clients) await client.close();
    for (const double of doubles) await double.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = (options: DomoticzClientOptions): DomoticzClient => {
    const made = new DomoticzClient(options);
    clients.push(made);
    return made;
  };
  const skip = openssl ? false : 'openssl not installed (apt install openssl): https tests skipped';

  it('a self-signed certificate is said in plain words with the fix (wrong-url); trusted once given as ca; 401 over https says to check the account', { skip }, async () => {
    const server = await startHttpDouble(unauthorized, tls);
    doubles.push(server);
    const untrusting = await failure(client({ url: server.url, auth: ADMIN, timeoutMs: 5000, ca: null }).command('getversion'));
    assert.equal(untrusting.kind, 'wrong-url');
    assert.equal(untrusting.message, `the certificate of ${server.url} is self-signed, so not trusted here (DEPTH_ZERO_SELF_SIGNED_CERT): give the server's CA certificate (PEM) as sinks.domoticz.ca_file, or set NODE_EXTRA_CA_CERTS=/path/to/ca.pem for the logger`);
    const refused = await failure(client({ url: server.url, auth: ADMIN, timeoutMs: 5000, ca: tls.cert }).command('getdevices', { rid: 1 }));
    assert.equal(refused.kind, 'auth');
    assert.equal(refused.message, `Domoticz at ${server.url} answered 401 Unauthorized: Domoticz refuses the account: check sinks.domoticz.username and the password`);
  });

  it('https:// to a plain HTTP port says to use http://', async () => {
    const plain = await startHttpDouble(unauthorized);
    doubles.push(plain);
    const url = plain.url.replace('http:', 'https:');
    const error = await failure(client({ url, auth: NONE, timeoutMs: 5000, ca: null }).command('getversion'));
    assert.equal(error.kind, 'wrong-url');
    assert.equal(error.message, `${url} speaks plain HTTP, not HTTPS: use ${plain.url} in sinks.domoticz.url`);
  });
});
