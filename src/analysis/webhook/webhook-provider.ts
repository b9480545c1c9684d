import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { signDelivery } from '../../notifications/signature.js';
import type { AnalysisFinding, AnalysisProvider, AnalysisRequest } from '../../shared/analysis.js';
import { CutoverError } from '../../shared/errors.js';
import { boundedExchange } from '../bounded-exchange.js';
import type { WebhookAnalysisConfig } from './config.js';
import { readVerdictAnswer } from './verdict-answer.js';

/** A verdict is a few fields; anything much larger is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What the endpoint is sent: the deployment and the window to judge. */
export interface WebhookAnalysisRequestBody {
  readonly deploymentId: string;
  readonly app: string;
  readonly release: string;
  readonly oldRelease: string | null;
  readonly newSlot: string;
  readonly oldSlot: string | null;
  readonly stage: string;
  readonly step: number | null;
  readonly window: { readonly start: string; readonly end: string };
}

/**
 * POSTs the request (signed when `secretFile` is set) and takes the endpoint's verdict as it is.
 * The URL and key files are read at each check, so a rotated token or key needs no restart; no
 * message names the URL (it may carry a token), only the provider.
 */
export class WebhookAnalysisProvider implements AnalysisProvider {
  readonly name: string;

  constructor(
    private readonly config: WebhookAnalysisConfig,
    private readonly baseDir: string,
  ) {
    this.name = config.name ?? config.kind;
  }

  async check(request: AnalysisRequest): Promise<AnalysisFinding> {
    const body: WebhookAnalysisRequestBody = {
      deploymentId: request.deploymentId,
      app: request.app,
      release: request.release,
      oldRelease: request.oldRelease,
      newSlot: request.newSlot,
      oldSlot: request.oldSlot,
      stage: request.stage,
      step: request.step ?? null,
      window: { start: request.window.start, end: request.window.end },
    };
    const text = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-cutover-deployment': request.deploymentId,
    };
    if (this.config.secretFile !== undefined) {
      const key = await this.readFile('secretFile', this.config.secretFile);
      const timestamp = Math.floor(Date.now() / 1000);
      headers['x-cutover-timestamp'] = String(timestamp);
      headers['x-cutover-signature'] = signDelivery(key, timestamp, text);
    }
    const answer = await boundedExchange({
      source: this.name,
      url: await this.url(),
      method: 'POST',
      headers,
      body: text,
      timeoutMs: this.config.timeout,
      maxBytes: MAX_ANSWER_BYTES,
      signal: request.signal,
    });
    return readVerdictAnswer(this.name, answer.status, answer.text);
  }

  private async url(): Promise<URL> {
    if (this.config.url !== undefined) return new URL(this.config.url);
    const line = (await this.readFile('urlFile', this.config.urlFile!))
      .toString('utf8')
      .split(/\r?\n/, 1)[0]!
      .trim();
    let url: URL | undefined;
    try {
      url = new URL(line);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new CutoverError(
        'CUTOVER_E_ANALYSIS_PROVIDER',
        `${this.name}: urlFile ${this.resolve(this.config.urlFile!)} does not start with an http(s) URL`,
      );
    return url;
  }

  /** A file named by the config; the message names the file and key, never what it holds. */
  private async readFile(key: 'urlFile' | 'secretFile', file: string): Promise<Buffer> {
    const full = this.resolve(file);
    let content: Buffer;
    try {
      content = await readFile(full);
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_ANALYSIS_PROVIDER',
        `${this.name}: cannot read ${key} ${full} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
    if (content.length === 0)
      throw new CutoverError('CUTOVER_E_ANALYSIS_PROVIDER', `${this.name}: ${key} ${full} is empty`);
    return content;
  }

  private resolve(file: string): string {
    return path.resolve(this.baseDir, file);
  }
}
