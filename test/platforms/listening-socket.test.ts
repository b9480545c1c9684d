import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  groupHoldsSocket,
  groupListensOn,
  ListenerTableReader,
  readListeners,
} from '../../src/platforms/process/listening-socket.js';
import { canConnect, freePort } from '../support/daemons/common.js';
import { waitFor } from '../support/load.js';
import { VERSION_APP } from './process-fixture.js';

void describe('listening socket: does an instance own its port?', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.pid) process.kill(-child.pid, 'SIGKILL');
  });

  /** Starts `command` as the leader of a new process group, like the process platform does. */
  const startGroup = (command: string, args: string[], port: number): ChildProcess => {
    const child = spawn(command, args, {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, PORT: String(port), APP_VERSION: 'v1' },
    });
    children.push(child);
    return child;
  };

  void it('is true when the group leader listens on the port', async () => {
    const port = await freePort();
    const leader = startGroup(process.execPath, [VERSION_APP], port);
    await waitFor(async () => (await groupListensOn(leader.pid!, port)) === true, {
      what: 'the leader to listen',
    });
    assert.equal(await canConnect(port), true);
  });

  void it('is true when another member of the group listens (a shell wrapper)', async () => {
    const port = await freePort();
    // "; exit $?" keeps the shell alive as the leader instead of exec'ing node in its place.
    const wrapper = startGroup('/bin/sh', ['-c', `"${process.execPath}" "${VERSION_APP}"; exit $?`], port);
    await waitFor(async () => (await groupListensOn(wrapper.pid!, port)) === true, {
      what: 'the wrapped app to listen',
    });
    assert.equal(await canConnect(port), true);
  });

  void it('is false when a stranger holds the port, though the port accepts', async () => {
    const stranger = net.createServer();
    stranger.listen(0, '127.0.0.1');
    await once(stranger, 'listening');
    const port = (stranger.address() as net.AddressInfo).port;
    try {
      const sleeper = startGroup('/bin/sh', ['-c', 'sleep 30'], port);
      assert.equal(await canConnect(port), true);
      assert.equal(await groupListensOn(sleeper.pid!, port), false);
      // This test process is the one that owns it.
      assert.equal(await groupListensOn(process.pid, port), true);
    } finally {
      stranger.close();
    }
  });

  void it('finds a listener wherever it sits in a table that takes many reads', async () => {
    // 150 bytes a line, and the kernel hands the table over about a page of lines per read:
    // 500 listeners take ~19 reads before the established connection that follows them.
    const servers: net.Server[] = [];
    try {
      for (let i = 0; i < 500; i += 1) {
        const server = net.createServer((socket) => socket.resume());
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        servers.push(server);
      }
      const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
      const client = net.connect({ host: '127.0.0.1', port: ports[0]! });
      await once(client, 'connect');
      // Every 7th port, first and last: some in each read, at a fraction of the cost (each
      // call reads the table and this process's ~500 open files).
      for (const [i, port] of ports.entries()) {
        if (i % 7 !== 0 && i !== ports.length - 1) continue;
        assert.equal(await groupListensOn(process.pid, port), true, `port ${port}`);
      }
      // The client's own end is an established socket of this process, not a listener.
      assert.equal(await groupListensOn(process.pid, client.localPort!), false);
      client.destroy();
    } finally {
      for (const server of servers) server.close();
    }
  });

  void it('reads IPv6 and IPv4 listeners, by port', async () => {
    const v6 = net.createServer();
    v6.listen(0, '::1');
    await once(v6, 'listening');
    const v4 = net.createServer();
    v4.listen(0, '127.0.0.1');
    await once(v4, 'listening');
    try {
      const table = await readListeners();
      assert.ok(table, '/proc/net/tcp is readable on Linux');
      for (const server of [v6, v4]) {
        const port = (server.address() as net.AddressInfo).port;
        assert.equal(table.get(port)?.size, 1, `one listener on ${port}`);
        assert.equal(await groupHoldsSocket(process.pid, table.get(port)), true);
      }
    } finally {
      v6.close();
      v4.close();
    }
  });

  void it('shares one table read among the polls within its age', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const shared = new ListenerTableReader(60_000);
    assert.ok((await shared.read())?.has(port));
    server.close();
    await once(server, 'close');
    assert.ok((await shared.read())?.has(port), 'the shared read from before the close');
    assert.equal((await new ListenerTableReader(0).read())?.has(port), false, 'a fresh read');
  });
});
