/**
 * Dashboard passwords (`cutover dashboard-password`): one scrypt hash per user in a JSON file of
 * mode 0600 in the state directory, written durably. Revoking a user deletes the line; the
 * server re-reads the file when it changes, so a revoked or changed password ends that user's
 * sessions at their next request.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { CutoverError } from '../shared/errors.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../shared/private-files.js';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const PASSWORD_FILE = 'dashboard-passwords.json';
/** scrypt cost: about 50 ms per check here, which also slows guessing. */
const COST = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;
/** User names end up in the audit log: letters, digits and . _ @ - only. */
export const USER_NAME = /^[\w.@-]{1,64}$/;

type Hashes = Record<string, string>;

export function passwordFilePath(stateDir: string): string {
  return path.join(stateDir, PASSWORD_FILE);
}

export function validUserName(user: string): boolean {
  return USER_NAME.test(user);
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordShape(password);
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: COST.maxmem,
  });
  return timingSafeEqual(key, expected);
}

function checkPasswordShape(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
    throw new CutoverError(
      'CUTOVER_E_USAGE',
      `a dashboard password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
}

export function readPasswordHashes(stateDir: string): Hashes {
  const file = passwordFilePath(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CutoverError('CUTOVER_E_STORE', `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CutoverError('CUTOVER_E_STORE', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (users === null || typeof users !== 'object' || Array.isArray(users))
    throw new CutoverError('CUTOVER_E_STORE', `${file} has no "users" object`);
  const hashes: Hashes = {};
  for (const [user, hash] of Object.entries(users as Record<string, unknown>)) {
    if (validUserName(user) && typeof hash === 'string') hashes[user] = hash;
  }
  return hashes;
}

function writeHashes(stateDir: string, hashes: Hashes): void {
  makePrivateDir(stateDir);
  writeFileAtomic(passwordFilePath(stateDir), `${JSON.stringify({ users: hashes }, null, 2)}\n`, {
    mode: PRIVATE_FILE_MODE,
  });
}

export async function setPassword(stateDir: string, user: string, password: string): Promise<void> {
  if (!validUserName(user))
    throw new CutoverError(
      'CUTOVER_E_USAGE',
      `user name ${JSON.stringify(user)} must match ${USER_NAME.source}`,
    );
  const hash = await hashPassword(password);
  writeHashes(stateDir, { ...readPasswordHashes(stateDir), [user]: hash });
}

/** True when the user had a password. */
export function revokePassword(stateDir: string, user: string): boolean {
  const hashes = readPasswordHashes(stateDir);
  if (!(user in hashes)) return false;
  delete hashes[user];
  writeHashes(stateDir, hashes);
  return true;
}

/** The hashes as the file holds them now, re-read only when its modification time or size changed. */
export class PasswordFileWatcher {
  private seen = '';
  private hashes: Hashes = {};

  constructor(private readonly stateDir: string) {}

  current(): Hashes {
    let stamp = 'missing';
    try {
      const stat = statSync(passwordFilePath(this.stateDir));
      stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stamp !== this.seen) {
      this.hashes = stamp === 'missing' ? {} : readPasswordHashes(this.stateDir);
      this.seen = stamp;
    }
    return this.hashes;
  }
}
