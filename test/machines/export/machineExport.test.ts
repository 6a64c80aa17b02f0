// The exported machines: JSON that re-creates the same machine, and diagrams with every state and every edge once.
import { createMachine, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  chartOf,
  chartStates,
  exportedMachines,
  machineConfigJson,
  renderMachines,
  toDot,
  toMermaid,
  transitionLabel,
  type MachineChart,
} from '../../../src/machines/export/index.js';

const machines = Object.entries(exportedMachines) as Array<[string, AnyStateMachine]>;

/** One `source → target : label` per drawn edge (a targetless transition is drawn on its own state). */
function expectedEdges(chart: MachineChart): Array<{ source: string; target: string; label: string }> {
  return chart.transitions.flatMap((transition) =>
    (transition.targets.length === 0 ? [transition.source] : transition.targets).map((target) => ({
      source: transition.source,
      target,
      label: transitionLabel(transition),
    })),
  );
}

/** The diagram name a printer gave each state, read back from its declarations. */
function declaredNames(text: string, pattern: RegExp): Map<string, string> {
  const names = new Map<string, string>();
  for (const match of text.matchAll(pattern)) names.set(match[2] ?? '', match[1] ?? '');
  return names;
}

const unescapeMermaid = (value: string) =>
  value.replace(/#(\d+);/g, (_whole, code: string) => String.fromCharCode(Number(code)));

describe.each(machines)('the %s machine', (name, machine) => {
  const chart = chartOf(machine);

  it('exports JSON from which createMachine() rebuilds the same states and transitions', () => {
    const json = JSON.parse(JSON.stringify(machineConfigJson(machine))) as Record<string, unknown>;
    expect(json.id).toBe(machine.id);
    const rebuilt = chartOf(createMachine(json));
    expect(rebuilt).toEqual(chart);
    // The walk saw something: states nest and transitions carry their guards.
    expect(chartStates(chart).length).toBeGreaterThan(3);
    expect(chart.transitions.some((transition) => transition.guard !== undefined)).toBe(true);
  });

  it('draws every state and every transition once in Mermaid', () => {
    const text = toMermaid(chart);
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    // `state "caption" as name`: the caption starts with the state's key.
    const declared = [...text.matchAll(/^\s*state "([^"]*)" as (\S+)$/gm)];
    const states = chartStates(chart);
    expect(declared).toHaveLength(states.length);
    expect(declared.map((match) => unescapeMermaid(match[1] ?? '').split(' ')[0])).toEqual(states.map((s) => s.key));
    const nameOf = new Map(declared.map((match, index) => [states[index]?.id ?? '', match[2] ?? '']));
    const drawn = [...text.matchAll(/^ {2}(\S+) --> (\S+): (.*)$/gm)].map((match) => match.slice(1).join(' | '));
    const wanted = expectedEdges(chart).map(
      (edge) => `${nameOf.get(edge.source)} | ${nameOf.get(edge.target)} | ${edge.label}`,
    );
    expect(drawn.map(unescapeMermaid)).toEqual(wanted);
    expect(new Set(wanted).size).toBe(wanted.length);
  });

  it('draws every state and every transition once in Graphviz dot', () => {
    const text = toDot(chart);
    expect(text.startsWith(`digraph "${machine.id}" {`)).toBe(true);
    const leaves = declaredNames(text, /^\s*"([^"]+)" \[label="([^"]*)"/gm);
    const clusters = declaredNames(text, /^\s*subgraph "cluster_([^"]+)" \{\n\s*label="([^"]*)"/gm);
    const states = chartStates(chart);
    expect(leaves.size + clusters.size).toBe(states.length);
    for (const state of states) {
      const caption = [...leaves.keys(), ...clusters.keys()].filter((key) => key.split(' ')[0] === state.key);
      expect(caption.length, state.id).toBeGreaterThan(0);
    }
    const drawn = [...text.matchAll(/^ {2}"([^"]+)" -> "([^"]+)" \[label="((?:[^"\\]|\\.)*)"/gm)];
    expect(drawn).toHaveLength(expectedEdges(chart).length);
    const lines = drawn.map((match) => match.slice(1).join(' | '));
    expect(new Set(lines).size).toBe(lines.length);
  });

  it(`exports ${name} alone as the bare config Stately imports`, () => {
    const text = renderMachines([[name, machine]], 'json');
    expect(JSON.parse(text)).toEqual(machineConfigJson(machine));
  });
});

describe('several machines', () => {
  it('export as one object of configs by name, and as diagrams one after the other', () => {
    const json = JSON.parse(renderMachines(machines, 'json')) as Record<string, { id: string }>;
    expect(Object.keys(json)).toEqual(['toolCall', 'circuitBreaker', 'workflow', 'step']);
    expect(json.step?.id).toBe('step');
    expect(renderMachines(machines, 'mermaid').match(/^stateDiagram-v2$/gm)).toHaveLength(4);
    expect(renderMachines(machines, 'dot').match(/^digraph /gm)).toHaveLength(4);
  });
});
