import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';

/** 1-based line and column in the config file. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A YAML syntax problem, with where it is and which key it concerns (for duplicate keys). */
export interface YamlProblem {
  readonly position: SourcePosition;
  readonly code: string;
  readonly message: string;
  readonly path: readonly PropertyKey[];
}

/** What to point at for an issue: the key itself, the value, or the mapping that lacks a key. */
export type PointAt = 'key' | 'value' | 'parent';

interface Step {
  readonly key: Node | undefined;
  readonly node: Node | undefined;
}

// Friendlier words for the yaml package's messages that talk about its own API.
const FRIENDLY_MESSAGES: Readonly<Record<string, string>> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (a second "---"); cutover reads one',
  DUPLICATE_KEY: 'duplicate key; each key may appear only once in a mapping',
  TAB_AS_INDENT: 'tabs are not allowed as indentation; indent with spaces',
};

/** A parsed YAML file that remembers where every key and value came from. */
export class YamlSource {
  private readonly lineCounter: LineCounter;
  private readonly doc: Document.Parsed;

  constructor(text: string) {
    this.lineCounter = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
  }

  /** Syntax errors, duplicate keys and unresolved tags (warnings count: nothing falls back silently). */
  problems(): YamlProblem[] {
    const all: YAMLError[] = [...this.doc.errors, ...this.doc.warnings];
    const problems: YamlProblem[] = all.map((error) => ({
      position: this.positionOf(error.pos[0]),
      code: error.code,
      message: FRIENDLY_MESSAGES[error.code] ?? lowerFirst(error.message),
      path: error.code === 'DUPLICATE_KEY' ? (this.pathOfKeyAt(error.pos[0]) ?? []) : [],
    }));
    return problems.length > 0 ? problems : this.unresolvedAliases();
  }

  /** `*name` with no `&name` before it: the yaml package only notices when converting. */
  private unresolvedAliases(): YamlProblem[] {
    const problems: YamlProblem[] = [];
    visit(this.doc, {
      Alias: (_key, alias) => {
        if (alias.resolve(this.doc) !== undefined) return;
        problems.push({
          position: this.nodeStart(alias),
          code: 'UNRESOLVED_ALIAS',
          message: `*${alias.source} names no anchor; define &${alias.source} before it`,
          path: [],
        });
      },
    });
    return problems;
  }

  /** The plain value; throws on an alias that names no anchor. */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  isEmpty(): boolean {
    const contents = this.doc.contents;
    return contents === null || (isScalar(contents) && contents.value === null);
  }

  /**
   * Where an issue at `path` should point. Falls back to the deepest part of the path that
   * exists in the file, so defaults and missing keys still get a line.
   */
  locate(path: readonly PropertyKey[], pointAt: PointAt): SourcePosition {
    const target = pointAt === 'parent' ? path.slice(0, -1) : path;
    const steps = this.walk(target);
    const last = steps[steps.length - 1]!;
    const reachedAll = steps.length === target.length + 1;
    if (reachedAll && pointAt === 'key' && last.key) return this.nodeStart(last.key);
    return this.pointAtStep(last);
  }

  private pointAtStep(step: Step): SourcePosition {
    const { key, node } = step;
    const emptyValue = node === undefined || (isScalar(node) && node.value === null && rangeIsEmpty(node));
    // A mapping or list value: the line with its key reads better than its first child.
    if (key && (emptyValue || isCollection(node))) return this.nodeStart(key);
    if (node && !emptyValue) return this.nodeStart(node);
    return key ? this.nodeStart(key) : { line: 1, column: 1 };
  }

  private walk(path: readonly PropertyKey[]): Step[] {
    const steps: Step[] = [{ key: undefined, node: this.doc.contents ?? undefined }];
    for (const segment of path) {
      const current = this.resolve(steps[steps.length - 1]!.node);
      let next: Step | undefined;
      if (isMap(current)) {
        const pair = current.items.find((item) => keyText(item.key) === String(segment));
        if (pair) next = { key: pair.key as Node, node: (pair.value ?? undefined) as Node | undefined };
      } else if (isSeq(current)) {
        const item = current.items[Number(segment)];
        if (item !== undefined) next = { key: undefined, node: item as Node };
      }
      if (!next) break;
      steps.push(next);
    }
    return steps;
  }

  private resolve(node: Node | undefined): Node | undefined {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** The key path of the mapping key that starts at `offset` (for duplicate-key errors). */
  private pathOfKeyAt(offset: number): PropertyKey[] | undefined {
    const search = (node: unknown, path: PropertyKey[]): PropertyKey[] | undefined => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = pair.key as Node | null;
          const here = [...path, keyText(key) ?? '?'];
          if (key?.range?.[0] === offset) return here;
          const found = search(pair.value, here);
          if (found) return found;
        }
      } else if (isSeq(node)) {
        for (const [index, item] of node.items.entries()) {
          const found = search(item, [...path, index]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return search(this.doc.contents, []);
  }

  private nodeStart(node: Node): SourcePosition {
    return this.positionOf(node.range?.[0] ?? 0);
  }

  private positionOf(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeIsEmpty(node: Node): boolean {
  return node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
