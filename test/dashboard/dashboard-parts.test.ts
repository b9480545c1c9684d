import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sessionMayUse } from '../../src/dashboard/admin-forward.js';
import { readAdminTls } from '../../src/dashboard/admin-tls.js';
import { readCookie, sessionCookie } from '../../src/dashboard/cookies.js';
import { LoginThrottle } from '../../src/dashboard/login-throttle.js';
import {
  hashPassword,
  passwordFilePath,
  passwordMatches,
  PasswordFileWatcher,
  readPasswordHashes,
  revokePassword,
  setPassword,
} from '../../src/dashboard/password-file.js';
import { ownOrigin, sameOrigin } from '../../src/dashboard/request-origin.js';
import { csrfTokenMatches, SESSION_LIFETIME_MS, SessionTable } from '../../src/dashboard/sessions.js';

const request = (headers: Record<string, string>): IncomingMessage =>
  ({ headers }) as unknown as IncomingMessage;
const loopback = { port: 8081, tls: false, allowRemote: false };

describe('dashboard parts', () => {
  it('takes the origin from a Host header that names this listener, on loopback unless allowRemote', () => {
    assert.equal(ownOrigin(request({ host: '127.0.0.1:8081' }), loopback), 'http://127.0.0.1:8081');
    assert.equal(ownOrigin(request({ host: 'localhost:8081' }), loopback), 'http://localhost:8081');
    assert.equal(ownOrigin(request({ host: '[::1]:8081' }), loopback), 'http://[::1]:8081');
    assert.equal(ownOrigin(request({ host: '127.0.0.1:8082' }), loopback), undefined, 'another port');
    assert.equal(ownOrigin(request({ host: 'evil.example:8081' }), loopback), undefined, 'DNS rebinding');
    assert.equal(ownOrigin(request({ host: 'a b:8081' }), loopback), undefined, 'malformed');
    assert.equal(ownOrigin(request({ host: `${'a'.repeat(300)}:8081` }), loopback), undefined, 'oversized');
    assert.equal(ownOrigin(request({}), loopback), undefined);
    const remote = { ...loopback, allowRemote: true };
    assert.equal(ownOrigin(request({ host: 'deploy.example:8081' }), remote), 'http://deploy.example:8081');
    assert.equal(
      ownOrigin(request({ host: 'deploy.example' }), { port: 443, tls: true, allowRemote: true }),
      'https://deploy.example',
    );
  });

  it('accepts a state change only with the exact own origin', () => {
    const host = { host: '127.0.0.1:8081' };
    assert.equal(sameOrigin(request({ ...host, origin: 'http://127.0.0.1:8081' }), loopback), true);
    for (const origin of [
      'null',
      'http://127.0.0.1:8082',
      'https://127.0.0.1:8081',
      'http://localhost:8081',
      '',
    ])
      assert.equal(sameOrigin(request({ ...host, origin }), loopback), false, origin);
    assert.equal(sameOrigin(request(host), loopback), false, 'no Origin header');
  });

  it('reads the session cookie among others and ignores malformed or oversized headers', () => {
    assert.equal(readCookie(request({ cookie: 'a=1; cutover_session=abc; b=2' }), 'cutover_session'), 'abc');
    assert.equal(readCookie(request({ cookie: 'cutover_sessionx=abc' }), 'cutover_session'), undefined);
    assert.equal(readCookie(request({ cookie: 'garbage' }), 'cutover_session'), undefined);
    assert.equal(
      readCookie(request({ cookie: `cutover_session=${'a'.repeat(9000)}` }), 'cutover_session'),
      undefined,
    );
    assert.match(sessionCookie('x', { secure: true, maxAgeSeconds: 5 }), /; Secure$/);
  });

  it('expires sessions, compares CSRF tokens exactly, and bounds the table', () => {
    let now = 0;
    const table = new SessionTable(() => now);
    const session = table.create('alice', { kind: 'admin-token' });
    assert.equal(table.find(session.id)?.user, 'alice');
    assert.equal(csrfTokenMatches(session, session.csrfToken), true);
    assert.equal(csrfTokenMatches(session, `${session.csrfToken}x`), false);
    assert.equal(csrfTokenMatches(session, undefined), false);
    assert.equal(table.find('nope'), undefined);
    now = SESSION_LIFETIME_MS;
    assert.equal(table.find(session.id), undefined);
    const first = table.create('a', { kind: 'admin-token' });
    for (let index = 0; index < 1000; index += 1) table.create('b', { kind: 'admin-token' });
    assert.equal(table.find(first.id), undefined, 'the oldest session went when the table was full');
  });

  it('stores passwords as scrypt hashes in a 0600 file; wrong, empty or oversized passwords do not match', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-dashboard-'));
    try {
      await assert.rejects(setPassword(dir, 'alice', 'short'), /12 to 1024/);
      await assert.rejects(setPassword(dir, 'bad name', 'long enough password'), /must match/);
      await setPassword(dir, 'alice', 'long enough password');
      assert.equal(statSync(passwordFilePath(dir)).mode & 0o777, 0o600);
      const hash = readPasswordHashes(dir).alice!;
      assert.match(hash, /^scrypt\$32768\$8\$1\$/);
      assert.equal(await passwordMatches('long enough password', hash), true);
      assert.equal(await passwordMatches('long enough passworD', hash), false);
      assert.equal(await passwordMatches('', hash), false);
      assert.equal(await passwordMatches('x'.repeat(5000), hash), false);
      assert.equal(await passwordMatches('long enough password', 'md5$whatever'), false);
      assert.notEqual(await hashPassword('long enough password'), hash, 'salted');
      const watcher = new PasswordFileWatcher(dir);
      assert.ok(watcher.current().alice);
      assert.equal(revokePassword(dir, 'alice'), true);
      assert.equal(revokePassword(dir, 'alice'), false);
      assert.equal(watcher.current().alice, undefined, 'the watcher sees the revoke');
      writeFileSync(passwordFilePath(dir), '{not json');
      assert.throws(() => readPasswordHashes(dir), /CUTOVER_E_STORE|not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throttles an address after repeated failed logins, for a minute', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let index = 0; index < 10; index += 1) {
      assert.equal(throttle.allows('a'), true);
      throttle.failed('a');
    }
    assert.equal(throttle.allows('a'), false);
    assert.equal(throttle.allows('b'), true);
    now = 61_000;
    assert.equal(throttle.allows('a'), true);
  });

  it('names the file and key when an admin.tls file cannot be read', () => {
    const config = {
      file: '/etc/app/cutover.yml',
      baseDir: '/nonexistent-dir',
      admin: {
        listen: { host: '127.0.0.1', port: 1 },
        allowRemote: false,
        tls: { cert: 'a.crt', key: 'a.key' },
      },
    };
    assert.throws(
      () => readAdminTls(config),
      (error: Error & { code?: string }) =>
        error.code === 'CUTOVER_E_CONFIG' &&
        /cutover\.yml: admin\.tls\.cert: cannot read \/nonexistent-dir\/a\.crt/.test(error.message),
    );
    assert.equal(readAdminTls({ ...config, admin: { ...config.admin, tls: undefined } }), undefined);
  });

  it('lets a session use only the admin routes the page needs', () => {
    assert.equal(sessionMayUse('GET', '/v1/status'), true);
    assert.equal(sessionMayUse('POST', '/v1/deployments/d-1/promote'), true);
    assert.equal(sessionMayUse('POST', '/v1/rollback'), true);
    assert.equal(sessionMayUse('GET', '/metrics'), false);
    assert.equal(sessionMayUse('GET', '/v1/logs/follow'), false);
    assert.equal(sessionMayUse('DELETE', '/v1/deployments'), false);
    assert.equal(sessionMayUse('POST', '/v1/status'), false);
  });
});
