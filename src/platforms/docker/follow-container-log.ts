import type { Readable } from 'node:stream';
import { LogDemuxer, type ContainerLogLine } from './container-logs.js';
import { isGone, type Engine } from './engine.js';

/**
 * Follows one container's log (`docker logs -f --tail N`): the last `tail` lines, then every
 * line as the container writes it, until `signal` aborts or the log ends (the container
 * stopped). A container that is already gone has nothing to follow.
 */
export async function followContainerLog(
  engine: Engine,
  id: string,
  tail: number,
  onLine: (line: ContainerLogLine) => void,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  const stream = await engine.call('logs', async (docker) => {
    try {
      return (await docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, follow: true, tail })) as unknown as Readable;
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  });
  if (stream === undefined) return;
  const demuxer = new LogDemuxer();
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      stream.destroy();
    };
    const done = (): void => {
      signal.removeEventListener('abort', stop);
      for (const line of demuxer.end()) onLine(line);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
    stream.on('data', (chunk: Buffer) => {
      for (const line of demuxer.push(chunk)) onLine(line);
    });
    stream.on('error', (error: Error) => {
      // Destroyed on purpose (abort): the end of the follow, not a failure.
      if (signal.aborted) return;
      signal.removeEventListener('abort', stop);
      reject(error);
    });
    stream.on('close', done);
  });
}
