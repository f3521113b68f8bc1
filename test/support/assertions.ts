// Assertions shared by the test suites.

import assert from 'node:assert/strict';
import { KmpError, type KmpErrorCode } from '../../src/kmp/index.js';

/** Runs fn and asserts it throws an `errorClass` with this code; returns the error for more checks. */
export function assertThrowsCode<E extends Error & { readonly code: string }>(fn: () => unknown, errorClass: abstract new (...args: never[]) => E, code: E['code']): E {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof errorClass, `expected a ${errorClass.name} with code '${code}', got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Runs fn and asserts it throws a KmpError with this code; returns the error for more checks. */
export function assertKmpError(fn: () => unknown, code: KmpErrorCode): KmpError {
  return assertThrowsCode(fn, KmpError, code);
}
