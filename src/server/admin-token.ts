import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { CutoverError } from '../core/errors.js';

export const TOKEN_FILE = 'admin-token';

export function tokenPath(stateDir: string): string {
  return path.join(stateDir, TOKEN_FILE);
}

/** Reads the admin token; undefined when the server has never started here. */
export function readAdminToken(stateDir: string): string | undefined {
  try {
    return readFileSync(tokenPath(stateDir), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CutoverError(
      'CUTOVER_E_STORE',
      `cannot read the admin token ${tokenPath(stateDir)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The token from CUTOVER_ADMIN_TOKEN, else the stored one, else a new one written with mode 0600. */
export function loadOrCreateAdminToken(stateDir: string): string {
  const fromEnv = process.env.CUTOVER_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const existing = readAdminToken(stateDir);
  if (existing) return existing;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const file = tokenPath(stateDir);
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return token;
}

/** Constant-time comparison of an `Authorization: Bearer …` header with the token. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
