// Builds the link a meter URL names and a client on it: the composition edge for meters.

import { LinkError } from '../links/errors.js';
import type { MeterLink } from '../links/link.js';
import { parseMeterUrl, type SimulatorUrlOptions } from '../links/meter-url.js';
import { SerialLink } from '../links/serial-link.js';
import { TcpLink } from '../links/tcp-link.js';
import { faultKinds, type FaultKind, type LineOptions } from '../simulator/meter-port.js';
import { energyUnits, SimulatedMultical402, type EnergyUnit, type Multical402Options } from '../simulator/multical-402.js';
import { SimulatedLink } from '../simulator/simulated-link.js';
import { MeterClient, type MeterClientOptions } from './client.js';

export function linkFromUrl(url: string): MeterLink {
  const parsed = parseMeterUrl(url);
  switch (parsed.kind) {
    case 'serial':
      return new SerialLink(parsed.baudRate === undefined ? { path: parsed.path } : { path: parsed.path, baudRate: parsed.baudRate });
    case 'tcp':
      return new TcpLink({ host: parsed.host, port: parsed.port });
    case 'sim': {
      const { meter, line } = simulatorFromOptions(parsed, url);
      return new SimulatedLink(meter, line, `simulated ${parsed.model}`);
    }
  }
}

export function connectMeter(url: string, options: MeterClientOptions = {}): MeterClient {
  return new MeterClient(linkFromUrl(url), options);
}

/** Checks the simulator's options (shared by sim:// URLs and `simulate`) and builds it. */
export function simulatorFromOptions(
  options: Omit<SimulatorUrlOptions, 'model'>,
  where: string,
): { meter: SimulatedMultical402; line: LineOptions } {
  const faults = options.faults.map((fault) => {
    if (!(faultKinds as readonly string[]).includes(fault)) {
      throw new LinkError('bad-url', `${where}: unknown fault "${fault}" (valid: ${faultKinds.join(', ')})`);
    }
    return fault as FaultKind;
  });
  if (options.energyUnit !== undefined && !(energyUnits as readonly string[]).includes(options.energyUnit)) {
    throw new LinkError('bad-url', `${where}: unknown energy unit "${options.energyUnit}" (valid: ${energyUnits.join(', ')})`);
  }
  const meterOptions: Multical402Options = {
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
