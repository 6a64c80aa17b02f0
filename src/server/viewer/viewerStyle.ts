// The viewer pages' one stylesheet, inlined in each page (no external resource: a report opens offline).

export const viewerStyle = `
:root { --fg: #1d2330; --muted: #667085; --line: #d0d5dd; --bg: #ffffff; --panel: #f6f7f9;
  --ok: #12805c; --bad: #c0362c; --warn: #b54708; --wait: #6941c6; --run: #175cd3; --skip: #98a2b3; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: var(--panel); padding: 8px; border-radius: 4px; overflow: auto; max-height: 360px; margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td pre { max-height: 120px; padding: 4px; }
a { color: var(--run); }
.summary { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 0; }
.summary div { display: flex; gap: 6px; }
.summary dt { color: var(--muted); }
.summary dd { margin: 0; font-weight: 600; }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; background: var(--muted); }
.status.succeeded { background: var(--ok); } .status.failed { background: var(--bad); }
.status.escalated { background: var(--wait); } .status.running, .status.backoff { background: var(--run); }
.status.cancelled, .status.skipped { background: var(--skip); } .status.fallback { background: var(--warn); }
.status.interrupted { background: var(--warn); }
.scrubber { position: sticky; top: 0; z-index: 2; background: var(--bg); padding: 8px 0;
  border-bottom: 1px solid var(--line); display: flex; gap: 12px; align-items: center; }
.scrubber input[type=range] { flex: 1; }
.scrubber output { min-width: 420px; font-size: 12px; }
.muted { color: var(--muted); }
.future { opacity: 0.25; }
tr.now td { background: #fff7d6; }
.chart ul { list-style: none; margin: 0; padding-left: 20px; border-left: 1px dashed var(--line); }
.chart > ul { padding-left: 0; border-left: 0; display: flex; flex-wrap: wrap; gap: 8px; }
.chart li { margin: 4px 0; }
.node { display: inline-block; padding: 3px 8px; border: 1px solid var(--line); border-radius: 12px;
  background: var(--panel); }
.node small { color: var(--muted); margin-left: 4px; }
.node.st-succeeded { border-color: var(--ok); } .node.st-failed { border-color: var(--bad); }
.node.st-fallback { border-color: var(--warn); } .node.st-skipped, .node.st-cancelled { border-style: dashed; }
.node.st-pending { opacity: 0.35; }
.node.current { outline: 3px solid var(--run); background: #e8f0fe; font-weight: 600; }
.node.waiting { outline: 3px solid var(--wait); background: #f0ebff; font-weight: 600; }
.machine { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin: 2px 0 8px; }
.machine .node { font-size: 12px; padding: 1px 6px; }
.timeline { position: relative; }
.row { display: grid; grid-template-columns: 260px 1fr; align-items: center; min-height: 22px;
  border-bottom: 1px solid #eef0f3; }
.row .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 12px; }
.row.call .label { color: var(--muted); }
.track { position: relative; height: 18px; }
.bar { position: absolute; top: 3px; height: 12px; min-width: 3px; border-radius: 2px; background: var(--skip); }
.bar.attempt-succeeded { background: var(--ok); } .bar.attempt-failed, .bar.attempt-abandoned { background: var(--bad); }
.bar.attempt-running { background: var(--run); } .bar.attempt-cancelled { background: var(--skip); }
.bar.backoff { background: repeating-linear-gradient(45deg, #f5c16c, #f5c16c 3px, #fff3dc 3px, #fff3dc 6px); }
.bar.fallback { background: var(--warn); width: 4px; } .bar.cache { background: #0e9384; width: 4px; }
.bar.escalation, .bar.advisory { background: var(--wait); width: 6px; top: 0; height: 18px; }
.bar.state { background: #2e90fa; width: 2px; top: 0; height: 18px; }
.bar.computed { background: #7a5af8; width: 2px; top: 0; height: 18px; }
.bar.hidden { display: none; }
.axis { display: grid; grid-template-columns: 260px 1fr; font-size: 11px; color: var(--muted); }
.axis .ticks { position: relative; height: 16px; }
.axis .ticks span { position: absolute; transform: translateX(-50%); }
.cursor { position: absolute; top: 0; bottom: 0; width: 2px; background: #f04438; pointer-events: none; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.legend .bar { position: static; display: inline-block; width: 14px; margin-right: 4px; vertical-align: middle; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; }
.changed { background: #fff7d6; }
.live { font-size: 12px; font-weight: 400; color: var(--muted); margin-left: 12px; }
.live.ok::before { content: "● "; color: var(--ok); } .live.bad { color: var(--bad); }
.statechart { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.sc-state { display: inline-flex; flex-direction: column; gap: 2px; padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 10px; background: var(--panel); font-size: 12px; }
.sc-state > small { color: var(--muted); }
.sc-name { font-weight: 600; }
.sc-children, .sc-regions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; align-items: flex-start; }
.sc-regions > .sc-state { border-style: dotted; }
.sc-compound, .sc-parallel { background: #fff; }
.sc-final { border-width: 2px; border-style: double; border-color: var(--line); }
.sc-edges { display: none; margin: 2px 0 0; padding-left: 14px; color: var(--muted); font-size: 11px; }
.show-edges .sc-edges { display: block; }
.sc-state.unreached { opacity: 0.45; border-style: dashed; background: #fff; }
.sc-state.reached { opacity: 1; }
.sc-state.st-succeeded { border-color: var(--ok); background: #ecfdf3; }
.sc-state.st-failed { border-color: var(--bad); background: #fef3f2; }
.sc-state.st-running, .sc-state.st-backoff { border-color: var(--run); }
.sc-state.st-fallback { border-color: var(--warn); background: #fffaeb; }
.sc-state.st-skipped, .sc-state.st-cancelled { border-style: dashed; }
.sc-state.current { outline: 3px solid var(--run); background: #e8f0fe; }
.sc-state.waiting { outline: 3px solid var(--wait); background: #f0ebff; }
.machine.statechart { gap: 4px; }
.machine .sc-state { padding: 1px 6px; }
.call-chart { margin-bottom: 10px; }
.call-path { font-size: 11px; }
`;
