/** Starts test/proxy/support/proxy-child.ts and watches it: its ports, its log, whether it died. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./proxy-child.ts', import.meta.url));

export interface ProxyProcess {
  readonly plainPort: number;
  /** The TLS listener's port (when started with a certificate folder). */
  readonly tlsPort: number | undefined;
  /** The log records the proxy wrote so far. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** Set when the process exited (a crash, unless stop() was called). */
  readonly exit: { code: number | null; signal: string | null; stderr: string } | undefined;
  stop(): Promise<void>;
}

/** `tlsDir`: a folder holding cert.pem and key.pem (see certificate.ts). */
export async function startProxyProcess(backendPort: number, tlsDir?: string): Promise<ProxyProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, String(backendPort), ...(tlsDir === undefined ? [] : [tlsDir])],
    // stdin stays open while this process lives: the child stops when it ends.
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let exit: ProxyProcess['exit'];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
    let newline = stderr.indexOf('\n');
    while (newline !== -1) {
      const line = stderr.slice(0, newline);
      stderr = stderr.slice(newline + 1);
      newline = stderr.indexOf('\n');
      // Log records are JSON; anything else (a crash's stack trace) is kept as text.
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
      else logs.push({ text: line });
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      const text = logs
        .map((record) => (typeof record.text === 'string' ? record.text : JSON.stringify(record)))
        .join('\n');
      exit = { code, signal, stderr: `${text}\n${stderr}` };
      resolve();
    }),
  );
  const ports = await new Promise<{ plain: number; tls?: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      out += text;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { plain: number });
    });
    void exited.then(() => reject(new Error(`the proxy process exited before listening:\n${exit?.stderr}`)));
  });
  return {
    plainPort: ports.plain,
    tlsPort: ports.tls,
    logs,
    get exit() {
      return exit;
    },
    async stop() {
      if (exit === undefined) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
