// Application layer (Kamstrup doc 5512-447 §6): the commands this project speaks, encoded and
// decoded in both directions so the same code reads a meter and plays one in the simulator.

import { KmpError } from './errors.js';
import { hexByte } from './bytes.js';
import { decodeNumber, encodeNumber, type KmpNumber } from './value.js';

export const CommandId = {
  GetType: 0x01,
  GetSerialNo: 0x02,
  SetClock: 0x09,
  GetRegister: 0x10,
  PutRegister: 0x11,
} as const;

/** "A maximal number of 8 registers can be read with one request" (§6.2.4). */
export const MAX_REGISTERS_PER_REQUEST = 8;

export type KmpRequest =
  | { readonly command: 'get-type' }
  | { readonly command: 'get-serial-no' }
  | { readonly command: 'get-register'; readonly registerIds: readonly number[] };

export interface MeterTypeInfo {
  /** Kamstrup's meter type code, e.g. 0x0004 = MULTICAL 601 pt100. */
  readonly meterType: number;
  /** "G1": a letter (1 = A) and a number; null where the meter reports 00 00 (unavailable). */
  readonly softwareRevision: string | null;
}

/** One record of a GetRegister answer: id, unit, NoB, SiEx, mantissa. */
export interface RegisterRecord {
  readonly registerId: number;
  readonly unitCode: number;
  readonly value: KmpNumber;
  /** The mantissa bytes as sent (the DST date-time unit is read from these). */
  readonly mantissaBytes: Uint8Array;
}

/** What the meter side puts into a GetRegister answer. */
export interface RegisterAnswer {
  readonly registerId: number;
  readonly unitCode: number;
  readonly value: KmpNumber;
  /** NoB: how many bytes the mantissa takes on the wire (1 … 8). */
  readonly byteCount: number;
}

export interface ApplicationMessage {
  readonly commandId: number;
  readonly data: Uint8Array;
}

export function commandIdOf(request: KmpRequest): number {
  switch (request.command) {
    case 'get-type':
      return CommandId.GetType;
    case 'get-serial-no':
      return CommandId.GetSerialNo;
    case 'get-register':
      return CommandId.GetRegister;
  }
}

export function encodeRequest(request: KmpRequest): ApplicationMessage {
  if (request.command !== 'get-register') return { commandId: commandIdOf(request), data: new Uint8Array(0) };
  const ids = request.registerIds;
  if (ids.length < 1 || ids.length > MAX_REGISTERS_PER_REQUEST) {
    throw new KmpError('bad-register-count', `GetRegister takes 1 to 8 register ids, got ${ids.length}`, {
      expected: '1 … 8',
      actual: String(ids.length),
    });
  }
  const data = new Uint8Array(1 + 2 * ids.length);
  data[0] = ids.length;
  ids.forEach((id, i) => {
    checkRange('register id', id, 0xffff);
    data[1 + 2 * i] = id >> 8;
    data[2 + 2 * i] = id & 0xff;
  });
  return { commandId: CommandId.GetRegister, data };
}

/** The meter's side: which request is this? Unknown commands get no answer from a meter. */
export function decodeRequest(message: ApplicationMessage): KmpRequest {
  const { commandId, data } = message;
  switch (commandId) {
    case CommandId.GetType:
    case CommandId.GetSerialNo:
      expectLength(commandId, data, 0);
      return { command: commandId === CommandId.GetType ? 'get-type' : 'get-serial-no' };
    case CommandId.GetRegister: {
      const count = data[0] ?? 0;
      if (count < 1 || count > MAX_REGISTERS_PER_REQUEST) {
        throw new KmpError('bad-register-count', `GetRegister asks for ${count} registers`, {
          expected: '1 … 8',
          actual: String(count),
        });
      }
      expectLength(commandId, data, 1 + 2 * count);
      const registerIds: number[] = [];
      for (let i = 0; i < count; i++) registerIds.push(((data[1 + 2 * i] as number) << 8) | (data[2 + 2 * i] as number));
      return { command: 'get-register', registerIds };
    }
    default:
      throw new KmpError('unexpected-command', `command ${hexByte(commandId)} is not supported`, {
        expected: 'GetType, GetSerialNo or GetRegister',
        actual: hexByte(commandId),
      });
  }
}

export function encodeGetTypeResponse(info: MeterTypeInfo): Uint8Array {
  checkRange('meter type', info.meterType, 0xffff);
  let letter = 0;
  let number = 0;
  if (info.softwareRevision !== null) {
    const match = /^([A-Z])(\d{1,3})$/.exec(info.softwareRevision);
    if (!match || Number(match[2]) > 255) {
      throw new KmpError('bad-value', `software revision "${info.softwareRevision}" is not a letter and a number`, {
        expected: 'e.g. G1',
        actual: info.softwareRevision,
      });
    }
    letter = (match[1] as string).charCodeAt(0) - 64;
    number = Number(match[2]);
  }
  return Uint8Array.of(info.meterType >> 8, info.meterType & 0xff, letter, number);
}

export function decodeGetTypeResponse(data: Uint8Array): MeterTypeInfo {
  expectLength(CommandId.GetType, data, 4);
  const [typeHi, typeLo, letter, number] = Array.from(data) as [number, number, number, number];
  const available = letter >= 1 && letter <= 26;
  return {
    meterType: (typeHi << 8) | typeLo,
    softwareRevision: available ? `${String.fromCharCode(64 + letter)}${number}` : null,
  };
}

export function encodeGetSerialNoResponse(serial: number): Uint8Array {
  checkRange('serial number', serial, 0xffffffff);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, serial);
  return out;
}

export function decodeGetSerialNoResponse(data: Uint8Array): number {
  expectLength(CommandId.GetSerialNo, data, 4);
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}

export function encodeGetRegisterResponse(answers: readonly RegisterAnswer[]): Uint8Array {
  const parts: number[] = [];
  for (const answer of answers) {
    checkRange('register id', answer.registerId, 0xffff);
    checkRange('unit code', answer.unitCode, 0xff);
    const number = encodeNumber(answer.value, answer.byteCount);
    parts.push(answer.registerId >> 8, answer.registerId & 0xff, answer.unitCode, answer.byteCount, ...number);
  }
  return Uint8Array.from(parts);
}

/**
 * Walks the answer by each record's NoB length byte. Records come in the meter's order and
 * unsupported ids are simply absent, so callers key on `registerId`, never on position.
 */
export function decodeGetRegisterResponse(data: Uint8Array): RegisterRecord[] {
  const records: RegisterRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 5 > data.length) {
      throw new KmpError('truncated-record', 'register record header runs past the end of the answer', {
        offset,
        expected: '5 header bytes',
        actual: `${data.length - offset} bytes`,
      });
    }
    const registerId = ((data[offset] as number) << 8) | (data[offset + 1] as number);
    const unitCode = data[offset + 2] as number;
    const byteCount = data[offset + 3] as number;
    const siex = data[offset + 4] as number;
    const end = offset + 5 + byteCount;
    if (end > data.length) {
      throw new KmpError('truncated-record', `register ${registerId} claims ${byteCount} value bytes, the answer has fewer`, {
        offset,
        expected: `${byteCount} bytes`,
        actual: `${data.length - offset - 5} bytes`,
      });
    }
    const mantissaBytes = data.slice(offset + 5, end);
    records.push({ registerId, unitCode, value: decodeNumber(siex, mantissaBytes), mantissaBytes });
    offset = end;
  }
  return records;
}

/** An answer that holds a register the request did not ask for answers another request. */
export function checkAnsweredIds(records: readonly RegisterRecord[], requestedIds: readonly number[]): void {
  const stray = records.find((record) => !requestedIds.includes(record.registerId));
  if (stray) {
    throw new KmpError('unexpected-register', `the answer holds register ${stray.registerId}, which was not asked for`, {
      expected: requestedIds.join(', '),
      actual: String(stray.registerId),
    });
  }
}

function expectLength(commandId: number, data: Uint8Array, length: number): void {
  if (data.length !== length) {
    throw new KmpError('bad-length', `command ${hexByte(commandId)} carries ${data.length} data bytes, expected ${length}`, {
      expected: `${length} bytes`,
      actual: `${data.length} bytes`,
    });
  }
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new KmpError('bad-value', `${what} ${value} is outside 0 … ${max}`, { expected: `0 … ${max}`, actual: String(value) });
  }
}
