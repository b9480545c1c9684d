/**
 * The text `cutover diff` prints for a deployment's shadow stage: the verdict, then each
 * differing pair: its request line, each side's status, the differing header fields with both
 * values, and where the bodies differ (JSON paths, the first differing byte and line, or the
 * sizes when only hashes were compared), with the start of each body.
 */
import type { ShadowSample } from '../proxy/shadow/shadow-sample.js';
import { describeFinding, type AnalysisFinding } from '../shared/analysis.js';

export interface ShadowStageReport {
  readonly startedAt: string;
  readonly finding: AnalysisFinding | null;
  readonly samples: readonly ShadowSample[];
}

/** Body characters printed per side (the sample itself keeps more; --json shows it all). */
const PRINTED_BODY_CHARS = 300;

export function renderShadowReport(deploymentId: string, report: ShadowStageReport): string[] {
  const lines = [`shadow comparison of ${deploymentId}, started ${report.startedAt}`];
  if (report.finding !== null)
    lines.push(`verdict: ${report.finding.verdict}: ${describeFinding(report.finding)}`);
  if (report.samples.length === 0) {
    lines.push('no differing pair was kept');
    return lines;
  }
  lines.push(`${report.samples.length} differing pair(s), oldest first:`);
  for (const sample of report.samples) lines.push('', ...renderSample(sample));
  return lines;
}

export function renderSample(sample: ShadowSample): string[] {
  const lines = [`${sample.method} ${printable(sample.target)}  (${sample.at})`];
  const status = `status: live ${sample.live.status}, shadow ${sample.shadow.status}`;
  lines.push(`  ${status}${sample.statusDiffers ? '  ← differs' : ''}`);
  for (const name of sample.headers) {
    lines.push(
      `  header ${name}: live ${show(sample.live.headers[name])}, shadow ${show(sample.shadow.headers[name])}`,
    );
  }
  const body = sample.body;
  if (body !== null) {
    switch (body.kind) {
      case 'json':
        lines.push(`  body (JSON) differs at: ${body.paths.join(', ')}${body.more ? ', …' : ''}`);
        break;
      case 'bytes':
        lines.push(`  body differs from byte ${body.offset} (line ${body.line})`);
        break;
      case 'hash':
        lines.push(
          `  body differs (over maxBodyBytes: compared by SHA-256; ${body.liveBytes} and ${body.shadowBytes} bytes)`,
        );
        break;
    }
    lines.push(`  live body:   ${bodyText(sample.live)}`, `  shadow body: ${bodyText(sample.shadow)}`);
  }
  return lines;
}

function show(value: string | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

function bodyText(side: ShadowSample['live']): string {
  if (side.body === null) return `(${side.bodyBytes} bytes, binary)`;
  const cut = side.body.length > PRINTED_BODY_CHARS || side.bodyCut;
  return `${JSON.stringify(side.body.slice(0, PRINTED_BODY_CHARS))}${cut ? ` … (${side.bodyBytes} bytes)` : ''}`;
}

/** A request target as received may hold control characters: never let them reach the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
