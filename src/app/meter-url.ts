// Meter URLs: the one place where serial, TCP and the simulator are told apart.
//   /dev/ttyUSB0, serial:///dev/ttyUSB0?baud=2400   a serial optical head
//   tcp://192.168.1.20:2002                         a raw TCP bridge (ser2net, ESP-Link)
//   sim://multical-402?echo=1&fault=crc-error       the built-in simulator, in this process

import { LinkError } from '../links/errors.js';
import { MAX_SERIAL_BAUD_RATE } from '../links/serial-link.js';
import { simulatedModels, simulatorLimits, type SimulatedModel, type SimulatorOptions } from '../simulator/options.js';


export type MeterUrl =
  | { readonly kind: 'serial'; readonly path: string; readonly baudRate?: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | ({ readonly kind: 'sim'; readonly model: SimulatedModel } & SimulatorOptions);

const simulatorParameters = ['echo', 'pace', 'baud', 'turnaround_ms', 'fault', 'fault_every', 'seed', 'serial', 'energy_unit', 'speed'];

const usage = 'use a device path (/dev/ttyUSB0), serial:///dev/ttyUSB0, tcp://HOST:PORT or sim://multical-402';

export function parseMeterUrl(text: string): MeterUrl {
  const input = text.trim();
  if (input.startsWith('/')) return { kind: 'serial', path: input };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new LinkError('bad-url', `"${text}" is not a meter URL: ${usage}`);
  }
  switch (url.protocol) {
    case 'serial:': {
      const path = decodeURIComponent(url.pathname);
      if (!path.startsWith('/') || url.host !== '') throw new LinkError('bad-url', `"${text}": write a serial URL with three slashes, e.g. serial:///dev/ttyUSB0`);
      checkParameters(url, ['baud'], text);
      const baud = url.searchParams.get('baud');
      return baud === null ? { kind: 'serial', path } : { kind: 'serial', path, baudRate: ranged(1, MAX_SERIAL_BAUD_RATE)(baud, 'baud', text) };
    }
    case 'tcp:': {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (!host || !url.port) throw new LinkError('bad-url', `"${text}": a TCP bridge needs a host and a port, e.g. tcp://192.168.1.20:2002`);
      if (url.port === '0') throw new LinkError('bad-url', `"${text}": port 0 is not a bridge's port; use the port the bridge listens on (1 … 65535)`);
      checkParameters(url, [], text);
      return { kind: 'tcp', host, port: Number(url.port) };
    }
    case 'sim:': {
      const model = url.hostname;
      if (!(simulatedModels as readonly string[]).includes(model)) {
        throw new LinkError('bad-url', `"${text}": the simulator knows ${simulatedModels.join(', ')}, not "${model}"`);
      }
      checkParameters(url, simulatorParameters, text);
      const p = url.searchParams;
      const number = (name: string, parse: (v: string, n: string, t: string) => number): Record<string, number> => {
        const value = p.get(name);
        return value === null ? {} : { [name]: parse(value, name, text) };
      };
      const n = {
        ...number('baud', ranged(1, simulatorLimits.baudRate)),
        ...number('turnaround_ms', ranged(0, simulatorLimits.turnaroundMs)),
        ...number('fault_every', positiveInteger),
        ...number('seed', ranged(0, simulatorLimits.seed)),
        ...number('serial', ranged(0, simulatorLimits.serialNumber)),
        ...number('speed', speedFactor),
      };
      return {
        kind: 'sim',
        model: model as SimulatedModel,
        echo: flag(p.get('echo'), 'echo', text),
        pace: flag(p.get('pace'), 'pace', text),
        faults: p.getAll('fault').flatMap((f) => f.split(',')).filter((f) => f !== ''),
        ...(n.baud !== undefined && { baudRate: n.baud }),
        ...(n.turnaround_ms !== undefined && { turnaroundMs: n.turnaround_ms }),
        ...(n.fault_every !== undefined && { faultEvery: n.fault_every }),
        ...(n.seed !== undefined && { seed: n.seed }),
        ...(n.serial !== undefined && { serialNumber: n.serial }),
        ...(n.speed !== undefined && { speed: n.speed }),
        ...(p.get('energy_unit') !== null && { energyUnit: p.get('energy_unit') as string }),
      };
    }
    default:
      throw new LinkError('bad-url', `"${text}": unknown scheme "${url.protocol}"; ${usage}`);
  }
}

function checkParameters(url: URL, allowed: readonly string[], text: string): void {
  for (const key of url.searchParams.keys()) {
    if (!allowed.includes(key)) {
      const valid = allowed.length > 0 ? `valid: ${allowed.join(', ')}` : 'this kind of URL takes none';
      throw new LinkError('bad-url', `"${text}": unknown parameter "${key}" (${valid})`);
    }
  }
}

function flag(value: string | null, name: string, text: string): boolean {
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '' || value === '1' || value === 'true') return true;
  throw new LinkError('bad-url', `"${text}": ${name} takes 1 or 0, not "${value}"`);
}

function parseNumber(value: string, name: string, text: string, valid: (n: number) => boolean, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !valid(n)) throw new LinkError('bad-url', `"${text}": ${name} must be ${what}, not "${value}"`);
  return n;
}

function positiveInteger(value: string, name: string, text: string): number {
  return parseNumber(value, name, text, (n) => Number.isInteger(n) && n > 0, 'a whole number above 0');
}

function ranged(min: number, max: number): (value: string, name: string, text: string) => number {
  return (value, name, text) => parseNumber(value, name, text, (n) => Number.isInteger(n) && n >= min && n <= max, `a whole number from ${min} to ${max}`);
}

function speedFactor(value: string, name: string, text: string): number {
  return parseNumber(value, name, text, (n) => n > 0 && n <= simulatorLimits.speed, `a number above 0, at most ${simulatorLimits.speed}`);
}
