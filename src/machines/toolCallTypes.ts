// The tool-call actor's input, context, outcome and the events it emits.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Escalation } from '../policy/escalation.js';
import type { ClassifiedFailure, FailureClass, FailureKind, RawFailure } from '../policy/failure.js';
import type { ToolPolicy } from '../policy/toolPolicy.js';

export interface ToolTarget {
  server: string;
  tool: string;
  policy: ToolPolicy;
}

export interface ToolCallInput {
  callId: string;
  target: ToolTarget;
  /** The fallback chain, resolved: each entry a tool with its own policy, or null for "an empty result". */
  fallbacks: Array<ToolTarget | null>;
  /** The synchronous path for a worker that is offline; its policy's timeout is the sync deadline. */
  syncAlternative?: ToolTarget;
  args: Record<string, unknown>;
  /** Clock time when the call was requested. */
  startedAt: number;
  /** Seed of the jitter PRNG. */
  seed: number;
}

export const OutcomeStatus = {
  succeeded: 'succeeded',
  fallback: 'fallback',
  cached: 'cached',
  partial: 'partial',
  skipped: 'skipped',
  failed: 'failed',
  escalated: 'escalated',
} as const;
export type OutcomeStatus = (typeof OutcomeStatus)[keyof typeof OutcomeStatus];

export interface FailureSummary {
  class: FailureClass;
  kind: FailureKind;
  message: string;
  rule: string;
  retryAfterMs?: number;
  suggestions?: string[];
}

export interface AttemptRecord {
  n: number;
  server: string;
  tool: string;
  startedAt: number;
  durationMs: number;
  error?: FailureSummary;
  /** The wait scheduled after this attempt, if it was retried. */
  delayMs?: number;
}

/** What the caller gets back: which tool answered, how, after which attempts. */
export interface ToolCallOutcome {
  callId: string;
  status: OutcomeStatus;
  result?: CallToolResult;
  /** The tool that answered (for `fallback`, the alternative; absent when nothing answered). */
  tool?: { server: string; tool: string };
  attempts: AttemptRecord[];
  warnings: string[];
  escalation?: Escalation;
  error?: FailureSummary;
  cachedAgeMs?: number;
  startedAt: number;
  finishedAt: number;
}

export type Decision = 'retry' | 'fallback' | 'fail' | 'escalate' | 'skip' | 'partial' | 'sync_alternative' | 'cancel';

export interface CachedEntry {
  result: CallToolResult;
  storedAt: number;
}

/** Retry bookkeeping of the current tool. */
export interface RetryState {
  /** Retries already used on the current tool. */
  onTarget: number;
  previousDelayMs: number | undefined;
  /** When the pending backoff ends (clock time); the runner sends `RETRY.DUE` then. */
  retryAt: number | undefined;
  /** Jitter PRNG state. */
  rng: number;
}

/** How the call ended, once it has. */
export interface Answer {
  status: OutcomeStatus;
  result?: CallToolResult;
  answeredBy?: { server: string; tool: string };
  cachedAgeMs?: number;
  escalation?: Escalation;
}

/** Kept to a few top-level keys: every `assign` copies it, and V8 keeps small objects fast. */
export interface ToolCallContext {
  input: ToolCallInput;
  current: ToolTarget;
  /** -1 while on the primary tool, the chain index while on a fallback. */
  chainIndex: number;
  route: 'primary' | 'fallback' | 'sync';
  /** Logical time: the clock time of the last thing the machine learned (deterministic under replay). */
  now: number;
  targetDeadlineAt: number;
  attemptNumber: number;
  attemptStartedAt: number;
  retry: RetryState;
  attempts: AttemptRecord[];
  warnings: string[];
  lastFailure: ClassifiedFailure | undefined;
  cacheTried: boolean;
  answer: Answer | undefined;
}

/** Output of the injected `attempt` actor. */
export type AttemptActorOutput =
  | { ok: true; result: CallToolResult; startedAt: number; finishedAt: number }
  | { ok: false; failure: RawFailure; startedAt: number; finishedAt: number };

export interface AttemptActorInput {
  callId: string;
  n: number;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  /** The attempt's timeout, already cut to the tool's deadline; the attempt actor answers `timeout` when it passes. */
  timeoutMs: number;
  /** The tool's policy says a repeat is harmless; a non-idempotent attempt is sent only once its start is durable. */
  idempotent: boolean;
}

export interface CacheLookupInput {
  server: string;
  tool: string;
  args: Record<string, unknown>;
}

export type ToolCallEvent =
  | { type: 'CANCEL'; reason?: string }
  /** Sent back by the attempt actor: the attempt's outcome (a timeout is an outcome too). */
  | { type: 'ATTEMPT.DONE'; output: AttemptActorOutput }
  /** Sent by the runner's scheduler when the backoff's `retryAt` has come. */
  | { type: 'RETRY.DUE' };

export interface ToolCallEventBase {
  callId: string;
  server: string;
  tool: string;
  at: number;
}

/** Facts the machine states about itself, in the past tense; the runtime appends, logs and counts them. */
export type ToolCallEmitted =
  | (ToolCallEventBase & { type: 'toolcall.requested'; args: Record<string, unknown>; fallbacks: Array<string | null> })
  | (ToolCallEventBase & { type: 'toolcall.attempt.started'; n: number; route: 'primary' | 'fallback' | 'sync' })
  | (ToolCallEventBase & {
      type: 'toolcall.attempt.failed';
      n: number;
      durationMs: number;
      failure: ClassifiedFailure;
      decision: Decision;
      reason: string;
      probeToken: string;
    })
  | (ToolCallEventBase & {
      type: 'toolcall.backoff.scheduled';
      n: number;
      delayMs: number;
      until: number;
      retryAfter: boolean;
    })
  | (ToolCallEventBase & {
      type: 'toolcall.fallback.started';
      to: { server: string; tool: string } | null;
      reason: string;
    })
  | (ToolCallEventBase & { type: 'toolcall.cache.hit'; ageMs: number })
  | (ToolCallEventBase & { type: 'toolcall.cache.miss'; reason: 'absent' | 'stale'; ageMs?: number })
  | (ToolCallEventBase & {
      type: 'toolcall.succeeded';
      status: OutcomeStatus;
      n: number | undefined;
      probeToken: string | undefined;
      result: CallToolResult | undefined;
      cacheable: boolean;
      args: Record<string, unknown>;
      warnings: string[];
    })
  | (ToolCallEventBase & {
      type: 'toolcall.failed';
      error: FailureSummary | undefined;
      attempts: number;
      /** The last attempt started; when the call was cancelled mid-attempt, its breaker permit is released. */
      n: number;
      probeToken: string;
    })
  | (ToolCallEventBase & { type: 'toolcall.escalated'; escalation: Escalation })
  | (ToolCallEventBase & { type: 'toolcall.warning'; message: string });
