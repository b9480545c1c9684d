/**
 * Follows WebSocket frame boundaries in one direction of a tunnel without copying payloads,
 * so the proxy can inject a close frame between two frames, never inside one.
 */
export class FrameBoundaryTracker {
  /** Payload bytes still to come in the current frame. */
  private remaining = 0;
  /** Bytes of a frame header split across chunks. */
  private partialHeader: Buffer | undefined;

  atBoundary(): boolean {
    return this.remaining === 0 && this.partialHeader === undefined;
  }

  consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      const carried = this.partialHeader?.length ?? 0;
      const view =
        carried > 0 ? Buffer.concat([this.partialHeader!, chunk.subarray(offset)]) : chunk.subarray(offset);
      const headerLength = frameHeaderLength(view);
      if (headerLength === undefined || view.length < headerLength) {
        this.partialHeader = Buffer.from(view);
        return;
      }
      this.remaining = framePayloadLength(view);
      this.partialHeader = undefined;
      offset += headerLength - carried;
    }
  }
}

function frameHeaderLength(bytes: Buffer): number | undefined {
  if (bytes.length < 2) return undefined;
  const short = bytes[1]! & 0x7f;
  const masked = (bytes[1]! & 0x80) !== 0;
  return 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function framePayloadLength(bytes: Buffer): number {
  const short = bytes[1]! & 0x7f;
  if (short === 126) return bytes.readUInt16BE(2);
  if (short === 127) return Number(bytes.readBigUInt64BE(2));
  return short;
}

/** Close frame server → client (unmasked) with a status code. */
export function serverCloseFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]);
}
