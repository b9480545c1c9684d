/**
 * One SSH connection per host, opened on first use and reused by every later operation of
 * this platform object (commands multiplex as channels). A failed open is not remembered:
 * the next operation tries again.
 */
import {
  SshConnection,
  type ConnectTarget,
  type HostKeyPolicy,
  type SshCredentials,
} from './ssh-connection.js';

export class ConnectionPool {
  private readonly open = new Map<string, Promise<SshConnection>>();

  constructor(
    private readonly credentials: () => Promise<SshCredentials>,
    private readonly hostKeys: () => Promise<HostKeyPolicy>,
    private readonly timeoutMs: number,
  ) {}

  async get(target: ConnectTarget): Promise<SshConnection> {
    const key = `${target.host}:${target.port}`;
    const existing = this.open.get(key);
    if (existing) {
      const connection = await existing.catch(() => undefined);
      if (connection?.usable) return connection;
      if (this.open.get(key) === existing) this.open.delete(key);
      // Another caller may have started a new one meanwhile.
      const replaced = this.open.get(key);
      if (replaced) return replaced;
    }
    const opening = (async () =>
      SshConnection.open(target, await this.credentials(), await this.hostKeys(), this.timeoutMs))();
    this.open.set(key, opening);
    opening.catch(() => {
      if (this.open.get(key) === opening) this.open.delete(key);
    });
    return opening;
  }

  closeAll(): void {
    for (const opening of this.open.values())
      void opening.then(
        (connection) => connection.close(),
        () => undefined,
      );
    this.open.clear();
  }
}
