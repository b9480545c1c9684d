/**
 * The builtin router's data plane: N proxy worker processes sharing the listening sockets.
 *
 * The control plane binds nothing itself: the first worker binds each listener and sends the
 * raw socket back, and the pool keeps that handle without ever accepting on it, so a new
 * worker (a replacement, or every worker after the first) gets the same socket and the socket
 * never closes while some process holds it.
 *
 * Workers outlive their control plane. A pool started where workers already run (their
 * sockets are in the directory) adopts them: it takes their table as the one applied (the
 * engine then reconciles it with the store), and new workers are started by a running one
 * (fork op), which hands them the listening sockets this control plane never held.
 *
 * The routing table is pushed whole with a generation number; apply() resolves when every
 * worker that is alive has acknowledged that generation. A worker that dies or stops answering
 * is killed and replaced, and the replacement is given the current table before it is handed
 * a listening socket: no process ever accepts with an older table than the one last applied.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CutoverError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import type { Slot } from '../../../shared/slot.js';
import type { ProxyMetrics } from '../../../proxy/metrics.js';
import type { ListenerRole } from '../../../proxy/proxy-server.js';
import type { BuiltinRouterConfig } from '../config.js';
import type { ShadowLedger } from '../shadow-ledger.js';
import {
  codeIdentity,
  type DrainStatusAnswer,
  type WorkerCountsReport,
  type ShadowEvent,
  type ReadAnswer,
  type RoutingTable,
} from './protocol.js';
import { WorkerProcess, workerEntry } from './worker-process.js';

/** How long a retired worker may take to finish its in-flight work before the pool stops waiting. */
const RETIRE_GRACE_MS = 10_000;
/** A replacement that fails to start is tried again after this. */
const RESPAWN_BACKOFF_MS = 500;
/** sun_path is 108 bytes on Linux, 104 on macOS: a longer socket path cannot be bound. */
const MAX_SOCKET_PATH = 100;

export interface WorkerPoolOptions {
  readonly config: BuiltinRouterConfig;
  readonly previewToken: string;
  /** Where the control sockets live (`<stateDir>/workers`); a private temp dir when absent. */
  readonly stateDir: string | undefined;
  readonly logger: Logger;
  /** The summed counters: every worker's reports are replayed into it. */
  readonly metrics: ProxyMetrics;
  /**
   * Replace adopted workers with new ones of this code, even when they run the same code
   * (`cutover server --upgrade`). Workers of other code are always replaced.
   */
  readonly takeOver?: boolean;
  /** Called with each worker's report too, for per-worker series. */
  readonly onWorkerMetrics?: (pid: number, event: WorkerCountsReport) => void;
  /** The shadow comparisons' counts and samples, summed over the workers (`mirror.compare`). */
  readonly shadow?: ShadowLedger;
}

export interface ListenAddress {
  readonly role: ListenerRole;
  readonly host: string;
  readonly port: number;
  /** The config key, for error messages. */
  readonly key: string;
}

interface HeldSocket {
  readonly handle: object & { close?: () => void };
  readonly address: AddressInfo;
}

export class WorkerPool {
  private readonly workers = new Set<WorkerProcess>();
  /** Listening sockets this control plane bound (through its first worker) and holds. */
  private readonly sockets = new Map<ListenerRole, HeldSocket>();
  /** Where the workers accept: bound here, or found on adopted workers. */
  private readonly addresses = new Map<ListenerRole, AddressInfo>();
  private adoptedCount = 0;
  /** Workers told to retire: their exit is expected, not replaced. */
  private readonly retiring = new Set<WorkerProcess>();
  private socketDir = '';
  private ownsSocketDir = false;
  private generation = 0;
  private table: RoutingTable = { targets: { blue: [], green: [] } };
  private closing = false;
  private readonly starting = new Set<Promise<void>>();

  constructor(
    private readonly size: number,
    private readonly options: WorkerPoolOptions,
  ) {}

  /**
   * Adopts the workers a previous control plane left running, then starts the missing ones
   * (no listener yet, unless adopted ones listen already). Refuses workers of another protocol.
   */
  async start(): Promise<void> {
    this.closing = false;
    this.prepareSocketDir();
    const adopted = await this.adoptRunning();
    const ownCode = codeIdentity(workerEntry().file);
    const handOver =
      adopted.length > 0 &&
      (this.options.takeOver === true || adopted.some((worker) => worker.hello.code !== ownCode));
    // New workers first, accepting with the adopted table; only then do the old ones retire.
    const missing = handOver ? this.size : this.size - this.workers.size;
    await Promise.all(Array.from({ length: missing }, () => this.addWorker()));
    if (handOver) {
      const deadline = new Date(Date.now() + RETIRE_GRACE_MS);
      // The deadline is when the old workers' WebSockets get 1001: an operator (or a test) can
      // tell those closes from early ones.
      this.options.logger.info('router.workers_handed_over', {
        from: adopted.map((worker) => worker.pid),
        to: this.pids().filter((pid) => !adopted.some((worker) => worker.pid === pid)),
        retireDeadline: deadline.toISOString(),
      });
      // They finish in the background: awaiting them here would keep this control plane (its
      // admin API, the deployment it resumes) down for the whole grace whenever a WebSocket is
      // open. Until they exit they stay in the pool: tables still reach their keep-alive
      // connections, drain counts include their WebSockets, and close() waits for them.
      for (const worker of adopted) void this.retire(worker, deadline);
    }
  }

  /**
   * Lets go of the workers and leaves them serving (the control plane exits for a successor
   * that adopts them: SIGUSR2, cutover server --upgrade). Safe twice.
   */
  detach(): void {
    this.closing = true;
    for (const worker of this.workers) worker.detach();
    this.workers.clear();
    // The workers hold their own descriptors of the listening sockets.
    for (const { handle } of this.sockets.values()) handle.close?.();
    this.sockets.clear();
    this.addresses.clear();
    this.adoptedCount = 0;
  }

  /** Whether workers of an earlier control plane were adopted (their table is what they serve). */
  get adopted(): boolean {
    return this.adoptedCount > 0;
  }

  /**
   * Binds the listeners (in the first worker) and has every worker accept on them. A listener
   * bound before (port 0 became a real port) is bound again on the same port. Adopted workers
   * accept already: nothing is bound.
   */
  async listen(addresses: readonly ListenAddress[]): Promise<void> {
    for (const address of addresses) {
      if (this.addresses.has(address.role)) continue;
      const first = [...this.workers].find((worker) => worker.isChild);
      if (first === undefined)
        throw new CutoverError('CUTOVER_E_ROUTER', 'no proxy worker of this control plane is running');
      const held = await this.bindIn(first, address);
      this.sockets.set(address.role, held);
      this.addresses.set(address.role, held.address);
      await Promise.all(
        [...this.workers]
          .filter((worker) => worker !== first && worker.isChild)
          .map(async (worker) => {
            await this.handOver(worker, address.role);
            await worker.accept();
          }),
      );
    }
  }

  address(role: ListenerRole): AddressInfo | undefined {
    return this.addresses.get(role);
  }

  get listening(): boolean {
    return this.addresses.has('live');
  }

  /** Pids of the workers now running (replacements included). */
  pids(): number[] {
    return [...this.workers].map((worker) => worker.pid);
  }

  /**
   * Pushes the table to every worker; resolves when each worker alive has acknowledged it, with
   * the time from the push to the last acknowledgement: every worker switched inside that
   * window, so it bounds how long two workers could answer from different tables.
   */
  async apply(table: RoutingTable): Promise<{ windowMs: number }> {
    this.generation += 1;
    this.table = table;
    const generation = this.generation;
    const sentAt = performance.now();
    await Promise.all([...this.workers].map((worker) => this.push(worker, generation, table)));
    return { windowMs: performance.now() - sentAt };
  }

  /** Every worker's table as it reports it, with its pid. */
  async read(): Promise<Array<ReadAnswer & { pid: number }>> {
    const answers = await Promise.all(
      [...this.workers].map(async (worker) => {
        try {
          const read = (await worker.control.request({ op: 'read' })) as ReadAnswer;
          return { ...read, pid: worker.pid };
        } catch (error) {
          if (!worker.alive || worker.control.closed) return undefined;
          throw error;
        }
      }),
    );
    return answers.filter((answer) => answer !== undefined);
  }

  /** The generation last applied: what every worker must report for a verified table. */
  get appliedGeneration(): number {
    return this.generation;
  }

  async drain(slot: Slot, deadline: Date): Promise<void> {
    await this.everyWorker((worker) =>
      worker.control.request({ op: 'drain', slot, deadline: deadline.toISOString() }),
    );
  }

  /** In-flight requests and WebSockets of the slot, summed over the workers. */
  async drainStatus(slot: Slot): Promise<DrainStatusAnswer> {
    const answers = await this.everyWorker(
      async (worker) => (await worker.control.request({ op: 'drainStatus', slot })) as DrainStatusAnswer,
    );
    return answers.reduce(
      (sum, answer) => ({
        inFlight: sum.inFlight + answer.inFlight,
        webSockets: sum.webSockets + answer.webSockets,
      }),
      {
        inFlight: 0,
        webSockets: 0,
      },
    );
  }

  /**
   * Every worker pushes its counts report now; resolves once each has (its report travels ahead
   * of its answer). Workers of earlier code, which push often on their own, are not asked.
   */
  async reportNow(): Promise<void> {
    await this.everyWorker(async (worker) => {
      if (worker.hello.reportsOnRequest === true) await worker.control.request({ op: 'report' });
    });
  }

  /**
   * Retires every worker (stop accepting, finish in-flight work, WebSockets closed with 1001 at
   * the deadline) and lets go of the listening sockets. Safe twice.
   */
  async close(graceMs = RETIRE_GRACE_MS): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.starting]);
    const deadline = new Date(Date.now() + graceMs);
    await Promise.all([...this.workers].map((worker) => this.retire(worker, deadline)));
    for (const { handle } of this.sockets.values()) handle.close?.();
    this.sockets.clear();
    this.addresses.clear();
    this.adoptedCount = 0;
    if (this.ownsSocketDir) rmSync(this.socketDir, { recursive: true, force: true });
  }

  private prepareSocketDir(): void {
    const { stateDir } = this.options;
    if (stateDir === undefined) {
      if (this.socketDir === '') this.socketDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-workers-'));
      else mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
      this.ownsSocketDir = true;
    } else {
      this.socketDir = path.join(stateDir, 'workers');
      mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
    }
    // Owner-only whatever the umask or an older directory said: the sockets steer the traffic.
    chmodSync(this.socketDir, 0o700);
    if (path.join(this.socketDir, 'worker-000000000000.sock').length > MAX_SOCKET_PATH) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `the state directory ${stateDir ?? this.socketDir} is too deep for the proxy workers' unix sockets ` +
          `(paths are limited to about ${MAX_SOCKET_PATH} characters); choose a shorter stateDir`,
      );
    }
  }

  private async retire(worker: WorkerProcess, deadline: Date): Promise<void> {
    this.retiring.add(worker);
    const exited = new Promise<void>((resolve) => worker.onGone(resolve));
    try {
      await worker.retire(deadline);
    } catch {
      worker.kill();
    }
    // A worker that outlives its deadline by far is stuck: it is killed, not waited for forever.
    const stuck = setTimeout(() => worker.kill(), Math.max(0, deadline.getTime() - Date.now()) + 2_000);
    await exited;
    clearTimeout(stuck);
    this.workers.delete(worker);
    this.retiring.delete(worker);
  }

  private async everyWorker<T>(step: (worker: WorkerProcess) => Promise<T>): Promise<T[]> {
    const results = await Promise.all(
      [...this.workers].map(async (worker) => {
        try {
          return { value: await step(worker) };
        } catch (error) {
          // A worker that went away mid-request is being replaced; what it held is gone with it.
          if (!worker.alive || worker.control.closed) return undefined;
          throw error;
        }
      }),
    );
    return results.filter((result) => result !== undefined).map((result) => result.value);
  }

  private async push(worker: WorkerProcess, generation: number, table: RoutingTable): Promise<void> {
    try {
      const { generation: held } = (await worker.control.request({ op: 'apply', generation, table })) as {
        generation: number;
      };
      if (held < generation) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `proxy worker ${worker.pid} holds generation ${held}, not ${generation}`,
        );
      }
    } catch (error) {
      // Gone or hung: it is killed and its replacement starts from the current table.
      if (!worker.alive || worker.control.closed) return;
      throw error;
    }
  }

  private addWorker(): Promise<void> {
    const starting = this.startWorker().finally(() => this.starting.delete(starting));
    this.starting.add(starting);
    return starting;
  }

  private settings() {
    let pid = 0;
    return {
      settings: {
        socketDir: this.socketDir,
        config: this.options.config,
        previewToken: this.options.previewToken,
        onMetrics: (event: WorkerCountsReport) => {
          addReport(this.options.metrics, String(pid), event);
          this.options.onWorkerMetrics?.(pid, event);
        },
        onShadow: (event: ShadowEvent) => this.options.shadow?.record(event),
      },
      setPid: (value: number) => {
        pid = value;
      },
    };
  }

  /**
   * A new worker: this process's child while it holds the sockets (or none are bound yet),
   * otherwise started by a running worker that hands it the sockets it accepts on.
   */
  private async startWorker(): Promise<void> {
    const { settings, setPid } = this.settings();
    const parent = this.sockets.size === 0 && this.addresses.size > 0 ? this.anyWorker() : undefined;
    const worker = parent
      ? await WorkerProcess.spawnVia(parent, settings)
      : await WorkerProcess.spawn(settings);
    setPid(worker.pid);
    if (this.closing) {
      worker.kill();
      return;
    }
    // In the set before the table goes out: a concurrent apply() reaches it after this push.
    this.track(worker);
    if (this.generation > 0) await this.push(worker, this.generation, this.table);
    if (worker.isChild) for (const role of this.sockets.keys()) await this.handOver(worker, role);
    // It accepts only once it holds the current table.
    if (this.addresses.size > 0) await worker.accept();
    this.options.logger.info('router.worker_started', { pid: worker.pid, generation: this.generation });
  }

  private track(worker: WorkerProcess): void {
    this.workers.add(worker);
    worker.onGone(() => this.onWorkerGone(worker));
  }

  private anyWorker(): WorkerProcess {
    // A retiring worker no longer holds the listening sockets to pass on.
    const [worker] = [...this.workers].filter(
      (candidate) => candidate.alive && !this.retiring.has(candidate),
    );
    if (worker === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        'every adopted proxy worker is gone and this control plane holds no listening socket to start new ones; restart cutover server',
      );
    }
    return worker;
  }

  /** Takes over the workers whose control sockets are in the directory. */
  private async adoptRunning(): Promise<WorkerProcess[]> {
    const adopted: WorkerProcess[] = [];
    const names = readdirSync(this.socketDir).filter((name) => name.endsWith('.sock'));
    for (const name of names) {
      const socketPath = path.join(this.socketDir, name);
      const { settings, setPid } = this.settings();
      let worker: WorkerProcess;
      try {
        worker = await WorkerProcess.adopt(socketPath, settings.onMetrics, settings.onShadow);
        setPid(worker.pid);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A worker killed outright leaves its socket file: nobody answers there.
        if (code === 'ECONNREFUSED' || code === 'ENOENT') {
          rmSync(socketPath, { force: true });
          continue;
        }
        throw error;
      }
      if (worker.hello.retiring === true) {
        // Handed over by an earlier control plane and finishing its work: it exits on its own at
        // its deadline, and killing it would cut the WebSockets it still holds.
        this.options.logger.info('router.worker_retiring', { pid: worker.pid });
        worker.detach();
        continue;
      }
      if (!worker.hello.initialised || worker.hello.listening.live === undefined) {
        // Started but never set up: nothing is routed by it.
        worker.kill();
        continue;
      }
      this.track(worker);
      adopted.push(worker);
      this.adoptedCount += 1;
      this.generation = Math.max(this.generation, worker.hello.generation);
      const { live, preview } = worker.hello.listening;
      this.addresses.set('live', live);
      if (preview !== undefined) this.addresses.set('preview', preview);
      this.options.logger.info('router.worker_adopted', {
        pid: worker.pid,
        generation: worker.hello.generation,
      });
    }
    if (this.adoptedCount > 0) {
      const [read] = await this.read();
      if (read !== undefined) this.table = read.table;
    }
    return adopted;
  }

  /** The table the adopted workers route by (what they served while no control plane ran). */
  adoptedTable(): RoutingTable | undefined {
    return this.adoptedCount > 0 ? this.table : undefined;
  }

  private async handOver(worker: WorkerProcess, role: ListenerRole): Promise<void> {
    const held = this.sockets.get(role);
    if (held === undefined || !worker.alive) return;
    try {
      await worker.giveSocket(role, held.handle);
    } catch (error) {
      if (!worker.alive) return;
      throw error;
    }
  }

  private async bindIn(worker: WorkerProcess, address: ListenAddress): Promise<HeldSocket> {
    const { message, handle } = await worker.bind(address.role, address.host, address.port);
    if (message.type === 'bind-failed') {
      const where = `${address.host}:${address.port}`;
      if (message.errno === 'EADDRINUSE') {
        throw new CutoverError(
          'CUTOVER_E_PORT_IN_USE',
          `port ${where} is already in use (${address.key} in cutover.yml)`,
          {
            details: { host: address.host, port: address.port, key: address.key },
          },
        );
      }
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot listen on ${where} (${address.key} in cutover.yml): ${message.message}`,
      );
    }
    if (typeof handle !== 'object' || handle === null) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `the proxy worker bound ${address.key} but sent no socket back`,
      );
    }
    if (message.type !== 'bound') throw new CutoverError('CUTOVER_E_INTERNAL', `unexpected ${message.type}`);
    return { handle, address: message.address };
  }

  private onWorkerGone(worker: WorkerProcess): void {
    if (this.retiring.has(worker) || !this.workers.delete(worker) || this.closing) return;
    this.options.logger.warn('router.worker_died', { pid: worker.pid, replacing: true });
    this.respawn();
  }

  private respawn(): void {
    if (this.closing) return;
    this.addWorker().catch((error: unknown) => {
      this.options.logger.error('router.worker_start_failed', { error });
      const retry = setTimeout(() => this.respawn(), RESPAWN_BACKOFF_MS);
      retry.unref();
    });
  }
}

/** A worker's report added to the summed counters and to the worker's own. */
function addReport(metrics: ProxyMetrics, worker: string, event: WorkerCountsReport): void {
  if (event.event === 'counts') {
    for (const slot of ['blue', 'green'] as const) {
      const delta = event.slots[slot];
      metrics.add(slot, delta);
      if (delta.requests > 0) metrics.recordWorker(worker, slot, delta.requests, delta.errors);
    }
  } else {
    // A worker of an earlier cutover: one record per request.
    for (const [slot, status, durationSeconds, proxyError, cut] of event.completed) {
      metrics.record(slot, status, durationSeconds, proxyError, cut ?? undefined);
      metrics.recordWorker(worker, slot, 1, status >= 500 ? 1 : 0);
    }
    for (const slot of ['blue', 'green'] as const) {
      const [sent, failed] = event.mirrored[slot];
      for (let i = 0; i < sent; i += 1) metrics.recordMirror(slot, false);
      for (let i = 0; i < failed; i += 1) metrics.recordMirror(slot, true);
    }
  }
  for (let i = 0; i < event.refused.live; i += 1) metrics.recordRefusedConnection('live');
  for (let i = 0; i < event.refused.preview; i += 1) metrics.recordRefusedConnection('preview');
}
