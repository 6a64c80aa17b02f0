// The runtime configuration: `retrace.config.yaml`, its schema, and the policy each tool call runs under.
export {
  CacheSettings,
  EscalationTriggers,
  LogSettings,
  NatsSettings,
  RuntimeConfig,
  ServerName,
  StoreKind,
  parseRuntimeConfig,
} from './runtimeConfig.js';
export type { ParseConfigOptions, RuntimeConfigInput } from './runtimeConfig.js';
export { CONFIG_FILE_NAMES, findConfigFile, loadConfig, parseConfigText } from './loadConfig.js';
export type { Environment, LoadConfigOptions, ParseConfigTextOptions } from './loadConfig.js';
export { policyFor } from './policyFor.js';
export { SourceProblemsError, describeProblem, formatPath, locate, parseYaml } from './yamlErrors.js';
export { validate } from './validate.js';
export type { ParsedYaml, PathSegment, SourceProblem, YamlSource } from './yamlErrors.js';
