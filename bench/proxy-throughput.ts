/**
 * Throughput, latency and memory of cutover's builtin proxy next to its peers, in one run:
 *
 *   node --import tsx bench/proxy-throughput.ts [--seconds 5] [--rounds 3] [--nice -10] [--no-pin]
 *     [--latency-shares 0.5,0.25] [--no-own-half]
 *
 * Every path is measured in ROUNDS interleaved rounds (direct, cutover, nginx, HAProxy,
 * http-proxy, then again …) and the median round is reported, so a change in unrelated load
 * on a shared machine hits every path alike instead of one proxy's whole run.
 *
 * `--nice N` runs every bench process (wrk, the backend, the proxies alike) at that nice level,
 * so unrelated work on a shared machine takes less of their cores' time (negative values need
 * root). With 2+ cores, wrk, the nginx backend and this process run on the first cores and the
 * proxy under test alone on the last core (`taskset`), so each proxy gets a whole core and
 * req/s reflects its cost rather than how the scheduler shared the machine with wrk and the
 * backend. On a machine busy with other work that backfires (the pinned proxy cannot move off
 * a busy core): `--no-pin` leaves placement to the scheduler. The table's "proxy CPU %" column
 * says whether each proxy really had its core (≈ 100) or was starved.
 *
 * 1. wrk (1 thread, 50 keep-alive connections) against a fast backend (nginx, 1 worker,
 *    `return 200`), directly and through: cutover, nginx (1 worker, upstream keep-alive),
 *    HAProxy (nbthread 1), node-http-proxy (keep-alive agent). req/s, p50/p99, and the proxy
 *    process's CPU time per request (steadier than req/s on a shared machine).
 * 2. p99 added latency at half of cutover's max rate: an open-loop fixed-rate generator
 *    (bench/lib/open-loop.ts), directly and through cutover, nginx and HAProxy at that same
 *    rate, with each proxy's CPU per request and the CPUs' steal during each run
 *    (bench/lib/latency-runs.ts).
 *    2b. The same criterion applied to the peers: nginx and HAProxy each at half of its *own*
 *    max rate (`--no-own-half` leaves this out), which tells whether this machine can show a
 *    1 ms budget at that load for any proxy.
 * 3. RSS of the cutover proxy process holding 10,000 idle keep-alive client connections.
 *
 * Every daemon runs from its own temp config and is stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import {
  getCpuPlan,
  lastCorePlan,
  removeTempDirs,
  setCpuPlan,
  startHaproxy,
  startNginxBackend,
  startNginxProxy,
  startNodeProxy,
  type Daemon,
} from './lib/daemons.js';
import { compileBenchChildren } from './lib/compile.js';
import { openIdleConnections } from './lib/idle-connections.js';
import { fixed, loadAverage, median } from './lib/format.js';
import { DIRECT_PATH, latencyRounds, printLatency } from './lib/latency-runs.js';
import { cpuSeconds, rssMb } from './lib/process-stats.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { listArg, numberArg } from './lib/args.js';

/** Seconds of wrk per path per round. */
const SECONDS = numberArg('--seconds', 5);
/** Rounds over all paths, interleaved: a change in unrelated load then hits every path alike. */
const ROUNDS = numberArg('--rounds', 3);
const CONNECTIONS = 50;
const IDLE_CONNECTIONS = 10_000;
const LATENCY_ROUNDS = 3;
const LATENCY_SECONDS = 5;
/**
 * Rates of the latency part, as shares of cutover's max req/s: the target is at 0.5;
 * `--latency-shares 0.5,0.25` adds a lighter load, to see how the tail follows the load.
 */
const LATENCY_SHARES = (listArg('--latency-shares') ?? ['0.5']).map(Number);
/** Step 2b, nginx and HAProxy each at half of its own max rate; `--no-own-half` leaves it out. */
const OWN_HALF = !process.argv.includes('--no-own-half');
const PIN = !process.argv.includes('--no-pin') && os.availableParallelism() >= 2;
const NICE = process.argv.includes('--nice') ? numberArg('--nice', 0) : undefined;

interface Row {
  readonly name: string;
  readonly wrk: WrkResult;
  readonly cpuUsPerRequest: number | undefined;
  /** Share of one core the proxy process used during the run (100 = a whole core). */
  readonly cpuPercent: number | undefined;
}

const daemons: Daemon[] = [];
const stopAll = async (): Promise<void> => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.stop();
  removeTempDirs();
};
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

async function measure(name: string, port: number, pid: number | undefined): Promise<Row> {
  const url = `http://127.0.0.1:${port}/`;
  const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
  const wrk = await runWrk(url, { connections: CONNECTIONS, seconds: SECONDS });
  const cpuUsed = pid === undefined ? 0 : cpuSeconds(pid) - cpuBefore;
  const requests = wrk.requestsPerSecond * SECONDS;
  return {
    name,
    wrk,
    cpuUsPerRequest: pid === undefined ? undefined : (cpuUsed / requests) * 1e6,
    cpuPercent: pid === undefined ? undefined : (cpuUsed / SECONDS) * 100,
  };
}

/** The round whose req/s is the median of the path's rounds (its latency and CPU go with it). */
function medianRow(rounds: readonly Row[]): Row {
  const sorted = [...rounds].sort((a, b) => a.wrk.requestsPerSecond - b.wrk.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const limit = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  const cores = os.availableParallelism();
  if (PIN || NICE !== undefined) {
    const all = `0-${cores - 1}`;
    setCpuPlan({
      ...(PIN ? lastCorePlan(cores) : { load: all, proxy: all }),
      ...(NICE === undefined ? {} : { nice: NICE }),
    });
  }
  const plan = getCpuPlan();
  console.log(
    `cutover proxy bench — wrk -t1 -c${CONNECTIONS} -d${SECONDS}s × ${ROUNDS} rounds, ulimit -n ${limit}, node ${process.version}, ` +
      `${new Date().toISOString()}`,
  );
  console.log(
    !PIN
      ? `${cores} cores, not pinned`
      : `${cores} cores: wrk, backend and open-loop generator on CPU ${plan!.load}; proxy under test alone on CPU ${plan!.proxy}`,
  );
  if (plan?.nice !== undefined) console.log(`every bench process at nice ${plan.nice}`);
  console.log(`load average at start: ${loadAverage()}`);
  if (os.loadavg()[0]! > 1)
    console.log('warning: the machine is busy with other work; figures will be low and noisy');

  compileBenchChildren();
  const backend = await startNginxBackend();
  daemons.push(backend);
  const cutover = await startNodeProxy('cutover builtin', 'cutover-proxy-child.ts', backend.port);
  daemons.push(cutover);
  const peers = [
    cutover,
    await startNginxProxy(backend.port),
    await startHaproxy(backend.port),
    await startNodeProxy('http-proxy', 'http-proxy-child.ts', backend.port),
  ];
  daemons.push(...peers.slice(1));

  const paths = [{ name: DIRECT_PATH, port: backend.port, pid: undefined as number | undefined }];
  for (const peer of peers) paths.push({ name: peer.name, port: peer.port, pid: peer.pid });
  for (const path of paths)
    await runWrk(`http://127.0.0.1:${path.port}/`, { connections: CONNECTIONS, seconds: 2 }); // warm-up (JIT, pools)
  const rounds = new Map<string, Row[]>(paths.map((path) => [path.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const path of paths) rounds.get(path.name)!.push(await measure(path.name, path.port, path.pid));
  }
  const rows = paths.map((path) => medianRow(rounds.get(path.name)!));

  const byName = (name: string): Row | undefined => rows.find((row) => row.name === name);
  const nginxRps = byName('nginx')?.wrk.requestsPerSecond ?? NaN;
  const httpProxyRps = byName('http-proxy')?.wrk.requestsPerSecond ?? NaN;
  const cutoverRow = byName('cutover builtin')!;

  console.log(
    `\n1. Throughput (fast backend: nginx \`return 200\`, 12-byte body), ${ROUNDS} interleaved rounds of ${SECONDS}s per path; the median round per path\n`,
  );
  console.log(
    '| path | req/s (median) | req/s each round | p50 ms | p99 ms | proxy CPU µs/req | proxy CPU % | ÷ nginx | errors |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const { wrk } = row;
    const each = rounds
      .get(row.name)!
      .map((round) => Math.round(round.wrk.requestsPerSecond))
      .join(' / ');
    const errors = rounds
      .get(row.name)!
      .reduce((sum, round) => sum + round.wrk.socketErrors + round.wrk.non2xx, 0);
    console.log(
      `| ${row.name} | ${Math.round(wrk.requestsPerSecond)} | ${each} | ${fixed(wrk.p50Ms, 2)} | ${fixed(wrk.p99Ms, 2)} | ${fixed(
        median(rounds.get(row.name)!.map((round) => round.cpuUsPerRequest ?? NaN)),
        1,
      )} | ${fixed(row.cpuPercent, 0)} | ${fixed(wrk.requestsPerSecond / nginxRps, 2)} | ${errors} |`,
    );
  }
  const perRound = (other: string): string =>
    rounds
      .get('cutover builtin')!
      .map((row, index) =>
        fixed(row.wrk.requestsPerSecond / rounds.get(other)![index]!.wrk.requestsPerSecond, 3),
      )
      .join(', ');
  const cpuOf = (name: string): number =>
    median(rounds.get(name)!.map((round) => round.cpuUsPerRequest ?? NaN));
  // Three decimals and a verdict: 0.498 printed as "0.50" would read as the target met.
  const verdict = (ratio: number, target: number): string =>
    `${fixed(ratio, 3)} (target ≥ ${target}: ${ratio >= target ? 'met' : 'NOT met'}`;
  console.log(
    `\ncutover ÷ nginx = ${verdict(cutoverRow.wrk.requestsPerSecond / nginxRps, 0.5)}; per round ${perRound('nginx')})` +
      `\ncutover ÷ http-proxy = ${verdict(cutoverRow.wrk.requestsPerSecond / httpProxyRps, 2.5)}; per round ${perRound('http-proxy')})` +
      `\nin CPU per request: http-proxy ÷ cutover = ${fixed(cpuOf('http-proxy') / cpuOf('cutover builtin'), 2)}, ` +
      `cutover ÷ nginx = ${fixed(cpuOf('cutover builtin') / cpuOf('nginx'), 2)}`,
  );
  console.log(`load average after the throughput runs: ${loadAverage()}`);

  // 2. Added latency at half of cutover's max rate, the same rate for every path. nginx and
  // HAProxy run it too: what they add on the same machine in the same minute tells how much of
  // a tail is the machine's (steal, a busy core) and how much the proxy's.
  const httpProxy = peers[3]!;
  await httpProxy.stop(); // its max rate is below this one: it would only measure its queue
  daemons.splice(daemons.indexOf(httpProxy), 1);
  const latencyPaths = paths.filter((path) => path.name !== 'http-proxy');
  /** Median added p99 of each proxy at half of its own max rate. */
  const atOwnHalf = new Map<string, number | undefined>();
  for (const share of LATENCY_SHARES) {
    const rate = Math.round(cutoverRow.wrk.requestsPerSecond * share);
    const runs = await latencyRounds(latencyPaths, rate, LATENCY_ROUNDS, LATENCY_SECONDS, plan);
    const title = `2. Open-loop latency at ${rate} req/s (${share} × cutover's max)`;
    const judged = share === 0.5 ? 'cutover builtin' : undefined;
    const added = printLatency(runs, title, LATENCY_SECONDS, judged);
    if (judged !== undefined) atOwnHalf.set(judged, added);
  }
  // The same criterion applied to the peers: each at half of *its own* max rate, where its
  // core is as loaded as cutover's is at half of cutover's. Whether nginx and HAProxy keep
  // their added p99 within 1 ms there tells whether this machine can show the target at all.
  if (OWN_HALF) {
    for (const name of ['nginx', 'HAProxy']) {
      const peer = latencyPaths.find((path) => path.name === name)!;
      const rate = Math.round(byName(name)!.wrk.requestsPerSecond / 2);
      const direct = latencyPaths.find((path) => path.name === DIRECT_PATH)!;
      const runs = await latencyRounds([direct, peer], rate, LATENCY_ROUNDS, LATENCY_SECONDS, plan);
      const title = `2b. Open-loop latency at ${rate} req/s (0.5 × ${name}'s own max)`;
      atOwnHalf.set(name, printLatency(runs, title, LATENCY_SECONDS, name));
    }
  }
  if (atOwnHalf.size > 1) {
    const each = [...atOwnHalf].map(([name, added]) => `${name} ${fixed(added, 2)} ms`).join(', ');
    console.log(`\nadded p99 at half of each proxy's own max rate (target ≤ 1 ms): ${each}`);
  }
  console.log(`load average after the latency runs: ${loadAverage()}`);
  for (const peer of peers.slice(1, 3)) {
    await peer.stop();
    daemons.splice(daemons.indexOf(peer), 1);
  }

  // 3. Memory with 10,000 idle keep-alive client connections.
  if (limit !== 'unlimited' && Number(limit) < IDLE_CONNECTIONS + 200) {
    console.log(
      `\n3. Memory: skipped — ulimit -n is ${limit}; raise it above ${IDLE_CONNECTIONS + 200} (ulimit -n 20000)`,
    );
    return;
  }
  await cutover.stop();
  daemons.splice(daemons.indexOf(cutover), 1);
  const fresh = await startNodeProxy('cutover builtin', 'cutover-proxy-child.ts', backend.port);
  daemons.push(fresh);
  await runWrk(`http://127.0.0.1:${fresh.port}/`, { connections: CONNECTIONS, seconds: 1 });
  const rssBefore = rssMb(fresh.pid);
  const idle = await openIdleConnections(fresh.port, IDLE_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssHeld = rssMb(fresh.pid);
  idle.close();
  console.log(
    `\n3. Memory: ${idle.open} idle keep-alive client connections (${idle.failed} failed to open)\n`,
  );
  console.log('| cutover proxy process | RSS MB |');
  console.log('| --- | ---: |');
  console.log(`| warm, no idle connections | ${fixed(rssBefore, 1)} |`);
  console.log(`| holding ${idle.open} idle connections | ${fixed(rssHeld, 1)} |`);
  console.log(`\nRSS holding ${idle.open} idle connections = ${fixed(rssHeld, 1)} MB (target ≤ 150 MB)`);
}

try {
  await main();
} finally {
  await stopAll();
}
