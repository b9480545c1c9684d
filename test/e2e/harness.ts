/**
 * End-to-end harness: a temp project with a cutover.yml, release folders of the e2e app, and
 * a real `cutover server` child process on ports chosen at run time. Teardown kills the server
 * and every instance the process platform recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/daemons/common.js';
import { waitFor } from '../support/load.js';
import { killWorkers } from '../support/proxy-workers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const APP = path.join(ROOT, 'test/e2e/apps/e2e-app.js');
/**
 * How long a server may take to start (tsx compiles the CLI at each start). The chaos bench
 * raises it: it runs its hundreds of starts on whatever load the machine has.
 */
const SERVER_START_TIMEOUT_MS = Number(process.env.CUTOVER_E2E_SERVER_START_MS ?? 20_000);
/** tsx by absolute URL: the CLI runs with the temp project as its working directory. */
const TSX = import.meta.resolve('tsx');

export interface ReleaseSpec {
  /** Files written into the release folder besides VERSION (see e2e-app.js). */
  files?: Record<string, string>;
}

export interface HarnessOptions {
  releases: Record<string, ReleaseSpec>;
  /** YAML appended to the generated config (strategy, hooks …), top-level keys. */
  extraYaml?: string;
  instances?: number;
  healthDeadline?: string;
  /** The probe timeout (default 500ms): two probes over it in a row fail an instance. */
  healthTimeout?: string;
  drainTimeout?: string;
  rollbackWindow?: string;
  /**
   * An external router instead of the builtin one: its `router:` section (written as a YAML
   * flow mapping) and the URL where that router serves live traffic (`trafficUrl`).
   */
  router?: { config: Record<string, unknown>; url: string };
  /** A `platform:` section (written as a YAML flow mapping) instead of the process platform running the e2e app. */
  platform?: Record<string, unknown>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the CLI was still running at `killAfterMs` and was killed. */
  killedAfterMs?: number;
}

export class CutoverHarness {
  server: ChildProcess | undefined;
  serverLog = '';

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly trafficPort: number,
    readonly adminPort: number,
    private readonly routerUrl: string | undefined,
  ) {}

  static async create(options: HarnessOptions): Promise<CutoverHarness> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-e2e-'));
    for (const [release, spec] of Object.entries(options.releases)) {
      const folder = path.join(dir, 'releases', release);
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, 'VERSION'), release);
      for (const [name, content] of Object.entries(spec.files ?? {}))
        writeFileSync(path.join(folder, name), content);
    }
    const trafficPort = await freePort();
    const adminPort = await freePort();
    const configFile = path.join(dir, 'cutover.yml');
    writeFileSync(
      configFile,
      [
        'app: e2e',
        'admin:',
        `  listen: 127.0.0.1:${adminPort}`,
        ...(options.platform
          ? [`platform: ${JSON.stringify(options.platform)}`]
          : [
              'platform:',
              '  kind: process',
              `  command: ${process.execPath}`,
              `  args: [${JSON.stringify(APP)}]`,
              '  cwd: releases/${RELEASE}',
              '  env: { PORT: "${PORT}" }',
              `  instances: ${options.instances ?? 2}`,
              '  stopGrace: 2s',
            ]),
        'health:',
        '  http: { path: /healthz }',
        '  interval: 50ms',
        `  timeout: ${options.healthTimeout ?? '500ms'}`,
        '  healthyThreshold: 2',
        '  unhealthyThreshold: 2',
        `  deadline: ${options.healthDeadline ?? '15s'}`,
        `drain: { timeout: ${options.drainTimeout ?? '2s'} }`,
        `rollbackWindow: ${options.rollbackWindow ?? '10m'}`,
        // JSON is YAML: the parsed config objects of test/support/daemons/* fit as they are.
        options.router
          ? `router: ${JSON.stringify(options.router.config)}`
          : `router: { kind: builtin, listen: "127.0.0.1:${trafficPort}" }`,
        options.extraYaml ?? '',
      ].join('\n'),
    );
    return new CutoverHarness(dir, configFile, trafficPort, adminPort, options.router?.url);
  }

  get stateDir(): string {
    return path.join(this.dir, '.cutover');
  }

  /** Where live traffic enters: the builtin proxy's listener, or the external router's. */
  get trafficUrl(): string {
    return this.routerUrl ?? `http://127.0.0.1:${this.trafficPort}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  /** The server's admin token: CUTOVER_ADMIN_TOKEN when the test set it (no file then), else the file. */
  token(): string {
    const fromEnv = process.env.CUTOVER_ADMIN_TOKEN;
    if (fromEnv) return fromEnv;
    return readFileSync(path.join(this.stateDir, 'admin-token'), 'utf8').trim();
  }

  /** Starts `cutover server`; `env` adds variables (a test crash point, say) to this start only. */
  async startServer(env: Record<string, string> = {}, args: readonly string[] = []): Promise<void> {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'server', ...args, '-c', this.configFile], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = child;
    child.stdout.on('data', (chunk: Buffer) => (this.serverLog += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.serverLog += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      () => {
        if (exited) throw new Error(`cutover server exited during start:\n${this.serverLog}`);
        if (!existsSync(path.join(this.stateDir, 'server.json'))) return false;
        const info = JSON.parse(readFileSync(path.join(this.stateDir, 'server.json'), 'utf8')) as {
          pid: number;
        };
        return info.pid === child.pid;
      },
      { timeoutMs: SERVER_START_TIMEOUT_MS, what: 'cutover server to start' },
    );
  }

  /**
   * `cutover server --upgrade` beside the running server: the old one exits leaving its proxy
   * workers, the new one takes over. Resolves once the new one serves and the old one is gone.
   */
  async upgradeServer(): Promise<void> {
    const old = this.server;
    const oldExited =
      old && old.exitCode === null && old.signalCode === null
        ? new Promise((resolve) => old.once('exit', resolve))
        : Promise.resolve();
    await this.startServer({}, ['--upgrade']);
    await oldExited;
  }

  /** kill -9: no cleanup of any kind happens in the server. */
  async killServer(): Promise<void> {
    const child = this.server;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.server = undefined;
  }

  async stopServer(): Promise<void> {
    const child = this.server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.server = undefined;
  }

  /**
   * Runs the CLI to its end. `killAfterMs`: a CLI still running then is killed (SIGKILL) and
   * the result says `killedAfterMs`, so a test of a hang fails with what the CLI printed.
   */
  async cli(
    args: string[],
    env: Record<string, string> = {},
    options: { killAfterMs?: number } = {},
  ): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, CLI, ...args, '-c', this.configFile], {
        cwd: this.dir,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let killed = false;
      const timer =
        options.killAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              killed = true;
              child.kill('SIGKILL');
            }, options.killAfterMs);
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({
          code: code ?? -1,
          stdout,
          stderr,
          ...(killed ? { killedAfterMs: options.killAfterMs } : {}),
        });
      });
    });
  }

  async api<T = Record<string, unknown>>(
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.adminUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token()}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** Phase of a deployment, read through the admin API. */
  async phaseOf(deploymentId: string): Promise<string> {
    const { body } = await this.api<{ deployment: { phase: string } }>(
      'GET',
      `/v1/deployments/${deploymentId}`,
    );
    return body.deployment.phase;
  }

  async waitForPhase(deploymentId: string, phases: string[], timeoutMs = 30_000): Promise<string> {
    let phase = '';
    await waitFor(
      async () => {
        phase = await this.phaseOf(deploymentId);
        return phases.includes(phase);
      },
      {
        timeoutMs,
        intervalMs: 20,
        what: () => `deployment ${deploymentId} to reach ${phases.join('/')} (last: ${phase})`,
      },
    );
    return phase;
  }

  /** Pids of the instances the process platform recorded for a slot. */
  instancePids(slot: 'blue' | 'green'): number[] {
    const file = path.join(this.stateDir, 'platform', 'process', `${slot}.json`);
    if (!existsSync(file)) return [];
    const record = JSON.parse(readFileSync(file, 'utf8')) as
      { instances?: Array<{ pid?: number }> } | Array<{ pid?: number }>;
    const list = Array.isArray(record) ? record : (record.instances ?? []);
    // An instance recorded before its spawn (provision under way) has no pid yet.
    return list.flatMap((instance) => (instance.pid === undefined ? [] : [instance.pid]));
  }

  async teardown(): Promise<void> {
    await this.killServer();
    // The builtin router's workers outlive a killed server by design.
    await killWorkers(this.stateDir);
    const recordDir = path.join(this.stateDir, 'platform', 'process');
    if (existsSync(recordDir)) {
      for (const file of readdirSync(recordDir)) {
        if (!file.endsWith('.json')) continue;
        const slot = file.replace(/\.json$/, '') as 'blue' | 'green';
        for (const pid of this.instancePids(slot)) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
          }
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
