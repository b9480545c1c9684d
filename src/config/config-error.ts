import { CutoverError } from '../shared/errors.js';

/** One problem in a config file, as reported in CutoverError details and `--json` output. */
export interface ConfigProblem {
  /** 1-based; absent only when the file could not be read at all. */
  readonly line?: number;
  readonly column?: number;
  /** Key path such as "strategy.steps[1].weight"; empty for the file as a whole. */
  readonly path: string;
  /** What is wrong and what would be valid. */
  readonly message: string;
}

/** "strategy.steps[1].weight" */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text === '' ? String(segment) : `${text}.${String(segment)}`;
  }, '');
}

/** "cutover.yml:12:5: health.interval: "5x" is not a duration; …" */
export function formatProblem(displayFile: string, problem: ConfigProblem): string {
  const where =
    problem.line === undefined ? displayFile : `${displayFile}:${problem.line}:${problem.column ?? 1}`;
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`;
}

/**
 * One error for the whole file: its message lists every problem, one per line, in file order,
 * so a user fixes them all in one pass. `details.file` is the absolute path.
 */
export function configError(
  displayFile: string,
  absoluteFile: string,
  problems: readonly ConfigProblem[],
  cause?: unknown,
): CutoverError {
  const sorted = [...problems].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  const message = sorted.map((problem) => formatProblem(displayFile, problem)).join('\n');
  return new CutoverError('CUTOVER_E_CONFIG', message, {
    cause,
    details: { file: absoluteFile, errors: sorted },
  });
}
