import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { runHook } from '../../src/engine/hook-runner.js';
import { printedPid, waitUntilEnded } from '../support/pid-gone.js';

/** Well past any timeout below: a run that waits for it has failed. */
const CASE_TIMEOUT_MS = 20_000;

void describe('hook runner', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cutover-hook-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A command that starts `sleep 60` in the background, writes its pid to a file, then waits. */
  const withGrandchild = (name: string) => {
    const pidFile = path.join(dir, `${name}.pid`);
    return {
      command: `sleep 60 & echo $! > '${pidFile}'; wait`,
      grandchild: async () => printedPid(await readFile(pidFile, 'utf8')),
    };
  };

  void it(
    'a hook whose grandchild holds its pipes settles at its timeout, and the grandchild is killed with it',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const hook = withGrandchild('timeout');
      await assert.rejects(
        runHook({ name: 'smoke', command: hook.command, cwd: dir, env: {}, timeoutMs: 500, killGraceMs: 0 }),
        (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_HOOK') && /timed out after 500ms/.test(error.message),
      );
      await waitUntilEnded(await hook.grandchild());
    },
  );

  void it(
    'an aborted hook settles at once, and its whole process group is killed',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const hook = withGrandchild('abort');
      const controller = new AbortController();
      const running = runHook({
        name: 'smoke',
        command: hook.command,
        cwd: dir,
        env: {},
        timeoutMs: 60_000,
        killGraceMs: 0,
        signal: controller.signal,
      });
      const pid = await waitForPid(hook.grandchild);
      controller.abort();
      await assert.rejects(running, (error: unknown) => isCutoverError(error, 'CUTOVER_E_HOOK'));
      await waitUntilEnded(pid);
    },
  );

  void it(
    'a hook that exits leaving a background child on its pipes settles with its exit, and the child is stopped',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const pidFile = path.join(dir, 'leftover.pid');
      const output = await runHook({
        name: 'afterPromote',
        command: `sleep 60 & echo $! > '${pidFile}'; echo done`,
        cwd: dir,
        env: {},
        timeoutMs: 60_000,
        killGraceMs: 0,
      });
      assert.match(output, /done/);
      await waitUntilEnded(printedPid(await readFile(pidFile, 'utf8')));
    },
  );

  void it(
    'a hook stopped at its timeout gets SIGTERM first, and its trap can clean up within the grace',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const marker = path.join(dir, 'cleaned-up');
      await assert.rejects(
        runHook({
          name: 'beforeProvision',
          command: `trap 'echo rolled back > "${marker}"; exit 1' TERM; sleep 60 & wait`,
          cwd: dir,
          env: {},
          timeoutMs: 300,
          killGraceMs: 10_000,
        }),
        (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_HOOK') && /timed out after 300ms/.test(error.message),
      );
      assert.equal(await readFile(marker, 'utf8'), 'rolled back\n');
    },
  );

  void it(
    'a hook that ignores SIGTERM is killed, group and all, when the grace ends',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const pidFile = path.join(dir, 'stubborn.pid');
      await assert.rejects(
        runHook({
          name: 'beforeProvision',
          command: `trap '' TERM; sleep 60 & echo $! > '${pidFile}'; while :; do wait; done`,
          cwd: dir,
          env: {},
          timeoutMs: 300,
          killGraceMs: 300,
        }),
        (error: unknown) => isCutoverError(error, 'CUTOVER_E_HOOK') && /timed out/.test(error.message),
      );
      await waitUntilEnded(printedPid(await readFile(pidFile, 'utf8')));
    },
  );

  void it('a hook does not see CUTOVER_ADMIN_TOKEN, CUTOVER_PREVIEW_TOKEN or any inherited CUTOVER_* variable', async () => {
    const saved = { ...process.env };
    process.env.CUTOVER_ADMIN_TOKEN = 'admin-b1f5e0';
    process.env.CUTOVER_PREVIEW_TOKEN = 'preview-c2d6f1';
    process.env.CUTOVER_SOME_FUTURE_SECRET = 'future-d3e7a2';
    try {
      const output = await runHook({
        name: 'smoke',
        command: "env | grep -E '^(CUTOVER_|PREVIEW_)' | sort",
        cwd: dir,
        env: { CUTOVER_RELEASE: 'v2', PREVIEW_URL: 'http://127.0.0.1:1' },
        timeoutMs: 10_000,
        killGraceMs: 0,
      });
      assert.doesNotMatch(output, /b1f5e0|c2d6f1|d3e7a2/);
      assert.doesNotMatch(output, /^CUTOVER_(ADMIN|PREVIEW)_TOKEN=/m);
      // What cutover sets for the hook on purpose is still there.
      assert.match(output, /^CUTOVER_RELEASE=v2$/m);
      assert.match(output, /^PREVIEW_URL=/m);
    } finally {
      process.env = saved;
    }
  });
});

async function waitForPid(read: () => Promise<number>): Promise<number> {
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !/no pid printed/.test(String(error)))
        throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
