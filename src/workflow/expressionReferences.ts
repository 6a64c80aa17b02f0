// The names an expression reads from its scope: walks jsonata's AST for paths evaluated against the root document.
import type jsonata from 'jsonata';

/** `steps.fetch.result[0].x` → names ['steps', 'fetch', 'result'] (the plain names before the first filter or call). */
export interface RootReference {
  names: string[];
  /** Where the first name starts in the expression's text. */
  offset: number;
}

type Node = Omit<jsonata.ExprNode, 'type'> & { type: string } & Record<string, unknown>;

export function findRootReferences(ast: jsonata.ExprNode): RootReference[] {
  const references: RootReference[] = [];
  walk(ast as unknown as Node, true, references);
  return references;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** `atRoot`: the node is evaluated against the scope document itself, not against an item of some path. */
function walk(node: Node, atRoot: boolean, out: RootReference[]): void {
  switch (node.type) {
    case 'path': {
      const steps = (node.steps ?? []) as Node[];
      const first = steps[0];
      let index = 0;
      let fromRoot = atRoot;
      // `$.x` at the root and `$$.x` anywhere read the scope document.
      if (first?.type === 'variable' && (first.value === '$' || (first.value === '' && atRoot))) {
        fromRoot = true;
        index = 1;
      }
      if (fromRoot && steps[index]?.type === 'name') {
        const names: string[] = [];
        for (let at = index; at < steps.length; at += 1) {
          const step = steps[at];
          if (step?.type !== 'name') break;
          names.push(String(step.value));
          if (step.stages !== undefined || step.predicate !== undefined) break;
        }
        const head = steps[index];
        out.push({ names, offset: startOf(head) });
      }
      steps.forEach((step, position) => {
        if (step.type === 'name') walkDecorations(step, out);
        else walk(step, position === 0 ? atRoot : false, out);
      });
      walkDecorations(node, out);
      return;
    }
    case 'name':
      if (atRoot) out.push({ names: [String(node.value)], offset: startOf(node) });
      walkDecorations(node, out);
      return;
    case 'lambda':
      // A lambda's body sees the input of the place it was defined.
      if (isNode(node.body)) walk(node.body, atRoot, out);
      return;
    case 'unary':
      if (node.value === '{' && Array.isArray(node.lhs)) {
        for (const pair of node.lhs as unknown as Node[][]) pair.forEach((item) => walk(item, atRoot, out));
        return;
      }
      break;
    default:
      break;
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'stages' || key === 'predicate' || key === 'group') continue;
    for (const item of Array.isArray(child) ? child.flat() : [child]) {
      if (isNode(item)) walk(item, atRoot, out);
    }
  }
  walkDecorations(node, out);
}

/** Filters, predicates and group-by clauses are evaluated against items, not the root. */
function walkDecorations(node: Node, out: RootReference[]): void {
  for (const key of ['stages', 'predicate'] as const) {
    const decorations = node[key];
    if (!Array.isArray(decorations)) continue;
    for (const decoration of decorations as Node[]) {
      if (isNode(decoration.expr)) walk(decoration.expr, false, out);
    }
  }
  const group = node.group as { lhs?: Node[][] } | undefined;
  for (const pair of group?.lhs ?? []) pair.forEach((item) => walk(item, false, out));
}

/** jsonata records where a token ends; a name starts its length earlier (backquoted names are approximate). */
function startOf(node: Node | undefined): number {
  if (!node) return 0;
  const end = typeof node.position === 'number' ? node.position : 0;
  return Math.max(0, end - String(node.value ?? '').length);
}
