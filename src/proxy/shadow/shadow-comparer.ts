/**
 * Shadow comparison in one proxy process: for a sampled live request of a safe method, the live
 * answer is tapped as it goes to the client and the mirrored copy's answer captured; when both
 * have ended they are compared. The live path never waits: the tap copies what is written anyway,
 * and the pair is judged after the live response has ended.
 *
 * The cost is bounded: at most `maxConcurrent` copies are compared at once (a request sampled
 * beyond that is not copied at all, and counted as dropped), and a copy the shadow slot has not
 * answered within `timeout` is cut and counted as dropped.
 */
import type { Slot } from '../../shared/slot.js';
import type { UpstreamHead } from '../upstream-head.js';
import type { Exchange, UpstreamConnection } from '../upstream-connection.js';
import { CapturedResponse } from './captured-response.js';
import { compareResponses, type ComparisonRules, type ResponseDifference } from './compare-responses.js';
import { parseJsonPath } from './json-path.js';
import { Redactor } from './redaction.js';
import { MAX_SAMPLES, SAMPLE_BODY_CHARS, type ShadowCounts, type ShadowSample } from './shadow-sample.js';

/** `router.mirror.compare`, as the config gives it (durations in ms). */
export interface ShadowCompareOptions {
  readonly headers: readonly string[];
  readonly ignore: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxConcurrent: number;
  readonly timeout: number;
  readonly secretHeaders: readonly string[];
  readonly secretQueryParams: readonly string[];
}

/** Methods compared: those that change nothing. A copy of any other method is never compared. */
const COMPARED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What ProxiedRequest reports of the live answer to a compared request. */
export interface ResponseTap {
  onHead(head: UpstreamHead): void;
  onBody(piece: Uint8Array): void;
  onEnd(lastBody?: Uint8Array): void;
  /** The live answer did not go out whole (cut, or answered by the proxy for a failure). */
  onAbandon(): void;
}

export interface SlotSample {
  readonly slot: Slot;
  readonly sample: ShadowSample;
}

type Counters = { compared: number; differing: number; dropped: number };

export class ShadowComparer {
  private readonly rules: ComparisonRules;
  private readonly comparedHeaders: ReadonlySet<string>;
  private readonly redactor: Redactor;
  private readonly counters: Record<Slot, Counters> = {
    blue: { compared: 0, differing: 0, dropped: 0 },
    green: { compared: 0, differing: 0, dropped: 0 },
  };
  /** Differing pairs not yet taken by takeSamples(), newest last, with the slot the copy went to. */
  private samples: SlotSample[] = [];
  private inFlight = 0;

  constructor(private readonly options: ShadowCompareOptions) {
    const headers = options.headers.map((name) => name.toLowerCase());
    this.rules = { headers, ignore: options.ignore.map(parseJsonPath) };
    this.comparedHeaders = new Set(headers);
    this.redactor = new Redactor({
      secretHeaders: options.secretHeaders,
      secretQueryNames: options.secretQueryParams,
    });
  }

  /** Whether a copy of this method is compared at all. */
  compares(method: string): boolean {
    return COMPARED_METHODS.has(method);
  }

  /**
   * A pair for one copy to `slot`; undefined (counted as dropped) when `maxConcurrent` pairs
   * are in flight: then the copy must not be sent.
   */
  start(slot: Slot, method: string, target: string): ShadowPair | undefined {
    if (this.inFlight >= this.options.maxConcurrent) {
      this.counters[slot].dropped += 1;
      return undefined;
    }
    this.inFlight += 1;
    return new ShadowPair(this, slot, method, target, this.options);
  }

  /** Cumulative counts per slot (the slot the copies went to). */
  counts(): Record<Slot, ShadowCounts> {
    return { blue: { ...this.counters.blue }, green: { ...this.counters.green } };
  }

  /** The differing pairs since the last call, oldest first. */
  takeSamples(): SlotSample[] {
    const taken = this.samples;
    this.samples = [];
    return taken;
  }

  get pairsInFlight(): number {
    return this.inFlight;
  }

  /** @internal A pair ended: both sides whole (compared) or not (dropped). */
  settle(pair: ShadowPair, live: CapturedResponse, shadow: CapturedResponse | undefined): void {
    this.inFlight -= 1;
    const counters = this.counters[pair.slot];
    if (shadow === undefined) {
      counters.dropped += 1;
      return;
    }
    counters.compared += 1;
    const difference = compareResponses(live, shadow, this.rules);
    if (difference === undefined) return;
    counters.differing += 1;
    this.samples.push({ slot: pair.slot, sample: this.sample(pair, live, shadow, difference) });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** @internal */
  capture(): CapturedResponse {
    return new CapturedResponse(this.options.maxBodyBytes, this.comparedHeaders);
  }

  private sample(
    pair: ShadowPair,
    live: CapturedResponse,
    shadow: CapturedResponse,
    difference: ResponseDifference,
  ): ShadowSample {
    const side = (captured: CapturedResponse): ShadowSample['live'] => {
      const text = sampleText(captured.body());
      return {
        status: captured.status,
        headers: this.redactor.headers(captured.headers),
        bodyBytes: captured.bodyBytes,
        body: text === undefined ? null : text.slice(0, SAMPLE_BODY_CHARS),
        bodyCut: text === undefined ? false : text.length > SAMPLE_BODY_CHARS || captured.truncated,
      };
    };
    return {
      at: new Date().toISOString(),
      method: pair.method,
      target: this.redactor.target(pair.target),
      live: side(live),
      shadow: side(shadow),
      statusDiffers: difference.status,
      headers: [...difference.headers],
      body: sampleBodyDifference(difference),
    };
  }
}

function sampleBodyDifference(difference: ResponseDifference): ShadowSample['body'] {
  const body = difference.body;
  if (body === undefined) return null;
  return body.kind === 'json' ? { ...body, paths: [...body.paths] } : { ...body };
}

/** The body as text when it is text (UTF-8, no NUL); undefined for a binary body. */
function sampleText(body: Buffer): string | undefined {
  if (body.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    // A text body cut by maxBodyBytes mid-character: shown without the partial character.
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, lastWholeCharacter(body)));
    } catch {
      return undefined;
    }
  }
}

function lastWholeCharacter(body: Buffer): number {
  let end = body.length;
  // Back over continuation bytes (10xxxxxx) to the lead byte of the last character, and drop it.
  for (let steps = 0; steps < 4 && end > 0 && (body[end - 1]! & 0xc0) === 0x80; steps += 1) end -= 1;
  return end > 0 && body[end - 1]! >= 0xc0 ? end - 1 : end;
}

/** One live request and its copy, until both answers ended (or the copy was given up). */
export class ShadowPair {
  private readonly live: CapturedResponse;
  private readonly shadow: CapturedResponse;
  private liveDone: 'pending' | 'whole' | 'abandoned' = 'pending';
  private shadowDone: 'pending' | 'whole' | 'failed' = 'pending';
  private connection: UpstreamConnection | undefined;
  private readonly timer: NodeJS.Timeout;
  private settled = false;

  constructor(
    private readonly comparer: ShadowComparer,
    readonly slot: Slot,
    readonly method: string,
    readonly target: string,
    options: ShadowCompareOptions,
  ) {
    this.live = comparer.capture();
    this.shadow = comparer.capture();
    this.timer = setTimeout(() => this.timedOut(), options.timeout);
    this.timer.unref();
  }

  /** The live side, for ProxiedRequest. */
  readonly tap: ResponseTap = {
    onHead: (head) => this.live.onHead(head),
    onBody: (piece) => this.live.onBody(piece),
    onEnd: (lastBody) => {
      if (this.liveDone !== 'pending') return;
      if (lastBody !== undefined) this.live.onBody(lastBody);
      this.live.onEnd();
      this.liveDone = 'whole';
      this.settleIfDone();
    },
    onAbandon: () => {
      if (this.liveDone !== 'pending') return;
      this.liveDone = 'abandoned';
      this.settleIfDone();
    },
  };

  /** The copy's exchange, for the mirror. */
  readonly exchange: Exchange = {
    onHead: (head) => this.shadow.onHead(head),
    onBody: (piece) => this.shadow.onBody(piece),
    onEnd: (_reusable, lastBody) => {
      if (this.shadowDone !== 'pending') return;
      if (lastBody !== undefined) this.shadow.onBody(lastBody);
      this.shadow.onEnd();
      this.shadowDone = 'whole';
      this.connection = undefined;
      this.settleIfDone();
    },
    onFailure: () => {
      if (this.shadowDone !== 'pending') return;
      this.shadowDone = 'failed';
      this.connection = undefined;
      this.settleIfDone();
    },
    onWritable: () => undefined,
  };

  /** The connection the copy went out on: cut if the shadow slot is too slow. */
  sentOn(connection: UpstreamConnection): void {
    if (this.shadowDone === 'pending') this.connection = connection;
  }

  /**
   * The pair is given up: the copy was not answered in time (its connection is cut), or the
   * live answer did not end in time (one that never reported is never waited for forever).
   */
  private timedOut(): void {
    if (this.settled) return;
    if (this.shadowDone === 'pending') this.shadowDone = 'failed';
    if (this.liveDone === 'pending') this.liveDone = 'abandoned';
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.settled) return;
    // A failed side ends the pair at once: nothing is compared, nothing more is awaited.
    if (this.liveDone === 'abandoned' || this.shadowDone === 'failed') {
      this.settled = true;
      clearTimeout(this.timer);
      // The copy's answer is no longer wanted: its connection goes, not its cap slot alone.
      const connection = this.connection;
      this.connection = undefined;
      if (this.shadowDone === 'pending') this.shadowDone = 'failed';
      connection?.abort();
      this.comparer.settle(this, this.live, undefined);
      return;
    }
    if (this.liveDone !== 'whole' || this.shadowDone !== 'whole') return;
    this.settled = true;
    clearTimeout(this.timer);
    this.comparer.settle(this, this.live, this.shadow);
  }
}
