import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import {
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';
import { startEchoWebSocketServer } from './support/ws-backend.js';

function openSocket(router: BuiltinRouter): Promise<{ socket: WebSocket; greeting: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${router.address().live.port}/ws`);
    socket.once('message', (data: Buffer) => resolve({ socket, greeting: data.toString() }));
    socket.once('error', reject);
  });
}

function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('message', (data: Buffer) => resolve(data.toString()));
    socket.send(text);
  });
}

void describe('proxy drain', () => {
  let router: BuiltinRouter;
  let blue: TestServer;
  let green: TestServer;
  let slowBlue: TestServer;
  let releaseSlow: (() => void) | undefined;

  before(async () => {
    blue = await startEchoWebSocketServer('blue');
    green = await startEchoWebSocketServer('green');
    slowBlue = await startServer((_req, res) => {
      res.writeHead(200);
      releaseSlow = () => res.end('slow blue done');
    });
    router = await openRouter();
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
    await slowBlue.close();
  });

  void it('lets in-flight requests finish, counts them, and closes WebSockets with 1001 only at the deadline', async () => {
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
    const { socket, greeting } = await openSocket(router);
    assert.equal(greeting, 'hello from blue');
    let closedAt = 0;
    const closeCode = new Promise<number>((resolve) =>
      socket.once('close', (code) => {
        closedAt = Date.now();
        resolve(code);
      }),
    );

    // A slow request in flight on blue while blue loses its weight.
    await router.prepare({ blue: [target('slow', slowBlue.port)], green: [target('g1', green.port)] });
    const slow = new Promise<string>((resolve, reject) => {
      http.get(liveUrl(router, '/slow'), (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      });
    });
    await waitFor(() => releaseSlow !== undefined, { what: 'the slow request to reach blue' });

    await router.setWeights({ blue: 0, green: 100 });
    const deadline = new Date(Date.now() + 1_000);
    await router.drain('blue', { deadline });
    assert.deepEqual(await router.drainStatus('blue'), { kind: 'counted', inFlight: 2, connections: 1 });

    assert.equal((await request(liveUrl(router))).body, 'green', 'new requests go to green');
    assert.equal(
      await echo(socket, 'still here'),
      'blue:still here',
      'the WebSocket works until the deadline',
    );

    releaseSlow?.();
    assert.equal(await slow, 'slow blue done', 'the in-flight request finished on blue');
    assert.deepEqual(await router.drainStatus('blue'), { kind: 'counted', inFlight: 1, connections: 1 });

    assert.equal(await closeCode, 1001);
    assert.ok(closedAt >= deadline.getTime(), 'closed at the deadline, not before');
    await waitFor(
      async () => {
        const status = await router.drainStatus('blue');
        return status.kind === 'counted' && status.inFlight === 0 && status.connections === 0;
      },
      { what: 'the drain count to reach zero' },
    );

    const reconnected = await openSocket(router);
    assert.equal(reconnected.greeting, 'hello from green', 'the client reconnects to the live slot');
    reconnected.socket.close();
  });

  void it('closes idle upstream connections to the drained slot', async () => {
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
    await request(liveUrl(router));
    const count = (): Promise<number> =>
      new Promise((resolve, reject) =>
        blue.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
    assert.ok((await count()) >= 1, 'a pooled keep-alive connection to blue exists');
    await router.setWeights({ blue: 0, green: 100 });
    await router.drain('blue', { deadline: new Date(Date.now() + 60_000) });
    await waitFor(async () => (await count()) === 0, { what: 'blue to have no connection from the proxy' });
  });

  void it('a rollback before the deadline keeps the WebSockets open', async () => {
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
    const { socket } = await openSocket(router);
    let closed = false;
    socket.once('close', () => (closed = true));
    await router.setWeights({ blue: 0, green: 100 });
    const deadline = Date.now() + 200;
    await router.drain('blue', { deadline: new Date(deadline) });
    await router.setWeights({ blue: 100, green: 0 });
    await waitFor(() => Date.now() > deadline + 300, { what: 'the cancelled deadline to pass' });
    assert.equal(closed, false);
    assert.equal(await echo(socket, 'after'), 'blue:after');
    socket.close();
  });
});
