import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanRequestFields, scanRequestHeaders } from '../../src/proxy/forwarded-headers.js';

// Found by the differential fuzz test (test/proxy/fuzz): a client that reset its connection
// before the proxy accepted it has no remote address, and its request went upstream with an
// empty last X-Forwarded-For hop.
void describe('X-Forwarded-For without a client address', () => {
  const options = {
    previewHeader: 'x-cutover-preview',
    remoteAddress: undefined,
    proto: 'http',
    forUpgrade: false,
  } as const;

  void it('names the unknown client "unknown", never an empty hop after what the client sent', () => {
    const scanned = scanRequestFields('Host: a\r\nX-Forwarded-For: 6.6.6.6\r\n', options);
    assert.match(scanned.fields, /\r\nX-Forwarded-For: 6\.6\.6\.6, unknown\r\n/);
    const listed = scanRequestHeaders(['Host', 'a'], options);
    assert.match(listed.fields, /X-Forwarded-For: unknown\r\n/);
  });
});
