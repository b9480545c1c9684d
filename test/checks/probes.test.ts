import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkKindOf, describeCheck, probe } from '../../src/checks/probe.js';
import { printedPid, waitUntilEnded } from '../support/pid-gone.js';
import {
  healthConfig,
  refusedTarget,
  startHealthServer,
  startTcpServer,
  type TestServer,
} from './health-fixture.js';

void describe('http probe', () => {
  let server: Awaited<ReturnType<typeof startHealthServer>>;
  before(async () => {
    server = await startHealthServer();
  });
  after(async () => {
    await server.close();
  });
  const check = healthConfig({ http: { path: '/healthz' }, timeout: '300ms' });

  void it('is healthy when GET path answers the expected status', async () => {
    server.setStatus(200);
    assert.deepEqual(await probe(server.target, check), {
      healthy: true,
      detail: 'GET /healthz answered 200',
    });
  });

  void it('is unhealthy on another status, naming both', async () => {
    server.setStatus(503);
    assert.deepEqual(await probe(server.target, check), {
      healthy: false,
      detail: 'GET /healthz answered 503 (expected 200)',
    });
  });

  void it('accepts a configured status', async () => {
    server.setStatus(204);
    const expect204 = healthConfig({ http: { path: '/healthz', expectStatus: 204 } });
    assert.equal((await probe(server.target, expect204)).healthy, true);
  });

  void it('is unhealthy when nothing answers within the timeout', async () => {
    server.setStatus('hang');
    assert.deepEqual(await probe(server.target, check), { healthy: false, detail: 'no answer within 300ms' });
  });

  void it('is unhealthy when the connection is refused', async () => {
    assert.deepEqual(await probe(await refusedTarget(), check), {
      healthy: false,
      detail: 'connection refused',
    });
  });

  void it('is the default kind and reads as "http check GET /healthz"', () => {
    const defaults = healthConfig({});
    assert.equal(checkKindOf(defaults), 'http');
    assert.equal(describeCheck(defaults), 'http check GET /healthz');
  });
});

void describe('tcp probe', () => {
  let server: TestServer;
  before(async () => {
    server = await startTcpServer();
  });
  after(async () => {
    await server.close();
  });
  const check = healthConfig({ tcp: {}, timeout: '300ms' });

  void it('is healthy when a connection is accepted', async () => {
    assert.deepEqual(await probe(server.target, check), { healthy: true, detail: 'connected' });
    assert.equal(describeCheck(check), 'tcp check');
  });

  void it('is unhealthy when the connection is refused', async () => {
    assert.deepEqual(await probe(await refusedTarget(), check), {
      healthy: false,
      detail: 'connection refused',
    });
  });
});

void describe('exec probe', () => {
  const target = { id: 'green-1-v2', host: '127.0.0.1', port: 4321 };

  void it('is healthy when the command exits 0, with TARGET_HOST and TARGET_PORT set', async () => {
    const check = healthConfig({ exec: { command: 'test "$TARGET_HOST:$TARGET_PORT" = "127.0.0.1:4321"' } });
    assert.deepEqual(await probe(target, check), { healthy: true, detail: 'exit 0' });
  });

  void it('runs an argv array without a shell', async () => {
    const check = healthConfig({ exec: { command: ['sh', '-c', 'test "$TARGET_ID" = green-1-v2'] } });
    assert.equal((await probe(target, check)).healthy, true);
  });

  void it('is unhealthy on a non-zero exit, quoting the last line of output', async () => {
    const check = healthConfig({ exec: { command: 'echo checking; echo "not ready yet" >&2; exit 3' } });
    assert.deepEqual(await probe(target, check), { healthy: false, detail: 'exit 3: not ready yet' });
    assert.equal(describeCheck(check), 'exec check `echo checking; echo "not ready yet" >&2; exit 3`');
  });

  void it('is unhealthy, and kills the command, when it does not exit within the timeout', async () => {
    const check = healthConfig({ exec: { command: 'sleep 30' }, timeout: '200ms' });
    assert.deepEqual(await probe(target, check), { healthy: false, detail: 'no exit within 200ms' });
  });

  void it(
    'a command whose grandchild holds its pipes is unhealthy at the timeout, and the grandchild is killed',
    { timeout: 20_000 },
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'cutover-exec-probe-'));
      try {
        const pidFile = path.join(dir, 'grandchild.pid');
        const check = healthConfig({
          exec: { command: `sleep 60 & echo $! > '${pidFile}'; wait` },
          timeout: '500ms',
        });
        assert.deepEqual(await probe(target, check), { healthy: false, detail: 'no exit within 500ms' });
        await waitUntilEnded(printedPid(await readFile(pidFile, 'utf8')));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  void it(
    'a command that exits 0 leaving a background child on its pipes is healthy at its exit, and the child is stopped',
    { timeout: 20_000 },
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'cutover-exec-probe-'));
      try {
        const pidFile = path.join(dir, 'leftover.pid');
        const check = healthConfig({
          exec: { command: `sleep 60 & echo $! > '${pidFile}'` },
          timeout: '10s',
        });
        assert.deepEqual(await probe(target, check), { healthy: true, detail: 'exit 0' });
        await waitUntilEnded(printedPid(await readFile(pidFile, 'utf8')));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  void it('the command does not see CUTOVER_ADMIN_TOKEN, CUTOVER_PREVIEW_TOKEN or any CUTOVER_* variable', async () => {
    const saved = { ...process.env };
    process.env.CUTOVER_ADMIN_TOKEN = 'admin-b1f5e0';
    process.env.CUTOVER_PREVIEW_TOKEN = 'preview-c2d6f1';
    process.env.CUTOVER_SOME_FUTURE_SECRET = 'future-d3e7a2';
    try {
      const check = healthConfig({ exec: { command: "! env | grep -E '^CUTOVER_|b1f5e0|c2d6f1|d3e7a2'" } });
      assert.deepEqual(await probe(target, check), { healthy: true, detail: 'exit 0' });
    } finally {
      process.env = saved;
    }
  });

  void it('is unhealthy when the command cannot be run', async () => {
    const check = healthConfig({ exec: { command: ['/no/such/checker'] } });
    const result = await probe(target, check);
    assert.equal(result.healthy, false);
    assert.match(result.detail, /^could not run: .*ENOENT/);
  });
});
