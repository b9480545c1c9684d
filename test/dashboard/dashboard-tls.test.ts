/**
 * `admin.tls`: the admin listener serves HTTPS with the configured PEM files; the dashboard's
 * session cookie is then Secure and the Origin it expects is the https one. The certificate is
 * made by openssl for this run (installed by scripts/install-test-deps.sh).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from '../e2e/harness.js';
import { makeCertificate } from '../proxy/support/certificate.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('dashboard over TLS (admin.tls)', () => {
  let harness: CutoverHarness;
  let ca: Buffer;
  let port: number;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} }, instances: 1 });
    // Self-signed for 127.0.0.1; fails naming the install step when openssl is missing.
    const { cert } = makeCertificate(harness.dir);
    ca = readFileSync(cert);
    const config = readFileSync(harness.configFile, 'utf8').replace(
      /^admin:\n/m,
      'admin:\n  tls: { cert: cert.pem, key: key.pem }\n',
    );
    writeFileSync(harness.configFile, config);
    port = harness.adminPort;
    await harness.startServer();
  });
  after(async () => {
    await harness?.teardown();
  });

  const request = (
    method: string,
    route: string,
    headers: Record<string, string> = {},
    body = '',
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const outgoing = https.request(
        { host: '127.0.0.1', port, path: route, method, ca, headers },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  it('serves the login page over HTTPS and records an https admin URL', async () => {
    const page = await request('GET', '/login');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    const info = JSON.parse(readFileSync(path.join(harness.stateDir, 'server.json'), 'utf8')) as {
      adminUrl: string;
    };
    assert.equal(info.adminUrl, `https://127.0.0.1:${port}`);
  });

  it('marks the session cookie Secure and expects the https Origin', async () => {
    const form = new URLSearchParams({ user: 'erin', secret: harness.token() }).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const plainOrigin = await request(
      'POST',
      '/login',
      { ...formHeaders, origin: `http://127.0.0.1:${port}` },
      form,
    );
    assert.equal(plainOrigin.status, 403);
    const login = await request(
      'POST',
      '/login',
      { ...formHeaders, origin: `https://127.0.0.1:${port}` },
      form,
    );
    assert.equal(login.status, 303);
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /HttpOnly/);
    const status = await request('GET', '/v1/status', { cookie: cookie.split(';')[0]! });
    assert.equal(status.status, 200);
  });

  it('answers the CLI over HTTPS when it trusts the certificate (NODE_EXTRA_CA_CERTS)', async () => {
    const result = await harness.cli(['status', '--json'], {
      NODE_EXTRA_CA_CERTS: path.join(harness.dir, 'cert.pem'),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { app: string }).app, 'e2e');
  });
});
