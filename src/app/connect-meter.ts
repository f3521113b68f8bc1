// The composition edge for meters: a meter URL becomes a link and a client on it.

import { LinkError } from '../links/errors.js';
import type { MeterLink } from '../links/link.js';
import { SerialLink } from '../links/serial-link.js';
import { TcpLink } from '../links/tcp-link.js';
import { MeterClient, type MeterClientOptions } from '../meter/client.js';
import { buildSimulator, SimulatorOptionError } from '../simulator/options.js';
import { SimulatedLink } from '../simulator/simulated-link.js';
import { parseMeterUrl } from './meter-url.js';

export function linkFromUrl(url: string): MeterLink {
  const parsed = parseMeterUrl(url);
  switch (parsed.kind) {
    case 'serial':
      return new SerialLink(parsed.baudRate === undefined ? { path: parsed.path } : { path: parsed.path, baudRate: parsed.baudRate });
    case 'tcp':
      return new TcpLink({ host: parsed.host, port: parsed.port });
    case 'sim': {
      try {
        const { meter, line } = buildSimulator(parsed);
        return new SimulatedLink(meter, line, `simulated ${parsed.model}`);
      } catch (error) {
        if (error instanceof SimulatorOptionError) throw new LinkError('bad-url', `"${url}": ${error.message}`, { cause: error });
        throw error;
      }
    }
  }
}

/** A client on the meter the URL names, timed for the URL's line speed. */
export function connectMeter(url: string, options: MeterClientOptions = {}): MeterClient {
  const link = linkFromUrl(url);
  const parsed = parseMeterUrl(url);
  const baudRate = parsed.kind === 'tcp' ? undefined : parsed.baudRate;
  return new MeterClient(link, baudRate === undefined ? options : { baudRate, ...options });
}
