/**
 * The builtin proxy at 1 and N worker processes next to nginx at 1 and N workers
 * (`worker_processes`) and HAProxy at 1 and N threads (`nbthread`), in one run, with the same
 * load generator (wrk, keep-alive) against the same backend:
 *
 *   node --import tsx bench/proxy-workers.ts        (npm run bench:workers)
 *
 * N is the number of cores. Prints req/s and p99 per path, builtin ÷ nginx at 1 (target ≥ 0.5)
 * and the N ÷ 1 scaling of each proxy side by side. Nothing is pinned: on a small machine wrk
 * and the backend share the cores with the proxy under test, which caps every N-way figure —
 * the output says so. Environment: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (50),
 * BENCH_ROUNDS (3; the median round is kept).
 */
import os from 'node:os';
import { compileBenchChildren } from './lib/compile.js';
import {
  removeTempDirs,
  startHaproxy,
  startNginxBackend,
  startNginxProxy,
  startNodeProxy,
  type Daemon,
} from './lib/daemons.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = os.availableParallelism();

const daemons: Daemon[] = [];

async function startBuiltin(workers: number, backendPort: number): Promise<Daemon> {
  process.env.CUTOVER_BENCH_WORKERS = String(workers);
  const daemon = await startNodeProxy(`cutover builtin ×${workers}`, 'cutover-proxy-child.ts', backendPort);
  delete process.env.CUTOVER_BENCH_WORKERS;
  return daemon;
}

function median(results: WrkResult[]): WrkResult {
  return [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[
    Math.floor(results.length / 2)
  ]!;
}

const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  console.log(
    `proxy workers bench — wrk -t1 -c${CONNECTIONS} -d${SECONDS}s × ${ROUNDS} rounds, N = ${N} cores, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `not pinned: wrk, the nginx backend and the proxy under test share the ${N} cores, so N-way scaling is capped; compare within this run only`,
  );
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
  compileBenchChildren();
  const backend = await startNginxBackend();
  daemons.push(backend);
  const paths: Daemon[] = [];
  for (const start of [
    () => startBuiltin(1, backend.port),
    () => startBuiltin(N, backend.port),
    () => startNginxProxy(backend.port, 1),
    () => startNginxProxy(backend.port, N),
    () => startHaproxy(backend.port, 1),
    () => startHaproxy(backend.port, N),
  ]) {
    const daemon = await start();
    daemons.push(daemon);
    paths.push(daemon);
  }
  for (const path of paths)
    await runWrk(`http://127.0.0.1:${path.port}/`, { connections: CONNECTIONS, seconds: 2 });
  const rounds = new Map<string, WrkResult[]>(paths.map((path) => [path.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const path of paths) {
      rounds
        .get(path.name)!
        .push(await runWrk(`http://127.0.0.1:${path.port}/`, { connections: CONNECTIONS, seconds: SECONDS }));
    }
  }
  const result = new Map([...rounds].map(([name, results]) => [name, median(results)]));
  console.log('\n| path | req/s | p50 ms | p99 ms | socket errors | non-2xx |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, wrk] of result) {
    console.log(
      `| ${name} | ${Math.round(wrk.requestsPerSecond)} | ${fixed(wrk.p50Ms)} | ${fixed(wrk.p99Ms)} | ${wrk.socketErrors} | ${wrk.non2xx} |`,
    );
  }
  const rps = (name: string): number => result.get(name)?.requestsPerSecond ?? NaN;
  const builtin1 = rps('cutover builtin ×1');
  const builtinN = rps(`cutover builtin ×${N}`);
  const nginx1 = rps('nginx');
  const nginxN = rps(`nginx ×${N}`);
  const haproxy1 = rps('HAProxy');
  const haproxyN = rps(`HAProxy ×${N}`);
  const ratio = builtin1 / nginx1;
  console.log(
    `\nbuiltin ×1 ÷ nginx ×1 = ${fixed(ratio)} (${ratio >= 0.5 ? 'meets' : 'misses'} the 0.5 target)`,
  );
  console.log(`builtin ×${N} ÷ nginx ×${N} = ${fixed(builtinN / nginxN)}`);
  console.log(
    `scaling ×${N} ÷ ×1: builtin ${fixed(builtinN / builtin1)}, nginx ${fixed(nginxN / nginx1)}, HAProxy ${fixed(haproxyN / haproxy1)}`,
  );
  const p99 = (name: string): number => result.get(name)?.p99Ms ?? NaN;
  console.log(
    `p99 at max rate, builtin ÷ nginx: ×1 ${fixed(p99('cutover builtin ×1') / p99('nginx'))}, ×${N} ${fixed(p99(`cutover builtin ×${N}`) / p99(`nginx ×${N}`))}`,
  );
}

try {
  await main();
} finally {
  await Promise.all(daemons.map((daemon) => daemon.stop()));
  removeTempDirs();
}
