/**
 * The quick-start demo: a real `cutover server` (builtin proxy + process platform) in a temp
 * copy of examples/demo. Deploys v1, puts keep-alive load on it, deploys v2 under that load,
 * rolls back to v1 and forward to v2 again, then prints what the clients saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoad, waitFor } from '../test/support/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/cutover.js');
const CONNECTIONS = 50;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function cutover(args: string[], configFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '-c', configFile], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function step(title: string, args: string[], configFile: string): Promise<void> {
  console.log(`\n$ cutover ${args.join(' ')}    # ${title}`);
  const code = await cutover(args, configFile);
  if (code !== 0) throw new Error(`cutover ${args.join(' ')} exited with ${code}`);
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: run `npm ci` (it builds) or `npm run build`');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-demo-'));
  cpSync(path.join(ROOT, 'examples/demo'), dir, { recursive: true });
  const configFile = path.join(dir, 'cutover.yml');
  const trafficPort = await freePort();
  const adminPort = await freePort();
  writeFileSync(
    configFile,
    readFileSync(configFile, 'utf8')
      .replace('127.0.0.1:8080', `127.0.0.1:${trafficPort}`)
      .replace('127.0.0.1:7070', `127.0.0.1:${adminPort}`),
  );
  let server: ChildProcess | undefined;
  try {
    console.log(`demo project in ${dir}`);
    server = spawn(process.execPath, [BIN, 'server', '-c', configFile], {
      stdio: ['ignore', 'inherit', 'ignore'],
    });
    await waitFor(() => existsSync(path.join(dir, '.cutover/server.json')), {
      timeoutMs: 15_000,
      what: 'cutover server to start',
    });

    await step('first release goes live', ['deploy', 'v1'], configFile);
    console.log(`\nsending keep-alive load: ${CONNECTIONS} connections to http://127.0.0.1:${trafficPort}/`);
    const load = startLoad({
      url: `http://127.0.0.1:${trafficPort}/`,
      connections: CONNECTIONS,
      maxDurationMs: 120_000,
    });
    await waitFor(() => load.stats().ok > 500, { timeoutMs: 10_000, what: 'load to start' });

    await step('blue → green under load', ['deploy', 'v2'], configFile);
    await step('instant rollback to the warm slot', ['rollback'], configFile);
    await step('and forward again', ['deploy', 'v2'], configFile);
    await step('where things stand', ['status'], configFile);

    const stats = await load.stop();
    console.log('\nwhat the clients saw:');
    for (const [body, count] of Object.entries(stats.bodies))
      console.log(`  ${body.padEnd(6)} ${count} responses`);
    console.log(
      `\nrequests sent: ${stats.sent}   failed: ${stats.failed}   connection errors: ${stats.connectionErrors}`,
    );
    for (const error of stats.firstErrors) console.log(`  ${error}`);
    process.exitCode = stats.failed === 0 ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    // Instances outlive the server on purpose (a crash must not take the app down); the demo cleans up its own.
    cleanupInstances(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function cleanupInstances(dir: string): void {
  for (const slot of ['blue', 'green']) {
    const file = path.join(dir, '.cutover/platform/process', `${slot}.json`);
    if (!existsSync(file)) continue;
    const record = JSON.parse(readFileSync(file, 'utf8')) as { instances?: Array<{ pid: number }> };
    for (const instance of record.instances ?? []) {
      try {
        process.kill(-instance.pid, 'SIGTERM');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
