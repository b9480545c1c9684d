/**
 * Helpers every real-daemon test harness shares: free ports, temp dirs, "is the binary
 * installed?", and spawning a daemon in the foreground with its own log file so teardown can
 * stop exactly the process (group) the test started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { reserveFreePorts } from '../../../src/platforms/process/free-port.js';
import type { RouterHarness } from '../../routers/contract.js';

/**
 * A TCP port that was free a moment ago on `host`. Taken below the kernel's ephemeral range,
 * because ports in that range are also handed to outgoing connections: a load test next door
 * can take one between this probe and the daemon's bind ("address already in use"). Falls back
 * to a kernel-chosen port where there is no room below the range. The process platform's own
 * port finder does the probing.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const lowestEphemeral = ephemeralRangeStart();
  const range =
    lowestEphemeral > STATIC_PORTS_FROM + 1000
      ? { from: STATIC_PORTS_FROM, to: lowestEphemeral - 1 }
      : undefined;
  const [port] = await reserveFreePorts(host, 1, range);
  if (port === undefined) throw new Error(`no free port on ${host}`);
  return port;
}

/** Where the range starts: above the ports well-known services use. */
const STATIC_PORTS_FROM = 20_000;

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const parsed = Number(low);
    return Number.isInteger(parsed) && parsed > 0 ? parsed : 32_768;
  } catch {
    return 32_768;
  }
}

/** A fresh directory under the OS temp dir; `removeTempDir` deletes it. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `cutover-${prefix}-`));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Absolute path of `bin`, or an error that names the install step. Tests call this in
 * `before()` so a missing daemon FAILS the file (never a silent skip).
 */
export function requireBinary(bin: string, debianPackage: string): string {
  const candidates = (process.env.PATH ?? '')
    .split(path.delimiter)
    .concat(['/usr/sbin', '/usr/local/sbin', '/sbin'])
    .map((dir) => path.join(dir, bin));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new Error(
      `${bin} not found: run \`bash scripts/install-test-deps.sh\` (or \`apt-get install -y ${debianPackage}\`)`,
    );
  }
  return found;
}

/** Runs a command to completion (for `nginx -t`-style checks in harnesses). */
export function runSync(command: string, args: readonly string[]): { status: number; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

export interface DaemonOptions {
  /** Shown in errors, e.g. "nginx". */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr of the daemon go here. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Polled until true; the daemon counts as started then. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

export interface Daemon {
  readonly pid: number;
  readonly logFile: string;
  /** True until the process has exited. */
  running(): boolean;
  /** Sends `signal` to the daemon's own process. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL to its process group after `graceMs`; resolves once it exited. Safe twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a daemon that stays in the foreground (nginx `daemon off`, haproxy `-db`/`-W`), in
 * its own process group so its workers are stopped with it. Fails with the log tail when it
 * exits early or is not ready in time.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    log.once('open', () => resolve());
    log.once('error', reject);
  });
  const child: ChildProcess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} did not start: ${options.command}`);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (exited) {
      log.end();
      throw new Error(`${options.name} exited during start-up:\n${await logTail(options.logFile)}`);
    }
    if (await options.ready()) break;
    if (Date.now() > deadline) {
      await stopChild(pid, exit, () => exited, 1000);
      log.end();
      throw new Error(`${options.name} was not ready in time:\n${await logTail(options.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    pid,
    logFile: options.logFile,
    running: () => !exited,
    signal: (signal) => {
      if (!exited) process.kill(pid, signal);
    },
    stop: async (graceMs = 5000) => {
      await stopChild(pid, exit, () => exited, graceMs);
      log.end();
    },
  };
}

/** The daemon a router harness drives; see startHarnessDaemon. */
export interface HarnessDaemon {
  /** The running daemon, or undefined while it is stopped. */
  current: () => Daemon | undefined;
  /** Starts it again; `overrides` change the options for this start only. */
  start: (overrides?: Partial<DaemonOptions>) => Promise<void>;
  /** Stops it (see Daemon.stop); nothing to do when it is stopped. */
  stop: () => Promise<void>;
  /** RouterHarness's daemon controls, with a teardown that also deletes the harness's temp dir. */
  controls: Pick<RouterHarness, 'startDaemon' | 'stopDaemon' | 'restartDaemon' | 'teardown'>;
}

/**
 * Starts a harness's daemon (see startDaemon) and keeps it stoppable and restartable with the
 * same options, as the router contract's restart cases need of every real-daemon harness.
 * `stopGraceMs` is how long a stop waits after SIGTERM before SIGKILL (Daemon.stop's default
 * when omitted); `tempDir` is removed by the teardown, after the daemon stopped.
 */
export async function startHarnessDaemon(
  options: DaemonOptions,
  { tempDir, stopGraceMs }: { tempDir: string; stopGraceMs?: number },
): Promise<HarnessDaemon> {
  let daemon: Daemon | undefined;
  const start = async (overrides: Partial<DaemonOptions> = {}) => {
    daemon = await startDaemon({ ...options, ...overrides });
  };
  const stop = async () => {
    await daemon?.stop(stopGraceMs);
    daemon = undefined;
  };
  await start();
  return {
    current: () => daemon,
    start,
    stop,
    controls: {
      startDaemon: () => start(),
      stopDaemon: stop,
      restartDaemon: async () => {
        await stop();
        await start();
      },
      teardown: async () => {
        await stop();
        await removeTempDir(tempDir);
      },
    },
  };
}

async function stopChild(
  pid: number,
  exit: Promise<void>,
  exited: () => boolean,
  graceMs: number,
): Promise<void> {
  if (exited()) return;
  process.kill(pid, 'SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs));
  if ((await Promise.race([exit, timer])) === 'timeout' && !exited()) {
    // Only the group this test started (detached: true made the daemon its leader).
    process.kill(-pid, 'SIGKILL');
    await exit;
  }
}

/** The last lines of a log file, for error messages. */
export async function logTail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => `(no log: ${String(error)})`);
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** True when something accepts TCP connections on host:port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
