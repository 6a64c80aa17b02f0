// `--inspect`: the Stately inspector (@statelyai/inspect, XState v5) attached to a run, loaded only when asked for.
import type { InspectObserver } from './actorInspection.js';
import { startInspectorRelay } from './inspectorRelay.js';
import type { InspectionSink } from '../store/recordedInspection.js';

export interface AttachedInspector {
  /** Give it to the runtime (`createRuntime({ inspect })`): every actor's transitions reach the inspector. */
  inspect: InspectObserver;
  sink: InspectionSink;
  /** Where to look, for the user. */
  describe: string;
  /** The local relay's WebSocket (what a viewer, or a test, connects to); none for sky. */
  webSocketUrl?: string;
  /** Sends what is pending, then stops the inspector (and the local relay). */
  close(): Promise<void>;
}

/** `local` (a relay on 127.0.0.1, `port` 0 for any free one) or `sky` (Stately's hosted relay: needs the network). */
export type InspectTarget = { kind: 'local'; port: number } | { kind: 'sky' };

/** Parses the value of `--inspect`: absent/true → local on 8080, a number → local on that port, `sky`. */
export function parseInspectTarget(value: string | true): InspectTarget | undefined {
  if (value === true) return { kind: 'local', port: 8080 };
  if (value === 'sky') return { kind: 'sky' };
  if (/^\d{1,5}$/.test(value) && Number(value) <= 65_535) return { kind: 'local', port: Number(value) };
  return undefined;
}

export async function attachInspector(target: InspectTarget): Promise<AttachedInspector> {
  // Imported here: a run without --inspect never loads the package nor its WebSocket client.
  const stately = await import('@statelyai/inspect');
  if (target.kind === 'sky') {
    const inspector = stately.createSkyInspector({ onerror: () => undefined });
    return {
      inspect: inspector.inspect,
      sink: inspector,
      describe: 'the Stately Sky inspector (its link is printed once connected; needs stately.ai)',
      close: async () => {
        await settle();
        inspector.stop();
      },
    };
  }
  const relay = await startInspectorRelay({ port: target.port });
  const inspector = stately.createWebSocketInspector({ url: relay.webSocketUrl });
  // Connected before the run starts: the adapter holds only its last 200 events while it is not.
  await relay.connected();
  return {
    inspect: inspector.inspect,
    sink: inspector,
    webSocketUrl: relay.webSocketUrl,
    describe: `open ${relay.pageUrl} (the viewer loads from stately.ai; events stream from ${relay.webSocketUrl})`,
    close: async () => {
      await settle();
      inspector.stop();
      await relay.close();
    },
  };
}

/** The inspector converts each XState event on a zero-delay timer: one queued after them runs after them. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
