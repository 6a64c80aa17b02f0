// The workflow executor: every step type and on_error strategy on the test clock, recorded as gap-free events.
import { describe, expect, it } from 'vitest';
import { initialRunState, reduceRunState } from '../../src/store/projections/runState.js';
import { createHarness, drive, stepTrail, unavailable } from './executorHarness.js';

describe('workflow executor', () => {
  it('runs steps in order, updates state, recomputes computed fields and returns a value', async () => {
    const harness = createHarness();
    const { final, events, types } = await harness.run(
      `
name: basics
inputs: { n: number }
state: { raw: { count: 0 } }
computed:
  doubled: { from: raw.count, transform: $input * 2 }
steps:
  - { id: add, type: state_update, path: raw.count, operation: increment, value: '{{ inputs.n }}' }
  - { id: fetch, type: mcp_call, tool: lookup, arguments: { q: 'count={{ raw.count }}' } }
  - { id: done, type: return, value: { doubled: '{{ computed.doubled }}', fetched: '{{ steps.fetch.result.ok }}' } }
`,
      { n: 3 },
    );
    expect(final.status).toBe('succeeded');
    expect(final.state).toEqual({ raw: { count: 3 } });
    expect(final.result).toEqual({ doubled: 6, fetched: true });
    expect(harness.calls[0]?.args).toEqual({ q: 'count=3' });
    expect(types[0]).toBe('workflow.started');
    expect(types.at(-1)).toBe('workflow.succeeded');
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const traces = events.filter((event) => event.type === 'workflow.computed.evaluated').map((event) => event.data);
    expect(traces.at(-1)).toMatchObject({
      field: 'computed.doubled',
      trigger: 'raw.count update',
      input: 3,
      output: 6,
    });
    const call = events.find((event) => event.type === 'toolcall.requested');
    expect(call?.parentId).toBe('fetch');
    await harness.runtime.close();
  });

  it('skips a step whose when is false and runs the branch a conditional picks', async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(`
name: branches
state: { raw: { attempts: 0 } }
steps:
  - { id: never, type: state_update, path: raw.never, value: 1, when: 'attempts > 5' }
  - id: check
    type: conditional
    condition: '{{ attempts < 3 }}'
    then: [{ id: bump, type: state_update, path: raw.attempts, operation: increment }]
    else: [{ id: stop, type: error, message: too many }]
`);
    expect(final.status).toBe('succeeded');
    expect(final.state).toEqual({ raw: { attempts: 1 } });
    expect(stepTrail(events)).toEqual([
      'skipped never',
      'started check',
      'started bump',
      'succeeded bump',
      'succeeded check',
    ]);
    await harness.runtime.close();
  });

  it('retries a failing step on the clock with doubling delays, recording each deadline, then fails with cleanup', async () => {
    const harness = createHarness(() => unavailable);
    const { final, events } = await harness.run(`
name: retrying
steps:
  - id: flaky
    type: error
    message: 'boom {{ raw.tries }}'
    on_error: retry
    retry_count: 2
    retry_delay: 1000
    error_state_update: { path: raw.last_error, value: '{{ error.message }}' }
    cleanup: [{ id: tidy, type: state_update, path: raw.cleaned, value: '{{ error.type }}' }]
`);
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ message: 'boom ', type: 'error', step_id: 'flaky', attempt: 3 });
    const retries = events.filter((event) => event.type === 'workflow.step.retrying');
    expect(retries.map((event) => [event.data['delayMs'], Number(event.data['until']) - event.ts])).toEqual([
      [1000, 1000],
      [2000, 2000],
    ]);
    expect(final.state).toEqual({ raw: { last_error: 'boom ', cleaned: 'error' } });
    expect(stepTrail(events).slice(-3)).toEqual(['started tidy', 'succeeded tidy', 'failed flaky']);
    expect(events.at(-1)?.type).toBe('workflow.failed');
    await harness.runtime.close();
  });

  it('continues past a failed call with its fallback_value, and fails with fallback when rendering is wrong', async () => {
    const harness = createHarness(() => unavailable);
    const { final, events } = await harness.run(`
name: recovering
steps:
  - { id: api, type: mcp_call, method: external_api, on_error: continue, fallback_value: { status: unavailable, data: [] } }
  - { id: plain, type: mcp_call, tool: other, on_error: continue }
  - { id: fb, type: error, message: no, on_error: fallback, fallback_value: '{{ steps.api.result.status }}' }
  - { id: done, type: return, value: ['{{ steps.api.result }}', '{{ steps.fb.result }}'] }
`);
    expect(final.status).toBe('succeeded');
    expect(final.result).toEqual([{ status: 'unavailable', data: [] }, 'unavailable']);
    const fallbacks = events.filter((event) => event.type === 'workflow.step.fallback').map((event) => event.data);
    expect(fallbacks.map((data) => [data['stepId'], data['strategy']])).toEqual([
      ['api', 'continue'],
      ['plain', 'continue'],
      ['fb', 'fallback'],
    ]);
    expect(fallbacks[0]?.['error']).toMatchObject({ type: 'unavailable', step_id: 'api' });
    await harness.runtime.close();
  });

  it('bounds a step by its timeout on the clock and handles the timeout like any failure', async () => {
    const harness = createHarness(() => ({ hang: true }));
    const { final, events } = await harness.run(`
name: slow
steps:
  - { id: wait_long, type: wait, duration: 1h, timeout: 5s, on_error: continue, fallback_value: late }
  - { id: done, type: return, value: '{{ steps.wait_long.result }}' }
`);
    expect(final.result).toBe('late');
    const fallback = events.find((event) => event.type === 'workflow.step.fallback');
    expect(fallback?.data['error']).toMatchObject({ type: 'timeout' });
    expect(Number(fallback?.ts) - Number(events[0]?.ts)).toBe(5000);
    await harness.runtime.close();
  });

  it('waits for a duration and until a condition on the clock', async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(`
name: waits
state: { raw: { ready: false } }
steps:
  - { id: pause, type: wait, duration: 2s }
  - id: both
    type: parallel
    branches:
      - [{ id: until_ready, type: wait, until: 'raw.ready', interval: 1s }]
      - [{ id: delay, type: wait, duration: 3500ms }, { id: ready, type: state_update, path: raw.ready, value: true }]
`);
    expect(final.status).toBe('succeeded');
    const started = Number(events[0]?.ts);
    const end = events.find(
      (event) => event.type === 'workflow.step.succeeded' && event.data['stepId'] === 'until_ready',
    );
    expect(Number(end?.ts) - started).toBe(6000);
    await harness.runtime.close();
  });

  it('fails fast when a parallel branch fails: the others are cancelled with their cleanup, the error bubbles', async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(`
name: fanout
steps:
  - id: fan
    type: parallel
    branches:
      - [{ id: slow, type: wait, duration: 1m, cleanup: [{ id: undo, type: state_update, path: raw.undone, value: true }] }]
      - [{ id: broken, type: error, message: branch broke }]
    cleanup: [{ id: fan_cleanup, type: state_update, path: raw.fan_error, value: '{{ error.message }}' }]
`);
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ message: 'branch broke', step_id: 'broken' });
    expect(final.state).toEqual({ raw: { undone: true, fan_error: 'branch broke' } });
    const trail = stepTrail(events);
    expect(trail).toContain('cancelled slow');
    expect(trail.at(-1)).toBe('failed fan');
    await harness.runtime.close();
  });

  it('collects every branch failure under collect, and the parallel step handles them with on_error', async () => {
    const harness = createHarness();
    const { final } = await harness.run(`
name: collecting
steps:
  - id: fan
    type: parallel
    strategy: collect
    on_error: continue
    fallback_value: '{{ error.errors }}'
    branches:
      - [{ id: one, type: error, message: first }]
      - [{ id: two, type: state_update, path: raw.two, value: 2 }]
      - [{ id: three, type: error, message: third }]
  - { id: done, type: return, value: '{{ steps.fan.result }}' }
`);
    expect(final.state).toEqual({ raw: { two: 2 } });
    expect(final.result).toEqual([
      { message: 'first', type: 'error', step_id: 'one' },
      { message: 'third', type: 'error', step_id: 'three' },
    ]);
    await harness.runtime.close();
  });

  it('loops over items with a concurrency limit, each iteration with its own variables', async () => {
    const harness = createHarness((request) => ({ text: JSON.stringify({ region: request.args['region'] }) }));
    const { final, events } = await harness.run(`
name: loop
inputs: { regions: { type: array, default: [eu, us, ap] } }
steps:
  - id: each
    type: foreach
    items: '{{ inputs.regions }}'
    as: region
    concurrency: 2
    steps:
      - { id: deploy, type: mcp_call, tool: deploy, arguments: { region: '{{ region }}' } }
      - { id: note, type: state_update, path: raw.done, operation: append, value: '{{ index }}:{{ steps.deploy.result.region }}' }
  - { id: done, type: return, value: '{{ steps.each.result }}' }
`);
    expect(final.status).toBe('succeeded');
    expect([...(final.state['raw'] as { done: string[] }).done].sort()).toEqual(['0:eu', '1:us', '2:ap']);
    expect(final.result).toHaveLength(3);
    expect(events.filter((event) => event.type === 'workflow.step.started').map((event) => event.actorId)).toContain(
      'each[2].note',
    );
    await harness.runtime.close();
  });

  it('runs a sub-workflow as a child actor; its failure bubbles to the parent step, whose on_error handles it', async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(`
name: parent
steps:
  - id: child_ok
    type: workflow
    inline:
      name: child
      inputs: { n: number }
      steps: [{ id: give, type: return, value: '{{ inputs.n + 1 }}' }]
    inputs: { n: 41 }
  - id: child_bad
    type: workflow
    on_error: fallback
    fallback_value: '{{ error.message }}'
    inline:
      name: failing
      steps: [{ id: inner, type: error, message: inner failure }]
  - { id: done, type: return, value: ['{{ steps.child_ok.result }}', '{{ steps.child_bad.result }}'] }
`);
    expect(final.status).toBe('succeeded');
    expect(final.result).toEqual([42, 'inner failure']);
    const child = events.filter((event) => event.actorId === 'child_bad:workflow').map((event) => event.type);
    expect(child).toEqual(['workflow.started', 'workflow.failed']);
    expect(events.find((event) => event.actorId === 'child_bad/inner')?.parentId).toBe('child_bad:workflow');
    await harness.runtime.close();
  });

  it('runs of one workflow side by side keep their own actor ids and sub-workflow executions', async () => {
    const harness = createHarness((request) => ({ text: JSON.stringify({ echoed: request.args['n'] }) }));
    const workflow = await harness.compile(`
name: side_by_side
inputs: { n: number }
steps:
  - { id: fetch, type: mcp_call, tool: lookup, arguments: { n: '{{ inputs.n }}' } }
  - id: sub
    type: workflow
    inline:
      name: inner
      inputs: { n: number }
      steps:
        - { id: again, type: mcp_call, tool: lookup, arguments: { n: '{{ inputs.n }}' } }
        - { id: give, type: return, value: '{{ steps.again.result.echoed }}' }
    inputs: { n: '{{ inputs.n }}' }
  - { id: done, type: return, value: ['{{ steps.fetch.result.echoed }}', '{{ steps.sub.result }}'] }
`);
    const handles = [1, 2, 3].map((n) => harness.runtime.spawn(workflow, { n }));
    const finals = await drive(Promise.all(handles.map((handle) => handle.done)), harness.clock);
    expect(finals.map((final) => final.result)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    for (const handle of handles) {
      const started = harness.store.events
        .filter((event) => event.runId === handle.runId && event.type === 'workflow.step.started')
        .map((event) => event.actorId);
      expect(started).toEqual(['fetch', 'sub', 'sub/again', 'sub/give', 'done']);
    }
    await harness.runtime.close();
  });

  it('polls until done, and on timeout runs the cancel steps and the on_timeout steps', async () => {
    let polls = 0;
    const harness = createHarness((request) => {
      if (request.tool === 'status') polls += 1;
      return { text: JSON.stringify({ status: request.tool === 'status' && polls >= 3 ? 'success' : 'running' }) };
    });
    const { final } = await harness.run(`
name: polling
steps:
  - id: until_done
    type: poll
    step: { id: status, type: mcp_call, tool: status }
    until: result.status = "success"
    interval: 5s
    timeout: 1m
  - id: never_done
    type: poll
    step: { id: status2, type: mcp_call, tool: other }
    until: result.status = "success"
    interval: 5s
    max_polls: 2
    cancel: [{ id: cancel_task, type: state_update, path: raw.cancelled, value: true }]
    on_timeout: [{ id: gave_up, type: return, value: { status: timeout, polls: '{{ attempt }}' } }]
`);
    expect(polls).toBe(3);
    expect(final.state).toEqual({ raw: { cancelled: true } });
    expect(final.result).toEqual({ status: 'timeout', polls: 2 });
    await harness.runtime.close();
  });

  it('cancels a running workflow: in-flight calls are cancelled, cleanup runs, the run ends cancelled', async () => {
    const harness = createHarness(() => ({ hang: true }));
    const workflow = await harness.compile(`
name: cancellable
steps:
  - id: hang
    type: mcp_call
    tool: slow
    cleanup: [{ id: undo, type: state_update, path: raw.undone, value: '{{ error.type }}' }]
`);
    const handle = harness.runtime.spawn(workflow);
    const seen: string[] = [];
    handle.subscribe((event) => seen.push(event.type));
    for (let i = 0; i < 20 && harness.calls.length === 0; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(handle.snapshot().currentSteps).toEqual(['hang']);
    handle.cancel('stop now');
    const final = await handle.done;
    expect(final.status).toBe('cancelled');
    expect(final.state).toEqual({ raw: { undone: 'cancelled' } });
    expect(seen).toContain('toolcall.failed');
    expect(seen.slice(-2)).toEqual(['workflow.step.cancelled', 'workflow.cancelled']);
    expect(harness.runtime.list()).toMatchObject([{ runId: handle.runId, status: 'cancelled', name: 'cancellable' }]);
    await harness.runtime.close();
  });

  it('ends escalated when a step fails on an escalation, without retrying or falling back', async () => {
    const auth = { failure: { source: 'http' as const, status: 401, headers: {}, message: 'HTTP 401 unauthorized' } };
    const harness = createHarness(() => auth);
    const { final } = await harness.run(`
name: escalating
steps:
  - { id: deploy, type: mcp_call, tool: deploy, on_error: continue, fallback_value: nope }
`);
    expect(final.status).toBe('escalated');
    expect(final.error).toMatchObject({ type: 'escalated', step_id: 'deploy' });
    await harness.runtime.close();
  });

  it('runs many workflows side by side in one runtime, each in its own gap-free run', async () => {
    const harness = createHarness();
    const workflow = await harness.compile(`
name: many
inputs: { n: number }
steps:
  - { id: pause, type: wait, duration: 1s }
  - { id: call, type: mcp_call, tool: echo, arguments: { n: '{{ inputs.n }}' } }
  - { id: done, type: return, value: '{{ inputs.n }}' }
`);
    const handles = Array.from({ length: 50 }, (_, n) => harness.runtime.spawn(workflow, { n }));
    const finals = await drive(Promise.all(handles.map((handle) => handle.done)), harness.clock);
    expect(finals.map((final) => final.result)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    for (const handle of handles) {
      const seqs = harness.store.events.filter((event) => event.runId === handle.runId).map((event) => event.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    }
    await harness.runtime.close();
  });

  it("folds a workflow run's events into its run state: status, the steps under way, how it ended", async () => {
    const harness = createHarness(() => ({ hang: true }));
    const workflow = await harness.compile(`
name: projected
steps:
  - { id: first, type: state_update, path: raw.x, value: 1 }
  - { id: child, type: workflow, inline: { name: inner, steps: [{ id: inner_step, type: return, value: 1 }] } }
  - { id: slow, type: mcp_call, tool: slow }
`);
    const handle = harness.runtime.spawn(workflow);
    for (let i = 0; i < 50 && harness.calls.length === 0; i += 1) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const fold = () =>
      harness.store.events.filter((event) => event.runId === handle.runId).reduce(reduceRunState, initialRunState);
    const during = fold();
    expect(during.status).toBe('running');
    expect(during.workflow).toMatchObject({ name: 'projected', status: 'running', currentSteps: ['slow'] });
    handle.cancel('enough');
    await handle.done;
    const after = fold();
    expect(after.status).toBe('cancelled');
    expect(after.workflow).toMatchObject({ status: 'cancelled', currentSteps: [], stepsEnded: 4 });
    await harness.runtime.close();
  });
});
