/**
 * One side of a compared pair, as it went by: the status, the compared header fields, the
 * body's first `maxBodyBytes` and a SHA-256 of the whole body. Body pieces are copied as they
 * pass (the live path writes the same pieces to its client and never waits for this), so the
 * memory a capture holds is bounded by `maxBodyBytes`.
 */
import { createHash, type Hash } from 'node:crypto';
import type { UpstreamHead } from '../upstream-head.js';

export class CapturedResponse {
  status = 0;
  /** The compared fields (lowercased names), repeated ones joined with ", ". */
  readonly headers: Record<string, string> = {};
  contentType: string | undefined;
  /** Body bytes seen, whether kept or not. */
  bodyBytes = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | undefined;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly comparedHeaders: ReadonlySet<string>,
  ) {}

  onHead(head: UpstreamHead): void {
    this.status = head.status;
    const list = head.rawHeaders();
    for (let i = 0; i + 1 < list.length; i += 2) {
      const name = list[i]!.toLowerCase();
      const value = list[i + 1]!;
      if (name === 'content-type') this.contentType = value;
      if (!this.comparedHeaders.has(name)) continue;
      const earlier = this.headers[name];
      this.headers[name] = earlier === undefined ? value : `${earlier}, ${value}`;
    }
  }

  /** A piece of the body; it may be a view valid only during this call: what is kept is copied. */
  onBody(piece: Uint8Array): void {
    this.bodyBytes += piece.length;
    this.hash.update(piece);
    const room = this.maxBodyBytes - this.keptBytes;
    if (room <= 0) return;
    const copy = Buffer.from(piece.subarray(0, Math.min(room, piece.length)));
    this.kept.push(copy);
    this.keptBytes += copy.length;
  }

  onEnd(): void {
    this.digest = this.hash.digest('hex');
  }

  /** The body was longer than maxBodyBytes: only its hash is whole. */
  get truncated(): boolean {
    return this.bodyBytes > this.maxBodyBytes;
  }

  /** The kept body (all of it unless truncated). */
  body(): Buffer {
    return this.kept.length === 1 ? this.kept[0]! : Buffer.concat(this.kept, this.keptBytes);
  }

  /** SHA-256 of the whole body, hex; set once the response ended. */
  get sha256(): string | undefined {
    return this.digest;
  }
}
