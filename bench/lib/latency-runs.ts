/**
 * The latency part of the proxy bench: every path at one fixed rate with the open-loop
 * generator, in interleaved rounds, with what each run cost the proxy and what the hypervisor
 * took from the CPUs meanwhile.
 */
import type { CpuPlan } from './daemons.js';
import { fixed, median } from './format.js';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { cpuSplit } from './process-stats.js';
import { cpuTimes, stealPercent } from './steal.js';

export interface LatencyPath {
  readonly name: string;
  readonly port: number;
  /** The proxy process (none for the direct path). */
  readonly pid: number | undefined;
}

export interface LatencyRun {
  readonly path: LatencyPath;
  readonly result: OpenLoopResult;
  /** Proxy CPU per request, user and system, µs (undefined for the direct path). */
  readonly userUs: number | undefined;
  readonly systemUs: number | undefined;
  /** Steal % on the load CPUs (mean) and on the proxy CPU during the run. */
  readonly stealLoad: number;
  readonly stealProxy: number;
}

export const DIRECT_PATH = 'direct (nginx backend)';

/** CPU numbers from a taskset list such as "0", "0-2" or "0,3". */
function cpuList(spec: string): string[] {
  return spec.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    const cpus: string[] = [];
    for (let cpu = from!; cpu <= (to ?? from!); cpu += 1) cpus.push(String(cpu));
    return cpus;
  });
}

export async function measureLatency(
  path: LatencyPath,
  rate: number,
  seconds: number,
  plan: CpuPlan | undefined,
): Promise<LatencyRun> {
  const cpusBefore = cpuTimes();
  const before = path.pid === undefined ? undefined : cpuSplit(path.pid);
  const result = await runOpenLoop(`http://127.0.0.1:${path.port}/`, rate, seconds);
  const after = path.pid === undefined ? undefined : cpuSplit(path.pid);
  const cpusAfter = cpuTimes();
  // The settle second is in the CPU reading too: per request over everything sent.
  const requests = result.sent + result.settled;
  const perRequest = (from: number | undefined, to: number | undefined): number | undefined =>
    from === undefined || to === undefined ? undefined : ((to - from) / requests) * 1e6;
  const all = [...cpusBefore.keys()];
  const loadCpus = plan === undefined ? all : cpuList(plan.load);
  const proxyCpus = plan === undefined ? all : cpuList(plan.proxy);
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  return {
    path,
    result,
    userUs: perRequest(before?.user, after?.user),
    systemUs: perRequest(before?.system, after?.system),
    stealLoad: mean(stealPercent(cpusBefore, cpusAfter, loadCpus)),
    stealProxy: mean(stealPercent(cpusBefore, cpusAfter, proxyCpus)),
  };
}

/**
 * Every path at `rate` in `rounds` interleaved rounds (after a 1 s warm-up of each at that
 * rate), each run measured by `measureLatency`.
 */
export async function latencyRounds(
  paths: readonly LatencyPath[],
  rate: number,
  rounds: number,
  seconds: number,
  plan: CpuPlan | undefined,
): Promise<LatencyRun[][]> {
  for (const path of paths) await runOpenLoop(`http://127.0.0.1:${path.port}/`, rate, 1);
  const all: LatencyRun[][] = [];
  for (let round = 0; round < rounds; round += 1) {
    const runs: LatencyRun[] = [];
    for (const path of paths) runs.push(await measureLatency(path, rate, seconds, plan));
    all.push(runs);
  }
  return all;
}

/**
 * The table of every run and each proxy's median added p99 (its p99 less the direct path's,
 * per round). `title` says what the rate is; `judged` names the path whose median is held to
 * the 1 ms, when the rate is half of that path's own max; its median is returned.
 */
export function printLatency(
  rounds: readonly (readonly LatencyRun[])[],
  title: string,
  seconds: number,
  judged: string | undefined,
): number | undefined {
  console.log(`\n${title}, ${seconds}s each after 1s not counted, ${rounds.length} interleaved rounds\n`);
  console.log(
    '| round | path | sent | failed | p50 ms | p99 ms | max ms | added p50 ms | added p99 ms | proxy CPU µs/req (user + sys) | steal % load CPU / proxy CPU |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const added = new Map<string, number[]>();
  rounds.forEach((runs, index) => {
    const direct = runs.find((run) => run.path.name === DIRECT_PATH)!.result;
    for (const run of runs) {
      const { result } = run;
      const isDirect = run.path.name === DIRECT_PATH;
      if (!isDirect) {
        const list = added.get(run.path.name) ?? [];
        list.push(result.p99Ms - direct.p99Ms);
        added.set(run.path.name, list);
      }
      const addedCells = isDirect
        ? ' | '
        : `${fixed(result.p50Ms - direct.p50Ms, 2)} | ${fixed(result.p99Ms - direct.p99Ms, 2)}`;
      const cpu = isDirect ? '-' : `${fixed(run.userUs, 0)} + ${fixed(run.systemUs, 0)}`;
      console.log(
        `| ${index + 1} | ${run.path.name} | ${result.sent} | ${result.failed} | ${fixed(result.p50Ms, 2)} | ` +
          `${fixed(result.p99Ms, 2)} | ${fixed(result.maxMs, 1)} | ${addedCells} | ${cpu} | ` +
          `${fixed(run.stealLoad, 1)} / ${fixed(run.stealProxy, 1)} |`,
      );
    }
  });
  console.log('');
  for (const [name, values] of added) {
    const each = values.map((value) => fixed(value, 2)).join(', ');
    // The target is set at half of the proxy's own max rate.
    const target =
      name === judged
        ? ` (target ≤ 1 ms at half its own max: ${median(values) <= 1 ? 'met' : 'NOT met'})`
        : '';
    console.log(
      `added p99 through ${name}: median ${fixed(median(values), 2)} ms; per round ${each}${target}`,
    );
  }
  const judgedValues = judged === undefined ? undefined : added.get(judged);
  return judgedValues === undefined ? undefined : median(judgedValues);
}
