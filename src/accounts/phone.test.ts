import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { normalisePhone } from './phone.js';

test('Indonesian numbers in the four ways people write them become +628…; other E.164 is kept', () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['081234567890', '+6281234567890'],
    ['81234567890', '+6281234567890'],
    ['6281234567890', '+6281234567890'],
    ['+6281234567890', '+6281234567890'],
    ['0812-3456-7890', '+6281234567890'],
    [' +62 812 3456 7890 ', '+6281234567890'],
    ['(0812) 3456.7890', '+6281234567890'],
    ['0811234567', '+62811234567'],
    ['0812345678901', '+62812345678901'],
    ['+60123456789', '+60123456789'],
    ['+14155550123', '+14155550123'],
  ];
  for (const [input, expected] of table) assert.equal(normalisePhone(input), expected, input);
});

test('malformed numbers are PHONE_INVALID', () => {
  for (const input of [
    '',
    '12345',
    '0812345', // too short
    '08123456789012', // too long
    '0212345678', // a Jakarta landline: WhatsApp cannot reach it
    '+62212345678',
    '6221234567',
    '+0812345678',
    '+1234567890123456', // 16 digits
    '0812abc34567',
    '62 8',
    'x'.repeat(41),
  ]) {
    assert.throws(
      () => normalisePhone(input),
      (error: unknown) =>
        error instanceof BubuhError &&
        error.code === 'PHONE_INVALID' &&
        error.status === 400 &&
        error.details['phone'] === input.slice(0, 40),
      input,
    );
  }
});
