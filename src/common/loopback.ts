// Servers bind 127.0.0.1 by default; any other address needs a bearer token. One rule for `retrace serve`,
// `retrace mcp --http` and `retrace chaos-proxy --listen`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, RetraceError } from './errors.js';
import { bearerTokenMatches, rpcError, sendJson } from './httpJson.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** The token to require (a blank one is none); refuses an address beyond loopback without one, saying `refusal`. */
export function tokenFor(host: string, token: string | undefined, refusal: string): string | undefined {
  const required = token === '' ? undefined : token;
  if (!isLoopback(host) && required === undefined) throw new RetraceError(ErrorCode.usage, refusal);
  return required;
}

/** Admits a JSON-RPC request carrying `Authorization: Bearer TOKEN` (every request when there is no token). */
export function bearerAdmission(token: string | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (token === undefined || bearerTokenMatches(req.headers.authorization, token)) return true;
    sendJson(res, 401, rpcError(-32001, 'Unauthorized: send Authorization: Bearer <token>'), {
      'www-authenticate': 'Bearer',
    });
    return false;
  };
}
