import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../shared/atomic-write.js';

/** Written by a running `cutover server` so the CLI finds it (ports may be chosen at run time). */
export interface ServerInfo {
  readonly pid: number;
  readonly adminUrl: string;
  readonly trafficUrl: string | undefined;
  readonly previewUrl: string | undefined;
  readonly startedAt: string;
}

const FILE = 'server.json';

export function writeServerInfo(stateDir: string, info: ServerInfo): void {
  writeFileAtomic(path.join(stateDir, FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readServerInfo(stateDir: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, FILE), 'utf8')) as ServerInfo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes the file only if it still describes this process (a newer server may have replaced it). */
export function removeServerInfo(stateDir: string, pid: number): void {
  const info = readServerInfo(stateDir);
  if (info?.pid === pid) rmSync(path.join(stateDir, FILE), { force: true });
}
