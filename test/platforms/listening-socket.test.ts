import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { groupListensOn, portAccepts } from '../../src/platforms/process/listening-socket.js';
import { freePort } from '../support/daemons/common.js';
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
    assert.equal(await portAccepts('127.0.0.1', port), true);
  });

  void it('is true when another member of the group listens (a shell wrapper)', async () => {
    const port = await freePort();
    // "; exit $?" keeps the shell alive as the leader instead of exec'ing node in its place.
    const wrapper = startGroup('/bin/sh', ['-c', `"${process.execPath}" "${VERSION_APP}"; exit $?`], port);
    await waitFor(async () => (await groupListensOn(wrapper.pid!, port)) === true, {
      what: 'the wrapped app to listen',
    });
    assert.equal(await portAccepts('127.0.0.1', port), true);
  });

  void it('is false when a stranger holds the port, though the port accepts', async () => {
    const stranger = net.createServer();
    stranger.listen(0, '127.0.0.1');
    await once(stranger, 'listening');
    const port = (stranger.address() as net.AddressInfo).port;
    try {
      const sleeper = startGroup('/bin/sh', ['-c', 'sleep 30'], port);
      assert.equal(await portAccepts('127.0.0.1', port), true);
      assert.equal(await groupListensOn(sleeper.pid!, port), false);
      // This test process is the one that owns it.
      assert.equal(await groupListensOn(process.pid, port), true);
    } finally {
      stranger.close();
    }
  });

  void it('portAccepts is false for a port nobody listens on', async () => {
    assert.equal(await portAccepts('127.0.0.1', await freePort()), false);
  });
});
