/**
 * Aho–Corasick keyword automata over folded text for the prompt-injection scanner's fast path
 * (private helper of `prompt-injection-scanner.ts`).
 *
 * Keywords are folded with the same table as the text (`injection-normalize.ts`) and the text is
 * read as a **token stream**: a character no keyword contains reads as a space, runs of spaces read
 * as one, characters the fold skips (zero-width, combining marks) are not there, and every
 * punctuation character reads as if surrounded by spaces. Keywords are turned into the same stream,
 * so `" ignore"` means "ignore at a word start" after any punctuation, and `system:` also matches
 * `system :`. Skipping and space-collapsing are self-loops of the transition table.
 *
 * Two automata keep the dense tables small: one over keywords made of ASCII characters (run on every
 * text), one over the others — Cyrillic, Chinese, Japanese, Korean — run only when the first pass
 * met one of their characters.
 *
 * **The text loop** (`KeywordPrefilter.run`) is what every span pays for, so it does as little as
 * a character allows: one table read for the character's symbol (and its input to the run
 * tracker), one step of the keyword automaton — premultiplied transitions, punctuation's
 * space-mark-space taken in one step, accepting states numbered last — and one step of the *run
 * tracker*, a small DFA for spaced-out letters, long letter runs and unusual characters; where a
 * keyword ended it notes the position and state. The two steps are independent dependency chains,
 * and texts of a few hundred characters and more are read as two halves at once (four chains), the
 * second half's keyword automaton catching up with the first within a few characters of the split.
 * What the noted keywords mean is worked out after the loop, and only as far as needed: each rule
 * has a *primary* anchor group (its rarest in ordinary text), and a rule whose primary group the
 * text lacks cannot be eligible — for most texts that ends the work. The tables live in one closure
 * per process, which V8 specialises to them.
 */
import { CF_OPAQUE, CF_TRIGGER, CHAR_FLAGS, FOLD, FOLD_SKIP, foldString } from './injection-normalize.js';

/** Symbol of whitespace and of every character no keyword contains. */
export const SYM_SPACE = 0;
/** Symbol of characters the fold skips (a self-loop in every state). */
export const SYM_SKIP = 1;

/** One keyword and what it is evidence for. */
export interface AutomatonKeyword {
  readonly text: string;
  /** Rule index. */
  readonly rule: number;
  /** Anchor group of the rule (0..7). */
  readonly group: number;
}

function isWordChar(c: number): boolean {
  return /[\p{L}\p{N}]/u.test(String.fromCharCode(c));
}

/** A compiled keyword automaton. */
export class KeywordAutomaton {
  /** Symbol of each UTF-16 unit. */
  readonly symbols: Uint16Array;
  /** Symbols at or above this are punctuation (read as space, symbol, space) or special. */
  readonly punctBase: number;
  /** Symbol of characters that belong to the other automaton (narrow automaton only; else -1). */
  readonly wideSymbol: number;
  /** Symbol of characters the fold cannot represent: run every rule (narrow automaton only; else -1). */
  readonly triggerSymbol: number;
  /** Number of symbols (row width of {@link next}). */
  readonly width: number;
  /** Next state: `next[state * width + symbol]`. */
  readonly next: Uint16Array | Uint32Array;
  /** States at or above this complete at least one keyword. */
  readonly acceptBase: number;
  /** Where the outputs of state `s` start in {@link outputs} (they end where those of `s + 1` start). */
  readonly outputStart: Int32Array;
  /** Keywords completed per state, each `rule << 3 | group`. */
  readonly outputs: Int32Array;
  /** Number of states. */
  readonly stateCount: number;
  /** State after the virtual space before the text. */
  readonly start: number;

  /**
   * @param keywords the keywords of this automaton.
   * @param other the characters of the other automaton's keywords, read as one special symbol here
   *   (pass undefined for the wide automaton).
   */
  constructor(keywords: readonly AutomatonKeyword[], other?: ReadonlySet<number>) {
    const folded = keywords.map((k) => foldString(k.text));
    const letters = new Set<number>();
    const puncts = new Set<number>();
    for (const f of folded) {
      for (let i = 0; i < f.length; i++) {
        const c = f.charCodeAt(i);
        if (c === 32) continue;
        if (isWordChar(c)) letters.add(c);
        else puncts.add(c);
      }
    }
    const symbolOf = new Map<number, number>();
    for (const c of [...letters].sort((a, b) => a - b)) symbolOf.set(c, symbolOf.size + 2);
    this.punctBase = symbolOf.size + 2;
    for (const c of [...puncts].sort((a, b) => a - b)) symbolOf.set(c, symbolOf.size + 2);
    let width = symbolOf.size + 2;
    this.wideSymbol = other === undefined ? -1 : width++;
    this.triggerSymbol = other === undefined ? -1 : width++;
    this.width = width;
    this.symbols = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const f = FOLD[c];
      let sym = f === FOLD_SKIP ? SYM_SKIP : (symbolOf.get(f) ?? SYM_SPACE);
      if (other !== undefined && sym === SYM_SPACE) {
        if ((CHAR_FLAGS[c] & CF_TRIGGER) !== 0) sym = this.triggerSymbol;
        else if (other.has(f)) sym = this.wideSymbol;
      }
      this.symbols[c] = sym;
    }

    // Keywords as token streams, then a trie.
    const children: Map<number, number>[] = [new Map<number, number>()];
    const own: Set<number>[] = [new Set()];
    const endsWithSpace: boolean[] = [false];
    folded.forEach((f, k) => {
      const stream = this.stream(f, symbolOf);
      if (stream.length === 0) return;
      let s = 0;
      for (const sym of stream) {
        let t = children[s].get(sym);
        if (t === undefined) {
          t = children.length;
          children.push(new Map<number, number>());
          own.push(new Set());
          endsWithSpace.push(sym === SYM_SPACE);
          children[s].set(sym, t);
        }
        s = t;
      }
      own[s].add((keywords[k].rule << 3) | keywords[k].group);
    });
    const n = children.length;
    this.stateCount = n;

    // Failure links, breadth first; outputs merged along them.
    const fail = new Int32Array(n);
    const delta = new Int32Array(n * width);
    const order: number[] = [];
    for (let sym = 0; sym < width; sym++) {
      const t = children[0].get(sym);
      delta[sym] = t ?? 0;
      if (t !== undefined) order.push(t);
    }
    for (let q = 0; q < order.length; q++) {
      const s = order[q];
      for (const o of own[fail[s]]) own[s].add(o);
      for (let sym = 0; sym < width; sym++) {
        const t = children[s].get(sym);
        if (t !== undefined) {
          fail[t] = delta[fail[s] * width + sym];
          order.push(t);
          delta[s * width + sym] = t;
        } else delta[s * width + sym] = delta[fail[s] * width + sym];
      }
    }
    for (let s = 0; s < n; s++) {
      delta[s * width + SYM_SKIP] = s;
      // A second space changes nothing in the token stream.
      if (endsWithSpace[s]) delta[s * width + SYM_SPACE] = s;
    }

    // Renumber: non-accepting states first (root stays 0), accepting states last.
    const id = new Int32Array(n);
    let nextId = 0;
    for (let s = 0; s < n; s++) if (own[s].size === 0) id[s] = nextId++;
    this.acceptBase = nextId;
    for (let s = 0; s < n; s++) if (own[s].size > 0) id[s] = nextId++;
    const next = n < 65536 ? new Uint16Array(n * width) : new Uint32Array(n * width);
    for (let s = 0; s < n; s++) for (let sym = 0; sym < width; sym++) next[id[s] * width + sym] = id[delta[s * width + sym]];
    this.next = next;
    this.start = next[SYM_SPACE];

    const byId: Set<number>[] = new Array<Set<number>>(n);
    for (let s = 0; s < n; s++) byId[id[s]] = own[s];
    this.outputStart = new Int32Array(n + 1);
    let total = 0;
    for (let s = 0; s < n; s++) {
      this.outputStart[s] = total;
      total += byId[s].size;
    }
    this.outputStart[n] = total;
    this.outputs = new Int32Array(total);
    for (let s = 0, p = 0; s < n; s++) for (const o of byId[s]) this.outputs[p++] = o;
  }

  /** A folded keyword as the token stream the text loop produces. */
  private stream(folded: string, symbolOf: Map<number, number>): number[] {
    const out: number[] = [];
    const space = (): void => {
      if (out.length === 0 || out[out.length - 1] !== SYM_SPACE) out.push(SYM_SPACE);
    };
    for (let i = 0; i < folded.length; i++) {
      const sym = symbolOf.get(folded.charCodeAt(i)) ?? SYM_SPACE;
      if (sym === SYM_SPACE) space();
      else if (sym >= this.punctBase) {
        space();
        out.push(sym);
        space();
      } else out.push(sym);
    }
    return out;
  }
}

/** The two automata of a keyword set: ASCII-only keywords, and the others. */
export interface KeywordAutomata {
  readonly narrow: KeywordAutomaton;
  readonly wide: KeywordAutomaton;
}

/** Builds the narrow automaton (ASCII keywords) and the wide one (the rest). */
export function buildAutomata(keywords: readonly AutomatonKeyword[]): KeywordAutomata {
  const isWide = (k: AutomatonKeyword): boolean => [...foldString(k.text)].some((ch) => ch.charCodeAt(0) >= 128);
  const wideKeywords = keywords.filter(isWide);
  const wideChars = new Set<number>();
  for (const k of wideKeywords) {
    const f = foldString(k.text);
    for (let i = 0; i < f.length; i++) if (f.charCodeAt(i) >= 128) wideChars.add(f.charCodeAt(i));
  }
  const narrow = new KeywordAutomaton(
    keywords.filter((k) => !isWide(k)),
    wideChars,
  );
  return { narrow, wide: new KeywordAutomaton(wideKeywords) };
}

/** {@link KeywordPrefilter.run} trigger: four or more one-letter tokens evenly spaced ("i g n o r e"). */
export const T_SPACED = 1;
/** {@link KeywordPrefilter.run} trigger: a run of at least {@link LONG_TOKEN} letters and digits (base64, hex). */
export const T_LONG_TOKEN = 2;
/** {@link KeywordPrefilter.run} trigger: characters the fold cannot represent (mathematical letters, tag characters). */
export const T_UNREPRESENTABLE = 4;
/** A run of this many letters and digits may be a base64 or hex payload. */
export const LONG_TOKEN = 20;
// This many one-letter tokens in a row, at the same distance, are spaced-out letters.
const SPACED_LETTERS = 4;
// One-letter tokens further apart than this are not spaced-out letters.
const SPACED_MAX_DISTANCE = 4;

/** {@link KeywordPrefilter.unusual}: a character of the wide automaton (Cyrillic, CJK, Hangul) was read. */
export const U_WIDE = 1;
/** {@link KeywordPrefilter.unusual}: an opaque character (see `CF_OPAQUE`) was read. */
export const U_OPAQUE = 2;
/** {@link KeywordPrefilter.unusual}: a marker keyword was read. */
export const U_MARKER = 4;

/** {@link KeywordPrefilter.eligibility}: no rule is eligible. */
export const E_NONE = 0;
/** {@link KeywordPrefilter.eligibility}: some rules are eligible, none of the flagged ones. */
export const E_SOME = 1;
/** {@link KeywordPrefilter.eligibility}: a flagged rule is eligible. */
export const E_FLAGGED = 2;

/** {@link RunTracker} input: a letter, or a character the fold skips. */
const IN_LETTER = 0;
/** {@link RunTracker} input: space or punctuation (ends a run of letters). */
const IN_BREAK = 1;
/** {@link RunTracker} input: a character of the wide automaton (a break too). */
const IN_WIDE = 2;
/** {@link RunTracker} input: a character the fold cannot represent (a break too). */
const IN_TRIGGER = 3;
/** {@link RunTracker} input: an opaque character (a break too). */
const IN_OPAQUE = 4;
// Inputs per state, rounded up to a power of two.
const RUN_INPUTS = 8;
// Characters per call of the text loop (hit buffers grow by at most this much at a time).
const LOOP_CHUNK = 1 << 16;
// Texts at least this long go through the text loop in two pieces at once (collectPair). (Four
// pieces at once measured slower: more state than registers.)
const SPLIT_MIN = 256;
// How far past the split the first chain may go before it agrees with the second.
const SYNC_SPAN = 32;
// KeywordPrefilter.collect() returns U_* flags shifted left by this much, next to the T_* triggers.
const FLAG_SHIFT = 4;

/**
 * What the text loop needs besides keywords — {@link T_SPACED}, {@link T_LONG_TOKEN}, and whether
 * wide, unrepresentable or opaque characters occurred — as a small DFA over one input per
 * character (letter, break, or one of the three special breaks), run next to the keyword
 * automaton as a second, independent dependency chain. Its state stands for: the length of the
 * current run of letters (capped at {@link LONG_TOKEN}); how many one-letter tokens came in a row at
 * the same distance, and that distance; the distance back to the last one-letter token (capped past
 * {@link SPACED_MAX_DISTANCE}); and the flags set so far. Whenever a run of letters ends, a
 * one-letter run at the same distance ≤ 4 from the previous one counts one more, any other
 * one-letter run counts as the first, and a longer run resets the count; the fourth in a row sets
 * {@link T_SPACED}. A run of letters reaching {@link LONG_TOKEN} sets {@link T_LONG_TOKEN}.
 */
class RunTracker {
  /** Next state, premultiplied by {@link RUN_INPUTS}: `next[state + input]`. */
  readonly next: Int32Array;
  /** `T_*` triggers of each state (indexed by state / RUN_INPUTS). */
  readonly trig: Uint8Array;
  /** `U_WIDE | U_OPAQUE` flags of each state (indexed by state / RUN_INPUTS). */
  readonly unusual: Uint8Array;
  /** Premultiplied start state. */
  readonly start = 0;

  constructor() {
    // Abstract state: run (0..LONG_TOKEN), singles (0..3), last distance (0 = none, 2..4),
    // distance back to the last one-letter token (1..5, 5 = too far), T_* triggers, U_* flags.
    const FAR = SPACED_MAX_DISTANCE + 1;
    type S = [run: number, singles: number, last: number, gap: number, trig: number, unusual: number];
    const canon = ([run, singles, last, gap, trig, unusual]: S): S => {
      if ((trig & T_SPACED) !== 0) [singles, last, gap] = [0, 0, FAR];
      if ((trig & T_LONG_TOKEN) !== 0) run = Math.min(run, 2);
      return [run, singles, last, gap, trig, unusual];
    };
    const step = ([run, singles, last, gap, trig, unusual]: S, input: number): S => {
      if (input === IN_LETTER) {
        run = Math.min(run + 1, LONG_TOKEN);
        if (run === LONG_TOKEN) trig |= T_LONG_TOKEN;
        return canon([run, singles, last, Math.min(gap + 1, FAR), trig, unusual]);
      }
      if (input === IN_WIDE) unusual |= U_WIDE;
      else if (input === IN_TRIGGER) trig |= T_UNREPRESENTABLE;
      else if (input === IN_OPAQUE) unusual |= U_OPAQUE;
      if (run === 1) {
        const d = gap <= SPACED_MAX_DISTANCE ? gap : 0;
        if (d !== 0 && d === last) {
          if (++singles === SPACED_LETTERS) trig |= T_SPACED;
        } else singles = 1;
        return canon([0, singles, d, 1, trig, unusual]);
      }
      // After a longer run the next one-letter token is at least 5 characters from the last one.
      if (run > 1) return canon([0, 0, 0, FAR, trig, unusual]);
      return canon([0, singles, last, Math.min(gap + 1, FAR), trig, unusual]);
    };
    const ids = new Map<string, number>();
    const states: S[] = [];
    const idOf = (st: S): number => {
      const key = st.join(',');
      let id = ids.get(key);
      if (id === undefined) {
        id = states.length;
        ids.set(key, id);
        states.push(st);
      }
      return id;
    };
    idOf([0, 0, 0, FAR, 0, 0]);
    const next: number[] = [];
    for (let k = 0; k < states.length; k++) {
      for (let input = 0; input < RUN_INPUTS; input++) {
        next.push(input <= IN_OPAQUE ? idOf(step(states[k], input)) * RUN_INPUTS : 0);
      }
    }
    this.next = Int32Array.from(next);
    this.trig = Uint8Array.from(states, (st) => st[4]);
    this.unusual = Uint8Array.from(states, (st) => st[5]);
  }

  /** Triggers once the text ends in premultiplied state `state` (the end reads as one more break). */
  finalTriggers(state: number): number {
    return this.trig[this.next[state + IN_BREAK] / RUN_INPUTS];
  }
}

/**
 * The narrow automaton recompiled for the text loop. Symbols are renumbered (letters and skipped
 * characters first, then space, punctuation and the special symbols, which all end a run of
 * letters); transitions are premultiplied by the row width, so a step is `trans[state + symbol]`
 * with no multiplication on the dependency chain; and punctuation, which the token stream reads as
 * space, mark, space, takes one step. When one of the two intermediate states of such a step
 * completes a keyword, the step leads to a *proxy* of its target: a copy of the target's row whose
 * outputs are those of all three states, in order. Three extra columns of every row hold where the
 * state's *primary* outputs are (see {@link KeywordPrefilter}) and which rules its outputs name, so
 * what follows the text loop reads them without dividing by the row width.
 */
class FastAutomaton {
  /** Fast symbol of every UTF-16 unit (low {@link SYMBOL_BITS} bits), with its {@link RunTracker} input above them. */
  readonly code: Uint16Array;
  /** Row width: the fast symbols, then the two primary-output columns and the rule column. */
  readonly width: number;
  /** Fast symbol of a space. */
  readonly space: number;
  /** Column of a row holding where its state's primary outputs start in {@link primary} (the next column: where they end). */
  readonly primaryColumn: number;
  /** Column of a row holding the bits `1 << (rule & 31)` of the rules among its state's outputs. */
  readonly ruleColumn: number;
  /** Next state, premultiplied: `trans[state + symbol]` where states are multiples of {@link width}. */
  readonly trans: Int32Array;
  /** Premultiplied states at or above this complete at least one keyword. */
  readonly acceptFrom: number;
  /** Premultiplied states at or above this complete a keyword of a primary group or a marker (see {@link setPrimary}). */
  primaryFrom: number;
  /** Premultiplied state after the virtual space before the text. */
  start: number;
  /** Outputs of state `k` (not premultiplied): `outputs[outStart[k] .. outStart[k + 1])`. */
  readonly outStart: Int32Array;
  readonly outputs: Int32Array;
  /** Primary outputs (and markers) of all states, each state's at the range its row's primary columns give. */
  primary = new Int32Array(0);
  /** The text loop over these tables (see {@link makeLoop}). */
  readonly loop: TextLoop;
  /** The text loop over two parts of a text at once (see {@link makeDualLoop}). */
  readonly dualLoop: DualLoop;

  constructor(auto: KeywordAutomaton) {
    const letters = auto.punctBase - 2;
    const puncts = (auto.wideSymbol >= 0 ? auto.wideSymbol : auto.width) - auto.punctBase;
    const skip = letters;
    const space = letters + 1;
    const special = space + 1 + puncts;
    const wideSym = special;
    const triggerSym = special + 1;
    const opaqueSym = special + 2;
    if (opaqueSym > SYMBOL_MASK) throw new Error(`too many keyword symbols (${opaqueSym + 1})`);
    this.space = space;
    this.primaryColumn = special + 3;
    this.ruleColumn = special + 5;
    const width = special + 6;
    this.width = width;
    // Automaton symbol → fast symbol.
    const remap = new Int32Array(auto.width);
    remap[SYM_SPACE] = space;
    remap[SYM_SKIP] = skip;
    for (let y = 2; y < auto.punctBase; y++) remap[y] = y - 2;
    for (let y = auto.punctBase; y < auto.punctBase + puncts; y++) remap[y] = space + 1 + (y - auto.punctBase);
    if (auto.wideSymbol >= 0) remap[auto.wideSymbol] = wideSym;
    if (auto.triggerSymbol >= 0) remap[auto.triggerSymbol] = triggerSym;
    const input = (y: number): number =>
      y < space ? IN_LETTER : y === wideSym ? IN_WIDE : y === triggerSym ? IN_TRIGGER : y === opaqueSym ? IN_OPAQUE : IN_BREAK;
    this.code = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const a = auto.symbols[c];
      // Opaque characters read as a space, like every character no keyword contains; their own
      // symbol only lets the run tracker notice them.
      const y = a === SYM_SPACE && (CHAR_FLAGS[c] & CF_OPAQUE) !== 0 ? opaqueSym : remap[a];
      this.code[c] = y | (input(y) << SYMBOL_BITS);
    }

    const n = auto.stateCount;
    const lw = auto.width;
    const next = auto.next;
    const { outputStart, outputs, acceptBase } = auto;
    const outputsOf = (s: number): number[] => Array.from(outputs.subarray(outputStart[s], outputStart[s + 1]));
    // Proxies are numbered after the n states; a proxy has its target's row.
    const proxyTargets: number[] = [];
    const proxyOutputs: number[][] = [];
    const proxyOf = new Map<string, number>();
    // The punctuation steps depend only on the state after the first space: one row per such state.
    const composite = new Int32Array(n * puncts).fill(-1);
    for (let q = 0; q < n; q++) {
      const s1 = next[q * lw + SYM_SPACE];
      if (composite[s1 * puncts] >= 0) continue;
      for (let k = 0; k < puncts; k++) {
        const s2 = next[s1 * lw + auto.punctBase + k];
        const s3 = next[s2 * lw + SYM_SPACE];
        let target = s3;
        if (s1 >= acceptBase || s2 >= acceptBase) {
          const outs: number[] = [];
          for (const o of [...outputsOf(s1), ...outputsOf(s2), ...outputsOf(s3)]) if (!outs.includes(o)) outs.push(o);
          const own = outputsOf(s3);
          if (outs.length !== own.length || outs.some((o, i) => o !== own[i])) {
            const key = `${s3}:${outs.join(',')}`;
            let proxy = proxyOf.get(key);
            if (proxy === undefined) {
              proxy = n + proxyOutputs.length;
              proxyOf.set(key, proxy);
              proxyOutputs.push(outs);
              proxyTargets.push(s3);
            }
            target = proxy;
          }
        }
        composite[s1 * puncts + k] = target;
      }
    }
    const total = n + proxyOutputs.length;
    const trans = new Int32Array(total * width);
    const outStart = new Int32Array(total + 1);
    const all: number[] = [];
    for (let q = 0; q < total; q++) {
      const r = q < n ? q : proxyTargets[q - n];
      const base = q * width;
      const toSpace = next[r * lw + SYM_SPACE] * width;
      for (let y = 2; y < auto.punctBase; y++) trans[base + y - 2] = next[r * lw + y] * width;
      trans[base + skip] = base; // skipped characters leave the state as it is
      trans[base + space] = toSpace;
      const s1 = next[r * lw + SYM_SPACE];
      for (let k = 0; k < puncts; k++) trans[base + space + 1 + k] = composite[s1 * puncts + k] * width;
      trans[base + wideSym] = toSpace;
      trans[base + triggerSym] = toSpace;
      trans[base + opaqueSym] = toSpace;
      outStart[q] = all.length;
      let rules = 0;
      if (q < n) {
        for (let p = outputStart[q]; p < outputStart[q + 1]; p++) {
          all.push(outputs[p]);
          rules |= 1 << ((outputs[p] >> 3) & 31);
        }
      } else {
        for (const o of proxyOutputs[q - n]) {
          all.push(o);
          rules |= 1 << ((o >> 3) & 31);
        }
      }
      trans[base + this.ruleColumn] = rules;
    }
    outStart[total] = all.length;
    this.trans = trans;
    // Accepting states are numbered last in the automaton; proxies all accept and come after them.
    this.acceptFrom = acceptBase * width;
    this.primaryFrom = this.acceptFrom;
    this.start = auto.start * width;
    this.outStart = outStart;
    this.outputs = Int32Array.from(all);
    this.loop = makeLoop(this.code, trans, RUN_TRACKER.next);
    this.dualLoop = makeDualLoop(this.code, trans, RUN_TRACKER.next);
  }

  /**
   * Marks the primary outputs (those for which `isPrimary` holds): fills the primary columns and
   * renumbers the states — accepting ones after the others as before, those with a primary output
   * last, from {@link primaryFrom} on; within each of the three, the states `sample` visits most
   * first, so that the rows ordinary text keeps reading lie together (fewer cache lines and pages).
   */
  setPrimary(isPrimary: (output: number) => boolean, sample: string): void {
    const { width, primaryColumn } = this;
    const total = this.outStart.length - 1;
    const acceptBase = this.acceptFrom / width;
    const old = { trans: this.trans.slice(), outStart: this.outStart.slice(), outputs: this.outputs.slice() };
    const hasPrimary = (q: number): boolean => {
      for (let p = old.outStart[q]; p < old.outStart[q + 1]; p++) if (isPrimary(old.outputs[p])) return true;
      return false;
    };
    const visits = new Int32Array(total);
    for (let i = 0, s = this.start; i < sample.length; i++) {
      s = old.trans[s + (this.code[sample.charCodeAt(i)] & SYMBOL_MASK)];
      visits[s / width]++;
    }
    const byVisits = (list: number[]): number[] => list.sort((a, b) => visits[b] - visits[a] || a - b);
    const nonAccepting: number[] = [];
    const plain: number[] = [];
    const withPrimary: number[] = [];
    for (let q = 0; q < total; q++) (q < acceptBase ? nonAccepting : hasPrimary(q) ? withPrimary : plain).push(q);
    const order = [...byVisits(nonAccepting), ...byVisits(plain)];
    const primaryBase = order.length;
    order.push(...byVisits(withPrimary));
    const rank = new Int32Array(total);
    order.forEach((q, k) => (rank[q] = k));
    const primary: number[] = [];
    let at = 0;
    order.forEach((q, k) => {
      for (let y = 0; y < primaryColumn; y++) this.trans[k * width + y] = rank[old.trans[q * width + y] / width] * width;
      this.trans[k * width + this.ruleColumn] = old.trans[q * width + this.ruleColumn];
      this.outStart[k] = at;
      this.trans[k * width + primaryColumn] = primary.length;
      for (let p = old.outStart[q]; p < old.outStart[q + 1]; p++) {
        this.outputs[at++] = old.outputs[p];
        if (isPrimary(old.outputs[p])) primary.push(old.outputs[p]);
      }
      this.trans[k * width + primaryColumn + 1] = primary.length;
    });
    this.primary = Int32Array.from(primary);
    this.primaryFrom = primaryBase * width;
    this.start = rank[this.start / width] * width;
  }
}

/** Whether `c` ends a segment: `.` or `?`. */
function isBarrier(c: number): boolean {
  return c === 46 || c === 63;
}

// Bits of FastAutomaton.code that hold the fast symbol.
const SYMBOL_BITS = 8;
const SYMBOL_MASK = (1 << SYMBOL_BITS) - 1;

/**
 * Steps the keyword automaton and the run tracker over `text[from, to)` from `state[0]` and
 * `state[1]` (premultiplied), writes where the automaton entered a state at or above `threshold`
 * (`hitPos`, `hitState`, from index `hits`) and the final states back into `state`, and returns the
 * new number of hits. The caller makes room for one hit per character.
 */
type TextLoop = (text: string, from: number, to: number, threshold: number, hitPos: Int32Array, hitState: Int32Array, hits: number, state: Int32Array) => number;

/**
 * {@link TextLoop} over two parts at once, `text[a, a + length)` (states `stateA`, hits into
 * `hitsA`) and `text[b, b + length)` (states `stateB`, hits into `hitsB`): the two dependency
 * chains overlap, so this takes well under twice the time of one. Hit counts in and out through
 * `counts`.
 */
type DualLoop = (
  text: string,
  a: number,
  b: number,
  length: number,
  threshold: number,
  hitsA: Hits,
  hitsB: Hits,
  stateA: Int32Array,
  stateB: Int32Array,
  counts: Int32Array,
) => void;

/** The {@link DualLoop} as a closure over its tables (see {@link makeLoop}). */
function makeDualLoop(code: Uint16Array, trans: Int32Array, runs: Int32Array): DualLoop {
  return (text, a, b, length, threshold, hitsA, hitsB, stateA, stateB, counts) => {
    let s = stateA[0];
    let run = stateA[1];
    let t = stateB[0];
    let runB = stateB[1];
    let na = counts[0];
    let nb = counts[1];
    const posA = hitsA.pos;
    const statesA = hitsA.state;
    const posB = hitsB.pos;
    const statesB = hitsB.state;
    for (let k = 0; k < length; k++) {
      const i = a + k;
      const j = b + k;
      const v = code[text.charCodeAt(i)];
      const w = code[text.charCodeAt(j)];
      s = trans[s + (v & SYMBOL_MASK)];
      t = trans[t + (w & SYMBOL_MASK)];
      run = runs[run + (v >> SYMBOL_BITS)];
      runB = runs[runB + (w >> SYMBOL_BITS)];
      if (s >= threshold) {
        posA[na] = i;
        statesA[na++] = s;
      }
      if (t >= threshold) {
        posB[nb] = j;
        statesB[nb++] = t;
      }
    }
    stateA[0] = s;
    stateA[1] = run;
    stateB[0] = t;
    stateB[1] = runB;
    counts[0] = na;
    counts[1] = nb;
  };
}

/**
 * The text loop as a closure over its tables: V8 specialises the one closure a process creates to
 * its captured tables (they become constants of the compiled loop), which makes the loop markedly
 * faster than one reading them from an object.
 */
function makeLoop(code: Uint16Array, trans: Int32Array, runs: Int32Array): TextLoop {
  return (text, from, to, threshold, hitPos, hitState, hits, state) => {
    let s = state[0];
    let run = state[1];
    for (let i = from; i < to; i++) {
      const v = code[text.charCodeAt(i)];
      s = trans[s + (v & SYMBOL_MASK)];
      run = runs[run + (v >> SYMBOL_BITS)];
      if (s >= threshold) {
        hitPos[hits] = i;
        hitState[hits++] = s;
      }
    }
    state[0] = s;
    state[1] = run;
    return hits;
  };
}

const RUN_TRACKER = new RunTracker();

interface SharedTables {
  readonly automata: KeywordAutomata;
  readonly fast: FastAutomaton;
  /** Per rule, the bit mask of all its anchor groups. */
  readonly full: Uint8Array;
  /** Per rule, its primary anchor group. */
  readonly primary: number[];
}
const SHARED = new WeakMap<readonly (readonly (readonly string[])[])[], Map<string, SharedTables>>();

/** Options of a {@link KeywordPrefilter}. */
export interface KeywordPrefilterOptions {
  /** Keywords that belong to no rule; reading one sets {@link U_MARKER}. */
  readonly markers?: readonly string[];
  /**
   * Ordinary text from which each rule's primary anchor group is chosen: the group whose keywords
   * occur least often in it (ties: the group with fewer keywords). Without it, group 0. A rule whose
   * primary group was not seen cannot be eligible, so rare primary groups keep most texts from
   * needing more than the text loop.
   */
  readonly calibration?: string;
}

/**
 * The fast path: runs the keyword automata over a text and reports which rules had every anchor
 * group seen, plus triggers for what keywords cannot show (spaced letters, long runs, unusual
 * characters). Keeps small scratch arrays, so one instance serves one thread.
 *
 * The text loop only steps the automata and notes where keywords ended. After it, only the
 * keywords of each rule's **primary** group are looked at: a rule whose primary group was not seen
 * is no *candidate*, and a text without candidates needs nothing else ({@link idle}). The anchor
 * groups of every rule are tallied, in text order, when asked for ({@link takeEligible}).
 * {@link eligibility} looks at the candidates alone; {@link segments} then splits the text into
 * **segments** at every `.` and `?`, listing per segment the eligible rules whose every anchor
 * group was seen inside it: a rule whose regex cannot match across those characters can only match
 * inside such a segment. **Markers** are extra keywords of no rule that only set {@link U_MARKER}.
 */
export class KeywordPrefilter {
  private readonly fast: FastAutomaton;
  private readonly wide: KeywordAutomaton;
  private readonly full: Uint8Array;
  private readonly markerRule: number;
  private readonly groupsSeen: Uint8Array;
  private readonly touched: Int32Array;
  private touchedCount = 0;
  private unusualFlags = 0;
  // The candidates of the last run: rules whose primary group it saw.
  private readonly isCandidate: Uint8Array;
  private readonly candidates: Int32Array;
  private candidateCount = 0;
  // Scratch of eligibility(): anchor groups of the candidates seen; which candidates are eligible
  // (until the next run or reset).
  private readonly candidateSeen: Uint8Array;
  private readonly isEligible: Uint8Array;
  private eligibleBuckets = 0;
  // The last run: its range, and whether its keywords are yet to be added to groupsSeen.
  private text = '';
  private from = 0;
  private to = 0;
  private pending = false;
  // Where keywords ended and in which state: `main` for the last run, `scratch` for countGroups().
  private readonly main = new Hits();
  private readonly scratch = new Hits();
  // Scratch of collectPair(): B's hits, both pieces' first SYNC_SPAN states, hit counts, the flags
  // of A's piece.
  private readonly other = new Hits();
  private readonly syncs = [new Hits(SYNC_SPAN), new Hits(SYNC_SPAN)];
  private readonly counts = new Int32Array(2);
  private splitFlags = 0;
  // Scratch of segments(): anchor groups seen in the current segment, rules touched in it.
  private readonly segSeen: Uint8Array;
  private readonly segTouched: Int32Array;
  private segData = new Int32Array(48);

  /** The primary anchor group of each rule (see {@link KeywordPrefilterOptions.calibration}). */
  readonly primary: readonly number[];

  /**
   * @param anchors per rule, its anchor groups (at most 8); the automata are built once per
   *   distinct array (and options) and shared.
   */
  constructor(anchors: readonly (readonly (readonly string[])[])[], options: KeywordPrefilterOptions = {}) {
    const markers = options.markers ?? [];
    let byOptions = SHARED.get(anchors);
    if (byOptions === undefined) {
      byOptions = new Map();
      SHARED.set(anchors, byOptions);
    }
    const key = `${markers.join('\u0000')}\u0001${options.calibration ?? ''}`;
    let shared = byOptions.get(key);
    const build = shared === undefined;
    if (shared === undefined) {
      const keywords: AutomatonKeyword[] = [];
      const full = new Uint8Array(anchors.length);
      anchors.forEach((groups, rule) => {
        groups.forEach((group, g) => {
          full[rule] |= 1 << g;
          for (const text of group) keywords.push({ text, rule, group: g });
        });
      });
      for (const text of markers) keywords.push({ text, rule: anchors.length, group: 0 });
      const automata = buildAutomata(keywords);
      shared = { automata, fast: new FastAutomaton(automata.narrow), full, primary: anchors.map(() => 0) };
      byOptions.set(key, shared);
    }
    this.fast = shared.fast;
    this.wide = shared.automata.wide;
    this.full = shared.full;
    this.markerRule = anchors.length;
    this.groupsSeen = new Uint8Array(anchors.length);
    this.touched = new Int32Array(anchors.length);
    this.isCandidate = new Uint8Array(anchors.length);
    this.candidates = new Int32Array(anchors.length);
    this.candidateSeen = new Uint8Array(anchors.length);
    this.isEligible = new Uint8Array(anchors.length);
    this.segSeen = new Uint8Array(anchors.length);
    this.segTouched = new Int32Array(anchors.length);
    this.primary = shared.primary;
    if (build) {
      // Primary groups: the rarest in the calibration text (counted with these very tables).
      const primary = shared.primary;
      if (options.calibration !== undefined) {
        const counts = new Int32Array(anchors.length * 8);
        this.countGroups(options.calibration, counts);
        anchors.forEach((groups, r) => {
          for (let g = 1; g < groups.length; g++) {
            const a = counts[(r << 3) | g];
            const b = counts[(r << 3) | primary[r]];
            if (a < b || (a === b && groups[g].length < groups[primary[r]].length)) primary[r] = g;
          }
        });
      }
      this.fast.setPrimary((o) => o >> 3 === this.markerRule || (o & 7) === primary[o >> 3], options.calibration ?? '');
    }
  }

  /**
   * True when no rule can be eligible: no rule was touched since the last {@link takeEligible}, or
   * (before the anchor groups are tallied) no rule's primary group was seen in the last run. A
   * caller that stops there should {@link reset}: the keywords of the run are otherwise tallied,
   * and counted, at the next one.
   */
  get idle(): boolean {
    return this.pending ? this.candidateCount === 0 : this.touchedCount === 0;
  }

  /** `U_*` flags of the last {@link run}. */
  get unusual(): number {
    return this.unusualFlags;
  }

  /**
   * Runs over `text[from, to)`, adding to the anchor groups seen, and returns the `T_*` triggers.
   * Allocates nothing (beyond growing its scratch arrays on texts with very many keywords).
   */
  run(text: string, from: number, to: number): number {
    if (this.pending) this.tally();
    this.forgetEligible();
    const f = this.fast;
    const flags = this.collect(this.main, text, from, to, f.acceptFrom);
    this.text = text;
    this.from = from;
    this.to = to;
    this.pending = this.main.count > 0;
    let unusual = (flags >> FLAG_SHIFT) | this.primaries();
    if ((unusual & U_WIDE) !== 0) {
      // Keywords of the wide automaton are tallied right away, after the narrow ones.
      this.tally();
      unusual |= this.runWide(text, from, to);
    }
    this.unusualFlags = unusual;
    return flags & ((1 << FLAG_SHIFT) - 1);
  }

  /**
   * Appends to `into` the indices of the rules whose every anchor group was seen since the last
   * call, and forgets what was seen.
   */
  takeEligible(into: number[]): void {
    if (this.pending) this.tally();
    for (let k = 0; k < this.touchedCount; k++) {
      const r = this.touched[k];
      if (this.groupsSeen[r] === this.full[r] && !into.includes(r)) into.push(r);
      this.groupsSeen[r] = 0;
    }
    this.touchedCount = 0;
  }

  /** Forgets what was seen since the last {@link takeEligible}, as it does, without reporting it. */
  reset(): void {
    for (let k = 0; k < this.touchedCount; k++) this.groupsSeen[this.touched[k]] = 0;
    this.touchedCount = 0;
    this.pending = false;
    this.text = '';
    this.forgetEligible();
  }

  /** Clears what {@link eligibility} marked. */
  private forgetEligible(): void {
    for (let k = 0; k < this.candidateCount; k++) this.isEligible[this.candidates[k]] = 0;
  }

  /**
   * Which rules had every anchor group seen in the last {@link run}: {@link E_NONE}, {@link E_SOME}
   * (only rules with `flags[rule] === 0`) or {@link E_FLAGGED} (one with `flags[rule] !== 0`). Only
   * the candidates' keywords are looked at (no other rule can have every group seen); what
   * {@link takeEligible} reports is unchanged.
   */
  eligibility(flags: Uint8Array): number {
    const { main, candidates, candidateCount, isCandidate, candidateSeen, full, markerRule } = this;
    const { outStart, outputs, width, trans, ruleColumn } = this.fast;
    let buckets = 0;
    for (let k = 0; k < candidateCount; k++) {
      isCandidate[candidates[k]] = 1;
      buckets |= 1 << (candidates[k] & 31);
    }
    for (let h = 0; h < main.count; h++) {
      if ((trans[main.state[h] + ruleColumn] & buckets) === 0) continue;
      const state = main.state[h] / width;
      for (let p = outStart[state], end = outStart[state + 1]; p < end; p++) {
        const o = outputs[p];
        const r = o >> 3;
        if (r !== markerRule && isCandidate[r] !== 0) candidateSeen[r] |= 1 << (o & 7);
      }
    }
    let found = E_NONE;
    this.eligibleBuckets = 0;
    for (let k = 0; k < candidateCount; k++) {
      const r = candidates[k];
      isCandidate[r] = 0;
      if (candidateSeen[r] === full[r]) {
        this.isEligible[r] = 1;
        this.eligibleBuckets |= 1 << (r & 31);
        if (flags[r] !== 0) found = E_FLAGGED;
        else if (found === E_NONE) found = E_SOME;
      }
      candidateSeen[r] = 0;
    }
    return found;
  }

  /**
   * Splits the range of the last {@link run} into segments at every `.` and `?` and returns how
   * many (rule, segment) entries there are where an eligible rule had every anchor group seen
   * inside the segment. Only segments that hold a keyword of an eligible rule's primary group are
   * looked at: no other segment can have such a rule. Entry `k` is `segmentData[3k]` (the rule),
   * `segmentData[3k + 1]` (the segment's first index) and `segmentData[3k + 2]` (its end: a `.`, a
   * `?` or the end of the range). A keyword counts for the segment of the character that completed
   * it (one that ends with a space completes on the `.` after it). Call after {@link eligibility}
   * and before {@link takeEligible} or {@link reset}; keywords of the wide automaton are not
   * counted.
   */
  segments(): number {
    const { text, from, to, main, segSeen, segTouched, full, isEligible, markerRule } = this;
    const { outStart, outputs, width, trans, primary, primaryColumn, primaryFrom, ruleColumn } = this.fast;
    const buckets = this.eligibleBuckets;
    let count = 0;
    let done = from - 1; // end of the last segment looked at
    let hit = 0;
    for (let h = 0; h < main.count; h++) {
      if (main.state[h] < primaryFrom) continue;
      const at = main.pos[h];
      if (at <= done) continue;
      // Only a primary keyword of an eligible rule calls for its segment.
      let wanted = false;
      const row = main.state[h] + primaryColumn;
      for (let p = trans[row], end = trans[row + 1]; p < end && !wanted; p++) {
        const r = primary[p] >> 3;
        wanted = r !== markerRule && isEligible[r] !== 0;
      }
      if (!wanted) continue;
      // The segment of a keyword completed at `at`: from after the last '.' or '?' before it up to
      // the first one at or after it (a keyword ending with a space completes on the '.' after it).
      let segFrom = at;
      while (segFrom > done + 1 && !isBarrier(text.charCodeAt(segFrom - 1))) segFrom--;
      let end = at;
      while (end < to && !isBarrier(text.charCodeAt(end))) end++;
      done = end;
      // The keywords of the segment: those completed in it.
      while (hit < main.count && main.pos[hit] < segFrom) hit++;
      let touchedInSegment = 0;
      for (; hit < main.count && main.pos[hit] <= end; hit++) {
        if ((trans[main.state[hit] + ruleColumn] & buckets) === 0) continue;
        const state = main.state[hit] / width;
        for (let p = outStart[state], stop = outStart[state + 1]; p < stop; p++) {
          const o = outputs[p];
          const r = o >> 3;
          if (r === markerRule || isEligible[r] === 0) continue;
          const seen = segSeen[r];
          if (seen === 0) segTouched[touchedInSegment++] = r;
          segSeen[r] = seen | (1 << (o & 7));
        }
      }
      for (let k = 0; k < touchedInSegment; k++) {
        const r = segTouched[k];
        if (segSeen[r] === full[r]) {
          if (count * 3 === this.segData.length) {
            const grown = new Int32Array(this.segData.length * 2);
            grown.set(this.segData);
            this.segData = grown;
          }
          this.segData[count * 3] = r;
          this.segData[count * 3 + 1] = segFrom;
          this.segData[count * 3 + 2] = end;
          count++;
        }
        segSeen[r] = 0;
      }
    }
    return count;
  }

  /** The (rule, start, end) triples of {@link segments}. */
  get segmentData(): Int32Array {
    return this.segData;
  }

  /**
   * Counts how often each anchor group's keywords occur in `text`: `into[rule << 3 | group]` is
   * incremented once per keyword occurrence (keywords of the wide automaton not counted). `into`
   * needs 8 entries per rule.
   */
  countGroups(text: string, into: Int32Array): void {
    const { outStart, outputs, width, acceptFrom } = this.fast;
    const hits = this.scratch;
    this.collect(hits, text, 0, text.length, acceptFrom);
    for (let h = 0; h < hits.count; h++) {
      const k = hits.state[h] / width;
      for (let p = outStart[k], end = outStart[k + 1]; p < end; p++) if (outputs[p] >> 3 !== this.markerRule) into[outputs[p]]++;
    }
  }

  /**
   * Runs the text loop over `text[from, to)` (and the virtual space after it), filling `hits` with
   * the states at or above `threshold` it entered; returns the `T_*` triggers, and the `U_WIDE` and
   * `U_OPAQUE` flags shifted left by {@link FLAG_SHIFT}.
   */
  private collect(hits: Hits, text: string, from: number, to: number, threshold: number): number {
    const f = this.fast;
    const loopState = hits.loopState;
    loopState[0] = f.start;
    loopState[1] = RUN_TRACKER.start;
    let count = 0;
    let flags = 0;
    let at = from;
    if (to - from >= SPLIT_MIN) {
      const n = this.collectPair(hits, text, from, to, threshold);
      if (n >= 0) {
        count = n;
        flags = this.splitFlags;
        at = to;
      } else {
        loopState[0] = f.start;
        loopState[1] = RUN_TRACKER.start;
      }
    }
    // Room for one hit per character (and the end), a chunk at a time.
    while (at < to) {
      const stop = Math.min(to, at + LOOP_CHUNK);
      hits.room(count + (stop - at) + 1);
      count = f.loop(text, at, stop, threshold, hits.pos, hits.state, count, loopState);
      at = stop;
    }
    hits.room(count + 1);
    const state = f.trans[loopState[0] + f.space];
    if (state >= threshold) {
      hits.pos[count] = to;
      hits.state[count++] = state;
    }
    hits.count = count;
    const run = loopState[1];
    return flags | RUN_TRACKER.finalTriggers(run) | (RUN_TRACKER.unusual[run / RUN_INPUTS] << FLAG_SHIFT);
  }

  /**
   * The split point in `[lo, hi)` nearest to `target`: just after a character that ends a run of
   * at least two letters — there the run tracker is in its start state, whatever came before, but
   * for the flags it set; 0 when there is none.
   */
  private splitPoint(text: string, target: number, lo: number, hi: number): number {
    const code = this.fast.code;
    const letter = (i: number): boolean => code[text.charCodeAt(i)] >> SYMBOL_BITS === IN_LETTER;
    for (let d = 0; d < 64; d++) {
      for (const m of [target + d, target - d]) {
        if (m >= lo && m < hi && !letter(m - 1) && letter(m - 2) && letter(m - 3)) return m;
      }
    }
    return 0;
  }

  /**
   * The text loop over `text[from, to)` as two pieces read at once, each its own dependency chains:
   * A over `[from, m)` and B over `[m, to)`, B starting from the start states at a split point
   * ({@link splitPoint}) near the middle. B's keyword automaton state is wrong for a while after `m`
   * (it missed what came before), so A goes on past `m` until it is in the same state as B — from
   * there on they would stay equal — and B's hits before that point are dropped; the run tracker
   * needs no such care. Writes the hits into `hits` in text order and returns their number, leaves
   * B's final states in `hits.loopState` and the flags A's piece set in {@link splitFlags}; returns
   * -1 (having written nothing that counts) when the text cannot be split so, or A and B do not
   * fall in step within SYNC_SPAN characters (a text full of keyword prefixes).
   */
  private collectPair(hits: Hits, text: string, from: number, to: number, threshold: number): number {
    const f = this.fast;
    const { code, trans } = f;
    const m = this.splitPoint(text, (from + to) >> 1, from + SYNC_SPAN + 3, to - SYNC_SPAN);
    if (m === 0) return -1;
    const other = this.other;
    const [syncA, syncB] = this.syncs;
    const stateA = hits.loopState;
    const stateB = other.loopState;
    stateB[0] = f.start;
    stateB[1] = RUN_TRACKER.start;
    hits.room(to - from + 2);
    other.room(to - m + SYNC_SPAN + 2);
    // The first SYNC_SPAN characters of both, noting every state (threshold 0): B's are the states
    // for A to fall in step with; those at or above the threshold are hits.
    const counts = this.counts;
    counts[0] = 0;
    counts[1] = 0;
    f.dualLoop(text, from, m, SYNC_SPAN, 0, syncA, syncB, stateA, stateB, counts);
    let na = 0;
    let nb = 0;
    for (let k = 0; k < SYNC_SPAN; k++) {
      if (syncA.state[k] >= threshold) {
        hits.pos[na] = syncA.pos[k];
        hits.state[na++] = syncA.state[k];
      }
      if (syncB.state[k] >= threshold) {
        other.pos[nb] = syncB.pos[k];
        other.state[nb++] = syncB.state[k];
      }
    }
    // The rest of both together, as far as the shorter goes, then the longer alone.
    const lengthA = m - from - SYNC_SPAN;
    const lengthB = to - m - SYNC_SPAN;
    const both = Math.min(lengthA, lengthB);
    counts[0] = na;
    counts[1] = nb;
    f.dualLoop(text, from + SYNC_SPAN, m + SYNC_SPAN, both, threshold, hits, other, stateA, stateB, counts);
    na = counts[0];
    nb = counts[1];
    if (lengthA > both) na = f.loop(text, from + SYNC_SPAN + both, m, threshold, hits.pos, hits.state, na, stateA);
    if (lengthB > both) nb = f.loop(text, m + SYNC_SPAN + both, to, threshold, other.pos, other.state, nb, stateB);
    const runA = stateA[1];
    // A past m until it is in step with B.
    let s = stateA[0];
    let k = 0;
    for (; k < SYNC_SPAN; k++) {
      s = trans[s + (code[text.charCodeAt(m + k)] & SYMBOL_MASK)];
      if (s >= threshold) {
        hits.pos[na] = m + k;
        hits.state[na++] = s;
      }
      if (s === syncB.state[k]) break;
    }
    if (k === SYNC_SPAN) return -1;
    this.splitFlags = RUN_TRACKER.trig[runA / RUN_INPUTS] | (RUN_TRACKER.unusual[runA / RUN_INPUTS] << FLAG_SHIFT);
    // B's hits after that point follow A's.
    const after = m + k;
    for (let h = 0; h < nb; h++) {
      if (other.pos[h] > after) {
        hits.pos[na] = other.pos[h];
        hits.state[na++] = other.state[h];
      }
    }
    stateA[0] = stateB[0];
    stateA[1] = stateB[1];
    return na;
  }

  /** The candidates of the last run: rules whose primary group it saw. Returns U_MARKER if a marker was read. */
  private primaries(): number {
    const { trans, primary, primaryColumn, primaryFrom } = this.fast;
    const { main, isCandidate, candidates, markerRule } = this;
    let count = 0;
    let marker = 0;
    for (let h = 0; h < main.count; h++) {
      if (main.state[h] < primaryFrom) continue;
      const row = main.state[h] + primaryColumn;
      for (let p = trans[row], end = trans[row + 1]; p < end; p++) {
        const rule = primary[p] >> 3;
        if (rule === markerRule) marker = U_MARKER;
        else if (isCandidate[rule] === 0) {
          isCandidate[rule] = 1;
          candidates[count++] = rule;
        }
      }
    }
    for (let k = 0; k < count; k++) isCandidate[candidates[k]] = 0;
    this.candidateCount = count;
    return marker;
  }

  /** Adds the keywords of the last run to the anchor groups seen, in text order. */
  private tally(): void {
    this.pending = false;
    const { outStart, outputs, width } = this.fast;
    const hits = this.main;
    const { groupsSeen, touched, markerRule } = this;
    let touchedCount = this.touchedCount;
    for (let h = 0; h < hits.count; h++) {
      const k = hits.state[h] / width;
      for (let p = outStart[k], end = outStart[k + 1]; p < end; p++) {
        const o = outputs[p];
        const rule = o >> 3;
        if (rule === markerRule) continue;
        const seen = groupsSeen[rule];
        if (seen === 0) touched[touchedCount++] = rule;
        groupsSeen[rule] = seen | (1 << (o & 7));
      }
    }
    this.touchedCount = touchedCount;
  }

  /** The wide automaton's pass (Cyrillic, CJK, Hangul keywords), for texts that contain its characters. */
  private runWide(text: string, from: number, to: number): number {
    const auto = this.wide;
    const { symbols, next, width, punctBase, acceptBase } = auto;
    let state = auto.start;
    let marker = 0;
    for (let i = from; i < to; i++) {
      const y = symbols[text.charCodeAt(i)];
      if (y < punctBase) {
        state = next[state * width + y];
        if (state >= acceptBase) marker |= this.hitWide(state);
        continue;
      }
      state = next[state * width];
      if (state >= acceptBase) marker |= this.hitWide(state);
      state = next[state * width + y];
      if (state >= acceptBase) marker |= this.hitWide(state);
      state = next[state * width];
      if (state >= acceptBase) marker |= this.hitWide(state);
    }
    state = next[state * width];
    if (state >= acceptBase) marker |= this.hitWide(state);
    return marker;
  }

  /** A keyword of the wide automaton ended in `state`; returns U_MARKER for a marker. */
  private hitWide(state: number): number {
    const { outputStart, outputs } = this.wide;
    let marker = 0;
    for (let p = outputStart[state], end = outputStart[state + 1]; p < end; p++) {
      const o = outputs[p];
      const rule = o >> 3;
      if (rule === this.markerRule) {
        marker = U_MARKER;
        continue;
      }
      const seen = this.groupsSeen[rule];
      if (seen === 0) this.touched[this.touchedCount++] = rule;
      this.groupsSeen[rule] = seen | (1 << (o & 7));
    }
    return marker;
  }
}

/** Where the text loop's keywords ended (`pos`) and in which premultiplied state (`state`). */
class Hits {
  pos: Int32Array;
  state: Int32Array;
  count = 0;
  /** Keyword automaton and run tracker states between chunks of the text loop. */
  readonly loopState = new Int32Array(2);

  constructor(size = 64) {
    this.pos = new Int32Array(size);
    this.state = new Int32Array(size);
  }

  /** Makes room for `n` hits, keeping those already there. */
  room(n: number): void {
    if (n <= this.pos.length) return;
    let size = this.pos.length * 2;
    while (size < n) size *= 2;
    const pos = new Int32Array(size);
    const state = new Int32Array(size);
    pos.set(this.pos);
    state.set(this.state);
    this.pos = pos;
    this.state = state;
  }
}
