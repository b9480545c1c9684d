/**
 * What going from 1 to 8 hosts costs a deploy on the ssh platform, with the hosts worked on at
 * once (`concurrency: 8`) and one after another (`concurrency: 1`).
 *
 *   npm run bench:ssh -- [--hosts 1,4,8] [--runs 3] [--rate 20mbit]
 *
 * Real sshd hosts in network namespaces (test/support/daemons/sshd.ts). Each timed run is a
 * provision of one slot from nothing by a fresh platform object: the SSH logins, the upload of
 * the release (the release dirs are removed before each run), the start of 2 instances per host
 * and the wait until they accept connections. `--rate` throttles every host's link (tc tbf) so
 * the network, not this machine's 2 cores, sets the pace. Prints the median per row and the
 * ratios: T(n hosts)/T(1 host) for each mode, and serial/concurrent at each size.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../src/shared/logger.js';
import { sshPlatformConfig } from '../src/platforms/ssh/config.js';
import { createSshPlatform } from '../src/platforms/ssh/ssh-platform.js';
import { startSshFleet } from '../test/support/daemons/sshd.js';
import { appProcesses, writeReleases } from '../test/platforms/ssh-fixture.js';
import { listArg, numberArg } from './lib/args.js';
import { fixed, loadAverage, median } from './lib/format.js';

const sizes = (listArg('--hosts') ?? ['1', '4', '8']).map(Number);
const runs = numberArg('--runs', 3);
const rateIndex = process.argv.indexOf('--rate');
const rate = rateIndex > 0 ? process.argv[rateIndex + 1] : undefined;
const app = 'bench';

const fleet = await startSshFleet(Math.max(...sizes));
try {
  await writeReleases(fleet.dir, ['v1']);
  if (rate) for (const host of fleet.hosts) host.throttle(rate);
  const config = (hostCount: number, concurrency: number) =>
    sshPlatformConfig.parse({
      kind: 'ssh',
      hosts: fleet.hosts.slice(0, hostCount).map((host) => ({ host: host.address })),
      user: 'root',
      identityFile: fleet.identityFile,
      knownHosts: fleet.knownHosts,
      root: fleet.root,
      artifact: { path: 'releases/${RELEASE}' },
      start: `exec ${process.execPath} version-app.js --host 0.0.0.0`,
      portRange: { from: 23_000, to: 23_099 },
      instancesPerHost: 2,
      concurrency,
      stopGrace: '1s',
    });

  const timeOne = async (hostCount: number, concurrency: number): Promise<number> => {
    for (const host of fleet.hosts)
      await rm(path.join(host.rootOnDisk, 'releases'), { recursive: true, force: true });
    const platform = createSshPlatform(config(hostCount, concurrency), {
      app,
      baseDir: fleet.dir,
      logger: silentLogger,
    });
    const started = process.hrtime.bigint();
    const instances = await platform.provision('blue', 'v1');
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (instances.length !== hostCount * 2)
      throw new Error(`expected ${hostCount * 2} instances, got ${instances.length}`);
    await platform.reconcile(new Set());
    await platform.close();
    if ((await appProcesses(app)).length !== 0) throw new Error('instances left after the run');
    return ms;
  };

  const results: Record<string, Record<number, number>> = { concurrent: {}, serial: {} };
  for (const size of sizes) {
    for (const [mode, concurrency] of [
      ['concurrent', 8],
      ['serial', 1],
    ] as const) {
      const times: number[] = [];
      for (let run = 0; run < runs; run += 1) times.push(await timeOne(size, concurrency));
      results[mode]![size] = median(times);
    }
  }

  console.log(
    `ssh fan-out: provision of 2 instances per host, median of ${runs} runs${rate ? `, links throttled to ${rate}` : ''} (load ${loadAverage()})`,
  );
  console.log('hosts  concurrency 8 (ms)  serial (ms)  serial/concurrent');
  for (const size of sizes) {
    const concurrent = results.concurrent![size]!;
    const serial = results.serial![size]!;
    console.log(
      `${String(size).padStart(5)}  ${fixed(concurrent, 0).padStart(18)}  ${fixed(serial, 0).padStart(11)}  ${fixed(serial / concurrent, 2).padStart(17)}`,
    );
  }
  const [low, high] = [Math.min(...sizes), Math.max(...sizes)];
  for (const mode of ['concurrent', 'serial'] as const) {
    const ratio = results[mode]![high]! / results[mode]![low]!;
    console.log(
      `${mode}: ${high} hosts take ${fixed(ratio, 2)}× the time of ${low} (${high / low}× the hosts)`,
    );
  }
} finally {
  await fleet.teardown();
}
