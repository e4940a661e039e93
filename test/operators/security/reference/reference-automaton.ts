/**
 * REFERENCE COPY for the equivalence tests — the keyword prefilter as it was before its text loop
 * was reworked; see `reference-scanner.ts`. Not used by production code.
 */
/**
 * Aho–Corasick keyword automata over folded text for the prompt-injection scanner's fast path
 * (private helper of `prompt-injection-scanner.ts`).
 *
 * Keywords are folded with the same table as the text (`injection-normalize.ts`) and the text is
 * read as a **token stream**: a character no keyword contains reads as a space, runs of spaces read
 * as one, characters the fold skips (zero-width, combining marks) are not there, and every
 * punctuation character reads as if surrounded by spaces. Keywords are turned into the same stream,
 * so `" ignore"` means "ignore at a word start" after any punctuation, and `system:` also matches
 * `system :`. Skipping and space-collapsing are self-loops of the transition table, so the common
 * step — a letter or a space — is two typed-array reads and no branch beyond "punctuation?";
 * accepting states are numbered last, so "did a keyword end here?" is one comparison.
 *
 * Two automata keep the dense tables small: one over keywords made of ASCII characters (run on every
 * text), one over the others — Cyrillic, Chinese, Japanese, Korean — run only when the first pass
 * met one of their characters.
 */
import { CF_TRIGGER, CHAR_FLAGS, FOLD, FOLD_SKIP, foldString } from '../../../../operators/security/injection-normalize.js';

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

let shared: { automata: KeywordAutomata; full: Uint8Array } | undefined;
let sharedFor: readonly (readonly (readonly string[])[])[] | undefined;

/**
 * The fast path: runs the keyword automata over a text and reports which rules had every anchor
 * group seen, plus triggers for what keywords cannot show (spaced letters, long runs, unusual
 * characters). Keeps small scratch arrays, so one instance serves one thread.
 */
export class KeywordPrefilter {
  private readonly narrow: KeywordAutomaton;
  private readonly wide: KeywordAutomaton;
  private readonly full: Uint8Array;
  private readonly groupsSeen: Uint8Array;
  private readonly touched: Int32Array;
  private touchedCount = 0;

  /**
   * @param anchors per rule, its anchor groups (at most 8); the automata are built once per
   *   distinct array and shared.
   */
  constructor(anchors: readonly (readonly (readonly string[])[])[]) {
    if (shared === undefined || sharedFor !== anchors) {
      const keywords: AutomatonKeyword[] = [];
      const full = new Uint8Array(anchors.length);
      anchors.forEach((groups, rule) => {
        groups.forEach((group, g) => {
          full[rule] |= 1 << g;
          for (const text of group) keywords.push({ text, rule, group: g });
        });
      });
      shared = { automata: buildAutomata(keywords), full };
      sharedFor = anchors;
    }
    this.narrow = shared.automata.narrow;
    this.wide = shared.automata.wide;
    this.full = shared.full;
    this.groupsSeen = new Uint8Array(anchors.length);
    this.touched = new Int32Array(anchors.length);
  }

  /** True when no rule was touched since the last {@link takeEligible}. */
  get idle(): boolean {
    return this.touchedCount === 0;
  }

  /**
   * Runs over `text[from, to)`, adding to the anchor groups seen, and returns the `T_*` triggers.
   * Allocates nothing.
   */
  run(text: string, from: number, to: number): number {
    const auto = this.narrow;
    const { symbols, next, width, punctBase, acceptBase, wideSymbol, triggerSymbol } = auto;
    let state = auto.start;
    let trig = 0;
    let wide = false;
    // Length of the current run of letters and digits, and how many one-letter tokens came in a
    // row at the same short distance ("i g n o r e", "r.e.v.e.a.l"; not "(a, b) => a + b").
    let run = 0;
    let singles = 0;
    let lastSingle = -8;
    let lastDistance = 0;
    for (let i = from; i < to; i++) {
      const y = symbols[text.charCodeAt(i)];
      if (y < punctBase) {
        state = next[state * width + y];
        if (state >= acceptBase) this.hit(auto, state);
        if (y !== SYM_SPACE) {
          if (++run === LONG_TOKEN) trig |= T_LONG_TOKEN;
          continue;
        }
      }
      if (run === 1) {
        const d = i - 1 - lastSingle;
        if (d === lastDistance && d <= 4) {
          if (++singles === SPACED_LETTERS) trig |= T_SPACED;
        } else singles = 1;
        lastDistance = d;
        lastSingle = i - 1;
      } else if (run > 1) singles = 0;
      run = 0;
      if (y < punctBase) continue;
      if (y === wideSymbol) wide = true;
      else if (y === triggerSymbol) trig |= T_UNREPRESENTABLE;
      // Punctuation reads as " p ": keywords then match at word starts after any of it.
      state = next[state * width];
      if (state >= acceptBase) this.hit(auto, state);
      if (y !== wideSymbol && y !== triggerSymbol) {
        state = next[state * width + y];
        if (state >= acceptBase) this.hit(auto, state);
        state = next[state * width];
        if (state >= acceptBase) this.hit(auto, state);
      }
    }
    state = next[state * width];
    if (state >= acceptBase) this.hit(auto, state);
    if (run === 1 && to - 1 - lastSingle === lastDistance && singles + 1 >= SPACED_LETTERS) trig |= T_SPACED;
    if (wide) this.runWide(text, from, to);
    return trig;
  }

  /**
   * Appends to `into` the indices of the rules whose every anchor group was seen since the last
   * call, and forgets what was seen.
   */
  takeEligible(into: number[]): void {
    for (let k = 0; k < this.touchedCount; k++) {
      const r = this.touched[k];
      if (this.groupsSeen[r] === this.full[r] && !into.includes(r)) into.push(r);
      this.groupsSeen[r] = 0;
    }
    this.touchedCount = 0;
  }

  /** The wide automaton's pass (Cyrillic, CJK, Hangul keywords), for texts that contain its characters. */
  private runWide(text: string, from: number, to: number): void {
    const auto = this.wide;
    const { symbols, next, width, punctBase, acceptBase } = auto;
    let state = auto.start;
    for (let i = from; i < to; i++) {
      const y = symbols[text.charCodeAt(i)];
      if (y < punctBase) {
        state = next[state * width + y];
        if (state >= acceptBase) this.hit(auto, state);
        continue;
      }
      state = next[state * width];
      if (state >= acceptBase) this.hit(auto, state);
      state = next[state * width + y];
      if (state >= acceptBase) this.hit(auto, state);
      state = next[state * width];
      if (state >= acceptBase) this.hit(auto, state);
    }
    state = next[state * width];
    if (state >= acceptBase) this.hit(auto, state);
  }

  private hit(auto: KeywordAutomaton, state: number): void {
    const { outputStart, outputs } = auto;
    for (let p = outputStart[state], end = outputStart[state + 1]; p < end; p++) {
      const o = outputs[p];
      const rule = o >> 3;
      const seen = this.groupsSeen[rule];
      if (seen === 0) this.touched[this.touchedCount++] = rule;
      this.groupsSeen[rule] = seen | (1 << (o & 7));
    }
  }
}
