/**
 * An AWS endpoint that misbehaves — accepts and never answers, resets, answers garbage, drips a
 * huge body — fails the router's call with CUTOVER_E_ROUTER within its callTimeout; it never
 * hangs a move and never crashes the process.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { createAwsRouter, useMotoCredentials, type AnyAwsRouterKind } from './aws-router-harness.js';

type Behaviour = (socket: net.Socket) => void;

const BEHAVIOURS: Record<string, Behaviour> = {
  'accepts and never answers': () => {},
  'resets the connection': (socket) => socket.resetAndDestroy(),
  'answers a body that is not XML': (socket) =>
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 9\r\n\r\n<<<&&&>>>'),
  'answers a malformed status line': (socket) => socket.end('HTTP/9 banana\r\n\r\n'),
  'drips a huge body slowly': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 100000000\r\n\r\n<a>');
    const drip = setInterval(() => socket.write('x'.repeat(1024)), 20);
    socket.on('close', () => clearInterval(drip));
    socket.on('error', () => clearInterval(drip));
  },
};

describe('AWS routers against a hostile endpoint', () => {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const endpoints: Record<string, string> = {};

  before(async () => {
    useMotoCredentials();
    for (const [name, behaviour] of Object.entries(BEHAVIOURS)) {
      const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        // Wait for the request before misbehaving, as a real server would.
        socket.once('data', () => behaviour(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      endpoints[name] = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    }
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  for (const kind of ['aws-target-group', 'aws-elb', 'aws-alb'] as AnyAwsRouterKind[]) {
    for (const name of Object.keys(BEHAVIOURS)) {
      it(`${kind}: an endpoint that ${name} gives CUTOVER_E_ROUTER`, async () => {
        const router = guardRouter(await createAwsRouter(kind, 'web', endpoints[name]!, '5s', '400ms'));
        await assert.rejects(router.open(), (error: unknown) => {
          assert.ok(
            isCutoverError(error, 'CUTOVER_E_ROUTER'),
            `expected CUTOVER_E_ROUTER, got ${String(error)}`,
          );
          return true;
        });
        await router.close();
      });
    }
  }
});
