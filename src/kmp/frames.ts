// Whole frames: application message ⇄ data link ⇄ physical bytes, for both ends of the line.

import { KmpError } from './errors.js';
import { hexByte } from './bytes.js';
import { decodeDataLink, encodeDataLink, DESTINATION_HEAT_METER } from './data-link.js';
import { decodeFrame, encodeFrame } from './physical.js';
import { commandIdOf, decodeRequest, encodeRequest, type ApplicationMessage, type KmpRequest } from './messages.js';

export function encodeRequestFrame(request: KmpRequest, destination: number = DESTINATION_HEAT_METER): Uint8Array {
  const { commandId, data } = encodeRequest(request);
  return encodeFrame('to-meter', encodeDataLink({ destination, commandId, data }));
}

/**
 * Checks that an answer frame is intact and answers this request: same address, same command.
 * Returns the application data.
 */
export function decodeResponseFrame(frame: Uint8Array, request: KmpRequest, destination: number = DESTINATION_HEAT_METER): Uint8Array {
  const message = decodeDataLink(decodeFrame('from-meter', frame));
  if (message.destination !== destination) {
    throw new KmpError('unexpected-destination', `answer comes from address ${hexByte(message.destination)}`, {
      expected: hexByte(destination),
      actual: hexByte(message.destination),
    });
  }
  const commandId = commandIdOf(request);
  if (message.commandId !== commandId) {
    throw new KmpError('unexpected-command', `answer to command ${hexByte(message.commandId)} instead of ${hexByte(commandId)}`, {
      expected: hexByte(commandId),
      actual: hexByte(message.commandId),
    });
  }
  return message.data;
}

export interface DecodedRequest {
  readonly destination: number;
  readonly request: KmpRequest;
}

/** The meter's side: a request frame as it arrives from the head. */
export function decodeRequestFrame(frame: Uint8Array): DecodedRequest {
  const message = decodeDataLink(decodeFrame('to-meter', frame));
  return { destination: message.destination, request: decodeRequest(message) };
}

export function encodeResponseFrame(destination: number, answer: ApplicationMessage): Uint8Array {
  return encodeFrame('from-meter', encodeDataLink({ destination, commandId: answer.commandId, data: answer.data }));
}
