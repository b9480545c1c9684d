import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { canConnect, freePort } from '../support/daemons/common.js';
import { waitFor } from '../support/load.js';
import {
  httpGet,
  isPidAlive,
  makeProcessFixture,
  VERSION_APP,
  type ProcessFixture,
} from './process-fixture.js';

void describe('process platform: provision, stop, logs', () => {
  let fixture: ProcessFixture;
  before(async () => {
    fixture = await makeProcessFixture(['v1', 'v2']);
  });
  after(async () => {
    await fixture.cleanup();
  });

  void it('provisions N instances on distinct loopback ports, each serving its release', async () => {
    const platform = fixture.platform({ instances: 3 });
    const instances = await platform.provision('green', 'v1');

    assert.equal(instances.length, 3);
    assert.equal(new Set(instances.map((instance) => instance.port)).size, 3);
    assert.deepEqual(
      instances.map((instance) => instance.id),
      ['green-0-v1', 'green-1-v1', 'green-2-v1'],
    );
    for (const instance of instances) {
      assert.equal(instance.host, '127.0.0.1');
      assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
    }
    assert.deepEqual(
      platform.healthTargets(instances),
      instances.map((instance) => ({ id: instance.id, host: '127.0.0.1', port: instance.port })),
    );
    assert.deepEqual(
      (await platform.running('green')).map((instance) => instance.meta.pid),
      instances.map((instance) => instance.meta.pid),
    );

    const record = JSON.parse(
      await readFile(join(fixture.stateDir, 'platform', 'process', 'green.json'), 'utf8'),
    ) as {
      release: string;
      instances: { pid: number; port: number; procStartTime: string; startedAt: string }[];
    };
    assert.equal(record.release, 'v1');
    assert.equal(record.instances.length, 3);
    for (const recorded of record.instances) {
      assert.match(recorded.procStartTime, /^\d+$/);
      assert.ok(!Number.isNaN(Date.parse(recorded.startedAt)));
    }

    await platform.destroy('green');
    assert.deepEqual(await platform.running('green'), []);
    for (const instance of instances) assert.equal(await isPidAlive(Number(instance.meta.pid)), false);
  });

  void it('fills ${PORT}, ${HOST}, ${SLOT}, ${INSTANCE} and ${RELEASE} into args, env values and cwd', async () => {
    const platform = fixture.platform({
      instances: 2,
      args: [
        VERSION_APP,
        '--port',
        '${PORT}',
        '--host',
        '${HOST}',
        '--tag',
        '${SLOT}-${INSTANCE}-${RELEASE}',
      ],
      env: { APP_TAG: '${SLOT}/${INSTANCE}/${RELEASE}/${HOST}:${PORT}', APP_LITERAL: '${NOT_A_PLACEHOLDER}' },
    });
    const instances = await platform.provision('blue', 'v2');
    for (const instance of instances) {
      const info = JSON.parse((await httpGet(instance.port, '/info')).body) as {
        version: string;
        cwd: string;
        argv: string[];
        env: Record<string, string>;
      };
      assert.equal(info.version, 'v2');
      assert.equal(info.cwd, join(fixture.baseDir, 'releases', 'v2'));
      assert.deepEqual(info.argv, [
        '--port',
        String(instance.port),
        '--host',
        '127.0.0.1',
        '--tag',
        `blue-${instance.index}-v2`,
      ]);
      assert.equal(info.env.APP_TAG, `blue/${instance.index}/v2/127.0.0.1:${instance.port}`);
      assert.equal(info.env.APP_LITERAL, '${NOT_A_PLACEHOLDER}');
      assert.equal(info.env.PORT, String(instance.port));
      assert.equal(info.env.CUTOVER_SLOT, 'blue');
      assert.equal(info.env.CUTOVER_RELEASE, 'v2');
    }
    await platform.destroy('blue');
  });

  void it('rejects an unknown release with CUTOVER_E_NOT_FOUND before stopping or starting anything', async () => {
    const platform = fixture.platform();
    const [running] = await platform.provision('blue', 'v1');
    assert.ok(running);

    await assert.rejects(platform.checkRelease!('v9'), (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
    );
    await platform.checkRelease!('v2');
    await assert.rejects(platform.provision('blue', 'v9'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_NOT_FOUND'), String(error));
      const releaseDir = join(fixture.baseDir, 'releases', 'v9');
      assert.equal(error.message, `release "v9" not found: ${releaseDir} does not exist`);
      return true;
    });

    const still = await platform.running('blue');
    assert.deepEqual(
      still.map((instance) => instance.meta.pid),
      [running.meta.pid],
    );
    assert.deepEqual(await httpGet(running.port), { status: 200, body: 'v1' });
    await platform.destroy('blue');
  });

  void it('fails with CUTOVER_E_PROVISION naming the instance and its log when the app exits at once', async () => {
    const platform = fixture.platform({ instances: 2, env: { EXIT_AT_ONCE: '1' } });
    await assert.rejects(platform.provision('green', 'v1'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /^instance green-\d-v1 exited with code 1 right after start/);
      assert.ok(error.message.includes(join(fixture.stateDir, 'logs', 'green-')), error.message);
      assert.ok(error.message.includes('fatal: this app was told to exit at once'), error.message);
      return true;
    });
    assert.deepEqual(await platform.running('green'), []);
    assert.equal(existsSync(join(fixture.stateDir, 'platform', 'process', 'green.json')), false);
  });

  void it('waits past the settle time for a slow start: an exit is still reported, a listener serves at once', async () => {
    // 1.5 s stands for a start slowed by a loaded machine; the fixed settle time is 0.5 s.
    const crashing = fixture.platform({ env: { START_DELAY_MS: '1500', EXIT_AT_ONCE: '1' } });
    await assert.rejects(crashing.provision('green', 'v1'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /^instance green-0-v1 exited with code 1 right after start/);
      return true;
    });
    assert.deepEqual(await crashing.running('green'), []);

    const slow = fixture.platform({ env: { START_DELAY_MS: '1500' } });
    const [instance] = await slow.provision('green', 'v1');
    assert.ok(instance);
    assert.equal(await canConnect(instance.port), true, 'listening when provision() returns');
    assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
    await slow.destroy('green');
  });

  void it('names the command when it cannot be started at all', async () => {
    const platform = fixture.platform({ command: './no-such-binary', args: [] });
    await assert.rejects(platform.provision('green', 'v1'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /instance green-0-v1 could not start "\.\/no-such-binary" in .*ENOENT/);
      return true;
    });
  });

  void it('retries an instance once on another port when it exits at once (port taken between probe and bind)', async () => {
    const platform = fixture.platform({
      instances: 2,
      env: { FAIL_FIRST_MARKER: join(fixture.baseDir, 'failed-once-${SLOT}-${INSTANCE}') },
    });
    const instances = await platform.provision('green', 'v1');
    assert.equal(instances.length, 2);
    for (const instance of instances) {
      assert.ok(existsSync(join(fixture.baseDir, `failed-once-green-${instance.index}`)));
      assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
    }
    const lines = (await platform.logs('green', { tail: 20 })).map((line) => line.line).join('\n');
    assert.match(lines, /EADDRINUSE/);
    await platform.destroy('green');
  });

  void it('is idempotent for the same release and replaces instances gracefully for another one', async () => {
    const platform = fixture.platform({ instances: 2 });
    const first = await platform.provision('green', 'v1');
    const again = await platform.provision('green', 'v1');
    assert.deepEqual(
      again.map((instance) => instance.meta.pid),
      first.map((instance) => instance.meta.pid),
    );

    const next = await platform.provision('green', 'v2');
    for (const instance of first) assert.equal(await isPidAlive(Number(instance.meta.pid)), false);
    for (const instance of next) assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v2' });
    const log = (await platform.logs('green', { tail: 50 })).map((line) => line.line).join('\n');
    assert.match(log, /got SIGTERM, exiting/);
    await platform.destroy('green');
  });

  void it('stops with SIGTERM, then SIGKILL after the grace period, and is idempotent', async () => {
    const platform = fixture.platform({ env: { IGNORE_SIGTERM: '1' } });
    const [instance] = await platform.provision('blue', 'v1');
    assert.ok(instance);
    const pid = Number(instance.meta.pid);
    await waitFor(
      async () => (await platform.logs('blue')).some((line) => line.line.startsWith('listening')),
      {
        what: 'the app to log that it listens',
      },
    );

    await platform.stop('blue', { graceMs: 300 });

    assert.equal(await isPidAlive(pid), false);
    const log = (await platform.logs('blue', { tail: 10 })).map((line) => line.line);
    assert.ok(log.includes('got SIGTERM, ignoring it'), log.join('\n'));
    assert.deepEqual(await platform.running('blue'), []);
    await platform.stop('blue', { graceMs: 300 });
  });

  void it('running() leaves out an instance that died, and provision() of the same release replaces the slot', async () => {
    const platform = fixture.platform({ instances: 2 });
    const [first, second] = await platform.provision('blue', 'v1');
    assert.ok(first && second);
    process.kill(Number(first.meta.pid), 'SIGKILL');
    await waitFor(async () => !(await isPidAlive(Number(first.meta.pid))), {
      what: 'the killed instance to die',
    });

    assert.deepEqual(
      (await platform.running('blue')).map((instance) => instance.id),
      [second.id],
    );
    const replaced = await platform.provision('blue', 'v1');
    assert.equal(replaced.length, 2);
    assert.equal(await isPidAlive(Number(second.meta.pid)), false);
    for (const instance of replaced)
      assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
    await platform.destroy('blue');
  });

  void it('takes instance ports from platform.ports when it is set', async () => {
    const from = await freePort();
    const platform = fixture.platform({ instances: 3, ports: { from, to: from + 20 } });
    try {
      const instances = await platform.provision('blue', 'v1');
      assert.equal(new Set(instances.map((instance) => instance.port)).size, 3);
      for (const instance of instances) {
        assert.ok(instance.port >= from && instance.port <= from + 20, `port ${instance.port}`);
        assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
      }
    } finally {
      await platform.destroy('blue');
    }
  });

  void it('a port range with fewer free ports than instances fails naming platform.ports, and starts nothing', async () => {
    const from = await freePort();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(from + 1, '127.0.0.1', resolve));
    try {
      const platform = fixture.platform({ instances: 2, ports: { from, to: from + 1 } });
      await assert.rejects(platform.provision('blue', 'v1'), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
        assert.match(error.message, new RegExp(`platform\\.ports ${from}-${from + 1} has 1 free port`));
        return true;
      });
      assert.deepEqual(await platform.running('blue'), []);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  void it('starts nothing when provisioning is aborted', async () => {
    const platform = fixture.platform();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(platform.provision('green', 'v1', { signal: controller.signal }), (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_ABORTED'),
    );
    assert.deepEqual(await platform.running('green'), []);
    assert.equal(existsSync(join(fixture.stateDir, 'platform', 'process', 'green.json')), false);
  });

  void it('stops waiting for a slow instance to listen when provisioning is aborted', async () => {
    // The app would listen after 8 s, inside the 10 s listen wait: an abort not heeded during
    // the wait would let it get that far before provision() gave up.
    const platform = fixture.platform({ env: { START_DELAY_MS: '8000' } });
    const controller = new AbortController();
    const provisioning = platform.provision('green', 'v1', { signal: controller.signal });
    await waitFor(() => existsSync(join(fixture.stateDir, 'platform', 'process', 'green.json')), {
      what: 'the instance to be recorded as started',
    });
    controller.abort();
    await assert.rejects(provisioning, (error: unknown) => isCutoverError(error, 'CUTOVER_E_ABORTED'));
    assert.deepEqual(await platform.running('green'), []);
    const log = await readFile(join(fixture.stateDir, 'logs', 'green-0.log'), 'utf8');
    assert.doesNotMatch(log, /^listening/m, 'stopped before it listened');
  });

  void it('tails the log of each instance and forgets the logs on destroy', async () => {
    const platform = fixture.platform({ instances: 2 });
    const instances = await platform.provision('green', 'v1');
    await waitFor(
      async () =>
        (await platform.logs('green', { tail: 1 })).every((line) => line.line.startsWith('listening')),
      { what: 'both instances to log that they listen' },
    );
    const lines = await platform.logs('green', { tail: 1 });
    assert.deepEqual(
      lines.map((line) => line.instanceId),
      ['green-0-v1', 'green-1-v1'],
    );
    lines.forEach((line, i) =>
      assert.match(line.line, new RegExp(`^listening on 127.0.0.1:${instances[i]!.port} `)),
    );

    await platform.destroy('green');
    assert.deepEqual(await platform.logs('green'), []);
  });
});
