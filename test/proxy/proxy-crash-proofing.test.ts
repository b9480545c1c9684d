import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { makeCertificate } from './support/certificate.js';
import { startProxyProcess, type ProxyProcess } from './support/proxy-process.js';
import { parseRawAnswer, rawGet, type RawListener } from './support/raw-client.js';
import { startScriptedUpstream, type ScriptedUpstream } from './support/scripted-upstream.js';

/** Sends `raw`, waits for the first bytes of the answer, then resets the connection (TCP RST). */
function sendThenReset(listener: RawListener, port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Over TLS, the TCP socket underneath is what resets.
    const tcp = net.connect(port, '127.0.0.1');
    const socket =
      listener === 'plain'
        ? tcp
        : tls.connect({ socket: tcp, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
    tcp.on('error', reject);
    socket.once('data', (chunk: Buffer) => {
      tcp.resetAndDestroy();
      socket.destroy();
      resolve(chunk.toString('latin1'));
    });
    socket.on('error', reject);
    socket.write(raw, 'latin1');
  });
}

const H2C_UPGRADE = 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n';
const WEBSOCKET_UPGRADE =
  'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

// Each proxy runs in a process of its own: the crash these pin would end that process.
for (const listener of ['plain', 'tls'] as const) {
  void describe(`proxy survives clients that reset after a refusal (${listener} listener)`, () => {
    let dir: string;
    let upstream: ScriptedUpstream;
    let proxy: ProxyProcess;
    /** No slot has an instance: every request gets 503. */
    let empty: ProxyProcess;
    const port = (process: ProxyProcess): number =>
      listener === 'plain' ? process.plainPort : process.tlsPort!;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-crash-'));
      makeCertificate(dir);
      upstream = await startScriptedUpstream({});
      [proxy, empty] = await Promise.all([startProxyProcess(upstream.port, dir), startProxyProcess(0, dir)]);
    });
    after(async () => {
      await Promise.all([proxy.stop(), empty.stop()]);
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    });

    void it('survives a TCP reset right after its 400 to an h2c upgrade, and answers the next request', async () => {
      const answer = await sendThenReset(listener, port(proxy), H2C_UPGRADE);
      assert.match(answer, /^HTTP\/1\.1 400 /);
      for (let i = 0; i < 3; i += 1)
        assert.equal(parseRawAnswer(await rawGet(listener, port(proxy), '/')).status, 200);
      assert.equal(proxy.exit, undefined, proxy.exit?.stderr);
    });

    void it('survives a TCP reset right after its 503 to a WebSocket upgrade with no instance, and answers the next request', async () => {
      const answer = await sendThenReset(listener, port(empty), WEBSOCKET_UPGRADE);
      assert.match(answer, /^HTTP\/1\.1 503 /);
      for (let i = 0; i < 3; i += 1)
        assert.equal(parseRawAnswer(await rawGet(listener, port(empty), '/')).status, 503);
      assert.equal(empty.exit, undefined, empty.exit?.stderr);
    });

    void it('survives a TCP reset right after its 400 to a malformed request, and answers the next request', async () => {
      const answer = await sendThenReset(
        listener,
        port(proxy),
        'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n',
      );
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.equal(parseRawAnswer(await rawGet(listener, port(proxy), '/')).status, 200);
      assert.equal(proxy.exit, undefined, proxy.exit?.stderr);
    });

    void it('answers 400 to a WebSocket handshake that carries a body, so no byte of it reaches the upstream unframed', async () => {
      const before = upstream.paths.length;
      const answer = await sendThenReset(
        listener,
        port(proxy),
        WEBSOCKET_UPGRADE.replace(
          '\r\n\r\n',
          '\r\nContent-Length: 32\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
        ),
      );
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.deepEqual(upstream.paths.slice(before), []);
      assert.equal(proxy.exit, undefined, proxy.exit?.stderr);
    });
  });
}
