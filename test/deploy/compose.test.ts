// docker-compose.yml: valid for docker-compose, every file it mounts or builds from present,
// every variable it uses in .env.example (placeholders, never secrets), the three services
// agreeing on org, bucket, database and token, and the logger's health check judging a real store.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { Store, type JobRunInput } from '../../src/store/index.js';
import { skipUnlessOnPath } from '../support/programs.js';
import { jobRun, tempDir } from '../store/helpers.js';
import {
  cleanEnv,
  isMap,
  parseEnvFile,
  readCompose,
  readRepoFile,
  referencedVariables,
  repoRoot,
  resolvedEnvironment,
  runProgram,
  service,
  type YamlMap,
} from './files.js';

const compose = readCompose();
const noDockerCompose = skipUnlessOnPath('docker-compose', 'docker-compose is not installed (apt install docker-compose): the compose file is not checked by it');

describe('docker-compose.yml', () => {
  it('is valid for docker-compose with .env.example as its .env, without a warning', { skip: noDockerCompose }, async () => {
    const result = await runProgram('docker-compose', ['--env-file', '.env.example', 'config', '-q'], { env: cleanEnv() });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'docker-compose warned (a variable .env.example does not set?)');
  });

  it('stops at once without a .env, saying what to set', { skip: noDockerCompose }, async () => {
    const empty = tempDir('kamstrup-env-');
    try {
      const envFile = join(empty.dir, '.env');
      writeFileSync(envFile, '');
      const result = await runProgram('docker-compose', ['--env-file', envFile, 'config', '-q'], { env: cleanEnv() });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /set [A-Z_]+ in \.env \(cp \.env\.example \.env\)/);
    } finally {
      empty.remove();
    }
  });

  it('mounts and builds only from files and directories that exist', () => {
    const checked: string[] = [];
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const { source } of volumesOf(svc)) {
        if (isHostPath(source)) {
          assert.ok(existsSync(join(repoRoot, source)), `${name} mounts ${source}, which does not exist`);
          checked.push(source);
        } else {
          assert.ok(source in compose.volumes, `${name} mounts the volume ${source}, which the top-level volumes do not declare`);
        }
      }
      for (const file of envFilesOf(svc)) assert.ok(existsSync(join(repoRoot, file)), `${name} reads env_file ${file}, which does not exist`);
      const build = buildOf(svc);
      if (build) {
        const dockerfile = join(repoRoot, build.context, build.dockerfile);
        assert.ok(statSync(join(repoRoot, build.context)).isDirectory(), `${name} builds from ${build.context}, no directory`);
        assert.ok(existsSync(dockerfile), `${name} builds with ${dockerfile}, which does not exist`);
        checked.push(dockerfile);
      }
    }
    assert.ok(checked.length >= 4, `expected the init script, both Grafana mounts and the Dockerfile; checked ${checked.join(', ')}`);
  });

  it("mounts Grafana's provisioning and dashboards read-only from the grafana directory", () => {
    const mounts = volumesOf(service(compose, 'grafana'));
    for (const [source, target] of [['./grafana/provisioning', '/etc/grafana/provisioning'], ['./grafana/dashboards', '/var/lib/grafana/dashboards']] as const) {
      const mount = mounts.find((m) => m.target === target);
      assert.ok(mount, `grafana mounts nothing at ${target}`);
      assert.equal(mount.source, source);
      assert.equal(mount.mode, 'ro');
      assert.ok(statSync(join(repoRoot, source)).isDirectory(), `${source} is not a directory`);
    }
  });

  it('pins every image it pulls to a release', () => {
    assert.match(String(service(compose, 'influxdb').image), /^influxdb:2\.\d+\.\d+$/);
    assert.match(String(service(compose, 'grafana').image), /^grafana\/grafana:\d+\.\d+\.\d+$/);
    assert.equal(buildOf(service(compose, 'kamstrup-logger'))?.context, '.');
  });

  it('keeps its data in named volumes', () => {
    for (const [name, target] of [['kamstrup-logger', '/data'], ['influxdb', '/var/lib/influxdb2'], ['grafana', '/var/lib/grafana']] as const) {
      const mount = volumesOf(service(compose, name)).find((m) => m.target === target);
      assert.ok(mount && !isHostPath(mount.source), `${name} keeps ${target} in no named volume`);
    }
    assert.equal(resolvedEnvironment(compose, 'kamstrup-logger').KAMSTRUP_STORAGE__PATH, '/data/kamstrup.sqlite');
  });
});

describe('.env.example', () => {
  const example = parseEnvFile(readRepoFile('.env.example'));

  it('sets every variable docker-compose.yml refers to, and no other', () => {
    const referenced = referencedVariables(compose.strings);
    assert.ok(referenced.size > 5, `found only ${[...referenced].join(', ')}`);
    assert.deepEqual([...referenced].filter((name) => !example.has(name)), [], 'referenced in docker-compose.yml, missing in .env.example');
    assert.deepEqual([...example.keys()].filter((name) => !referenced.has(name)), [], 'in .env.example, used nowhere in docker-compose.yml');
  });

  it('holds placeholders that say to change them, never a real-looking secret', () => {
    const secrets = [...example].filter(([name]) => /PASSWORD|TOKEN|SECRET/.test(name));
    assert.ok(secrets.length >= 3, 'expected the InfluxDB password and token and the Grafana password');
    for (const [name, value] of secrets) {
      assert.match(value, /^change-me(-[a-z]+)*$/, `${name} must be a change-me placeholder, not ${value.length} characters of something else`);
    }
    assert.match(readRepoFile('.env.example'), /CHANGE every password and token/);
  });

  it('is the template; .env itself stays out of git and out of the image', () => {
    assert.ok(readRepoFile('.gitignore').split('\n').includes('.env'), '.gitignore must list .env');
    assert.ok(readRepoFile('.dockerignore').split('\n').includes('.env'), '.dockerignore must list .env (COPY . . would put it in a layer)');
  });
});

describe('the services together', () => {
  const logger = resolvedEnvironment(compose, 'kamstrup-logger');
  const influxdb = resolvedEnvironment(compose, 'influxdb');
  const grafana = resolvedEnvironment(compose, 'grafana');

  it("give the logger a valid config: the simulator, the stack's InfluxDB with its org, bucket and token", () => {
    const store = tempDir('kamstrup-compose-');
    try {
      // The one difference from the container: a store path this machine can write.
      const env = { ...logger, KAMSTRUP_STORAGE__PATH: join(store.dir, 'kamstrup.sqlite') };
      const { config } = loadConfig({ path: join(repoRoot, String(logger.KAMSTRUP_CONFIG)), env });
      assert.equal(config.meters[0]?.url, 'sim://multical-402');
      const sink = config.sinks.influxdb;
      assert.ok(sink, 'config/compose.yaml configures no InfluxDB sink');
      assert.equal(sink.url, 'http://influxdb:8086');
      assert.deepEqual(
        { api: sink.api, org: sink.org, bucket: sink.bucket, token: sink.token },
        { api: 'v2', org: influxdb.DOCKER_INFLUXDB_INIT_ORG, bucket: influxdb.DOCKER_INFLUXDB_INIT_BUCKET, token: influxdb.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN },
      );
    } finally {
      store.remove();
    }
  });

  it("give Grafana's data source the InfluxDB service, the mapped database and the token", () => {
    assert.equal(grafana.INFLUXDB_URL, 'http://influxdb:8086');
    assert.ok('influxdb' in compose.services);
    assert.equal(grafana.INFLUXDB_DATABASE, influxdb.INFLUXDB_DATABASE);
    assert.equal(grafana.INFLUXDB_TOKEN, influxdb.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    assert.equal(grafana.GF_AUTH_ANONYMOUS_ENABLED, 'false', 'anonymous access is an option, off by default');
    assert.equal(influxdb.DOCKER_INFLUXDB_INIT_MODE, 'setup');
  });

  it('start the logger and Grafana once InfluxDB is healthy', () => {
    for (const name of ['kamstrup-logger', 'grafana']) {
      const dependsOn = service(compose, name).depends_on;
      assert.ok(isMap(dependsOn) && isMap(dependsOn.influxdb), `${name} does not depend on influxdb`);
      assert.equal(dependsOn.influxdb.condition, 'service_healthy');
    }
    for (const name of Object.keys(compose.services)) assert.ok(isMap(service(compose, name).healthcheck), `${name} has no health check`);
  });
});

describe("the logger's start", () => {
  const temp = tempDir('kamstrup-start-');
  after(() => temp.remove());

  /** Runs the service's command with a `node` that only notes its arguments; returns them, one call a line. */
  async function start(env: Readonly<Record<string, string>>): Promise<string[]> {
    const log = join(temp.dir, 'calls.log');
    writeFileSync(log, '');
    const fakeNode = join(temp.dir, 'node');
    writeFileSync(fakeNode, `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\n`);
    chmodSync(fakeNode, 0o755);
    const svc = service(compose, 'kamstrup-logger');
    assert.deepEqual(svc.entrypoint, ['/bin/sh', '-c']);
    assert.ok(Array.isArray(svc.command) && svc.command.length === 1, 'the command is one shell script');
    const script = String(svc.command[0]).replaceAll('$$', '$');
    const result = await runProgram('/bin/sh', ['-c', script], { env: cleanEnv({ ...env, PATH: `${temp.dir}:${process.env.PATH ?? ''}` }) });
    assert.equal(result.code, 0, result.stderr);
    return readFileSync(log, 'utf8').trim().split('\n');
  }

  const run = 'bin/kamstrup-logger run --no-pretty';
  const base = { KAMSTRUP_CONFIG: 'config/compose.yaml' };

  it('records simulated history into an empty store on the simulator, then runs the daemon', async () => {
    const calls = await start({ ...base, KAMSTRUP_STORAGE__PATH: join(temp.dir, 'none.sqlite') });
    assert.equal(calls.length, 2, calls.join('\n'));
    assert.match(calls[0] ?? '', /^bin\/kamstrup-logger simulate --history \d+ --config config\/compose\.yaml$/);
    assert.match(calls[1] ?? '', new RegExp(`${run}$`));
  });

  it('only runs the daemon once the store exists', async () => {
    const storage = join(temp.dir, 'kamstrup.sqlite');
    writeFileSync(storage, '');
    const calls = await start({ ...base, KAMSTRUP_STORAGE__PATH: storage });
    assert.deepEqual(calls.map((call) => call.endsWith(run)), [true]);
  });

  it('never simulates history for a real head', async () => {
    const calls = await start({ ...base, KAMSTRUP_STORAGE__PATH: join(temp.dir, 'none.sqlite'), KAMSTRUP_METERS__0__URL: '/dev/ttyUSB0' });
    assert.deepEqual(calls.map((call) => call.endsWith(run)), [true]);
  });
});

describe("the logger's health check", () => {
  const temp = tempDir('kamstrup-health-');
  after(() => temp.remove());
  let cases = 0;

  /** A store holding these runs, and a config naming it (no sinks: no network in the check). */
  function storeWith(runs: readonly JobRunInput[]): string {
    const dir = join(temp.dir, `case-${++cases}`);
    const storage = join(dir, 'kamstrup.sqlite');
    if (runs.length > 0) {
      const store = Store.open(storage, { sinks: [] });
      for (const run of runs) store.recordJobRun(run);
      store.close();
    }
    const config = join(temp.dir, `case-${cases}.yaml`);
    writeFileSync(config, `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage:\n  path: ${JSON.stringify(storage)}\n`);
    return config;
  }

  async function check(config: string): Promise<{ code: number | null; output: string }> {
    const result = await runProgram('/bin/sh', ['-c', healthCommand()], { env: cleanEnv({ KAMSTRUP_CONFIG: config }) });
    return { code: result.code, output: result.stdout.trim() };
  }

  function finishedAgo(minutes: number, overrides: Partial<JobRunInput> = {}): JobRunInput {
    const finishedAt = new Date(Date.now() - minutes * 60_000);
    return jobRun({ readAt: new Date(finishedAt.getTime() - 2000), finishedAt, ...overrides });
  }

  it('passes when a job recorded a good reading in the last 15 minutes', async () => {
    const result = await check(storeWith([finishedAgo(30), finishedAgo(1)]));
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /^newest good reading \d+\.\d min ago$/);
  });

  it('fails when the newest good reading is older than 15 minutes', async () => {
    const result = await check(storeWith([finishedAgo(20)]));
    assert.equal(result.code, 1, result.output);
  });

  it('fails when the newest run failed (the meter does not answer)', async () => {
    const failed = finishedAgo(1, { outcome: 'failed', error: 'no answer', readings: [] });
    const result = await check(storeWith([finishedAgo(30), failed]));
    assert.equal(result.code, 1, result.output);
  });

  it('does not count simulated history as the daemon working', async () => {
    const result = await check(storeWith([finishedAgo(1, { simulated: true })]));
    assert.equal(result.code, 1, result.output);
  });

  it('fails, saying so, before there is a database', async () => {
    const result = await check(storeWith([]));
    assert.equal(result.code, 1, result.output);
    assert.equal(result.output, 'no good reading recorded yet');
  });
});

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly mode: string | undefined;
}

function volumesOf(svc: YamlMap): Mount[] {
  const volumes = svc.volumes;
  if (volumes === undefined) return [];
  assert.ok(Array.isArray(volumes), 'volumes is not a list');
  return volumes.map((entry: unknown) => {
    if (isMap(entry)) return { source: String(entry.source), target: String(entry.target), mode: entry.read_only === true ? 'ro' : undefined };
    const [source = '', target = '', mode] = String(entry).split(':');
    return { source, target, mode };
  });
}

function isHostPath(source: string): boolean {
  return source.startsWith('.') || isAbsolute(source);
}

function envFilesOf(svc: YamlMap): string[] {
  const envFile = svc.env_file;
  if (envFile === undefined) return [];
  return (Array.isArray(envFile) ? envFile : [envFile]).map((entry: unknown) => (isMap(entry) ? String(entry.path) : String(entry)));
}

function buildOf(svc: YamlMap): { context: string; dockerfile: string } | null {
  const build = svc.build;
  if (build === undefined) return null;
  if (typeof build === 'string') return { context: build, dockerfile: 'Dockerfile' };
  assert.ok(isMap(build), 'build is neither a path nor a mapping');
  return { context: String(build.context ?? '.'), dockerfile: String(build.dockerfile ?? 'Dockerfile') };
}

/** The logger's health check as the container's shell gets it: compose turns $$ into $. */
function healthCommand(): string {
  const healthcheck = service(compose, 'kamstrup-logger').healthcheck;
  assert.ok(isMap(healthcheck) && Array.isArray(healthcheck.test), 'the logger has no health check test');
  const [form, command] = healthcheck.test as unknown[];
  assert.equal(form, 'CMD-SHELL');
  return String(command).replaceAll('$$', '$');
}
