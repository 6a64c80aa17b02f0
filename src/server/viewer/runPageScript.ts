// The run page's script (plain ES5-style JavaScript, inlined): folds the embedded events up to the scrubber and shows
// the run as it was there. Its reducer keeps workflowRun.ts's semantics (test/server/viewer checks them against it).

/**
 * The fold, alone: `window.retraceFold(events, upto)` → the run view after the first `upto` events, with the page's
 * extras (each step's and each tool call's state). `state.updated` carries the value after its op at its path.
 */
export const runFoldScript = String.raw`
(function () {
  'use strict';
  var STEP_ENDS = { 'workflow.step.succeeded': 'succeeded', 'workflow.step.failed': 'failed',
    'workflow.step.skipped': 'skipped', 'workflow.step.fallback': 'fallback', 'workflow.step.cancelled': 'cancelled' };
  var ENDINGS = { 'workflow.succeeded': 'succeeded', 'workflow.failed': 'failed',
    'workflow.escalated': 'escalated', 'workflow.cancelled': 'cancelled' };
  var CALL_STATES = { 'toolcall.requested': 'idle', 'toolcall.attempt.started': 'calling',
    'toolcall.attempt.failed': 'judging', 'toolcall.backoff.scheduled': 'backoff',
    'toolcall.fallback.started': 'fallback', 'toolcall.cache.miss': 'readingCache', 'toolcall.cache.hit': 'readingCache',
    'toolcall.failed': 'failed', 'toolcall.escalated': 'escalated' };
  var OUTCOME_STATES = { succeeded: 'succeeded', fallback: 'succeeded', skipped: 'succeeded', cached: 'cached',
    partial: 'partial' };

  function isRecord(value) { return typeof value === 'object' && value !== null && !Array.isArray(value); }
  function copy(target) { var next = {}; for (var key in target) if (Object.prototype.hasOwnProperty.call(target, key)) next[key] = target[key]; return next; }

  function withValueAt(target, path, value, remove) {
    if (path.length === 0) return isRecord(value) ? value : copy(target);
    var head = path[0];
    var rest = path.slice(1);
    var next = copy(target);
    if (rest.length === 0) {
      if (remove) delete next[head];
      else next[head] = value;
      return next;
    }
    var child = next[head];
    next[head] = withValueAt(isRecord(child) ? child : {}, rest, value, remove);
    return next;
  }

  function initialRun() {
    return { runId: '', name: '', file: '', status: 'running', startedAt: undefined, endedAt: undefined,
      currentSteps: [], steps: 0, stepsEnded: 0, state: {}, computed: {}, result: null, error: undefined,
      waitingStep: undefined, lastSeq: 0,
      stepStatus: {}, waitingActor: undefined, callState: {}, callVisited: {} };
  }

  function reducePageExtras(view, event) {
    var type = event.type;
    var data = event.data;
    if (type === 'workflow.step.started') view.stepStatus[event.actorId] = 'running';
    else if (type === 'workflow.step.retrying') view.stepStatus[event.actorId] = 'backoff';
    else if (STEP_ENDS[type]) view.stepStatus[event.actorId] = STEP_ENDS[type];
    var callState = CALL_STATES[type];
    if (type === 'toolcall.succeeded') callState = OUTCOME_STATES[data.status] || 'succeeded';
    if (callState) {
      view.callState[event.actorId] = callState;
      var visited = view.callVisited[event.actorId] || (view.callVisited[event.actorId] = {});
      visited[callState] = true;
      if (type === 'toolcall.requested') visited.idle = true;
    }
  }

  function reduceRun(view, event) {
    reducePageExtras(view, event);
    if (event.type.indexOf('workflow.') !== 0) return view;
    var data = event.data;
    var own = event.actorId === event.runId;
    var actorId = event.actorId;
    view.runId = event.runId;
    view.lastSeq = Math.max(view.lastSeq, event.seq);
    switch (event.type) {
      case 'workflow.started':
        if (!own) return view;
        view.name = typeof data.name === 'string' ? data.name : '';
        view.file = typeof data.file === 'string' ? data.file : '';
        if (view.startedAt === undefined) view.startedAt = event.ts;
        if (isRecord(data.state)) view.state = data.state;
        return view;
      case 'workflow.step.started':
        if (view.currentSteps.indexOf(actorId) < 0) {
          view.currentSteps = view.currentSteps.concat([actorId]);
          view.steps = view.stepsEnded + view.currentSteps.length;
        }
        return view;
      case 'workflow.state.updated':
        if (!own || !Array.isArray(data.path)) return view;
        view.state = withValueAt(view.state, data.path.map(String), data.value, data.op === 'delete');
        return view;
      case 'workflow.computed.evaluated':
        if (own && typeof data.field === 'string' && data.error === undefined) {
          view.computed = copy(view.computed);
          view.computed[data.field.replace(/^computed\./, '')] = data.output;
        }
        return view;
      case 'workflow.resolved':
        view.status = 'running';
        view.endedAt = undefined;
        view.error = undefined;
        view.waitingStep = undefined;
        view.waitingActor = undefined;
        return view;
    }
    if (STEP_ENDS[event.type]) {
      view.currentSteps = view.currentSteps.filter(function (id) { return id !== actorId; });
      view.stepsEnded += 1;
      view.steps = view.stepsEnded + view.currentSteps.length;
      return view;
    }
    var status = own ? ENDINGS[event.type] : undefined;
    if (status === undefined) return view;
    var error = isRecord(data.error) ? data.error : undefined;
    view.status = status;
    view.endedAt = event.ts;
    view.currentSteps = [];
    if (typeof data.steps === 'number') view.steps = data.steps;
    view.result = status === 'succeeded' ? (data.result === undefined ? null : data.result) : null;
    view.error = status === 'succeeded' ? undefined : error;
    view.waitingStep = status === 'escalated' && error ? error.step_id : undefined;
    view.waitingActor = status === 'escalated' && error ? error.actor_id || error.step_id : undefined;
    return view;
  }

  window.retraceFold = function (events, upto) {
    var view = initialRun();
    for (var i = 0; i < upto && i < events.length; i += 1) view = reduceRun(view, events[i]);
    return view;
  };
})();
`;

/** Draws the page at the scrubber: state, status, step chart, call machines, timeline cut at the cursor, table rows. */
export const runPageScript = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('retrace-run').textContent);
  var events = data.events;
  var scrubber = document.getElementById('scrubber');
  var startTs = events.length > 0 ? events[0].ts : 0;

  function offset(ts) { var ms = ts - startTs; return ms < 1000 ? '+' + ms + 'ms' : '+' + (ms / 1000).toFixed(2) + 's'; }
  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  function markRows(cursorSeq) {
    each('tr[data-seq]', function (row) {
      var seq = Number(row.getAttribute('data-seq'));
      row.classList.toggle('future', seq > cursorSeq);
      row.classList.toggle('now', seq === cursorSeq);
    });
  }

  function markChart(view) {
    each('#step-chart .node', function (node) {
      var actor = node.getAttribute('data-actor');
      var status = view.stepStatus[actor] || 'pending';
      node.className = 'node st-' + status +
        (view.currentSteps.indexOf(actor) >= 0 ? ' current' : '') +
        (view.waitingActor === actor ? ' waiting' : '');
    });
    each('.machine', function (machine) {
      var call = machine.getAttribute('data-call');
      var current = view.callState[call];
      var visited = view.callVisited[call] || {};
      Array.prototype.forEach.call(machine.querySelectorAll('.node'), function (node) {
        var state = node.getAttribute('data-state');
        node.className = 'node' + (state === current ? ' current' : visited[state] ? ' st-succeeded' : ' st-pending');
      });
    });
  }

  function cutTimeline(cursorTs) {
    var rows = document.getElementById('timeline-rows');
    if (!rows) return;
    var axisStart = Number(rows.getAttribute('data-start'));
    var axisEnd = Number(rows.getAttribute('data-end'));
    var span = Math.max(1, axisEnd - axisStart);
    each('#timeline-rows .bar', function (bar) {
      var start = Number(bar.getAttribute('data-start'));
      var end = Number(bar.getAttribute('data-end'));
      bar.classList.toggle('hidden', start > cursorTs);
      var shownEnd = Math.min(end, Math.max(start, cursorTs));
      bar.style.width = (((shownEnd - start) / span) * 100).toFixed(3) + '%';
    });
    var cursor = document.getElementById('timeline-cursor');
    var label = document.querySelector('#timeline-rows .track');
    if (cursor && label) {
      var left = label.offsetLeft + label.offsetWidth * Math.min(1, Math.max(0, (cursorTs - axisStart) / span));
      cursor.style.left = left + 'px';
      cursor.style.display = cursorTs === -Infinity ? 'none' : '';
    }
  }

  function show(position) {
    var upto = Math.max(0, Math.min(events.length, position));
    var view = window.retraceFold(events, upto);
    var event = upto > 0 ? events[upto - 1] : undefined;
    text('scrubber-label', event
      ? 'event ' + upto + '/' + events.length + ' · seq ' + event.seq + ' · ' + offset(event.ts) + ' · ' + event.type + ' · ' + event.actorId
      : 'before the first event (0/' + events.length + ')');
    var status = document.getElementById('cursor-status');
    if (status) { status.textContent = view.status; status.className = 'status ' + view.status; }
    text('cursor-steps', view.currentSteps.length > 0 ? view.currentSteps.join(', ') : (view.waitingStep ? 'waiting on ' + view.waitingStep : '-'));
    text('cursor-count', view.stepsEnded + ' ended, ' + view.steps + ' executed');
    text('state-json', JSON.stringify(view.state, null, 2));
    text('computed-json', JSON.stringify(view.computed, null, 2));
    var change = '-';
    if (event && event.type === 'workflow.state.updated') {
      change = event.data.op + ' ' + (event.data.path || []).join('.') + ' = ' + JSON.stringify(event.data.value === undefined ? null : event.data.value);
    }
    text('cursor-change', change);
    markRows(event ? event.seq : 0);
    markChart(view);
    cutTimeline(event ? event.ts : -Infinity);
    return view;
  }

  function step(delta) { scrubber.value = String(Number(scrubber.value) + delta); show(Number(scrubber.value)); }
  scrubber.addEventListener('input', function () { show(Number(scrubber.value)); });
  document.getElementById('scrub-back').addEventListener('click', function () { step(-1); });
  document.getElementById('scrub-next').addEventListener('click', function () { step(1); });
  window.addEventListener('resize', function () { show(Number(scrubber.value)); });
  window.retraceViewer = { show: show, count: events.length };
  show(Number(scrubber.value));
})();
`;
