// Data-link layer (Kamstrup doc 5512-447 §3.2): destination address, command id, data, CRC.

import { KmpError } from './errors.js';
import { crc16Xmodem } from './crc.js';
import { hexByte } from './bytes.js';

/** Address of the heat meter itself; 0x7F and 0xBF are the logger modules of a MULTICAL 601/801. */
export const DESTINATION_HEAT_METER = 0x3f;

export interface DataLinkMessage {
  readonly destination: number;
  readonly commandId: number;
  readonly data: Uint8Array;
}

export function encodeDataLink(message: DataLinkMessage): Uint8Array {
  const out = new Uint8Array(message.data.length + 4);
  out[0] = message.destination;
  out[1] = message.commandId;
  out.set(message.data, 2);
  const crc = crc16Xmodem(out.subarray(0, out.length - 2));
  out[out.length - 2] = crc >> 8;
  out[out.length - 1] = crc & 0xff;
  return out;
}

export function decodeDataLink(bytes: Uint8Array): DataLinkMessage {
  if (bytes.length < 4) {
    throw new KmpError('frame-too-short', `a data-link message needs at least 4 bytes, got ${bytes.length}`, {
      expected: '≥ 4 bytes',
      actual: `${bytes.length} bytes`,
    });
  }
  const residue = crc16Xmodem(bytes);
  if (residue !== 0) {
    const given = ((bytes[bytes.length - 2] as number) << 8) | (bytes[bytes.length - 1] as number);
    const computed = crc16Xmodem(bytes.subarray(0, bytes.length - 2));
    throw new KmpError('crc-mismatch', 'CRC check failed: the frame was corrupted on the line', {
      expected: hexWord(computed),
      actual: hexWord(given),
    });
  }
  return {
    destination: bytes[0] as number,
    commandId: bytes[1] as number,
    data: bytes.slice(2, bytes.length - 2),
  };
}

function hexWord(value: number): string {
  return `${hexByte(value >> 8)}${(value & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
}
