import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DomoticzServer } from '../support/domoticz-server.js';

interface Recorded {
  readonly label: string;
  readonly request: string;
  readonly auth: string;
  readonly http_status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

// A copy of ../shared/fixtures/domoticz-2025.1-recorded.jsonl: 166 requests to a real Domoticz 2025.1.
const RECORDING = new URL('../../../test/fixtures/domoticz-2025.1-recorded.jsonl', import.meta.url);
const SHARED_RECORDING = new URL('../../../../shared/fixtures/domoticz-2025.1-recorded.jsonl', import.meta.url);
export const recording: Recorded[] = readFileSync(RECORDING, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Recorded);

// Fields that hold the clock, or the trend Domoticz computes from its temperature log:
// they vary from run to run, so both sides have them replaced before comparing.
const VARYING = new Set(['ActTime', 'LastUpdate', 'trend']);

function normalised(body: string): unknown {
  return JSON.parse(body, (key, value: unknown) => (VARYING.has(key) ? '<varies>' : value));
}

describe('Domoticz test double replays the recording of a real Domoticz 2025.1', () => {
  const servers: DomoticzServer[] = [];
  after(async () => Promise.all(servers.map((s) => s.close())));

  it('replays the shared recording: the copy under test/fixtures is ../shared/fixtures\' own', { skip: existsSync(SHARED_RECORDING) ? false : `${SHARED_RECORDING.pathname} absent: the copy is not compared` }, () => {
    assert.equal(readFileSync(RECORDING, 'utf8'), readFileSync(SHARED_RECORDING, 'utf8'));
  });

  it('answers every recorded request with the recorded status and body', async () => {
    const main = await DomoticzServer.start();
    const fresh = await DomoticzServer.start({ noWebPassword: true });
    servers.push(main, fresh);
    let cookie = '';
    for (const [index, entry] of recording.entries()) {
      // State changes the recording made outside the HTTP API (a restart with other settings).
      if (entry.label.startsWith('C3a')) main.settings.allowPlainBasicAuth = true;
      if (entry.label.startsWith('C4a')) main.settings.trustedNetworks = '127.0.0.1';
      // Domoticz's 5-minute short-log tick happened between B1a and the earlier updates.
      if (entry.label.startsWith('B1a')) main.sampleShortLog();
      const target = entry.request.includes(':18081/') ? fresh : main;
      const path = entry.request.replace(/^GET http:\/\/127\.0\.0\.1:1808[01]/, '');
      const headers: Record<string, string> = {};
      if (entry.auth.startsWith('Basic ')) headers['Authorization'] = `Basic ${Buffer.from(entry.auth.slice(6)).toString('base64')}`;
      if (entry.auth === 'session cookie') headers['Cookie'] = cookie;
      const response = await fetch(target.url + path, { headers, signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      const what = `#${index} ${entry.label}`;
      assert.equal(response.status, entry.http_status, what);
      assert.equal(response.headers.get('www-authenticate'), null, `${what}: Domoticz sends no challenge`);
      assert.equal(response.headers.get('content-type'), entry.headers['Content-Type'] ?? 'application/json;charset=UTF-8', what);
      const setCookie = response.headers.get('set-cookie');
      if (entry.headers['Set-Cookie']?.startsWith('DMZSID=none')) assert.equal(setCookie, entry.headers['Set-Cookie'], what);
      if (entry.label.startsWith('A9')) cookie = (setCookie ?? '').split(';')[0] ?? '';
      if (entry.body.trimStart().startsWith('{')) {
        // getsettings' 70-odd settings are not modelled: only its status and title are compared.
        const expected = normalised(entry.body) as Record<string, unknown>;
        const actual = normalised(body) as Record<string, unknown>;
        if (path.includes('param=getsettings')) assert.deepEqual({ status: actual['status'] }, { status: expected['status'] }, what);
        else assert.deepEqual(actual, expected, what);
      } else {
        assert.equal(body, entry.body, what);
      }
    }
  });
});
