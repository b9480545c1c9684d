/**
 * The peers a bench compares against, each a real daemon with its own temp config, pid and
 * log paths, started in the foreground and stopped by the bench: nginx (backend and proxy),
 * HAProxy, and node child processes (cutover's proxy, node-http-proxy).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compiledChild } from './compile.js';
import { freePort, waitForPort } from './free-port.js';

export interface Daemon {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const tempDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function requireBinary(binary: string, install: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) {
    throw new Error(`${binary} not found: run \`${install}\` (scripts/install-test-deps.sh)`);
  }
}

/**
 * Placement of the bench processes. On a small machine the load generator, the backend and
 * the proxy under test otherwise compete for the same cores, and req/s measures the
 * machine's limit rather than the proxy's cost. `load` cores run wrk, the backend and the
 * bench process itself; the `proxy` core runs the single proxy process under test, alone
 * (`taskset`). `nice` (optional, negative needs root) raises every bench process above
 * unrelated work sharing the machine, the same for each proxy measured.
 */
export interface CpuPlan {
  readonly load: string;
  readonly proxy: string;
  readonly nice?: number;
}

/** Every core but the last for the load, the last for the proxy under test alone (2+ cores). */
export function lastCorePlan(cores: number): CpuPlan {
  return { load: cores === 2 ? '0' : `0-${cores - 2}`, proxy: String(cores - 1) };
}

let cpuPlan: CpuPlan | undefined;

/** Applies to every daemon started after this (undefined: no pinning), and to the calling process. */
export function setCpuPlan(plan: CpuPlan | undefined): void {
  cpuPlan = plan;
  if (plan === undefined) return;
  requireBinary('taskset', 'apt-get install -y util-linux');
  const result = spawnSync('taskset', ['-a', '-p', '-c', plan.load, String(process.pid)], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`taskset could not pin the bench process: ${result.stderr}`);
  if (plan.nice !== undefined) os.setPriority(process.pid, plan.nice);
}

export function getCpuPlan(): CpuPlan | undefined {
  return cpuPlan;
}

/** A command every `proxy`-role process runs under (e.g. valgrind), or none. */
let proxyWrapper: readonly string[] = [];

/** Applies to every proxy daemon started after this; [] for none. */
export function setProxyWrapper(wrapper: readonly string[]): void {
  proxyWrapper = wrapper;
}

/** The command and arguments to run a process on the plan's `role` cores (unchanged without a plan). */
export function pinned(role: 'load' | 'proxy', command: string, args: string[]): [string, string[]] {
  const [file, argv] =
    role === 'proxy' && proxyWrapper.length > 0
      ? [proxyWrapper[0]!, [...proxyWrapper.slice(1), command, ...args]]
      : [command, args];
  if (cpuPlan === undefined) return [file, argv];
  // Children inherit the bench process's nice level (set in setCpuPlan).
  return ['taskset', ['-c', cpuPlan[role], file, ...argv]];
}

async function startProcess(
  name: string,
  port: number,
  command: string,
  args: string[],
  role: 'load' | 'proxy' = 'proxy',
): Promise<Daemon> {
  const [file, argv] = pinned(role, command, args);
  // Under a wrapper such as valgrind a process starts tens of times slower.
  const readyMs = role === 'proxy' && proxyWrapper.length > 0 ? 180_000 : 10_000;
  return spawnDaemon(name, port, file, argv, { readyMs });
}

/**
 * A child process serving on `port` once it listens (stdout dropped, stderr shown); its stop
 * sends SIGTERM and waits for the exit.
 */
export async function spawnDaemon(
  name: string,
  port: number,
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; readyMs?: number } = {},
): Promise<Daemon> {
  const child: ChildProcess = spawn(file, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, options.readyMs ?? 10_000);
  return {
    name,
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function nginxConfig(dir: string, server: string, upstream = '', workers = 1): string {
  // One worker runs without a master (one process, as before); more need the master.
  return `worker_processes ${workers};
daemon off;
master_process ${workers > 1 ? 'on' : 'off'};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 30000;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  ${upstream}
  server {
    ${server}
  }
}
`;
}

/** The fast backend: nginx, one worker, answering every request with a fixed body (by default 12 bytes of text). */
export async function startNginxBackend(
  answer: { readonly body: string; readonly contentType: string } = {
    body: 'hello world\n',
    contentType: 'text/plain',
  },
): Promise<Daemon> {
  requireBinary('nginx', 'apt-get install -y nginx-light');
  const dir = tempDir('bench-nginx-backend-');
  const port = await freePort();
  const config = path.join(dir, 'nginx.conf');
  writeFileSync(
    config,
    nginxConfig(
      dir,
      `listen 127.0.0.1:${port}; location / { default_type ${answer.contentType}; ` +
        `return 200 '${answer.body.replace(/\n/g, '\\n').replace(/'/g, "\\'")}'; }`,
    ),
  );
  return startProcess('nginx backend', port, 'nginx', ['-p', dir, '-c', config], 'load');
}

/** nginx as the reverse proxy: `workers` worker processes (default one), keep-alive to the upstream. */
export async function startNginxProxy(backendPort: number, workers = 1): Promise<Daemon> {
  requireBinary('nginx', 'apt-get install -y nginx-light');
  const dir = tempDir('bench-nginx-proxy-');
  const port = await freePort();
  const config = path.join(dir, 'nginx.conf');
  writeFileSync(
    config,
    nginxConfig(
      dir,
      `listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
      `upstream backend { server 127.0.0.1:${backendPort}; keepalive 128; }`,
      workers,
    ),
  );
  return startProcess(workers === 1 ? 'nginx' : `nginx ×${workers}`, port, 'nginx', [
    '-p',
    dir,
    '-c',
    config,
  ]);
}

/** HAProxy: `threads` threads (default one), keep-alive on both sides with connection reuse. */
export async function startHaproxy(backendPort: number, threads = 1): Promise<Daemon> {
  requireBinary('haproxy', 'apt-get install -y haproxy');
  const dir = tempDir('bench-haproxy-');
  const port = await freePort();
  const config = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    `global
  nbthread ${threads}
  maxconn 9000
defaults
  mode http
  timeout connect 5s
  timeout client 75s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:${backendPort}
`,
  );
  return startProcess(threads === 1 ? 'HAProxy' : `HAProxy ×${threads}`, port, 'haproxy', [
    '-db',
    '-f',
    config,
  ]);
}

/** A node child process running one of bench/lib's proxy scripts, compiled (see compile.ts). */
export async function startNodeProxy(
  name: string,
  script: 'cutover-proxy-child.ts' | 'http-proxy-child.ts',
  backendPort: number,
  extraArgs: string[] = [],
  nodeFlags: string[] = [],
): Promise<Daemon> {
  const port = await freePort();
  return startProcess(name, port, process.execPath, [
    ...nodeFlags,
    compiledChild(script),
    String(port),
    String(backendPort),
    ...extraArgs,
  ]);
}
