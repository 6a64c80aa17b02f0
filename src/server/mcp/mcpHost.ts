// What every session of `retrace mcp` shares: one runtime recording to the store, the store to read runs back, the
// data directory for run ownership and control requests, and where relative workflow paths start.
import type { Runtime } from '../../actors/runtime.js';
import type { EventStore } from '../../store/eventStore.js';

export interface McpHost {
  runtime: Runtime;
  store: EventStore;
  /** Where the runtime registers the runs it executes and picks up control requests (cancel, resolve). */
  dataDir: string;
  /** Relative workflow paths, and the sub-workflow files of inline workflows, are read from here. */
  cwd: string;
  /** Clock time the server started (health). */
  startedAt: number;
  version: string;
}
