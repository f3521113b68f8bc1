// The simulator's options, checked once whether they come from a sim:// URL or from
// `kamstrup-logger simulate` flags, and the simulator built from them.

import { faultKinds, type FaultKind, type LineOptions } from './meter-port.js';
import { energyUnits, SimulatedMultical402, type EnergyUnit, type Multical402Options } from './multical-402.js';

export const simulatedModels = ['multical-402'] as const;
export type SimulatedModel = (typeof simulatedModels)[number];

/** A serial number has 4 bytes; timers hold at most 2^31 − 1 ms; a week per real minute is plenty. */
export const simulatorLimits = {
  serialNumber: 0xffffffff,
  seed: 0xffffffff,
  turnaroundMs: 60_000,
  baudRate: 115_200,
  speed: 10_080,
} as const;

export interface SimulatorOptions {
  readonly echo: boolean;
  readonly pace: boolean;
  readonly faults: readonly string[];
  readonly baudRate?: number;
  readonly turnaroundMs?: number;
  readonly faultEvery?: number;
  readonly seed?: number;
  readonly serialNumber?: number;
  readonly energyUnit?: string;
  readonly speed?: number;
}

export class SimulatorOptionError extends Error {
  override readonly name = 'SimulatorOptionError';
  readonly code = 'bad-simulator-option';
}

/** `model`: what a URL or a flag cannot set (the clock, the base year of `simulate --history`). */
export function buildSimulator(options: SimulatorOptions, model: Pick<Multical402Options, 'now' | 'baseYearOf'> = {}): { meter: SimulatedMultical402; line: LineOptions } {
  const faults = options.faults.map((fault) => {
    if (!(faultKinds as readonly string[]).includes(fault)) {
      throw new SimulatorOptionError(`unknown fault "${fault}" (valid: ${faultKinds.join(', ')})`);
    }
    return fault as FaultKind;
  });
  if (options.energyUnit !== undefined && !(energyUnits as readonly string[]).includes(options.energyUnit)) {
    throw new SimulatorOptionError(`unknown energy unit "${options.energyUnit}" (valid: ${energyUnits.join(', ')})`);
  }
  const meterOptions: Multical402Options = {
    ...model,
    ...(options.seed !== undefined && { seed: options.seed }),
    ...(options.serialNumber !== undefined && { serialNumber: options.serialNumber }),
    ...(options.energyUnit !== undefined && { energyUnit: options.energyUnit as EnergyUnit }),
    ...(options.speed !== undefined && { speed: options.speed }),
  };
  const line: LineOptions = {
    echo: options.echo,
    pace: options.pace,
    faults,
    ...(options.baudRate !== undefined && { baudRate: options.baudRate }),
    ...(options.turnaroundMs !== undefined && { turnaroundMs: options.turnaroundMs }),
    ...(options.faultEvery !== undefined && { faultEvery: options.faultEvery }),
  };
  return { meter: new SimulatedMultical402(meterOptions), line };
}
