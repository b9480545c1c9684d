// known_hosts parsing and checking: plain, [host]:port and hashed entries, changed and unknown
// keys, and hostile input (junk lines, huge lines, bad base64) that must never throw.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isCutoverError } from '../../../src/shared/errors.js';
import {
  checkHostKey,
  fingerprint,
  hostKeyError,
  keyTypeOf,
  knownHostName,
  parseKnownHosts,
} from '../../../src/platforms/ssh/known-hosts.js';

/** An ssh-ed25519 public key blob (string "ssh-ed25519", string key). */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
  return Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

void test('A listed key is accepted; another key for the same host is a change', () => {
  const key = ed25519Blob();
  const entries = parseKnownHosts(`10.0.0.2 ssh-ed25519 ${key.toString('base64')}\n`);
  assert.deepEqual(checkHostKey(entries, '10.0.0.2', 22, key), { ok: true });
  assert.deepEqual(checkHostKey(entries, '10.0.0.2', 22, ed25519Blob()), { ok: false, reason: 'changed' });
  assert.deepEqual(checkHostKey(entries, '10.0.0.3', 22, key), { ok: false, reason: 'unknown' });
});

void test('A non-default port is listed as [host]:port, and only matches that port', () => {
  const key = ed25519Blob();
  const entries = parseKnownHosts(`[web1.example]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
  assert.equal(knownHostName('web1.example', 2222), '[web1.example]:2222');
  assert.deepEqual(checkHostKey(entries, 'web1.example', 2222, key), { ok: true });
  assert.deepEqual(checkHostKey(entries, 'web1.example', 22, key), { ok: false, reason: 'unknown' });
});

void test('Hashed entries (HashKnownHosts), comma lists, wildcards and negations match as in OpenSSH', () => {
  const key = ed25519Blob();
  const text = [
    `${hashed('10.1.1.5')} ssh-ed25519 ${key.toString('base64')}`,
    `a.example,b.example ssh-ed25519 ${key.toString('base64')}`,
    `*.fleet.example,!bad.fleet.example ssh-ed25519 ${key.toString('base64')}`,
  ].join('\n');
  const entries = parseKnownHosts(text);
  assert.deepEqual(checkHostKey(entries, '10.1.1.5', 22, key), { ok: true });
  assert.deepEqual(checkHostKey(entries, 'b.example', 22, key), { ok: true });
  assert.deepEqual(checkHostKey(entries, 'web3.fleet.example', 22, key), { ok: true });
  assert.deepEqual(checkHostKey(entries, 'bad.fleet.example', 22, key), { ok: false, reason: 'unknown' });
});

void test('A revoked key is refused even when also listed', () => {
  const key = ed25519Blob();
  const b64 = key.toString('base64');
  const entries = parseKnownHosts(`@revoked * ssh-ed25519 ${b64}\nh1 ssh-ed25519 ${b64}\n`);
  assert.deepEqual(checkHostKey(entries, 'h1', 22, key), { ok: false, reason: 'revoked' });
});

void test('Hostile known_hosts text: junk, bad base64, a type that does not match the blob, huge lines; never throws', () => {
  const key = ed25519Blob();
  const text = [
    '# comment',
    'garbage',
    'h1 ssh-ed25519 !!!notbase64!!!',
    `h1 ssh-rsa ${key.toString('base64')}`,
    `h1 ssh-ed25519 ${'A'.repeat(1_000_000)}`,
    '@cert-authority * ssh-ed25519 AAAA',
    `|1|||| ssh-ed25519 ${key.toString('base64')}`,
    '\u0000\u0001\u0002',
  ].join('\n');
  const entries = parseKnownHosts(text);
  assert.deepEqual(checkHostKey(entries, 'h1', 22, key), { ok: false, reason: 'unknown' });
  assert.equal(keyTypeOf(Buffer.from([0xff, 0xff, 0xff, 0xff])), '');
  assert.equal(keyTypeOf(Buffer.alloc(2)), '');
});

void test('The refusal names the host, the file and the SHA256 fingerprint as ssh-keygen -l prints it', () => {
  const key = ed25519Blob();
  const error = hostKeyError('10.0.0.2', 2222, key, 'changed', '/home/ci/.ssh/known_hosts');
  assert.ok(isCutoverError(error, 'CUTOVER_E_SSH_HOST_KEY'));
  assert.match(error.message, /\[10\.0\.0\.2\]:2222/);
  assert.match(error.message, /CHANGED/);
  assert.ok(error.message.includes(fingerprint(key)));
  assert.match(fingerprint(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
});
