// pino, configured once: JSON by default, human-readable on a TTY, with redaction by path.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const defaultRedactPaths = [
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.api_key',
  'headers.authorization',
  'headers.cookie',
  'params.*.password',
  'params.*.token',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  redact?: string[];
  /** Human-readable output (pino-pretty); defaults to whether stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stderr (stdout carries command output). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: [...defaultRedactPaths, ...(options.redact ?? [])], censor: '[redacted]' };
  const pretty = options.pretty ?? (process.stderr.isTTY === true && options.destination === undefined);
  if (pretty) {
    return pino({
      level,
      redact,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino({ level, redact }, options.destination ?? pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
