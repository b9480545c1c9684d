/**
 * The builtin data plane outlives its control plane: `kill -9` of `cutover server`, again and
 * again, one of them mid-deployment, and `cutover server --upgrade`, again and again, one of
 * them mid-deployment — under keep-alive load and open WebSockets that ping all the time. The
 * proxy workers keep serving the last table while no server runs; each restarted server adopts
 * the same workers (none started twice, none leaked: counted in /proc), each upgrade hands over
 * to new workers, the interrupted deployments resume and finish, no request fails and no
 * WebSocket closes before its deadline.
 *
 * "Before its deadline": a WebSocket may be closed by the other side only with 1001, and only
 * at or after a deadline that applies to it and fell while it was open — the drain deadline of
 * the deployment that took traffic off its slot (journaled as drainDeadline), or the retirement
 * deadline of the workers holding it when an upgrade replaced them (logged by the new server
 * with router.workers_handed_over). Every other close counts as early. A wrong echo and a
 * WebSocket that could not be opened fail the test too. (A ping sent just before a deadline may
 * go unanswered: the close at the deadline ends the tunnel with it.)
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startLoad, waitFor, type RunningLoad } from '../support/load.js';
import { hasEnded } from '../support/pid-gone.js';
import { runningWorkerPids, workerProcessPids } from '../support/proxy-workers.js';
import {
  closedBeforeDeadline,
  describeCloses,
  startWebSocketPingers,
  type CloseDeadline,
  type WebSocketPingers,
} from '../support/websocket-pingers.js';
import { CutoverHarness } from './harness.js';

/** The suite's scale; bench/control-plane-chaos.ts runs the same scenarios at the issue's (50 / 20, 50 / 200). */
const KILLS = Number(process.env.CUTOVER_CHAOS_KILLS ?? 5);
/** The kill that lands while a deployment of v2 is provisioning. */
const KILL_MID_DEPLOY = 2;

const UPGRADES = Number(process.env.CUTOVER_CHAOS_UPGRADES ?? 2);
/** The upgrade that lands while a deployment of v2 is provisioning. */
const UPGRADE_MID_DEPLOY = 1;
/** The upgrade whose new server is killed while the old workers are still retiring. */
const KILL_WHILE_RETIRING = 0;

const CONNECTIONS = Number(process.env.CUTOVER_CHAOS_CONNECTIONS ?? 20);
const WEBSOCKETS = Number(process.env.CUTOVER_CHAOS_WEBSOCKETS ?? 20);
/**
 * A WebSocket whose handshake was under way when the old workers stopped accepting is greeted
 * a little after the hand-over was logged, yet held by an old worker.
 */
const HANDSHAKE_SLACK_MS = 1_000;

let harness: CutoverHarness | undefined;
let upgraded: CutoverHarness | undefined;
after(async () => {
  await harness?.teardown();
  await upgraded?.teardown();
});

async function deployV1UnderLoad(
  h: CutoverHarness,
): Promise<{ load: RunningLoad; sockets: WebSocketPingers }> {
  await h.startServer();
  const first = await h.cli(['deploy', 'v1']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const load = startLoad({ url: h.trafficUrl, connections: CONNECTIONS, maxDurationMs: 900_000 });
  const sockets = startWebSocketPingers({
    url: h.trafficUrl.replace(/^http/, 'ws'),
    sockets: WEBSOCKETS,
    maxDurationMs: 900_000,
  });
  await waitFor(() => sockets.stats().open === WEBSOCKETS, {
    what: () => `${WEBSOCKETS} WebSockets open (${JSON.stringify(sockets.stats())})`,
  });
  return { load, sockets };
}

async function startV2(h: CutoverHarness): Promise<string> {
  const { status, body } = await h.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
    release: 'v2',
  });
  assert.equal(status, 202, JSON.stringify(body));
  await h.waitForPhase(body.deployment.id, ['provisioning']);
  return body.deployment.id;
}

/** v2 finished and live; the drain deadline its run journaled for v1's WebSockets. */
async function finishedV2(h: CutoverHarness, deploymentId: string): Promise<CloseDeadline> {
  await h.waitForPhase(deploymentId, ['standby'], 60_000);
  await waitFor(async () => (await (await fetch(h.trafficUrl)).text()) === 'v2', { what: 'v2 live' });
  const { body } = await h.api<{ deployment: { drainDeadline?: string } }>(
    'GET',
    `/v1/deployments/${deploymentId}`,
  );
  assert.ok(body.deployment.drainDeadline, 'the deployment journaled its drain deadline');
  return {
    at: Date.parse(body.deployment.drainDeadline),
    covers: (record) => record.version === 'v1',
    what: 'the drain of v1',
  };
}

/** Traffic and echoes go on (while no server runs, the workers alone carry them). */
async function bothFlow(load: RunningLoad, sockets: WebSocketPingers, what: string): Promise<void> {
  const ok = load.stats().ok;
  const echoes = sockets.stats().echoes;
  await waitFor(() => load.stats().ok > ok + 200 && sockets.stats().echoes > echoes + WEBSOCKETS, {
    what: `requests and WebSocket echoes ${what}`,
  });
}

/** Everything the clients saw, asserted: nothing failed, no WebSocket closed early. */
async function assertClientsSawNothing(
  load: RunningLoad,
  sockets: WebSocketPingers,
  deadlines: readonly CloseDeadline[],
): Promise<void> {
  const stats = await load.stop();
  const ws = await sockets.stop();
  assert.equal(stats.failed, 0, `failed requests: ${stats.firstErrors.join('; ')}`);
  assert.equal(stats.connectionErrors, 0);
  assert.equal(ws.openErrors, 0, `WebSockets that could not open: ${ws.firstErrors.join('; ')}`);
  assert.equal(ws.badEchoes, 0, `wrong echoes: ${ws.firstErrors.join('; ')}`);
  const early = closedBeforeDeadline(sockets.records, deadlines);
  const atDeadline = sockets.records.filter((record) => record.code === 1001).length;
  // The figures bench/control-plane-chaos.ts reports.
  console.log(
    `clients saw: ${stats.sent} requests, ${stats.failed} failed, ${stats.connectionErrors} connection errors; ` +
      `${ws.opened} WebSockets opened (${WEBSOCKETS} at a time), ${ws.echoes} echoes, ${ws.openErrors} open errors, ` +
      `${atDeadline} closed with 1001 at a deadline, ${early.length} closed before their deadline`,
  );
  assert.deepEqual(
    early.length,
    0,
    `WebSockets closed before their deadline: ${describeCloses(early)}; deadlines: ${deadlines.map((deadline) => `${deadline.what} at ${new Date(deadline.at).toISOString()}`).join(', ')}`,
  );
  // The drain did close v1's WebSockets (at its deadline): their clients are on v2 now.
  assert.ok(
    sockets.records.every((record) => record.version !== 'v1' || record.closedAt !== undefined),
    'every v1 WebSocket was closed by the drain',
  );
  assert.ok(
    sockets.records.some((record) => record.version === 'v2' && record.echoes > 0),
    'WebSockets reopened on v2 and pinged',
  );
}

describe('kill -9 and upgrades of cutover server with the builtin router, under HTTP and WebSocket load', () => {
  it('kill -9: the workers serve on, are adopted by the next server, none is leaked, no request or WebSocket is cut', async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      extraYaml: 'hooks:\n  beforeProvision: "sleep 1"',
    });
    const h = harness;
    const { load, sockets } = await deployV1UnderLoad(h);
    const workers = (await runningWorkerPids(h.stateDir)).sort((a, b) => a - b);
    assert.ok(workers.length >= 1, 'the server started proxy workers');
    assert.deepEqual(await workerProcessPids(h.stateDir), workers, 'no other worker process runs');

    const deadlines: CloseDeadline[] = [];
    try {
      let deploymentId: string | undefined;
      for (let kill = 0; kill < KILLS; kill += 1) {
        if (kill === KILL_MID_DEPLOY) deploymentId = await startV2(h);
        await h.killServer();
        await bothFlow(load, sockets, 'while the server is down');
        await h.startServer();
        assert.deepEqual(
          (await runningWorkerPids(h.stateDir)).sort((a, b) => a - b),
          workers,
          'the restarted server adopted the same workers and started none',
        );
        assert.deepEqual(await workerProcessPids(h.stateDir), workers, 'no worker process leaked');
      }
      assert.ok(deploymentId !== undefined);
      deadlines.push(await finishedV2(h, deploymentId));
      await bothFlow(load, sockets, 'after the deployment');
    } catch (error) {
      // The scenario's own failure first, not what the clients saw after it.
      await Promise.all([load.stop(), sockets.stop()]);
      throw error;
    }
    await assertClientsSawNothing(load, sockets, deadlines);

    // A graceful stop retires them: nothing is left running.
    await h.stopServer();
    await waitFor(async () => (await Promise.all(workers.map((pid) => hasEnded(pid)))).every(Boolean), {
      what: 'the workers to exit after the server stopped',
    });
    assert.deepEqual(await workerProcessPids(h.stateDir), []);
  });

  it('cutover server --upgrade hands over to new workers: no request fails, WebSockets close only at the old workers’ deadline, the old workers exit', async () => {
    // v2's provisioning waits for this file, so the upgrade surely lands mid-deployment however
    // long the new server takes to boot.
    const gate = path.join(os.tmpdir(), `cutover-chaos-gate-${process.pid}`);
    rmSync(gate, { force: true });
    upgraded = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      extraYaml: `hooks:\n  beforeProvision: "while [ ! -e ${gate} ] && [ $CUTOVER_RELEASE = v2 ]; do sleep 0.1; done"`,
    });
    const h = upgraded;
    const { load, sockets } = await deployV1UnderLoad(h);
    const retired: number[] = [];
    const deadlines: CloseDeadline[] = [];
    try {
      let deploymentId: string | undefined;
      for (let upgrade = 0; upgrade < UPGRADES; upgrade += 1) {
        await bothFlow(load, sockets, 'before the upgrade');
        if (upgrade === UPGRADE_MID_DEPLOY) deploymentId = await startV2(h);
        const old = await runningWorkerPids(h.stateDir);
        const logged = h.serverLog.length;
        await h.upgradeServer();
        deadlines.push(handOverDeadline(h.serverLog.slice(logged), old));
        if (upgrade === UPGRADE_MID_DEPLOY) {
          assert.match(
            h.serverLog.slice(logged),
            /"event":"deployment.stopped"[^\n]*"phase":"(provisioning|verifying)"/,
            'the old server stopped the deployment mid-way, for the new one to resume',
          );
          writeFileSync(gate, '');
        }
        if (upgrade === KILL_WHILE_RETIRING) {
          // kill -9 of the new server while the old workers still finish: its successor adopts
          // the new workers and leaves the retiring ones to close their WebSockets at their deadline.
          const successors = (await runningWorkerPids(h.stateDir)).filter((pid) => !old.includes(pid));
          await h.killServer();
          await h.startServer();
          const adopted = (await runningWorkerPids(h.stateDir)).filter((pid) => !old.includes(pid));
          assert.deepEqual(adopted.sort(), successors.sort(), 'the restarted server adopted the new workers');
          assert.ok(h.serverLog.includes('router.worker_retiring'), 'and left the retiring ones alone');
        }
        await waitFor(async () => (await Promise.all(old.map((pid) => hasEnded(pid)))).every(Boolean), {
          what: 'the old workers to drain and exit',
          timeoutMs: 20_000,
        });
        const now = (await runningWorkerPids(h.stateDir)).sort((a, b) => a - b);
        assert.equal(now.length, old.length, 'as many workers as before');
        assert.ok(
          now.every((pid) => !old.includes(pid)),
          'new workers, from the new server',
        );
        assert.deepEqual(await workerProcessPids(h.stateDir), now, 'no worker process leaked');
        retired.push(...old);
      }
      assert.ok(deploymentId !== undefined);
      deadlines.push(await finishedV2(h, deploymentId));
      await bothFlow(load, sockets, 'after the deployment');
    } catch (error) {
      // The scenario's own failure first, not what the clients saw after it.
      await Promise.all([load.stop(), sockets.stop()]);
      throw error;
    }
    await assertClientsSawNothing(load, sockets, deadlines);
    // Each upgrade closed the WebSockets its old workers held, at their deadline, and the
    // clients reopened them on the new workers.
    assert.ok(
      sockets.records.filter((record) => record.code === 1001).length >= UPGRADES * WEBSOCKETS,
      'the old workers closed their WebSockets with 1001',
    );
    await h.stopServer();
    rmSync(gate, { force: true });
    assert.deepEqual(await workerProcessPids(h.stateDir), []);
    for (const pid of retired) assert.ok(await hasEnded(pid), `retired worker ${pid} is gone`);
  });
});

/**
 * The retirement deadline the new server gave the old workers (`from`), from its hand-over log
 * line. It covers the WebSockets greeted before those workers stopped accepting.
 */
function handOverDeadline(log: string, from: readonly number[]): CloseDeadline {
  for (const line of log.split('\n')) {
    if (!line.includes('router.workers_handed_over')) continue;
    const entry = JSON.parse(line) as { time: string; from: number[]; retireDeadline: string };
    if (!from.every((pid) => entry.from.includes(pid))) continue;
    const stoppedAccepting = Date.parse(entry.time) + HANDSHAKE_SLACK_MS;
    return {
      at: Date.parse(entry.retireDeadline),
      covers: (record) => record.openedAt < stoppedAccepting,
      what: `the retirement of workers ${from.join(', ')}`,
    };
  }
  throw new Error(`the new server logged no hand-over from workers ${from.join(', ')}:\n${log}`);
}
