// `npm run bench -- [--long] [--only NAME]...`: runs the benchmarks (all by default), prints the table and the JSON, writes bench/results.json.
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { BenchOptions, BenchReport, Figure } from './lib/figure.js';
import { formatTable } from './lib/table.js';
import * as backoffMemory from './backoffMemory.bench.js';
import * as chaos from './chaos.bench.js';
import * as crash from './crash.bench.js';
import * as fileLog from './fileLog.bench.js';
import * as jetStream from './jetStream.bench.js';
import * as machineOverhead from './machineOverhead.bench.js';
import * as replay from './replay.bench.js';
import * as soak from './soak.bench.js';
import * as stdioEndToEnd from './stdioEndToEnd.bench.js';
import * as workflows from './workflows.bench.js';

const benchmarks: Record<string, (options: BenchOptions) => Promise<BenchReport>> = {
  machine: machineOverhead.run,
  stdio: stdioEndToEnd.run,
  memory: backoffMemory.run,
  log: fileLog.run,
  jetstream: jetStream.run,
  replay: replay.run,
  workflows: workflows.run,
  soak: soak.run,
  crash: crash.run,
  chaos: chaos.run,
};

const { values } = parseArgs({
  options: { long: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } },
});
const selected = values.only ?? Object.keys(benchmarks);
const unknown = selected.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  process.exit(2);
}

const options: BenchOptions = { long: values.long };
const startedAt = new Date();
const loadBefore = loadavg()[0] ?? 0;
const reports: BenchReport[] = [];
for (const name of selected) {
  const runBenchmark = benchmarks[name];
  if (!runBenchmark) continue;
  const began = performance.now();
  process.stderr.write(`running ${name}${options.long ? ' (long)' : ''}… `);
  reports.push(await runBenchmark(options));
  process.stderr.write(`${((performance.now() - began) / 1000).toFixed(1)} s\n`);
}

const figures: Figure[] = reports.flatMap((report) => report.figures);
const missed = figures.filter((figure) => figure.target && !figure.target.pass);
const loadAfter = loadavg()[0] ?? 0;
const results = {
  startedAt: startedAt.toISOString(),
  mode: options.long ? 'long' : 'short',
  machine: {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage: { before: loadBefore, after: loadAfter },
  },
  figures,
  details: Object.fromEntries(reports.map((report) => [report.benchmark, report.details])),
};
const json = JSON.stringify(results, null, 2);
console.log(formatTable(figures));
console.log(
  `\n${figures.filter((figure) => figure.target).length - missed.length} targets met, ${missed.length} missed\n`,
);
if (Math.max(loadBefore, loadAfter) > availableParallelism() / 2) {
  console.log(
    `note: load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on ${availableParallelism()} cores; other processes shared the CPUs, so absolute figures are noisy (the ratios come from interleaved rounds)\n`,
  );
}
console.log(json);
await writeFile(new URL('./results.json', import.meta.url), `${json}\n`);
