import { readFile, readdir, readlink } from 'node:fs/promises';
import { connect } from 'node:net';

/** LISTEN in the `st` column of /proc/net/tcp and tcp6. */
const TCP_LISTEN = '0A';
const PROC_NET_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/**
 * True when a process in the group led by `leaderPid` holds a listening TCP socket on `port`
 * (any address). Linux only: it reads /proc/net/tcp{,6} for the socket's inode and looks for that
 * inode among the group's open files. Owner, not merely "the port accepts": between cutover's free
 * port probe and the app's bind, another process can take the port, and then it accepts too.
 *
 * Returns undefined where /proc/net is not readable (not Linux); see portAccepts() for that case.
 */
export async function groupListensOn(leaderPid: number, port: number): Promise<boolean | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes === undefined) return undefined;
  if (inodes.size === 0) return false;
  // The leader first: most apps listen from the process cutover started.
  if (await holdsSocket(leaderPid, inodes)) return true;
  for (const pid of await groupMembers(leaderPid)) {
    if (pid !== leaderPid && (await holdsSocket(pid, inodes))) return true;
  }
  return false;
}

/** Whether a TCP connection to host:port is accepted (by anyone). */
export function portAccepts(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Inodes of the sockets listening on `port`; undefined when the tables cannot be read. */
async function listeningInodes(port: number): Promise<Set<string> | undefined> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  let readAny = false;
  for (const table of PROC_NET_TABLES) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue; // tcp6 is missing on kernels without IPv6
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (fields[3] !== TCP_LISTEN || local === undefined || fields[9] === undefined) continue;
      if (local.slice(local.lastIndexOf(':') + 1) === portHex) inodes.add(fields[9]);
    }
  }
  return readAny ? inodes : undefined;
}

async function holdsSocket(pid: number, inodes: ReadonlySet<string>): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // gone, or not ours to read
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    // "socket:[12345]"
    if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
  }
  return false;
}

/** Pids whose process group is `leaderPid` (field 5 of /proc/<pid>/stat). */
async function groupMembers(leaderPid: number): Promise<number[]> {
  const members: number[] = [];
  const group = String(leaderPid);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === group) members.push(Number(entry));
  }
  return members;
}
