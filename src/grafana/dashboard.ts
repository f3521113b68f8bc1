// A small typed builder for the Grafana dashboards under grafana/dashboards. Its output is typed
// with Grafana's own model, so typecheck rejects a key, a value or a panel option Grafana does not
// have; narrowed by rules of its own: a unit on every panel, every query on the provisioned data
// source, and a layout without overlapping panels.
// grafana/dashboards/*.json is this module's output (npm run dashboards); a test checks it.

import type * as grafana from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { FieldConfig as TableFieldConfig, Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { FieldConfig as TimeSeriesFieldConfig, Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

// @grafana/schema is a devDependency: types only, nothing of it loads at run time (lint-enforced).

/**
 * A Grafana type as its JSON holds it: each string enum (MappingType, FieldColorModeId, …) as
 * its string values, which is what a dashboard file has; everything read-only.
 */
export type Wire<T> = Json<T, 'as declared'>;

/**
 * What a saved panel may hold of a plugin's options: any part may be left out, at any depth,
 * because Grafana fills every missing option from the plugin's defaults when it loads the panel.
 * (An array's entries are whole: Grafana fills no defaults into those.)
 */
export type Saved<T> = Json<T, 'all optional'>;

type Json<T, Properties extends 'as declared' | 'all optional'> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends readonly (infer Item)[]
      ? readonly Wire<Item>[]
      : T extends object
        ? Properties extends 'all optional'
          ? { readonly [K in keyof T]?: Json<T[K], Properties> }
          : { readonly [K in keyof T]: Json<T[K], Properties> }
        : T;

/** Grafana's type Base with some properties narrowed: each one Base has, each fitting its type there. */
type Narrowed<Base, Rules extends { readonly [K in keyof Rules]: K extends keyof Base ? Base[K] : never }> = Omit<Base, keyof Rules> & Rules;

/** The data source every panel uses: grafana/provisioning/datasources/kamstrup-influxdb.yaml. */
export const DATASOURCE = { type: 'influxdb', uid: 'kamstrup-influxdb' } as const;

/** Grafana unit ids (packages/grafana-data/src/valueFormats/categories.ts), plus custom suffix units. */
export type Unit = 'kwatt' | 'kwatth' | 'm3' | 'litreh' | 'celsius' | 'kelvin' | 'none' | 'string' | 'dateTimeFromNow' | `suffix:${string}`;

/** The panel plugins used here, each with Grafana's types of its options and its custom field config. */
interface PanelPlugins {
  readonly stat: { readonly options: StatOptions; readonly custom: Record<string, never> };
  readonly timeseries: { readonly options: TimeSeriesOptions; readonly custom: TimeSeriesFieldConfig };
  readonly table: { readonly options: TableOptions; readonly custom: TableFieldConfig };
}

export type PanelType = keyof PanelPlugins;
export type PanelOptions<Type extends PanelType> = Saved<PanelPlugins[Type]['options']>;
export type CustomFieldConfig<Type extends PanelType> = Saved<PanelPlugins[Type]['custom']>;

/**
 * A raw InfluxQL query. Grafana's DataQuery has only refId, datasource, hide and queryType; the
 * InfluxDB plugin's own fields (its InfluxQuery type is not in @grafana/schema) follow it.
 */
export type Target = Narrowed<Wire<grafana.DataQuery>, { readonly datasource: typeof DATASOURCE }> & {
  readonly rawQuery: true;
  readonly query: string;
  readonly resultFormat: 'time_series' | 'table';
  readonly alias?: string;
};

export type ValueMapping = Wire<grafana.ValueMapping>;

/** The field defaults, with a unit on every panel. */
export type FieldDefaults<Type extends PanelType = PanelType> = Narrowed<Wire<grafana.FieldConfig>, { readonly unit: Unit; readonly custom?: CustomFieldConfig<Type> }>;

export type Override = Wire<grafana.FieldConfigSource['overrides'][number]>;

export type GridPos = Wire<grafana.GridPos>;

type PanelOf<Type extends PanelType> = Narrowed<
  Wire<grafana.Panel>,
  {
    readonly id: number;
    readonly type: Type;
    readonly title: string;
    readonly gridPos: GridPos;
    readonly datasource: typeof DATASOURCE;
    readonly targets: readonly Target[];
    readonly fieldConfig: { readonly defaults: FieldDefaults<Type>; readonly overrides: readonly Override[] };
    readonly options: PanelOptions<Type>;
  }
>;

export type Panel = { readonly [Type in PanelType]: PanelOf<Type> }[PanelType];

/** A row of panels that follow it, never collapsed, so its own list is empty. */
export type RowPanel = Narrowed<Wire<grafana.RowPanel>, { readonly type: 'row'; readonly title: string; readonly gridPos: GridPos; readonly collapsed: false; readonly panels: readonly [] }>;

export type Variable =
  | Narrowed<
      Wire<grafana.VariableModel>,
      {
        readonly type: 'query';
        readonly label: string;
        readonly datasource: typeof DATASOURCE;
        readonly query: string;
        readonly multi: true;
        readonly includeAll: true;
        readonly current: { readonly text: readonly string[]; readonly value: readonly string[] };
      }
    >
  | Narrowed<
      Wire<grafana.VariableModel>,
      {
        readonly type: 'textbox';
        readonly label: string;
        readonly description: string;
        readonly query: string;
        readonly current: { readonly text: string; readonly value: string };
      }
    >;

/** The schema version Grafana 13 writes, so it loads these dashboards without migrating them. */
export const SCHEMA_VERSION = 42;

export type Dashboard = Narrowed<
  Wire<grafana.Dashboard>,
  {
    readonly uid: string;
    readonly title: string;
    readonly description: string;
    readonly tags: readonly string[];
    readonly schemaVersion: typeof SCHEMA_VERSION;
    readonly time: { readonly from: string; readonly to: string };
    readonly refresh: string;
    readonly templating: { readonly list: readonly Variable[] };
    readonly panels: readonly (Panel | RowPanel)[];
  }
>;

export const MEASUREMENT = 'kamstrup';
export const CONSUMPTION_MEASUREMENT = 'kamstrup_consumption';

/** The multi-value meter filter: Grafana formats $meter for InfluxQL as a regex, (a|b). */
export const METER_FILTER = '"meter" =~ /^$meter$/';
/** The time zone variable, raw: Grafana's default regex format would escape its slash. */
export const TZ = "tz('${tz:raw}')";

export const meterVariable: Variable = {
  type: 'query',
  name: 'meter',
  label: 'Meter',
  datasource: DATASOURCE,
  query: `SHOW TAG VALUES FROM "${MEASUREMENT}" WITH KEY = "meter"`,
  multi: true,
  includeAll: true,
  refresh: 1,
  sort: 1,
  current: { text: ['All'], value: ['$__all'] },
  options: [],
};

export function timeZoneVariable(zone: string): Variable {
  return {
    type: 'textbox',
    name: 'tz',
    label: 'Time zone',
    description: 'The IANA time zone days, months and years are counted in (the logger\'s TZ)',
    query: zone,
    current: { text: zone, value: zone },
    options: [{ selected: true, text: zone, value: zone }],
  };
}

export interface QuerySpec {
  readonly query: string;
  readonly alias?: string;
  readonly format?: 'time_series' | 'table';
}

interface PanelSpecOf<Type extends PanelType> {
  readonly type: Type;
  readonly title: string;
  readonly description?: string;
  readonly width: number;
  readonly height: number;
  readonly queries: readonly (QuerySpec | string)[];
  readonly defaults: FieldDefaults<Type>;
  readonly overrides?: readonly Override[];
  readonly options?: PanelOptions<Type>;
  readonly transformations?: Wire<grafana.Panel['transformations']>;
  readonly timeFrom?: string;
  readonly timeShift?: string;
}

export type StatSpec = PanelSpecOf<'stat'>;
export type PanelSpec = { readonly [Type in PanelType]: PanelSpecOf<Type> }[PanelType];

/** Rows of panels, each placed left to right and wrapped at Grafana's 24 columns. */
export interface Section {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const GRID_WIDTH = 24;

export function dashboard(head: Pick<Dashboard, 'uid' | 'title' | 'description' | 'tags' | 'time' | 'refresh'> & { readonly variables: readonly Variable[] }, sections: readonly Section[]): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let y = 0;
  for (const section of sections) {
    panels.push({ id: panels.length + 1, type: 'row', title: section.title, gridPos: { x: 0, y, w: GRID_WIDTH, h: 1 }, collapsed: false, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of section.panels) {
      if (x + spec.width > GRID_WIDTH) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panel(panels.length + 1, spec, { x, y, w: spec.width, h: spec.height }));
      x += spec.width;
      rowHeight = Math.max(rowHeight, spec.height);
    }
    y += rowHeight;
  }
  return {
    uid: head.uid,
    title: head.title,
    description: head.description,
    tags: head.tags,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    time: head.time,
    refresh: head.refresh,
    templating: { list: head.variables },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

function panel(id: number, spec: PanelSpec, gridPos: GridPos): Panel {
  switch (spec.type) {
    case 'stat':
      return panelOf(id, spec, gridPos, statOptions());
    case 'timeseries':
      return panelOf(id, spec, gridPos, { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } });
    case 'table':
      return panelOf(id, spec, gridPos, { showHeader: true, cellHeight: 'sm' });
  }
}

function panelOf<Type extends PanelType>(id: number, spec: PanelSpecOf<Type>, gridPos: GridPos, defaultOptions: PanelOptions<Type>): PanelOf<Type> {
  const targets = spec.queries.map((entry, index): Target => {
    const query = typeof entry === 'string' ? { query: entry } : entry;
    return {
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      rawQuery: true,
      query: query.query,
      resultFormat: query.format ?? (spec.type === 'table' ? 'table' : 'time_series'),
      ...defined<Pick<Target, 'alias'>>({ alias: query.alias }),
    };
  });
  return {
    id,
    type: spec.type,
    title: spec.title,
    ...defined<Pick<PanelOf<Type>, 'description'>>({ description: spec.description }),
    gridPos,
    datasource: DATASOURCE,
    targets,
    fieldConfig: { defaults: spec.defaults, overrides: spec.overrides ?? [] },
    options: spec.options ?? defaultOptions,
    ...defined<Pick<PanelOf<Type>, 'transformations' | 'timeFrom' | 'timeShift'>>({ transformations: spec.transformations, timeFrom: spec.timeFrom, timeShift: spec.timeShift }),
  };
}

/**
 * The properties given a value, the others left out as Grafana's own files do. Typed by the
 * properties of T it may set, so a key Grafana's model does not have is a type error here too
 * (a conditional spread would escape the check for unknown keys).
 */
function defined<T extends object>(properties: { readonly [K in keyof T]-?: T[K] | undefined }): T {
  // Only the undefined entries go: what stays has T's types, as the parameter's type says.
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined)) as T;
}

/** A stat of each series' newest value (or of another field, such as its time). */
export function statOptions(fields = ''): PanelOptions<'stat'> {
  return {
    reduceOptions: { calcs: ['lastNotNull'], fields, values: false },
    colorMode: 'value',
    graphMode: 'area',
    justifyMode: 'auto',
    orientation: 'auto',
    textMode: 'auto',
  };
}

/** Time series drawn as bars, one per stored period: consumption per day, month or year. */
export const BARS: CustomFieldConfig<'timeseries'> = { drawStyle: 'bars', fillOpacity: 80, lineWidth: 1, barAlignment: -1, showPoints: 'never', stacking: { mode: 'none', group: 'A' } };

/** Time series drawn as lines, interpolated stepwise where a register holds its value. */
export function lines(lineInterpolation: 'linear' | 'stepAfter' = 'linear'): CustomFieldConfig<'timeseries'> {
  return { drawStyle: 'line', lineInterpolation, fillOpacity: 10, lineWidth: 1, showPoints: 'never', spanNulls: true };
}

export function unitOverride(matcher: Override['matcher'], unit: Unit): Override {
  return { matcher, properties: [{ id: 'unit', value: unit }] };
}
