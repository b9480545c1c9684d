/**
 * A stand-in for the control plane's own work (synchronous SQLite writes, probe rounds, JSON for
 * the admin API), for the same-rate latency bench: `--control-work 2/100` keeps the cutover
 * process's event loop busy for 2 ms every 100 ms. It is loaded into the process the bench
 * starts (the control process), never into the proxy workers it forks: the in-process proxy of
 * before the workers change takes it on its own loop, the workers do not.
 *
 * Loaded with `node --import data:…` so that code built from any commit, plain JS without tsx,
 * runs it unchanged.
 */

export interface ControlWork {
  readonly busyMs: number;
  readonly everyMs: number;
}

/** "2/100" → 2 ms busy every 100 ms; undefined for undefined; throws on anything else. */
export function parseControlWork(spec: string | undefined): ControlWork | undefined {
  if (spec === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(spec);
  const busyMs = Number(match?.[1]);
  const everyMs = Number(match?.[2]);
  if (!match || !(busyMs > 0) || !(everyMs > busyMs))
    throw new Error(`--control-work wants BUSY/EVERY in ms with BUSY < EVERY, e.g. 2/100 (got ${spec})`);
  return { busyMs, everyMs };
}

/** The node options that load the busy loop into one process (its children are not given them). */
export function controlWorkExecArgv(work: ControlWork | undefined): string[] {
  if (work === undefined) return [];
  const code =
    `setInterval(() => { const end = performance.now() + ${work.busyMs}; ` +
    `while (performance.now() < end); }, ${work.everyMs}).unref();`;
  return ['--import', `data:text/javascript,${encodeURIComponent(code)}`];
}
