/**
 * Runs cutover's builtin router in its own process for the benches:
 *   node --import tsx bench/lib/cutover-proxy-child.ts <port> <blueBackendPort> [greenBackendPort]
 * Blue is live. Over the IPC channel (when spawned with one), the message 'switch' moves all
 * traffic to the other slot, drains the old one with a deadline of CUTOVER_BENCH_DRAIN_MS
 * (default 5000) and answers { live, deadline }; 'status' answers the drain counts.
 * CUTOVER_BENCH_WORKERS sets router.workers (default: one per core). CUTOVER_BENCH_MIRROR, a JSON
 * object, sets router.mirror (copies to green, the idle slot, e.g. with `compare`).
 */
import { silentLogger } from '../../src/shared/logger.js';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';

const [port, bluePort, greenPort] = process.argv.slice(2).map(Number);
const router = createBuiltinRouter(
  builtinRouterConfig.parse({
    kind: 'builtin',
    listen: `127.0.0.1:${port ?? 0}`,
    ...(process.env.CUTOVER_BENCH_WORKERS ? { workers: Number(process.env.CUTOVER_BENCH_WORKERS) } : {}),
    ...(process.env.CUTOVER_BENCH_MIRROR
      ? { mirror: JSON.parse(process.env.CUTOVER_BENCH_MIRROR) as unknown }
      : {}),
  }),
  { logger: silentLogger },
);
await router.open();
await router.prepare({
  blue: [{ id: 'blue-1', host: '127.0.0.1', port: bluePort ?? 0 }],
  green: greenPort ? [{ id: 'green-1', host: '127.0.0.1', port: greenPort }] : [],
});
await router.setWeights({ blue: 100, green: 0 });

let live: 'blue' | 'green' = 'blue';
const drainMs = Number(process.env.CUTOVER_BENCH_DRAIN_MS ?? 5000);

process.on('message', (message) => {
  if (message === 'switch') {
    const old = live;
    live = live === 'blue' ? 'green' : 'blue';
    const deadline = new Date(Date.now() + drainMs);
    void router
      .setWeights(live === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 })
      .then(() => router.drain(old, { deadline }))
      .then(() => process.send?.({ live, deadline: deadline.getTime() }));
  } else if (message === 'status') {
    void Promise.all([router.drainStatus('blue'), router.drainStatus('green')]).then(([blue, green]) =>
      process.send?.({ blue, green }),
    );
  }
});
process.on('SIGTERM', () => {
  // What the comparisons saw, so a bench can show they ran (differing pairs would be a bench bug).
  if (process.env.CUTOVER_BENCH_MIRROR)
    process.stderr.write(`shadow comparisons at green: ${JSON.stringify(router.shadow.counts().green)}\n`);
  void router.close().then(() => process.exit(0));
});
