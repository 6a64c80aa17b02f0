// The machines `retrace machines` exports, by the name the command takes, and one renderer for every format.
import type { AnyStateMachine } from 'xstate';
import { circuitBreakerMachine } from '../circuitBreaker.js';
import { toolCallMachine } from '../toolCall.js';
import { workflowMachine } from '../workflow.js';
import { workflowStepMachine } from '../workflowStep.js';
import { toDot } from './dot.js';
import { chartOf } from './machineChart.js';
import { machineConfigJson, type JsonValue } from './machineConfig.js';
import { toMermaid } from './mermaid.js';

export const exportedMachines = {
  toolCall: toolCallMachine,
  circuitBreaker: circuitBreakerMachine,
  workflow: workflowMachine,
  step: workflowStepMachine,
} as const satisfies Record<string, AnyStateMachine>;

export type ExportedMachineName = keyof typeof exportedMachines;

export const MachineFormat = { json: 'json', mermaid: 'mermaid', dot: 'dot' } as const;
export type MachineFormat = (typeof MachineFormat)[keyof typeof MachineFormat];

/**
 * The machines as one text: JSON is the bare config for one machine (what Stately's editor imports) or an
 * object of configs by name for several; Mermaid diagrams follow one another (a renderer takes one at a
 * time); dot graphs too (`dot` renders each).
 */
export function renderMachines(machines: ReadonlyArray<[string, AnyStateMachine]>, format: MachineFormat): string {
  if (format === MachineFormat.json) {
    const configs: Array<[string, JsonValue]> = machines.map(([name, machine]) => [name, machineConfigJson(machine)]);
    const only = configs.length === 1 ? configs[0] : undefined;
    return `${JSON.stringify(only ? only[1] : Object.fromEntries(configs), null, 2)}\n`;
  }
  const print = format === MachineFormat.mermaid ? toMermaid : toDot;
  return machines.map(([, machine]) => print(chartOf(machine))).join('\n');
}
