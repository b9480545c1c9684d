/**
 * A control plane that goes away leaves its proxy workers serving; the next one adopts them
 * (same code) or hands over to new workers (an upgrade) that take the listening sockets
 * without rebinding them, while the old workers drain. Under keep-alive load: no request fails.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/shared/logger.js';
import { createBuiltinRouter, type BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { startVersionBackend } from '../support/backend.js';
import { startLoad, waitFor } from '../support/load.js';
import { waitUntilEnded } from '../support/pid-gone.js';
import { target } from './support/proxy-fixture.js';
import type { VersionBackend } from '../support/backend.js';

void describe('builtin router: a successor control plane and the running workers', () => {
  let blue: VersionBackend;
  let green: VersionBackend;
  let stateDir: string;
  before(async () => {
    blue = await startVersionBackend('blue-1');
    green = await startVersionBackend('green-1');
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'cutover-handover-'));
  });
  after(async () => {
    await blue.close();
    await green.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  const create = (port: number, takeOverWorkers: boolean): BuiltinRouter =>
    createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: `127.0.0.1:${port}`, workers: 2 }),
      {
        logger: silentLogger,
        previewToken: 'handover-preview-token',
        stateDir,
        takeOverWorkers,
      },
    );

  for (const takeOver of [false, true]) {
    void it(
      takeOver
        ? 'upgrade: new workers take the sockets, the old ones drain and exit, no request fails'
        : 'adoption: the successor drives the same workers, no request fails',
      async () => {
        const first = create(0, false);
        await first.open();
        await first.prepare({ blue: [target('blue-1', blue.port)], green: [target('green-1', green.port)] });
        await first.setWeights({ blue: 100, green: 0 });
        const port = first.address().live.port;
        const oldPids = first.workerPids();
        const load = startLoad({ url: `http://127.0.0.1:${port}/`, connections: 20, maxDurationMs: 120_000 });
        let second: BuiltinRouter | undefined;
        try {
          await waitFor(() => load.stats().ok > 200, { what: 'traffic through the first control plane' });
          await first.detach();
          const whileAlone = load.stats().ok;
          await waitFor(() => load.stats().ok > whileAlone + 200, { what: 'traffic with no control plane' });

          second = create(port, takeOver);
          await second.open();
          assert.equal(second.address().live.port, port);
          const observation = await second.verify();
          assert.deepEqual(observation.kind === 'observed' ? observation.weights : observation, {
            blue: 100,
            green: 0,
          });
          if (takeOver) {
            for (const pid of oldPids) await waitUntilEnded(pid, 15_000);
            const newPids = second.workerPids();
            assert.equal(newPids.length, 2);
            assert.ok(
              newPids.every((pid) => !oldPids.includes(pid)),
              'new workers, not the old ones',
            );
          } else {
            assert.deepEqual([...second.workerPids()].sort(), [...oldPids].sort());
          }
          // The successor moves traffic on every worker.
          await second.setWeights({ blue: 0, green: 100 });
          const switched = load.stats().bodies['green-1'] ?? 0;
          await waitFor(() => (load.stats().bodies['green-1'] ?? 0) > switched + 200, {
            what: 'traffic on green',
          });
        } finally {
          const stats = await load.stop();
          await second?.close();
          await first.close();
          assert.equal(stats.failed, 0, `failed: ${stats.firstErrors.join('; ')}`);
          assert.equal(stats.connectionErrors, 0);
        }
        for (const pid of [...oldPids]) await waitUntilEnded(pid, 15_000);
      },
    );
  }
});
