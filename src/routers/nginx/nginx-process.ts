/**
 * What cutover can learn about a running nginx without its Plus API: the master pid (pid file),
 * its worker processes and when they started (/proc), and whether a reload has finished.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { processExists } from '../../shared/process-exists.js';

export interface NginxWorker {
  readonly pid: number;
  /** "worker process is shutting down" after a reload or quit signal. */
  readonly shuttingDown: boolean;
  /** Start time, ms since the epoch (10 ms resolution). */
  readonly startedAtMs: number;
}

export async function readMasterPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && processExists(pid) ? pid : undefined;
}

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux nginx runs on in practice. */
const CLOCK_TICKS = 100;

/**
 * nginx worker processes whose parent is `masterPid` (cache manager/loader are left out).
 * Synchronous on purpose: /proc reads never block on a disk, and a busy event loop (cutover
 * serving traffic) would otherwise stretch a scan of a few hundred tiny files to seconds.
 */
export function listWorkers(masterPid: number): NginxWorker[] {
  const bootMs = bootTimeMs();
  const workers: NginxWorker[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    if (stat === undefined) continue; // exited between readdir and read
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== masterPid) continue;
    const title = (readProc(`/proc/${entry}/cmdline`) ?? '').replace(/\0/g, ' ').trim();
    if (!title.includes('worker process')) continue;
    workers.push({
      pid: Number(entry),
      shuttingDown: title.includes('shutting down'),
      startedAtMs: bootMs + (Number(fields[19]) * 1000) / CLOCK_TICKS,
    });
  }
  return workers;
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ESRCH'
    ) {
      return undefined;
    }
    throw error;
  }
}

/** Boot instant from /proc/uptime (10 ms resolution; /proc/stat's btime has only seconds). */
function bootTimeMs(): number {
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - uptime * 1000;
}

/**
 * The `-p` prefix a running master was started with, read from its process title
 * ("nginx: master process /usr/sbin/nginx -p /srv/app -c …"); undefined when it has none or is
 * gone. The title joins arguments with spaces, so a prefix containing one cannot be told
 * apart: set the router's `prefix` for that.
 */
export function masterPrefix(masterPid: number): string | undefined {
  const title = readProc(`/proc/${masterPid}/cmdline`);
  if (title === undefined) return undefined;
  const words = title.replace(/\0/g, ' ').trim().split(/\s+/);
  const start = words.indexOf('process');
  for (let i = start + 1; i > 0 && i < words.length; i++) {
    const word = words[i]!;
    if (word === '-p' && words[i + 1] !== undefined) return words[i + 1];
    if (word.startsWith('-p') && word.length > 2) return word.slice(2);
  }
  return undefined;
}

/** The `pid` directive of a main config, resolved against nginx's default when absent. */
export function pidFileFromConfig(configText: string): string | undefined {
  const match = /^\s*pid\s+([^;\s]+)\s*;/m.exec(configText);
  return match?.[1];
}
