// A small typed builder for the Grafana dashboards under grafana/dashboards: only the parts of
// Grafana's dashboard model these dashboards use, so a panel cannot be written without a unit,
// a query without the provisioned data source, or a layout with overlapping panels.
// grafana/dashboards/*.json is this module's output (npm run dashboards); a test checks it.

/** The data source every panel uses: grafana/provisioning/datasources/kamstrup-influxdb.yaml. */
export const DATASOURCE = { type: 'influxdb', uid: 'kamstrup-influxdb' } as const;

/** Grafana unit ids (packages/grafana-data/src/valueFormats/categories.ts), plus custom suffix units. */
export type Unit = 'kwatt' | 'kwatth' | 'm3' | 'litreh' | 'celsius' | 'kelvin' | 'none' | 'string' | 'dateTimeFromNow' | `suffix:${string}`;

export type PanelType = 'stat' | 'timeseries' | 'table';

export interface Target {
  readonly refId: string;
  readonly datasource: typeof DATASOURCE;
  readonly rawQuery: true;
  readonly query: string;
  readonly resultFormat: 'time_series' | 'table';
  readonly alias?: string;
}

export type ValueMapping =
  | { readonly type: 'value'; readonly options: Readonly<Record<string, { readonly text?: string; readonly color?: string; readonly index: number }>> }
  | { readonly type: 'range'; readonly options: { readonly from: number; readonly to: number | null; readonly result: { readonly text?: string; readonly color?: string; readonly index: number } } };

export interface FieldDefaults {
  readonly unit: Unit;
  readonly decimals?: number;
  readonly mappings?: readonly ValueMapping[];
  readonly color?: { readonly mode: string; readonly fixedColor?: string };
  readonly custom?: Readonly<Record<string, unknown>>;
}

export interface Override {
  readonly matcher: { readonly id: 'byName' | 'byFrameRefID' | 'byRegexp'; readonly options: string };
  readonly properties: readonly { readonly id: string; readonly value: unknown }[];
}

export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Panel {
  readonly id: number;
  readonly type: PanelType | 'row';
  readonly title: string;
  readonly description?: string;
  readonly gridPos: GridPos;
  readonly datasource?: typeof DATASOURCE;
  readonly targets?: readonly Target[];
  readonly fieldConfig?: { readonly defaults: FieldDefaults; readonly overrides: readonly Override[] };
  readonly options?: Readonly<Record<string, unknown>>;
  readonly transformations?: readonly { readonly id: string; readonly options: Readonly<Record<string, unknown>> }[];
  /** Relative time of this panel alone, as Grafana's panel "Relative time" ("31d", "now/M"). */
  readonly timeFrom?: string;
  /** Shifts this panel's range back ("1y"). */
  readonly timeShift?: string;
  readonly collapsed?: boolean;
  readonly panels?: readonly Panel[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly timezone: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly templating: { readonly list: readonly Variable[] };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly links: readonly unknown[];
  readonly panels: readonly Panel[];
}

export type Variable =
  | {
      readonly type: 'query';
      readonly name: string;
      readonly label: string;
      readonly datasource: typeof DATASOURCE;
      readonly query: string;
      readonly definition: string;
      readonly multi: true;
      readonly includeAll: true;
      readonly refresh: 1 | 2;
      readonly sort: 1;
      readonly current: { readonly text: readonly string[]; readonly value: readonly string[] };
      readonly options: readonly unknown[];
    }
  | {
      readonly type: 'textbox';
      readonly name: string;
      readonly label: string;
      readonly description: string;
      readonly query: string;
      readonly current: { readonly text: string; readonly value: string };
      readonly options: readonly { readonly selected: boolean; readonly text: string; readonly value: string }[];
    };

/** Grafana 11/12's dashboard schema version for the panel model written here. */
export const SCHEMA_VERSION = 39;

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
  definition: `SHOW TAG VALUES FROM "${MEASUREMENT}" WITH KEY = "meter"`,
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

export interface PanelSpec {
  readonly type: PanelType;
  readonly title: string;
  readonly description?: string;
  readonly width: number;
  readonly height: number;
  readonly queries: readonly (QuerySpec | string)[];
  readonly defaults: FieldDefaults;
  readonly overrides?: readonly Override[];
  readonly options?: Readonly<Record<string, unknown>>;
  readonly transformations?: Panel['transformations'];
  readonly timeFrom?: string;
  readonly timeShift?: string;
}

/** Rows of panels, each placed left to right and wrapped at Grafana's 24 columns. */
export interface Section {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const GRID_WIDTH = 24;

export function dashboard(head: Pick<Dashboard, 'uid' | 'title' | 'description' | 'tags' | 'time' | 'refresh'> & { readonly variables: readonly Variable[] }, sections: readonly Section[]): Dashboard {
  const panels: Panel[] = [];
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
  const targets = spec.queries.map((entry, index): Target => {
    const query = typeof entry === 'string' ? { query: entry } : entry;
    return {
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      rawQuery: true,
      query: query.query,
      resultFormat: query.format ?? (spec.type === 'table' ? 'table' : 'time_series'),
      ...(query.alias !== undefined ? { alias: query.alias } : {}),
    };
  });
  return {
    id,
    type: spec.type,
    title: spec.title,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    gridPos,
    datasource: DATASOURCE,
    targets,
    fieldConfig: { defaults: spec.defaults, overrides: spec.overrides ?? [] },
    options: spec.options ?? defaultOptions(spec.type),
    ...(spec.transformations !== undefined ? { transformations: spec.transformations } : {}),
    ...(spec.timeFrom !== undefined ? { timeFrom: spec.timeFrom } : {}),
    ...(spec.timeShift !== undefined ? { timeShift: spec.timeShift } : {}),
  };
}

function defaultOptions(type: PanelType): Readonly<Record<string, unknown>> {
  switch (type) {
    case 'stat':
      return statOptions();
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } };
    case 'table':
      return { showHeader: true, cellHeight: 'sm' };
  }
}

/** A stat of each series' newest value (or of another field, such as its time). */
export function statOptions(fields = ''): Readonly<Record<string, unknown>> {
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
export const BARS: Readonly<Record<string, unknown>> = { drawStyle: 'bars', fillOpacity: 80, lineWidth: 1, barAlignment: -1, showPoints: 'never', stacking: { mode: 'none', group: 'A' } };

/** Time series drawn as lines, interpolated stepwise where a register holds its value. */
export function lines(lineInterpolation: 'linear' | 'stepAfter' = 'linear'): Readonly<Record<string, unknown>> {
  return { drawStyle: 'line', lineInterpolation, fillOpacity: 10, lineWidth: 1, showPoints: 'never', spanNulls: true };
}

export function unitOverride(matcher: Override['matcher'], unit: Unit): Override {
  return { matcher, properties: [{ id: 'unit', value: unit }] };
}
