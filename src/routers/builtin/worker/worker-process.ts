/**
 * One proxy worker seen from a control plane: its control connection (protocol.ts), and the
 * child process with its IPC channel when this control plane started it. A worker started by
 * another worker, or adopted from a control plane that is gone, has only its control socket.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../../../shared/errors.js';
import { childEnv } from '../../../shared/child-env.js';
import type { ListenerRole } from '../../../proxy/proxy-server.js';
import type { BuiltinRouterConfig } from '../config.js';
import { ControlClient } from './control-client.js';
import type { FromWorker, ToWorker } from './ipc.js';
import type { ForkAnswer, HelloAnswer, WorkerCountsReport, ShadowEvent } from './protocol.js';

/** A worker that is not ready within this (control socket open) is killed. */
const START_TIMEOUT_MS = 20_000;

export interface WorkerSettings {
  /** Owner-only directory for the control sockets. */
  readonly socketDir: string;
  readonly config: BuiltinRouterConfig;
  readonly previewToken: string;
  readonly onMetrics: (event: WorkerCountsReport) => void;
  /** Shadow comparison counts and samples (`mirror.compare`). */
  readonly onShadow?: (event: ShadowEvent) => void;
}

/**
 * The worker entry next to this file: worker-main.ts when cutover runs from source (under tsx,
 * so the child gets the same loader), worker-main.js in the built package.
 */
export function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return {
      file: path.join(path.dirname(here), 'worker-main.ts'),
      execArgv: ['--import', import.meta.resolve('tsx')],
    };
  }
  return { file: path.join(path.dirname(here), 'worker-main.js'), execArgv: [] };
}

function newSocketPath(socketDir: string): string {
  // Named by the starter, not the pid: the path is known before the process exists.
  return path.join(socketDir, `worker-${randomBytes(6).toString('hex')}.sock`);
}

export class WorkerProcess {
  private goneListeners: Array<() => void> = [];
  private gone = false;
  private retiring = false;
  private detached = false;

  private constructor(
    readonly control: ControlClient,
    readonly hello: HelloAnswer,
    private readonly child: ChildProcess | undefined,
  ) {
    // A worker whose control connection breaks or hangs cannot be steered: it is killed (and
    // replaced by the pool). A retiring one closes its end itself on its way out.
    control.onClose(() => {
      if (this.detached) return;
      if (!this.retiring) this.kill();
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) this.markGone();
    });
    child?.once('exit', () => {
      control.close();
      // A worker killed outright leaves its socket file behind; nothing listens on it any more.
      rmSync(control.socketPath, { force: true });
      this.markGone();
    });
  }

  get pid(): number {
    return this.hello.pid;
  }

  get alive(): boolean {
    return !this.gone;
  }

  /** Whether this control plane started it (and can hand it sockets over IPC). */
  get isChild(): boolean {
    return this.child !== undefined;
  }

  /** Starts a worker as this process's child and gives it its settings. */
  static async spawn(settings: WorkerSettings): Promise<WorkerProcess> {
    const entry = workerEntry();
    const socketPath = newSocketPath(settings.socketDir);
    const child = fork(entry.file, [socketPath], {
      execArgv: entry.execArgv,
      env: childEnv(),
      // Its own process group: a signal to the control plane's group (Ctrl-C) is not the workers'.
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
    try {
      await awaitIpc(child, ['ready']);
      return await WorkerProcess.connect(socketPath, settings, child);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Has a running worker start a sibling (from this cutover's code) holding the same sockets. */
  static async spawnVia(parent: WorkerProcess, settings: WorkerSettings): Promise<WorkerProcess> {
    const entry = workerEntry();
    const socketPath = newSocketPath(settings.socketDir);
    const { pid } = (await parent.control.request({
      op: 'fork',
      entry: entry.file,
      execArgv: entry.execArgv,
      socketPath,
    })) as ForkAnswer;
    try {
      return await WorkerProcess.connect(socketPath, settings, undefined);
    } catch (error) {
      killPid(pid);
      throw error;
    }
  }

  /** Takes over a worker a previous control plane left running. */
  static async adopt(
    socketPath: string,
    onMetrics: (event: WorkerCountsReport) => void,
    onShadow?: (event: ShadowEvent) => void,
  ): Promise<WorkerProcess> {
    const { client, hello } = await ControlClient.connect(socketPath, onMetrics, onShadow);
    return new WorkerProcess(client, hello, undefined);
  }

  private static async connect(
    socketPath: string,
    settings: WorkerSettings,
    child: ChildProcess | undefined,
  ): Promise<WorkerProcess> {
    const { client, hello } = await ControlClient.connect(socketPath, settings.onMetrics, settings.onShadow);
    const worker = new WorkerProcess(client, hello, child);
    try {
      await client.request({
        op: 'init',
        config: { ...settings.config },
        previewToken: settings.previewToken,
      });
    } catch (error) {
      worker.kill();
      throw error;
    }
    return worker;
  }

  /** Ends when the worker is gone (exited, or its control connection closed). */
  onGone(listener: () => void): void {
    if (this.gone) listener();
    else this.goneListeners.push(listener);
  }

  /** Binds a listener in this worker (a child) and returns the raw socket handle it sent back. */
  async bind(
    role: ListenerRole,
    host: string,
    port: number,
  ): Promise<{ message: FromWorker; handle: unknown }> {
    const child = this.ownChild();
    const answered = awaitIpc(child, ['bound', 'bind-failed']);
    child.send({ type: 'bind', role, host, port } satisfies ToWorker);
    return answered;
  }

  /** Gives this worker (a child) a listening socket to hold until accept(). */
  async giveSocket(role: ListenerRole, handle: object): Promise<void> {
    const child = this.ownChild();
    const taken = awaitIpc(child, ['socket-held']);
    child.send({ type: 'socket', role } satisfies ToWorker, handle as never);
    await taken;
  }

  async accept(): Promise<void> {
    await this.control.request({ op: 'accept' });
  }

  /** Asks it to stop accepting and exit once its in-flight work is done (or at the deadline). */
  async retire(deadline: Date): Promise<void> {
    this.retiring = true;
    await this.control.request({ op: 'retire', deadline: deadline.toISOString() });
  }

  /** Lets go of it, leaving it running: the control plane hands over to its successor. */
  detach(): void {
    this.detached = true;
    this.control.close();
    if (this.child?.connected) this.child.disconnect();
    this.child?.unref();
    this.markGone();
  }

  kill(): void {
    if (this.child !== undefined) {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
      return;
    }
    if (!this.gone) killPid(this.pid);
  }

  private ownChild(): ChildProcess {
    if (this.child === undefined) {
      throw new CutoverError(
        'CUTOVER_E_INTERNAL',
        `proxy worker ${this.pid} was not started by this control plane`,
      );
    }
    return this.child;
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    for (const listener of this.goneListeners.splice(0)) listener();
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function awaitIpc<T extends FromWorker['type']>(
  child: ChildProcess,
  types: readonly T[],
): Promise<{ message: Extract<FromWorker, { type: T }>; handle: unknown }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker, handle: unknown): void => {
      if (!(types as readonly string[]).includes(message.type)) return;
      cleanup();
      resolve({ message: message as Extract<FromWorker, { type: T }>, handle });
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new CutoverError(
          'CUTOVER_E_ROUTER',
          `a proxy worker exited (code ${code}, signal ${signal}) before it answered`,
        ),
      );
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
