// Secrets and values from files: every KAMSTRUP_…_FILE variable works as its YAML key does, a
// bad one is refused naming the variable and the path, and no message shows a secret's value.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { envName, formatKey, type KeyPath } from '../../src/config/keys.js';
import { secretKeys } from '../../src/config/schema.js';
import { MAX_VALUE_FILE_BYTES } from '../../src/config/text-file.js';
import { Store } from '../../src/store/index.js';
import { assertExit, killAll, run } from '../cli/helpers.js';
import { configError, minimal, monday, tempDir } from './helpers.js';

after(killAll);

/** An InfluxDB v1 sink, for the credentials in a url. */
const withSink = `${minimal}sinks:\n  influxdb:\n    url: http://127.0.0.1:8086\n    api: v1\n    database: heat\n`;

interface SinkWithSecrets {
  /** What the sink needs to be valid. */
  readonly base: Record<string, string>;
  /** What a secret needs beside it (a password goes with a username). */
  readonly companions: (key: string) => Record<string, string>;
  /** Where the secret is in the resolved config (camelCase). */
  readonly resolvedPath: (key: string) => KeyPath;
}

const sinksWithSecrets: Readonly<Record<string, SinkWithSecrets>> = {
  influxdb: {
    base: { url: 'http://127.0.0.1:8086', api: 'v1', database: 'heat' },
    companions: (key) => (key === 'password' ? { username: 'logger' } : {}),
    resolvedPath: (key) => ['sinks', 'influxdb', key],
  },
  domoticz: {
    base: { url: 'http://127.0.0.1:8080' },
    companions: (key) => (key === 'password' ? { auth: 'basic', username: 'logger' } : { auth: 'bearer' }),
    resolvedPath: (key) => ['sinks', 'domoticz', 'auth', key],
  },
};

/** The sink that holds a secret key. */
function sinkOf(path: KeyPath): SinkWithSecrets & { readonly name: string } {
  const name = String(path[1]);
  const sink = sinksWithSecrets[name];
  assert.ok(path[0] === 'sinks' && path.length === 3 && sink !== undefined, `a new secret key needs its place in sinksWithSecrets: ${formatKey(path)}`);
  return { name, ...sink };
}

/** A secret key's path, list indices taken as the first entry ('meters.*.password' → meters[0].password). */
function pathOf(pattern: string): KeyPath {
  return pattern.split('.').map((segment) => (segment === '*' ? 0 : segment));
}

/** The YAML of the secret's sink with `lines` (and the secret's companions) added. */
function sinkYaml(path: KeyPath, lines: Record<string, string>): string {
  const sink = sinkOf(path);
  const key = String(path[path.length - 1]);
  const entries = Object.entries({ ...sink.base, ...sink.companions(key), ...lines });
  return `${minimal}sinks:\n  ${sink.name}:\n${entries.map(([key, value]) => `    ${key}: ${value}\n`).join('')}`;
}

function load(yaml: string, env: Record<string, string>): ReturnType<typeof loadConfig> {
  const directory = tempDir();
  writeFileSync(join(directory, 'kamstrup-logger.yaml'), yaml);
  return loadConfig({ path: join(directory, 'kamstrup-logger.yaml'), env, now: monday });
}

/** The value at a key path of the resolved config (camelCase keys). */
function resolvedAt(config: unknown, path: KeyPath): unknown {
  let value = config;
  for (const segment of path) {
    const key = typeof segment === 'number' ? segment : segment.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function secretFile(content: string): string {
  const file = join(tempDir(), 'secret');
  writeFileSync(file, content);
  return file;
}

for (const pattern of secretKeys) {
  const path = pathOf(pattern);
  const key = String(path[path.length - 1]);
  const variable = `${envName(path)}_FILE`;
  const resolved = sinkOf(path).resolvedPath(key);

  describe(`the secret ${formatKey(path)} from a file`, () => {
    it(`${variable} sets it, and beats the YAML's ${key} and its ${key}_file`, () => {
      const fromEnv = secretFile('from-the-variable\n');
      assert.equal(resolvedAt(load(sinkYaml(path, {}), { [variable]: fromEnv }).config, resolved), 'from-the-variable');
      assert.equal(resolvedAt(load(sinkYaml(path, { [key]: 'from-the-yaml' }), { [variable]: fromEnv }).config, resolved), 'from-the-variable');
      // The YAML's file is not even read: the variable wins.
      assert.equal(resolvedAt(load(sinkYaml(path, { [`${key}_file`]: '/nonexistent/secret' }), { [variable]: fromEnv }).config, resolved), 'from-the-variable');
      // And the plain variable beats the YAML's file the same way.
      assert.equal(resolvedAt(load(sinkYaml(path, { [`${key}_file`]: '/nonexistent/secret' }), { [envName(path)]: 'plain' }).config, resolved), 'plain');
      assert.equal(resolvedAt(load(sinkYaml(path, { [`${key}_file`]: secretFile('from-the-yaml-file\n') }), {}).config, resolved), 'from-the-yaml-file');
    });

    it(`refuses a ${variable} whose file is missing, a directory, empty, too large or not UTF-8, naming the variable and the path`, () => {
      const directory = tempDir();
      mkdirSync(join(directory, 'a-directory'));
      const cases: [string, string][] = [
        [join(directory, 'missing'), 'no such file'],
        [join(directory, 'a-directory'), 'it is a directory'],
        [secretFile('\n'), 'the file is empty'],
        [secretFile('x'.repeat(MAX_VALUE_FILE_BYTES + 1)), 'more than the 64 KiB'],
      ];
      const latin1 = join(directory, 'latin1');
      writeFileSync(latin1, Buffer.from('café', 'latin1'));
      cases.push([latin1, 'not UTF-8 at line 1 (column 4']);
      for (const [file, cause] of cases) {
        const error = configError(() => load(sinkYaml(path, {}), { [variable]: file }));
        assert.equal(error.problems.length, 1, `one problem for ${file}: ${error.format()}`);
        const problem = error.problems[0];
        assert.equal(problem?.env, variable);
        assert.ok(problem?.message.includes(JSON.stringify(file)), `names the path: ${problem?.message}`);
        assert.ok(problem?.message.includes(cause), `says "${cause}": ${problem?.message}`);
        assert.match(error.format(), new RegExp(`^environment ${variable}: cannot read the ${key} from `));
      }
    });

    it(`refuses a ${variable} whose file this user cannot read`, { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, () => {
      const file = secretFile('s3cret\n');
      chmodSync(file, 0o000);
      const error = configError(() => load(sinkYaml(path, {}), { [variable]: file }));
      assert.deepEqual(error.problems.map((p) => [p.env, p.message]), [[variable, `cannot read the ${key} from ${JSON.stringify(file)}: permission denied`]]);
    });

    it(`refuses a ${key}_file in the YAML that names a missing or empty file, with that one problem`, () => {
      for (const [file, cause] of [['/nonexistent/secret', 'no such file'], [secretFile(''), 'the file is empty']] as const) {
        const error = configError(() => load(sinkYaml(path, { [`${key}_file`]: file }), {}));
        assert.deepEqual(error.problems.map((p) => p.key), [formatKey([...path.slice(0, -1), `${key}_file`])], error.format());
        assert.ok(error.problems[0]?.message.includes(cause), error.format());
      }
    });

    it(`never shows the value of ${formatKey(path)} in a problem`, () => {
      const secret = '20251234567';
      const holder = envName(path.slice(0, -1));
      const sink = sinkOf(path);
      const mapping = Object.entries({ ...sink.base, ...sink.companions(key) }).map(([k, v]) => `${k}: "${v}", `).join('');
      const attempts: { yaml: string; env: Record<string, string> }[] = [
        { yaml: sinkYaml(path, { [key]: secret }), env: {} },
        { yaml: sinkYaml(path, { [key]: `[${secret}]` }), env: {} },
        { yaml: sinkYaml(path, { [key]: `{ value: ${secret} }` }), env: {} },
        { yaml: minimal, env: { [holder]: `{${mapping}${key}: ${secret}}` } },
        // A mapping the environment gives that is no YAML is text, and may hold the secret too.
        { yaml: minimal, env: { [holder]: `{${mapping}${key}: ${secret}` } },
      ];
      for (const { yaml, env } of attempts) {
        const error = configError(() => load(yaml, env));
        assert.ok(!error.message.includes(secret) && !error.format().includes(secret), `the value is not shown: ${error.format()}`);
      }
      const error = configError(() => load(sinkYaml(path, { [key]: secret }), {}));
      assert.equal(error.problems.find((p) => p.key === formatKey(path))?.message, 'expected text, not a number (not shown: a secret)');
    });
  });
}

describe('credentials in a sink url', () => {
  it('are refused, from the file or the environment, and the problem does not repeat them', () => {
    const yaml = withSink.replace('http://127.0.0.1:8086', 'http://admin:Hunter2pw@127.0.0.1:8086');
    for (const [file, env] of [[yaml, {}], [withSink, { KAMSTRUP_SINKS__INFLUXDB__URL: 'https://admin:Hunter2pw@127.0.0.1:8086' }]] as const) {
      const error = configError(() => load(file, env));
      assert.deepEqual(error.problems.map((p) => p.key), ['sinks.influxdb.url'], error.format());
      assert.match(error.format(), /holds a user name or password \(https?:\/\/…@127\.0\.0\.1:8086\): take them out of it and give them as username and password/);
      assert.doesNotMatch(error.format(), /Hunter2pw/);
    }
  });
});

describe('values of other keys from files', () => {
  it('refuses a _FILE variable of a key that is not secret when its file is empty or a directory', () => {
    const directory = tempDir();
    const empty = join(directory, 'empty');
    writeFileSync(empty, '\n\n');
    const problems = configError(() => load(minimal, { KAMSTRUP_METERS__0__URL_FILE: empty, KAMSTRUP_LOG__LEVEL_FILE: directory })).problems;
    assert.deepEqual(problems.map((p) => [p.env, p.message]), [
      ['KAMSTRUP_METERS__0__URL_FILE', `cannot read the url from ${JSON.stringify(empty)}: the file is empty; write the url in it`],
      ['KAMSTRUP_LOG__LEVEL_FILE', `cannot read the level from ${JSON.stringify(directory)}: it is a directory`],
    ]);
  });

  it('takes a missing _FILE variable as the problem, not the key it leaves missing', () => {
    const problems = configError(() => load('meters:\n  - name: home\n', { KAMSTRUP_METERS__0__URL_FILE: '/nonexistent/url' })).problems;
    assert.deepEqual(problems.map((p) => p.key), ['KAMSTRUP_METERS__0__URL_FILE']);
  });
});

describe('the token of a KAMSTRUP_SINKS__INFLUXDB__TOKEN_FILE on the wire', () => {
  it('status sends it in the Authorization header of its v2 check', async () => {
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', headers: request.headers });
      if (request.url?.startsWith('/api/v2/buckets') === true) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ buckets: [{ name: 'heat' }] }));
      } else {
        response.writeHead(204).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const directory = tempDir();
      const database = join(directory, 'k.sqlite');
      Store.open(database, { sinks: [] }).close();
      writeFileSync(join(directory, 'k.yaml'), `${minimal}storage:\n  path: ${database}\nsinks:\n  influxdb:\n    url: http://127.0.0.1:${port}\n    org: home\n    bucket: heat\n`);
      const result = await run(['status', '--config', join(directory, 'k.yaml')], { env: { KAMSTRUP_SINKS__INFLUXDB__TOKEN_FILE: secretFile('t0ken-from-a-file\n') } });
      assertExit(result, 0);
      const check = seen.find((request) => request.url.startsWith('/api/v2/buckets'));
      assert.equal(check?.headers.authorization, 'Token t0ken-from-a-file', `requests: ${JSON.stringify(seen)}\nstdout: ${result.stdout}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('run refuses a missing one with exit 2, naming the variable and the path', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'k.yaml'), `${minimal}sinks:\n  influxdb:\n    url: http://127.0.0.1:8086\n    api: v1\n    database: heat\n    username: logger\n`);
    const result = await run(['run', '--config', join(directory, 'k.yaml')], { env: { KAMSTRUP_SINKS__INFLUXDB__PASSWORD_FILE: '/nonexistent/password' } });
    assertExit(result, 2);
    assert.match(result.stderr, /environment KAMSTRUP_SINKS__INFLUXDB__PASSWORD_FILE: cannot read the password from "\/nonexistent\/password": no such file/);
    assert.doesNotMatch(result.stderr, /go together/);
  });
});
