// The step types of the workflow language: a leaf module, so the event schemas can name them without importing the loader.
export const STEP_TYPES = [
  'mcp_call',
  'shell_command',
  'conditional',
  'state_update',
  'error',
  'wait',
  'poll',
  'parallel',
  'foreach',
  'workflow',
  'return',
] as const;
export type StepType = (typeof STEP_TYPES)[number];
