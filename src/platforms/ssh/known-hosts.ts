/**
 * OpenSSH known_hosts checking: plain (`host`, `[host]:port`, comma lists) and hashed
 * (`|1|salt|hmac`) entries. A host whose listed key differs from the one it shows, or that is
 * not listed at all, is refused: a changed key is never accepted silently.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CutoverError } from '../../shared/errors.js';

interface KnownHostEntry {
  readonly patterns: readonly string[];
  readonly keyType: string;
  readonly key: Buffer;
  readonly revoked: boolean;
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written at the start of an SSH public key blob (`ssh-ed25519` …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  if (length > 64 || 4 + length > key.length) return '';
  return key.subarray(4, 4 + length).toString('latin1');
}

/** Parses known_hosts text; lines that are not entries (comments, @cert-authority, junk) are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      if (fields[0] !== '@revoked') continue;
      revoked = true;
      fields.shift();
    }
    const [hosts, keyType, keyText] = fields;
    if (!hosts || !keyType || !keyText || !/^[A-Za-z0-9+/]+=*$/.test(keyText)) continue;
    const key = Buffer.from(keyText, 'base64');
    if (keyTypeOf(key) !== keyType) continue;
    entries.push({ patterns: hosts.split(','), keyType, key, revoked });
  }
  return entries;
}

/** The name a host is listed under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  if (pattern.startsWith('!')) return false;
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(name);
}

function negated(entry: KnownHostEntry, name: string): boolean {
  return entry.patterns.some((pattern) => pattern.startsWith('!') && patternMatches(pattern.slice(1), name));
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: 'changed' | 'unknown' | 'revoked' };

/** Checks the key a host showed against the entries listed for it. */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = knownHostName(host, port);
  const listed = entries.filter(
    (entry) => entry.patterns.some((pattern) => patternMatches(pattern, name)) && !negated(entry, name),
  );
  if (listed.some((entry) => entry.revoked && entry.key.equals(key))) return { ok: false, reason: 'revoked' };
  if (listed.some((entry) => !entry.revoked && entry.key.equals(key))) return { ok: true };
  // Any listed key for the host that is not this one means the key changed.
  return listed.some((entry) => !entry.revoked)
    ? { ok: false, reason: 'changed' }
    : { ok: false, reason: 'unknown' };
}

/** The error for a refused host key: names the host and the fingerprint it showed. */
export function hostKeyError(
  host: string,
  port: number,
  key: Buffer,
  reason: 'changed' | 'unknown' | 'revoked',
  file: string,
): CutoverError {
  const what = {
    changed: 'the host key CHANGED from the one in',
    unknown: 'the host is not listed in',
    revoked: 'the host key is revoked in',
  }[reason];
  return new CutoverError(
    'CUTOVER_E_SSH_HOST_KEY',
    `${knownHostName(host, port)}: ${what} ${file} (it showed ${keyTypeOf(key)} ${fingerprint(key)}); refusing to connect`,
    { details: { host, port, fingerprint: fingerprint(key), reason } },
  );
}

/** Reads the known_hosts file; a missing file lists nothing (so every host is refused). */
export async function loadKnownHosts(file: string): Promise<KnownHostEntry[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return parseKnownHosts(text);
}
