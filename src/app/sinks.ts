// The sinks a config enables, built once here.

import type { AppConfig } from '../config/index.js';
import type { Sink } from '../delivery/sink.js';
import { createDomoticzSink } from '../sinks/domoticz/sink.js';
import { createInfluxSink } from '../sinks/influxdb/sink.js';
import { Store, type ConsumptionSettings } from '../store/index.js';

export function createSinks(config: Pick<AppConfig, 'sinks' | 'meters'>): Sink[] {
  const sinks: Sink[] = [];
  if (config.sinks.influxdb) sinks.push(createInfluxSink(config.sinks.influxdb));
  // The info code's flags differ per model: the renderer decodes them by the meter's.
  if (config.sinks.domoticz) sinks.push(createDomoticzSink(config.sinks.domoticz, new Map(config.meters.map((meter) => [meter.name, meter.model]))));
  return sinks;
}

/**
 * The store as the daemon writes it: each run queued for every sink, rendered by each as it is
 * recorded, so a backlog is stored ready to send. `simulate --history` records through it too.
 */
export function openRecordingStore(path: string, config: Pick<AppConfig, 'meters' | 'consumption'>, sinks: readonly Sink[]): Store {
  return Store.open(path, {
    sinks: sinks.map((sink) => sink.name),
    renderers: Object.fromEntries(sinks.map((sink) => [sink.name, sink])),
    consumption: consumptionSettings(config),
  });
}

/** How the store cuts consumption into periods: the config's time zone and gap, each meter's billing date. */
export function consumptionSettings(config: Pick<AppConfig, 'meters' | 'consumption'>): ConsumptionSettings {
  const billingDates: Record<string, { month: number; day: number }> = {};
  for (const meter of config.meters) if (meter.billingDate !== null) billingDates[meter.name] = meter.billingDate;
  return { timeZone: config.consumption.timeZone, gapMs: config.consumption.gapMs, billingDates };
}
