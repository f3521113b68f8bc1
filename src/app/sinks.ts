// The sinks a config enables, built once here.

import type { SinksConfig } from '../config/index.js';
import type { Sink } from '../delivery/sink.js';
import { createInfluxSink } from '../sinks/influxdb/sink.js';

export function createSinks(config: SinksConfig): Sink[] {
  return config.influxdb ? [createInfluxSink(config.influxdb)] : [];
}
