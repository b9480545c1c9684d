/**
 * A TCP port that never completes new connections: a python3 listener with backlog 0 that
 * never accepts, its one queue place taken by a filler connection. Connecting to it hangs,
 * which is what an upstream connect timeout needs (loopback otherwise refuses at once).
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const LISTENER = `
import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

export interface BlackHole {
  readonly port: number;
  close(): Promise<void>;
}

export async function startBlackHole(): Promise<BlackHole> {
  if (spawnSync('python3', ['--version']).error) {
    throw new Error('python3 not found: run `apt-get install -y python3` (scripts/install-test-deps.sh)');
  }
  const child = spawn('python3', ['-c', LISTENER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
  });
  const filler = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    filler.once('connect', resolve);
    filler.once('error', reject);
  });
  return {
    port,
    close: async () => {
      filler.destroy();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      child.kill();
      await exited;
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
