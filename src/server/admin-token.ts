import { timingSafeEqual } from 'node:crypto';
import { loadOrCreateSecret, readSecret, secretPath, type SecretFile } from './secret-file.js';

export const TOKEN_FILE = 'admin-token';

const ADMIN_TOKEN: SecretFile = { file: TOKEN_FILE, env: 'CUTOVER_ADMIN_TOKEN', what: 'admin token' };

export function tokenPath(stateDir: string): string {
  return secretPath(stateDir, ADMIN_TOKEN);
}

/** Reads the admin token; undefined when the server has never started here. */
export function readAdminToken(stateDir: string): string | undefined {
  return readSecret(stateDir, ADMIN_TOKEN);
}

/** The token from CUTOVER_ADMIN_TOKEN, else the stored one, else a new one written with mode 0600. */
export function loadOrCreateAdminToken(stateDir: string): string {
  return loadOrCreateSecret(stateDir, ADMIN_TOKEN);
}

/** Constant-time comparison of an `Authorization: Bearer …` header with the token. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
