// Machines as data for the Stately tools: the config as JSON, and Mermaid and Graphviz diagrams from one walk.
export { chartOf, chartStates, transitionLabel } from './machineChart.js';
export type { ChartState, ChartTransition, ChartTransitionKind, MachineChart } from './machineChart.js';
export { machineConfigJson } from './machineConfig.js';
export type { JsonValue } from './machineConfig.js';
export { toMermaid } from './mermaid.js';
export { toDot } from './dot.js';
export { exportedMachines, MachineFormat, renderMachines } from './machineCatalog.js';
export type { ExportedMachineName } from './machineCatalog.js';
