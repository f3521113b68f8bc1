// Id ranges, the shape of a sink's backlog: union, difference and a batch's ids as ranges.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { difference, overlap, rangesOf, union } from '../../src/store/ranges.js';

describe('id ranges', () => {
  it('union sorts and joins ranges that overlap or touch', () => {
    assert.deepEqual(union([[10, 12], [1, 3], [4, 5], [11, 20], [30, 30]]), [[1, 5], [10, 20], [30, 30]]);
    assert.deepEqual(union([]), []);
  });

  it('difference keeps what the cuts leave, splitting a range where needed', () => {
    assert.deepEqual(difference([[1, 10]], [[3, 4], [7, 7]]), [[1, 2], [5, 6], [8, 10]]);
    assert.deepEqual(difference([[1, 10], [20, 30]], [[0, 25]]), [[26, 30]]);
    assert.deepEqual(difference([[1, 10]], [[1, 10]]), []);
    assert.deepEqual(difference([[5, 6]], [[1, 2], [9, 9]]), [[5, 6]]);
  });

  it('overlap counts the shared ids', () => {
    assert.equal(overlap([1, 10], [5, 20]), 6);
    assert.equal(overlap([1, 4], [5, 20]), 0);
  });

  it('rangesOf turns a batch into ranges: one for consecutive ids, any order and repeats handled', () => {
    assert.deepEqual(rangesOf([4, 5, 6, 7]), [[4, 7]]);
    assert.deepEqual(rangesOf([4, 5, 9, 10, 12]), [[4, 5], [9, 10], [12, 12]]);
    assert.deepEqual(rangesOf([9, 4, 5, 10, 5]), [[4, 5], [9, 10]]);
    assert.deepEqual(rangesOf([]), []);
  });
});
