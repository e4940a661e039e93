/** A segment of a key path into a rules file: a mapping key or a list index. */
export type KeyPathSegment = string | number;

/** One problem found in a rules file, as listed in `VigilError.details.issues`. */
export interface RuleIssue {
  /** Key path of the offending value, e.g. `rules[1].threshold`; empty for the whole document. */
  path: string;
  /** What is wrong, without the path. */
  message: string;
  /** 1-based line in the YAML source when known. */
  line?: number;
}

const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a key path the way it reads in JavaScript: `['rules', 1, 'groupBy', 0]` →
 * `rules[1].groupBy[0]`; keys that are not identifiers are bracketed and quoted.
 */
export function formatKeyPath(path: readonly KeyPathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER_RE.test(segment)) out += out === '' ? segment : '.' + segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * The candidate closest to `word` when it is a plausible typo of it (edit distance at most 2, and
 * less than half the word), compared case-insensitively; undefined otherwise.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= 2 && bestDistance * 2 < word.length ? best : undefined;
}

/** Damerau-style distance (insert, delete, substitute, swap adjacent) so `treshold`/`threshold` is 1. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
