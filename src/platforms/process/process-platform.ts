import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tcpProbe } from '../../checks/tcp-probe.js';
import { childEnv } from '../../shared/child-env.js';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SLOTS, type Slot, type Target } from '../../shared/slot.js';
import type {
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SlotQueue } from '../slot-queue.js';
import {
  LOG_ROTATION_CHECK_MS,
  PROCESS_START_SETTLE_MS,
  PROCESS_START_WAIT_MS,
  type ProcessPlatformConfig,
} from './config.js';
import { reserveFreePorts } from './free-port.js';
import { crashPoint } from './crash-point.js';
import { findMarkedProcesses, INSTANCE_KEY_VARIABLE } from './env-marker.js';
import {
  isStarted,
  SlotRecordFiles,
  type InstanceRecord,
  type SlotRecord,
  type SlotRecordState,
  type StartedInstanceRecord,
} from './instance-record.js';
import { groupHoldsSocket, ListenerTableReader } from './listening-socket.js';
import { rotatedFile, rotateIfLarger } from './log-rotation.js';
import { CUT_LINE_MARK, LOG_TAIL_MAX_BYTES, tailLines } from './log-tail.js';
import { substitutePlaceholders, type PlaceholderValues } from '../placeholders.js';
import { isSameProcessAlive, readProcStat } from './proc-stat.js';
import { stopProcess, stopProcessGroup } from './process-group.js';

export interface ProcessPlatformDeps {
  readonly app: string;
  /** Directory of cutover.yml; a relative `cwd` resolves against it. */
  readonly baseDir: string;
  /** Absolute state directory; this platform owns `platform/process/` and `logs/` in it. */
  readonly stateDir: string;
  readonly logger: Logger;
}

/** Lines of an instance's log quoted in the error when it exits right after start. */
const LOG_LINES_IN_ERROR = 5;
const DEFAULT_LOG_TAIL = 100;
/** How often a starting instance's port is checked (one read of the socket tables for all). */
const LISTEN_POLL_MS = 100;
/** Where /proc/net is missing, how long one connection attempt to a starting instance may take. */
const PORT_PROBE_TIMEOUT_MS = 1_000;
/** Written to the log before each start; lets an error quote only the latest run's output. */
const START_BANNER = '--- cutover: starting';

export function createProcessPlatform(config: ProcessPlatformConfig, deps: ProcessPlatformDeps): Platform {
  return new ProcessPlatform(config, deps);
}

/** Everything needed to start one instance, worked out before anything starts. */
interface LaunchPlan {
  readonly slot: Slot;
  readonly release: string;
  readonly index: number;
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Put in the instance's environment as CUTOVER_INSTANCE_KEY; recorded before the spawn. */
  readonly key: string;
  readonly command: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** One started (or failed) instance, watched while it settles. */
interface Launch {
  readonly plan: LaunchPlan;
  readonly record?: StartedInstanceRecord;
  /** Set when the process could not be spawned at all (missing command …): never retried. */
  readonly spawnError?: Error;
  readonly exited: Promise<ExitInfo>;
}

class ProcessPlatform implements Platform {
  private readonly records: SlotRecordFiles;
  private readonly logDir: string;
  private readonly logger: Logger;
  /** Operations on one slot run one after the other. */
  private readonly queue = new SlotQueue();
  /** Checks log sizes once this process provisions or adopts instances; see rotateLogs(). */
  private rotationTimer: NodeJS.Timeout | undefined;
  private rotation: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly config: ProcessPlatformConfig,
    private readonly deps: ProcessPlatformDeps,
  ) {
    this.records = new SlotRecordFiles(join(deps.stateDir, 'platform', 'process'));
    this.logDir = join(deps.stateDir, 'logs');
    this.logger = deps.logger.child({ platform: 'process', app: deps.app });
  }

  describe(): PlatformDescription {
    return { kind: 'process', stopGraceMs: this.config.stopGrace };
  }

  /** Throws CUTOVER_E_NOT_FOUND when the release's working directory is missing. */
  async checkRelease(release: string): Promise<void> {
    // A cwd that depends on the port is only known at provision time, which checks it again.
    if (this.config.cwd.includes('${PORT}')) return;
    const plans = SLOTS.flatMap((slot) =>
      Array.from({ length: this.config.instances }, (_unused, index) =>
        this.plan(slot, release, index, 0, {}),
      ),
    );
    await assertWorkingDirsExist(release, plans);
  }

  provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    this.startLogRotation();
    return this.queue.run(slot, () => this.provisionNow(slot, release, options));
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return instances.map((instance) => ({ id: instance.id, host: instance.host, port: instance.port }));
  }

  /**
   * Not queued behind the slot's provision or stop: it reads the record (replaced atomically,
   * so never half written) and /proc, and answers at once, e.g. for `status` during a deploy.
   */
  async running(slot: Slot): Promise<Instance[]> {
    const record = await this.records.read(slot);
    if (!record) return [];
    return (await this.liveRecords(record)).map((live) => toInstance(slot, live));
  }

  async logs(slot: Slot, options: { tail?: number } = {}): Promise<LogLine[]> {
    const tail = options.tail ?? DEFAULT_LOG_TAIL;
    const record = await this.records.read(slot);
    const lines: LogLine[] = [];
    for (const { index, file } of await this.logFilesOf(slot)) {
      const instanceId =
        record?.instances.find((instance) => instance.index === index)?.id ?? `${slot}-${index}`;
      // stdout and stderr share one file so their order is kept; the file cannot tell them apart.
      for (const line of await this.instanceLogTail(file, tail)) {
        lines.push({ instanceId, stream: 'stdout', line });
      }
    }
    return lines;
  }

  /**
   * The last `count` lines of one instance's output: from its log file, then from the rotated
   * ones (newest first) while lines are missing, reading at most LOG_TAIL_MAX_BYTES in all.
   */
  private async instanceLogTail(file: string, count: number): Promise<string[]> {
    let lines: string[] = [];
    let budget = LOG_TAIL_MAX_BYTES;
    for (let generation = 0; generation <= this.config.logs.keep; generation += 1) {
      if (lines.length >= count || budget <= 0) break;
      const path = generation === 0 ? file : rotatedFile(file, generation);
      const tail = await tailLines(path, count - lines.length, budget);
      lines = [...tail.lines, ...lines];
      budget -= tail.bytesRead;
      if (tail.lines[0]?.startsWith(CUT_LINE_MARK)) break; // the byte budget ran out in this file
    }
    return lines;
  }

  /** Stops the log rotation timer and waits for a rotation under way; instances keep running. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rotationTimer);
    this.rotationTimer = undefined;
    await this.rotation;
  }

  private startLogRotation(): void {
    if (this.rotationTimer !== undefined || this.closed) return;
    this.rotationTimer = setInterval(() => {
      if (this.rotation !== undefined) return; // the previous round is still at work
      this.rotation = this.rotateLogs()
        .catch((error: unknown) => this.logger.warn('process.log.rotate-failed', { error }))
        .finally(() => {
          this.rotation = undefined;
        });
    }, LOG_ROTATION_CHECK_MS);
    this.rotationTimer.unref();
  }

  /** One round: every recorded instance's log file past platform.logs.maxBytes is rotated. */
  private async rotateLogs(): Promise<void> {
    const { maxBytes, keep } = this.config.logs;
    for (const slot of SLOTS) {
      const record = await this.records.read(slot);
      for (const file of new Set(record?.instances.map((instance) => instance.logFile) ?? [])) {
        if (await rotateIfLarger(file, maxBytes, keep)) {
          this.logger.info('process.log.rotated', { slot, file, maxBytes, keep });
        }
      }
    }
  }

  stop(slot: Slot, options: StopOptions): Promise<void> {
    return this.queue.run(slot, () => this.stopNow(slot, options.graceMs));
  }

  destroy(slot: Slot): Promise<void> {
    return this.queue.run(slot, async () => {
      await this.stopNow(slot, this.config.stopGrace);
      for (const file of await this.logFilesOf(slot, { rotated: true })) await rm(file, { force: true });
      this.logger.info('process.destroyed', { slot });
    });
  }

  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    this.startLogRotation();
    await this.records.removeLeftoverTemps();
    const result: Record<Slot, Instance[]> = { blue: [], green: [] };
    for (const slot of SLOTS) {
      result[slot] = await this.queue.run(slot, () => this.reconcileSlot(slot, keep.has(slot)));
    }
    return result;
  }

  private async reconcileSlot(slot: Slot, keep: boolean): Promise<Instance[]> {
    const record = await this.records.read(slot);
    if (!record) return [];
    // A provision that was cut short is not adopted: whatever of it runs is stopped, and the
    // resumed deployment provisions the slot afresh (no instance is left over or doubled).
    if (!keep || record.state === 'starting') {
      this.logger.warn(keep ? 'process.interrupted-provision.stopping' : 'process.orphans.stopping', {
        slot,
        release: record.release,
        count: record.instances.length,
      });
      await this.stopNow(slot, this.config.stopGrace);
      return [];
    }
    const live = await this.liveRecords(record);
    if (live.length === 0) {
      await this.records.remove(slot);
    } else if (live.length < record.instances.length) {
      await this.records.write({ ...record, instances: live });
    }
    const dropped = record.instances.length - live.length;
    this.logger.info('process.reconciled', { slot, release: record.release, adopted: live.length, dropped });
    return live.map((instance) => toInstance(slot, instance));
  }

  /**
   * Crash-safe by write-ahead: the slot record names every instance (port, key) before it is
   * spawned and is rewritten with the pids once known; it stays `starting` until the instances
   * have settled. A crash at any await here (each is a crashPoint()) leaves a record from which
   * reconcile() finds every process started: by pid, or by the key in its environment.
   */
  private async provisionNow(slot: Slot, release: string, options: ProvisionOptions): Promise<Instance[]> {
    const current = await this.records.read(slot);
    crashPoint();
    if (
      current?.state === 'ready' &&
      current.release === release &&
      current.instances.length === this.config.instances
    ) {
      const live = await this.liveRecords(current);
      crashPoint();
      if (live.length === current.instances.length) {
        this.logger.info('process.provision.reused', { slot, release, instances: live.length });
        return live.map((instance) => toInstance(slot, instance));
      }
    }

    const ports = await reserveFreePorts(this.config.host, this.config.instances, this.config.ports);
    crashPoint();
    const plans = ports.map((port, index) => this.plan(slot, release, index, port, options.env ?? {}));
    // An unknown release must fail before anything is stopped or started.
    await assertWorkingDirsExist(release, plans);
    crashPoint();
    throwIfAborted(options.signal, slot);

    if (current) {
      this.logger.info('process.replacing', { slot, from: current.release, to: release });
      await this.stopNow(slot, this.config.stopGrace);
      crashPoint();
    }
    await mkdir(this.logDir, { recursive: true });
    crashPoint();

    let entries = plans.map(intentOf);
    await this.writeRecord(slot, release, 'starting', entries);
    // allSettled: whatever did start is recorded (and so can be stopped) even if another launch threw.
    const started = await Promise.allSettled(plans.map((plan) => this.launch(plan)));
    crashPoint();
    let launches = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    entries = withLaunches(entries, launches);
    await this.writeRecord(slot, release, 'starting', entries);
    try {
      const launchError = started.find((result) => result.status === 'rejected');
      if (launchError) {
        const reason: unknown = launchError.reason;
        throw new CutoverError(
          'CUTOVER_E_PROVISION',
          `could not start the ${slot} instances: ${reason instanceof Error ? reason.message : String(reason)}`,
          { cause: reason },
        );
      }
      let failures = await settle(launches, this.logger, options.signal);
      crashPoint();
      // The port may have been taken between our probe bind and the app's bind: one more try each.
      const retryable = failures.filter((failure) => failure.launch.spawnError === undefined);
      if (failures.length > 0 && retryable.length === failures.length) {
        const freshPorts = await reserveFreePorts(this.config.host, failures.length, this.config.ports);
        crashPoint();
        const retryPlans = failures.map((failure, i) => {
          this.logger.warn('process.instance.retrying', {
            slot,
            instance: failure.launch.plan.id,
            ...failure.exit,
          });
          return this.plan(slot, release, failure.launch.plan.index, freshPorts[i]!, options.env ?? {});
        });
        entries = entries.map((entry) => {
          const retry = retryPlans.find((plan) => plan.index === entry.index);
          return retry ? intentOf(retry) : entry;
        });
        await this.writeRecord(slot, release, 'starting', entries);
        const retried = new Map<number, Launch>();
        for (const plan of retryPlans) {
          retried.set(plan.index, await this.launch(plan));
          crashPoint();
        }
        launches = launches.map((launch) => retried.get(launch.plan.index) ?? launch);
        entries = withLaunches(entries, [...retried.values()]);
        await this.writeRecord(slot, release, 'starting', entries);
        failures = await settle([...retried.values()], this.logger, options.signal);
        crashPoint();
      }
      const failure = failures[0];
      if (failure) throw await provisionError(failure.launch, failure.exit);
      throwIfAborted(options.signal, slot);
    } catch (error) {
      this.logger.error('process.provision.failed', { slot, release, error });
      await this.stopNow(slot, this.config.stopGrace);
      throw error;
    }
    await this.writeRecord(slot, release, 'ready', entries);

    const instances = launches.map((launch) => toInstance(slot, launch.record!));
    this.logger.info('process.provisioned', {
      slot,
      release,
      instances: instances.map((instance) => ({
        id: instance.id,
        port: instance.port,
        pid: instance.meta.pid,
      })),
    });
    return instances;
  }

  private plan(
    slot: Slot,
    release: string,
    index: number,
    port: number,
    extraEnv: Readonly<Record<string, string>>,
  ): LaunchPlan {
    const host = this.config.host;
    const values: PlaceholderValues = {
      PORT: port,
      RELEASE: release,
      SLOT: slot,
      INSTANCE: index,
      HOST: host,
    };
    const fill = (template: string) => substitutePlaceholders(template, values);
    const key = randomBytes(12).toString('hex');
    const configuredEnv = Object.fromEntries(
      Object.entries(this.config.env).map(([key, value]) => [key, fill(value)]),
    );
    return {
      slot,
      release,
      index,
      id: `${slot}-${index}-${release}`,
      host,
      port,
      key,
      command: fill(this.config.command),
      args: this.config.args.map(fill),
      cwd: resolve(this.deps.baseDir, fill(this.config.cwd)),
      // PORT follows the common convention; the config's env and the caller's env may override it.
      env: {
        ...childEnv(),
        PORT: String(port),
        CUTOVER_APP: this.deps.app,
        CUTOVER_SLOT: slot,
        CUTOVER_RELEASE: release,
        CUTOVER_INSTANCE: String(index),
        ...configuredEnv,
        ...extraEnv,
        // Last: neither the config nor the caller may change how cutover finds its processes.
        [INSTANCE_KEY_VARIABLE]: key,
      },
      logFile: join(this.logDir, `${slot}-${index}.log`),
    };
  }

  /** Starts one instance in its own process group, its output appended to its log file. */
  private async launch(plan: LaunchPlan): Promise<Launch> {
    const log = await open(plan.logFile, 'a');
    crashPoint();
    let started: { exited: Promise<ExitInfo>; spawned: Promise<Error | undefined>; child: ChildProcess };
    try {
      await log.write(
        `${START_BANNER} ${plan.id} (release ${plan.release}) on ${plan.host}:${plan.port} at ${new Date().toISOString()}\n`,
      );
      crashPoint();
      // detached: a new session and process group, so the instance outlives cutover and the
      // whole group can be signalled. The log fd is inherited: output keeps flowing if we die.
      const child = spawn(plan.command, plan.args, {
        cwd: plan.cwd,
        env: plan.env,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
      // The process runs and its pid is in no record yet: only its key finds it after a crash here.
      crashPoint();
      // Listen before the next await: 'spawn' and 'error' fire on the next tick.
      const spawned = new Promise<Error | undefined>((resolveSpawn) => {
        child.once('spawn', () => resolveSpawn(undefined));
        child.once('error', resolveSpawn);
      });
      const exited = new Promise<ExitInfo>((resolveExit) => {
        child.once('exit', (code, signal) => resolveExit({ code, signal }));
      });
      started = { child, spawned, exited };
    } finally {
      await log.close();
    }
    crashPoint();
    const { child, exited } = started;
    const spawnError = await started.spawned;
    crashPoint();
    if (spawnError) return { plan, spawnError, exited };
    // Later errors (a failed signal through this handle) must not crash cutover.
    child.on('error', (error) => this.logger.warn('process.instance.error', { instance: plan.id, error }));
    child.unref();
    const pid = child.pid!;
    const stat = await readProcStat(pid);
    crashPoint();
    const record: StartedInstanceRecord = {
      ...intentOf(plan),
      pid,
      // Gone already: the empty start time never matches, and settle() sees the exit.
      procStartTime: stat?.startTime ?? '',
    };
    this.logger.debug('process.instance.started', { instance: plan.id, pid, port: plan.port });
    return { plan, record, exited };
  }

  private async writeRecord(
    slot: Slot,
    release: string,
    state: SlotRecordState,
    instances: readonly InstanceRecord[],
  ): Promise<void> {
    await this.records.write({ version: 2, slot, release, state, instances: [...instances] });
    crashPoint();
  }

  /**
   * Stops everything the slot record names, then drops the record. Started instances are
   * stopped by pid (their whole group); then /proc is searched for the record's keys, which
   * finds instances spawned but never recorded with a pid and any that left their group.
   */
  private async stopNow(slot: Slot, graceMs: number): Promise<void> {
    const record = await this.records.read(slot);
    crashPoint();
    if (!record) return;
    const outcomes = await Promise.all(
      record.instances.filter(isStarted).map(async (instance) => ({
        instance: instance.id,
        pid: instance.pid,
        outcome: await stopProcessGroup(instance.pid, instance.procStartTime, graceMs),
      })),
    );
    crashPoint();
    const keys = new Set(record.instances.map((instance) => instance.key).filter((key) => key !== ''));
    const strays = await findMarkedProcesses(keys);
    crashPoint();
    for (const stray of strays) {
      const scope = stray.processGroup === stray.pid ? 'group' : 'process';
      outcomes.push({
        instance: record.instances.find((instance) => instance.key === stray.key)?.id ?? stray.key,
        pid: stray.pid,
        outcome: await stopProcess(stray.pid, stray.startTime, graceMs, scope),
      });
      crashPoint();
    }
    await this.records.remove(slot);
    this.logger.info('process.stopped', { slot, release: record.release, outcomes });
  }

  private async liveRecords(record: SlotRecord): Promise<StartedInstanceRecord[]> {
    const started = record.instances.filter(isStarted);
    const alive = await Promise.all(
      started.map((instance) => isSameProcessAlive(instance.pid, instance.procStartTime)),
    );
    return started.filter((_instance, i) => alive[i]);
  }

  /** The slot's current log files, by instance index; with `rotated`, every file path of them. */
  private async logFilesOf(slot: Slot): Promise<{ index: number; file: string }[]>;
  private async logFilesOf(slot: Slot, options: { rotated: true }): Promise<string[]>;
  private async logFilesOf(
    slot: Slot,
    options?: { rotated: true },
  ): Promise<{ index: number; file: string }[] | string[]> {
    let names: string[];
    try {
      names = await readdir(this.logDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    if (options?.rotated) {
      const any = new RegExp(`^${slot}-\\d+\\.log(\\.\\d+)?$`);
      return names.filter((name) => any.test(name)).map((name) => join(this.logDir, name));
    }
    const pattern = new RegExp(`^${slot}-(\\d+)\\.log$`);
    return names
      .flatMap((name) => {
        const match = pattern.exec(name);
        return match ? [{ index: Number(match[1]), file: join(this.logDir, name) }] : [];
      })
      .sort((a, b) => a.index - b.index);
  }
}

/** The record of an instance about to be spawned: everything but its pid. */
function intentOf(plan: LaunchPlan): InstanceRecord {
  return {
    id: plan.id,
    index: plan.index,
    release: plan.release,
    host: plan.host,
    port: plan.port,
    key: plan.key,
    startedAt: new Date().toISOString(),
    logFile: plan.logFile,
  };
}

/** The entries with the pids of the launches that spawned (a failed spawn stays an intent). */
function withLaunches(entries: readonly InstanceRecord[], launches: readonly Launch[]): InstanceRecord[] {
  return entries.map(
    (entry) => launches.find((launch) => launch.plan.index === entry.index)?.record ?? entry,
  );
}

function toInstance(slot: Slot, record: StartedInstanceRecord): Instance {
  return {
    id: record.id,
    slot,
    release: record.release,
    index: record.index,
    host: record.host,
    port: record.port,
    logFile: record.logFile,
    meta: { pid: record.pid, procStartTime: record.procStartTime, startedAt: record.startedAt },
  };
}

async function assertWorkingDirsExist(release: string, plans: readonly LaunchPlan[]): Promise<void> {
  for (const cwd of new Set(plans.map((plan) => plan.cwd))) {
    const info = await stat(cwd).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!info?.isDirectory()) {
      throw new CutoverError(
        'CUTOVER_E_NOT_FOUND',
        `release "${release}" not found: ${cwd} ${info ? 'is not a directory' : 'does not exist'}`,
        { details: { release, cwd } },
      );
    }
  }
}

interface EarlyExit {
  readonly launch: Launch;
  readonly exit?: ExitInfo;
}

/**
 * Waits until each launch has started or failed; returns those that could not start or exited.
 * An instance has started once it has stayed up PROCESS_START_SETTLE_MS and listens on its port.
 * One that is still not listening after PROCESS_START_WAIT_MS counts as started too (it may listen
 * through a helper outside its process group); the health checks decide from there. Waiting for
 * the port, not only a fixed time, keeps a slow start on a loaded machine from passing for a
 * healthy one and an exit a moment later from going unseen.
 */
async function settle(
  launches: readonly Launch[],
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<EarlyExit[]> {
  const listeners = new ListenerTableReader(LISTEN_POLL_MS);
  const results = await Promise.all(
    launches.map(async (launch): Promise<EarlyExit | undefined> => {
      if (launch.spawnError || !launch.record) return { launch };
      const watch = { exited: false };
      const outcome = await Promise.race([
        launch.exited.finally(() => (watch.exited = true)),
        waitUntilListening(launch.record, watch, listeners, signal),
      ]);
      // Aborted: the caller throws CUTOVER_E_ABORTED and stops what was started.
      if (outcome === 'listening' || outcome === 'aborted') return undefined;
      if (outcome === 'not-listening') {
        logger.warn('process.instance.not-listening', {
          instance: launch.plan.id,
          port: launch.plan.port,
          waitedMs: PROCESS_START_WAIT_MS,
        });
        return undefined;
      }
      return { launch, exit: outcome };
    }),
  );
  return results.filter((result): result is EarlyExit => result !== undefined);
}

async function waitUntilListening(
  record: StartedInstanceRecord,
  watch: { readonly exited: boolean },
  listeners: ListenerTableReader,
  signal: AbortSignal | undefined,
): Promise<'listening' | 'not-listening' | 'aborted'> {
  const startedAt = Date.now();
  await sleep(PROCESS_START_SETTLE_MS);
  for (;;) {
    if (watch.exited) return 'not-listening'; // the exit wins the race; this answer is unused
    if (signal?.aborted) return 'aborted';
    const table = await listeners.read();
    const listening =
      table === undefined // not Linux: whoever accepts on the port stands in for the owner
        ? (await tcpProbe(record, { timeoutMs: PORT_PROBE_TIMEOUT_MS, signal })).healthy
        : await groupHoldsSocket(record.pid, table.get(record.port));
    if (listening) return 'listening';
    if (Date.now() - startedAt >= PROCESS_START_WAIT_MS) return 'not-listening';
    await sleep(LISTEN_POLL_MS);
  }
}

async function provisionError(launch: Launch, exit: ExitInfo | undefined): Promise<CutoverError> {
  const { plan } = launch;
  const { lines: recent } = await tailLines(plan.logFile, 50);
  let bannerAt = -1;
  recent.forEach((line, i) => {
    if (line.startsWith(START_BANNER)) bannerAt = i;
  });
  const lastRun = recent.slice(bannerAt + 1);
  const lastLines = lastRun.slice(-LOG_LINES_IN_ERROR);
  const details = { instance: plan.id, logFile: plan.logFile, cwd: plan.cwd, exit, lastLines };
  if (launch.spawnError) {
    return new CutoverError(
      'CUTOVER_E_PROVISION',
      `instance ${plan.id} could not start "${plan.command}" in ${plan.cwd}: ${launch.spawnError.message}`,
      { cause: launch.spawnError, details },
    );
  }
  const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${exit?.code ?? 'unknown'}`;
  const quoted = lastLines.length > 0 ? lastLines.join(' | ') : '(no output)';
  return new CutoverError(
    'CUTOVER_E_PROVISION',
    `instance ${plan.id} ${how} right after start (log: ${plan.logFile}); last log lines: ${quoted}`,
    { details },
  );
}

function throwIfAborted(signal: AbortSignal | undefined, slot: Slot): void {
  if (signal?.aborted) {
    throw new CutoverError('CUTOVER_E_ABORTED', `provisioning of the ${slot} slot was aborted`, {
      cause: signal.reason,
    });
  }
}
