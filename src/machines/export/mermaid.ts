// A machine chart as a Mermaid `stateDiagram-v2`: compound states nest, parallel regions split with `--`.
import { diagramNames, stateCaption } from './chartNames.js';
import type { ChartState, MachineChart } from './machineChart.js';
import { transitionLabel } from './machineChart.js';

export function toMermaid(chart: MachineChart): string {
  const names = diagramNames(chart);
  const name = (id: string) => names.get(id) ?? id;
  const lines = ['stateDiagram-v2', `  %% machine ${chart.id}`];

  const printState = (state: ChartState, indent: string): void => {
    lines.push(`${indent}state "${text(stateCaption(state))}" as ${name(state.id)}`);
    if (state.children.length > 0) {
      lines.push(`${indent}state ${name(state.id)} {`);
      printChildren(state, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };

  const printChildren = (state: ChartState, indent: string): void => {
    state.children.forEach((child, index) => {
      // Regions of a parallel state are separated by `--`.
      if (state.type === 'parallel' && index > 0) lines.push(`${indent}--`);
      printState(child, indent);
    });
    if (state.initial !== undefined) lines.push(`${indent}[*] --> ${name(state.initial)}`);
    for (const child of state.children) {
      if (child.type === 'final') lines.push(`${indent}${name(child.id)} --> [*]`);
    }
  };

  // The root is a state too: transitions on it (a machine-wide CANCEL) start from its box.
  printState(chart.root, '  ');
  lines.push(`  [*] --> ${name(chart.root.id)}`);
  for (const transition of chart.transitions) {
    const label = text(transitionLabel(transition));
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    for (const target of targets) lines.push(`  ${name(transition.source)} --> ${name(target)}: ${label}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Mermaid ends a label at a newline and reads `:`, `;` and `#` itself; quotes end a state caption. */
function text(value: string): string {
  return value.replace(/[\n\r]+/g, ' ').replace(/[:;#"]/g, (character) => `#${character.charCodeAt(0)};`);
}
