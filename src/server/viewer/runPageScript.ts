// The run page's script (plain ES5-style JavaScript, inlined): folds the embedded events up to the scrubber and shows
// the run as it was there. Its reducer keeps workflowRun.ts's semantics (test/server/viewer checks them against it).

/**
 * The fold, alone: `window.retraceFold(events, upto, callPaths)` → the run view after the first `upto` events, with the
 * page's extras (each step's and each tool call's state, the step actors of each step id). `state.updated` carries the
 * value after its op at its path; `callPaths` (by seq) the tool-call machine states each tool-call fact entered.
 */
export const runFoldScript = String.raw`
(function () {
  'use strict';
  var STEP_ENDS = { 'workflow.step.succeeded': 'succeeded', 'workflow.step.failed': 'failed',
    'workflow.step.skipped': 'skipped', 'workflow.step.fallback': 'fallback', 'workflow.step.cancelled': 'cancelled' };
  var ENDINGS = { 'workflow.succeeded': 'succeeded', 'workflow.failed': 'failed',
    'workflow.escalated': 'escalated', 'workflow.cancelled': 'cancelled' };
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
      stepStatus: {}, waitingActor: undefined, callState: {}, callVisited: {}, callPath: {}, stepActors: {} };
  }

  // A step of the run's own workflow (not of a sub-workflow: their actor ids have a '/') by its step id.
  function noteStepActor(view, event) {
    var stepId = event.data.stepId;
    if (typeof stepId !== 'string' || event.actorId.indexOf('/') >= 0) return;
    var actors = view.stepActors[stepId] || (view.stepActors[stepId] = []);
    if (actors.indexOf(event.actorId) < 0) actors.push(event.actorId);
  }

  // paths: seq -> the tool-call machine states that fact took its call through (computed by the server).
  function reducePageExtras(view, event, paths) {
    var type = event.type;
    if (type === 'workflow.step.started') view.stepStatus[event.actorId] = 'running';
    else if (type === 'workflow.step.retrying') view.stepStatus[event.actorId] = 'backoff';
    else if (STEP_ENDS[type]) view.stepStatus[event.actorId] = STEP_ENDS[type];
    if (type.indexOf('workflow.step.') === 0) noteStepActor(view, event);
    var states = paths ? paths[String(event.seq)] : undefined;
    if (states && states.length > 0) {
      var call = event.actorId;
      var visited = view.callVisited[call] || (view.callVisited[call] = {});
      var path = view.callPath[call] || (view.callPath[call] = []);
      for (var i = 0; i < states.length; i += 1) { visited[states[i]] = true; path.push(states[i]); }
      view.callState[call] = states[states.length - 1];
    }
  }

  function reduceRun(view, event, paths) {
    reducePageExtras(view, event, paths);
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

  window.retraceFold = function (events, upto, paths) {
    var view = initialRun();
    for (var i = 0; i < upto && i < events.length; i += 1) view = reduceRun(view, events[i], paths);
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
  var callPaths = data.callPaths || {};
  var scrubber = document.getElementById('scrubber');

  function offset(ts) { var ms = ts - (events.length > 0 ? events[0].ts : 0); return ms < 1000 ? '+' + ms + 'ms' : '+' + (ms / 1000).toFixed(2) + 's'; }
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
      Array.prototype.forEach.call(machine.querySelectorAll('[data-state]'), function (node) {
        var state = node.getAttribute('data-state');
        mark(node, state === current ? 'current' : visited[state] ? 'st-succeeded' : 'st-pending');
      });
    });
    each('[data-call-path]', function (line) {
      var path = view.callPath[line.getAttribute('data-call-path')] || [];
      line.textContent = path.length > 0 ? path.join(' → ') : 'not requested yet';
    });
  }

  // The base classes an element was drawn with, then the marks of the cursor.
  function mark(el, marks) {
    var base = el.getAttribute('data-base');
    if (base === null) { base = el.className; el.setAttribute('data-base', base); }
    el.className = base + (marks ? ' ' + marks : '');
  }

  var STATUS_ORDER = ['failed', 'backoff', 'running', 'fallback', 'cancelled', 'succeeded', 'skipped'];

  // The statechart of the workflow file: a step is reached when any of its actors ran (foreach items are several).
  function markWorkflowChart(view) {
    each('#workflow-chart [data-step]', function (node) {
      var actors = view.stepActors[node.getAttribute('data-step')] || [];
      if (actors.length === 0) { mark(node, 'unreached'); return; }
      var status = 'running';
      for (var i = STATUS_ORDER.length - 1; i >= 0; i -= 1) {
        for (var j = 0; j < actors.length; j += 1) if (view.stepStatus[actors[j]] === STATUS_ORDER[i]) status = STATUS_ORDER[i];
      }
      var current = actors.some(function (actor) { return view.currentSteps.indexOf(actor) >= 0; });
      var waiting = view.waitingActor !== undefined && actors.indexOf(view.waitingActor) >= 0;
      mark(node, 'reached st-' + status + (current ? ' current' : '') + (waiting ? ' waiting' : ''));
    });
    each('#workflow-chart [data-final]', function (node) {
      mark(node, node.getAttribute('data-final') === view.status ? 'reached current st-' + view.status : 'unreached');
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
    var view = window.retraceFold(events, upto, callPaths);
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
    markWorkflowChart(view);
    cutTimeline(event ? event.ts : -Infinity);
    return view;
  }

  function step(delta) { scrubber.value = String(Number(scrubber.value) + delta); show(Number(scrubber.value)); }

  // A live page's new events (after the last it has), their tool-call paths, the parts redrawn by the server. The
  // scrubber stays where it is, unless it was at the end: then it follows the end.
  function append(fresh, paths, sections, title) {
    var atEnd = Number(scrubber.value) >= events.length;
    var lastSeq = events.length > 0 ? events[events.length - 1].seq : 0;
    for (var i = 0; i < fresh.length; i += 1) if (fresh[i].seq > lastSeq) { events.push(fresh[i]); lastSeq = fresh[i].seq; }
    for (var key in paths) if (Object.prototype.hasOwnProperty.call(paths, key)) callPaths[key] = paths[key];
    for (var id in sections) {
      var el = document.getElementById(id);
      if (el && Object.prototype.hasOwnProperty.call(sections, id)) el.innerHTML = sections[id];
    }
    if (title) document.title = title;
    scrubber.max = String(events.length);
    if (atEnd) scrubber.value = String(events.length);
    return show(Number(scrubber.value));
  }

  scrubber.addEventListener('input', function () { show(Number(scrubber.value)); });
  document.getElementById('scrub-back').addEventListener('click', function () { step(-1); });
  document.getElementById('scrub-next').addEventListener('click', function () { step(1); });
  var edges = document.getElementById('chart-edges');
  if (edges) edges.addEventListener('change', function () { document.body.classList.toggle('show-edges', edges.checked); });
  window.addEventListener('resize', function () { show(Number(scrubber.value)); });
  window.retraceViewer = {
    show: show,
    append: append,
    count: function () { return events.length; },
    lastSeq: function () { return events.length > 0 ? events[events.length - 1].seq : 0; },
  };
  show(Number(scrubber.value));
})();
`;
