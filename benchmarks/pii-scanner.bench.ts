/**
 * Benchmark: operators/security/pii-scanner.ts throughput on ~1 KB model outputs, against the
 * previous implementation (the copy kept for the equivalence tests,
 * test/operators/security/reference/reference-pii-scanner.ts).
 *
 * - clean: six ~1 KB paragraphs of typical assistant output (deployment notes, code, dates,
 *   versions, times, prices, URLs, hyphenated prose) with no PII — the fast path every span takes.
 * - pii: the same paragraphs with two to four values each (e-mail, phones, card, SSN, IBAN, IPv4
 *   and IPv6, API keys, a JWT) replacing their tail, still ~1 KB.
 * - demo answers: the demo's answer prose at ~950 characters, as `pipeline.bench.ts` pads its
 *   spans for the scanners-on run.
 * - read loop: a loop that only reads every char code of the clean texts through a class table —
 *   the floor any single-pass scanner in JavaScript pays — as a machine-speed reference: the ratio
 *   scanner / read loop carries over between machines better than the absolute figures.
 *
 * Each figure is scans per CPU-second of this process (`process.cpuUsage`, so time the thread
 * spends descheduled on a shared machine does not count) over the rotating set. After a warm-up
 * the cases are timed in turn in 50 ms slices (40 rounds, 3 with --quick); the best slice
 * approximates an unloaded core, the median what a shared machine gave. One core, one scanner of
 * each implementation with default options.
 *
 * Run: `node --import tsx benchmarks/pii-scanner.bench.ts [--quick]` (prints a markdown table).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';

import { PiiScanner } from '../operators/security/pii-scanner.js';
import { answerText } from '../src/demo/demo-texts.js';
import { SeededRandom } from '../src/demo/random.js';
import { PiiScanner as PreviousPiiScanner } from '../test/operators/security/reference/reference-pii-scanner.js';

/** Options for {@link runPiiBench}. */
export interface PiiBenchOptions {
  /** Shorter timing loops (CI smoke run). */
  readonly quick: boolean;
}

/** Throughput on one kind of text. */
export interface PiiBenchCase {
  /** Scans per second (best time slice: the closest to an unloaded core). */
  readonly scansPerSecond: number;
  /** Scans per second (median time slice: what a shared machine gave most of the time). */
  readonly medianScansPerSecond: number;
  /** Characters scanned per second (best time slice). */
  readonly charsPerSecond: number;
  /** Mean text length in characters. */
  readonly meanChars: number;
  /** Findings per text (a sanity check of what was measured). */
  readonly findingsPerText: number;
}

/** Result of {@link runPiiBench}. */
export interface PiiBenchResult {
  readonly quick: boolean;
  /** ~1 KB texts without PII. */
  readonly clean: PiiBenchCase;
  /** ~1 KB texts with 2–4 PII values each. */
  readonly pii: PiiBenchCase;
  /** The demo's answers at ~950 characters. */
  readonly answers: PiiBenchCase;
  /** The previous implementation on the same three sets. */
  readonly previous: { readonly clean: PiiBenchCase; readonly pii: PiiBenchCase; readonly answers: PiiBenchCase };
  /** The read-only loop over the clean texts (machine-speed reference). */
  readonly readLoop: PiiBenchCase;
  /** Machine context: the figures are only comparable with the same load. */
  readonly environment: { readonly node: string; readonly cpus: number; readonly loadAvg1m: number };
}

const CLEAN_PARAGRAPHS: readonly string[] = [
  'To deploy the service, first build the image with `docker build -t api:1.4.2 .` and push it to the registry. ' +
    'The container listens on port 8080; health checks hit /healthz every 10 seconds with a 3-second timeout. In our ' +
    'tests (run on 2024-05-14), p95 latency dropped from 420 ms to 180 ms after enabling HTTP/2 keep-alive. If the ' +
    'rollout fails, roll back with `kubectl rollout undo deployment/api` — the previous ReplicaSet is kept for 7 days. ' +
    'Note: the config key `max_connections` defaults to 100; raising it above 500 requires more memory (roughly 2.5 MB ' +
    'per connection). The team agreed on a two-step migration: step 1 moves read traffic, step 2 moves writes. ' +
    'Remember to update the runbook at https://wiki.internal/runbooks/api-v2 and to tag the release as v1.4.2 in Git. ' +
    'Finally, watch the dashboards for at least 30 minutes; error rates above 0.5% or a queue depth over 1,000 should ' +
    'trigger an immediate rollback, and the on-call engineer should post a short summary in the incident channel.',
  "Here's a quick comparison of the three plans. The Starter plan costs $9.99/month and includes 5 seats, 10 GB of " +
    'storage and email support with a 48-hour response time. The Team plan is $29/month for up to 25 seats, 100 GB, ' +
    'SSO and priority support (24 hours). Enterprise pricing is custom: it adds audit logs, a 99.95% uptime SLA, ' +
    'data residency in the EU or US, and a dedicated account manager. Annual billing saves about 17%, which works out ' +
    'to two months free. All plans include unlimited projects, version history for 30 days (90 on Enterprise) and ' +
    'API access with a rate limit of 1,000 requests per minute. If you expect heavy usage — say, more than 50,000 ' +
    'documents a month — the Team plan is usually the better deal because overage on Starter is billed at $0.02 per ' +
    'document. You can switch plans at any time; changes are prorated to the day and take effect immediately, and ' +
    'downgrades keep your data read-only for 14 days so nothing is lost while you decide what to archive.',
  'The function below parses a duration like "1h30m" into seconds:\n\n```python\nimport re\n\ndef parse_duration(s: str) -> int:\n' +
    '    total = 0\n    for value, unit in re.findall(r"(\\d+)([hms])", s):\n        total += int(value) * {"h": 3600, "m": 60, "s": 1}[unit]\n' +
    '    return total\n```\n\nFor example, `parse_duration("2h15m")` returns 8100 and `parse_duration("45s")` returns 45. ' +
    'It ignores unknown units, so "3d" yields 0; if you need days, add `"d": 86400` to the mapping. Time complexity ' +
    'is O(n) in the length of the string. In Python 3.11 this runs in about 1.2 µs per call on a modern laptop, ' +
    'which is fine for config parsing but not for a hot loop over millions of rows. For those, precompile the regex ' +
    'with `re.compile` at module level and consider caching results with `functools.lru_cache(maxsize=1024)`. ' +
    'Edge cases worth testing: an empty string, whitespace such as "1h 30m", and very large values like "9999h".',
  'Summary of the meeting on March 3rd: attendance was 14 people (9 in the room, 5 remote). Q1 revenue came in at ' +
    '$4.2M, 6% above plan, driven mostly by the mid-market segment; churn held steady at 2.1%. The product team ' +
    'presented the roadmap for Q2: the new onboarding flow (target launch April 15), usage-based billing in beta by ' +
    'May, and the mobile app refresh pushed to Q3 because of the iOS 17 changes. Action items: Priya will draft the ' +
    'pricing FAQ by Friday; Marcus owns the security review for the SSO integration; the data team will deliver the ' +
    'cohort analysis (weeks 1-12) before the next sync. Open questions: whether to sunset the legacy API v1 in June ' +
    'or September, and how to staff the support rotation over the summer holidays. Next meeting: Tuesday 10:30-11:15 ' +
    'in room 4B. Decisions are tracked in the shared doc under section 3.2, and everybody should add comments there ' +
    'rather than in the chat so the history stays in one place; the notes will be circulated by end of day.',
  'Step-by-step, here is how to fix the "permission denied" error when running the script on Linux. 1) Check the ' +
    'file mode with `ls -l deploy.sh`; you should see something like -rw-r--r--. 2) Make it executable: `chmod +x ' +
    'deploy.sh` (mode 755). 3) If it lives on a mounted drive, confirm the mount is not noexec by running `mount | ' +
    'grep /mnt/data`. 4) Run it again with `./deploy.sh --env=staging --retries=3`. If you still see the error, the ' +
    'shebang may point to a missing interpreter: the first line should be #!/usr/bin/env bash, not #!/bin/bash5. On ' +
    'macOS 14.4 the behaviour is the same, but Gatekeeper may also quarantine downloaded files; clear that with ' +
    '`xattr -d com.apple.quarantine deploy.sh`. As a last resort, run it through the interpreter directly — `bash ' +
    'deploy.sh` — which ignores the execute bit entirely. This usually takes under 5 minutes to sort out, and the ' +
    'same checks apply to any script in the repository, including the ones under tools/ and scripts/ci/.',
  'Photosynthesis converts light energy into chemical energy stored in glucose. The overall reaction is 6CO2 + 6H2O ' +
    '→ C6H12O6 + 6O2, and it happens in two stages. In the light-dependent reactions, which take place in the ' +
    'thylakoid membranes, chlorophyll absorbs mostly blue (around 430-450 nm) and red (640-680 nm) light; water is ' +
    'split, releasing oxygen, and the energy is captured as ATP and NADPH. In the Calvin cycle, in the stroma, the ' +
    'enzyme RuBisCO fixes CO2 into a 3-carbon compound; it takes 3 turns of the cycle to export one G3P molecule, ' +
    'and 6 turns to build one glucose. Efficiency is low: typical crops convert only 1-2% of incoming sunlight into ' +
    'biomass, though the theoretical maximum is closer to 11%. C4 plants such as maize and sugarcane concentrate CO2 ' +
    'around RuBisCO, which reduces photorespiration in hot, dry conditions. A common exam question asks why leaves ' +
    'look green: chlorophyll reflects green wavelengths (roughly 500-560 nm) instead of absorbing them.',
];

const PII_TAILS: readonly string[] = [
  ' Contact jane.doe@example.com or call +1 (415) 555-2671 if the rollback fails.',
  ' The invoice was paid with 4111 1111 1111 1111; the refund goes to IBAN GB82 WEST 1234 5698 7654 32.',
  ' Set OPENAI_API_KEY=sk-proj-Tq3vB8xR2mK9pL4nW7cY1zH6jF5dS0aE and AWS id AKIA2E0A8F3B244C9986 in .env.',
  ' Record: John Roe, SSN 123-45-6789, phone 415-555-2671, email j.roe@example.org.',
  ' The server at 192.168.1.42 and 2001:db8::1 rejected token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U.',
  ' Call +44 20 7946 0958 or write to support@example.co.uk; backup card 5555-5555-5555-4444.',
];

function withTail(text: string, tail: string): string {
  return text.slice(0, Math.max(0, text.length - tail.length)) + tail;
}

const WORDISH = new Uint8Array(128);
for (let c = 48; c < 123; c++) WORDISH[c] = 1;

/** The reference loop: reads every char code through a class table, detects nothing. */
function readLoop(text: string): number {
  let words = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && WORDISH[c] !== 0) words++;
  }
  return words > 0 ? 0 : 1;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

interface Case {
  readonly scan: (text: string) => number;
  readonly texts: readonly string[];
  readonly rates: number[];
  scans: number;
}

function timeSlice(c: Case, seconds: number): number {
  let sink = 0;
  let scans = 0;
  const start = process.cpuUsage();
  let cpu = 0;
  while (cpu < seconds) {
    for (let i = 0; i < 500; i++) sink += c.scan(c.texts[(c.scans + i) % c.texts.length]);
    scans += 500;
    c.scans += 500;
    cpu = cpuSeconds(start);
  }
  c.rates.push(scans / cpu);
  return sink;
}

function summary(c: Case): PiiBenchCase {
  let findings = 0;
  for (const t of c.texts) findings += c.scan(t);
  const meanChars = c.texts.reduce((a, t) => a + t.length, 0) / c.texts.length;
  const sorted = [...c.rates].sort((x, y) => x - y);
  const best = sorted[sorted.length - 1];
  return {
    scansPerSecond: best,
    medianScansPerSecond: sorted[Math.floor(sorted.length / 2)],
    charsPerSecond: best * meanChars,
    meanChars,
    findingsPerText: findings / c.texts.length,
  };
}

/** Measures {@link PiiScanner.scan} throughput on ~1 KB clean and PII-bearing texts. */
export async function runPiiBench(opts: PiiBenchOptions): Promise<PiiBenchResult> {
  const scanner = new PiiScanner();
  const previous = new PreviousPiiScanner();
  const flat = (t: string): string => Buffer.from(t, 'utf8').toString('utf8');
  const clean = CLEAN_PARAGRAPHS.map((p) => flat(p.slice(0, 1024)));
  const pii = clean.map((p, i) => flat(withTail(p, PII_TAILS[i % PII_TAILS.length])));
  const rng = new SeededRandom(3);
  const answers = Array.from({ length: 64 }, () => flat(answerText(rng, 950, false)));
  const scan = (text: string): number => scanner.scan(text).total;
  const scanPrevious = (text: string): number => previous.scan(text).total;
  const cases: Case[] = [
    { scan, texts: clean, rates: [], scans: 0 },
    { scan, texts: pii, rates: [], scans: 0 },
    { scan: readLoop, texts: clean, rates: [], scans: 0 },
    { scan, texts: answers, rates: [], scans: 0 },
    { scan: scanPrevious, texts: clean, rates: [], scans: 0 },
    { scan: scanPrevious, texts: pii, rates: [], scans: 0 },
    { scan: scanPrevious, texts: answers, rates: [], scans: 0 },
  ];
  // Warm-up, then short slices taken in turn, so that load on a shared machine hits every case alike.
  let sink = 0;
  for (const c of cases) for (let i = 0; i < 20_000; i++) sink += c.scan(c.texts[i % c.texts.length]);
  const rounds = opts.quick ? 3 : 40;
  for (let r = 0; r < rounds; r++) for (const c of cases) sink += timeSlice(c, 0.05);
  if (sink < 0) console.log(sink);
  return {
    quick: opts.quick,
    clean: summary(cases[0]),
    pii: summary(cases[1]),
    readLoop: summary(cases[2]),
    answers: summary(cases[3]),
    previous: { clean: summary(cases[4]), pii: summary(cases[5]), answers: summary(cases[6]) },
    environment: { node: process.version, cpus: os.cpus().length, loadAvg1m: os.loadavg()[0] },
  };
}

function si(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

/** Formats a {@link PiiBenchResult} as a markdown table. */
export function formatPiiBench(r: PiiBenchResult): string {
  const row = (name: string, c: PiiBenchCase): string =>
    `| ${name} | ${si(c.scansPerSecond)} | ${si(c.medianScansPerSecond)} | ${si(c.charsPerSecond)} | ${c.meanChars.toFixed(0)} | ${c.findingsPerText.toFixed(2)} |`;
  return [
    '| texts | scans/s (best) | scans/s (median) | chars/s (best) | mean chars | findings/text |',
    '|---|---|---|---|---|---|',
    row('~1 KB, no PII', r.clean),
    row('~1 KB, with PII', r.pii),
    row('demo answers, ~950 chars', r.answers),
    row('previous implementation: ~1 KB, no PII', r.previous.clean),
    row('previous implementation: ~1 KB, with PII', r.previous.pii),
    row('previous implementation: demo answers', r.previous.answers),
    row('reference: read-only loop, ~1 KB', r.readLoop),
    '',
    `This / previous implementation (best slices): clean ${(r.clean.scansPerSecond / r.previous.clean.scansPerSecond).toFixed(2)}×, ` +
      `with PII ${(r.pii.scansPerSecond / r.previous.pii.scansPerSecond).toFixed(2)}×, demo answers ${(r.answers.scansPerSecond / r.previous.answers.scansPerSecond).toFixed(2)}×. ` +
      `Read-only loop / scanner on clean texts: ${(r.readLoop.scansPerSecond / r.clean.scansPerSecond).toFixed(2)}. ` +
      `Scans per CPU-second, one core, default options, 50 ms slices taken in turn after a warm-up. Node ${r.environment.node}, ` +
      `${r.environment.cpus} CPUs, 1-min load average ${r.environment.loadAvg1m.toFixed(2)}${r.quick ? ', --quick' : ''}.`,
  ].join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await runPiiBench({ quick: process.argv.includes('--quick') });
  console.log(formatPiiBench(result));
}
