// The chaos proxy: a fault-injecting MCP proxy by a seeded plan (`retrace chaos-proxy`), for code and tests.
export { ChaosEngine } from './chaosEngine.js';
export { injectionFor, type ChaosHit, type Injection } from './chaosFaults.js';
export { startChaosHttpProxy, type ChaosHttpOptions, type ChaosHttpProxy } from './chaosHttp.js';
export {
  ChaosKind,
  ChaosPlan,
  loadChaosPlan,
  parseChaosPlan,
  type ChaosFault,
  type ChaosMode,
  type ChaosOutage,
  type ChaosPlanInput,
} from './chaosPlan.js';
export { ChaosReport, REPORT_URI, type ChaosReportData, type ToolCounts } from './chaosReport.js';
export { serveChaosSession, type ChaosSession, type ChaosSessionOptions } from './chaosSession.js';
