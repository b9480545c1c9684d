/**
 * How each router behaves when traffic is switched under keep-alive load.
 *
 *   node --import tsx bench/router-switching.ts [router …] [--switches 100] [--connections 50]
 *
 * For each router (default: all of HARNESSES, with nginx's variants and its lua mode): two version
 * backends, 50 keep-alive client connections (test/support/load.ts), then ≥100 atomic switches
 * blue⇄green. Per switch it records the client-side errors, how long setWeights took, the time
 * from the command to the first response from the new slot, and to the last response from the
 * old slot (sampled from the load's counters every millisecond, so ±1–2 ms). One table at the end.
 */
import { silentLogger } from '../src/shared/logger.js';
import { otherSlot, weightsAllOn, type Slot } from '../src/shared/slot.js';
import type { Router } from '../src/shared/router.js';
import { startVersionBackend, type VersionBackend } from '../test/support/backend.js';
import { startLoad, waitFor, type LoadStats, type RunningLoad } from '../test/support/load.js';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

interface BenchTarget {
  router: Router;
  publicUrl: string;
  teardown(): Promise<void>;
}

/**
 * The usual advice for smoother nginx reloads. Measured here it does not lower the client
 * errors a reload causes (docs/routers.md); it stays as a row so the claim can be re-checked.
 */
const NGINX_RELOAD_TUNING = {
  main: ['worker_shutdown_timeout 10s;'],
  http: ['keepalive_timeout 75s;', 'keepalive_requests 100000;', 'lingering_close always;'],
  location: ['proxy_next_upstream error timeout http_502;'],
};

/** One entry per router; a module that is not written yet makes its row say so. */
const HARNESSES: Record<string, () => Promise<BenchTarget>> = {
  builtin: async () => {
    const { createBuiltinRouter } = await import('../src/routers/builtin/builtin-router.js');
    const { builtinRouterConfig } = await import('../src/routers/builtin/config.js');
    const router = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }),
      { logger: silentLogger },
    );
    await router.open();
    const { port } = router.address().live;
    return { router, publicUrl: `http://127.0.0.1:${port}/`, teardown: () => router.close() };
  },
  nginx: async () => (await import('../test/support/daemons/nginx.js')).startNginxHarness(),
  'nginx-tuned': async () =>
    (await import('../test/support/daemons/nginx.js')).startNginxHarness(NGINX_RELOAD_TUNING),
  'nginx-no-client-keepalive': async () =>
    (await import('../test/support/daemons/nginx.js')).startNginxHarness({ http: ['keepalive_timeout 0;'] }),
  // router.mode: lua — the routing table in shared memory, changed without a reload.
  'nginx-lua': async () =>
    (await import('../test/support/daemons/nginx.js')).startNginxHarness({ mode: 'lua' }),
  haproxy: async () => (await import('../test/support/daemons/haproxy.js')).startHaproxyHarness(),
  varnish: async () => {
    const module = (await import('../test/support/daemons/varnish.js')) as Record<string, unknown>;
    return callHarness(module, 'startVarnishHarness');
  },
  caddy: async () => {
    // A path in a variable: the Caddy harness is another helper's, and may not exist yet.
    const file = '../test/support/daemons/caddy.js';
    const module = (await import(file)) as Record<string, unknown>;
    return callHarness(module, 'startCaddyHarness');
  },
};
const DEFAULT_ROUTERS = [
  'builtin',
  'nginx',
  'nginx-tuned',
  'nginx-no-client-keepalive',
  'nginx-lua',
  'haproxy',
  'varnish',
  'caddy',
];

async function callHarness(module: Record<string, unknown>, name: string): Promise<BenchTarget> {
  const start = module[name];
  if (typeof start !== 'function') throw new NotBuiltYet(`${name} is not exported yet`);
  return (await (start as () => Promise<BenchTarget>)()) satisfies BenchTarget;
}

class NotBuiltYet extends Error {}

interface SwitchSample {
  errors: number;
  resolveMs: number;
  firstNewMs: number | undefined;
  lastOldMs: number;
}

interface RouterResult {
  router: string;
  note?: string;
  samples: SwitchSample[];
  requestsPerSecond: number;
  totalErrors: number;
  firstErrors: string[];
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const SWITCHES = option('switches', 100);
const CONNECTIONS = option('connections', 50);
/** A switch is over when the old slot has answered nothing for this long. */
const QUIET_MS = 100;

/**
 * The load and the version backends run in a worker thread, so the router under test (main
 * thread) does not queue behind 50 connections of client work, and the per-millisecond sampler
 * does not queue behind the router. Times cross threads as absolute high-resolution instants.
 */
type ToLoad =
  | { type: 'load'; url: string }
  | { type: 'switch'; from: Slot; to: Slot; issuedAt: number }
  | { type: 'resolved' }
  | { type: 'stop' };
type FromLoad =
  | { type: 'backends'; blue: number; green: number }
  | { type: 'warm' }
  | { type: 'sample'; sample: Omit<SwitchSample, 'resolveMs'> }
  | { type: 'stopped'; sent: number; failed: number; seconds: number; firstErrors: string[] }
  | { type: 'error'; message: string };

const now = (): number => performance.timeOrigin + performance.now();

if (isMainThread) {
  const requested = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const routers = requested.length > 0 ? requested : DEFAULT_ROUTERS;
  const results: RouterResult[] = [];
  for (const name of routers) {
    process.stderr.write(`${name}: `);
    results.push(await benchRouter(name));
    process.stderr.write('done\n');
  }
  printTable(results);
} else {
  runLoadThread();
}

/** A message channel to the load thread with "wait for the next message of this type". */
function loadThread(): {
  send(message: ToLoad): void;
  next<T extends FromLoad['type']>(type: T): Promise<Extract<FromLoad, { type: T }>>;
  close(): Promise<number>;
} {
  // Workers do not inherit `--import tsx` on Node 20: register the TypeScript loader, then load this file.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, argv: args });
  const inbox: FromLoad[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (message: FromLoad) => {
    inbox.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  return {
    send: (message) => worker.postMessage(message),
    next: async (type) => {
      for (;;) {
        if (failure !== undefined) throw failure;
        const index = inbox.findIndex((message) => message.type === type || message.type === 'error');
        if (index >= 0) {
          const [message] = inbox.splice(index, 1);
          if (message?.type === 'error') throw new Error(message.message);
          return message as Extract<FromLoad, { type: typeof type }>;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close: () => worker.terminate(),
  };
}

async function benchRouter(name: string): Promise<RouterResult> {
  const empty = { router: name, samples: [], requestsPerSecond: 0, totalErrors: 0, firstErrors: [] };
  const harness = HARNESSES[name];
  if (harness === undefined) {
    return { ...empty, note: `unknown router (known: ${Object.keys(HARNESSES).join(', ')})` };
  }
  const load = loadThread();
  let target: BenchTarget | undefined;
  try {
    const ports = await load.next('backends');
    target = await harness().catch((error: unknown) => {
      if (error instanceof NotBuiltYet || (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
        throw new NotBuiltYet('not built yet');
      }
      throw error;
    });
    const { router } = target;
    await router.open();
    await router.prepare({
      blue: [{ id: 'blue', host: '127.0.0.1', port: ports.blue }],
      green: [{ id: 'green', host: '127.0.0.1', port: ports.green }],
    });
    await router.setWeights(weightsAllOn('blue'));
    load.send({ type: 'load', url: target.publicUrl });
    await load.next('warm');
    const samples: SwitchSample[] = [];
    let live: Slot = 'blue';
    for (let i = 0; i < SWITCHES; i++) {
      const next = otherSlot(live);
      const issuedAt = now();
      load.send({ type: 'switch', from: live, to: next, issuedAt });
      await router.setWeights(weightsAllOn(next));
      const resolveMs = now() - issuedAt;
      load.send({ type: 'resolved' });
      const { sample } = await load.next('sample');
      samples.push({ ...sample, resolveMs });
      live = next;
      if (i % 10 === 9) process.stderr.write('.');
    }
    load.send({ type: 'stop' });
    const stopped = await load.next('stopped');
    return {
      router: name,
      samples,
      requestsPerSecond: stopped.sent / stopped.seconds,
      totalErrors: stopped.failed,
      firstErrors: stopped.firstErrors.slice(0, 3),
    };
  } catch (error) {
    if (error instanceof NotBuiltYet) return { ...empty, note: 'not built yet' };
    return {
      ...empty,
      note: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    };
  } finally {
    if (target !== undefined) {
      await target.router.close();
      await target.teardown();
    }
    await load.close();
  }
}

/** The worker side: backends, the keep-alive load, and one sampler per switch. */
function runLoadThread(): void {
  const port = parentPort;
  if (port === null) return;
  const post = (message: FromLoad) => port.postMessage(message);
  let backends: VersionBackend[] = [];
  let load: RunningLoad | undefined;
  let startedAt = 0;
  let base: LoadStats | undefined;
  /** Counters when the warm-up ended: the table counts from here. */
  let warm: LoadStats | undefined;
  let resolved = false;
  let current:
    | {
        from: Slot;
        to: Slot;
        issuedAt: number;
        firstNewMs?: number;
        lastOldMs: number;
        oldCount: number;
        lastChange: number;
        timer: NodeJS.Timeout;
      }
    | undefined;

  const fail = (error: unknown) =>
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });

  const sampleTick = () => {
    if (current === undefined || load === undefined || base === undefined) return;
    const at = now();
    const stats = load.stats();
    if (
      current.firstNewMs === undefined &&
      (stats.bodies[current.to] ?? 0) > (base.bodies[current.to] ?? 0)
    ) {
      current.firstNewMs = at - current.issuedAt;
    }
    if ((stats.bodies[current.from] ?? 0) > current.oldCount) {
      current.oldCount = stats.bodies[current.from] ?? 0;
      current.lastOldMs = at - current.issuedAt;
      current.lastChange = at;
    }
    if (resolved && current.firstNewMs !== undefined && at - current.lastChange > QUIET_MS) {
      clearInterval(current.timer);
      post({
        type: 'sample',
        sample: {
          errors: stats.failed - base.failed,
          firstNewMs: current.firstNewMs,
          lastOldMs: current.lastOldMs,
        },
      });
      current = undefined;
    }
  };

  port.on('message', (message: ToLoad) => {
    switch (message.type) {
      case 'load': {
        load = startLoad({ url: message.url, connections: CONNECTIONS, maxDurationMs: 30 * 60_000 });
        const running = load;
        waitFor(() => (running.stats().bodies.blue ?? 0) > 1000, {
          timeoutMs: 10_000,
          what: 'load to warm up',
        })
          .then(() => {
            startedAt = now();
            base = running.stats();
            warm = base;
            post({ type: 'warm' });
          })
          .catch(fail);
        return;
      }
      case 'switch': {
        if (load === undefined) return;
        base = load.stats();
        resolved = false;
        current = {
          from: message.from,
          to: message.to,
          issuedAt: message.issuedAt,
          lastOldMs: 0,
          oldCount: base.bodies[message.from] ?? 0,
          lastChange: message.issuedAt,
          timer: setInterval(sampleTick, 1),
        };
        return;
      }
      case 'resolved':
        resolved = true;
        return;
      case 'stop': {
        const running = load;
        if (running === undefined) return;
        running
          .stop()
          .then(async (stats) => {
            await Promise.all(backends.map((backend) => backend.close()));
            post({
              type: 'stopped',
              sent: stats.sent - (warm?.sent ?? 0),
              failed: stats.failed - (warm?.failed ?? 0),
              seconds: (now() - startedAt) / 1000,
              firstErrors: stats.firstErrors,
            });
          })
          .catch(fail);
        return;
      }
    }
  });

  Promise.all([startVersionBackend('blue'), startVersionBackend('green')])
    .then((started) => {
      backends = started;
      post({ type: 'backends', blue: started[0].port, green: started[1].port });
    })
    .catch(fail);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function printTable(rows: RouterResult[]): void {
  const ms = (values: number[]) =>
    values.length === 0 ? '-' : `${percentile(values, 50).toFixed(1)} / ${percentile(values, 95).toFixed(1)}`;
  const header = [
    'router',
    'switches',
    'req/s',
    'client errors',
    'errors/switch',
    'setWeights ms p50/p95',
    '→ first new ms p50/p95',
    '→ last old ms p50/p95',
  ];
  const lines = rows.map((row) =>
    row.note !== undefined
      ? [row.router, row.note, '', '', '', '', '', '']
      : [
          row.router,
          String(row.samples.length),
          row.requestsPerSecond.toFixed(0),
          String(row.totalErrors),
          (row.totalErrors / Math.max(1, row.samples.length)).toFixed(2),
          ms(row.samples.map((sample) => sample.resolveMs)),
          ms(row.samples.flatMap((sample) => (sample.firstNewMs === undefined ? [] : [sample.firstNewMs]))),
          ms(row.samples.map((sample) => sample.lastOldMs)),
        ],
  );
  console.log(
    `\n${CONNECTIONS} keep-alive connections, ${SWITCHES} switches per router (node ${process.version})\n`,
  );
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  for (const row of rows) {
    if (row.firstErrors.length > 0)
      console.log(`\n${row.router} first errors: ${row.firstErrors.join('; ')}`);
  }
}
