// The live pages' scripts (plain ES5-style JavaScript, inlined only in pages a server serves, never in a report): they
// poll the server's JSON for what is new and redraw without reloading. A failed poll is shown and retried.

/** Shared: poll `url()` every `intervalMs`, one request at a time, and say on `#live-status` how it went. */
const pollerSource = String.raw`
  function poller(url, intervalMs, onBody) {
    var status = document.getElementById('live-status');
    function say(text, ok) { if (status) { status.textContent = text; status.className = 'live ' + (ok ? 'ok' : 'bad'); } }
    function clock() { return new Date().toTimeString().slice(0, 8); }
    function poll() {
      fetch(url(), { cache: 'no-store', headers: { accept: 'application/json' } })
        .then(function (response) {
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return response.json();
        })
        .then(function (body) { onBody(body); say('live · checked ' + clock(), true); })
        .catch(function (error) { say('live: ' + (error && error.message ? error.message : error) + ' (retrying)', false); })
        .then(function () { setTimeout(poll, intervalMs); });
    }
    poll();
  }
`;

/**
 * The run page's: asks `live.api + '&after=SEQ'` for the events after the last it has; the answer's events, tool-call
 * paths and redrawn parts go to `retraceViewer.append` (runPageScript), which keeps the scrubber where it is.
 */
export const runLiveScript = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('retrace-run').textContent);
  var live = data.live;
  if (!live || !window.fetch) return;
  ${pollerSource}
  var viewer = window.retraceViewer;
  poller(function () { return live.api + '&after=' + viewer.lastSeq(); }, live.intervalMs, function (body) {
    if (body.events && body.events.length > 0) viewer.append(body.events, body.callPaths || {}, body.sections || {}, body.title);
  });
})();
`;

/** The runs list's: asks `live.api` for the list and swaps the table in when it changed. */
export const runsLiveScript = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('retrace-runs').textContent);
  var live = data.live;
  if (!live || !window.fetch) return;
  ${pollerSource}
  var shown = null;
  poller(function () { return live.api; }, live.intervalMs, function (body) {
    var holder = document.getElementById('runs-list');
    if (!holder || typeof body.html !== 'string' || body.html === shown) return;
    shown = body.html;
    if (holder.innerHTML !== body.html) holder.innerHTML = body.html;
  });
})();
`;
