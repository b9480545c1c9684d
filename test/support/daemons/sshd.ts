/**
 * Real SSH hosts for tests: each one a network namespace with its own address on a veth pair,
 * its own mount namespace (so every host has its own `root` dir at the same path) and its own
 * OpenSSH sshd with a generated host key, accepting one generated user key for root.
 * Traffic between cutover and a host really crosses the (virtual) network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon, makeTempDir, removeTempDir, requireBinary, canConnect, type Daemon } from './common.js';

export interface SshTestHost {
  readonly index: number;
  /** The host's address (inside its namespace), where sshd and the instances listen. */
  readonly address: string;
  readonly namespace: string;
  /** This host's own root dir, as seen from outside (it appears at `fleet.root` on the host). */
  readonly rootOnDisk: string;
  /** The public host key file sshd shows now. */
  readonly hostKeyFile: string;
  running(): boolean;
  /**
   * Stops sshd and its sessions (cutover's open connections drop; the host is down for SSH).
   * The instances, if any, keep running.
   */
  stopSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /** A new host key: known_hosts still lists the old one. */
  changeHostKey(): Promise<void>;
  /** Limits the host's link (tc tbf), e.g. "64kbit"; undefined lifts the limit. */
  throttle(rate: string | undefined): void;
}

export interface SshFleet {
  readonly dir: string;
  readonly hosts: readonly SshTestHost[];
  /** The path every host sees its own root dir at (the platform's `root`). */
  readonly root: string;
  readonly identityFile: string;
  readonly knownHosts: string;
  /** Rewrites known_hosts with the keys the hosts show now (after changeHostKey). */
  trustCurrentKeys(): Promise<void>;
  /** Kills every process left in the hosts' namespaces, removes them and the temp dir. */
  teardown(): Promise<void>;
}

/** Fails (never skips) when a tool is missing, naming the install step. */
export function requireSshTools(): { sshd: string; sshKeygen: string } {
  return {
    sshd: requireBinary('sshd', 'openssh-server'),
    sshKeygen: requireBinary('ssh-keygen', 'openssh-client'),
  };
}

function run(command: string, args: readonly string[]): void {
  execFileSync(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A /16 of 10.0.0.0/8 no interface here uses yet (tests in parallel each take their own). */
function freeSubnet(): number {
  const used = execFileSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' });
  for (let tries = 0; tries < 200; tries += 1) {
    const octet = 64 + Math.floor(Math.random() * 128);
    if (!used.includes(`10.${octet}.`)) return octet;
  }
  throw new Error('no free 10.x.0.0/16 subnet for the test hosts');
}

export async function startSshFleet(count: number): Promise<SshFleet> {
  const tools = requireSshTools();
  requireBinary('ip', 'iproute2');
  // sshd's privilege separation directory is compiled in; /run is emptied at every boot and only
  // systemd's unit (not running here) makes it again.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await makeTempDir('sshd');
  const root = path.join(dir, 'root');
  await mkdir(root);
  const identityFile = path.join(dir, 'id_ed25519');
  run(tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'cutover-test', '-f', identityFile]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${identityFile}.pub`), { mode: 0o600 });
  const knownHosts = path.join(dir, 'known_hosts');
  const subnet = freeSubnet();
  const tag = `${process.pid % 100_000}`;
  const hosts: SshTestHost[] = [];
  const trustCurrentKeys = async () => {
    const lines: string[] = [];
    for (const host of hosts)
      lines.push(`${host.address} ${(await readFile(host.hostKeyFile, 'utf8')).trim()}`);
    await writeFile(knownHosts, `${lines.join('\n')}\n`);
  };
  try {
    for (let index = 0; index < count; index += 1) {
      hosts.push(await makeHost({ index, dir, root, subnet, tag, tools, authorizedKeys }));
    }
    await trustCurrentKeys();
  } catch (error) {
    await teardownHosts(hosts);
    await removeTempDir(dir);
    throw error;
  }
  return {
    dir,
    hosts,
    root,
    identityFile,
    knownHosts,
    trustCurrentKeys,
    async teardown() {
      await teardownHosts(hosts);
      await removeTempDir(dir);
    },
  };
}

interface HostSetup {
  index: number;
  dir: string;
  root: string;
  subnet: number;
  tag: string;
  tools: { sshd: string; sshKeygen: string };
  authorizedKeys: string;
}

async function makeHost(setup: HostSetup): Promise<SshTestHost & { cleanup(): void }> {
  const { index, dir, root, subnet, tag, tools } = setup;
  const namespace = `cutover-ssh-${tag}-${index}`;
  const outside = `cso${tag}x${index}`.slice(0, 15);
  const inside = `csi${tag}x${index}`.slice(0, 15);
  const hostDir = path.join(dir, `host-${index}`);
  const rootOnDisk = path.join(hostDir, 'root');
  await mkdir(rootOnDisk, { recursive: true });
  const hostKey = path.join(hostDir, 'ssh_host_ed25519_key');
  run(tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const gateway = `10.${subnet}.${index}.1`;
  const address = `10.${subnet}.${index}.2`;
  run('ip', ['netns', 'add', namespace]);
  const cleanup = () => {
    for (const pid of spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout.split(
      '\n',
    )) {
      if (/^\d+$/.test(pid)) spawnSync('kill', ['-9', pid]);
    }
    spawnSync('ip', ['link', 'del', outside]);
    spawnSync('ip', ['netns', 'del', namespace]);
  };
  try {
    run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
    run('ip', ['link', 'set', inside, 'netns', namespace]);
    run('ip', ['addr', 'add', `${gateway}/30`, 'dev', outside]);
    run('ip', ['link', 'set', outside, 'up']);
    run('ip', ['netns', 'exec', namespace, 'ip', 'addr', 'add', `${address}/30`, 'dev', inside]);
    run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', inside, 'up']);
    run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    cleanup();
    throw error;
  }
  const configFile = path.join(hostDir, 'sshd_config');
  await writeFile(
    configFile,
    [
      `ListenAddress ${address}`,
      'Port 22',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(hostDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${setup.authorizedKeys}`,
      // The test dirs are in /tmp (world-writable parents): sshd's owner checks would refuse them.
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  let daemon: Daemon | undefined;
  const startSshd = async () => {
    daemon = await startDaemon({
      name: `sshd ${address}`,
      command: 'ip',
      args: [
        'netns',
        'exec',
        namespace,
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        // This host's own root dir appears at the shared path, for sshd and every session.
        `mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"`,
        'sshd-host',
        rootOnDisk,
        root,
        tools.sshd,
        configFile,
      ],
      logFile: path.join(hostDir, 'sshd.log'),
      ready: () => canConnectIn(address),
    });
  };
  await startSshd().catch((error: unknown) => {
    cleanup();
    throw error;
  });
  let throttled = false;
  const host = {
    index,
    address,
    namespace,
    rootOnDisk,
    hostKeyFile: `${hostKey}.pub`,
    running: () => daemon?.running() ?? false,
    stopSshd: async () => {
      await daemon?.stop(2_000);
      daemon = undefined;
      for (const pid of spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout.split(
        '\n',
      )) {
        const comm = /^\d+$/.test(pid) ? readFileSyncSafe(`/proc/${pid}/comm`) : '';
        if (comm.trim() === 'sshd') spawnSync('kill', ['-9', pid]);
      }
    },
    startSshd,
    changeHostKey: async () => {
      await host.stopSshd();
      run('rm', ['-f', hostKey, `${hostKey}.pub`]);
      run(tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
      await startSshd();
    },
    throttle: (rate: string | undefined) => {
      // Both directions: the veth end in the namespace and the one outside.
      const inNamespace = ['netns', 'exec', namespace, 'tc', 'qdisc'];
      if (throttled) {
        run('ip', [...inNamespace, 'del', 'dev', inside, 'root']);
        run('tc', ['qdisc', 'del', 'dev', outside, 'root']);
      }
      throttled = false;
      if (rate === undefined) return;
      const tbf = ['root', 'tbf', 'rate', rate, 'burst', '1600', 'latency', '5s'];
      run('ip', [...inNamespace, 'add', 'dev', inside, ...tbf]);
      run('tc', ['qdisc', 'add', 'dev', outside, ...tbf]);
      throttled = true;
    },
    cleanup: () => {
      void daemon?.stop(0);
      cleanup();
    },
  };
  return host;
}

function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function canConnectIn(address: string): Promise<boolean> {
  return canConnect(22, address);
}

async function teardownHosts(hosts: readonly SshTestHost[]): Promise<void> {
  for (const host of hosts) {
    await host.stopSshd().catch(() => undefined);
    (host as SshTestHost & { cleanup(): void }).cleanup();
  }
}
