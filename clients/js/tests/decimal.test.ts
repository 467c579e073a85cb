import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  addDecimal,
  compareDecimal,
  decimalSign,
  formatDecimal,
  groupDecimal,
  isDecimal,
  isZeroDecimal,
  subtractDecimal,
} from '../src/index.js';

describe('exact decimals', () => {
  it('compares across scales and signs without floating point', () => {
    assert.equal(compareDecimal('10', '10.00'), 0);
    assert.equal(compareDecimal('0.1', '0.10000000000000001'), -1);
    assert.equal(compareDecimal('-120.55', '-120.56'), 1);
    assert.equal(compareDecimal('19.70', '6.00'), 1);
    assert.equal(compareDecimal('99999999999999999999.01', '99999999999999999999.001'), 1);
  });

  it('knows zero and signs ("-0.00" is zero)', () => {
    assert.equal(isZeroDecimal('0'), true);
    assert.equal(isZeroDecimal('-0.00'), true);
    assert.equal(isZeroDecimal('0.0001'), false);
    assert.equal(decimalSign('-0.01'), -1);
    assert.equal(decimalSign('3'), 1);
  });

  it('adds and subtracts exactly', () => {
    assert.equal(addDecimal('0.1', '0.2'), '0.3');
    assert.equal(subtractDecimal('191.37', '189.4'), '1.97');
    assert.equal(subtractDecimal('1', '1.5'), '-0.5');
    assert.equal(addDecimal('-0.05', '0.05'), '0.00');
  });

  it('rounds half away from zero when formatting, as the edge does', () => {
    assert.equal(formatDecimal('1.005', 2), '1.01');
    assert.equal(formatDecimal('-1.005', 2), '-1.01');
    assert.equal(formatDecimal('1.004', 2), '1.00');
    assert.equal(formatDecimal('7', 2), '7.00');
    assert.equal(formatDecimal('0.5', 0), '1');
    assert.equal(groupDecimal('101913.7', 2), '101,913.70');
    assert.equal(groupDecimal('-1234567.891', 2), '-1,234,567.89');
    assert.equal(groupDecimal('-0.001', 2), '0.00');
  });

  it('accepts only plain decimals', () => {
    assert.equal(isDecimal('189.4'), true);
    assert.equal(isDecimal('-0.12'), true);
    for (const bad of ['1e5', '', '.5', '5.', '+1', 'NaN', '1,000']) assert.equal(isDecimal(bad), false, bad);
    assert.throws(() => compareDecimal('1e5', '1'), RangeError);
  });
});
