/**
 * Files and folders only cutover's own user may read: the state directory (0700) and what it
 * holds (the store, its WAL, the admin and preview tokens: 0600). Modes are set with chmod
 * after creation, so a permissive umask (000) cannot widen them.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) mode 0700. A folder that already exists keeps its mode:
 * it may be shared with the app (stateDir: .), and it is the files in it that hold secrets.
 */
export function makePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // Every level mkdir made, from the first one down to `dir`.
  const target = path.resolve(dir);
  for (let level = target; ; level = path.dirname(level)) {
    chmodSync(level, PRIVATE_DIR_MODE);
    if (level === path.resolve(first) || level === path.dirname(level)) break;
  }
}

/** Creates `file` empty if it is missing, and makes it (new or not) mode 0600. */
export function makePrivateFile(file: string): void {
  const fd = openSync(file, 'a', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Mode 0600 for `file` if it exists (SQLite's -wal and -shm come and go). */
export function keepPrivateIfPresent(file: string): void {
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
