/**
 * What shadow comparison adds to the live path's p99, in one run:
 *
 *   node --import tsx bench/shadow-overhead.ts [--rate 2000] [--seconds 5] [--rounds 3]
 *   (npm run bench:shadow)
 *
 * Three builtin proxies (one worker each), blue live, green idle, both slots on one nginx
 * backend answering ~1 KiB of JSON: shadow off (no mirroring), mirroring only (every request
 * copied to green, the answer discarded), and shadow comparison (every request copied and its
 * answer compared with the live one, `$.ts` ignored). Each is loaded by the open-loop generator
 * (bench/lib/open-loop.ts) at the same fixed rate over 50 keep-alive connections, in interleaved
 * rounds so a change in unrelated load hits every path alike; the median per path is reported,
 * with the p99 each adds over "shadow off" in the same round.
 *
 * 100% mirroring is the worst case: a real deployment copies a share (`mirror.percent`).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg } from './lib/args.js';
import { removeTempDirs, spawnDaemon, startNginxBackend, type Daemon } from './lib/daemons.js';
import { fixed, loadAverage, median } from './lib/format.js';
import { freePort } from './lib/free-port.js';
import { runOpenLoop, type OpenLoopResult } from './lib/open-loop.js';

const RATE = numberArg('--rate', 2000);
const SECONDS = numberArg('--seconds', 5);
const ROUNDS = numberArg('--rounds', 3);
const CONNECTIONS = 50;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib/cutover-proxy-child.ts');

const JSON_BODY = JSON.stringify({
  ts: '2026-01-01T00:00:00Z',
  items: Array.from({ length: 12 }, (_, i) => ({
    id: i,
    name: `item ${i}`,
    price: i * 3.5,
    tags: ['a', 'b'],
  })),
  total: 12,
});

const PATHS = [
  { name: 'shadow off', mirror: undefined },
  { name: 'mirroring only', mirror: { percent: 100 } },
  { name: 'shadow comparison', mirror: { percent: 100, compare: { ignore: ['$.ts'] } } },
] as const;

const stops: Array<() => Promise<void> | void> = [];

async function startProxy(name: string, backendPort: number, mirror: object | undefined): Promise<Daemon> {
  const port = await freePort();
  return spawnDaemon(
    name,
    port,
    process.execPath,
    ['--import', 'tsx', CHILD, String(port), String(backendPort), String(backendPort)],
    {
      env: {
        ...process.env,
        CUTOVER_BENCH_WORKERS: '1',
        ...(mirror === undefined ? {} : { CUTOVER_BENCH_MIRROR: JSON.stringify(mirror) }),
      },
      readyMs: 30_000,
    },
  );
}

async function main(): Promise<void> {
  console.log(
    `shadow overhead bench — ${RATE} req/s open-loop over ${CONNECTIONS} keep-alive connections, ` +
      `${SECONDS}s per run after 1s not counted, ${ROUNDS} interleaved rounds, ${os.availableParallelism()} cores, ` +
      `1 proxy worker per path, ${JSON_BODY.length}-byte JSON answers, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(`load average at start: ${loadAverage()}`);
  const backend = await startNginxBackend({ body: JSON_BODY, contentType: 'application/json' });
  stops.push(() => backend.stop());
  const proxies: Daemon[] = [];
  for (const { name, mirror } of PATHS) {
    const proxy = await startProxy(name, backend.port, mirror);
    stops.push(() => proxy.stop());
    proxies.push(proxy);
  }
  // Warm-up: each path once, not counted (JIT, connection pools).
  for (const proxy of proxies) await runOpenLoop(`http://127.0.0.1:${proxy.port}/`, RATE, 1, 0, CONNECTIONS);

  const results = new Map<string, OpenLoopResult[]>(PATHS.map(({ name }) => [name, []]));
  const added = new Map<string, number[]>();
  console.log('\n| round | path | sent | failed | p50 ms | p99 ms | max ms | added p99 over shadow off ms |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (let round = 1; round <= ROUNDS; round += 1) {
    const runs: Array<{ name: string; result: OpenLoopResult }> = [];
    // Each round in another order: no path always runs right after the same one.
    const order = proxies.map((_, index) => (index + round) % proxies.length);
    for (const index of order) {
      const proxy = proxies[index]!;
      const result = await runOpenLoop(`http://127.0.0.1:${proxy.port}/`, RATE, SECONDS, 1, CONNECTIONS);
      runs.push({ name: proxy.name, result });
      results.get(proxy.name)!.push(result);
    }
    const off = runs.find((run) => run.name === 'shadow off')!.result;
    for (const { name, result } of runs) {
      const over = result.p99Ms - off.p99Ms;
      if (name !== 'shadow off') (added.get(name) ?? added.set(name, []).get(name)!).push(over);
      console.log(
        `| ${round} | ${name} | ${result.sent} | ${result.failed} | ${fixed(result.p50Ms, 2)} | ` +
          `${fixed(result.p99Ms, 2)} | ${fixed(result.maxMs, 1)} | ${name === 'shadow off' ? '' : fixed(over, 2)} |`,
      );
    }
  }
  console.log('');
  for (const [name, list] of results) {
    console.log(
      `${name}: p50 median ${fixed(median(list.map((r) => r.p50Ms)), 2)} ms, p99 median ${fixed(median(list.map((r) => r.p99Ms)), 2)} ms`,
    );
  }
  for (const [name, values] of added) {
    console.log(
      `added p99 with ${name}: median ${fixed(median(values), 2)} ms; per round ${values.map((value) => fixed(value, 2)).join(', ')}`,
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
