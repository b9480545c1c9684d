import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { openRouter, startServer, target, type TestServer } from './support/proxy-fixture.js';
import { startEchoWebSocketServer } from './support/ws-backend.js';

void describe('proxy WebSocket', () => {
  let router: BuiltinRouter;
  let backend: TestServer;

  before(async () => {
    backend = await startEchoWebSocketServer('blue');
    router = await openRouter();
    await router.prepare({ blue: [target('b1', backend.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  void it('echoes text and large binary messages through the proxy', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${router.address().live.port}/socket`);
    const messages: Array<string | Buffer> = [];
    const waitFor = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (messages.length >= count) resolve();
        };
        socket.on('message', (data, isBinary) => {
          messages.push(isBinary ? Buffer.from(data as Buffer) : (data as Buffer).toString());
          check();
        });
        socket.on('error', reject);
      });
    const done = waitFor(3);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const big = Buffer.alloc(300_000, 3);
    socket.send('ping');
    socket.send(big);
    await done;
    assert.equal(messages[0], 'hello from blue');
    assert.equal(messages[1], 'blue:ping');
    assert.ok(Buffer.isBuffer(messages[2]) && big.equals(messages[2]));
    assert.equal((await router.drainStatus('blue')).kind, 'counted');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.close(1000);
    assert.equal(await closed, 1000);
  });

  void it('relays the upstream refusal when it does not upgrade', async () => {
    const plain = await startServer((_req, res) => {
      res.writeHead(403);
      res.end('no sockets here');
    });
    try {
      await router.prepare({ blue: [target('p1', plain.port)], green: [] });
      const socket = new WebSocket(`ws://127.0.0.1:${router.address().live.port}/socket`);
      const status = await new Promise<number>((resolve) => {
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('error', () => resolve(-1));
      });
      assert.equal(status, 403);
    } finally {
      await router.prepare({ blue: [target('b1', backend.port)], green: [] });
      await plain.close();
    }
  });
});
