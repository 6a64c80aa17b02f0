// Positions inside a workflow file: the node at a data path, and the exact line:column of an expression inside a string.
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { SourceLocation } from '../common/errors.js';
import { formatPath, locate } from '../config/yamlErrors.js';
import type { PathSegment, YamlSource } from '../config/yamlErrors.js';

/** A parsed file with its text, so an expression can be found inside the scalar that holds it. */
export interface WorkflowSource {
  file: string;
  yaml?: YamlSource;
  text?: string;
}

function nodeAt(source: YamlSource, path: readonly PathSegment[]): unknown {
  let node: unknown = source.document.contents;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(source.document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      return undefined;
    }
  }
  return node;
}

/** Where the value at `path` is (or its key, for a problem about the key itself). */
export function locateValue(
  source: WorkflowSource,
  path: readonly PathSegment[],
  target: 'value' | 'key' = 'value',
): SourceLocation {
  return locate(source.yaml, source.file, path, target);
}

/**
 * Where `offset` of `fragment` (a piece of the string at `path`, e.g. a template's expression) is in the file.
 * Exact when the fragment is written verbatim in the scalar (no escapes or folded lines in it); otherwise the
 * scalar's own position.
 */
export function locateInString(
  source: WorkflowSource,
  path: readonly PathSegment[],
  fragment: string,
  offset: number,
  fragmentStart = 0,
): SourceLocation {
  const fallback = locateValue(source, path);
  if (!source.yaml || source.text === undefined) return fallback;
  const node = nodeAt(source.yaml, path);
  if (!isScalar(node) || !node.range) return fallback;
  const raw = source.text.slice(node.range[0], node.range[1]);
  let at = raw.indexOf(fragment, Math.min(fragmentStart, raw.length));
  if (at < 0) at = raw.indexOf(fragment);
  if (at < 0) return fallback;
  const { line, col } = source.yaml.lineCounter.linePos(node.range[0] + at + offset);
  const location: SourceLocation = { file: source.file, line, column: col };
  if (path.length > 0) location.path = formatPath(path);
  return location;
}
