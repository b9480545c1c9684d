import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentLengthValue } from '../../src/proxy/field-text.js';

void describe('contentLengthValue', () => {
  void it('reads 1 to 15 ASCII digits', () => {
    assert.equal(contentLengthValue('0'), 0);
    assert.equal(contentLengthValue('12'), 12);
    assert.equal(contentLengthValue('007'), 7);
    assert.equal(contentLengthValue('999999999999999'), 999_999_999_999_999);
  });

  void it('refuses anything else', () => {
    for (const text of [
      '',
      ' 1',
      '1 ',
      '+1',
      '-1',
      '1e3',
      '0x10',
      '1.0',
      '1,2',
      '\u0661',
      '/',
      ':',
      '1234567890123456',
    ])
      assert.equal(contentLengthValue(text), -1, JSON.stringify(text));
  });
});
