/**
 * Splits a socket's bytes into newline-terminated lines, bounded: a peer that sends a line
 * longer than the limit is cut off (the caller closes the connection), never buffered forever.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      if (this.pendingBytes + piece.length > this.maxLineBytes) {
        this.overflow();
        return;
      }
      const line = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      this.onLine(line.toString('utf8'));
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (this.pendingBytes + rest.length > this.maxLineBytes) {
      this.overflow();
      return;
    }
    this.pending.push(rest);
    this.pendingBytes += rest.length;
  }

  private overflow(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.onOversized();
  }
}
