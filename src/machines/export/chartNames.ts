// Names a diagram can use for state ids: letters, digits and `_`, one per state, never two states alike.
import type { ChartState, MachineChart } from './machineChart.js';
import { chartStates } from './machineChart.js';

/** A state id → a diagram-safe name, unique within the chart. */
export function diagramNames(chart: MachineChart): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const state of chartStates(chart)) {
    const base = state.id.replace(/[^A-Za-z0-9_]/g, '_');
    let name = /^[A-Za-z_]/.test(base) ? base : `s_${base}`;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    names.set(state.id, name);
  }
  return names;
}

/** What a state box says: its key, and the actors it invokes. */
export function stateCaption(state: ChartState): string {
  return state.invokes.length === 0 ? state.key : `${state.key} (invokes ${state.invokes.join(', ')})`;
}
