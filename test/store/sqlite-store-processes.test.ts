import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import Database from 'better-sqlite3';

import { canTransition } from '../../src/engine/transitions.js';
import { isTerminal } from '../../src/shared/phase.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/shared/store.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOOP_SCRIPT = fileURLToPath(new URL('./fixtures/transition-loop.ts', import.meta.url));

let dir: string;
const children: ChildProcess[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-store-proc-'));
});

after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts the transition loop on `file` and resolves once it holds the lease and is writing. */
async function startLoop(file: string, prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOOP_SCRIPT, file, prefix], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(`the transition loop to start (stderr: ${stderr})`, () => {
    if (child.exitCode !== null) throw new Error(`transition loop exited ${child.exitCode}: ${stderr}`);
    return stdout.includes('ready');
  });
  return child;
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Every deployment's phase is its last journal entry's, and its journal is a legal path. */
async function assertConsistent(store: Store): Promise<number> {
  const deployments = await store.listDeployments('shop');
  for (const deployment of deployments) {
    const journal = await store.journal(deployment.id);
    assert.ok(journal.length > 0, `${deployment.id} has a journal`);
    assert.equal(journal[0]?.phase, 'pending', `${deployment.id} journal starts at pending`);
    assert.equal(
      journal.at(-1)?.phase,
      deployment.phase,
      `${deployment.id} phase matches its last journal entry`,
    );
    for (let i = 1; i < journal.length; i += 1) {
      const from = journal[i - 1]?.phase;
      const to = journal[i]?.phase;
      assert.ok(from && to && canTransition(from, to), `${deployment.id}: ${from} -> ${to} is legal`);
    }
    assert.equal(deployment.finishedAt !== null, isTerminal(deployment.phase), `${deployment.id} finishedAt`);
  }
  return deployments.length;
}

void describe('two processes on one store file', () => {
  void test('a child process holding the lease refuses this one, naming it', async () => {
    const file = join(dir, 'lease', 'state.db');
    const child = await startLoop(file, 'd');
    const store = openSqliteStore(file);
    try {
      const result = await store.acquireLease('shop', 'server', 30_000);
      assert.equal(result.acquired, false);
      assert.match(result.acquired ? '' : result.holder.owner, new RegExp(`^loop-${child.pid}$`));
      // While the child writes as fast as it can, reads here keep working (WAL, busy_timeout).
      await waitFor(
        'the child to write deployments',
        async () => (await store.listDeployments('shop', 5)).length >= 5,
      );
    } finally {
      await killHard(child);
      await store.close();
    }
  });

  void test('SIGKILL in the middle of transitions leaves a consistent store, several times over', async () => {
    const file = join(dir, 'crash', 'state.db');
    let seen = 0;
    for (let round = 0; round < 3; round += 1) {
      const child = await startLoop(file, `round${round}`);
      const watcher = openSqliteStore(file);
      try {
        const target = seen + 20 + round * 7;
        await waitFor(
          `${target} deployments`,
          async () => (await watcher.listDeployments('shop')).length >= target,
        );
        await killHard(child);
      } finally {
        await watcher.close();
      }

      const reopened = openSqliteStore(file);
      try {
        const count = await assertConsistent(reopened);
        assert.ok(count > seen, 'the child made progress');
        seen = count;
        // The dead holder's lease stays until it expires; the next round takes it as expired.
        const lease = await reopened.getLease('shop');
        assert.ok(lease !== undefined);
        const expiredAt = new Date(Date.parse(lease.expiresAt));
        assert.ok((await reopened.acquireLease('shop', 'recovery', 1, expiredAt)).acquired);
        await reopened.releaseLease('shop', 'recovery');
      } finally {
        await reopened.close();
      }
      const raw = new Database(file, { readonly: true });
      try {
        assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        raw.close();
      }
    }
  });
});
