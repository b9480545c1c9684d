import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { CutoverError } from '../shared/errors.js';
import { processExists } from '../shared/process-exists.js';
import { readServerInfo } from './server-info.js';

/** Who holds a state directory: written when a server starts, removed when it stops. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

const FILE = 'server.lock';

export interface ServerLock {
  /** Removes the lock file if it still names this process. Safe to call twice. */
  release(): void;
}

/**
 * One `cutover server` per state directory: taken (an exclusive create) before the store is
 * opened or anything recovered, so a second server never resumes the first one's runs. A lock
 * left by a process on this host that is gone (kill -9) is taken over; a live holder is named
 * in the refusal, with its admin URL.
 */
export function acquireServerLock(stateDir: string): ServerLock {
  const file = path.join(stateDir, FILE);
  mkdirSync(stateDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (tryCreate(file)) return lockFor(file);
    const owner = readOwner(file);
    if (owner !== undefined && !isGone(owner)) throw alreadyRunning(stateDir, file, owner);
    rmSync(file, { force: true }); // the holder died: take its place (one racer wins the create)
  }
  const owner = readOwner(file);
  throw alreadyRunning(stateDir, file, owner ?? { pid: 0, host: 'unknown', startedAt: '' });
}

function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    writeSync(fd, `${JSON.stringify(owner)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readOwner(file: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as LockOwner;
  } catch (error) {
    // A holder killed between create and write leaves an empty file: that holder is gone.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function isGone(owner: LockOwner): boolean {
  return owner.host === hostname() && owner.pid !== process.pid && !processExists(owner.pid);
}

function lockFor(file: string): ServerLock {
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}

function alreadyRunning(stateDir: string, file: string, owner: LockOwner): CutoverError {
  const info = readServerInfo(stateDir);
  const adminUrl = info?.pid === owner.pid ? info.adminUrl : undefined;
  const where = adminUrl ? `, admin ${adminUrl}` : '';
  return new CutoverError(
    'CUTOVER_E_SERVER_RUNNING',
    `another cutover server (pid ${owner.pid} on ${owner.host}${where}) runs on the state directory ${stateDir}; stop it first (or remove ${file} if that process is gone)`,
    { details: { pid: owner.pid, host: owner.host, adminUrl, stateDir } },
  );
}
