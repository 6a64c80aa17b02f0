// A machine's chart (src/machines/export/machineChart.ts) as nested boxes: each state a box in document order inside
// its parent's, parallel regions side by side, its transitions listed in it (shown on demand) and in its tooltip.
// The page script marks the boxes by the attributes the caller gives each state (the current state, those passed).
import {
  transitionLabel,
  type ChartState,
  type ChartTransition,
  type MachineChart,
} from '../../machines/export/index.js';
import { escapeHtml } from './html.js';

export interface StatechartHtmlOptions {
  /** The box's own attributes (` data-step="deploy"`), read by the page script; none by default. */
  attributes?: (state: ChartState) => string;
  /** A word under the state's name (a step's type); none by default. */
  caption?: (state: ChartState) => string;
  /** The classes every box of this chart has besides `sc-state` (`node` for the flat tool-call machine). */
  boxClass?: string;
}

/** A state id as the chart's reader knows it: without the machine's id in front (`deploy.on-error`, `run-failed`). */
function shortId(chart: MachineChart, id: string): string {
  return id.startsWith(`${chart.id}.`) ? id.slice(chart.id.length + 1) : id;
}

function edgeText(chart: MachineChart, transition: ChartTransition): string {
  const targets =
    transition.targets.length === 0 ? '(stays)' : transition.targets.map((id) => shortId(chart, id)).join(', ');
  return `${transitionLabel(transition)} → ${targets}`;
}

/** The chart's states as boxes: the root's children in order (the root is the chart itself). */
export function statechartHtml(chart: MachineChart, options: StatechartHtmlOptions = {}): string {
  const outgoing = new Map<string, string[]>();
  for (const transition of chart.transitions) {
    const list = outgoing.get(transition.source) ?? [];
    list.push(edgeText(chart, transition));
    outgoing.set(transition.source, list);
  }
  const box = (state: ChartState): string => {
    const edges = outgoing.get(state.id) ?? [];
    const caption = options.caption?.(state) ?? '';
    const title = [shortId(chart, state.id), state.description ?? '', ...edges].filter((line) => line !== '');
    const classes = ['sc-state', `sc-${state.type}`, options.boxClass ?? ''].filter((name) => name !== '').join(' ');
    const children =
      state.children.length === 0
        ? ''
        : `<div class="${state.type === 'parallel' ? 'sc-regions' : 'sc-children'}">${state.children.map(box).join('')}</div>`;
    const edgeList =
      edges.length === 0
        ? ''
        : `<ul class="sc-edges">${edges.map((edge) => `<li>${escapeHtml(edge)}</li>`).join('')}</ul>`;
    return `<div class="${classes}"${options.attributes?.(state) ?? ''} title="${escapeHtml(title.join('\n'))}"><span class="sc-name">${escapeHtml(state.key)}</span>${caption === '' ? '' : `<small>${escapeHtml(caption)}</small>`}${edgeList}${children}</div>`;
  };
  return chart.root.children.map(box).join('');
}
