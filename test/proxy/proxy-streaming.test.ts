import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { liveUrl, openRouter, startServer, target, type TestServer } from './support/proxy-fixture.js';

const DOWNLOAD_BYTES = 32 * 1024 * 1024;
const DOWNLOAD_BLOCK = 4 * 1024;

function downloadBlock(index: number): Buffer {
  const block = Buffer.alloc(DOWNLOAD_BLOCK);
  const seed = createHash('sha256').update(String(index)).digest();
  for (let offset = 0; offset < DOWNLOAD_BLOCK; offset += seed.length) seed.copy(block, offset);
  return block;
}

function expectedDownloadDigest(): string {
  const hash = createHash('sha256');
  for (let index = 0; index * DOWNLOAD_BLOCK < DOWNLOAD_BYTES; index += 1) hash.update(downloadBlock(index));
  return hash.digest('hex');
}

/** The upstream sends a first chunk, then waits until the test releases it before finishing. */
void describe('proxy streaming', () => {
  let router: BuiltinRouter;
  let backend: TestServer;
  let release: (() => void) | undefined;
  let upstreamFinished = false;
  let uploadBytes = 0;

  before(async () => {
    backend = await startServer((req, res) => {
      if (req.url?.startsWith('/download') === true) {
        // Distinct bytes in every block, so a piece of the stream overwritten or repeated shows.
        const chunked = req.url === '/download-chunked';
        res.writeHead(200, chunked ? {} : { 'content-length': String(DOWNLOAD_BYTES) });
        let block = 0;
        const writeMore = (): void => {
          while (block * DOWNLOAD_BLOCK < DOWNLOAD_BYTES) {
            const ok = res.write(downloadBlock(block));
            block += 1;
            if (!ok) {
              res.once('drain', writeMore);
              return;
            }
          }
          res.end();
        };
        writeMore();
        return;
      }
      if (req.url === '/upload') {
        uploadBytes = 0;
        req.on('data', (chunk: Buffer) => (uploadBytes += chunk.length));
        req.on('end', () => res.end(String(uploadBytes)));
        return;
      }
      upstreamFinished = false;
      const sse = req.url === '/events';
      res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'text/plain' });
      res.write(sse ? 'data: first\n\n' : 'first;');
      release = () => {
        upstreamFinished = true;
        res.end(sse ? 'data: last\n\n' : 'last');
      };
    });
    router = await openRouter();
    await router.prepare({ blue: [target('b1', backend.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  for (const [name, path, first] of [
    ['a chunked response', '/chunked', 'first;'],
    ['an SSE stream', '/events', 'data: first\n\n'],
  ] as const) {
    void it(`passes ${name} through unbuffered: the first byte arrives before the upstream finishes`, async () => {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(liveUrl(router, path), (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if (text === '') {
                assert.equal(
                  upstreamFinished,
                  false,
                  'the first chunk must arrive while the upstream is still open',
                );
                assert.equal(chunk, first);
                release?.();
              }
              text += chunk;
            });
            res.on('end', () => resolve(text));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      assert.ok(body.startsWith(first));
      assert.ok(upstreamFinished);
    });
  }

  for (const [framing, path] of [
    ['Content-Length', '/download'],
    ['chunked', '/download-chunked'],
  ] as const) {
    void it(`passes a 32 MB ${framing} download intact to a client that reads slowly`, async () => {
      const digest = await new Promise<string>((resolve, reject) => {
        const req = http.get(liveUrl(router, path), (res) => {
          const hash = createHash('sha256');
          let sincePause = 0;
          res.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            sincePause += chunk.length;
            // Stop reading now and then: the proxy's writes to this client then queue up.
            if (sincePause >= 2 * 1024 * 1024) {
              sincePause = 0;
              res.pause();
              setTimeout(() => res.resume(), 20);
            }
          });
          res.on('end', () => resolve(hash.digest('hex')));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
      assert.equal(digest, expectedDownloadDigest());
    });
  }

  void it('streams a 100 MB upload with bounded memory', async () => {
    const total = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    // Buffer memory is sampled right after a full GC: what is still held, not garbage a GC has
    // not reached yet (which depends on GC timing and made this test flaky).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const SAMPLE_EVERY = 4 * 1024 * 1024;
    let sent = 0;
    let peakArrayBuffers = 0;
    let peakInFlight = 0;
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    const body = new Readable({
      read() {
        // Bytes the client has handed over that the upstream has not received yet.
        peakInFlight = Math.max(peakInFlight, sent - uploadBytes);
        if (sent % SAMPLE_EVERY === 0) {
          gc();
          peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
        }
        if (sent >= total) {
          this.push(null);
          return;
        }
        sent += chunk.length;
        this.push(chunk);
      },
    });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(liveUrl(router, '/upload'), {
        method: 'POST',
        headers: { 'content-length': String(total) },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      body.pipe(req);
    });
    assert.equal(answer, String(total));
    const growthMb = (peakArrayBuffers - baseline) / 1024 / 1024;
    const inFlightMb = peakInFlight / 1024 / 1024;
    // Client, proxy and upstream share this process; buffering the body anywhere would show ~100 MB here.
    assert.ok(growthMb < 40, `buffer memory grew by ${growthMb.toFixed(1)} MB during a 100 MB upload`);
    // The same seen from the wire: the upstream receives the body while the client still sends it.
    assert.ok(inFlightMb < 40, `${inFlightMb.toFixed(1)} MB sent but not yet received upstream`);
  });
});
