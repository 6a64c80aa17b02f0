// The inspection observer XState takes (`createActor(logic, { inspect })`): opt-in, for the Stately inspector.
import type { ActorOptions, AnyActorLogic } from 'xstate';
import type { Clock } from '../common/clock.js';

export type InspectObserver = NonNullable<ActorOptions<AnyActorLogic>['inspect']>;

/** What every actor of a runtime is created with: the clock, and the inspector only when one is attached. */
export function actorSystemOptions(
  clock: Clock,
  inspect: InspectObserver | undefined,
): { clock: Clock; inspect?: InspectObserver } {
  return inspect === undefined ? { clock } : { clock, inspect };
}
