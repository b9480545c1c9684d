import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, Redactor } from '../../../src/proxy/shadow/redaction.js';

void describe('shadow sample redaction', () => {
  const redactor = new Redactor({ secretHeaders: ['X-Api-Key'], secretQueryNames: ['customer_ref'] });

  it('replaces cookies, Set-Cookie, Authorization and configured secret header values', () => {
    assert.deepEqual(
      redactor.headers({
        cookie: 'a=1',
        'set-cookie': 'sid=2',
        authorization: 'Bearer x',
        'proxy-authorization': 'Basic y',
        'x-api-key': 'k',
        'content-type': 'text/plain',
      }),
      {
        cookie: REDACTED,
        'set-cookie': REDACTED,
        authorization: REDACTED,
        'proxy-authorization': REDACTED,
        'x-api-key': REDACTED,
        'content-type': 'text/plain',
      },
    );
  });

  it('replaces secret query values in any spelling and keeps the rest as it came', () => {
    assert.equal(
      redactor.target('/p?Access_Token=abc&page=2&API-KEY=z&customerRef=9&q=a%20b#frag'),
      `/p?Access_Token=${REDACTED}&page=2&API-KEY=${REDACTED}&customerRef=${REDACTED}&q=a%20b#frag`,
    );
    assert.equal(
      redactor.target('/p?t%6fken=abc'),
      `/p?t%6fken=${REDACTED}`,
      'an escaped name is still a secret',
    );
    assert.equal(redactor.target('/p?password'), `/p?password=${REDACTED}`);
    assert.equal(redactor.target('/plain/path'), '/plain/path');
  });

  it('hostile targets: malformed escapes, empty parts and a lone "?" are handled, never thrown on', () => {
    assert.equal(redactor.target('/p?%E0%A4%A=1&&=&token=%ZZ'), `/p?%E0%A4%A=1&&=&token=${REDACTED}`);
    assert.equal(redactor.target('/p?'), '/p?');
    const long = `/p?${'a=1&'.repeat(10_000)}secret=s`;
    assert.ok(redactor.target(long).endsWith(`secret=${REDACTED}`));
  });
});
