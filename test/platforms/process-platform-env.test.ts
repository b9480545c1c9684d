import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpGet, makeProcessFixture, VERSION_APP, type ProcessFixture } from './process-fixture.js';

void describe('process platform: the environment of an instance', () => {
  let fixture: ProcessFixture;
  const saved = { ...process.env };
  before(async () => {
    fixture = await makeProcessFixture(['v1']);
    process.env.CUTOVER_ADMIN_TOKEN = 'admin-b1f5e0';
    process.env.CUTOVER_PREVIEW_TOKEN = 'preview-c2d6f1';
    process.env.CUTOVER_SOME_FUTURE_SECRET = 'future-d3e7a2';
  });
  after(async () => {
    process.env = saved;
    await fixture.cleanup();
  });

  void it('an instance does not see CUTOVER_ADMIN_TOKEN, CUTOVER_PREVIEW_TOKEN or any inherited CUTOVER_* variable', async () => {
    // The instance writes what it sees of CUTOVER_* into its release folder, then serves.
    const platform = fixture.platform({
      command: '/bin/sh',
      args: [
        '-c',
        `env | grep '^CUTOVER_' | sort > instance-env.txt; exec '${process.execPath}' '${VERSION_APP}'`,
      ],
      instances: 1,
    });
    const [instance] = await platform.provision('green', 'v1');
    assert.ok(instance);
    assert.equal((await httpGet(instance.port)).status, 200);
    const seen = await readFile(join(fixture.baseDir, 'releases', 'v1', 'instance-env.txt'), 'utf8');
    assert.doesNotMatch(seen, /b1f5e0|c2d6f1|d3e7a2/);
    assert.doesNotMatch(seen, /^CUTOVER_(ADMIN_TOKEN|PREVIEW_TOKEN|SOME_FUTURE_SECRET)=/m);
    // What the platform sets for the instance on purpose is still there.
    assert.match(seen, /^CUTOVER_RELEASE=v1$/m);
    assert.match(seen, /^CUTOVER_SLOT=green$/m);
    await platform.destroy('green');
  });
});
