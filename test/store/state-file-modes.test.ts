import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/state-files-under-umask.ts', import.meta.url));

void describe('state directory file modes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cutover-modes-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('under umask 000 the first start makes the state dir 0700 and the store, its WAL and the tokens 0600', async () => {
    // Two levels that do not exist yet: both are made by cutover, so both are private.
    const stateDir = path.join(dir, 'app', '.cutover');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', FIXTURE, stateDir, '000'],
      {
        cwd: REPO_ROOT,
        // Without the override the token file itself would not be exercised.
        env: { ...process.env, CUTOVER_ADMIN_TOKEN: '', CUTOVER_PREVIEW_TOKEN: '' },
      },
    );
    assert.deepEqual(JSON.parse(stdout) as Record<string, string>, {
      '.': '700',
      'cutover.db': '600',
      'cutover.db-wal': '600',
      'cutover.db-shm': '600',
      'admin-token': '600',
      'preview-token': '600',
    });
  });
});
