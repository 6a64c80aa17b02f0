// A machine chart as Graphviz dot: a compound or parallel state is a cluster whose edges attach to an anchor point.
import { diagramNames, stateCaption } from './chartNames.js';
import type { ChartState, MachineChart } from './machineChart.js';
import { transitionLabel } from './machineChart.js';

export function toDot(chart: MachineChart): string {
  const names = diagramNames(chart);
  const name = (id: string) => names.get(id) ?? id;
  const clusters = new Set<string>();
  const parents = new Map<string, string>();
  /** Whether `id` is `ancestor` or lies inside it. */
  const inside = (id: string, ancestor: string): boolean => {
    for (let at: string | undefined = id; at !== undefined; at = parents.get(at)) if (at === ancestor) return true;
    return false;
  };
  const lines = [
    `digraph ${quote(chart.id)} {`,
    '  compound=true;',
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];

  const printState = (state: ChartState, indent: string): void => {
    const final = state.type === 'final' ? ', peripheries=2' : '';
    if (state.children.length === 0) {
      lines.push(`${indent}${quote(name(state.id))} [label=${quote(stateCaption(state))}${final}];`);
      return;
    }
    clusters.add(state.id);
    lines.push(`${indent}subgraph ${quote(`cluster_${name(state.id)}`)} {`);
    lines.push(`${indent}  label=${quote(stateCaption(state))};`);
    lines.push(`${indent}  style=${state.type === 'parallel' ? '"rounded,dashed"' : 'rounded'};`);
    // The anchor edges to and from the compound state attach to (clipped at the cluster by lhead/ltail).
    lines.push(`${indent}  ${quote(name(state.id))} [shape=point, width=0.08, label=""];`);
    if (state.initial !== undefined) {
      lines.push(
        `${indent}  ${quote(`${name(state.id)}__initial`)} [shape=circle, style=filled, width=0.15, label=""];`,
      );
      lines.push(`${indent}  ${quote(`${name(state.id)}__initial`)} -> ${quote(name(state.initial))};`);
    }
    for (const child of state.children) {
      parents.set(child.id, state.id);
      printState(child, `${indent}  `);
    }
    lines.push(`${indent}}`);
  };

  printState(chart.root, '  ');
  for (const transition of chart.transitions) {
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    for (const target of targets) {
      const attributes = [`label=${quote(transitionLabel(transition))}`];
      // Clipping applies only between clusters apart: not from a state into its own child or parent.
      const apart = !inside(target, transition.source) && !inside(transition.source, target);
      if (apart && clusters.has(transition.source)) {
        attributes.push(`ltail=${quote(`cluster_${name(transition.source)}`)}`);
      }
      if (apart && clusters.has(target)) {
        attributes.push(`lhead=${quote(`cluster_${name(target)}`)}`);
      }
      lines.push(`  ${quote(name(transition.source))} -> ${quote(name(target))} [${attributes.join(', ')}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
