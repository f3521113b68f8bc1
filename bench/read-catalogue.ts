// Benchmark: read the whole MULTICAL 402 catalogue from the simulator paced as a real
// 1200 baud 8N2 line, over a real TCP socket on loopback, and compare the wall time with the
// wire-time lower bound: every byte on the line × 11 bits / 1200 baud + the meter's turnaround
// per exchange. Also reads the same registers one per exchange, as the replaced script does.
//
//   npm run bench            (or: node dist/bench/read-catalogue.js [--runs N])

import { BITS_PER_BYTE } from '../src/kmp/index.js';
import { MeterClient } from '../src/meter/client.js';
import { TcpLink } from '../src/links/tcp-link.js';
import { registersOfModel } from '../src/registers/index.js';
import { SimulatedMultical402 } from '../src/simulator/multical-402.js';
import { serveSimulatorOverTcp } from '../src/simulator/tcp-server.js';

const BAUD = 1200;
const TURNAROUND_MS = 50;
const runsArgument = process.argv.indexOf('--runs');
const RUNS = runsArgument > 0 ? Number(process.argv[runsArgument + 1]) : 5;

interface Run {
  exchanges: number;
  bytes: number;
  wallMs: number;
  boundMs: number;
}

async function readAll(port: number, ids: readonly number[], perExchange: number): Promise<Run> {
  const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port }), { baudRate: BAUD });
  await client.getSerialNo(); // connect and wake the meter outside the measurement
  const before = { ...client.statistics };
  const start = performance.now();
  let read = 0;
  for (let i = 0; i < ids.length; i += perExchange) {
    read += (await client.readRegisters(ids.slice(i, i + perExchange))).readings.size;
  }
  const wallMs = performance.now() - start;
  await client.close();
  if (read !== ids.length) throw new Error(`read ${read} of ${ids.length} registers`);
  const exchanges = client.statistics.exchanges - before.exchanges;
  const bytes = client.statistics.bytesSent - before.bytesSent + client.statistics.bytesReceived - before.bytesReceived;
  return { exchanges, bytes, wallMs, boundMs: (bytes * BITS_PER_BYTE * 1000) / BAUD + exchanges * TURNAROUND_MS };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function report(label: string, runs: Run[]): void {
  const first = runs[0] as Run;
  const wall = median(runs.map((r) => r.wallMs));
  console.log(
    `${label.padEnd(28)} exchanges ${String(first.exchanges).padStart(3)}  bytes ${String(first.bytes).padStart(5)}  ` +
      `wall ${wall.toFixed(0).padStart(6)} ms  bound ${first.boundMs.toFixed(0).padStart(6)} ms  ratio ${(wall / first.boundMs).toFixed(3)}`,
  );
}

const ids = registersOfModel('multical-402').map((d) => d.id);
const meter = new SimulatedMultical402();
const server = await serveSimulatorOverTcp(meter, { pace: true, baudRate: BAUD, turnaroundMs: TURNAROUND_MS }, '127.0.0.1', 0);
console.log(`MULTICAL 402 catalogue: ${ids.length} registers; simulator paced at ${BAUD} baud 8N2, turnaround ${TURNAROUND_MS} ms`);
const batched: Run[] = [];
for (let i = 0; i < RUNS; i++) batched.push(await readAll(server.port, ids, 8));
report(`8 per exchange (median of ${RUNS})`, batched);
const single = [await readAll(server.port, ids, 1)];
report('1 per exchange (one run)', single);
const b = batched[0] as Run;
console.log(
  `target: ≤ ⌈n/8⌉ = ${Math.ceil(ids.length / 8)} exchanges (${b.exchanges}), ratio ≤ 1.1 (${(median(batched.map((r) => r.wallMs)) / b.boundMs).toFixed(3)}); ` +
    `batching is ${(median(single.map((r) => r.wallMs)) / median(batched.map((r) => r.wallMs))).toFixed(1)}× faster than one register per exchange`,
);
console.log(`resident memory ${(process.memoryUsage().rss / 1048576).toFixed(1)} MB`);
await server.close();
