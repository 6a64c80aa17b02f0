// A runtime's listeners: its facts redacted for them, escalations logged at their level, a throwing listener contained.
import { createRedactor } from '../common/redact.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import type { Escalation } from '../policy/escalation.js';
import type { Logger } from './logger.js';
import type { Runtime, RuntimeEvent } from './runtime.js';

export interface RuntimeListeners {
  on: Runtime['on'];
  /** To the event listeners, redacted. */
  publish(event: RuntimeEvent): void;
  /** To the escalation listeners (once the escalation's event is durable: the caller waits for that). */
  escalate(escalation: Escalation): void;
  logEscalation(escalation: Escalation): void;
  deliver<T>(listener: (value: T) => void, value: T): void;
}

export function createRuntimeListeners(options: {
  logger: Logger;
  redact: RuntimeConfig['log']['redact'];
}): RuntimeListeners {
  const { logger } = options;
  const redact = createRedactor(options.redact);
  const escalationListeners = new Set<(escalation: Escalation) => void>();
  const eventListeners = new Set<(event: RuntimeEvent) => void>();

  /** Listeners get events with secrets redacted, and a listener that throws harms nobody else. */
  function publish(event: RuntimeEvent): void {
    if (eventListeners.size === 0) return;
    const shown = redactEvent(event);
    for (const listener of eventListeners) deliver(listener, shown);
  }

  /** Redaction paths are relative to the event's data (`args.token`, `result.structuredContent.secret`), as in the log. */
  function redactEvent(event: RuntimeEvent): RuntimeEvent {
    if (event.type === 'toolcall.requested') {
      const shown = redact({ args: event.args }) as Pick<typeof event, 'args'>;
      return { ...event, args: shown.args };
    }
    if (event.type === 'toolcall.succeeded') {
      const shown = redact({ args: event.args, result: event.result }) as Pick<typeof event, 'args' | 'result'>;
      return { ...event, args: shown.args, result: shown.result };
    }
    return event;
  }

  function deliver<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (error) {
      logger.error({ err: error }, 'a runtime listener threw; the runtime carries on');
    }
  }

  /** Logs an escalation at its level; it is published once its event is durable (see `announce`). */
  function logEscalation(escalation: Escalation): void {
    const log = { escalation };
    const message = `${escalation.level.toUpperCase()} ESCALATION: ${escalation.server}/${escalation.tool}: ${escalation.message}`;
    if (escalation.level === 'emergency') logger.fatal(log, message);
    else if (escalation.level === 'critical') logger.error(log, message);
    else if (escalation.level === 'warning') logger.warn(log, message);
    else logger.info(log, message);
  }

  return {
    on(type: 'escalation' | 'event', listener: ((escalation: Escalation) => void) | ((event: RuntimeEvent) => void)) {
      const set = (type === 'escalation' ? escalationListeners : eventListeners) as Set<typeof listener>;
      set.add(listener);
      return () => void set.delete(listener);
    },
    publish,
    escalate: (escalation) => {
      for (const listener of escalationListeners) deliver(listener, escalation);
    },
    logEscalation,
    deliver,
  } as RuntimeListeners;
}
