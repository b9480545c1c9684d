import path from 'node:path';
import type { AnalysisFinding, AnalysisProvider, AnalysisRequest } from '../../shared/analysis.js';
import { boundedExchange } from '../bounded-exchange.js';
import { printable } from '../printable.js';
import { readBearerToken } from './bearer-token.js';
import type { PrometheusAnalysisConfig } from './config.js';
import { describeConditions, measure } from './measurement.js';
import { readQueryAnswer } from './query-answer.js';
import { fillQuery } from './query-template.js';
import { WindowTally } from './window-tally.js';

/** An instant query's answer is one number; a megabyte is a query that matched far too much. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** Windows whose tally is kept; older ones are forgotten (one provider lives one deployment). */
const MAX_WINDOWS_KEPT = 16;
/** The query as the record and the events show it. */
const SUBJECT_MAX = 500;

/**
 * Runs the query at the window's end time (`time` = the request's window end) one interval
 * apart, and answers each check with the window's verdict so far (window-tally.ts).
 */
export class PrometheusAnalysisProvider implements AnalysisProvider {
  readonly name: string;
  private readonly windows = new Map<string, WindowTally>();
  private readonly queryUrl: URL;

  constructor(
    private readonly config: PrometheusAnalysisConfig,
    private readonly baseDir: string,
  ) {
    this.name = config.name ?? config.kind;
    const base = config.address.endsWith('/') ? config.address : `${config.address}/`;
    this.queryUrl = new URL('api/v1/query', base);
  }

  async check(request: AnalysisRequest): Promise<AnalysisFinding> {
    const tally = this.tallyOf(request);
    const query = fillQuery(this.config.query, request);
    const ageMs = Date.parse(request.window.end) - Date.parse(request.window.start);
    if (tally.due(ageMs)) {
      // A rejection (server unreachable, hostile answer) is no measurement: the next check retries.
      const answer = await this.run(query, request);
      tally.add(measure(answer, this.config));
    }
    const window = tally.verdict();
    return {
      verdict: window.verdict,
      provider: this.name,
      measure: 'query result',
      observed: window.measurement?.observed ?? null,
      threshold: describeConditions(this.config),
      subject: printable(query, SUBJECT_MAX),
      reason: window.reason,
    };
  }

  private async run(query: string, request: AnalysisRequest) {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.config.tokenFile !== undefined) {
      const token = await readBearerToken(this.name, path.resolve(this.baseDir, this.config.tokenFile));
      headers.authorization = `Bearer ${token}`;
    }
    // POST keeps the query (and anything in it) out of URLs and access logs.
    const form = new URLSearchParams({ query, time: (Date.parse(request.window.end) / 1000).toFixed(3) });
    const answer = await boundedExchange({
      source: this.name,
      url: this.queryUrl,
      method: 'POST',
      headers,
      body: form.toString(),
      timeoutMs: this.config.timeout,
      maxBytes: MAX_ANSWER_BYTES,
      signal: request.signal,
    });
    return readQueryAnswer(this.name, answer.status, answer.text);
  }

  private tallyOf(request: AnalysisRequest): WindowTally {
    const key = [request.deploymentId, request.stage, request.step ?? '', request.window.start].join(' ');
    let tally = this.windows.get(key);
    if (tally === undefined) {
      if (this.windows.size >= MAX_WINDOWS_KEPT) this.windows.delete(this.windows.keys().next().value!);
      tally = new WindowTally({
        intervalMs: this.config.interval,
        count: this.config.count,
        failureLimit: this.config.failureLimit,
        inconclusiveLimit: this.config.inconclusiveLimit,
      });
      this.windows.set(key, tally);
    }
    return tally;
  }
}
