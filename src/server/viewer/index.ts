// The run viewer: pure page renderers (events in, one self-contained HTML document out) for `retrace report` and the server.
export { renderRunPage, runPageUpdate, type RunPageOptions, type RunPageUpdate } from './renderRunPage.js';
export {
  renderRunsPage,
  runsPageRow,
  runsTableHtml,
  type RunsPageOptions,
  type RunsPageRow,
} from './renderRunsPage.js';
export { buildRunPageModel, type RunErrorItem, type RunEscalationItem, type RunPageModel } from './runPageModel.js';
export { loadRunWorkflowChart, type RunWorkflowChart } from './runWorkflowChart.js';
export { addViewerRoutes, type ViewerRoutesOptions } from './viewerRoutes.js';
