import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { GuestParamDto } from '../../src/common/dto/target.dto.js';
import { isDomainError } from '../../src/common/errors/domain-error.js';
import { num } from '../../src/common/format/human.js';

describe('num(): numbers as PVE sends them', () => {
  test('numbers, numeric strings and 0/1 booleans convert; an absent value is 0', () => {
    assert.equal(num(42), 42);
    assert.equal(num('1.5'), 1.5);
    assert.equal(num(true), 1);
    assert.equal(num(false), 0);
    for (const absent of [undefined, null, '', '  ']) assert.equal(num(absent), 0);
  });

  test('anything else is a protocol error, never a made-up 0', () => {
    for (const junk of ['abc', '12px', NaN, Infinity, {}, []]) {
      assert.throws(
        () => num(junk),
        (e: unknown) => isDomainError(e) && e.code === 'UPSTREAM_PROTOCOL',
        JSON.stringify(junk) ?? typeof junk,
      );
    }
  });
});

describe('GuestParamDto.vmid', () => {
  const parsed = async (vmid: unknown) => {
    const dto = plainToInstance(GuestParamDto, { node: 'pve1', vmid });
    return { dto, errors: await validate(dto) };
  };

  test('is a number after validation, given as a number or a string of digits', async () => {
    for (const given of [101, '101']) {
      const { dto, errors } = await parsed(given);
      assert.deepEqual(errors, []);
      assert.equal(dto.vmid, 101);
    }
  });

  test('junk stays invalid (no conversion to 0 or NaN)', async () => {
    for (const given of ['0101', '10a', '99', 'abc', 1.5]) {
      const { errors } = await parsed(given);
      assert.equal(errors.length, 1, String(given));
    }
  });
});
