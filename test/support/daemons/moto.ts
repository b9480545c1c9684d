/**
 * A real moto server (the AWS APIs: EC2, Auto Scaling, ELB, ELBv2, CloudFormation, Route 53 …)
 * for tests: one endpoint for every service on a loopback port chosen at run time, in its own
 * process group, stopped after. `reset()` clears every resource between tests.
 */
import path from 'node:path';
import { freePort, makeTempDir, removeTempDir, requireBinary, startDaemon, type Daemon } from './common.js';

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, the `endpoint` every AWS client and cutover config points at. */
  readonly endpoint: string;
  readonly port: number;
  /** Forgets every resource (moto's `POST /moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials moto accepts; never real ones. Tests pass them through config or the environment. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

export async function startMoto(): Promise<MotoServer> {
  const command = requireMotoServer();
  const dir = await makeTempDir('cutover-moto-');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'moto_server',
      command,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logFile: path.join(dir, 'moto.log'),
      cwd: dir,
      readyTimeoutMs: 30_000,
      ready: async () => {
        try {
          const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
          await response.arrayBuffer();
          return response.ok;
        } catch {
          return false;
        }
      },
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    endpoint,
    port,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    stop: async () => {
      await daemon.stop(2000);
      await removeTempDir(dir);
    },
  };
}

function requireMotoServer(): string {
  try {
    return requireBinary('moto_server', 'moto');
  } catch {
    throw new Error(
      'moto_server not found: run `bash scripts/install-test-deps.sh` (it names what is missing); this machine kind ships moto 5.2.1 with Python 3.11',
    );
  }
}
