import { Command } from 'commander';
import { createSinks } from '../app/sinks.js';
import { shownValue } from '../registers/index.js';
import type { KeyedEntryStatus, StoreStatus } from '../store/index.js';
import { configOption, loadConfigOrExit, openExistingStore } from './config-option.js';
import { formatColumns } from './output.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show per meter the last readings, per job the last run, per sink the backlog')
    .addOption(configOption())
    .option('--json', 'one JSON document, for machines')
    .action(async (options: { config: string; json?: boolean }, command: Command) => {
      const { config } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default', 'the config is not valid:', 'read');
      const store = openExistingStore(config.storage.path, 'read');
      let status: StoreStatus;
      try {
        status = store.status();
      } finally {
        store.close();
      }
      // The connection check of every configured sink: is the backlog going anywhere?
      const sinks = createSinks(config);
      const checks = await Promise.all(
        sinks.map(async (sink) => {
          const problem = await sink.check();
          await sink.close();
          return { sink: sink.name, target: sink.description, ok: problem === null, problem };
        }),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...status, checks })}\n`);
        return;
      }
      process.stdout.write(formatStatus(status, new Date()));
      for (const check of checks) process.stdout.write(`  ${check.sink}: ${check.ok ? `${check.target}: reachable, credentials and target accepted` : (check.problem ?? '')}\n`);
    });
}

export function formatStatus(status: StoreStatus, now: Date): string {
  const meters = status.meters.flatMap((meter) => {
    const serial = meter.serial === null ? '' : ` serial ${meter.serial}`;
    const values = meter.values.map((v) => [
      '   ',
      v.name ?? `register ${v.registerId}`,
      shownValue(v),
      when(v.readAt, now),
    ]);
    const simulated = meter.values.filter((v) => v.simulated).length;
    const origin = simulated === 0 ? '' : simulated === meter.values.length ? ' (simulated)' : ` (${simulated} of ${meter.values.length} values simulated)`;
    const heading = `  ${meter.name} (${meter.model}${serial}): last reading ${when(meter.lastReadAt, now)}${origin}`;
    return values.length > 0 ? [heading, formatColumns(values)] : [heading];
  });
  const jobs = status.jobs.map((j) => [
    ' ',
    `${j.meter}/${j.job}`,
    when(j.lastRun.readAt, now),
    j.lastRun.outcome,
    `${j.lastRun.readingCount} reading${j.lastRun.readingCount === 1 ? '' : 's'}${j.lastRun.simulated ? ' (simulated)' : ''}`,
    j.lastRun.error ?? '',
  ]);
  const sinks = status.sinks.flatMap((sink) => {
    const oldest = sink.oldestPendingReadAt ? `, oldest from ${when(sink.oldestPendingReadAt, now)}` : '';
    if (sink.delivery === 'every-reading') return [`  ${sink.name}${sink.enabled ? '' : ' (disabled)'}: ${sink.pending} waiting${oldest}, ${sink.rejected} rejected`];
    const held = sink.entries.filter((entry) => entry.state === 'held').length;
    const heading = `  ${sink.name}${sink.enabled ? '' : ' (disabled)'}: newest value per key; ${sink.entries.length} key${sink.entries.length === 1 ? '' : 's'}, ${sink.pending} waiting${oldest}, ${held} held, ${sink.rejected} refused`;
    return [heading, ...sink.entries.map((entry) => `    ${entry.key}: ${entryLine(entry, now)}`)];
  });
  const sections = [
    ['meters', ...(meters.length > 0 ? meters : ['  (no readings yet)'])],
    ['jobs', jobs.length > 0 ? formatColumns(jobs) : '  (no runs yet)'],
    ['sinks', ...(sinks.length > 0 ? sinks : ['  (none enabled)'])],
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** What a key of a newest-per-key sink shows now, what waits for it, and why it is held. */
function entryLine(entry: KeyedEntryStatus, now: Date): string {
  const sent = entry.sent ? `sent ${entry.sent.payload} ${when(entry.sent.at, now)}, read ${localTime(entry.sent.readAt)}` : 'nothing sent yet';
  const superseded = entry.superseded > 0 ? `; ${entry.superseded} superseded` : '';
  if (entry.state === 'sent') return `${sent}${superseded}`;
  if (entry.state === 'pending') return `${sent}; waiting: ${entry.payload}, read ${when(entry.readAt, now)}${superseded}`;
  return `${entry.state.toUpperCase()} since ${when(entry.changedAt, now)}: ${entry.reason ?? ''}; newest ${entry.payload}, read ${localTime(entry.readAt)}; ${sent}${superseded}`;
}

function when(date: Date | null, now: Date): string {
  if (!date) return 'never';
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const ago = seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : seconds < 172_800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86_400)} days`;
  return `${localTime(date)} (${ago} ago)`;
}

/** ISO-like local time: the meter and its owner think in local time. */
export function localTime(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}
