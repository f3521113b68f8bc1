import assert from 'node:assert/strict';
import { KmpError, type KmpErrorCode } from '../../src/kmp/index.js';

/** Runs fn and asserts it throws a KmpError with this code; returns the error for more checks. */
export function assertKmpError(fn: () => unknown, code: KmpErrorCode): KmpError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KmpError, `expected a KmpError with code '${code}', got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}
