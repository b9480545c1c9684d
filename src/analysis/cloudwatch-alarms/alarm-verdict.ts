/**
 * The verdict of a set of CloudWatch alarms, from what DescribeAlarms returned: any in ALARM
 * fails (the first one by name, the others counted in the reason); a named alarm that does not
 * exist is inconclusive (a typo must not pass as "no alarm"); otherwise pass. OK and
 * INSUFFICIENT_DATA both pass: an alarm with no data has not seen the release misbehave.
 */
import type { AnalysisFinding } from '../../shared/analysis.js';

export interface AlarmState {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
}

/** A StateReason is AWS's text but can carry anything an alarm's author put in it: bounded, one line. */
const REASON_MAX = 500;

export function alarmVerdict(
  provider: string,
  alarms: readonly AlarmState[],
  asked: { readonly names: readonly string[]; readonly prefix: string | undefined },
): AnalysisFinding {
  const base = { provider, measure: 'alarm state', threshold: 'not ALARM' } as const;
  const firing = alarms
    .filter((alarm) => alarm.state === 'ALARM')
    .sort((a, b) => a.name.localeCompare(b.name));
  const first = firing[0];
  if (first !== undefined) {
    const others = firing.length > 1 ? ` (and ${firing.length - 1} more in ALARM)` : '';
    return {
      ...base,
      verdict: 'fail',
      observed: 'ALARM',
      subject: printable(first.name, 255),
      reason: `alarm ${printable(first.name, 255)} is in ALARM: ${printable(first.reason, REASON_MAX)}${others}`,
    };
  }
  const found = new Set(alarms.map((alarm) => alarm.name));
  const missing = asked.names.filter((name) => !found.has(name));
  if (missing.length > 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      observed: 'missing',
      subject: printable(missing[0]!, 255),
      reason: `no CloudWatch alarm named ${missing.map((name) => printable(name, 255)).join(', ')} in this region`,
    };
  }
  if (alarms.length === 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      observed: 'none',
      reason: `no CloudWatch alarm has a name starting with ${printable(asked.prefix ?? '', 255)}`,
    };
  }
  const states = [...new Set(alarms.map((alarm) => alarm.state))].sort().join(', ');
  return {
    ...base,
    verdict: 'pass',
    observed: states,
    reason: `${alarms.length} alarm(s), none in ALARM (${states})`,
  };
}

/** Control characters out (they would break a log line or a terminal), then cut to `max`. */
function printable(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
