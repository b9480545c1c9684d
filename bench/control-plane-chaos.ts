/**
 * The control-plane chaos scenarios of test/e2e/control-plane-kill.test.ts at full scale:
 * 50 `kill -9`s of `cutover server` (one mid-deployment) and 20 `cutover server --upgrade`
 * hand-overs (one mid-deployment, one followed by a kill -9 while the old workers retire), each
 * under 50 keep-alive connections and 200 WebSockets pinging all the time, counting failed
 * requests, connection errors, WebSockets closed before their deadline and leaked worker
 * processes (the test asserts all are 0):
 *
 *   node --import tsx bench/control-plane-chaos.ts     (npm run bench:chaos)
 *
 * CUTOVER_CHAOS_KILLS, CUTOVER_CHAOS_UPGRADES, CUTOVER_CHAOS_CONNECTIONS and
 * CUTOVER_CHAOS_WEBSOCKETS override the counts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadAverage } from './lib/format.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const kills = process.env.CUTOVER_CHAOS_KILLS ?? '50';
const upgrades = process.env.CUTOVER_CHAOS_UPGRADES ?? '20';
const connections = process.env.CUTOVER_CHAOS_CONNECTIONS ?? '50';
const webSockets = process.env.CUTOVER_CHAOS_WEBSOCKETS ?? '200';
console.log(
  `control-plane chaos: ${kills} kill -9 and ${upgrades} upgrades of cutover server under ` +
    `${connections} keep-alive connections and ${webSockets} WebSockets; load average ${loadAverage()}`,
);
const started = Date.now();
const run = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    path.join(repo, 'test/e2e/control-plane-kill.test.ts'),
  ],
  {
    cwd: repo,
    env: {
      ...process.env,
      CUTOVER_CHAOS_KILLS: kills,
      CUTOVER_CHAOS_UPGRADES: upgrades,
      CUTOVER_CHAOS_CONNECTIONS: connections,
      CUTOVER_CHAOS_WEBSOCKETS: webSockets,
      // Hundreds of server starts on a shared machine: a slow boot is not what this measures.
      CUTOVER_E2E_SERVER_START_MS: process.env.CUTOVER_E2E_SERVER_START_MS ?? '60000',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
console.log(run.stdout);
console.log(`load average at the end: ${loadAverage()}`);
console.log(`${run.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = run.status ?? 1;
