// `retrace machines`: the tool-call, circuit-breaker, workflow and step machines (or a workflow file's step chart)
// as JSON for Stately's editor, as Mermaid or as Graphviz dot.
import { writeFile } from 'node:fs/promises';
import { createMachine, type AnyStateMachine } from 'xstate';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { loadConfig } from '../../config/loadConfig.js';
import {
  exportedMachines,
  renderMachines,
  type ExportedMachineName,
  type MachineFormat,
} from '../../machines/export/index.js';
import { loadWorkflow } from '../../workflow/loadWorkflow.js';
import { workflowChartConfig } from '../../workflow/workflowChart.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';

export interface MachinesOptions {
  format: MachineFormat;
  workflow?: string;
  machine?: ExportedMachineName;
  output?: string;
}

export async function runMachines(options: MachinesOptions, globals: GlobalOptions): Promise<number> {
  if (options.workflow !== undefined && options.machine !== undefined) {
    throw new RetraceError(ErrorCode.usage, '--workflow and --machine exclude each other: export one or the other');
  }
  const machines =
    options.workflow === undefined ? builtIn(options.machine) : [await workflowChart(options.workflow, globals)];
  const text = renderMachines(machines, options.format);
  if (options.output === undefined) {
    process.stdout.write(text);
  } else {
    await writeFile(options.output, text);
    process.stderr.write(
      `wrote ${machines.map(([name]) => name).join(', ')} as ${options.format} to ${options.output}\n`,
    );
  }
  return ExitCode.ok;
}

function builtIn(name: ExportedMachineName | undefined): Array<[string, AnyStateMachine]> {
  const entries = Object.entries(exportedMachines) as Array<[ExportedMachineName, AnyStateMachine]>;
  return name === undefined ? entries : entries.filter(([key]) => key === name);
}

async function workflowChart(file: string, globals: GlobalOptions): Promise<[string, AnyStateMachine]> {
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  const { workflow } = await loadWorkflow(file, { config });
  return [workflow.name, createMachine(workflowChartConfig(workflow))];
}
