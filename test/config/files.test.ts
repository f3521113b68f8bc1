import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, loadConfig } from '../../src/config/index.js';
import { JSON_SCHEMA_FILE, renderConfigJsonSchema } from '../../src/config/json-schema.js';
import { keyTree, type KeyNode } from '../../src/config/keys.js';
import { monday, repoRoot } from './helpers.js';

function keyNames(node: KeyNode, into = new Set<string>()): Set<string> {
  if (node.kind === 'object') {
    for (const [key, child] of node.keys) {
      into.add(key);
      keyNames(child, into);
    }
  } else if (node.kind === 'array') keyNames(node.element, into);
  return into;
}

function undescribed(schema: unknown, path = '$'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const record = schema as Record<string, unknown>;
  const missing: string[] = [];
  const properties = record.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const [key, child] of Object.entries(properties)) {
      const c = child as Record<string, unknown>;
      if (typeof c.title !== 'string' || typeof c.description !== 'string') missing.push(`${path}.${key}`);
      missing.push(...undescribed(child, `${path}.${key}`));
    }
  }
  if (record.items !== undefined) missing.push(...undescribed(record.items, `${path}[]`));
  return missing;
}

describe('shipped config files', () => {
  it('has the JSON Schema the code generates (run npm run schema after changing the schema)', () => {
    const committed = readFileSync(join(repoRoot, JSON_SCHEMA_FILE), 'utf8');
    assert.equal(committed, renderConfigJsonSchema());
  });

  it('gives every key of the JSON Schema a title and a description, and refuses unknown keys', () => {
    const schema = JSON.parse(renderConfigJsonSchema()) as Record<string, unknown>;
    assert.deepEqual(undescribed(schema), []);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  });

  it('loads the annotated example without problems or warnings, and it shows every key', () => {
    const path = join(repoRoot, 'kamstrup-logger.example.yaml');
    const { config, warnings } = loadConfig({ path, env: {}, now: monday });
    assert.deepEqual(warnings, []);
    assert.match(config.meters[0]?.url ?? '', /^\/dev\/serial\/by-id\//);
    assert.deepEqual(config.jobs.map((j) => j.name), ['live', 'statistics']);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.startsWith('# yaml-language-server: $schema=./kamstrup-logger.schema.json\n'));
    // Optional sections (the sinks) are shown commented out, ready to enable.
    for (const key of keyNames(keyTree(configSchema))) assert.match(text, new RegExp(`^\\s*(#\\s*)*(- )?${key}:`, 'm'), `the example shows ${key}`);
  });

  it('loads the bundled demo: the simulated MULTICAL 402, fast live job, storage next to it', () => {
    const path = join(repoRoot, 'config', 'demo.yaml');
    const { config, warnings } = loadConfig({ path, env: {}, now: monday });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.meters.map((m) => [m.name, m.url, m.model]), [['demo', 'sim://multical-402', 'multical-402']]);
    assert.deepEqual(config.jobs.map((j) => [j.name, j.cron]), [['live', '*/10 * * * * *'], ['statistics', '5 * * * * *']]);
    assert.equal(config.jobs[1]?.registerIds.length, 20);
    assert.equal(config.storage.path, join(repoRoot, 'config', 'data', 'demo.sqlite'));
    assert.equal(config.log.level, 'info');
  });
});
