// The servers workflows declare for themselves: connected while a run needs them, beside the runtime config's.
import { ErrorCode, RetraceError } from '../common/errors.js';
import { forEachStep, type CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import { sameServer, serverClashMessage, type ServerConfig } from './serverConfig.js';

export interface WorkflowServers {
  /** The table the connector reads: the config's servers and those of the workflows running now. */
  readonly table: Record<string, ServerConfig>;
  /**
   * Adds the servers a run of `workflow` (its sub-workflows included) declares; throws a RetraceError when one
   * clashes with the config's or a running workflow's. The release drops those no other run needs.
   */
  attach(workflow: CompiledWorkflow): () => void;
}

interface Attached {
  server: ServerConfig;
  /** The file that declared it first, named when another definition clashes. */
  file: string;
  runs: number;
}

/** `disconnect` closes a server's connection once no running workflow declares it (and the config does not). */
export function createWorkflowServers(
  configured: Readonly<Record<string, ServerConfig>>,
  disconnect: (server: string) => void,
): WorkflowServers {
  const table: Record<string, ServerConfig> = { ...configured };
  const attached = new Map<string, Attached>();

  /** Every server the workflow and its sub-workflows declare, each with the file declaring it. */
  function declaredBy(workflow: CompiledWorkflow): Map<string, { server: ServerConfig; file: string }> {
    const found = new Map<string, { server: ServerConfig; file: string }>();
    const visit = (current: CompiledWorkflow) => {
      for (const [name, server] of Object.entries(current.declaredServers)) {
        const seen = found.get(name);
        if (seen && !sameServer(seen.server, server)) {
          throw clash(name, current.file, `workflow ${seen.file}`);
        }
        found.set(name, seen ?? { server, file: current.file });
      }
      forEachStep(current.steps, (step) => {
        if (step.type === 'workflow') visit(step.workflow);
      });
    };
    visit(workflow);
    return found;
  }

  function clash(name: string, file: string, elsewhere: string): RetraceError {
    return new RetraceError(ErrorCode.workflow, serverClashMessage(name, elsewhere), {
      location: { file, path: `servers.${name}` },
    });
  }

  function attach(workflow: CompiledWorkflow): () => void {
    const declared = declaredBy(workflow);
    // Checked before anything is added, so a refused run leaves the table as it was.
    for (const [name, { server, file }] of declared) {
      const configuredServer = configured[name];
      if (configuredServer !== undefined && !sameServer(configuredServer, server)) {
        throw clash(name, file, 'the runtime config');
      }
      const running = attached.get(name);
      if (running && !sameServer(running.server, server)) {
        throw clash(name, file, `workflow ${running.file}, which is running`);
      }
    }
    const own = [...declared].filter(([name]) => configured[name] === undefined);
    for (const [name, { server, file }] of own) {
      const running = attached.get(name);
      if (running) running.runs += 1;
      else {
        attached.set(name, { server, file, runs: 1 });
        table[name] = server;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [name] of own) {
        const running = attached.get(name);
        if (!running || --running.runs > 0) continue;
        attached.delete(name);
        delete table[name];
        disconnect(name);
      }
    };
  }

  return { table, attach };
}
