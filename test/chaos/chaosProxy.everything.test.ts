// The chaos proxy in front of the reference server @modelcontextprotocol/server-everything (stdio): tools, resources,
// templates, prompts, completions, logging notifications and progress all come through; chaos://report is added.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosEngine } from '../../src/chaos/chaosEngine.js';
import { ChaosPlan } from '../../src/chaos/chaosPlan.js';
import { serveChaosSession, type ChaosSession } from '../../src/chaos/chaosSession.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { childPidsMatching, isAlive, serverEverythingConfig } from '../support/servers.js';

let client: Client;
let session: ChaosSession;
let engine: ChaosEngine;
const logged: LoggingMessageNotification[] = [];

beforeAll(async () => {
  const plan = ChaosPlan.parse({ seed: 1, faults: [{ tool: 'get-sum', rate: 1, kind: 'lock' }] });
  engine = new ChaosEngine(plan, createTestClock(0));
  const [downstream, proxySide] = InMemoryTransport.createLinkedPair();
  const serving = serveChaosSession(proxySide, {
    engine,
    mode: 'stdio',
    upstream: serverEverythingConfig(),
    onCrash: () => undefined,
  });
  client = new Client({ name: 'chaos-everything-test', version: '1' });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logged.push(notification));
  await client.connect(downstream);
  session = await serving;
});
afterAll(() => client.close());

describe('chaos-proxy in front of server-everything', () => {
  it('mirrors the upstream: its name, capabilities and tools', async () => {
    expect(client.getServerVersion()?.name).toMatch(/everything/i);
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, prompts: {}, resources: {}, logging: {} });
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    const echoed = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
  });

  it('injects the planned fault instead of calling the tool', async () => {
    const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    expect(sum).toMatchObject({ isError: true, structuredContent: { error: { type: 'lock' } } });
  });

  it('forwards resources, templates and reads, with chaos://report added to the list', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    expect(uris.at(-1)).toBe('chaos://report');
    expect(uris).toContain('demo://resource/static/document/architecture.md');
    const read = await client.readResource({ uri: 'demo://resource/static/document/architecture.md' });
    expect(read.contents[0]).toMatchObject({ uri: 'demo://resource/static/document/architecture.md' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toContain(
      'demo://resource/dynamic/text/{resourceId}',
    );
    const report = await client.readResource({ uri: 'chaos://report' });
    const [content] = report.contents;
    expect(JSON.parse(content && 'text' in content ? content.text : '{}')).toMatchObject({
      calls: 2,
      forwarded: 1,
      injected: { lock: 1 },
      requests: { 'tools/list': 1, 'tools/call': 1, 'resources/list': 1, 'resources/read': 1 },
    });
  });

  it('forwards prompts and completions', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
    const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon', state: 'Rhône' } });
    expect(JSON.stringify(prompt.messages)).toContain('Lyon');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'Eng' },
    });
    expect(completion.completion.values).toContain('Engineering');
  });

  it('forwards progress notifications under the caller’s token, and the upstream’s log messages', async () => {
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } },
      undefined,
      { onprogress: (update) => progress.push(update.progress) },
    );
    expect(result.isError).toBeFalsy();
    expect(progress).toEqual([1, 2]);
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    for (let poll = 0; poll < 400 && logged.length === 0; poll++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(logged[0]?.params).toMatchObject({ level: expect.any(String) as unknown });
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
  });

  it('stops the upstream process when the session closes', async () => {
    const pids = childPidsMatching('server-everything');
    expect(pids.length).toBeGreaterThan(0);
    await session.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
