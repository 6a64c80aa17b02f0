// How to start @modelcontextprotocol/server-everything over stdio from this checkout.
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/** The command line of the reference server in stdio mode, run by the same Node as the benchmark. */
export const everythingServer = { command: process.execPath, args: [entry, 'stdio'] };
