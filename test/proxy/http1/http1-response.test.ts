import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Http1Response } from '../../../src/proxy/http1/http1-response.js';

/** A loopback socket pair; the peer does not read until `drain()` is called. */
interface Pair {
  readonly socket: net.Socket;
  /** Everything the peer received once the writer ends, read only from this call on. */
  readonly drain: () => Promise<Buffer>;
}

let server: net.Server;
const accepted: net.Socket[] = [];

async function pair(): Promise<Pair> {
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(server, 'connection');
  const peer = accepted.at(-1)!;
  peer.pause();
  await once(socket, 'connect');
  return {
    socket,
    drain: async () => {
      const pieces: Buffer[] = [];
      peer.on('data', (piece: Buffer) => pieces.push(piece));
      peer.resume();
      await once(peer, 'end');
      return Buffer.concat(pieces);
    },
  };
}

const owner = {
  requestComplete: true,
  onResponseEnd: (): void => undefined,
  onWriteBlocked: (): void => undefined,
};
/** More than loopback's kernel buffers take, so the writes after it wait in the socket's queue. */
const FILL = Buffer.alloc(32 * 1024 * 1024, 0x2e);

before(async () => {
  server = net.createServer((socket) => accepted.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
after(async () => {
  for (const socket of accepted) socket.destroy();
  server.close();
  await once(server, 'close');
});

void describe('Http1Response listeners', () => {
  void it("runs each 'close' listener once, at end(), and not again when the connection closes", async () => {
    const { socket, drain } = await pair();
    const response = new Http1Response(socket, owner, false, 1, true, 'timeout=5');
    const calls: string[] = [];
    response.on('close', () => calls.push(`first, finished ${response.writableFinished}`));
    response.on('close', () => calls.push('second'));
    response.writeHead(200, ['Content-Length', '2']);
    response.end(Buffer.from('ok'));
    response.connectionClosed();
    assert.deepEqual(calls, ['first, finished true', 'second']);
    socket.end();
    await drain();
  });

  void it("runs 'close' listeners when the connection closes before the response finished", async () => {
    const { socket, drain } = await pair();
    const response = new Http1Response(socket, owner, false, 1, true, 'timeout=5');
    let finished: boolean | undefined;
    response.on('close', () => (finished = response.writableFinished));
    response.writeHead(200, ['Content-Length', '10']);
    response.write(Buffer.from('part'));
    response.connectionClosed();
    assert.equal(finished, false);
    socket.end();
    await drain();
  });

  void it("runs a 'drain' listener once, when told the socket drained after write() returned false", async () => {
    const { socket, drain } = await pair();
    const response = new Http1Response(socket, owner, false, 1, true, 'timeout=5');
    response.writeHead(200, ['Content-Length', String(FILL.length)]);
    assert.equal(response.write(FILL), false, 'the write must fill the socket for this test');
    let drains = 0;
    response.once('drain', () => (drains += 1));
    socket.once('drain', () => response.drained());
    const received = drain();
    await once(socket, 'drain');
    response.drained();
    assert.equal(drains, 1);
    socket.end();
    await received;
  });
});

void describe('Http1Response.endWithView', () => {
  // The view is overwritten right after the call, as the next upstream read overwrites the
  // shared read buffer; the client must still receive the bytes the view held at the call.
  for (const [name, size, headFirst] of [
    ['a small last piece written with the head', 300, false],
    ['a last piece too big to join the head', 40_000, false],
    ['a last piece after the head went out', 100, true],
  ] as const) {
    void it(`keeps ${name} intact while the write waits in the socket's queue`, async () => {
      const { socket, drain } = await pair();
      socket.write(FILL);
      const response = new Http1Response(socket, owner, false, 1, true, 'timeout=5');
      const original = Buffer.alloc(size);
      // Every byte value, the ones latin1 text would mangle if the head and body were joined as text wrongly.
      for (let i = 0; i < size; i += 1) original[i] = (i * 7 + 3) % 256;
      const shared = Buffer.from(original);
      response.writeHead(200, ['Content-Length', String(size + (headFirst ? 3 : 0))]);
      if (headFirst) response.write(Buffer.from('abc'));
      response.endWithView(shared);
      assert.ok(
        socket.writableLength > 0,
        'the response must be waiting in the queue for this test to mean anything',
      );
      shared.fill(0x21);
      socket.end();
      const received = await drain();
      assert.deepEqual(received.subarray(received.length - size), original);
      assert.ok(received.includes(Buffer.from(`Content-Length: ${size + (headFirst ? 3 : 0)}\r\n`)));
    });
  }
});
