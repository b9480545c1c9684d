/**
 * What a Prometheus `/api/v1/query` answer says, reduced to one number or the reason there is
 * none. A query Prometheus refused or could not run (`"status": "error"`), an empty vector,
 * several series, or NaN is a measurement that could not tell: inconclusive. An answer that is
 * not the API's JSON at all (an HTML error page, a proxy's 502, a wrong shape) means the source
 * is not usable: the caller rejects, and the engine makes that inconclusive too.
 */
import { CutoverError } from '../../shared/errors.js';
import { printable } from '../printable.js';

export type QueryAnswer =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'no-value'; readonly observed: string; readonly reason: string };

const ERROR_TEXT_MAX = 300;

export function readQueryAnswer(source: string, status: number, text: string): QueryAnswer {
  const notTheApi = (why: string): CutoverError =>
    new CutoverError(
      'CUTOVER_E_ANALYSIS_PROVIDER',
      `${source}: HTTP ${status}, ${why}; is address a Prometheus server's base URL?`,
    );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw notTheApi('not JSON');
  }
  if (!isObject(body)) throw notTheApi('not a JSON object');
  if (body.status === 'error') {
    const type = typeof body.errorType === 'string' ? printable(body.errorType, 40) : 'error';
    const error = typeof body.error === 'string' ? printable(body.error, ERROR_TEXT_MAX) : 'no message';
    return {
      kind: 'no-value',
      observed: 'query error',
      reason: `Prometheus could not run the query (${type}): ${error}`,
    };
  }
  if (status < 200 || status >= 300) throw notTheApi('not a query error the API describes');
  if (body.status !== 'success' || !isObject(body.data))
    throw notTheApi('no "status": "success" with "data"');
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return fromSample(result, notTheApi);
  if (resultType === 'vector') {
    if (!Array.isArray(result)) throw notTheApi('a vector whose result is not a list');
    if (result.length === 0)
      return {
        kind: 'no-value',
        observed: 'no series',
        reason:
          'the query returned an empty vector: no series matched in the window (no traffic yet, or a label that does not match)',
      };
    if (result.length > 1)
      return {
        kind: 'no-value',
        observed: `${result.length} series`,
        reason: `the query returned ${result.length} series, not one number; aggregate it, e.g. sum(…)`,
      };
    const [series] = result as unknown[];
    if (!isObject(series)) throw notTheApi('a vector element that is not an object');
    return fromSample(series.value, notTheApi);
  }
  return {
    kind: 'no-value',
    observed: typeof resultType === 'string' ? printable(resultType, 20) : 'unknown result',
    reason: `the query returned a ${typeof resultType === 'string' ? printable(resultType, 20) : 'result of no known type'}, not one number; write an instant vector or scalar query`,
  };
}

/** `[<unix time>, "<value>"]`, the value as Prometheus writes floats ("0.05", "NaN", "+Inf"). */
function fromSample(sample: unknown, notTheApi: (why: string) => CutoverError): QueryAnswer {
  if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[1] !== 'string')
    throw notTheApi('a sample that is not [time, "value"]');
  const value = parseFloatText(sample[1]);
  if (value === undefined) throw notTheApi('a sample value that is not a number');
  if (Number.isNaN(value))
    return {
      kind: 'no-value',
      observed: 'NaN',
      reason: 'the query returned NaN (a division by zero: no requests in the window?)',
    };
  return { kind: 'value', value };
}

function parseFloatText(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
