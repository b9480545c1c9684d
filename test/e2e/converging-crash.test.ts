/**
 * kill -9 of the engine while a move waits for a router that settles eventually: the move is
 * journaled (deployment still shifting, routing written ahead and marked converging), so the
 * next start waits for the router again and completes the deployment. The engine runs in a
 * child (test/support/apps/settling-engine-app.ts) over a SettlingRouter around the real
 * builtin proxy, with the real process platform and store of a CutoverHarness project.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { DeploymentEvent } from '../../src/shared/events.js';
import type { DeploymentRecord } from '../../src/shared/store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { CutoverHarness } from './harness.js';
import { servedBy, waitForPhase } from './in-process-engine.js';

const APP = fileURLToPath(new URL('../support/apps/settling-engine-app.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

type Line = { event?: DeploymentEvent; finished?: DeploymentRecord; ready?: boolean; resumed?: string[] };

interface EngineChild {
  readonly child: ChildProcess;
  readonly lines: Line[];
  /** Resolves with the first line (seen so far or later) that matches. */
  waitFor(match: (line: Line) => boolean, what: string): Promise<Line>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startEngine(input: Record<string, unknown>): EngineChild {
  const child = spawn(process.execPath, ['--import', TSX, APP, JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const waiters: Array<{ match: (line: Line) => boolean; resolve: (line: Line) => void }> = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const text of complete) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.match(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    waitFor: (match, what) => {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<Line>((resolve) => waiters.push({ match, resolve })),
        exited.then(({ code, signal }) => {
          throw new Error(`engine child exited (${code ?? signal}) before ${what}:\n${stderr}`);
        }),
      ]);
    },
  };
}

void describe('kill -9 while a move waits for the router to settle', () => {
  let harness: CutoverHarness;
  const children: EngineChild[] = [];

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {}, v2: {} } });
  });
  after(async () => {
    for (const { child } of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await harness?.teardown();
  });

  function run(input: Record<string, unknown>): EngineChild {
    const started = startEngine({ configFile: harness.configFile, settleTimeoutMs: 600_000, ...input });
    children.push(started);
    return started;
  }

  async function stop(engine: EngineChild): Promise<void> {
    engine.child.kill('SIGTERM');
    assert.deepEqual(await engine.exited, { code: 0, signal: null });
  }

  void it('KilledWhileConverging_TheRestartWaitsForTheRouterAgainAndCompletesTheDeployment', async () => {
    const first = run({ settleAfter: 0, deploy: ['v1'] });
    await first.waitFor((line) => line.finished?.release === 'v1', 'v1 deployed');
    await stop(first);

    // Moves giving green any weight never settle: v2's switch waits for the router.
    const crashing = run({ settleAfter: 0, neverSettleOnto: 'green', deploy: ['v2'] });
    const waiting = await crashing.waitFor(
      (line) =>
        line.event?.type === 'read-back' && line.event.state === 'converging' && line.event.weights.green > 0,
      'the switch to green to wait for the router',
    );
    const id = waiting.event!.deploymentId!;
    crashing.child.kill('SIGKILL');
    assert.equal((await crashing.exited).signal, 'SIGKILL');

    const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
    try {
      assert.equal((await store.getDeployment(id))?.phase, 'shifting', 'journaled, not failed');
      const routing = await store.getRouting('e2e');
      assert.equal(routing?.readBack?.kind, 'converging');
      assert.deepEqual(routing?.weights, { blue: 0, green: 100 }, 'the move was written ahead');

      // The restarted engine's router settles after two more read-backs per move.
      const restarted = run({ settleAfter: 2 });
      const ready = await restarted.waitFor((line) => line.ready === true, 'the restarted engine');
      assert.deepEqual(ready.resumed, [id]);
      await waitForPhase(store, id, ['standby'], 60_000);
      const resumed = restarted.lines.flatMap((line) =>
        line.event?.type === 'read-back' && line.event.deploymentId === id ? [line.event.state] : [],
      );
      assert.deepEqual(resumed, ['converging', 'settled'], 'the resumed run waited for the router again');
      assert.equal((await store.getRouting('e2e'))?.readBack?.kind, 'verified');
      for (let i = 0; i < 10; i += 1) assert.equal(await servedBy(harness.trafficUrl), 'v2');
      await stop(restarted);
    } finally {
      await store.close();
    }
  });
});
