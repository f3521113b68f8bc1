// The Dockerfile: every COPY source exists (in the build context, not left out by
// .dockerignore, or made by the build stage), the base image is a Node LTS the project and its
// native modules support, and the image runs as a non-root user with its data in /data.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { readRepoFile, repoRoot } from './files.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

function instructions(source: string): Instruction[] {
  const result: Instruction[] = [];
  const lines = source.split('\n');
  for (let index = 0; index < lines.length; index++) {
    let text = lines[index] ?? '';
    const line = index + 1;
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    while (text.endsWith('\\') && index + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++index] ?? ''}`;
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(text);
    assert.ok(match, `Dockerfile line ${line} is no instruction: ${text}`);
    result.push({ keyword: match[1] ?? '', args: (match[2] ?? '').trim(), line });
  }
  return result;
}

const dockerfile = instructions(readRepoFile('Dockerfile'));
const ignored = readRepoFile('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));

/** Whether .dockerignore keeps a path out of the build context (its top-level names and globs). */
function isIgnored(path: string): boolean {
  const first = path.split('/')[0] ?? path;
  return ignored.some((pattern) => {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`);
    return regex.test(first) || regex.test(path);
  });
}

/** What the build stage makes that the context does not hold: npm ci installs, its prepare script (tsc, outDir dist) compiles. */
function madeByBuild(path: string): boolean {
  return path === 'node_modules' || path === 'dist/src';
}

describe('the Dockerfile', () => {
  const stages = dockerfile.filter((i) => i.keyword === 'FROM');

  it('copies only what exists: from the context, or what its build stage made', () => {
    const workdirs = new Map<string, string>();
    let stage = '';
    let checked = 0;
    for (const instruction of dockerfile) {
      if (instruction.keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(instruction.args)?.[1] ?? '';
      if (instruction.keyword === 'WORKDIR') workdirs.set(stage, instruction.args);
      if (instruction.keyword !== 'COPY') continue;
      const words = instruction.args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      for (const source of paths.slice(0, -1)) {
        const where = `Dockerfile line ${instruction.line}: COPY ${source}`;
        let path = source;
        if (from !== undefined) {
          const workdir = workdirs.get(from);
          assert.ok(workdir, `${where}: the stage ${from} has no WORKDIR`);
          path = posix.relative(workdir, posix.resolve(workdir, source));
          if (madeByBuild(path)) {
            checked++;
            continue;
          }
        }
        assert.ok(existsSync(join(repoRoot, path)), `${where}: ${path} does not exist`);
        assert.ok(path === '' || !isIgnored(path), `${where}: .dockerignore leaves ${path} out of the build context`);
        checked++;
      }
    }
    assert.ok(checked >= 8, `checked only ${checked} COPY sources`);
    assert.match(JSON.parse(readRepoFile('tsconfig.json')).compilerOptions.outDir as string, /^dist$/, 'dist/src comes from tsc with outDir dist');
    assert.ok(dockerfile.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)), 'node_modules and dist/src come from npm ci (its prepare script builds)');
  });

  it('builds and runs on the same Node LTS, one the project and better-sqlite3 support', () => {
    const tags = stages.map((s) => /^node:(\d+)-[a-z]+-slim\b/.exec(s.args)?.[1]);
    assert.equal(tags.length, 2);
    assert.equal(tags[0], tags[1], 'the build stage compiles better-sqlite3 for the Node that runs it');
    const major = Number(tags[0]);
    assert.equal(major % 2, 0, `Node ${major} is an odd release: never an LTS`);
    assert.ok(major >= 26, `Node ${major}: 26 is the Active LTS since 2026-10-28`);
    const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> };
    const engines = lock.packages['node_modules/better-sqlite3']?.engines?.node ?? '';
    assert.ok(engines.split('||').map((part) => part.trim()).includes(`${major}.x`), `better-sqlite3 supports ${engines}, not Node ${major}`);
  });

  it('runs as the non-root node user, with /data its own', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf(stages[stages.length - 1] as Instruction));
    const users = final.filter((i) => i.keyword === 'USER');
    assert.deepEqual(users.map((u) => u.args), ['node']);
    assert.ok(final.some((i) => i.keyword === 'RUN' && i.args.includes('chown node:node /data')));
    assert.ok(final.some((i) => i.keyword === 'VOLUME' && i.args === '/data'));
  });
});
