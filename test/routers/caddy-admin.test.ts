/**
 * The admin client's answer to Caddy 2.6 swapping its admin server on a config load: a request
 * reset before any answer is sent again on a new connection, a bounded number of times. The
 * swap is a race in a real Caddy, so a loopback server that resets the first connections on
 * purpose stands in for it here; the router suites run the client against a real Caddy.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isCutoverError } from '../../src/shared/errors.js';
import { CaddyAdmin } from '../../src/routers/caddy/caddy-admin.js';
import { freePort } from '../support/daemons/common.js';

interface ResettingAdmin {
  readonly url: string;
  /** Connections that reached the server, reset or answered. */
  connections(): number;
  close(): Promise<void>;
}

/** Resets the first `resets` connections without answering, then answers GET /config/… with JSON. */
async function startResettingAdmin(resets: number): Promise<ResettingAdmin> {
  let seen = 0;
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: request.url }));
  });
  server.on('connection', (socket: Socket) => {
    seen++;
    if (seen <= resets) socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

void describe('Caddy admin client', () => {
  const servers: ResettingAdmin[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  void it('ResetBeforeAnyAnswer_IsSentAgain_AndTheAnswerArrives', async () => {
    const server = await startResettingAdmin(2);
    servers.push(server);
    const read = await new CaddyAdmin(server.url, 5000).read('apps/http');
    assert.deepEqual(read.value, { path: '/config/apps/http' });
    assert.equal(server.connections(), 3, 'two reset connections, then the one that was answered');
  });

  void it('ResetsThatNeverStop_GiveARouterErrorNamingTheAdminApi', async () => {
    const server = await startResettingAdmin(Number.POSITIVE_INFINITY);
    servers.push(server);
    await assert.rejects(new CaddyAdmin(server.url, 5000).read('apps/http'), (error: unknown) => {
      assert.ok(isCutoverError(error) && error.code === 'CUTOVER_E_ROUTER', String(error));
      assert.match(
        error.message,
        /cannot reach Caddy's admin API at http:\/\/127\.0\.0\.1:\d+: .*ECONNRESET/,
      );
      return true;
    });
    assert.equal(server.connections(), 5, 'five attempts, then the error');
  });

  void it('RefusedConnection_FailsAtOnce_BecauseCaddyIsDown', async () => {
    const port = await freePort();
    await assert.rejects(
      new CaddyAdmin(`http://127.0.0.1:${port}`, 5000).read('apps/http'),
      (error: unknown) => {
        assert.ok(isCutoverError(error) && error.code === 'CUTOVER_E_ROUTER', String(error));
        assert.match(error.message, /ECONNREFUSED/);
        return true;
      },
    );
  });
});
