// One configured meter at run time: its client, what we learned about it, and the rule that
// jobs on one meter never interleave on its link (a job's batches go out back to back).

import type { MeterClient } from '../meter/client.js';

export class MeterSession {
  readonly name: string;
  readonly model: string;
  readonly client: MeterClient;
  /** Learned from the meter on the first successful exchange; a tag downstream. */
  serial: number | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(name: string, model: string, client: MeterClient) {
    this.name = name;
    this.model = model;
    this.client = client;
  }

  /** Runs `work` once every earlier job on this meter has finished. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(work);
    this.chain = run;
    return run;
  }
}
