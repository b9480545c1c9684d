/**
 * One-shot mode end to end: no `cutover server` runs; each `cutover <verb>` is a child process
 * that runs the engine itself against the store in .cutover/, driving a real daemon (nginx,
 * HAProxy) and the process platform, and exits with the README's codes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness, type CliResult } from './harness.js';
import type { RouterDaemon } from './router-scenario.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

export interface OneShotScenario {
  kind: 'nginx' | 'haproxy';
  startDaemon(): Promise<RouterDaemon>;
}

interface DeploymentOutput {
  ok: boolean;
  deployment: { id: string; phase: string; fromSlot: string | null; toSlot: string; release: string };
}

/** A CLI child started in the background, with its output so far and its exit. */
export interface BackgroundCli {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once a line of its stdout matches. */
  waitForLine(pattern: RegExp): Promise<void>;
  result: Promise<CliResult>;
}

export function startCli(harness: CutoverHarness, args: string[]): BackgroundCli {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args, '-c', harness.configFile], {
    cwd: harness.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return {
    child,
    output: () => stdout + stderr,
    result,
    waitForLine: (pattern) =>
      pattern.test(stdout)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
            result.then((done) => {
              throw new Error(
                `cli exited (${done.code}) before printing ${pattern}:\n${done.stdout}${done.stderr}`,
              );
            }),
          ]),
  };
}

export function runOneShotEndToEnd(scenario: OneShotScenario): void {
  describe(`one-shot mode (no cutover server) through a real ${scenario.kind}`, () => {
    let daemon: RouterDaemon | undefined;
    let harness: CutoverHarness | undefined;
    const h = (): CutoverHarness => {
      assert.ok(harness, `the ${scenario.kind} one-shot harness did not start`);
      return harness;
    };

    before(async () => {
      daemon = await scenario.startDaemon();
      harness = await CutoverHarness.create({
        releases: {
          v1: {},
          v2: {},
          // Healthy only after a while: a deploy of it holds the lock long enough to be raced.
          v3: { files: { UNHEALTHY_FOR_MS: '2500' } },
          broken: { files: { NEVER_HEALTHY: '' } },
        },
        router: { config: daemon.config, url: daemon.url },
        healthDeadline: '4s',
      });
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        await daemon?.teardown();
      }
    });

    const deploy = async (release: string): Promise<DeploymentOutput & { result: CliResult }> => {
      const result = await h().cli(['deploy', release, '--json']);
      return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
    };

    it('deploy without a server reaches standby, exits 0, and the old slot keeps running after the CLI exits', async () => {
      const first = await deploy('v1');
      assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
      // A first deploy has no old slot to keep warm: it goes on to retired.
      assert.equal(first.deployment.phase, 'retired');
      assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);

      const second = await deploy('v2');
      assert.equal(second.result.code, 0, second.result.stderr + second.result.stdout);
      assert.equal(second.ok, true);
      assert.equal(second.deployment.phase, 'standby');
      assert.equal(second.deployment.toSlot, 'green');
      assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
      const oldPids = h().instancePids('blue');
      assert.equal(oldPids.length, 2, 'the old slot recorded its instances');
      for (const pid of oldPids) assert.ok(processAlive(pid), `old-slot instance ${pid} still runs`);
      for (const pid of h().instancePids('green')) assert.ok(processAlive(pid), `new instance ${pid} runs`);
    });

    it('status, history and logs answer without a server, in --json', async () => {
      const status = await h().cli(['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      const parsed = JSON.parse(status.stdout) as {
        routing: { liveSlot: string };
        active: { phase: string }[];
        instances: Record<string, unknown[]>;
      };
      assert.equal(parsed.routing.liveSlot, 'green');
      assert.deepEqual(
        parsed.active.map((deployment) => deployment.phase),
        ['standby'],
      );
      assert.equal(parsed.instances.blue!.length, 2, 'a later CLI finds the warm old slot again');
      const history = await h().cli(['history', '--json']);
      assert.equal(history.code, 0, history.stderr);
      const releases = (JSON.parse(history.stdout) as { deployments: { release: string }[] }).deployments.map(
        (deployment) => deployment.release,
      );
      assert.deepEqual(releases, ['v2', 'v1']);
      const logs = await h().cli(['logs', 'blue', '--json']);
      assert.equal(logs.code, 0, logs.stderr);
      const lines = (JSON.parse(logs.stdout) as { lines: { line: string }[] }).lines.map(
        (entry) => entry.line,
      );
      assert.ok(
        lines.some((line) => line.startsWith('e2e v1 on')),
        `the old slot's log: ${lines.join(' | ')}`,
      );
    });

    let rolledBackPids: number[] = [];
    it('rollback without a server exits 0 with traffic back on the old slot', async () => {
      rolledBackPids = h().instancePids('green');
      assert.notDeepEqual(rolledBackPids, [], 'v2 runs in green before the rollback');
      const result = await h().cli(['rollback', '--json']);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.equal((JSON.parse(result.stdout) as DeploymentOutput).deployment.phase, 'rolled-back');
      assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
    });

    it('rollback without a server drains and stops the rolled-back slot before it exits', () => {
      // The run drains green after rolled-back; a CLI that closed at once would cut that short.
      assert.notDeepEqual(rolledBackPids, [], 'the rollback test recorded the rolled-back instances');
      assert.deepEqual(rolledBackPids.filter(processAlive), [], 'the rolled-back slot was stopped');
    });

    it('a failed health check exits 1 with traffic on the old slot', async () => {
      const failed = await deploy('broken');
      assert.equal(failed.result.code, 1, failed.result.stderr + failed.result.stdout);
      assert.equal(failed.ok, false);
      assert.equal(failed.deployment.phase, 'aborted');
      assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);
    });

    it('a concurrent second deploy exits 3 naming the holder', async () => {
      const first = startCli(h(), ['deploy', 'v3']);
      try {
        await first.waitForLine(/^provisioning/m);
        const second = await h().cli(['deploy', 'v2', '--json']);
        assert.equal(second.code, 3, second.stderr + second.stdout);
        const error = (JSON.parse(second.stdout) as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'CUTOVER_E_LOCKED');
        assert.match(error.message, new RegExp(`cutover@${hostname()}:${first.child.pid}\\b`));
      } finally {
        const done = await first.result;
        assert.equal(done.code, 0, done.stdout + done.stderr);
      }
      assert.deepEqual(await sample(h().trafficUrl, 20), ['v3']);
    });
  });
}

/**
 * Whether the process runs. An instance outlives the CLI that started it, so once stopped it
 * is a zombie until this machine's pid 1 reaps it: kill(pid, 0) still finds it then.
 */
export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  // pid (comm) STATE …: comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Distinct bodies of `count` requests, each on a new connection. */
export async function sample(url: string, count: number): Promise<string[]> {
  const bodies = new Set<string>();
  for (let i = 0; i < count; i++) bodies.add(await get(url));
  return [...bodies].sort();
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(body.trim())
            : reject(new Error(`GET ${url}: HTTP ${response.statusCode}: ${body}`)),
        );
      })
      .on('error', reject);
  });
}
