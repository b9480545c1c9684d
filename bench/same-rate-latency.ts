/**
 * The latency the builtin proxy adds over nginx's at one fixed request rate, for the code now
 * (proxy workers: 1 and N) and the code before the workers change (the proxy inside the control
 * process: the merge commit before efa2dd8's workers branch, efa2dd8^1), in one run:
 *
 *   node --import tsx bench/same-rate-latency.ts [--rate 4000] [--seconds 5] [--rounds 5] [--before efa2dd8^1] [--pin] [--control-work 2/100]
 *   (npm run bench:latency)
 *
 * Every path gets the same open-loop, fixed-rate load (bench/lib/open-loop.ts: requests leave
 * on a schedule whatever the answers do and latency counts from the moment each was due, as
 * wrk2 does; wrk2 is not packaged here, and autocannon — not a dependency either — paces its
 * connections closed-loop, so a stall would delay the next sends instead of showing as
 * latency). Paths: the nginx backend directly, nginx (1 worker) in front of it, cutover now at
 * 1 worker and at N (cores), cutover before. Rounds are interleaved so a change in unrelated
 * load on a shared machine hits every path alike; the median per path is reported. By default
 * nothing is pinned (N workers need every core): the generator shares the cores with the path
 * under test. With --pin, the generator and the nginx backend run on the first cores and each
 * proxy's processes (nginx, cutover's control process and its worker) alone on the last one, so
 * the generator's own stalls stay out of the comparison; the N-worker path is left out then.
 * With --control-work BUSY/EVERY, each cutover process the bench starts keeps its event loop
 * busy BUSY ms every EVERY ms (bench/lib/control-work.ts), a stand-in for the control plane's
 * own work, which lands on the proxy's loop before the workers change and not after it.
 *
 * Printed: each path's p99 less nginx's p99 in the same round ("added p99 over nginx"), its
 * median, now ÷ before, and now's p99 less before's paired by round (median, and in how many
 * rounds now was the slower: about half of them when the two do not differ).
 */
import os from 'node:os';
import { listArg, numberArg } from './lib/args.js';
import { buildCommit, buildWorkingTree, type BuiltCode } from './lib/code-checkout.js';
import {
  getCpuPlan,
  lastCorePlan,
  pinned,
  removeTempDirs,
  setCpuPlan,
  spawnDaemon,
  startNginxBackend,
  startNginxProxy,
  type Daemon,
} from './lib/daemons.js';
import { fixed, loadAverage, median } from './lib/format.js';
import { controlWorkExecArgv, parseControlWork } from './lib/control-work.js';
import { freePort } from './lib/free-port.js';
import { latencyRounds, type LatencyPath } from './lib/latency-runs.js';

const RATE = numberArg('--rate', 4000);
const SECONDS = numberArg('--seconds', 5);
const ROUNDS = numberArg('--rounds', 5);
const BEFORE = listArg('--before')?.[0] ?? 'efa2dd8^1';
const N = os.availableParallelism();
const PIN = process.argv.includes('--pin') && N >= 2;
const CONTROL_WORK = parseControlWork(listArg('--control-work')?.[0]);
const NGINX = 'nginx (1 worker)';

const stops: Array<() => Promise<void> | void> = [];

/** A cutover proxy child of the given build; `workers` is ignored by code without workers. */
async function startCutover(
  name: string,
  code: BuiltCode,
  backendPort: number,
  workers: number,
): Promise<Daemon> {
  const port = await freePort();
  const [file, args] = pinned('proxy', process.execPath, [
    ...controlWorkExecArgv(CONTROL_WORK),
    code.proxyChild,
    String(port),
    String(backendPort),
  ]);
  return spawnDaemon(name, port, file, args, {
    env: { ...process.env, CUTOVER_BENCH_WORKERS: String(workers) },
    readyMs: 30_000,
  });
}

async function main(): Promise<void> {
  if (PIN) setCpuPlan(lastCorePlan(N));
  const plan = getCpuPlan();
  const pinning = plan
    ? `generator and backend on CPU ${plan.load}, each proxy alone on CPU ${plan.proxy}`
    : 'not pinned';
  console.log(
    `same-rate latency bench — ${RATE} req/s open-loop, ${SECONDS}s per run after 1s not counted, ` +
      `${ROUNDS} interleaved rounds, ${N} cores, ${pinning}, node ${process.version}, ${new Date().toISOString()}`,
  );
  if (CONTROL_WORK)
    console.log(
      `control-plane stand-in: each cutover control process busy ${CONTROL_WORK.busyMs} ms every ${CONTROL_WORK.everyMs} ms`,
    );
  console.log(`load average at start: ${loadAverage()}`);
  const now = buildWorkingTree();
  stops.push(() => now.remove());
  const before = buildCommit(BEFORE);
  stops.push(() => before.remove());
  console.log(`before: ${BEFORE} = ${before.label} (the builtin proxy inside the control process)`);

  const backend = await startNginxBackend();
  stops.push(() => backend.stop());
  const daemons = [
    await startNginxProxy(backend.port, 1),
    await startCutover('cutover now ×1', now, backend.port, 1),
    ...(PIN ? [] : [await startCutover(`cutover now ×${N}`, now, backend.port, N)]),
    await startCutover(`cutover before (${before.label})`, before, backend.port, 1),
  ];
  for (const daemon of daemons) stops.push(() => daemon.stop());
  const names = [NGINX, ...daemons.slice(1).map((daemon) => daemon.name)];
  // No per-process CPU: the workers' CPU is not in the control process's /proc entry.
  const paths: LatencyPath[] = [
    { name: 'direct (nginx backend)', port: backend.port, pid: undefined },
    ...daemons.map((daemon, index) => ({ name: names[index]!, port: daemon.port, pid: undefined })),
  ];

  const rounds = await latencyRounds(paths, RATE, ROUNDS, SECONDS, undefined);

  console.log(
    '\n| round | path | sent | failed | p50 ms | p99 ms | max ms | added p99 over nginx ms | steal % |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const added = new Map<string, number[]>();
  const p99s = new Map<string, number[]>();
  rounds.forEach((runs, index) => {
    const nginx = runs.find((run) => run.path.name === NGINX)!.result;
    for (const run of runs) {
      const { result } = run;
      const over = result.p99Ms - nginx.p99Ms;
      (p99s.get(run.path.name) ?? p99s.set(run.path.name, []).get(run.path.name)!).push(result.p99Ms);
      if (run.path.name.startsWith('cutover'))
        (added.get(run.path.name) ?? added.set(run.path.name, []).get(run.path.name)!).push(over);
      console.log(
        `| ${index + 1} | ${run.path.name} | ${result.sent} | ${result.failed} | ${fixed(result.p50Ms, 2)} | ` +
          `${fixed(result.p99Ms, 2)} | ${fixed(result.maxMs, 1)} | ` +
          `${run.path.name.startsWith('cutover') ? fixed(over, 2) : ''} | ${fixed(run.stealLoad, 1)} |`,
      );
    }
  });
  console.log('');
  for (const [name, values] of p99s)
    console.log(`p99 through ${name}: median ${fixed(median(values), 2)} ms`);
  for (const [name, values] of added) {
    console.log(
      `added p99 over nginx through ${name}: median ${fixed(median(values), 2)} ms; per round ${values.map((value) => fixed(value, 2)).join(', ')}`,
    );
  }
  const beforeName = names[names.length - 1]!;
  const nowNames = names.slice(1, -1);
  const beforeAdded = median(added.get(beforeName)!);
  for (const name of nowNames) {
    const nowAdded = median(added.get(name)!);
    console.log(
      `${name} vs before: added p99 ${fixed(nowAdded, 2)} vs ${fixed(beforeAdded, 2)} ms ` +
        `(${fixed(nowAdded - beforeAdded, 2)} ms; ratio now ÷ before ${fixed(nowAdded / beforeAdded, 2)}), ` +
        `p99 ratio now ÷ before ${fixed(median(p99s.get(name)!) / median(p99s.get(beforeName)!), 2)}`,
    );
  }
  // Paired by round: both paths saw the same minute of the shared machine, so the difference
  // of their p99s in one round is freer of the machine's drift than the two medians are.
  for (const name of nowNames) {
    const nowP99 = p99s.get(name)!;
    const beforeP99 = p99s.get(beforeName)!;
    const paired = nowP99.map((value, index) => value - beforeP99[index]!);
    const worse = paired.filter((value) => value > 0).length;
    console.log(
      `${name} − before, paired by round: median ${fixed(median(paired), 2)} ms; now slower in ` +
        `${worse} of ${paired.length} rounds; per round ${paired.map((value) => fixed(value, 2)).join(', ')}`,
    );
  }
  console.log(`load average at the end: ${loadAverage()}`);
}

try {
  await main();
} finally {
  for (const stop of stops.reverse()) await stop();
  removeTempDirs();
}
