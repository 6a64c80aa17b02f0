// The run viewer: pure page renderers (events in, one self-contained HTML document out) for `retrace report` and the server.
export { renderRunPage, type RunPageOptions } from './renderRunPage.js';
export { renderRunsPage, runsPageRow, type RunsPageOptions, type RunsPageRow } from './renderRunsPage.js';
export { buildRunPageModel, type RunErrorItem, type RunEscalationItem, type RunPageModel } from './runPageModel.js';
export { addViewerRoutes } from './viewerRoutes.js';
