// Finds and loads `retrace.config.yaml`: YAML with positions, `${ENV}` substitution, validation, paths made absolute.
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { isScalar, visit } from 'yaml';
import { withAbsolutePaths as serverWithAbsolutePaths } from '../actors/serverConfig.js';
import { ErrorCode, RetraceError, formatLocation } from '../common/errors.js';
import { checkRuntimeConfig, markValidated, parseRuntimeConfig } from './runtimeConfig.js';
import type { RuntimeConfig } from './runtimeConfig.js';
import { SourceProblemsError, locate, parseYaml } from './yamlErrors.js';
import type { PathSegment, SourceProblem, YamlSource } from './yamlErrors.js';

export const CONFIG_FILE_NAMES = ['retrace.config.yaml', 'retrace.config.yml'] as const;

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** `--config FILE`; relative to `cwd`. When given, it must exist. */
  file?: string | undefined;
  /** Where to look for `retrace.config.yaml` / `.yml`; defaults to the process's directory. */
  cwd?: string | undefined;
  /** Source of `${VAR}` values; defaults to `process.env`. */
  env?: Environment | undefined;
}

/** The config file in `cwd`, if there is one (`retrace.config.yaml` before `retrace.config.yml`). */
export async function findConfigFile(cwd: string = process.cwd()): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = resolve(cwd, name);
    const found = await stat(candidate).then(
      (stats) => stats.isFile(),
      () => false,
    );
    if (found) return candidate;
  }
  return undefined;
}

/** Loads the runtime config; no file given and none found gives the empty config. Throws `RetraceError`. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<RuntimeConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const path = options.file === undefined ? await findConfigFile(cwd) : resolve(cwd, options.file);
  if (path === undefined) return parseRuntimeConfig({});
  const file = displayName(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const message = missing ? 'config file not found' : `cannot read config file: ${(error as Error).message}`;
    throw new RetraceError(ErrorCode.config, message, { location: { file }, cause: error });
  }
  return parseConfigText(text, { file, env: options.env, baseDir: dirname(path) });
}

export interface ParseConfigTextOptions {
  /** Named in problems; defaults to `retrace.config.yaml`. */
  file?: string | undefined;
  env?: Environment | undefined;
  /** Where `./` paths of stdio servers point; defaults to the directory of `file`. */
  baseDir?: string | undefined;
}

/** Parses config YAML text; throws one `RetraceError` listing every problem as `file:line:col path: message`. */
export function parseConfigText(text: string, options: ParseConfigTextOptions = {}): RuntimeConfig {
  const file = options.file ?? CONFIG_FILE_NAMES[0];
  const parsed = parseYaml(text, file);
  if (!parsed.usable) throw new SourceProblemsError(ErrorCode.configParse, parsed.problems);
  const substitution = substituteEnvironment(parsed.source, options.env ?? process.env);
  const { config, problems } = checkRuntimeConfig(parsed.source.document.toJS(), { file, source: parsed.source });
  // A value whose variable is unset is reported once, as the missing variable.
  const unset = new Set(substitution.map((problem) => formatLocation(problem.location)));
  const all = [
    ...parsed.problems,
    ...substitution,
    ...problems.filter((problem) => !unset.has(formatLocation(problem.location))),
  ];
  if (!config || all.length > 0) throw new SourceProblemsError(ErrorCode.config, all);
  return withAbsolutePaths(config, options.baseDir ?? dirname(resolve(file)));
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in string values (not keys) with the environment's values, so
 * secrets such as HTTP headers stay out of the file; `$${` writes a literal `${`. An unset variable without
 * a default is a problem at its value. `under` limits it to one top-level section (a workflow's `servers:`).
 */
export function substituteEnvironment(source: YamlSource, env: Environment, under?: string): SourceProblem[] {
  const problems: SourceProblem[] = [];
  visit(source.document, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      if (under !== undefined && pathOf(ancestors, node)[0] !== under) return;
      const missing: string[] = [];
      node.value = node.value.replace(reference, (match, name: string | undefined, fallback: string | undefined) => {
        if (name === undefined) return '${';
        const value = env[name];
        if (value !== undefined && (value !== '' || fallback === undefined)) return value;
        if (fallback !== undefined) return fallback;
        missing.push(name);
        return match;
      });
      if (missing.length === 0) return;
      const path = pathOf(ancestors, node);
      const names = missing.map((name) => `\${${name}}`).join(', ');
      problems.push({
        location: locate(source, source.file, path),
        message: `environment variable${missing.length > 1 ? 's' : ''} ${names} not set (write \${NAME:-default} to give a default)`,
      });
    },
  });
  return problems;
}

/** The data path of a scalar from the visitor's ancestors (document, maps, pairs, sequences). */
function pathOf(ancestors: readonly unknown[], node: unknown): PathSegment[] {
  const path: PathSegment[] = [];
  const chain = [...ancestors, node];
  for (const [index, ancestor] of chain.entries()) {
    const child = chain[index + 1];
    if (child === undefined || typeof ancestor !== 'object' || ancestor === null) continue;
    if ('key' in ancestor && 'value' in ancestor && isScalar(ancestor.key) && ancestor.value === child) {
      path.push(String(ancestor.key.value));
    } else if ('items' in ancestor && Array.isArray(ancestor.items) && !('key' in (child as object))) {
      const position = ancestor.items.indexOf(child);
      if (position >= 0) path.push(position);
    }
  }
  return path;
}

function withAbsolutePaths(config: RuntimeConfig, baseDir: string): RuntimeConfig {
  const servers: RuntimeConfig['servers'] = {};
  for (const [name, server] of Object.entries(config.servers)) servers[name] = serverWithAbsolutePaths(server, baseDir);
  return markValidated({ ...config, servers });
}

/** Paths under the working directory are shown relative to it, as the user typed them. */
function displayName(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith(`..${sep}`) && shown !== '..' && !isAbsolute(shown) ? shown : path;
}
