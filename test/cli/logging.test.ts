// The daemon's logger, in process: secrets never reach a log line, in JSON lines and in the
// human-readable ones alike, wherever config and errors put them; the line shape `run` relies on.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

const secretKeyNames = ['token', 'password', 'passwd', 'secret', 'apiKey', 'api_key', 'authorization', 'Authorization', 'influx_token', 'INFLUX_PASSWORD', 'credentials'];
import type { LogLevel } from '../../src/config/index.js';

/** A logger writing into memory; `text()` is everything written so far. */
function capture(options: { pretty: boolean; level?: LogLevel }): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: options.level ?? 'info', pretty: options.pretty, destination });
  return { logger, text: () => chunks.join('') };
}

/** Lets a pretty stream (a transform in front of the destination) pass its lines on. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const SECRETS = {
  token: 'tok-3f9a1c-top',
  password: 'pw-Hunter2-top',
  nestedToken: 'tok-77e0b2-influx',
  errorPassword: 'pw-err-5521',
  causeToken: 'tok-cause-9d1e',
  apiKey: 'key-api-0aa1',
  secret: 'sec-4e4e',
} as const;

/** Logs secrets where the daemon could put them: top level, a config section, an error's own property. */
function logSecrets(logger: Logger): void {
  logger.info({ token: SECRETS.token, password: SECRETS.password }, 'top-level secrets');
  logger.info({ sinks: { influxdb: { url: 'http://127.0.0.1:8086', token: SECRETS.nestedToken } } }, 'a config section');
  const error = Object.assign(new Error('login refused'), { code: 'unauthorized', password: SECRETS.errorPassword });
  logger.error({ err: error, meter: 'home' }, 'an error carrying a password');
  const wrapped = new Error('delivery failed', { cause: Object.assign(new Error('401'), { token: SECRETS.causeToken }) });
  logger.warn({ err: wrapped }, 'an error whose cause carries a token');
  logger.info({ apiKey: SECRETS.apiKey, options: { secret: SECRETS.secret } }, 'other secret keys');
}

function assertNoSecret(text: string): void {
  for (const [what, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `the ${what} secret leaked:\n${text}`);
}

describe('log lines never hold a secret', () => {
  it('JSON lines: every known secret key is [redacted], at the top, nested, and in errors under err', () => {
    const { logger, text } = capture({ pretty: false });
    logSecrets(logger);
    const output = text();
    assertNoSecret(output);
    const lines = output.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    const [top, section, withError, withCause, others] = lines as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual([top.token, top.password], ['[redacted]', '[redacted]']);
    assert.deepEqual(section.sinks, { influxdb: { url: 'http://127.0.0.1:8086', token: '[redacted]' } }, 'only the secret goes: the url stays');
    const err = withError.err as Record<string, unknown>;
    assert.equal(err.password, '[redacted]');
    assert.equal(err.message, 'login refused', 'the error itself stays readable');
    assert.equal(err.code, 'unauthorized', 'and keeps its code');
    assert.equal(withError.meter, 'home');
    assert.equal(((withCause.err as Record<string, unknown>).cause as Record<string, unknown>).token, '[redacted]');
    assert.equal(others.apiKey, '[redacted]');
    assert.deepEqual(others.options, { secret: '[redacted]' });
  });

  it('human-readable lines (--pretty): the same secrets are [redacted]', async () => {
    const { logger, text } = capture({ pretty: true });
    logSecrets(logger);
    await settle();
    const output = text();
    assert.match(output, /INFO: top-level secrets/);
    assert.match(output, /ERROR: an error carrying a password/);
    assertNoSecret(output);
    assert.ok((output.match(/\[redacted\]/g) ?? []).length >= 7, `each secret replaced:\n${output}`);
  });

  it('every spelling of a secret key is redacted at every depth', () => {
    const { logger, text } = capture({ pretty: false });
    secretKeyNames.forEach((key, i) => {
      const value = `s3cr3t-${key}-${i}`;
      logger.info({ [key]: `${value}-a`, a: { [key]: `${value}-b`, b: { [key]: `${value}-c`, c: { [key]: `${value}-d` } } } }, key);
    });
    const output = text();
    assert.doesNotMatch(output, /s3cr3t-/, output);
    assert.equal((output.match(/\[redacted\]/g) ?? []).length, secretKeyNames.length * 4);
  });

  it('a secret key in a list entry is redacted too', () => {
    const { logger, text } = capture({ pretty: false });
    logger.info({ sinks: [{ name: 'influxdb', token: SECRETS.token }] }, 'a list of sections');
    assertNoSecret(text());
    assert.match(text(), /"token":"\[redacted\]"/);
  });

  it(
    'a secret key deeper than 4 levels is redacted too',
    () => {
      const { logger, text } = capture({ pretty: false });
      const inner = Object.assign(new Error('inner'), { options: { token: SECRETS.token } });
      logger.error({ err: new Error('outer', { cause: new Error('middle', { cause: inner }) }) }, 'a deep cause');
      assertNoSecret(text());
    },
  );

  it(
    'secret keys in other spellings (Authorization, influx_token, INFLUX_PASSWORD) are redacted too',
    () => {
      const { logger, text } = capture({ pretty: false });
      logger.info({ headers: { Authorization: `Token ${SECRETS.token}` }, influx_token: SECRETS.nestedToken, INFLUX_PASSWORD: SECRETS.password }, 'other spellings');
      assertNoSecret(text());
    },
  );
});

describe('values that are no plain objects survive the redaction', () => {
  it('a URL is logged as its text, its password redacted', () => {
    const { logger, text } = capture({ pretty: false });
    logger.warn({ target: new URL('http://logger:s3cret@127.0.0.1:8086/write'), ping: new URL('http://127.0.0.1:8086/ping') }, 'a url');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line.target, 'http://logger:redacted@127.0.0.1:8086/write');
    assert.equal(line.ping, 'http://127.0.0.1:8086/ping');
  });

  it('a Date is logged as its ISO time, not {} ("job skipped" logs its tick)', () => {
    const { logger, text } = capture({ pretty: false });
    const tick = new Date(Date.UTC(2026, 9, 25, 1, 0, 0));
    logger.warn({ meter: 'home', job: 'live', tick, nested: { at: tick, token: SECRETS.token } }, 'job skipped: its previous run on this meter is still going');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line.tick, '2026-10-25T01:00:00.000Z');
    assert.deepEqual(line.nested, { at: '2026-10-25T01:00:00.000Z', token: '[redacted]' }, 'and secrets beside it are still redacted');
  });

  it('an Error under another key than err keeps its message and its cause, its secrets redacted', () => {
    const { logger, text } = capture({ pretty: false });
    const error = new Error('write refused', { cause: Object.assign(new Error('401 Unauthorized'), { token: SECRETS.causeToken }) });
    logger.warn({ failure: error }, 'delivery failed');
    assertNoSecret(text());
    const failure = (JSON.parse(text()) as { failure: { message: string; cause: { message: string; token: string } } }).failure;
    assert.equal(failure.message, 'write refused');
    assert.deepEqual([failure.cause.message, failure.cause.token], ['401 Unauthorized', '[redacted]']);
  });

  it('human-readable lines show the Date too', async () => {
    const { logger, text } = capture({ pretty: true });
    logger.warn({ tick: new Date(Date.UTC(2026, 9, 25, 1, 0, 0)) }, 'job skipped');
    await settle();
    assert.match(text(), /"tick":"2026-10-25T01:00:00\.000Z"/, text());
  });
});

describe('the line shape', () => {
  it('a pretty line shows the first six of a record\'s values in its message, and counts the rest', async () => {
    const { logger, text } = capture({ pretty: true });
    const values = { heat_energy: '74.561 MWh', power: '2.6 kW', t1: '72.97 °C', t2: '52.22 °C', t_diff: '20.75 K', flow: '110 l/h', volume: '2698.06 m³', max_flow_date_month: '2026-11-17' };
    logger.info({ meter: 'home', readings: 8, values }, 'job run ok');
    await settle();
    assert.match(text(), /INFO: job run ok · heat_energy 74\.561 MWh · power 2\.6 kW · t1 72\.97 °C · t2 52\.22 °C · t_diff 20\.75 K · flow 110 l\/h · \+2 more \{"meter":"home","readings":8\}/, text());
  });

  it('a JSON line keeps the values as a field and the message short', () => {
    const { logger, text } = capture({ pretty: false });
    logger.info({ values: { heat_energy: '74.561 MWh' } }, 'job run ok');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.deepEqual([line.msg, line.values], ['job run ok', { heat_energy: '74.561 MWh' }]);
  });

  it('a JSON line has level as a label, an ISO time, msg, and no pid or hostname', () => {
    const { logger, text } = capture({ pretty: false });
    logger.info({ meter: 'home', job: 'live', readings: 3 }, 'job run ok');
    const line = JSON.parse(text()) as Record<string, unknown>;
    assert.equal(line.level, 'info');
    assert.match(String(line.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.deepEqual([line.msg, line.meter, line.job, line.readings], ['job run ok', 'home', 'live', 3]);
    assert.ok(!('pid' in line) && !('hostname' in line), text());
  });

  it('the level filters: warn drops info and debug', () => {
    const { logger, text } = capture({ pretty: false, level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    assert.deepEqual(text().trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg), ['w']);
  });
});
