import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { isCutoverError } from '../../src/shared/errors.js';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { liveUrl, openRouter, request, startServer, target } from './support/proxy-fixture.js';

/** Blue live, green idle; every request green receives is listed as "METHOD /path". */
async function mirroredPair(mirror: Record<string, unknown>) {
  const received: string[] = [];
  const blue = await startServer((req, res) => {
    req.resume();
    res.end('blue');
  });
  const green = await startServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    res.end('green');
  });
  const router = await openRouter({ mirror });
  await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
  await router.setWeights({ blue: 100, green: 0 });
  const close = async () => {
    await router.close();
    await blue.close();
    await green.close();
  };
  return { router, received, close };
}

/** Bodyless requests with these methods, then a GET whose copy proves the ones before were judged. */
async function sendThenBarrier(router: BuiltinRouter, received: string[], methods: string[]): Promise<void> {
  for (const method of methods) {
    // Content-Length: 0 makes them bodyless, the case today's mirror copies whatever the method.
    const response = await request(liveUrl(router, `/${method.toLowerCase()}`), {
      method,
      headers: { 'content-length': '0' },
    });
    assert.equal(response.status, 200);
  }
  const barrier = `/barrier-${methods.join('-')}`;
  await request(liveUrl(router, barrier));
  await waitFor(() => received.includes(`GET ${barrier}`), { what: 'the GET copy on the idle slot' });
}

void describe('proxy mirroring by method', () => {
  void describe('by default', () => {
    let pair: Awaited<ReturnType<typeof mirroredPair>>;
    before(async () => {
      pair = await mirroredPair({ percent: 100 });
    });
    after(async () => pair.close());

    void it('copies nothing of a bodyless POST or DELETE to the idle slot', async () => {
      await sendThenBarrier(pair.router, pair.received, ['POST', 'DELETE', 'PUT', 'PATCH']);
      assert.deepEqual(
        pair.received.filter((line) => !line.startsWith('GET ')),
        [],
        'unsafe methods reached the idle slot',
      );
    });

    void it('copies GET, HEAD and OPTIONS', async () => {
      await sendThenBarrier(pair.router, pair.received, ['HEAD', 'OPTIONS']);
      assert.ok(pair.received.includes('HEAD /head'));
      assert.ok(pair.received.includes('OPTIONS /options'));
    });
  });

  void describe('with a method list', () => {
    let pair: Awaited<ReturnType<typeof mirroredPair>>;
    before(async () => {
      pair = await mirroredPair({ percent: 100, methods: ['HEAD'] });
    });
    after(async () => pair.close());

    void it('copies only the listed methods', async () => {
      await request(liveUrl(pair.router, '/listed'), { method: 'HEAD' });
      await request(liveUrl(pair.router, '/not-listed'));
      await waitFor(() => pair.received.includes('HEAD /listed'), { what: 'the HEAD copy' });
      // Sent before the HEAD, on the same keep-alive path: judged before the HEAD was copied.
      await request(liveUrl(pair.router, '/listed-again'), { method: 'HEAD' });
      await waitFor(() => pair.received.includes('HEAD /listed-again'), { what: 'the second HEAD copy' });
      assert.ok(!pair.received.includes('GET /not-listed'));
    });
  });

  void describe('with unsafeMethodsDuplicateWrites', () => {
    let pair: Awaited<ReturnType<typeof mirroredPair>>;
    before(async () => {
      pair = await mirroredPair({
        percent: 100,
        methods: ['GET', 'DELETE'],
        unsafeMethodsDuplicateWrites: true,
      });
    });
    after(async () => pair.close());

    void it('copies a listed unsafe method, bodyless, when the user opted in', async () => {
      await sendThenBarrier(pair.router, pair.received, ['DELETE', 'POST']);
      assert.ok(pair.received.includes('DELETE /delete'));
      assert.ok(!pair.received.includes('POST /post'), 'POST is not listed');
    });

    void it('never copies a request body, even then', async () => {
      const response = await request(liveUrl(pair.router, '/with-body'), {
        method: 'DELETE',
        // node:http sends a DELETE body unframed unless told its length.
        headers: { 'content-length': '1' },
        body: 'x',
      });
      assert.equal(response.body, 'blue');
      await request(liveUrl(pair.router, '/after-body'));
      await waitFor(() => pair.received.includes('GET /after-body'), {
        what: `the GET copy, got ${pair.received.join(', ')}`,
      });
      assert.ok(!pair.received.includes('DELETE /with-body'), pair.received.join(', '));
    });
  });

  void describe('the config', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-mirror-'));
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    void it('refuses an unsafe mirror method without the opt-in, naming file, line and key', async () => {
      const file = path.join(dir, 'cutover.yml');
      await writeFile(
        file,
        [
          'app: web',
          'platform:',
          '  kind: process',
          '  command: node',
          'router:',
          '  kind: builtin',
          '  mirror:',
          '    percent: 5',
          '    methods: [GET, POST]',
          '',
        ].join('\n'),
      );
      assert.throws(
        () => loadConfig(file),
        (error: unknown) => {
          assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'));
          const first = error.message.split('\n')[0]!;
          assert.ok(first.startsWith(`${file}:9:`), first);
          assert.match(
            first,
            /router\.mirror\.methods\[1\]: mirroring POST would run every such request twice/,
          );
          assert.match(first, /unsafeMethodsDuplicateWrites: true/);
          return true;
        },
      );
    });
  });
});
