/**
 * The control-plane chaos scenarios of test/e2e/control-plane-kill.test.ts at full scale:
 * 50 `kill -9`s of `cutover server` (one mid-deployment) and 20 `cutover server --upgrade`
 * hand-overs (one mid-deployment), each under 20 keep-alive connections, counting failed
 * requests, connection errors and leaked workers (the test asserts all three are 0):
 *
 *   node --import tsx bench/control-plane-chaos.ts     (npm run bench:chaos)
 *
 * CUTOVER_CHAOS_KILLS and CUTOVER_CHAOS_UPGRADES override the counts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const kills = process.env.CUTOVER_CHAOS_KILLS ?? '50';
const upgrades = process.env.CUTOVER_CHAOS_UPGRADES ?? '20';
console.log(`control-plane chaos: ${kills} kill -9 and ${upgrades} upgrades of cutover server under load`);
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
    env: { ...process.env, CUTOVER_CHAOS_KILLS: kills, CUTOVER_CHAOS_UPGRADES: upgrades },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
console.log(run.stdout);
console.log(`${run.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = run.status ?? 1;
