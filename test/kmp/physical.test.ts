// Physical layer (start byte, byte stuffing, stop byte), data-link layer (address, command, CRC)
// and the CRC itself.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK,
  ESCAPE,
  START_FROM_METER,
  START_TO_METER,
  STOP,
  crc16Xmodem,
  decodeDataLink,
  decodeFrame,
  encodeDataLink,
  encodeFrame,
  encodeRequestFrame,
  fromHex,
  isReserved,
  startByteOf,
  stuff,
  toHex,
  unstuff,
  type Direction,
} from '../../src/kmp/index.js';
import { assertKmpError } from '../support/assertions.js';


const RESERVED = [0x80, 0x40, 0x0d, 0x06, 0x1b];
const ESCAPED: Readonly<Record<number, number>> = { 0x80: 0x7f, 0x40: 0xbf, 0x0d: 0xf2, 0x06: 0xf9, 0x1b: 0xe4 };
const directions: readonly Direction[] = ['to-meter', 'from-meter'];
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A deterministic pseudo-random byte source (xorshift32), so failures are reproducible. */
function randomBytes(seed: number, length: number): Uint8Array {
  let state = seed || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** A frame body on the wire holds no reserved byte except 0x1B, and 0x1B only before an escape code. */
function assertWellStuffed(body: Uint8Array): void {
  for (let i = 0; i < body.length; i++) {
    const b = body[i] ?? -1;
    if (b === ESCAPE) {
      const next = body[i + 1] ?? -1;
      assert.ok(Object.values(ESCAPED).includes(next), `0x1B at ${i} is followed by an escape code, not ${next}`);
      i++;
    } else {
      assert.ok(!RESERVED.includes(b), `raw reserved byte ${b.toString(16)} at ${i}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('reserved bytes', () => {
  it('are exactly 0x80, 0x40, 0x0D, 0x06 and 0x1B', () => {
    assert.deepEqual(Array.from(allBytes).filter(isReserved), [0x06, 0x0d, 0x1b, 0x40, 0x80]);
    assert.deepEqual([START_TO_METER, START_FROM_METER, STOP, ACK, ESCAPE], [0x80, 0x40, 0x0d, 0x06, 0x1b]);
  });

  it('tell the direction by the start byte', () => {
    assert.equal(startByteOf('to-meter'), 0x80);
    assert.equal(startByteOf('from-meter'), 0x40);
  });
});

describe('stuff / unstuff', () => {
  it('escapes each reserved byte as 1B and the byte XOR FF', () => {
    assert.equal(toHex(stuff(fromHex('80'))), '1B 7F');
    assert.equal(toHex(stuff(fromHex('40'))), '1B BF');
    assert.equal(toHex(stuff(fromHex('0D'))), '1B F2');
    assert.equal(toHex(stuff(fromHex('06'))), '1B F9');
    assert.equal(toHex(stuff(fromHex('1B'))), '1B E4');
  });

  it('stuffs and unstuffs every single byte value 0..255', () => {
    for (const b of allBytes) {
      const stuffed = stuff(Uint8Array.of(b));
      const expected = isReserved(b) ? [ESCAPE, b ^ 0xff] : [b];
      assert.deepEqual(Array.from(stuffed), expected, `byte 0x${b.toString(16)}`);
      assert.deepEqual(Array.from(unstuff(stuffed)), [b], `byte 0x${b.toString(16)}`);
    }
  });

  it('round-trips all 256 byte values in one buffer, in both orders', () => {
    for (const data of [allBytes, allBytes.slice().reverse()]) {
      const stuffed = stuff(data);
      assert.equal(stuffed.length, 256 + RESERVED.length);
      assertWellStuffed(stuffed);
      assert.deepEqual(unstuff(stuffed), data);
    }
  });

  it('round-trips every pair of byte values', () => {
    for (const a of allBytes) {
      for (const b of allBytes) {
        const data = Uint8Array.of(a, b);
        assert.deepEqual(unstuff(stuff(data)), data);
      }
    }
  });

  it('round-trips pseudo-random buffers', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const data = randomBytes(seed, seed % 40);
      const stuffed = stuff(data);
      assertWellStuffed(stuffed);
      assert.deepEqual(unstuff(stuffed), data, `seed ${seed}`);
    }
  });

  it('doubles a buffer made only of reserved bytes', () => {
    const data = Uint8Array.from([...RESERVED, ...RESERVED]);
    assert.equal(stuff(data).length, 2 * data.length);
  });

  it('leaves an empty buffer empty', () => {
    assert.equal(stuff(new Uint8Array(0)).length, 0);
    assert.equal(unstuff(new Uint8Array(0)).length, 0);
  });

  it('matches the documented example 04 0D 00 06 ⇄ 04 1B F2 00 1B F9', () => {
    assert.equal(toHex(stuff(fromHex('04 0D 00 06'))), '04 1B F2 00 1B F9');
    assert.equal(toHex(unstuff(fromHex('04 1B F2 00 1B F9'))), '04 0D 00 06');
  });

  describe('unstuffs in a single pass', () => {
    it('data 1B 7F travels as 1B E4 7F and comes back as 1B 7F, not 80', () => {
      assert.equal(toHex(stuff(fromHex('1B 7F'))), '1B E4 7F');
      assert.equal(toHex(unstuff(fromHex('1B E4 7F'))), '1B 7F');
    });

    const tricky = ['1B BF', '1B F2', '1B F9', '1B E4', '1B 1B 7F', '1B E4 7F', '7F 1B 7F 1B', 'E4 1B 7F'];
    for (const hex of tricky) {
      it(`data ${hex} survives stuffing`, () => {
        assert.equal(toHex(unstuff(stuff(fromHex(hex)))), hex);
      });
    }
  });

  describe('rejects a bad escape with bad-escape', () => {
    it('for every byte after 1B that is not 7F, BF, F2, F9 or E4', () => {
      let rejected = 0;
      for (const b of allBytes) {
        if (Object.values(ESCAPED).includes(b)) continue;
        const error = assertKmpError(() => unstuff(Uint8Array.of(0x3f, ESCAPE, b, 0x10)), 'bad-escape');
        assert.equal(error.details.offset, 1);
        rejected++;
      }
      assert.equal(rejected, 251);
    });

    it('in a whole frame (40 3F 1B FF 0D)', () => {
      assertKmpError(() => decodeFrame('from-meter', fromHex('40 3F 1B FF 0D')), 'bad-escape');
    });
  });

  describe('rejects a lone 1B at the end with truncated-escape', () => {
    it('in stuffed bytes', () => {
      const error = assertKmpError(() => unstuff(fromHex('3F 10 1B')), 'truncated-escape');
      assert.equal(error.details.offset, 2);
      assertKmpError(() => unstuff(fromHex('1B')), 'truncated-escape');
      assertKmpError(() => unstuff(fromHex('1B E4 1B')), 'truncated-escape');
    });

    it('in a whole frame (40 3F 1B 0D)', () => {
      assertKmpError(() => decodeFrame('from-meter', fromHex('40 3F 1B 0D')), 'truncated-escape');
    });
  });
});

describe('encodeFrame / decodeFrame', () => {
  for (const direction of directions) {
    const start = startByteOf(direction);

    it(`${direction}: wraps data-link bytes in start byte, stuffed bytes and stop byte`, () => {
      const frame = encodeFrame(direction, fromHex('3F 10 01 00 80 12 34'));
      assert.equal(frame[0], start);
      assert.equal(frame[frame.length - 1], STOP);
      assert.equal(toHex(frame.subarray(1, -1)), '3F 10 01 00 1B 7F 12 34');
      assert.equal(toHex(decodeFrame(direction, frame)), '3F 10 01 00 80 12 34');
    });

    it(`${direction}: round-trips pseudo-random data-link bytes`, () => {
      for (let seed = 1; seed <= 100; seed++) {
        const bytes = randomBytes(seed * 7919, 4 + (seed % 30));
        const frame = encodeFrame(direction, bytes);
        assertWellStuffed(frame.subarray(1, -1));
        assert.deepEqual(decodeFrame(direction, frame), bytes);
      }
    });

    it(`${direction}: rejects a frame with the other direction's start byte (bad-start-byte)`, () => {
      const other = direction === 'to-meter' ? 'from-meter' : 'to-meter';
      const error = assertKmpError(() => decodeFrame(other, encodeFrame(direction, fromHex('3F 01 05 8A'))), 'bad-start-byte');
      assert.equal(error.details.expected, other === 'to-meter' ? '0x80' : '0x40');
    });

    it(`${direction}: rejects an empty buffer and one not starting with a start byte (bad-start-byte)`, () => {
      assertKmpError(() => decodeFrame(direction, new Uint8Array(0)), 'bad-start-byte');
      assertKmpError(() => decodeFrame(direction, fromHex('00 3F 01 05 8A 0D')), 'bad-start-byte');
      assertKmpError(() => decodeFrame(direction, fromHex('06')), 'bad-start-byte');
    });

    it(`${direction}: rejects a frame without its stop byte (missing-stop-byte)`, () => {
      assertKmpError(() => decodeFrame(direction, Uint8Array.of(start)), 'missing-stop-byte');
      assertKmpError(() => decodeFrame(direction, Uint8Array.of(start, 0x3f, 0x01, 0x05, 0x8a)), 'missing-stop-byte');
      assertKmpError(() => decodeFrame(direction, Uint8Array.of(start, 0x3f, 0x01, 0x05, 0x8a, 0x0d, 0x00)), 'missing-stop-byte');
    });

    it(`${direction}: a start byte followed by the stop byte carries no bytes`, () => {
      assert.equal(decodeFrame(direction, Uint8Array.of(start, STOP)).length, 0);
    });
  }

  it('stuffs the CRC too: register 1924 has CRC 0D 1B, sent as 1B F2 1B E4', () => {
    const frame = encodeRequestFrame({ command: 'get-register', registerIds: [1924] });
    assert.equal(toHex(frame), '80 3F 10 01 07 84 1B F2 1B E4 0D');
    assert.equal(toHex(decodeFrame('to-meter', frame)), '3F 10 01 07 84 0D 1B');
  });

  it('stuffs an id byte and a CRC byte in one frame (register 64 = 00 40, CRC 0D 44)', () => {
    const frame = encodeRequestFrame({ command: 'get-register', registerIds: [64] });
    assert.equal(toHex(frame), '80 3F 10 01 00 1B BF 1B F2 44 0D');
  });

  it('stuffs reserved destination addresses', () => {
    for (const destination of RESERVED) {
      const dataLink = encodeDataLink({ destination, commandId: 0x01, data: new Uint8Array(0) });
      const frame = encodeFrame('to-meter', dataLink);
      assert.equal(frame[1], ESCAPE);
      assert.equal(frame[2], ESCAPED[destination]);
      assert.equal(decodeDataLink(decodeFrame('to-meter', frame)).destination, destination);
    }
  });
});

describe('data link', () => {
  it('appends the CRC, most significant byte first (request for register 60: B2 5F)', () => {
    assert.equal(toHex(encodeDataLink({ destination: 0x3f, commandId: 0x10, data: fromHex('01 00 3C') })), '3F 10 01 00 3C B2 5F');
  });

  it('decodes destination, command id and data, dropping the CRC', () => {
    const message = decodeDataLink(fromHex('3F 02 01 23 45 67 E9 56'));
    assert.equal(message.destination, 0x3f);
    assert.equal(message.commandId, 0x02);
    assert.equal(toHex(message.data), '01 23 45 67');
  });

  it('round-trips every destination and command id with pseudo-random data', () => {
    for (let address = 0; address < 256; address++) {
      const message = { destination: address, commandId: 255 - address, data: randomBytes(address + 1, address % 12) };
      const decoded = decodeDataLink(encodeDataLink(message));
      assert.equal(decoded.destination, message.destination);
      assert.equal(decoded.commandId, message.commandId);
      assert.deepEqual(decoded.data, message.data);
    }
  });

  it('accepts a message without data (an empty GetRegister answer: 3F 10 07 9A)', () => {
    assert.equal(decodeDataLink(fromHex('3F 10 07 9A')).data.length, 0);
  });

  it('rejects fewer than 4 bytes with frame-too-short', () => {
    for (const hex of ['', '3F', '3F 10', '3F 10 07']) {
      assertKmpError(() => decodeDataLink(fromHex(hex)), 'frame-too-short');
    }
  });

  it('rejects a wrong CRC with crc-mismatch and reports both CRCs', () => {
    const error = assertKmpError(() => decodeDataLink(fromHex('3F 02 01 23 45 67 E9 57')), 'crc-mismatch');
    assert.equal(error.details.expected, '0xE956');
    assert.equal(error.details.actual, '0xE957');
  });

  it('detects every single-bit error', () => {
    const good = encodeDataLink({ destination: 0x3f, commandId: 0x10, data: fromHex('00 3C 03 04 43 00 00 D6 DE') });
    for (let bit = 0; bit < 8 * good.length; bit++) {
      const bad = good.slice();
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
      assertKmpError(() => decodeDataLink(bad), 'crc-mismatch');
    }
  });
});

describe('crc16Xmodem', () => {
  /** CRC-16/XMODEM bit by bit, straight from its definition (poly 0x1021, init 0, no reflection). */
  function referenceCrc(bytes: Uint8Array): number {
    let crc = 0;
    for (const byte of bytes) {
      crc ^= byte << 8;
      for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  }

  it('gives the check value 0x31C3 for ASCII "123456789"', () => {
    assert.equal(crc16Xmodem(new TextEncoder().encode('123456789')), 0x31c3);
  });

  it('gives 0 for no bytes', () => {
    assert.equal(crc16Xmodem(new Uint8Array(0)), 0);
  });

  it('matches the documented request for register 60 (3F 10 01 00 3C → B2 5F)', () => {
    assert.equal(crc16Xmodem(fromHex('3F 10 01 00 3C')), 0xb25f);
  });

  it('agrees with a bit-by-bit reference on pseudo-random input', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const bytes = randomBytes(seed * 104729, seed % 64);
      assert.equal(crc16Xmodem(bytes), referenceCrc(bytes), `seed ${seed}`);
    }
  });

  it('is 0 over data followed by its own CRC (MSB first)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const data = randomBytes(seed * 31337, seed % 50);
      const crc = crc16Xmodem(data);
      const withCrc = Uint8Array.from([...data, crc >> 8, crc & 0xff]);
      assert.equal(crc16Xmodem(withCrc), 0, `seed ${seed}`);
    }
    assert.equal(crc16Xmodem(fromHex('3F 10 01 00 3C B2 5F')), 0);
  });
});
