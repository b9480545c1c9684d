/**
 * The dashboard's security rules against a real `cutover server`, spoken to over HTTP the way a
 * browser (or an attacker) would: cookie flags, CSRF and Origin refusals, the CSP on every
 * response, the token never in a URL or log, password logins that a revoke ends, and hostile
 * input that ends one exchange with a stable code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { passwordFilePath } from '../../src/dashboard/password-file.js';
import type { CutoverHarness } from '../e2e/harness.js';
import { csrfTokenOf, logIn, startDashboardServer } from './dashboard-server.js';

describe('dashboard security', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await startDashboardServer();
  });
  after(async () => {
    await harness?.teardown();
  });

  const post = (route: string, headers: Record<string, string>, body = '{}'): Promise<Response> =>
    fetch(`${harness.adminUrl}${route}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/, without Secure over plain HTTP', async () => {
    const login = await logIn(harness, 'carol', harness.token());
    assert.equal(login.status, 303);
    assert.equal(login.location, '/');
    const flags = login.setCookie!.split(';').map((part) => part.trim());
    assert.ok(flags.includes('HttpOnly'));
    assert.ok(flags.includes('SameSite=Strict'));
    assert.ok(flags.includes('Path=/'));
    assert.ok(!flags.includes('Secure'), 'Secure would stop the browser sending it back over http://');
  });

  it('refuses a session POST without the CSRF token, or with a wrong one', async () => {
    const { cookie } = await logIn(harness, 'carol', harness.token());
    for (const headers of [{}, { 'x-csrf-token': 'not-the-token' }] as Array<Record<string, string>>) {
      const response = await post('/v1/abort', { cookie: cookie!, origin: harness.adminUrl, ...headers });
      assert.equal(response.status, 403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'CUTOVER_E_FORBIDDEN');
      assert.match(body.error.message, /CSRF/);
    }
  });

  it('refuses a session POST from another origin, a missing Origin, or Origin: null — even with the CSRF token', async () => {
    const { cookie } = await logIn(harness, 'carol', harness.token());
    const csrf = await csrfTokenOf(harness, cookie!);
    const port = new URL(harness.adminUrl).port;
    for (const origin of [`http://127.0.0.1:${Number(port) + 1}`, 'null', 'http://evil.example', undefined]) {
      const headers: Record<string, string> = { cookie: cookie!, 'x-csrf-token': csrf };
      if (origin !== undefined) headers.origin = origin;
      const response = await post('/v1/abort', headers);
      assert.equal(response.status, 403, `origin ${origin}`);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /origin/i);
    }
    // With both right, the request reaches the admin API (nothing to abort: 404 or 409, not 403).
    const allowed = await post('/v1/abort', {
      cookie: cookie!,
      'x-csrf-token': csrf,
      origin: harness.adminUrl,
    });
    assert.notEqual(allowed.status, 403);
    assert.equal(
      ((await allowed.json()) as { error: { code: string } }).error.code.startsWith('CUTOVER_E_'),
      true,
    );
  });

  it('refuses a login posted from another origin, and one whose Host is not this listener (DNS rebinding)', async () => {
    const foreign = await fetch(`${harness.adminUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: new URLSearchParams({ user: 'mallory', secret: harness.token() }).toString(),
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('set-cookie'), null);
    const rebound = await rawRequest(
      harness,
      [
        'POST /login HTTP/1.1',
        'Host: evil.example:' + new URL(harness.adminUrl).port,
        'Origin: http://evil.example:' + new URL(harness.adminUrl).port,
        'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${`user=m&secret=${harness.token()}`.length}`,
        'Connection: close',
        '',
        `user=m&secret=${harness.token()}`,
      ].join('\r\n'),
    );
    assert.match(rebound, /^HTTP\/1\.1 403/);
    assert.doesNotMatch(rebound, /set-cookie/i);
  });

  it('puts a strict Content-Security-Policy on every response, the admin API and errors included', async () => {
    const { cookie } = await logIn(harness, 'carol', harness.token());
    const responses = await Promise.all([
      fetch(`${harness.adminUrl}/login`),
      fetch(`${harness.adminUrl}/`, { headers: { cookie: cookie! } }),
      fetch(`${harness.adminUrl}/assets/app.js`),
      fetch(`${harness.adminUrl}/assets/nope.js`),
      fetch(`${harness.adminUrl}/v1/status`, { headers: { authorization: `Bearer ${harness.token()}` } }),
      fetch(`${harness.adminUrl}/v1/status`),
      fetch(`${harness.adminUrl}/no/such/thing`),
    ]);
    for (const response of responses) {
      await response.arrayBuffer();
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/, response.url);
      assert.match(csp, /script-src 'self'(;|$)/, response.url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, response.url);
      assert.match(csp, /frame-ancestors 'none'/, response.url);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    }
    // The page holds no inline script for the policy to have to allow.
    const html = await (await fetch(`${harness.adminUrl}/`, { headers: { cookie: cookie! } })).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('never puts the admin token in a URL or a log line, even after a failed login', async () => {
    const token = harness.token();
    const bad = await logIn(harness, 'carol', `${token}x`);
    assert.equal(bad.status, 401);
    const good = await logIn(harness, 'carol', token);
    assert.ok(!good.location?.includes(token));
    const html = await (await fetch(`${harness.adminUrl}/`, { headers: { cookie: good.cookie! } })).text();
    assert.ok(!html.includes(token), 'the page does not hold the token');
    const asset = await (await fetch(`${harness.adminUrl}/assets/app.js`)).text();
    assert.doesNotMatch(asset, /Bearer/, 'the page never builds an Authorization header');
    assert.match(harness.serverLog, /dashboard\.login-failed/);
    assert.ok(!harness.serverLog.includes(token), 'the token is in the server log');
    assert.ok(!harness.serverLog.includes(token.slice(0, 20)), 'part of the token is in the server log');
  });

  it('logs in with a dashboard password (scrypt, 0600 file); a revoke ends the open session', async () => {
    const password = 'correct horse battery staple';
    const set = await harness.cli(['dashboard-password', 'dave'], {});
    assert.notEqual(set.code, 0, 'no password on stdin is a usage error');
    const child = await runWithStdin(harness, ['dashboard-password', 'dave'], `${password}\n`);
    assert.equal(child.code, 0, child.stderr);
    const file = passwordFilePath(harness.stateDir);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = readFileSync(file, 'utf8');
    assert.ok(!stored.includes(password));
    assert.match(stored, /"dave": "scrypt\$/);

    assert.equal((await logIn(harness, 'dave', 'wrong password!!')).status, 401);
    const login = await logIn(harness, 'dave', password);
    assert.equal(login.status, 303);
    const status = await fetch(`${harness.adminUrl}/v1/status`, { headers: { cookie: login.cookie! } });
    assert.equal(status.status, 200);
    await status.arrayBuffer();

    const revoked = await harness.cli(['dashboard-password', 'dave', '--revoke']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await fetch(`${harness.adminUrl}/v1/status`, { headers: { cookie: login.cookie! } });
    assert.equal(after.status, 401, 'the revoked session no longer reaches the admin API');
    await after.arrayBuffer();
    assert.equal((await logIn(harness, 'dave', password)).status, 401);
  });

  it('ends hostile requests with a stable code and keeps serving', async () => {
    const { cookie } = await logIn(harness, 'carol', harness.token());
    const csrf = await csrfTokenOf(harness, cookie!);
    const session = { cookie: cookie!, 'x-csrf-token': csrf, origin: harness.adminUrl };
    // Oversized and malformed bodies through the session path.
    const huge = await post('/v1/deployments', session, JSON.stringify({ release: 'x'.repeat(100_000) }));
    assert.equal(huge.status, 400);
    assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'CUTOVER_E_BAD_REQUEST');
    const malformed = await post('/v1/deployments', session, '{"release":');
    assert.equal(malformed.status, 400);
    await malformed.arrayBuffer();
    // An oversized login form, a form that is not form-encoded, a login with an invalid name.
    const bigForm = await fetch(`${harness.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: harness.adminUrl },
      body: `user=a&secret=${'s'.repeat(20_000)}`,
    });
    assert.equal(bigForm.status, 400);
    await bigForm.arrayBuffer();
    const jsonLogin = await fetch(`${harness.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: harness.adminUrl },
      body: '{}',
    });
    assert.equal(jsonLogin.status, 400);
    await jsonLogin.arrayBuffer();
    assert.equal((await logIn(harness, '<script>', harness.token())).status, 401);
    // A session may not reach what the dashboard does not use (the metrics, the log follow).
    const metrics = await fetch(`${harness.adminUrl}/metrics`, { headers: { cookie: cookie! } });
    assert.equal(metrics.status, 401);
    await metrics.arrayBuffer();
    // Garbage cookies and a stream without a session.
    const garbage = await fetch(`${harness.adminUrl}/v1/status`, {
      headers: { cookie: `cutover_session=${'%'.repeat(9000)}` },
    });
    assert.equal(garbage.status, 401);
    await garbage.arrayBuffer();
    const stream = await fetch(`${harness.adminUrl}/dashboard/stream`);
    assert.equal(stream.status, 401);
    await stream.arrayBuffer();
    // A client that opens the stream and resets the connection does not take the server down.
    await rawRequest(
      harness,
      `GET /dashboard/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n`,
      true,
    );
    const still = await fetch(`${harness.adminUrl}/v1/status`, { headers: { cookie: cookie! } });
    assert.equal(still.status, 200);
    await still.arrayBuffer();
  });

  it('streams a snapshot and engine events to a session', async () => {
    const { cookie } = await logIn(harness, 'carol', harness.token());
    const controller = new AbortController();
    const response = await fetch(`${harness.adminUrl}/dashboard/stream`, {
      headers: { cookie: cookie! },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!/event: snapshot/.test(text) || !/event: metrics/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)![1]!) as {
      user: string;
      status: { routing: { liveSlot: string } };
      releases: string[];
    };
    assert.equal(snapshot.user, 'carol');
    assert.ok(snapshot.releases.includes('v1'));
    assert.ok(!text.includes(harness.token()));
  });
});

/** Sends raw bytes; returns what came back (or, with `reset`, destroys the socket after the first bytes). */
function rawRequest(harness: CutoverHarness, request: string, reset = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(harness.adminUrl).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (reset) {
        socket.resetAndDestroy();
        resolve(answer);
      }
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}

async function runWithStdin(
  harness: CutoverHarness,
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), cli, ...args, '-c', harness.configFile],
      {
        cwd: harness.dir,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}
