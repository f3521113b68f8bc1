// Loops in tests end: a behaviour that never converges (an outbox that never drains, a cursor
// that never advances) fails the test with a message instead of hanging the suite.

/** Calls `step` until it returns true; throws once it has been called `maxSteps` times without. */
export function repeatUntil(step: () => boolean, what: string, maxSteps = 10_000): void {
  for (let steps = 0; steps < maxSteps; steps++) if (step()) return;
  throw new Error(`${what}: still not done after ${maxSteps} steps`);
}
