/**
 * Static facts about a rule's regular expression, for the prompt-injection scanner's segment
 * shortcut (private helper of `prompt-injection-scanner.ts`): which characters a match can consume,
 * and how far lookarounds can look past a match.
 *
 * The parser covers the syntax the rules use — groups (capturing, non-capturing, named, lookahead,
 * lookbehind), alternation, classes, escapes (`\s`, `\p{L}`, `\uXXXX`…), `.`, `^`, `$`, `\b`,
 * quantifiers (`* + ? {m} {m,} {m,n}`, lazy or not). Anything else (backreferences, flags other than
 * `g` and `u`) makes {@link regexFacts} return undefined, and the scanner then treats the rule as one
 * that may match anywhere: the facts are only ever used to skip work, so "unknown" is always safe.
 */

/** Node of the parsed pattern. */
type Node =
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly alternatives: readonly Node[] }
  | { readonly kind: 'group'; readonly look: boolean; readonly body: Node }
  | { readonly kind: 'repeat'; readonly node: Node; readonly max: number }
  | { readonly kind: 'atom'; readonly source: string }
  | { readonly kind: 'assertion'; readonly source: string };

class Unsupported extends Error {}

function parse(source: string): Node {
  let i = 0;
  const alternation = (): Node => {
    const alternatives = [sequence()];
    while (source[i] === '|') {
      i++;
      alternatives.push(sequence());
    }
    return alternatives.length === 1 ? alternatives[0] : { kind: 'alt', alternatives };
  };
  const sequence = (): Node => {
    const items: Node[] = [];
    while (i < source.length && source[i] !== '|' && source[i] !== ')') {
      let node = atom();
      for (;;) {
        const c = source[i];
        let max: number;
        if (c === '*' || c === '+') {
          max = Infinity;
          i++;
        } else if (c === '?') {
          max = 1;
          i++;
        } else if (c === '{') {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
          if (m === null) throw new Unsupported('brace');
          max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
          i += m[0].length;
        } else break;
        if (source[i] === '?') i++;
        node = { kind: 'repeat', node, max };
      }
      items.push(node);
    }
    return items.length === 1 ? items[0] : { kind: 'seq', items };
  };
  const atom = (): Node => {
    const c = source[i];
    if (c === '(') {
      let look = false;
      if (source.startsWith('(?:', i)) i += 3;
      else if (source.startsWith('(?=', i) || source.startsWith('(?!', i)) {
        look = true;
        i += 3;
      } else if (source.startsWith('(?<=', i) || source.startsWith('(?<!', i)) {
        look = true;
        i += 4;
      } else if (source.startsWith('(?<', i)) {
        const close = source.indexOf('>', i);
        if (close < 0) throw new Unsupported('group name');
        i = close + 1;
      } else if (source.startsWith('(?', i)) throw new Unsupported('group');
      else i++;
      const body = alternation();
      if (source[i] !== ')') throw new Unsupported('unbalanced');
      i++;
      return { kind: 'group', look, body };
    }
    if (c === '[') {
      const start = i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      if (i >= source.length) throw new Unsupported('class');
      i++;
      return { kind: 'atom', source: source.slice(start, i) };
    }
    if (c === '\\') {
      const e = source[i + 1];
      if (e === 'b' || e === 'B') {
        i += 2;
        return { kind: 'assertion', source: `\\${e}` };
      }
      if (e === 'p' || e === 'P') {
        const close = source.indexOf('}', i);
        if (close < 0) throw new Unsupported('property');
        const s = source.slice(i, close + 1);
        i = close + 1;
        return { kind: 'atom', source: s };
      }
      if (e === 'u' || e === 'x') {
        const len = e === 'u' ? 6 : 4;
        const s = source.slice(i, i + len);
        i += len;
        return { kind: 'atom', source: s };
      }
      if (e === undefined || /[1-9k]/.test(e)) throw new Unsupported('backreference');
      i += 2;
      return { kind: 'atom', source: `\\${e}` };
    }
    if (c === '^' || c === '$') {
      i++;
      return { kind: 'assertion', source: c };
    }
    const ch = String.fromCodePoint(source.codePointAt(i) as number);
    i += ch.length;
    return { kind: 'atom', source: ch };
  };
  const node = alternation();
  if (i !== source.length) throw new Unsupported('trailing');
  return node;
}

/** Most UTF-16 units a match of `node` consumes (Infinity when unbounded). */
function maxLength(node: Node): number {
  switch (node.kind) {
    case 'seq':
      return node.items.reduce((sum, item) => sum + maxLength(item), 0);
    case 'alt':
      return Math.max(...node.alternatives.map(maxLength));
    case 'group':
      return node.look ? 0 : maxLength(node.body);
    case 'repeat': {
      const one = maxLength(node.node);
      return one === 0 ? 0 : one * node.max;
    }
    case 'atom':
      return 2; // a code point: at most two UTF-16 units
    case 'assertion':
      return 0;
  }
}

/** The atoms a match can consume (not those inside lookarounds). */
function consumedAtoms(node: Node, out: string[]): void {
  switch (node.kind) {
    case 'seq':
      for (const item of node.items) consumedAtoms(item, out);
      break;
    case 'alt':
      for (const a of node.alternatives) consumedAtoms(a, out);
      break;
    case 'group':
      if (!node.look) consumedAtoms(node.body, out);
      break;
    case 'repeat':
      if (node.max > 0) consumedAtoms(node.node, out);
      break;
    case 'atom':
      out.push(node.source);
      break;
    case 'assertion':
      break;
  }
}

/**
 * How far outside a match (before its start or after its end) the regex may read: the longest
 * lookaround body, nested lookarounds added, and 1 for `\b`.
 */
function reach(node: Node): number {
  switch (node.kind) {
    case 'seq':
      return Math.max(0, ...node.items.map(reach));
    case 'alt':
      return Math.max(0, ...node.alternatives.map(reach));
    case 'group':
      return node.look ? maxLength(node.body) + reach(node.body) : reach(node.body);
    case 'repeat':
      return reach(node.node);
    case 'atom':
      return 0;
    case 'assertion':
      return node.source === '\\b' || node.source === '\\B' ? 1 : 0;
  }
}

/** What {@link regexFacts} knows about a regex. */
export interface RegexFacts {
  /** Whether a match can contain `ch` (one character). */
  canConsume(ch: string): boolean;
  /** How many UTF-16 units before a match's start or after its end the regex may read (Infinity when unbounded). */
  readonly reach: number;
}

/** Facts about `re` (flags `g` and `u` only), or undefined when its syntax is not understood. */
export function regexFacts(re: RegExp): RegexFacts | undefined {
  if (!/^g?u?$/.test(re.flags)) return undefined;
  let ast: Node;
  try {
    ast = parse(re.source);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const atoms: string[] = [];
  consumedAtoms(ast, atoms);
  const flags = re.flags.includes('u') ? 'u' : '';
  // Plain characters compare as they are; classes, escapes and `.` are tried as regexes.
  const literals = new Set<string>();
  const others = new Set<string>();
  for (const a of atoms) {
    if (a === '.' || a.startsWith('[') || (a.startsWith('\\') && /^\\[A-Za-z0-9]/.test(a))) others.add(a);
    else literals.add(a.startsWith('\\') ? a.slice(1) : a);
  }
  const tests = [...others].map((a) => new RegExp(`^(?:${a})$`, flags));
  return {
    canConsume: (ch) => literals.has(ch) || tests.some((t) => t.test(ch)),
    reach: reach(ast),
  };
}
