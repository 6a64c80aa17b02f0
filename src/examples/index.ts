// The example MCP server of seeds 000 and 004: its host, its plan format, and the HTTP host.
export { createExampleHost, createExampleServer, exampleTools } from './exampleServer.js';
export type { ExampleHost, ExampleHostOptions } from './exampleServer.js';
export { ExamplePlan, ExampleFailure, FaultRule, exampleShorthands } from './examplePlan.js';
export type { ExamplePlanInput } from './examplePlan.js';
export { loadExamplePlan } from './loadExamplePlan.js';
export { startExampleHttpServer } from './exampleHttpHost.js';
