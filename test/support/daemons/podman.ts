/**
 * A private Docker-compatible engine for the tests: `podman system service` on its own unix
 * socket, with its own storage root, run root, network configs and events log under a temp
 * dir, so the tests never see or touch the host's other containers. runc with cgroupfs and no
 * default ulimits: what works on this kind of machine (see ../shared/ENVIRONMENT.md).
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeTempDir, requireBinary, runSync, startDaemon, type Daemon } from './common.js';

export interface PodmanEngine {
  /** Path of the engine's socket. */
  readonly socket: string;
  /** `unix://<socket>`, the value DOCKER_HOST takes. */
  readonly dockerHost: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startPodman(): Promise<PodmanEngine> {
  const podman = requireBinary('podman', 'podman');
  const runc = requireBinary('runc', 'runc');
  const dir = await makeTempDir('podman');
  const socket = path.join(dir, 'podman.sock');
  const conf = path.join(dir, 'containers.conf');
  await mkdir(path.join(dir, 'networks'), { recursive: true });
  await writeFile(
    conf,
    [
      '[containers]',
      // The sandbox refuses to raise ulimits; podman's defaults would fail every start.
      'default_ulimits = []',
      '[network]',
      `network_config_dir = "${path.join(dir, 'networks')}"`,
      '[engine]',
      // Also for RUN steps of builds, which do not see the service's --runtime flag; crun fails
      // on this kind of machine's cgroup layout wherever it is installed.
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${path.join(dir, 'events.log')}"`,
      '',
    ].join('\n'),
  );
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'podman system service',
      command: podman,
      args: [
        '--root',
        path.join(dir, 'root'),
        '--runroot',
        path.join(dir, 'runroot'),
        '--tmpdir',
        path.join(dir, 'tmp'),
        '--runtime',
        runc,
        '--cgroup-manager',
        'cgroupfs',
        // vfs: works on any filesystem under the temp dir (overlay-on-overlay does not everywhere).
        '--storage-driver',
        'vfs',
        'system',
        'service',
        '--time=0',
        `unix://${socket}`,
      ],
      env: { ...process.env, CONTAINERS_CONF: conf },
      // conmon writes files (an `oom` marker) into its working dir: keep them in the temp dir.
      cwd: dir,
      logFile: path.join(dir, 'podman.log'),
      ready: () => pings(socket),
      readyTimeoutMs: 30_000,
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    socket,
    dockerHost: `unix://${socket}`,
    dir,
    async stop() {
      try {
        // Whatever a test left running goes first, through the API, so its mounts are released.
        await removeAllContainers(socket);
        await removeTestNetworks(socket);
      } finally {
        await daemon.stop(10_000);
      }
      // Monitors of containers that could not be removed outlive the service; their mounts too.
      await killLeftoverConmons(dir);
      unmountUnder(dir);
      await removeTempDir(dir);
    },
  };
}

/** The Engine API over the unix socket: one request, its status and body. */
function engineRequest(
  socketPath: string,
  method: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, method, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function removeAllContainers(socketPath: string): Promise<void> {
  const list = await engineRequest(socketPath, 'GET', '/containers/json?all=true');
  for (const container of JSON.parse(list.body) as { Id: string }[]) {
    const removed = await engineRequest(socketPath, 'DELETE', `/containers/${container.Id}?force=true&t=0`);
    if (removed.status >= 300 && removed.status !== 404) {
      throw new Error(`could not remove test container ${container.Id}: ${removed.status} ${removed.body}`);
    }
  }
}

/**
 * Networks the tests created: their bridge interfaces and IPAM state live in the host's
 * kernel and /var/lib/cni, outside the temp dir. The default network is shared with any
 * other podman running at the same time and stays.
 */
async function removeTestNetworks(socketPath: string): Promise<void> {
  const list = await engineRequest(socketPath, 'GET', '/networks');
  for (const network of JSON.parse(list.body) as { Name: string; Options?: Record<string, string> }[]) {
    if (network.Name === 'podman' || network.Name === 'bridge') continue; // the default, as each API names it
    const removed = await engineRequest(
      socketPath,
      'DELETE',
      `/networks/${encodeURIComponent(network.Name)}`,
    );
    if (removed.status >= 300 && removed.status !== 404) {
      throw new Error(`could not remove test network ${network.Name}: ${removed.status} ${removed.body}`);
    }
  }
}

/** Mounts podman left under the temp dir (container shm, storage), innermost first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const target of mounts) {
    const result = runSync('umount', ['-l', target]);
    if (result.status !== 0) throw new Error(`umount ${target} failed: ${result.output}`);
  }
}

function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping' }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
  });
}

/** conmon processes of this engine's containers (found by their run root in argv), stopped by pid. */
async function killLeftoverConmons(dir: string): Promise<void> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('/usr/bin/conmon') && cmdline.includes(dir))
      process.kill(Number(entry), 'SIGKILL');
  }
}
