import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import { findConfigFile, loadConfig, parseConfigText, parseRuntimeConfig } from '../../src/config/index.js';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** The one-line descriptions of every problem in a rejected config. */
function problemsIn(text: string, env: Record<string, string> = {}): string[] {
  return rejection(() => parseConfigText(text, { env, baseDir: '/configs' }))
    .describe()
    .split('\n');
}

function rejection(run: () => unknown): { code: string; describe(): string } {
  try {
    run();
  } catch (error) {
    if (isRetraceError(error)) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfigText', () => {
  it('turns a valid config into typed values, durations in milliseconds and defaults filled in', () => {
    const config = parseConfigText(
      yaml(
        'servers:',
        '  fault: { command: node, args: [server.js] }',
        '  remote: { url: "https://mcp.example.com/mcp" }',
        'defaults: { max_retries: 2, base_delay: 250ms }',
        'tools:',
        '  lookup: { timeout: 2s, fallbacks: [fault/cached_lookup, null] }',
        'escalation: { repeated_failures: { count: 3 } }',
      ),
    );
    expect(config).toEqual({
      servers: {
        fault: { command: 'node', args: ['server.js'] },
        remote: { url: 'https://mcp.example.com/mcp' },
      },
      defaults: { max_retries: 2, base_delay: 250 },
      tools: { lookup: { timeout: 2000, fallbacks: ['fault/cached_lookup', null] } },
      cache: { max_entries: 1000 },
      escalation: {
        repeated_failures: { count: 3, window: 300_000 },
        error_rate: { threshold: 0.5, minimum_calls: 10, window: 300_000 },
      },
      log: { level: 'info', redact: [] },
    });
  });

  it('accepts an empty file and empty sections as the empty config', () => {
    expect(parseConfigText('').servers).toEqual({});
    expect(parseConfigText(yaml('servers:', 'tools:')).tools).toEqual({});
  });

  it('reports a wrong type at the line and column of the value, with its path', () => {
    expect(problemsIn(yaml('servers:', '  fault:', '    command: 3'))).toEqual([
      'retrace.config.yaml:3:14 servers.fault.command: expected a string, got 3',
    ]);
  });

  it('reports an unknown key at the key, suggesting the name it resembles', () => {
    expect(problemsIn(yaml('defaults:', '  max_retry: 3'))).toEqual([
      'retrace.config.yaml:2:3 defaults.max_retry: unknown key "max_retry" (did you mean "max_retries"?)',
    ]);
    expect(problemsIn(yaml('server: {}'))).toEqual([
      'retrace.config.yaml:1:1 server: unknown key "server" (did you mean "servers"?)',
    ]);
  });

  it('reports a missing required field at the key of the object that lacks it', () => {
    expect(problemsIn(yaml('servers:', '  fault:', '    args: [x]'))).toEqual([
      'retrace.config.yaml:2:3 servers.fault.command: missing: expected a string',
    ]);
  });

  it('rejects a duration written in words', () => {
    expect(problemsIn(yaml('tools:', '  slow_tool:', '    timeout: 5 minutes'))).toEqual([
      'retrace.config.yaml:3:14 tools.slow_tool.timeout: expected a duration (seconds as a number, or a string like 250ms, 2s, 5m), got "5 minutes"',
    ]);
  });

  it('rejects a jitter that is not one of the four strategies', () => {
    expect(problemsIn(yaml('defaults: { jitter: fulll }'))).toEqual([
      'retrace.config.yaml:1:21 defaults.jitter: expected one of none, full, equal, decorrelated, got "fulll"',
    ]);
  });

  it('rejects a classification pattern that does not compile, naming the rule', () => {
    expect(
      problemsIn(
        yaml(
          'tools:',
          '  start_background_task_tool:',
          '    classify:',
          '      - name: queue-full',
          '        when: { message: "queue (full" }',
          '        kind: resource',
        ),
      ),
    ).toEqual([
      'retrace.config.yaml:5:26 tools.start_background_task_tool.classify[0].when.message: rule "queue-full": invalid regular expression "queue (full": Unterminated group',
    ]);
  });

  it('reports a YAML syntax error as file:line:col with the parser message', () => {
    const error = rejection(() => parseConfigText(yaml('servers:', '  fault: [node,', 'tools: {}')));
    expect(error.code).toBe('E_CONFIG_PARSE');
    expect(error.describe()).toMatch(/^retrace\.config\.yaml:\d+:\d+: \S/);
  });

  it('rejects a duplicate key at the second occurrence', () => {
    expect(problemsIn(yaml('servers:', '  fault: { command: a }', '  fault: { command: b }'))).toEqual([
      'retrace.config.yaml:3:3 servers.fault: duplicate key "fault"',
    ]);
  });

  it('substitutes ${VAR} and ${VAR:-default} from the environment, and $${ as a literal', () => {
    const config = parseConfigText(
      yaml(
        'servers:',
        '  remote:',
        '    url: "${MCP_URL:-https://localhost:8080/mcp}"',
        '    headers: { Authorization: "Bearer ${TOKEN}", X-Note: "$${NOT_A_VAR}" }',
      ),
      { env: { TOKEN: 's3cret' } },
    );
    expect(config.servers.remote).toEqual({
      url: 'https://localhost:8080/mcp',
      headers: { Authorization: 'Bearer s3cret', 'X-Note': '${NOT_A_VAR}' },
    });
  });

  it('reports an unset variable without a default at its value', () => {
    expect(
      problemsIn(
        yaml(
          'servers:',
          '  remote:',
          '    url: https://mcp.example.com',
          '    headers: { Authorization: "Bearer ${TOKEN}" }',
        ),
      ),
    ).toEqual([
      'retrace.config.yaml:4:31 servers.remote.headers.Authorization: environment variable ${TOKEN} not set (write ${NAME:-default} to give a default)',
    ]);
  });

  it('rejects fallbacks that are not tool names or name a server that is not configured', () => {
    expect(
      problemsIn(
        yaml(
          'servers: { fault: { command: node } }',
          'tools:',
          '  lookup: { fallbacks: [fault/cached, ghost/cached, "two words"] }',
        ),
      ),
    ).toEqual([
      'retrace.config.yaml:3:39 tools.lookup.fallbacks[1]: fallback "ghost/cached" names server "ghost", which is not under servers (configured: fault)',
      'retrace.config.yaml:3:53 tools.lookup.fallbacks[2]: fallback "two words" is not a tool name: expected "tool" or "server/tool" (letters, digits, "_", "-", ".")',
    ]);
  });

  it('reports every problem at once, one per line, in file order', () => {
    const error = rejection(() =>
      parseConfigText(
        yaml(
          'servers:',
          '  fault: { command: 3 }',
          'defaults:',
          '  jitter: sometimes',
          '  base_delay: soon',
          'tools:',
          '  lookup: { retries: 2 }',
        ),
      ),
    );
    expect(error.code).toBe('E_CONFIG');
    expect(error.describe().split('\n')).toEqual([
      'retrace.config.yaml:2:21 servers.fault.command: expected a string, got 3',
      'retrace.config.yaml:4:11 defaults.jitter: expected one of none, full, equal, decorrelated, got "sometimes"',
      'retrace.config.yaml:5:15 defaults.base_delay: expected a duration (seconds as a number, or a string like 250ms, 2s, 5m), got "soon"',
      'retrace.config.yaml:7:13 tools.lookup.retries: unknown key "retries"',
    ]);
  });

  it('says which forms a field accepts when it matches none of them', () => {
    expect(problemsIn(yaml('defaults: { cache: yes }'))).toEqual([
      'retrace.config.yaml:1:20 defaults.cache: expected a boolean (true/false) or a mapping, got "yes"',
    ]);
  });
});

describe('parseRuntimeConfig', () => {
  it('names the file and path of each problem when there is no YAML to point into', () => {
    const error = rejection(() =>
      parseRuntimeConfig({ servers: { fault: { command: 3 } } }, { file: 'inline config' }),
    );
    expect(error.describe()).toBe('inline config servers.fault.command: expected a string, got 3');
  });
});

describe('loadConfig', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'retrace-config-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('gives the empty config when no file is given and none is found', async () => {
    const config = await loadConfig({ cwd: directory });
    expect(config.servers).toEqual({});
    expect(config.tools).toEqual({});
  });

  it('finds retrace.config.yaml before retrace.config.yml in the working directory', async () => {
    await writeFile(join(directory, 'retrace.config.yml'), 'servers: {}\n');
    expect(await findConfigFile(directory)).toBe(join(directory, 'retrace.config.yml'));
    await writeFile(join(directory, 'retrace.config.yaml'), 'servers: {}\n');
    expect(await findConfigFile(directory)).toBe(join(directory, 'retrace.config.yaml'));
  });

  it('names a given config file that does not exist', async () => {
    const missing = join(directory, 'nope.yaml');
    await expect(loadConfig({ file: missing })).rejects.toMatchObject({
      code: 'E_CONFIG',
      location: { file: missing },
      message: 'config file not found',
    });
  });

  it('resolves ./ commands and relative working directories against the config file', async () => {
    await mkdir(join(directory, 'conf'));
    await writeFile(
      join(directory, 'conf', 'retrace.config.yaml'),
      yaml('servers:', '  local: { command: ./bin/server, cwd: work }', '  system: { command: node, cwd: /srv }'),
    );
    const config = await loadConfig({ file: 'conf/retrace.config.yaml', cwd: directory });
    expect(config.servers.local).toEqual({
      command: join(directory, 'conf', 'bin', 'server'),
      args: [],
      cwd: join(directory, 'conf', 'work'),
    });
    expect(config.servers.system).toEqual({ command: 'node', args: [], cwd: '/srv' });
  });

  it('reads secrets from the injected environment', async () => {
    await writeFile(
      join(directory, 'retrace.config.yaml'),
      yaml(
        'servers:',
        '  remote: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer ${TOKEN}" } }',
      ),
    );
    const config = await loadConfig({ cwd: directory, env: { TOKEN: 'abc' } });
    expect(config.servers.remote).toMatchObject({ headers: { Authorization: 'Bearer abc' } });
  });

  it('loads the example config without errors', async () => {
    const config = await loadConfig({ file: 'examples/retrace.config.yaml', cwd: repositoryRoot, env: {} });
    expect(config.servers.scheduler).toEqual({
      command: 'node',
      args: ['dist/examples/exampleServerMain.js'],
      cwd: repositoryRoot,
    });
    expect(config.tools.promote_to_production_tool).toMatchObject({
      max_retries: 1,
      base_delay: 5000,
      idempotent: false,
      critical: true,
      escalation: { level: 'emergency', recommended_action: expect.stringMatching(/^1\. Check deployment logs\n2\./) },
    });
    expect(config.tools.check_utilization_threshold_tool?.fallbacks).toEqual(['get_cached_utilization_metrics']);
    expect(config.tools.analyze_swap_candidates_tool?.fallbacks).toEqual([null]);
    expect(config.escalation.repeated_failures).toEqual({ count: 5, window: 300_000 });
  });
});
