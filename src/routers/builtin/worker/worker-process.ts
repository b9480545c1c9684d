/**
 * One proxy worker seen from the control plane that started it: the child process, its IPC
 * channel (settings and listening sockets) and its control connection (protocol.ts).
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
import type { HelloAnswer, MetricsEvent } from './protocol.js';

/** A worker that is not ready within this (settings applied, control socket open) is killed. */
const START_TIMEOUT_MS = 20_000;

export interface WorkerSpawnOptions {
  /** Owner-only directory for the control sockets. */
  readonly socketDir: string;
  readonly config: BuiltinRouterConfig;
  readonly previewToken: string;
  readonly onMetrics: (event: MetricsEvent) => void;
}

/**
 * The worker entry next to this file: worker-main.ts when cutover runs from source (under tsx,
 * so the child gets the same loader), worker-main.js in the built package.
 */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return {
      file: path.join(path.dirname(here), 'worker-main.ts'),
      execArgv: ['--import', import.meta.resolve('tsx')],
    };
  }
  return { file: path.join(path.dirname(here), 'worker-main.js'), execArgv: [] };
}

export class WorkerProcess {
  private exitListeners: Array<() => void> = [];
  private exited = false;
  private retiring = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly control: ControlClient,
    readonly hello: HelloAnswer,
  ) {
    child.once('exit', () => {
      this.exited = true;
      control.close();
      // A worker killed outright leaves its socket file behind; nothing listens on it any more.
      rmSync(control.socketPath, { force: true });
      for (const listener of this.exitListeners.splice(0)) listener();
    });
    // A worker whose control connection breaks or hangs cannot be steered: it is replaced.
    // A retiring one closes its end itself on its way out.
    control.onClose(() => {
      if (!this.retiring) this.kill();
    });
  }

  get pid(): number {
    return this.hello.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  static async start(options: WorkerSpawnOptions): Promise<WorkerProcess> {
    const entry = workerEntry();
    // Named by the parent, not the pid: the path is known before the process exists.
    const socketPath = path.join(options.socketDir, `worker-${randomBytes(6).toString('hex')}.sock`);
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
      const ready = awaitIpc(child, ['ready', 'failed']);
      child.send({
        type: 'init',
        config: options.config,
        previewToken: options.previewToken,
      } satisfies ToWorker);
      const { message } = await ready;
      if (message.type === 'failed') {
        throw new CutoverError(
          message.code === 'CUTOVER_E_CONFIG' ? 'CUTOVER_E_CONFIG' : 'CUTOVER_E_ROUTER',
          message.message,
        );
      }
      const { client, hello } = await ControlClient.connect(socketPath, options.onMetrics);
      return new WorkerProcess(child, client, hello);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks it to stop accepting and exit once its in-flight work is done (or at the deadline). */
  async retire(deadline: Date): Promise<void> {
    this.retiring = true;
    await this.control.request({ op: 'retire', deadline: deadline.toISOString() });
  }

  onExit(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  send(message: ToWorker, handle?: object): void {
    this.child.send(message, handle as never);
  }

  /** Waits for the worker's IPC answer of one of `types`, with the handle that came with it. */
  awaitIpc<T extends FromWorker['type']>(
    types: readonly T[],
  ): Promise<{ message: Extract<FromWorker, { type: T }>; handle: unknown }> {
    return awaitIpc(this.child, types);
  }

  /** Hands it a bound socket; resolves once it accepts on it. */
  async listen(role: ListenerRole, handle: object): Promise<void> {
    const answered = this.awaitIpc(['listening', 'listen-failed']);
    this.send({ type: 'listen', role }, handle);
    const { message } = await answered;
    if (message.type === 'listen-failed') {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `a proxy worker could not accept on the ${role} socket: ${message.message}`,
      );
    }
  }

  kill(): void {
    if (this.exited) return;
    try {
      this.child.kill('SIGKILL');
    } catch {
      // Already gone between the check and the signal: its exit event follows.
    }
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
