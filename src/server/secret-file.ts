/**
 * A secret cutover keeps in its state directory: one line in a file of mode 0600 (written
 * durably (shared/atomic-write.ts), the directory 0700 when cutover makes it), or taken from an
 * environment variable that overrides the file. Children never see either (shared/child-env.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { CutoverError } from '../shared/errors.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../shared/private-files.js';

export interface SecretFile {
  /** File name inside the state directory. */
  readonly file: string;
  /** Environment variable that overrides the file. */
  readonly env: string;
  /** What the secret is, for error messages ("admin token"). */
  readonly what: string;
}

export function secretPath(stateDir: string, secret: SecretFile): string {
  return path.join(stateDir, secret.file);
}

/** The stored secret; undefined when it was never made here. */
export function readSecret(stateDir: string, secret: SecretFile): string | undefined {
  const file = secretPath(stateDir, secret);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CutoverError(
      'CUTOVER_E_STORE',
      `cannot read the ${secret.what} ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** The secret from its environment variable, else the stored one, else a new random one stored 0600. */
export function loadOrCreateSecret(stateDir: string, secret: SecretFile): string {
  const fromEnv = process.env[secret.env];
  if (fromEnv) return fromEnv;
  const existing = readSecret(stateDir, secret);
  if (existing) return existing;
  makePrivateDir(stateDir);
  const token = randomBytes(32).toString('base64url');
  // Mode set with fchmod: the umask cannot widen it.
  writeFileAtomic(secretPath(stateDir, secret), `${token}\n`, { mode: PRIVATE_FILE_MODE });
  return token;
}
