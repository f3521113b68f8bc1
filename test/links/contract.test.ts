// One contract, every link: the same reads, echo and faults through the in-process simulator,
// a real TCP socket, and the real serialport stack on a pseudo-terminal.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MeterClient } from '../../src/meter/client.js';
import { MeterError } from '../../src/meter/errors.js';
import { registersOfModel } from '../../src/registers/index.js';
import type { LineOptions } from '../../src/simulator/meter-port.js';
import { linkKinds, type LinkSetup } from '../support/simulators.js';

const fast = { responseTimeoutMs: 400, retryPauseMs: 30 } as const;
const catalogue402 = registersOfModel('multical-402').map((d) => d.id);

for (const kind of linkKinds) {
  describe(`meter link contract: ${kind.name}`, { skip: kind.unavailable ?? false }, () => {
    const setups: LinkSetup[] = [];
    const open = async (line: LineOptions, retries = 2): Promise<MeterClient> => {
      const setup = await kind.setup(line);
      setups.push(setup);
      return new MeterClient(setup.link, { ...fast, retries });
    };
    after(async () => {
      for (const setup of setups) await setup.close();
    });

    for (const echo of [false, true]) {
      describe(echo ? 'head echoes the request' : 'no echo', () => {
        let client: MeterClient;
        before(async () => {
          client = await open({ echo });
        });

        it('reads type, serial number and registers with exact values', async () => {
          assert.deepEqual(await client.getType(), { meterType: 0x0402, softwareRevision: 'G1' });
          assert.equal(await client.getSerialNo(), 70000402);
          const { readings, missing } = await client.readRegisters([60, 80, 86, 1003]);
          assert.deepEqual(missing, []);
          assert.equal(readings.get(60)?.unit, 'MWh');
          assert.match(readings.get(60)?.value ?? '', /^\d+\.\d{3}$/);
          assert.match(readings.get(86)?.value ?? '', /^\d+\.\d{2}$/);
          assert.match(readings.get(1003)?.text ?? '', /^20\d\d-\d\d-\d\d$/);
        });

        it('reads the whole 402 catalogue in ⌈n/8⌉ exchanges and reports what the meter left out', async () => {
          const before = client.statistics.exchanges;
          const ids = [...catalogue402, 266, 9999];
          const { readings, missing } = await client.readRegisters(ids);
          assert.equal(client.statistics.exchanges - before, Math.ceil(ids.length / 8));
          assert.deepEqual(missing, [266, 9999]);
          assert.equal(readings.size, catalogue402.length);
        });

        it('queues concurrent reads: one exchange in flight, each answer to its own request', async () => {
          const [a, b, c] = await Promise.all([
            client.readRegisters([60]),
            client.readRegisters([1001, 1004]),
            client.getSerialNo(),
          ]);
          assert.deepEqual([...a.readings.keys()], [60]);
          assert.deepEqual([...b.readings.keys()].sort(), [1001, 1004]);
          assert.equal(b.readings.get(1001)?.value, '70000402');
          assert.equal(c, 70000402);
        });
      });
    }

    for (const fault of ['garbage', 'stray-zero'] as const) {
      it(`reads through ${fault} before every answer`, async () => {
        const client = await open({ echo: true, faults: [fault] });
        const { readings } = await client.readRegisters([60, 68]);
        assert.equal(readings.size, 2);
        assert.equal(client.statistics.attempts, 1);
      });
    }

    for (const fault of ['crc-error', 'no-answer'] as const) {
      it(`retries after ${fault} and succeeds on the next attempt`, async () => {
        const client = await open({ faults: [fault], faultEvery: 2 });
        const { readings } = await client.readRegisters([60]);
        assert.equal(readings.size, 1);
        assert.equal(client.statistics.attempts, 2);
      });
    }

    it('gives up with no-answer after 1 + retries silent attempts', async () => {
      const client = await open({ faults: ['no-answer'] }, 1);
      await assert.rejects(client.readRegisters([60]), (error: unknown) => {
        assert.ok(error instanceof MeterError);
        assert.equal(error.code, 'no-answer');
        assert.match(error.message, /no answer .* after 2 attempts/);
        return true;
      });
      assert.equal(client.statistics.attempts, 2);
    });

    it('gives up with corrupt-answer when every answer fails its CRC', async () => {
      const client = await open({ faults: ['crc-error'] }, 1);
      await assert.rejects(client.readRegisters([60]), (error: unknown) => {
        assert.ok(error instanceof MeterError);
        assert.equal(error.code, 'corrupt-answer');
        assert.match(error.message, /CRC/);
        return true;
      });
    });

    it('refuses writes once closed, and reopens for the next exchange', async () => {
      const setup = await kind.setup({});
      setups.push(setup);
      const client = new MeterClient(setup.link, fast);
      assert.equal(await client.getSerialNo(), 70000402);
      await setup.link.close();
      assert.equal(setup.link.isOpen, false);
      await assert.rejects(setup.link.write(Uint8Array.of(0x80)), { name: 'LinkError', code: 'closed' });
      assert.equal(await client.getSerialNo(), 70000402);
    });

    it('carries on after a failed exchange', async () => {
      const client = await open({ faults: ['no-answer'], faultEvery: 3 }, 0);
      await assert.rejects(client.readRegisters([60]));
      const { readings } = await client.readRegisters([60]);
      assert.equal(readings.size, 1);
    });
  });
}
