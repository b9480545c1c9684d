/**
 * A webhook's answer: `{ "verdict": "pass"|"fail"|"inconclusive", "measure"?, "observed"?,
 * "threshold"?, "reason"? }` with a 2xx status. Anything else (another status, not JSON, an
 * unknown verdict, a field of the wrong type) is not an answer: the caller rejects, and the engine
 * makes that inconclusive — an endpoint that breaks never fails a release by accident.
 */
import { VERDICTS, type AnalysisFinding, type Verdict } from '../../shared/analysis.js';
import { CutoverError } from '../../shared/errors.js';
import { printable } from '../printable.js';

const MEASURE_MAX = 100;
const VALUE_MAX = 200;
const REASON_MAX = 500;

export function readVerdictAnswer(provider: string, status: number, text: string): AnalysisFinding {
  const refuse = (why: string): CutoverError =>
    new CutoverError('CUTOVER_E_ANALYSIS_PROVIDER', `${provider}: the endpoint answered ${why}`);
  if (status < 200 || status >= 300) throw refuse(`HTTP ${status}, not 2xx`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refuse('something that is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw refuse('JSON that is not an object');
  const answer = body as Record<string, unknown>;
  const verdict = answer.verdict;
  if (typeof verdict !== 'string' || !(VERDICTS as readonly string[]).includes(verdict))
    throw refuse(
      `verdict ${typeof verdict === 'string' ? JSON.stringify(printable(verdict, 40)) : typeof verdict}, not one of ${VERDICTS.join(', ')}`,
    );
  const text_ = (key: string, max: number): string | undefined => {
    const value = answer[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw refuse(`a ${key} that is not a string`);
    return printable(value, max);
  };
  const value = (key: string): string | number | null => {
    const given = answer[key];
    if (given === undefined || given === null) return null;
    if (typeof given === 'number' && Number.isFinite(given)) return given;
    if (typeof given === 'string') return printable(given, VALUE_MAX);
    throw refuse(`a ${key} that is neither a string nor a finite number`);
  };
  const measure = text_('measure', MEASURE_MAX) ?? 'verdict';
  const reason = text_('reason', REASON_MAX) ?? `the endpoint answered ${verdict}`;
  return {
    verdict: verdict as Verdict,
    provider,
    measure,
    observed: value('observed'),
    threshold: value('threshold'),
    reason,
  };
}
