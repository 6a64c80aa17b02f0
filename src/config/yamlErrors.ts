// Positions in YAML files: parse with a line counter, find the node at a path, and report problems as `file:line:col path: message`.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Range } from 'yaml';
import { RetraceError, formatLocation } from '../common/errors.js';
import type { ErrorCode, SourceLocation } from '../common/errors.js';

export type PathSegment = string | number;

/** One thing wrong with a file, and where. */
export interface SourceProblem {
  location: SourceLocation;
  message: string;
}

/** Every problem found in one file, one per line (`file:line:col path: message`), in a single error. */
export class SourceProblemsError extends RetraceError {
  readonly problems: readonly SourceProblem[];

  constructor(code: ErrorCode, problems: readonly SourceProblem[]) {
    const sorted = [...problems].sort(byPosition);
    super(code, sorted.map(describeProblem).join('\n'), sorted[0] ? { location: sorted[0].location } : {});
    this.problems = sorted;
  }

  /** The message already names every location, so it is the description. */
  override describe(): string {
    return this.message;
  }
}

export function describeProblem(problem: SourceProblem): string {
  const where = formatLocation(problem.location);
  return where ? `${where}: ${problem.message}` : problem.message;
}

function byPosition(a: SourceProblem, b: SourceProblem): number {
  return (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0);
}

/** A parsed YAML file that remembers where each node came from. */
export interface YamlSource {
  file: string;
  document: Document.Parsed;
  lineCounter: LineCounter;
}

export interface ParsedYaml {
  source: YamlSource;
  /** Syntax errors and duplicate keys. */
  problems: SourceProblem[];
  /** False when the text is not YAML at all; duplicate keys alone leave the document usable. */
  usable: boolean;
}

/** Parses YAML text with positions; problems name `file:line:col` (and the path, for a duplicate key). */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // `logLevel: 'error'`: a mapping used as a key is left to validation to refuse, not warned about on stderr.
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const source: YamlSource = { file, document, lineCounter };
  let usable = true;
  const problems = document.errors.map((error): SourceProblem => {
    const at = position(source, error.pos[0]);
    if (error.code !== 'DUPLICATE_KEY') {
      usable = false;
      const message = error.code === 'MULTIPLE_DOCS' ? 'expected one YAML document, found several' : error.message;
      return { location: { file, ...at }, message };
    }
    const path = pathOfKeyAt(document, error.pos[0]);
    const key = path?.at(-1);
    const location: SourceLocation = { file, ...at };
    if (path) location.path = formatPath(path);
    return { location, message: key === undefined ? 'duplicate key' : `duplicate key ${JSON.stringify(key)}` };
  });
  if (usable) {
    const aliasProblem = unresolvableAlias(source);
    if (aliasProblem) {
      problems.push(aliasProblem);
      usable = false;
    }
  }
  return { source, problems, usable };
}

/**
 * An alias the document cannot turn into a value (`*name` before or without its `&name`, or so many aliases that
 * expanding them would exhaust memory): the value conversion throws on it, so it is reported where it is instead.
 */
function unresolvableAlias(source: YamlSource): SourceProblem | undefined {
  const { document, file } = source;
  try {
    document.toJS();
    return undefined;
  } catch (error) {
    let unresolved: { offset: number; name: string } | undefined;
    let first: { offset: number; name: string } | undefined;
    visit(document, {
      Alias(_key, node) {
        const alias = { offset: node.range?.[0] ?? 0, name: node.source };
        first ??= alias;
        if (node.resolve(document) !== undefined) return undefined;
        unresolved = alias;
        return visit.BREAK;
      },
    });
    const detail = error instanceof Error ? error.message : String(error);
    const at = unresolved ?? first;
    const message = unresolved
      ? `alias *${unresolved.name} has no anchor &${unresolved.name} before it`
      : `the aliases cannot be expanded: ${detail}`;
    const offset = at?.offset ?? 0;
    return { location: { file, ...position(source, offset) }, message };
  }
}

function position(source: YamlSource, offset: number): { line: number; column: number } {
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
}

/** `servers.fault.command`, `tools.x.fallbacks[0]`, `servers["my server"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][\w/-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

interface Located {
  range?: Range | null | undefined;
}

/** The path of the mapping key that starts at `offset`, if there is one. */
function pathOfKeyAt(document: Document.Parsed, offset: number): PathSegment[] | undefined {
  const search = (node: unknown, path: PathSegment[]): PathSegment[] | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if ((pair.key as Located).range?.[0] === offset) return [...path, key];
        const found = search(pair.value, [...path, key]);
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
  return search(document.contents, []);
}

/**
 * Where `path` is in the file: its value node (or its key, for a misspelt or invalid key). When the path
 * does not exist (a missing field) the nearest existing ancestor's key is named instead.
 */
export function locate(
  source: YamlSource | undefined,
  file: string | undefined,
  path: readonly PropertyKey[],
  target: 'value' | 'key' = 'value',
): SourceLocation {
  const location: SourceLocation = {};
  if (file !== undefined) location.file = file;
  if (path.length > 0) location.path = formatPath(path);
  if (!source) return location;
  let node: unknown = source.document.contents;
  let keyNode: unknown;
  let found = true;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(source.document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) {
        found = false;
        break;
      }
      [node, keyNode] = [pair.value, pair.key];
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      [node, keyNode] = [node.items[segment], undefined];
    } else {
      found = false;
      break;
    }
  }
  // A missing field is reported at the key of its nearest existing parent.
  const preferKey = target === 'key' || !found;
  const offset = (preferKey ? rangeOf(keyNode) : undefined) ?? rangeOf(node) ?? rangeOf(keyNode) ?? 0;
  return { ...location, ...position(source, offset) };
}

function rangeOf(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  return (node as Located).range?.[0];
}
