// FrameSplitter: finding frames in a byte stream that arrives in arbitrary chunks. The same
// events must come out however the stream is cut.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameSplitter,
  MAX_FRAME_BYTES,
  decodeGetRegisterResponse,
  decodeGetSerialNoResponse,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeGetRegisterResponse,
  encodeRequestFrame,
  encodeResponseFrame,
  formatDecimal,
  fromHex,
  toHex,
  type Direction,
  type SplitterEvent,
} from '../../src/kmp/index.js';

const requestReg60 = fromHex('80 3F 10 01 00 3C B2 5F 0D');
const answerReg60 = fromHex('40 3F 10 00 3C 03 04 43 00 00 D6 DE 03 22 0D');
const answerSerial = fromHex('40 3F 02 01 23 45 67 E9 56 0D');
const answerType = fromHex('40 3F 01 00 04 1B F9 01 26 99 0D'); // holds a stuffed 06
const setClockRequest = fromHex('80 3F 09 00 01 14 4A 00 02 77 15 77 4E 0D');
const ACK = fromHex('06');

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const frame = (bytes: Uint8Array): SplitterEvent => ({ kind: 'frame', frame: bytes });
const ack: SplitterEvent = { kind: 'ack' };

/** Feeds the chunks to a new splitter and collects every event. */
function feed(direction: Direction, chunks: readonly Uint8Array[]): SplitterEvent[] {
  const splitter = new FrameSplitter(direction);
  return chunks.flatMap((chunk) => splitter.push(chunk));
}

/** Readable form of events for assertion messages and comparison. */
function describeEvents(events: readonly SplitterEvent[]): string[] {
  return events.map((e) => (e.kind === 'ack' ? 'ACK' : toHex(e.frame)));
}

/** Deterministic pseudo-random cut points (xorshift32). */
function randomCuts(seed: number, length: number): number[] {
  let state = seed;
  const cuts = new Set<number>();
  const wanted = 1 + (seed % 6);
  while (cuts.size < Math.min(wanted, length - 1)) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    cuts.add(1 + ((state >>> 0) % (length - 1)));
  }
  return [...cuts].sort((a, b) => a - b);
}

function cutAt(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    chunks.push(stream.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

interface Stream {
  readonly name: string;
  readonly direction: Direction;
  readonly bytes: Uint8Array;
  readonly events: readonly SplitterEvent[];
}

const streams: readonly Stream[] = [
  {
    name: 'the head echoes the request, then the meter answers',
    direction: 'from-meter',
    bytes: concat(requestReg60, answerReg60),
    events: [frame(answerReg60)],
  },
  {
    name: 'stray 0x00 bytes around the answer',
    direction: 'from-meter',
    bytes: concat(fromHex('00'), answerReg60, fromHex('00 00')),
    events: [frame(answerReg60)],
  },
  {
    name: 'line noise without 0x40 (with stray 0D and 80), then the answer',
    direction: 'from-meter',
    bytes: concat(fromHex('FF 12 0D 3F 80 0D 55 7E 1B'), answerSerial),
    events: [frame(answerSerial)],
  },
  {
    name: 'two answers back to back',
    direction: 'from-meter',
    bytes: concat(answerReg60, answerSerial),
    events: [frame(answerReg60), frame(answerSerial)],
  },
  {
    name: 'an answer with a stuffed 06 inside (not an ACK)',
    direction: 'from-meter',
    bytes: answerType,
    events: [frame(answerType)],
  },
  {
    name: 'a bare ACK',
    direction: 'from-meter',
    bytes: ACK,
    events: [ack],
  },
  {
    name: 'the echoed SetClock request, then the ACK',
    direction: 'from-meter',
    bytes: concat(setClockRequest, ACK),
    events: [ack],
  },
  {
    name: 'an answer, an ACK, an echo and another answer',
    direction: 'from-meter',
    bytes: concat(answerSerial, ACK, requestReg60, answerReg60),
    events: [frame(answerSerial), ack, frame(answerReg60)],
  },
  {
    name: 'the meter side: a request among answers and ACKs',
    direction: 'to-meter',
    bytes: concat(fromHex('00'), answerSerial, ACK, requestReg60, answerReg60),
    events: [frame(requestReg60)],
  },
];

describe('FrameSplitter', () => {
  for (const stream of streams) {
    describe(stream.name, () => {
      const expected = describeEvents(stream.events);

      it('in one chunk', () => {
        assert.deepEqual(feed(stream.direction, [stream.bytes]), stream.events);
      });

      it('cut at every single boundary', () => {
        for (let cut = 0; cut <= stream.bytes.length; cut++) {
          const events = feed(stream.direction, cutAt(stream.bytes, cut === 0 || cut === stream.bytes.length ? [] : [cut]));
          assert.deepEqual(describeEvents(events), expected, `cut at ${cut}`);
        }
        // Including empty chunks on either side.
        for (let cut = 0; cut <= stream.bytes.length; cut++) {
          const events = feed(stream.direction, [stream.bytes.subarray(0, cut), stream.bytes.subarray(cut)]);
          assert.deepEqual(describeEvents(events), expected, `cut at ${cut}`);
        }
      });

      it('byte by byte', () => {
        const chunks = Array.from(stream.bytes, (b) => Uint8Array.of(b));
        assert.deepEqual(feed(stream.direction, chunks), stream.events);
      });

      it('in pseudo-random chunks', () => {
        if (stream.bytes.length < 2) return;
        for (let seed = 1; seed <= 50; seed++) {
          const cuts = randomCuts(seed * 2654435761, stream.bytes.length);
          assert.deepEqual(describeEvents(feed(stream.direction, cutAt(stream.bytes, cuts))), expected, `cuts ${cuts.join(',')}`);
        }
      });
    });
  }

  it('hands out frames the codec decodes (echo + answer)', () => {
    const [event] = feed('from-meter', [concat(requestReg60, answerReg60)]);
    assert.ok(event?.kind === 'frame');
    const [record] = decodeGetRegisterResponse(decodeResponseFrame(event.frame, { command: 'get-register', registerIds: [60] }));
    assert.equal(record?.registerId, 60);
    assert.equal(record && formatDecimal(record.value), '55.006');
  });

  it('counts the discarded echo and noise bytes', () => {
    const splitter = new FrameSplitter('from-meter');
    splitter.push(concat(fromHex('00'), requestReg60, answerReg60));
    assert.equal(splitter.discardedBytes, 1 + requestReg60.length);
  });

  it('reports whether it is inside a frame', () => {
    const splitter = new FrameSplitter('from-meter');
    assert.equal(splitter.inFrame, false);
    splitter.push(answerSerial.subarray(0, 4));
    assert.equal(splitter.inFrame, true);
    splitter.push(answerSerial.subarray(4));
    assert.equal(splitter.inFrame, false);
  });

  it('hands out copies: reusing the read buffer does not change an emitted frame', () => {
    const splitter = new FrameSplitter('from-meter');
    const chunk = answerSerial.slice();
    const [event] = splitter.push(chunk);
    chunk.fill(0);
    assert.ok(event?.kind === 'frame');
    assert.equal(toHex(event.frame), toHex(answerSerial));
  });

  it('restarts the frame on a second start byte inside it (resync)', () => {
    const splitter = new FrameSplitter('from-meter');
    const partial = answerReg60.subarray(0, 6);
    const events = splitter.push(concat(partial, answerSerial));
    assert.deepEqual(describeEvents(events), [toHex(answerSerial)]);
    assert.equal(splitter.discardedBytes, partial.length);
    assert.equal(decodeGetSerialNoResponse(decodeResponseFrame(answerSerial, { command: 'get-serial-no' })), 19088743);
  });

  it('resyncs at every cut of an interrupted frame followed by a complete one', () => {
    const stream = concat(answerReg60.subarray(0, 9), answerReg60);
    for (let cut = 0; cut <= stream.length; cut++) {
      const events = feed('from-meter', [stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(describeEvents(events), [toHex(answerReg60)], `cut at ${cut}`);
    }
  });

  it('discards an over-long run without a stop byte, then finds the next frame', () => {
    const splitter = new FrameSplitter('from-meter');
    const run = concat(fromHex('40'), new Uint8Array(MAX_FRAME_BYTES + 50).fill(0x11));
    assert.deepEqual(splitter.push(run), []);
    assert.equal(splitter.inFrame, false);
    // The stop byte that finally comes ends nothing: that frame was given up.
    assert.deepEqual(splitter.push(fromHex('22 0D')), []);
    assert.ok(splitter.discardedBytes >= run.length);
    assert.deepEqual(describeEvents(splitter.push(answerSerial)), [toHex(answerSerial)]);
  });

  it('passes the longest real answer: 8 records of 8 mantissa bytes, nearly all stuffed', () => {
    const records = Array.from({ length: 8 }, () => ({
      registerId: 0x1b40,
      unitCode: 0x80,
      byteCount: 8,
      value: { negative: true, mantissa: 0x0d0d0d0d06060606n, exponent: 0 },
    }));
    const answer = encodeResponseFrame(0x3f, { commandId: 0x10, data: encodeGetRegisterResponse(records) });
    assert.ok(answer.length <= MAX_FRAME_BYTES);
    const events = feed('from-meter', Array.from(answer, (b) => Uint8Array.of(b)));
    assert.deepEqual(describeEvents(events), [toHex(answer)]);
  });

  it('bounds a frame by the longest valid answer: 8 records of 13 bytes, every byte stuffed', () => {
    // kmp-protocol.md: at most 8 registers per request, a record is 5 + NoB bytes with NoB up
    // to 8, DST + CID + CRC add 4, stuffing can double every byte, plus start and stop.
    const longestValid = 2 * (8 * (5 + 8) + 4) + 2;
    assert.equal(MAX_FRAME_BYTES, longestValid);
    const splitter = new FrameSplitter('from-meter');
    const filler = (n: number): Uint8Array => new Uint8Array(n).fill(0x11);
    assert.equal(splitter.push(concat(fromHex('40'), filler(longestValid - 2), fromHex('0D'))).length, 1, 'the longest valid frame passes');
    assert.deepEqual(splitter.push(concat(fromHex('40'), filler(longestValid - 1))), []);
    assert.equal(splitter.inFrame, false, 'one byte past the longest valid answer, the frame is given up');
    assert.equal(splitter.overlongFrames, 1);
  });

  describe("a 'to-meter' splitter", () => {
    it('ignores 0x06 and counts it as discarded', () => {
      const splitter = new FrameSplitter('to-meter');
      assert.deepEqual(splitter.push(ACK), []);
      assert.equal(splitter.discardedBytes, 1);
    });

    it('skips answers and finds the request', () => {
      const events = feed('to-meter', [concat(answerReg60, ACK, encodeRequestFrame({ command: 'get-type' }))]);
      assert.equal(events.length, 1);
      const event = events[0];
      assert.ok(event?.kind === 'frame');
      assert.deepEqual(decodeRequestFrame(event.frame).request, { command: 'get-type' });
    });
  });

  it('reset() drops a half-received frame', () => {
    const splitter = new FrameSplitter('from-meter');
    splitter.push(answerSerial.subarray(0, 5));
    splitter.reset();
    assert.equal(splitter.inFrame, false);
    assert.equal(splitter.discardedBytes, 5);
    assert.deepEqual(splitter.push(answerSerial.subarray(5)), []);
    assert.deepEqual(describeEvents(splitter.push(answerSerial)), [toHex(answerSerial)]);
  });
});
