// A small reader of the Prometheus text format for tests: every sample by `name{label="value",…}` (labels sorted).
export type Samples = Map<string, number>;

/** The key a sample is found under: the name, then its labels sorted by name (none: the bare name). */
export function sampleKey(name: string, labels: Record<string, string | number> = {}): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}="${String(value)}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, label = '', labelValue = ''] of labelText.matchAll(LABEL)) labels[label] = labelValue;
    samples.set(sampleKey(name, labels), Number(value));
  }
  return samples;
}

/** The samples whose name (before the labels) is `name`. */
export function samplesNamed(samples: Samples, name: string): Samples {
  return new Map([...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)));
}
