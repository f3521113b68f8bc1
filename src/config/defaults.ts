// The jobs a config gets when it lists none: live values every 5 minutes and the monthly and
// yearly statistics (with their dates) hourly, each with the registers the meter's model has.
// Meters of different models get a pair of jobs per model, so no job asks a meter for registers
// its model does not have.

import { registerCatalogue, registersOfModel, type MeterModel } from '../registers/catalogue.js';

export const DEFAULT_LIVE_JOB = 'live';
export const DEFAULT_STATISTICS_JOB = 'statistics';
export const DEFAULT_LIVE_CRON = '*/5 * * * *';
export const DEFAULT_STATISTICS_CRON = '7 * * * *';
export const DEFAULT_LIVE_REGISTERS = ['heat_energy', 'power', 't1', 't2', 't_diff', 'flow', 'volume', 'hour_counter', 'info'] as const;

/** A job as written in the file (snake_case, registers by name). */
export interface DefaultJob {
  name: string;
  cron: string;
  registers: string[];
  meters?: string[];
}

export function liveRegisters(model: MeterModel): string[] {
  return DEFAULT_LIVE_REGISTERS.filter((name) => registerCatalogue.some((d) => d.name === name && d.models.includes(model)));
}

export function statisticsRegisters(model: MeterModel): string[] {
  return registersOfModel(model)
    .filter((d) => d.period === 'monthly' || d.period === 'yearly')
    .map((d) => d.name);
}

export function defaultJobs(meters: readonly { readonly name: string; readonly model: MeterModel }[]): DefaultJob[] {
  const byModel = new Map<MeterModel, string[]>();
  for (const meter of meters) byModel.set(meter.model, [...(byModel.get(meter.model) ?? []), meter.name]);
  const several = byModel.size > 1;
  const jobs: DefaultJob[] = [];
  for (const [model, names] of byModel) {
    const suffix = several ? `-${model}` : '';
    const scope = several ? { meters: names } : {};
    jobs.push({ name: DEFAULT_LIVE_JOB + suffix, cron: DEFAULT_LIVE_CRON, registers: liveRegisters(model), ...scope });
    const statistics = statisticsRegisters(model);
    if (statistics.length > 0) jobs.push({ name: DEFAULT_STATISTICS_JOB + suffix, cron: DEFAULT_STATISTICS_CRON, registers: statistics, ...scope });
  }
  return jobs;
}
