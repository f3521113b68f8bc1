// The committed dashboards and provisioning files: what Grafana loads is what the generator
// writes, each dashboard is well-formed dashboard JSON for Grafana, references only the
// provisioned data source, fields the InfluxDB sink writes and unit ids Grafana knows, and the
// provisioning YAML has the keys Grafana reads.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DATASOURCE } from '../../src/grafana/dashboard.js';
import { dashboardJson, dashboards } from '../../src/grafana/dashboards.js';
import { registerCatalogue } from '../../src/registers/index.js';

const root = new URL('../../../grafana/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

/** Unit ids as Grafana defines them in packages/grafana-data/src/valueFormats/categories.ts (the ones used here). */
const GRAFANA_UNITS = new Set(['none', 'string', 'kwatt', 'kwatth', 'm3', 'litreh', 'celsius', 'kelvin', 'dateTimeFromNow']);
/** getValueFormat also takes custom units written as prefix:, suffix:, si:, count:, time:. */
const CUSTOM_UNIT = /^(suffix|prefix|si|count|time):.+$/;

/** The consumption measurement's fields (issue 12, part 1). */
const CONSUMPTION_FIELDS = new Set(['energy_kwh', 'volume_m3', 'hours', 'peak_power_kw', 't1_mean', 't2_mean', 'dt_mean', 'cooling_m3_per_mwh', 'gap_hours', 'resets', 'simulated', 'open']);
const CATALOGUE_FIELDS = new Set(registerCatalogue.map((register) => register.name));
/** The logger's health measurements (src/sinks/influxdb/point.ts, healthLines). */
const HEALTH_FIELDS = new Set(['runs', 'ok', 'partial', 'failed', 'no_answer', 'corrupt_answer', 'line_noise', 'link_failure', 'other', 'duration_ms', 'readings']);
const DELIVERY_FIELDS = new Set(['pending', 'oldest_pending_s', 'latency_ms']);
/** Measured per sink, not per meter: no $meter filter. */
const UNTAGGED_BY_METER = new Set(['kamstrup_delivery']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function object(value: Json | undefined, what: string): JsonObject {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is an object`);
  return value;
}

function array(value: Json | undefined, what: string): Json[] {
  assert.ok(Array.isArray(value), `${what} is an array`);
  return value;
}

function string(value: Json | undefined, what: string): string {
  assert.equal(typeof value, 'string', `${what} is a string`);
  return value as string;
}

function committed(): Map<string, JsonObject> {
  const files = readdirSync(new URL('dashboards/', root)).filter((file) => file.endsWith('.json')).sort();
  return new Map(files.map((file) => [file, object(JSON.parse(read(`dashboards/${file}`)) as Json, file)]));
}

function panelsOf(board: JsonObject): JsonObject[] {
  return array(board.panels, 'panels').map((panel, index) => object(panel, `panel ${index}`));
}

function unitsOf(panel: JsonObject): string[] {
  const fieldConfig = object(panel.fieldConfig, `${String(panel.title)}: fieldConfig`);
  const units = [string(object(fieldConfig.defaults, 'defaults').unit, `${String(panel.title)}: fieldConfig.defaults.unit`)];
  for (const override of array(fieldConfig.overrides, 'overrides')) {
    for (const property of array(object(override, 'override').properties, 'properties')) {
      const { id, value } = object(property, 'property');
      if (id === 'unit') units.push(string(value, `${String(panel.title)}: override unit`));
    }
  }
  return units;
}

describe('Grafana dashboards', () => {
  it('the committed JSON files are exactly what src/grafana/dashboards.ts generates, and nothing else', () => {
    const files = committed();
    assert.deepEqual([...files.keys()], Object.keys(dashboards).sort());
    for (const [file, board] of Object.entries(dashboards)) assert.equal(read(`dashboards/${file}`), dashboardJson(board), `${file}: run npm run dashboards`);
  });

  for (const [file, board] of committed()) {
    describe(file, () => {
      it('is a dashboard: uid, title, schemaVersion, time range, tags, panels laid out on the 24-column grid without overlap', () => {
        assert.match(string(board.uid, 'uid'), /^[a-zA-Z0-9_-]{1,40}$/);
        assert.ok(string(board.title, 'title').length > 0);
        assert.ok(Number.isInteger(board.schemaVersion) && (board.schemaVersion as number) >= 36, 'a schemaVersion Grafana 9+ reads');
        const time = object(board.time, 'time');
        assert.match(string(time.from, 'time.from'), /^now-\d+[mhdwMy]$/);
        assert.equal(time.to, 'now');
        assert.equal(board.id, undefined, 'no numeric id: provisioning assigns one');
        const cells = new Set<string>();
        for (const panel of panelsOf(board)) {
          const grid = object(panel.gridPos, `${String(panel.title)}: gridPos`);
          const [x, y, w, h] = [grid.x, grid.y, grid.w, grid.h].map((n) => n as number);
          for (const n of [x, y, w, h]) assert.ok(Number.isInteger(n) && (n as number) >= 0, `${String(panel.title)}: gridPos integers`);
          assert.ok((x as number) + (w as number) <= 24 && (w as number) > 0 && (h as number) > 0, `${String(panel.title)}: inside 24 columns`);
          for (let cx = x as number; cx < (x as number) + (w as number); cx++) {
            for (let cy = y as number; cy < (y as number) + (h as number); cy++) {
              assert.ok(!cells.has(`${cx},${cy}`), `${String(panel.title)} overlaps another panel at ${cx},${cy}`);
              cells.add(`${cx},${cy}`);
            }
          }
        }
        const ids = panelsOf(board).map((panel) => panel.id);
        assert.equal(new Set(ids).size, ids.length, 'panel ids unique');
      });

      it('has the multi-value meter variable over the kamstrup meter tag', () => {
        const variables = array(object(board.templating, 'templating').list, 'templating.list').map((v) => object(v, 'variable'));
        const meter = variables.find((v) => v.name === 'meter');
        assert.ok(meter, 'a meter variable');
        assert.equal(meter.type, 'query');
        assert.equal(meter.multi, true);
        assert.equal(meter.query, 'SHOW TAG VALUES FROM "kamstrup" WITH KEY = "meter"');
        assert.equal(object(meter.datasource, 'meter.datasource').uid, DATASOURCE.uid);
      });

      it('every panel: a known type, the provisioned data source, raw InfluxQL filtered by $meter and $timeFilter, a Grafana unit', () => {
        for (const panel of panelsOf(board)) {
          if (panel.type === 'row') continue;
          const title = string(panel.title, 'title');
          assert.ok(['stat', 'timeseries', 'table'].includes(string(panel.type, 'type')), `${title}: type`);
          assert.deepEqual(panel.datasource, DATASOURCE, `${title}: data source`);
          const targets = array(panel.targets, `${title}: targets`);
          assert.ok(targets.length > 0, `${title}: has a query`);
          for (const target of targets.map((t) => object(t, 'target'))) {
            assert.deepEqual(target.datasource, DATASOURCE, `${title}: target data source`);
            assert.equal(target.rawQuery, true, `${title}: raw InfluxQL`);
            assert.ok(['time_series', 'table'].includes(string(target.resultFormat, 'resultFormat')));
            const query = string(target.query, `${title}: query`);
            assert.match(query, /^SELECT /, `${title}: InfluxQL`);
            if (!UNTAGGED_BY_METER.has(/FROM "([^"]+)"/.exec(query)?.[1] ?? '')) assert.ok(query.includes('"meter" =~ /^$meter$/'), `${title}: filtered by $meter as a regex`);
            assert.ok(query.includes('$timeFilter'), `${title}: filtered by $timeFilter`);
            if (/GROUP BY time\(/.test(query)) assert.ok(query.includes("tz('${tz:raw}')"), `${title}: days counted in the dashboard's time zone`);
          }
          for (const unit of unitsOf(panel)) assert.ok(GRAFANA_UNITS.has(unit) || CUSTOM_UNIT.test(unit), `${title}: ${unit} is a Grafana unit id`);
        }
      });

      it('queries only fields the InfluxDB sink writes (kamstrup, kamstrup_consumption, kamstrup_health, kamstrup_delivery)', () => {
        for (const panel of panelsOf(board)) {
          for (const target of panel.type === 'row' ? [] : array(panel.targets, 'targets')) {
            const query = string(object(target, 'target').query, 'query');
            const measurement = /FROM "([^"]+)"/.exec(query)?.[1];
            const known = { kamstrup: CATALOGUE_FIELDS, kamstrup_consumption: CONSUMPTION_FIELDS, kamstrup_health: HEALTH_FIELDS, kamstrup_delivery: DELIVERY_FIELDS }[measurement ?? ''] ?? null;
            assert.ok(known, `${String(panel.title)}: measurement ${measurement}`);
            const selected = query.slice(0, query.indexOf(' FROM '));
            for (const [, field] of selected.matchAll(/(?:\(|SELECT )"([^"]+)"/g)) assert.ok(known.has(field ?? ''), `${String(panel.title)}: field ${field} of ${measurement}`);
          }
        }
      });
    });
  }

  it('the live info code panel maps 0 to OK and names the 601/602 and 403 flags for those models', () => {
    const info = panelsOf(object(JSON.parse(read('dashboards/kamstrup-live.json')) as Json, 'live')).find((panel) => panel.title === 'Info code');
    assert.ok(info);
    const text = JSON.stringify(info.fieldConfig);
    assert.match(text, /"0":\{"text":"OK"/);
    assert.match(text, /multical-60\[12\].*"256":\{"text":"leak in the heating system"/);
    assert.match(text, /"12":\{"text":"T2 outside measuring range, T1 outside measuring range"/);
    assert.match(text, /multical-403.*"128":\{"text":"invalid temperature difference"/);
  });
});

describe('Grafana provisioning', () => {
  it('the data source file: apiVersion 1, one InfluxQL data source with uid kamstrup-influxdb from the environment, the token as a header', () => {
    const file = object(parse(read('provisioning/datasources/kamstrup-influxdb.yaml')) as Json, 'data source file');
    assert.equal(file.apiVersion, 1);
    const sources = array(file.datasources, 'datasources');
    assert.equal(sources.length, 1);
    const source = object(sources[0], 'datasource');
    assert.equal(source.uid, DATASOURCE.uid);
    assert.equal(source.type, 'influxdb');
    assert.equal(source.access, 'proxy');
    assert.equal(source.url, '${INFLUXDB_URL}');
    assert.ok(string(source.name, 'name').length > 0);
    const jsonData = object(source.jsonData, 'jsonData');
    assert.equal(jsonData.version, 'InfluxQL');
    assert.equal(jsonData.dbName, '${INFLUXDB_DATABASE}');
    assert.ok(['GET', 'POST'].includes(string(jsonData.httpMode, 'httpMode')));
    assert.equal(jsonData.httpHeaderName1, 'Authorization');
    assert.equal(object(source.secureJsonData, 'secureJsonData').httpHeaderValue1, 'Token ${INFLUXDB_TOKEN}');
    assert.equal(source.database, undefined, 'not the deprecated database key');
  });

  it('the dashboard provider: a file provider for /var/lib/grafana/dashboards', () => {
    const file = object(parse(read('provisioning/dashboards/kamstrup.yaml')) as Json, 'provider file');
    assert.equal(file.apiVersion, 1);
    const providers = array(file.providers, 'providers');
    assert.equal(providers.length, 1);
    const provider = object(providers[0], 'provider');
    assert.equal(provider.type, 'file');
    assert.ok(string(provider.name, 'name').length > 0);
    assert.equal(object(provider.options, 'options').path, '/var/lib/grafana/dashboards');
    assert.ok(Number.isInteger(provider.updateIntervalSeconds));
  });
});
