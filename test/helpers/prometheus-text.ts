/** One sample line of a Prometheus text exposition. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: families by name (with their type and help) and every sample. */
export interface PromExposition {
  families: Map<string, { type: string; help: string }>;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
// As Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case.
const VALUE = /^(nan|[+-]?inf|[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)$/i;

/**
 * Parses the Prometheus text format 0.0.4 strictly, throwing on the first line that breaks it:
 * HELP and TYPE at most once per family and before its samples, metric and label names by the
 * grammar, label values properly quoted and escaped, no label repeated, values as floats (NaN,
 * ±Inf), every sample in a declared family (histogram `_bucket`/`_sum`/`_count`), no series twice,
 * and histogram buckets with an `le` label including `+Inf` (a histogram may have no sample yet).
 */
export function parsePrometheusText(text: string): PromExposition {
  const families = new Map<string, { type: string; help: string }>();
  const samples: PromSample[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name: ${where}`);
      const family = families.get(name) ?? { type: '', help: '' };
      if (samples.some((s) => familyOf(s.name, families) === name)) throw new Error(`${kind} after samples: ${where}`);
      if (kind === 'TYPE') {
        if (family.type !== '') throw new Error(`TYPE twice: ${where}`);
        if (!TYPES.has(rest)) throw new Error(`unknown type: ${where}`);
        family.type = rest;
      } else {
        if (family.help !== '') throw new Error(`HELP twice: ${where}`);
        family.help = rest;
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (family === undefined) throw new Error(`sample of an undeclared family: ${where}`);
    if (families.get(family)?.type === 'histogram' && sample.name === `${family}_bucket` && sample.labels.le === undefined) throw new Error(`bucket without le: ${where}`);
    const id = sample.name + JSON.stringify(Object.entries(sample.labels).sort());
    if (seen.has(id)) throw new Error(`series twice: ${where}`);
    seen.add(id);
    samples.push(sample);
  });
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    if (buckets.length > 0 && !buckets.some((b) => b.labels.le === '+Inf')) throw new Error(`histogram ${name} has no +Inf bucket`);
  }
  return { families, samples };
}

function familyOf(sampleName: string, families: Map<string, { type: string }>): string | undefined {
  if (families.has(sampleName)) return sampleName;
  for (const suffix of ['_bucket', '_sum', '_count', '_total']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || type === 'summary' || (suffix === '_total' && type === 'counter')) return base;
  }
  return undefined;
}

function parseSample(line: string, where: string): PromSample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`no value: ${where}`);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new Error(`bad metric name: ${where}`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) throw new Error(`bad labels: ${where}`);
      const label = line.slice(i, eq);
      if (!LABEL_NAME.test(label)) throw new Error(`bad label name ${label}: ${where}`);
      if (label in labels) throw new Error(`label ${label} twice: ${where}`);
      if (line[eq + 1] !== '"') throw new Error(`unquoted label value: ${where}`);
      let j = eq + 2;
      let value = '';
      for (;;) {
        const c = line[j];
        if (c === undefined) throw new Error(`unterminated label value: ${where}`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[j + 1];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`bad escape: ${where}`);
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      labels[label] = value;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`bad label separator: ${where}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`no space before the value: ${where}`);
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || !VALUE.test(parts[0]) || (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))) throw new Error(`bad value: ${where}`);
  const v = parts[0].toLowerCase();
  const value = v === 'nan' ? NaN : v === '+inf' || v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
  return { name, labels, value };
}
