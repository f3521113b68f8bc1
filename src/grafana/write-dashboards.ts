// npm run dashboards: writes grafana/dashboards/*.json from src/grafana/dashboards.ts. With
// --check it writes nothing and exits 1 when a committed file differs from what it would write.

import { readFileSync, writeFileSync } from 'node:fs';
import { dashboardJson, dashboards } from './dashboards.js';

const directory = new URL('../../../grafana/dashboards/', import.meta.url);
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, board] of Object.entries(dashboards)) {
  const target = new URL(file, directory);
  const json = dashboardJson(board);
  if (check) {
    let committed = '';
    try {
      committed = readFileSync(target, 'utf8');
    } catch {
      // a missing file is stale like a different one
    }
    if (committed !== json) {
      stale++;
      process.stderr.write(`grafana/dashboards/${file} is not what src/grafana/dashboards.ts gives: run npm run dashboards\n`);
    }
  } else {
    writeFileSync(target, json);
    process.stdout.write(`grafana/dashboards/${file}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
