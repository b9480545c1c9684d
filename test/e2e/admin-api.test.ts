import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';
import { waitFor } from '../support/load.js';

describe('admin API', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} } });
    await harness.startServer();
  });
  after(() => harness.teardown());

  it('stores a generated token with mode 0600', () => {
    const mode = statSync(path.join(harness.stateDir, 'admin-token')).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  for (const route of ['/v1/status', '/v1/deployments', '/v1/events', '/metrics']) {
    it(`answers 401 without the token on ${route}`, async () => {
      const response = await fetch(`${harness.adminUrl}${route}`);
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'CUTOVER_E_UNAUTHORIZED');
    });
  }

  it('answers 401 to a wrong token', async () => {
    const response = await fetch(`${harness.adminUrl}/v1/status`, {
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(response.status, 401);
  });

  const malformed: Array<[string, string]> = [
    ['not JSON', '{"release": '],
    ['not an object', '["v1"]'],
    ['a missing release', '{}'],
    ['a wrong type', '{"release": 7}'],
    ['an unknown field', '{"release": "v1", "force": true}'],
  ];
  for (const [name, body] of malformed) {
    it(`answers 400 to a malformed body: ${name}`, async () => {
      const response = await fetch(`${harness.adminUrl}/v1/deployments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.token()}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400);
      const parsed = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, 'CUTOVER_E_BAD_REQUEST');
      assert.ok(parsed.error.message.length > 0);
    });
  }

  const malformedFollow: Array<[string, RegExp]> = [
    ['slot=purple', /slot must be blue or green/],
    ['tail=abc', /tail must be a whole number/],
    ['tail=-1', /tail must be a whole number/],
    ['tail=100000', /tail must be a whole number/],
  ];
  for (const [query, message] of malformedFollow) {
    it(`answers 400 to a malformed logs follow query: ${query}`, async () => {
      const response = await fetch(`${harness.adminUrl}/v1/logs/follow?${query}`, {
        headers: { authorization: `Bearer ${harness.token()}` },
      });
      assert.equal(response.status, 400);
      const parsed = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, 'CUTOVER_E_BAD_REQUEST');
      assert.match(parsed.error.message, message);
    });
  }

  it('serves Prometheus metrics with per-slot proxy series after traffic', async () => {
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
    for (let i = 0; i < 5; i += 1) await (await fetch(harness.trafficUrl)).text();
    // The proxy workers report their counts to the server a few times a second.
    let text = '';
    await waitFor(
      async () => {
        const response = await fetch(`${harness.adminUrl}/metrics`, {
          headers: { authorization: `Bearer ${harness.token()}` },
        });
        assert.equal(response.status, 200);
        text = await response.text();
        return /cutover_proxy_requests_total\{(?=[^}]*slot="blue")(?=[^}]*code_class="2xx")[^}]*\} ([5-9]|\d\d)/.test(
          text,
        );
      },
      { what: 'the proxied requests on /metrics' },
    );
    assert.match(
      text,
      /cutover_proxy_requests_total\{(?=[^}]*slot="blue")(?=[^}]*code_class="2xx")[^}]*\} ([5-9]|\d\d)/,
    );
    assert.match(
      text,
      /cutover_proxy_request_duration_seconds_bucket\{(?=[^}]*slot="blue")[^}]*le="0.005"[^}]*\}/,
    );
    assert.match(text, /cutover_process_resident_memory_bytes/);
    assert.match(text, /cutover_traffic_weight_percent\{slot="blue",app="e2e"\} 100/);
  });

  it('streams deployment events over SSE', async () => {
    const controller = new AbortController();
    const response = await fetch(`${harness.adminUrl}/v1/events`, {
      headers: { authorization: `Bearer ${harness.token()}` },
      signal: controller.signal,
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    assert.match(new TextDecoder().decode(value), /event: phase\ndata: \{"type":"phase"/);
  });

  it('never writes the token to its logs', () => {
    assert.ok(!harness.serverLog.includes(harness.token()));
  });
});
