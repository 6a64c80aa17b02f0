// Which store and bus a command gets from --store, --nats and the config's `store:` and `nats:`.
import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../src/cli/commands/store.js';
import { parseConfigText } from '../../src/config/loadConfig.js';

const config = (text: string) => parseConfigText(text, { file: 'retrace.config.yaml' });

describe('choosing the store and the bus', () => {
  it('records to the file log without a bus by default', () => {
    expect(chooseBackends({}, config(''))).toMatchObject({ store: 'file', nats: undefined });
  });

  it('keeps --nats URL alone meaning JetStream as the store, publishing live too', () => {
    expect(chooseBackends({ nats: 'nats://127.0.0.1:4333' }, config(''))).toMatchObject({
      store: 'jetstream',
      nats: { url: 'nats://127.0.0.1:4333', stream: 'RETRACE_EVENTS', subjectPrefix: 'retrace.events' },
    });
  });

  it('records to the file log and publishes on NATS with --store file --nats URL, or with nats: in the config', () => {
    expect(chooseBackends({ nats: 'nats://127.0.0.1:4333', store: 'file' }, config(''))).toMatchObject({
      store: 'file',
      nats: { url: 'nats://127.0.0.1:4333' },
    });
    const fromConfig = config('nats:\n  url: nats://10.0.0.5:4222\n  subject_prefix: acme.events\n  max_backlog: 50\n');
    expect(chooseBackends({}, fromConfig)).toMatchObject({
      store: 'file',
      nats: { url: 'nats://10.0.0.5:4222', subjectPrefix: 'acme.events', maxBacklog: 50 },
    });
  });

  it('lets store: jetstream use the nats: section, and --store override the config', () => {
    const jetstream = config('store: jetstream\nnats:\n  stream: ACME\n');
    expect(chooseBackends({}, jetstream)).toMatchObject({
      store: 'jetstream',
      nats: { url: 'nats://127.0.0.1:4222', stream: 'ACME' },
    });
    expect(chooseBackends({ store: 'file' }, jetstream)).toMatchObject({ store: 'file', nats: { stream: 'ACME' } });
    expect(chooseBackends({ nats: 'nats://127.0.0.1:4333' }, config('store: file\n'))).toMatchObject({ store: 'file' });
  });

  it('names the line of a bad nats: or store: entry', () => {
    expect(() => config('store: disk\n')).toThrow(
      /retrace\.config\.yaml:1:8 store: expected one of file, jetstream, got "disk"/,
    );
    expect(() => config('nats:\n  url: localhost:4222\n')).toThrow(
      /retrace\.config\.yaml:2:8 nats\.url: expected a NATS URL such as nats:\/\/127\.0\.0\.1:4222/,
    );
    expect(() => config('nats:\n  subject_prefix: "retrace.>"\n')).toThrow(
      /2:19 nats\.subject_prefix: expected dotted tokens/,
    );
  });
});
