// `npm run bench`: runs the benchmark suite and writes benchmarks/RESULTS.md with the machine, the
// Node version and the date. Every figure is reported next to a baseline measured in the same run
// (the machines are shared and noisy: ratios hold where absolute numbers drift).
// `npm run bench -- --quick` is the smoke run CI executes: small sizes, same code paths.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatDigestBench, runDigestBench } from './digest.bench.js';

const quick = process.argv.includes('--quick');
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : fileURLToPath(new URL('RESULTS.md', import.meta.url));

const sections: string[] = [];
const started = Date.now();

process.stderr.write(`bench: digest${quick ? ' (quick)' : ''}\n`);
sections.push('## t-digest\n\n' + formatDigestBench(await runDigestBench({ quick })));

const header = [
  '# Vigil benchmark results',
  '',
  `- date: ${new Date().toISOString()}`,
  `- machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  `- node: ${process.version}`,
  `- mode: ${quick ? 'quick (smoke run: small sizes, figures not representative)' : 'full'}`,
  `- took: ${((Date.now() - started) / 1000).toFixed(1)} s`,
  '',
].join('\n');

const text = header + '\n' + sections.join('\n\n') + '\n';
// A quick run only proves the suite still runs; it does not overwrite the committed full results.
if (quick && !process.argv.includes('--out')) process.stdout.write(text);
else writeFileSync(out, text);
process.stderr.write(`bench: done in ${((Date.now() - started) / 1000).toFixed(1)} s${quick ? '' : `, wrote ${out}`}\n`);
