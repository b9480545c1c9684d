import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { childEnv } from '../../src/shared/child-env.js';

const PARENT = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/deploy',
  CUTOVER_ADMIN_TOKEN: 'admin-1',
  CUTOVER_PREVIEW_TOKEN: 'preview-2',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE3',
  AWS_SECRET_ACCESS_KEY: 'secret-4',
  AWS_SESSION_TOKEN: 'session-5',
  AWS_SECURITY_TOKEN: 'security-6',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-7',
  SSH_AUTH_SOCK: '/tmp/ssh-agent.8',
  AWS_REGION: 'eu-west-3',
};

void test('no child inherits cutover tokens, AWS credentials or the SSH agent; the rest passes through', () => {
  const env = childEnv({}, PARENT);
  assert.deepEqual(env, { PATH: '/usr/bin:/bin', HOME: '/home/deploy', AWS_REGION: 'eu-west-3' });
});

void test('what the caller sets on purpose is kept, even a withheld name', () => {
  const env = childEnv({ CUTOVER_RELEASE: 'v2', SSH_AUTH_SOCK: '/run/deploy-agent' }, PARENT);
  assert.equal(env.CUTOVER_RELEASE, 'v2');
  assert.equal(env.SSH_AUTH_SOCK, '/run/deploy-agent');
  assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
});

void test('a real child process sees none of the withheld values', () => {
  const result = spawnSync('/bin/sh', ['-c', 'env'], { env: childEnv({}, { ...PARENT }), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  for (const secret of [
    'admin-1',
    'preview-2',
    'AKIAEXAMPLE3',
    'secret-4',
    'session-5',
    'security-6',
    'container-7',
    'ssh-agent.8',
  ]) {
    assert.doesNotMatch(result.stdout, new RegExp(secret), secret);
  }
  assert.match(result.stdout, /^AWS_REGION=eu-west-3$/m);
});
