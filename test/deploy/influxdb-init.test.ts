// docker/influxdb/create-dbrp.sh, the script InfluxDB's image runs once after its first-boot
// setup: mounted where the image looks, run by it (executable, *.sh), valid sh, and calling
// the influx CLI 2.x only with commands and flags that CLI has, every variable it reads given.

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { environmentOf, readCompose, readRepoFile, repoRoot, runProgram, service } from './files.js';

const SCRIPT = 'docker/influxdb/create-dbrp.sh';

// The influx CLI 2.7.5 (what influxdb:2.8.0 ships), from influxdata/influx-cli cmd/influx:
// v1_dbrp.go builds `v1 dbrp create` from commonFlags() (global.go: --host, --skip-verify,
// --config-name, --configs-path, --http-debug, --json, --hide-headers, --token), the org flags
// (--org-id, --org) and its own: --bucket-id, --db and --rp (required), --default.
const INFLUX_COMMANDS: Readonly<Record<string, { readonly required: readonly string[]; readonly optional: readonly string[] }>> = {
  'v1 dbrp create': {
    required: ['bucket-id', 'db', 'rp'],
    optional: ['default', 'org', 'org-id', 'host', 'skip-verify', 'config-name', 'configs-path', 'http-debug', 'json', 'hide-headers', 'token'],
  },
};

// What influxdb's entrypoint exports to the scripts in /docker-entrypoint-initdb.d (entrypoint.sh,
// set_init_resource_ids), besides the service's own environment.
const IMAGE_EXPORTS = ['DOCKER_INFLUXDB_INIT_USER_ID', 'DOCKER_INFLUXDB_INIT_ORG_ID', 'DOCKER_INFLUXDB_INIT_BUCKET_ID', 'INFLUX_HOST'];

/** The script's commands: comments dropped, backslash-continued lines joined, split into words. */
function commandsOf(script: string): string[][] {
  return script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/).map((word) => word.replace(/^"(.*)"$/, '$1')));
}

describe('the InfluxDB init script', () => {
  const script = readRepoFile(SCRIPT);

  it('is mounted into /docker-entrypoint-initdb.d, where the image runs it once after setup', () => {
    const mounts = (service(readCompose(), 'influxdb').volumes as unknown[]).map(String);
    assert.ok(mounts.includes(`./${SCRIPT}:/docker-entrypoint-initdb.d/create-dbrp.sh:ro`), mounts.join('\n'));
  });

  it('is executable and named *.sh (the image runs only executable *sh files), in git too', async () => {
    assert.match(SCRIPT, /\.sh$/);
    assert.ok((statSync(join(repoRoot, SCRIPT)).mode & 0o111) === 0o111, `${SCRIPT} is not executable: chmod 755`);
    const indexed = await runProgram('git', ['ls-files', '--stage', SCRIPT]);
    if (indexed.stdout !== '') assert.match(indexed.stdout, /^100755 /, `git records ${SCRIPT} without its executable bit: git update-index --chmod=+x`);
  });

  it('is valid sh that stops at the first failure', async () => {
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /^set -eu$/m);
    const result = await runProgram('sh', ['-n', SCRIPT]);
    assert.equal(result.code, 0, result.stderr);
  });

  it('calls the influx CLI only with commands and flags it has, the required ones given', () => {
    const influx = commandsOf(script).filter((words) => words[0] === 'influx');
    assert.ok(influx.length > 0, 'the script calls no influx command');
    for (const words of influx) {
      const firstFlag = words.findIndex((word) => word.startsWith('-'));
      const command = words.slice(1, firstFlag < 0 ? undefined : firstFlag).join(' ');
      const known = INFLUX_COMMANDS[command];
      assert.ok(known, `influx ${command}: not a command this test knows the influx CLI 2.x to have`);
      const flags = words.filter((word) => word.startsWith('--')).map((word) => word.slice(2).split('=')[0] ?? '');
      for (const flag of flags) assert.ok([...known.required, ...known.optional].includes(flag), `influx ${command} has no --${flag}`);
      for (const flag of known.required) assert.ok(flags.includes(flag), `influx ${command} needs --${flag}`);
    }
  });

  it('maps the database Grafana queries, with autogen as its default retention policy', () => {
    const create = commandsOf(script).find((words) => words.slice(0, 4).join(' ') === 'influx v1 dbrp create');
    assert.ok(create, 'no influx v1 dbrp create');
    const value = (flag: string): string | undefined => create[create.indexOf(flag) + 1];
    assert.equal(value('--db'), '$INFLUXDB_DATABASE');
    assert.equal(value('--bucket-id'), '$DOCKER_INFLUXDB_INIT_BUCKET_ID');
    assert.equal(value('--rp'), 'autogen');
    assert.ok(create.includes('--default'));
  });

  it('reads only variables the image exports or the service sets', () => {
    const given = new Set([...IMAGE_EXPORTS, ...Object.keys(environmentOf(service(readCompose(), 'influxdb')))]);
    const used = [...script.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
    assert.ok(used.length > 0);
    for (const name of used) assert.ok(given.has(name), `the script reads $${name}, which nothing sets`);
  });
});
