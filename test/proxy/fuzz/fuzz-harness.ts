/**
 * The differential fuzz test's machinery: the real proxy in a child process, in front of a
 * raw-socket upstream that records every byte it receives and reads it with the strict
 * parser in 'upstream' mode. A case's bytes go to the proxy over a client socket; the same
 * bytes are read by the strict parser in 'client' mode (the reference). Checked, per case:
 *   1. framing: everything the upstream received parses strictly as the proxy's own framing;
 *   2. agreement: the upstream's requests of a case are a prefix of the reference's, each
 *      with the same method, target, body and end-to-end fields (Host included), and one
 *      X-Forwarded-For ending in the client's address (a body is never read as a request);
 *   3. answered: the client got exactly the upstream's answers to those requests, in order,
 *      and nothing reached the upstream that the client was not answered (a late arrival
 *      for a finished case counts too);
 *   4. complete: a well-formed stream is answered in full, every request by the upstream;
 *   5. alive: the proxy process never exits.
 * Cases of a run go through `lanes` client connections at once; connections are reused
 * whenever a case leaves one open, so a long run does not open a socket per case.
 */
import net from 'node:net';
import { startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { serializeCase, type FuzzCase } from './request-model.js';
import {
  endToEndFields,
  forwardedFields,
  parseRequestStream,
  type ParsedRequest,
  type ParsedStream,
} from './strict-request-parser.js';

interface CaseRecord {
  readonly text: string;
  readonly reference: ParsedStream;
  readonly reset: boolean;
  /** Ids the upstream gave this case's requests, in arrival order. */
  readonly upstreamIds: number[];
  finishedAt: number | undefined;
}

export interface FuzzStats {
  cases: number;
  forwarded: number;
  refused: number;
  resets: number;
  connectionsOpened: number;
}

export class FuzzHarness {
  readonly violations: string[] = [];
  readonly stats: FuzzStats = { cases: 0, forwarded: 0, refused: 0, resets: 0, connectionsOpened: 0 };
  private readonly cases = new Map<number, CaseRecord>();
  private nextCase = 0;
  private nextUpstreamId = 0;
  private readonly idleSockets: Array<net.Socket | undefined> = [];
  private readonly upstreamSockets = new Set<net.Socket>();

  private constructor(
    private readonly upstream: net.Server,
    readonly proxy: ProxyProcess,
  ) {}

  static async start(): Promise<FuzzHarness> {
    const harness: { current?: FuzzHarness } = {};
    const upstream = net.createServer((socket) => harness.current!.serveUpstream(socket));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxyProcess((upstream.address() as net.AddressInfo).port);
    harness.current = new FuzzHarness(upstream, proxy);
    return harness.current;
  }

  async stop(): Promise<void> {
    for (const socket of this.idleSockets) socket?.destroy();
    await this.proxy.stop();
    for (const socket of this.upstreamSockets) socket.destroy();
    await new Promise<void>((resolve) => this.upstream.close(() => resolve()));
  }

  /** Runs one batch: case i on lane i, all at once. Returns the violations found meanwhile. */
  async runBatch(batch: readonly FuzzCase[]): Promise<string[]> {
    this.violations.length = 0;
    await Promise.all(batch.map((fuzz, lane) => this.runCase(fuzz, lane)));
    if (this.proxy.exit !== undefined)
      this.violate(`the proxy process exited: ${JSON.stringify(this.proxy.exit)}`);
    this.forgetOldCases();
    return this.violations;
  }

  // ── the client side ─────────────────────────────────────────────────────────

  private async runCase(fuzz: FuzzCase, lane: number): Promise<void> {
    const number = this.nextCase++;
    this.stats.cases += 1;
    const full = serializeCase(fuzz, number);
    const reset = fuzz.resetAt !== undefined;
    const text = fuzz.resetAt === undefined ? full : full.slice(0, Math.floor(fuzz.resetAt * full.length));
    const reference = parseRequestStream(text, 'client');
    const record: CaseRecord = { text, reference, reset, upstreamIds: [], finishedAt: undefined };
    this.cases.set(number, record);
    const clean = !reset && reference.stop === 'end' && reference.requests.length > 0;
    let socket = this.idleSockets[lane];
    this.idleSockets[lane] = undefined;
    // A connection a well-formed case left open carries the next case, whatever it is.
    if (socket === undefined) {
      socket = net.connect(this.proxy.plainPort, '127.0.0.1');
      socket.setNoDelay(true);
      socket.on('error', () => socket!.destroy());
      this.stats.connectionsOpened += 1;
    }
    const pieces = splitAt(text, fuzz.splits);
    if (reset) {
      this.stats.resets += 1;
      await writeAll(socket, pieces);
      socket.resetAndDestroy();
      record.finishedAt = Date.now();
      return;
    }
    const answer = await exchange(socket, pieces, clean ? reference.requests : undefined);
    record.finishedAt = Date.now();
    if (answer.reusable) this.idleSockets[lane] = socket;
    else socket.destroy();
    this.checkAnswers(number, record, answer);
  }

  private checkAnswers(number: number, record: CaseRecord, answer: ExchangeResult): void {
    const answered = [...answer.text.matchAll(/\r\nX-Upstream-Id: (\d+)\r\n/g)].map((match) =>
      Number(match[1]),
    );
    if (answered.join() !== record.upstreamIds.join())
      this.violate(
        `case ${number}: the client got the upstream's answers [${answered.join()}] but the upstream read [${record.upstreamIds.join()}]`,
        record,
        answer.text,
      );
    const expected = record.reference.requests.length;
    this.stats.forwarded += record.upstreamIds.length;
    if (record.upstreamIds.length < expected || record.reference.stop === 'error') this.stats.refused += 1;
    if (answer.clean && (answer.statuses.length !== expected || answered.length !== expected))
      this.violate(
        `case ${number}: a well-formed stream of ${expected} requests got ${answer.statuses.length} answers (${answer.statuses.join()}), ${answered.length} from the upstream`,
        record,
        answer.text,
      );
  }

  // ── the upstream side ───────────────────────────────────────────────────────

  private serveUpstream(socket: net.Socket): void {
    this.upstreamSockets.add(socket);
    socket.setNoDelay(true);
    let buffered = '';
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.upstreamSockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const parsed = parseRequestStream(buffered, 'upstream');
      let answers = '';
      for (const request of parsed.requests) answers += this.upstreamRequest(request);
      if (parsed.requests.length > 0) buffered = buffered.slice(parsed.requests.at(-1)!.end);
      if (parsed.stop === 'error') {
        this.violate(
          `the upstream read a request the proxy did not frame strictly (${parsed.error}): ${JSON.stringify(buffered.slice(0, 600))}`,
        );
        socket.destroy();
        return;
      }
      if (answers !== '') socket.write(answers, 'latin1');
    });
  }

  /** Checks one request the upstream read against its case's reference; returns the answer. */
  private upstreamRequest(request: ParsedRequest): string {
    const id = ++this.nextUpstreamId;
    const body = `#${id}`;
    const answer = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Upstream-Id: ${id}\r\n\r\n${request.method === 'HEAD' ? '' : body}`;
    const caseNumber = /c(\d+)-/.exec(request.target)?.[1];
    const record = caseNumber === undefined ? undefined : this.cases.get(Number(caseNumber));
    if (record === undefined) {
      this.violate(`the upstream read a request of no known case: ${describe(request)}`);
      return answer;
    }
    const index = record.upstreamIds.length;
    record.upstreamIds.push(id);
    if (record.finishedAt !== undefined && !record.reset)
      this.violate(
        `case ${caseNumber}: a request reached the upstream after the client's exchange ended unanswered: ${describe(request)}`,
        record,
      );
    const expected = record.reference.requests[index];
    const problem =
      expected === undefined ? 'the reference reads no such request' : mismatch(expected, request);
    if (problem !== undefined)
      this.violate(`case ${caseNumber}: upstream request ${index} ${describe(request)}: ${problem}`, record);
    return answer;
  }

  private forgetOldCases(): void {
    const before = Date.now() - 10_000;
    for (const [number, record] of this.cases)
      if (record.finishedAt !== undefined && record.finishedAt < before) this.cases.delete(number);
  }

  private violate(message: string, record?: CaseRecord, answer?: string): void {
    if (this.violations.length >= 20) return;
    let text = message;
    if (record !== undefined) text += `\n  sent: ${JSON.stringify(record.text)}`;
    if (answer !== undefined) text += `\n  answer: ${JSON.stringify(answer.slice(0, 800))}`;
    this.violations.push(text);
  }
}

function describe(request: ParsedRequest): string {
  return JSON.stringify({
    method: request.method,
    target: request.target,
    fields: request.fields,
    body: request.body,
  });
}

/** How the upstream's request differs from the reference's reading of the client's, if it does. */
function mismatch(expected: ParsedRequest, got: ParsedRequest): string | undefined {
  if (expected.method !== got.method) return `method ${got.method}, expected ${expected.method}`;
  if (expected.target !== got.target) return `target ${got.target}, expected ${expected.target}`;
  if (expected.body !== got.body)
    return `body ${JSON.stringify(got.body)}, expected ${JSON.stringify(expected.body)}`;
  const clientHost = expected.fields.some(([name]) => name.toLowerCase() === 'host');
  const want = endToEndFields(expected).map(([name, value]) => `${name}: ${value}`);
  const have = forwardedFields(got)
    .filter(([name]) => clientHost || name.toLowerCase() !== 'host')
    .map(([name, value]) => `${name}: ${value}`);
  if (want.join('\n') !== have.join('\n'))
    return `fields ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`;
  const clientFor = expected.fields
    .filter(([name]) => name.toLowerCase() === 'x-forwarded-for')
    .map(([, value]) => value);
  const forwardedFor = got.fields.find(([name]) => name.toLowerCase() === 'x-forwarded-for')?.[1];
  const wantFor = [...clientFor, '127.0.0.1'].join(', ');
  if (forwardedFor !== wantFor) return `X-Forwarded-For ${forwardedFor}, expected ${wantFor}`;
  return undefined;
}

function splitAt(text: string, shares: readonly number[]): string[] {
  const cuts = [...new Set(shares.map((share) => Math.floor(share * text.length)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from) continue;
    pieces.push(text.slice(from, cut));
    from = cut;
  }
  pieces.push(text.slice(from));
  return pieces.filter((piece) => piece.length > 0);
}

/** Writes the pieces one write each, each after the previous one reached the kernel. */
async function writeAll(socket: net.Socket, pieces: readonly string[]): Promise<void> {
  for (const piece of pieces)
    await new Promise<void>((resolve) => socket.write(piece, 'latin1', () => resolve()));
}

interface ExchangeResult {
  readonly text: string;
  /** Final statuses of the answers read, in order. */
  readonly statuses: number[];
  /** Every expected answer arrived on an open connection that can carry the next case. */
  readonly reusable: boolean;
  readonly clean: boolean;
}

/**
 * Sends the pieces. For a well-formed stream (`expected` given), waits for one answer per
 * request, or the connection's end; otherwise half-closes and reads until the proxy closes.
 */
function exchange(
  socket: net.Socket,
  pieces: readonly string[],
  expected: readonly ParsedRequest[] | undefined,
): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const finish = (reusable: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      const statuses = expected === undefined ? [] : readAnswers(text, expected).statuses;
      resolve({ text, statuses, reusable, clean: expected !== undefined });
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (expected === undefined) return;
      const read = readAnswers(text, expected);
      if (read.statuses.length === expected.length && read.complete) finish(!read.closing);
    };
    const onClose = (): void => finish(false);
    socket.on('data', onData);
    socket.on('close', onClose);
    // A proxy that neither answers nor closes is a finding: give up after a bound and say so.
    const timer = setTimeout(() => finish(false), 10_000);
    void writeAll(socket, pieces).then(() => {
      if (expected === undefined) socket.end();
    });
  });
}

/** Reads the proxy's answers to `requests` (HEAD answers have no body; 1xx are skipped). */
function readAnswers(
  text: string,
  requests: readonly ParsedRequest[],
): { statuses: number[]; complete: boolean; closing: boolean } {
  const statuses: number[] = [];
  let pos = 0;
  let closing = false;
  while (pos < text.length && statuses.length < requests.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd === -1) return { statuses, complete: false, closing };
    const lines = text.slice(pos, headEnd).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const field = (name: string): string | undefined =>
      lines
        .find((line) => line.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    pos = headEnd + 4;
    if (status >= 100 && status < 200) continue;
    closing = field('connection')?.toLowerCase() === 'close';
    const noBody = requests[statuses.length]!.method === 'HEAD' || status === 204 || status === 304;
    if (!noBody) {
      if (field('transfer-encoding') === 'chunked') {
        for (;;) {
          const lineEnd = text.indexOf('\r\n', pos);
          if (lineEnd === -1) return { statuses, complete: false, closing };
          const size = parseInt(text.slice(pos, lineEnd), 16);
          if (text.length < lineEnd + 2 + size + 2) return { statuses, complete: false, closing };
          pos = lineEnd + 2 + size + 2;
          if (size === 0) break;
        }
      } else {
        const length = Number(field('content-length') ?? 0);
        if (text.length < pos + length) return { statuses, complete: false, closing };
        pos += length;
      }
    }
    statuses.push(status);
  }
  return { statuses, complete: true, closing };
}
