// User-facing errors: a stable code, a location when there is one, and a brand that survives duplicate package copies.

const brand = Symbol.for('retrace.error');

export const ErrorCode = {
  config: 'E_CONFIG',
  configParse: 'E_CONFIG_PARSE',
  unknownServer: 'E_UNKNOWN_SERVER',
  unknownTool: 'E_UNKNOWN_TOOL',
  badArguments: 'E_BAD_ARGUMENTS',
  connection: 'E_CONNECTION',
  usage: 'E_USAGE',
  closed: 'E_CLOSED',
  store: 'E_STORE',
  event: 'E_EVENT',
  workflow: 'E_WORKFLOW',
  workflowParse: 'E_WORKFLOW_PARSE',
  expression: 'E_EXPRESSION',
  /** No run with that id in the store. */
  unknownRun: 'E_UNKNOWN_RUN',
  /** The run is not in a state that allows it (resume an ended run, resolve a run that is not waiting, …). */
  runState: 'E_RUN_STATE',
  /** The workflow changed since the run started (its definition hash differs): resume with `force`. */
  workflowChanged: 'E_WORKFLOW_CHANGED',
  /** The file log is held by another live process (its `LOCK` file names the pid). */
  logLocked: 'E_LOG_LOCKED',
  /** Damaged bytes in the middle of the file log (a segment and byte offset). */
  logCorrupt: 'E_LOG_CORRUPT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `servers.fault.command`. */
  path?: string;
}

export class RetraceError extends Error {
  readonly [brand] = true;
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: SourceLocation; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetraceError';
    this.code = code;
    this.location = options.location;
  }

  /** One line: `file:line:col path: message`. */
  describe(): string {
    const where = formatLocation(this.location);
    return where ? `${where}: ${this.message}` : this.message;
  }
}

export function isRetraceError(value: unknown): value is RetraceError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

export function formatLocation(location: SourceLocation | undefined): string {
  if (!location) return '';
  let where = location.file ?? '';
  if (location.line !== undefined) where += `${where ? ':' : ''}${location.line}:${location.column ?? 1}`;
  if (location.path) where += `${where ? ' ' : ''}${location.path}`;
  return where;
}
