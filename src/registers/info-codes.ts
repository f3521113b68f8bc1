// The info code (register 99): a sum of flags whose meaning differs per model
// (docs/kmp-protocol.md §8). Decoded here, once, for every sink that shows it in words or as a
// level; a flag a model's table does not know is named by its number, never guessed.

import type { MeterModel } from './catalogue.js';

/** How bad a set flag is: a past event worth knowing, a fault that stops counting, a leak or burst. */
export type InfoSeverity = 'notice' | 'warning' | 'alarm';

export interface InfoFlag {
  readonly bit: number;
  readonly words: string;
  readonly severity: InfoSeverity;
}

/**
 * MULTICAL 601/602 info flags (installation and user manual, docs/kmp-protocol.md §8). Leaks and
 * bursts are alarms; a sensor or flow meter fault is a warning (energy stops counting); a past
 * supply interruption is a notice.
 */
export const MULTICAL_601_INFO_FLAGS: readonly InfoFlag[] = [
  { bit: 1, words: 'supply voltage was interrupted', severity: 'notice' },
  { bit: 4, words: 'T2 outside measuring range', severity: 'warning' },
  { bit: 8, words: 'T1 outside measuring range', severity: 'warning' },
  { bit: 16, words: 'V1 communication error', severity: 'warning' },
  { bit: 32, words: 'T3 outside measuring range', severity: 'warning' },
  { bit: 64, words: 'leak in the cold-water system', severity: 'alarm' },
  { bit: 128, words: 'V2 wrong pulse figure', severity: 'warning' },
  { bit: 256, words: 'leak in the heating system', severity: 'alarm' },
  { bit: 512, words: 'burst in the heating system', severity: 'alarm' },
  { bit: 1024, words: 'V2 communication error', severity: 'warning' },
  { bit: 2048, words: 'V1 wrong pulse figure', severity: 'warning' },
  { bit: 4096, words: 'V1 signal too weak (air)', severity: 'warning' },
  { bit: 8192, words: 'V2 signal too weak (air)', severity: 'warning' },
  { bit: 16384, words: 'V1 wrong flow direction', severity: 'warning' },
  { bit: 32768, words: 'V2 wrong flow direction', severity: 'warning' },
];

/**
 * MULTICAL 403 info bits as read over KMP (technical description, kmp-protocol.md §8): sensor and
 * flow faults stop energy counting (warnings); the pulse inputs' external alarms are whatever the
 * installer wired to them (a leak detector), so alarms.
 */
export const MULTICAL_403_INFO_FLAGS: readonly InfoFlag[] = [
  { bit: 8, words: 't1 above measuring range or disconnected', severity: 'warning' },
  { bit: 16, words: 't2 above measuring range or disconnected', severity: 'warning' },
  { bit: 32, words: 't1 below measuring range or short-circuited', severity: 'warning' },
  { bit: 64, words: 't2 below measuring range or short-circuited', severity: 'warning' },
  { bit: 128, words: 'invalid temperature difference', severity: 'warning' },
  { bit: 256, words: 'air in flow sensor V1', severity: 'warning' },
  { bit: 16384, words: 'pulse input A external alarm', severity: 'alarm' },
  { bit: 32768, words: 'pulse input B external alarm', severity: 'alarm' },
];

/**
 * The info flags of a model. The 402's own table is in none of our sources (kmp-protocol.md §8):
 * its flags, like those of every model without a table, are shown by number ("flag 8") rather
 * than guessed from another model's.
 */
export function infoFlagsOf(model: MeterModel): readonly InfoFlag[] {
  switch (model) {
    case 'multical-601':
    case 'multical-602':
      return MULTICAL_601_INFO_FLAGS;
    case 'multical-403':
      return MULTICAL_403_INFO_FLAGS;
    default:
      return [];
  }
}

/** The info code as words: each set flag by its meaning, or by its number where `flags` has none. */
export function infoCodeWords(code: bigint, flags: readonly InfoFlag[]): string {
  if (code === 0n) return 'OK';
  const words: string[] = [];
  for (let bit = 1n; bit <= code; bit <<= 1n) {
    if ((code & bit) === 0n) continue;
    words.push(flags.find((flag) => BigInt(flag.bit) === bit)?.words ?? `flag ${bit}`);
  }
  return words.join(', ');
}

const SEVERITY_ORDER: readonly InfoSeverity[] = ['notice', 'warning', 'alarm'];

/** The worst severity among the set flags (a flag `flags` does not know is a warning: its meaning is unknown); null when none is set. */
export function infoCodeSeverity(code: bigint, flags: readonly InfoFlag[]): InfoSeverity | null {
  let worst: InfoSeverity | null = null;
  for (let bit = 1n; bit <= code; bit <<= 1n) {
    if ((code & bit) === 0n) continue;
    const severity = flags.find((flag) => BigInt(flag.bit) === bit)?.severity ?? 'warning';
    if (worst === null || SEVERITY_ORDER.indexOf(severity) > SEVERITY_ORDER.indexOf(worst)) worst = severity;
  }
  return worst;
}
