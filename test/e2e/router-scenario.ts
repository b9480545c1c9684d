/**
 * The end-to-end scenario every external router runs (test/e2e/router-<kind>.test.ts): a real
 * daemon on loopback ports chosen at run time, a real `cutover server` driving it with the
 * process platform, and the CLI verbs an operator would type. Deploys go through a manual
 * promotion gate, so the same config also gives a deployment to abort while it waits there.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startLoad, type LoadStats, type RunningLoad } from '../support/load.js';
import { CutoverHarness } from './harness.js';

/** A daemon started for the test, plus the `router:` section that points cutover at it. */
export interface RouterDaemon {
  /** The parsed router config of the daemon's harness; written into cutover.yml as it is. */
  readonly config: Record<string, unknown>;
  /** Where the daemon serves live traffic. */
  readonly url: string;
  teardown(): Promise<void>;
}

/** What the daemon harnesses of test/support/daemons give back, as far as the scenario cares. */
interface DaemonHarness {
  readonly config: Record<string, unknown>;
  readonly publicUrl: string;
  readonly router: { close(): Promise<void> };
  teardown(): Promise<void>;
}

/**
 * Starts a daemon through its test harness for `cutover server` to drive. `closeHarnessRouter`:
 * the harness opened its own router to write the daemon's first config; cutover server owns that
 * config from now on, so the harness's router must let go of it.
 */
export function daemonFrom(
  start: () => Promise<DaemonHarness>,
  options: { closeHarnessRouter?: boolean } = {},
): () => Promise<RouterDaemon> {
  return async () => {
    const daemon = await start();
    if (options.closeHarnessRouter === true) await daemon.router.close();
    return { config: daemon.config, url: daemon.publicUrl, teardown: () => daemon.teardown() };
  };
}

/** Two weighted steps held at the manual promotion gate: for routers that can weigh traffic. */
export const WEIGHTED_MANUAL_STRATEGY = [
  'strategy:',
  '  kind: shift',
  '  promotion: manual',
  '  steps: [{ weight: 50, pause: 300ms }, { weight: 100 }]',
].join('\n');

export interface RouterScenario {
  kind: 'nginx' | 'haproxy' | 'varnish' | 'caddy';
  /** Names the daemon in test names and load reports when a kind has several modes (default: kind). */
  label?: string;
  /** Starts the daemon; throws (naming the install step) when its binary is missing. */
  startDaemon(): Promise<RouterDaemon>;
  /** `strategy:` section; it must hold each deploy at a manual gate (`promotion: manual`). */
  strategyYaml: string;
  /**
   * Judges the client-side failures under keep-alive load during one part of the scenario:
   * zero for routers that change their data plane without dropping a connection.
   */
  assertFailures(stats: LoadStats, during: Stage): void;
}

/**
 * `prepare`: deploy v2 from the command to the manual gate (instances started, the idle slot
 * put into the router, preview); `switch`: `cutover promote` until standby (traffic moved, old
 * slot drained); `rollback`; `abort`: deploy v3 to the gate, then abort (the idle slot is
 * prepared and cleaned up, traffic never moves).
 */
export type Stage = 'prepare' | 'switch' | 'rollback' | 'abort';

export const LOAD_CONNECTIONS = 50;

/** Asserts that no request failed at all during a move. */
export function assertNoFailures(stats: LoadStats, during: Stage): void {
  assert.equal(
    stats.failed,
    0,
    `${during}: ${stats.failed} failed requests:\n${stats.firstErrors.join('\n')}`,
  );
  assert.equal(stats.non2xx, 0, `${during}: non-2xx answers`);
}

/**
 * Asserts that every failure was the connection being closed under the client (a reset of an
 * idle keep-alive connection when the daemon reloads), never an error answer or a wrong slot.
 */
export function assertOnlyConnectionResets(stats: LoadStats, during: Stage): void {
  assert.equal(stats.non2xx, 0, `${during}: non-2xx answers:\n${stats.firstErrors.join('\n')}`);
  assert.equal(
    stats.failed,
    stats.connectionErrors,
    `${during}: failures other than connection resets:\n${stats.firstErrors.join('\n')}`,
  );
}

const QUIET_MS = 1000;
const SETTLE_LIMIT_MS = 15_000;

/**
 * The load's stats once no request has failed for QUIET_MS (at most SETTLE_LIMIT_MS: a load
 * that never stops failing is the assertion's business, not this wait's).
 */
async function settledStats(load: RunningLoad): Promise<LoadStats> {
  const giveUpAt = Date.now() + SETTLE_LIMIT_MS;
  let last = load.stats();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const now = load.stats();
    if (now.failed === last.failed || Date.now() > giveUpAt) return now;
    last = now;
  }
}

/** What happened between two snapshots of one load. */
function between(before: LoadStats, after: LoadStats): LoadStats {
  const bodies: Record<string, number> = {};
  for (const [body, count] of Object.entries(after.bodies)) {
    const delta = count - (before.bodies[body] ?? 0);
    if (delta > 0) bodies[body] = delta;
  }
  return {
    sent: after.sent - before.sent,
    ok: after.ok - before.ok,
    failed: after.failed - before.failed,
    connectionErrors: after.connectionErrors - before.connectionErrors,
    non2xx: after.non2xx - before.non2xx,
    bodies,
    firstErrors: after.firstErrors.slice(before.firstErrors.length),
  };
}

interface DeploymentOutput {
  ok: boolean;
  deployment: { id: string; phase: string; toSlot: string; release: string };
}

export function runRouterEndToEnd(scenario: RouterScenario): void {
  const name = scenario.label ?? scenario.kind;
  describe(`cutover deploy, rollback and abort through a real ${name}`, () => {
    let daemon: RouterDaemon | undefined;
    let harness: CutoverHarness | undefined;
    const h = (): CutoverHarness => {
      assert.ok(harness, `the ${scenario.kind} end-to-end harness did not start`);
      return harness;
    };

    before(async () => {
      daemon = await scenario.startDaemon();
      harness = await CutoverHarness.create({
        releases: { v1: {}, v2: {}, v3: {} },
        router: { config: daemon.config, url: daemon.url },
        extraYaml: scenario.strategyYaml,
      });
      await harness.startServer();
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        await daemon?.teardown();
      }
    });

    /** `deploy --no-wait`, then wait at the manual gate; answers the deployment id. */
    const startDeploy = async (release: string): Promise<string> => {
      const result = await h().cli(['deploy', release, '--no-wait', '--json']);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const { deployment } = JSON.parse(result.stdout) as DeploymentOutput;
      await h().waitForPhase(deployment.id, ['awaiting-promotion'], 60_000);
      return deployment.id;
    };
    const promote = async (id: string): Promise<void> => {
      const result = await h().cli(['promote', id, '--json']);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      // A first deploy has no old slot to keep warm: it goes on from standby to retired.
      await h().waitForPhase(id, ['standby', 'retired'], 60_000);
    };

    it('deploys v1 through the manual gate and serves it through the daemon', async () => {
      await promote(await startDeploy('v1'));
      assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
    });

    it('deploys v2 under keep-alive load: the daemon then answers v2 only', async () => {
      const load = startLoad({ url: h().trafficUrl, connections: LOAD_CONNECTIONS, errorBackoffMs: 5 });
      let atGate: LoadStats | undefined;
      try {
        const id = await startDeploy('v2');
        // A daemon that reloaded for prepare may still be closing the old config's connections
        // when the deployment reaches the gate; those resets belong to prepare, not the switch.
        atGate = await settledStats(load);
        assert.deepEqual(Object.keys(atGate.bodies), ['v1'], 'nothing reached v2 before the promotion');
        await promote(id);
        // The move is complete once the deployment is in standby: every new request is v2.
        assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
      } finally {
        const stats = await load.stop();
        if (atGate !== undefined) {
          const moved = between(atGate, stats);
          reportLoad(name, 'prepare', atGate);
          reportLoad(name, 'switch', moved);
          scenario.assertFailures(atGate, 'prepare');
          scenario.assertFailures(moved, 'switch');
        }
        assert.ok((stats.bodies.v2 ?? 0) > 0, `the load saw v2: ${JSON.stringify(stats.bodies)}`);
        assertOnlyVersions(stats, ['v1', 'v2']);
      }
    });

    it('rolls back to v1 under keep-alive load', async () => {
      const load = startLoad({ url: h().trafficUrl, connections: LOAD_CONNECTIONS, errorBackoffMs: 5 });
      try {
        const result = await h().cli(['rollback', '--json']);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        assert.equal((JSON.parse(result.stdout) as DeploymentOutput).deployment.phase, 'rolled-back');
        assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
      } finally {
        const stats = await load.stop();
        reportLoad(name, 'rollback', stats);
        scenario.assertFailures(stats, 'rollback');
        assertOnlyVersions(stats, ['v1', 'v2']);
      }
    });

    it('aborts a deploy held at the manual gate: traffic never leaves v1', async () => {
      const load = startLoad({ url: h().trafficUrl, connections: 10, errorBackoffMs: 5 });
      try {
        const id = await startDeploy('v3');
        assert.deepEqual(await sample(h().trafficUrl, 20), ['v1'], 'live traffic while v3 waits at the gate');
        const result = await h().cli(['abort', id, '--json']);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        await h().waitForPhase(id, ['aborted'], 60_000);
        assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
        const status = JSON.parse((await h().cli(['status', '--json'])).stdout) as {
          routing: { liveSlot: string };
        };
        assert.equal(status.routing.liveSlot, 'blue', 'blue (v1) is still the live slot');
      } finally {
        const stats = await load.stop();
        reportLoad(name, 'abort', stats);
        scenario.assertFailures(stats, 'abort');
        assert.deepEqual(Object.keys(stats.bodies), ['v1'], 'every answer during the abort was v1');
      }
    });
  });
}

/** Distinct bodies of `count` requests, each on a new connection. */
async function sample(url: string, count: number): Promise<string[]> {
  const bodies = new Set<string>();
  for (let i = 0; i < count; i++) bodies.add(await get(url));
  return [...bodies].sort();
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(body.trim())
            : reject(new Error(`GET ${url}: HTTP ${response.statusCode}: ${body}`)),
        );
      })
      .on('error', reject);
  });
}

function assertOnlyVersions(stats: LoadStats, versions: string[]): void {
  const unexpected = Object.keys(stats.bodies).filter((body) => !versions.includes(body));
  assert.deepEqual(unexpected, [], `answers from neither ${versions.join(' nor ')}`);
}

function reportLoad(kind: string, during: Stage, stats: LoadStats): void {
  // Shown in the test output (stderr); the measured numbers are quoted in docs/routers.md.
  console.error(
    `# ${kind} ${during}: ${stats.ok} ok, ${stats.failed} failed (${stats.connectionErrors} connection resets), bodies ${JSON.stringify(stats.bodies)}`,
  );
}
