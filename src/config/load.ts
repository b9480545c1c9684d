import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CutoverError } from '../shared/errors.js';
import { configError, formatKeyPath, type ConfigProblem } from './config-error.js';
import { crossCheck } from './cross-checks.js';
import { notifierFileIssues } from './notifier-file-checks.js';
import { explainIssue, type ExplainedIssue } from './issue-messages.js';
import { applyMovedKeys, checkMovedKeys, deprecationMessage, keyName } from './moved-keys.js';
import { configSchema, type CutoverConfig } from './schema.js';
import { YamlSource } from './yaml-source.js';

/**
 * Read, validate and normalize a cutover.yml. Every problem is reported at once, each with
 * file:line:column, the key path, what is wrong and what would be valid; nothing falls back
 * to a default when a value does not parse.
 *
 * @throws CutoverError CUTOVER_E_CONFIG (details: { file, errors: ConfigProblem[] })
 */
export function loadConfig(file: string): CutoverConfig {
  const absoluteFile = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absoluteFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'not found (run `cutover init` to write one)'
        : code === 'EISDIR'
          ? 'is a directory; name the config file itself, e.g. cutover.yml'
          : `cannot be read: ${(error as Error).message}`;
    throw configError(file, absoluteFile, [{ path: '', message }], error);
  }
  return parseConfigText(text, absoluteFile, file);
}

/**
 * Validate config text that came from `file` (used for relative paths and messages).
 * `displayFile` is how messages name the file; it defaults to the path as given.
 */
export function parseConfigText(text: string, file: string, displayFile: string = file): CutoverConfig {
  const absoluteFile = path.resolve(file);
  const fail = (problems: ConfigProblem[], cause?: unknown): CutoverError =>
    configError(displayFile, absoluteFile, problems, cause);

  const source = new YamlSource(text);
  const syntax = source.problems();
  if (syntax.length > 0) {
    throw fail(
      syntax.map((problem) => ({
        line: problem.position.line,
        column: problem.position.column,
        path: formatKeyPath(problem.path),
        message: problem.code === 'DUPLICATE_KEY' ? problem.message : `YAML syntax error: ${problem.message}`,
      })),
    );
  }
  if (source.isEmpty()) {
    throw fail([
      { line: 1, column: 1, path: '', message: 'the file is empty (run `cutover init` to write one)' },
    ]);
  }

  let data: unknown;
  try {
    data = source.toJS();
  } catch (error) {
    // e.g. an alias (*name) with no matching anchor (&name).
    throw fail([{ line: 1, column: 1, path: '', message: `YAML error: ${(error as Error).message}` }], error);
  }

  const toProblem = (issue: ExplainedIssue): ConfigProblem => {
    const position = source.locate(issue.path, issue.pointAt);
    return {
      line: position.line,
      column: position.column,
      path: formatKeyPath(issue.path),
      message: issue.message,
    };
  };

  const moved = checkMovedKeys(data);
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const explained = parsed.error.issues.flatMap((issue) => explainIssue(issue, configSchema, data));
    throw fail(dedupe([...explained, ...moved.problems].map(toProblem)));
  }
  if (moved.problems.length > 0) throw fail(moved.problems.map(toProblem));
  const config = applyMovedKeys(parsed.data, moved.moves);
  const baseDir = path.dirname(absoluteFile);
  const crossIssues = [...crossCheck(config), ...notifierFileIssues(config.notifications, baseDir)];
  if (crossIssues.length > 0) throw fail(crossIssues.map(toProblem));

  const deprecations = moved.moves.map((move): ConfigDeprecation => {
    const { line, column } = source.locate(move.from, 'key');
    return {
      line,
      column,
      oldKey: keyName(move.from),
      newKey: keyName(move.to),
      message: `${displayFile}:${line}: ${deprecationMessage(move)}`,
    };
  });
  return {
    ...config,
    file: absoluteFile,
    baseDir,
    stateDirPath: path.resolve(baseDir, config.stateDir),
    deprecations,
  };
}

/** An old key the file still uses; it loaded as its new key. */
export interface ConfigDeprecation {
  readonly line: number;
  readonly column: number;
  /** "listen" */
  readonly oldKey: string;
  /** "router.listen" */
  readonly newKey: string;
  /** "cutover.yml:3: `listen` is deprecated; use `router.listen` (router kind builtin)" */
  readonly message: string;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.line}:${problem.column}:${problem.path}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
