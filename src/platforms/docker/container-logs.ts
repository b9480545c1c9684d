import { isGone, type Engine } from './engine.js';

/** One line a container wrote, and on which stream. */
export interface ContainerLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/**
 * Splits the Engine API's multiplexed log stream (a non-TTY container): frames of an 8-byte
 * header (stream type, 3 zero bytes, big-endian length) and the payload. Returns complete
 * lines and whatever bytes of a frame or a line are still incomplete.
 */
export class LogDemuxer {
  private buffer = Buffer.alloc(0);
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  push(chunk: Buffer): ContainerLogLine[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const lines: ContainerLogLine[] = [];
    while (this.buffer.length >= 8) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < 8 + size) break;
      const stream = this.buffer[0] === 2 ? 'stderr' : 'stdout';
      const text = this.partial[stream] + this.buffer.subarray(8, 8 + size).toString('utf8');
      this.buffer = this.buffer.subarray(8 + size);
      const pieces = text.split('\n');
      this.partial[stream] = pieces.pop() ?? '';
      for (const line of pieces) lines.push({ stream, line });
    }
    return lines;
  }

  /** Lines that never got their newline, at the end of the stream. */
  end(): ContainerLogLine[] {
    const rest = (['stdout', 'stderr'] as const)
      .filter((stream) => this.partial[stream] !== '')
      .map((stream) => ({ stream, line: this.partial[stream] }));
    this.partial.stdout = '';
    this.partial.stderr = '';
    return rest;
  }
}

/** All lines of a complete (not followed) log answer. */
export function demuxLogs(payload: Buffer): ContainerLogLine[] {
  const demuxer = new LogDemuxer();
  return [...demuxer.push(payload), ...demuxer.end()];
}

/** The last `tail` lines of a container's log; none when the container is gone. */
export async function readContainerLog(
  engine: Engine,
  id: string,
  tail: number,
): Promise<ContainerLogLine[]> {
  return engine.call('logs', async (docker) => {
    try {
      const payload = await docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false });
      return demuxLogs(payload);
    } catch (error) {
      if (isGone(error)) return [];
      throw error;
    }
  });
}
