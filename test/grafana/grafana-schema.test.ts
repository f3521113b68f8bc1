// The committed dashboard files, parsed, against Grafana's own model where the TypeScript types
// of src/grafana/dashboard.ts cannot reach: a file is JSON, not a typed value. Every key is one
// Grafana's model has (the key lists are checked complete and exact against @grafana/schema by
// the compiler), the schemaVersion is the one Grafana 13 migrates to, so the pinned image loads
// the files without migrating them, and every panel type is a panel plugin Grafana ships with.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type * as grafana from '@grafana/schema';

/**
 * The newest dashboard schemaVersion in Grafana 13: grafana/grafana
 * apps/dashboard/pkg/migration/schemaversion/migrations.go (LATEST_VERSION = 42; its README:
 * "Schema version 42 is the final version for the v1 dashboard API") and the pinned
 * @grafana/schema 13.2.3, whose dashboard kind defaults schemaVersion to 42.
 */
const GRAFANA_13_SCHEMA_VERSION = 42;

/**
 * The panel plugins built into Grafana: grafana/grafana public/app/features/plugins/built_in_plugins.ts
 * ('core:plugin/…' panels; canvas left out: it may be replaced by an external plugin). "row" is
 * the dashboard's own row, no plugin.
 */
const CORE_PANEL_PLUGINS = new Set([
  'text', 'timeseries', 'trend', 'state-timeline', 'status-history', 'candlestick', 'xychart', 'geomap', 'dashlist',
  'alertlist', 'annolist', 'heatmap', 'table', 'news', 'live', 'stat', 'debug', 'flamegraph', 'gettingstarted', 'gauge',
  'piechart', 'bargauge', 'barchart', 'logs', 'logstable', 'traces', 'welcome', 'nodeGraph', 'histogram',
]);

type Keys<T> = Readonly<Record<keyof Required<T>, true>>;

const DASHBOARD_KEYS = {
  annotations: true, description: true, editable: true, fiscalYearStartMonth: true, gnetId: true, graphTooltip: true, id: true,
  links: true, liveNow: true, panels: true, preload: true, refresh: true, revision: true, schemaVersion: true, snapshot: true,
  tags: true, templating: true, time: true, timepicker: true, timezone: true, title: true, uid: true, version: true, weekStart: true,
} as const satisfies Keys<grafana.Dashboard>;

const PANEL_KEYS = {
  autoMigrateFrom: true, cacheTimeout: true, datasource: true, description: true, fieldConfig: true, gridPos: true,
  hideTimeOverride: true, id: true, interval: true, libraryPanel: true, links: true, maxDataPoints: true, maxPerRow: true,
  options: true, pluginVersion: true, queryCachingTTL: true, repeat: true, repeatDirection: true, targets: true,
  timeCompare: true, timeFrom: true, timeShift: true, title: true, transformations: true, transparent: true, type: true,
} as const satisfies Keys<grafana.Panel>;

const ROW_KEYS = { collapsed: true, datasource: true, gridPos: true, id: true, panels: true, repeat: true, title: true, type: true } as const satisfies Keys<grafana.RowPanel>;

const VARIABLE_KEYS = {
  allValue: true, allowCustomValue: true, current: true, datasource: true, description: true, enableGroupBy: true, hide: true,
  includeAll: true, label: true, multi: true, name: true, options: true, query: true, refresh: true, regex: true,
  regexApplyTo: true, skipUrlSync: true, sort: true, staticOptions: true, staticOptionsOrder: true, type: true, valuesFormat: true,
} as const satisfies Keys<grafana.VariableModel>;

const FIELD_CONFIG_KEYS = {
  actions: true, color: true, custom: true, decimals: true, description: true, displayName: true, displayNameFromDS: true,
  filterable: true, links: true, mappings: true, max: true, min: true, noValue: true, path: true, thresholds: true, unit: true,
  writeable: true,
} as const satisfies Keys<grafana.FieldConfig>;

const GRID_POS_KEYS = { h: true, static: true, w: true, x: true, y: true } as const satisfies Keys<grafana.GridPos>;

/** DataQuery's keys and the InfluxDB plugin's InfluxQL ones (its query type is not in @grafana/schema). */
const TARGET_KEYS = { datasource: true, hide: true, key: true, queryType: true, refId: true, rawQuery: true, query: true, resultFormat: true, alias: true } as const satisfies Keys<grafana.DataQuery> & Readonly<Record<string, true>>;

type JsonObject = { readonly [key: string]: unknown };

function object(value: unknown, what: string): JsonObject {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is an object`);
  return value as JsonObject;
}

function objects(value: unknown, what: string): JsonObject[] {
  assert.ok(Array.isArray(value), `${what} is an array`);
  return value.map((entry, index) => object(entry, `${what}[${index}]`));
}

function assertKeys(value: JsonObject, known: Readonly<Record<string, true>>, what: string): void {
  for (const key of Object.keys(value)) assert.ok(Object.hasOwn(known, key), `${what}: "${key}" is no key of Grafana's model`);
}

const directory = new URL('../../../grafana/dashboards/', import.meta.url);
const files = readdirSync(directory).filter((file) => file.endsWith('.json')).sort();

/** The panels of a dashboard, those inside rows included. */
function panelsOf(board: JsonObject, file: string): JsonObject[] {
  return objects(board.panels, `${file}: panels`).flatMap((panel) => (panel.type === 'row' ? [panel, ...objects(panel.panels, `${file}: row panels`)] : [panel]));
}

describe("Grafana dashboards against Grafana's model", () => {
  it('there are dashboard files to check', () => assert.ok(files.length > 0));

  for (const file of files) {
    const board = object(JSON.parse(readFileSync(new URL(file, directory), 'utf8')), file);

    describe(file, () => {
      it(`has schemaVersion ${GRAFANA_13_SCHEMA_VERSION}, the one Grafana 13 loads without migrating`, () => {
        assert.equal(board.schemaVersion, GRAFANA_13_SCHEMA_VERSION);
      });

      it('every panel type is a panel plugin that ships with Grafana', () => {
        for (const panel of panelsOf(board, file)) {
          if (panel.type === 'row') continue;
          assert.ok(typeof panel.type === 'string' && CORE_PANEL_PLUGINS.has(panel.type), `${String(panel.title)}: "${String(panel.type)}" is no core panel plugin`);
        }
      });

      it("has only keys Grafana's model has: dashboard, variables, panels, rows, queries, field config, grid positions", () => {
        assertKeys(board, DASHBOARD_KEYS, file);
        for (const variable of objects(object(board.templating, 'templating').list, 'templating.list')) assertKeys(variable, VARIABLE_KEYS, `variable ${String(variable.name)}`);
        for (const panel of panelsOf(board, file)) {
          const title = String(panel.title);
          assertKeys(object(panel.gridPos, `${title}: gridPos`), GRID_POS_KEYS, `${title}: gridPos`);
          if (panel.type === 'row') {
            assertKeys(panel, ROW_KEYS, `row ${title}`);
            continue;
          }
          assertKeys(panel, PANEL_KEYS, title);
          assertKeys(object(object(panel.fieldConfig, `${title}: fieldConfig`).defaults, `${title}: defaults`), FIELD_CONFIG_KEYS, `${title}: fieldConfig.defaults`);
          for (const target of objects(panel.targets, `${title}: targets`)) assertKeys(target, TARGET_KEYS, `${title}: query ${String(target.refId)}`);
        }
      });
    });
  }
});
