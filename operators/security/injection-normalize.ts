/**
 * Text folding and normalisation for the prompt-injection scanner (private helper of
 * `prompt-injection-scanner.ts`).
 *
 * Two views of a text exist:
 *
 * - the **fold**, one UTF-16 unit → one folded unit, lossy on purpose, used by the fast path's
 *   keyword automaton without building a string: ASCII lower-case, leetspeak digits merged into the
 *   letters they imitate (`1`, `l`, `|`, `!` and `i` are one symbol), Cyrillic and Greek look-alikes
 *   and Latin small capitals mapped to Latin, accents dropped, full-width forms mapped to ASCII,
 *   invisible characters skipped, every whitespace one space;
 * - the **normalised view**, built only on the slow path: NFKC, lower case, accents of Latin letters
 *   dropped, invisible characters removed, homoglyphs mapped inside mixed-script words, leetspeak
 *   words mapped back to the keyword they spell, spaced-out letters joined, whitespace collapsed.
 *   Every character keeps the index of the raw character it came from and flags saying which
 *   de-obfuscation produced it.
 *
 * Whatever the normalised view contains, the fold of the raw text contains too (same lower case,
 * same accents, same look-alikes): that is what lets the fast path skip a rule whose keywords the
 * fold does not contain. The exceptions — spaced letters, characters whose compatibility form is
 * several letters ({@link CF_TRIGGER}), mathematical alphanumerics, tag characters — are noticed by
 * the fast path, which then runs the keyword automaton again over the normalised view.
 */

/** Fold value of a character the fold skips (invisible characters, combining marks). */
export const FOLD_SKIP = 0xffff;

/** {@link CHAR_FLAGS}: the fold cannot represent this character's normal form: look for keywords in the normalised text. */
export const CF_TRIGGER = 16;
/**
 * {@link CHAR_FLAGS}: the fold leaves this character alone (it reads as a space) but its normal
 * form holds letters, digits or leetspeak symbols (`ª` → `a`, `²` → `2`, `Ⅳ` → `iv`, `㎏` → `kg`;
 * high surrogates of astral blocks with such characters, and `*`, which the normalised view drops
 * between letters). The keyword pass does not need these — they are rare, and the normalised view
 * is built whenever a rule is eligible — but the scanner's segment shortcut, which concludes "no
 * match" from the raw text alone, does not take texts that hold one.
 */
export const CF_OPAQUE = 32;

/** Normalised-view flag: a zero-width or invisible character was removed inside this word. */
export const NF_ZERO_WIDTH = 1;
/** Normalised-view flag: a look-alike from another script (or a small capital) was mapped. */
export const NF_HOMOGLYPH = 2;
/** Normalised-view flag: the word was leetspeak for a keyword. */
export const NF_LEET = 4;
/** Normalised-view flag: the letters were spaced out (or separated by `*`) and got joined. */
export const NF_SPACED = 8;
/** Normalised-view flag: a compatibility form (full-width, mathematical, circled…) became ASCII. */
export const NF_COMPAT = 16;
/** Normalised-view flag: the character came from an invisible Unicode tag character. */
export const NF_TAGS = 32;

// Cyrillic and Greek lower-case letters (and a few Latin ones) that render like a Latin letter.
const SCRIPT_HOMOGLYPHS: Readonly<Record<string, string>> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ү: 'y', һ: 'h', ӏ: 'l', ɡ: 'g',
  α: 'a', β: 'b', ε: 'e', ζ: 'z', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u',
  χ: 'x', γ: 'y', ω: 'w', ϲ: 'c', ϳ: 'j',
};
// Latin letters a Cyrillic-majority word may hide: mapped the other way.
const LATIN_TO_CYRILLIC: Readonly<Record<string, string>> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', y: 'у', x: 'х' };
// Latin letters with a lower-case Cyrillic or Greek twin: a word made only of these says nothing about its script.
const AMBIGUOUS_LATIN = new Set(['a', 'e', 'o', 'p', 'c', 'y', 'x', 'i', 'j', 's']);
// Latin small capitals and other Latin-script look-alikes no normal text uses: always mapped.
const ALWAYS_HOMOGLYPHS: Readonly<Record<string, string>> = {
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ꞯ: 'q', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
  ı: 'i', ɑ: 'a', ɩ: 'i', ʋ: 'u',
};
// Leetspeak: the letters each symbol may stand for (the fold uses the first).
const LEET: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'il', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'bg', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'il',
};
const LEET_CODES = new Uint8Array(128);
for (const k of Object.keys(LEET)) LEET_CODES[k.charCodeAt(0)] = 1;

function isInvisible(cp: number): boolean {
  return (
    cp === 0xad || cp === 0x34f || cp === 0x61c || cp === 0x115f || cp === 0x1160 || cp === 0x17b4 || cp === 0x17b5 ||
    (cp >= 0x180b && cp <= 0x180e) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) || cp === 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0xfeff || cp === 0xffa0
  );
}
function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x180b && cp <= 0x180d);
}
function isCombiningMark(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f);
}
function isUnicodeSpace(cp: number): boolean {
  return cp === 0xa0 || cp === 0x85 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}
function quoteOrDash(cp: number): string | undefined {
  if (cp === 0x2018 || cp === 0x2019 || cp === 0x201a || cp === 0x201b || cp === 0x2032 || cp === 0xb4 || cp === 0x2035) return "'";
  if (cp === 0x201c || cp === 0x201d || cp === 0x201e || cp === 0x201f || cp === 0x2033 || cp === 0xab || cp === 0xbb) return '"';
  if ((cp >= 0x2010 && cp <= 0x2015) || cp === 0x2212) return '-';
  return undefined;
}
// Ranges whose letters have compatibility or canonical decompositions worth folding.
function inDecomposableRange(cp: number): boolean {
  return (
    (cp >= 0xc0 && cp <= 0x24f) || (cp >= 0x1d00 && cp <= 0x1dbf) || (cp >= 0x1e00 && cp <= 0x1eff) || (cp >= 0x2070 && cp <= 0x209f) ||
    (cp >= 0x2100 && cp <= 0x214f) || (cp >= 0x2460 && cp <= 0x24ff) || (cp >= 0xfb00 && cp <= 0xfb4f) || (cp >= 0xff00 && cp <= 0xffef)
  );
}
function stripLatinMarks(s: string): string {
  const d = s.normalize('NFD');
  if (d.length < 2 || d.charCodeAt(0) >= 128) return s;
  for (let i = 1; i < d.length; i++) if (!isCombiningMark(d.charCodeAt(i))) return s;
  return d[0];
}

function asciiFold(c: number): number {
  if (c >= 65 && c <= 90) c += 32;
  if (c === 108) return 105; // l → i: leetspeak '1' stands for both
  if (c < 128) {
    const l = LEET[String.fromCharCode(c)];
    if (l !== undefined) return l.charCodeAt(0) === 108 ? 105 : l.charCodeAt(0);
    if (c === 9 || c === 10 || c === 11 || c === 12 || c === 13) return 32;
  }
  return c;
}

const OPAQUE_CONTENT = /[\p{L}\p{N}@$!|*]/u;

/** Folded unit of every UTF-16 unit ({@link FOLD_SKIP} for skipped ones). */
export const FOLD = new Uint16Array(65536);
/** {@link CF_TRIGGER} flag of every UTF-16 unit. */
export const CHAR_FLAGS = new Uint8Array(65536);

function buildTables(): void {
  for (let c = 0; c < 65536; c++) FOLD[c] = c;
  for (let c = 0; c < 128; c++) FOLD[c] = asciiFold(c);
  for (let c = 128; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    if (isInvisible(c) || isCombiningMark(c)) {
      FOLD[c] = FOLD_SKIP;
      continue;
    }
    if (isUnicodeSpace(c)) {
      FOLD[c] = 32;
      continue;
    }
    const q = quoteOrDash(c);
    if (q !== undefined) {
      FOLD[c] = q.charCodeAt(0);
      continue;
    }
    const ch = String.fromCharCode(c);
    const always = ALWAYS_HOMOGLYPHS[ch];
    if (always !== undefined) {
      FOLD[c] = asciiFold(always.charCodeAt(0));
      continue;
    }
    if ((c >= 0x370 && c <= 0x3ff) || (c >= 0x400 && c <= 0x52f)) {
      const lower = ch.toLowerCase();
      const mapped = lower.length === 1 ? (SCRIPT_HOMOGLYPHS[lower] ?? lower) : ch;
      FOLD[c] = mapped.length === 1 ? asciiFold(mapped.charCodeAt(0)) : c;
      continue;
    }
    if (inDecomposableRange(c)) {
      const n = stripLatinMarks(ch.normalize('NFKC').toLowerCase());
      if (n.length === 1) FOLD[c] = asciiFold(n.charCodeAt(0));
      else if (/\p{L}/u.test(n)) CHAR_FLAGS[c] |= CF_TRIGGER;
    }
  }
  // Mathematical alphanumerics (U+1D400 block) and tag characters (U+E0000 block) sit behind these
  // high surrogates; the fold cannot see their letters.
  CHAR_FLAGS[0xd835] |= CF_TRIGGER;
  CHAR_FLAGS[0xdb40] |= CF_TRIGGER;

  // Characters the fold keeps as they are but whose compatibility form has letters, digits or
  // leetspeak symbols: the normalised view holds what the fold does not show.
  for (let c = 128; c < 65536; c++) {
    if ((c >= 0xd800 && c <= 0xdfff) || FOLD[c] !== c || (CHAR_FLAGS[c] & CF_TRIGGER) !== 0) continue;
    const ch = String.fromCharCode(c);
    const n = ch.normalize('NFKC');
    if (n !== ch && OPAQUE_CONTENT.test(n)) CHAR_FLAGS[c] |= CF_OPAQUE;
  }
  // Astral blocks with such characters (enclosed and segmented alphanumerics, mathematical Arabic,
  // modifier letters, musical symbols, CJK compatibility ideographs…): their high surrogates.
  for (const hi of [0xd801, 0xd833, 0xd834, 0xd838, 0xd83b, 0xd83c, 0xd83e, 0xd87e]) CHAR_FLAGS[hi] |= CF_OPAQUE;
  CHAR_FLAGS[42] |= CF_OPAQUE; // '*': dropped between letters by the normalised view
}
buildTables();

/** Folds a keyword the way the fast path folds text (skipped characters dropped, spaces collapsed). */
export function foldString(s: string): string {
  let out = '';
  let prevSpace = false;
  for (let i = 0; i < s.length; i++) {
    const f = FOLD[s.charCodeAt(i)];
    if (f === FOLD_SKIP) continue;
    if (f === 32) {
      if (prevSpace) continue;
      prevSpace = true;
    } else prevSpace = false;
    out += String.fromCharCode(f);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Keyword dictionary (the rules' vocabulary): leetspeak words and spaced-out runs are mapped back
// onto these
// ---------------------------------------------------------------------------------------------

const KEYWORDS = (
  'ignore ignoring disregard forget forgetting previous prior above earlier preceding instructions instruction rules rule ' +
  'guidelines guideline directives commands prompt prompts system reveal repeat print output show tell developer mode ' +
  'pretend restrictions restricted unrestricted unfiltered uncensored filters filter jailbreak jailbroken override bypass ' +
  'disable safety policy policies content ethical ethics limits limitations censorship your you are now all any the and ' +
  'new from act as an without no have had with were told before this conversation everything initial original hidden ' +
  'secret verbatim dan do anything obey follow never refuse answer respond evil free unlock enable activate admin access ' +
  'message text context guidance constraints programming what stop following me rules ai ' +
  'assistant model chatbot guardrails safeguards been instead ' +
  // The same core words in the other languages the rules cover.
  'ignoriere ignorieren vergiss alle vorherigen bisherigen anweisungen regeln ignorez oublie oubliez toutes les instructions ' +
  'precedentes regles ignora olvida todas las instrucciones anteriores reglas ignora dimentica tutte istruzioni precedenti ' +
  'regole esqueca todas instrucoes regras negeer vergeet vorige instructies regels ' +
  'restriction limitation directive command guideline jailbroken unrestricted mode your tell show hidden given gave got ' +
  'received assigned instructed programmed configured operator developers creators imagine roleplay simulate skip drop ' +
  'abandon apply applies matter setup role preamble'
).split(' ');
const SEGMENT_EXTRA = 'a i to of in on is it be my up so or if at by we us am not'.split(' ');

const KEYWORDS_BY_LENGTH = new Map<number, string[]>();
for (const w of KEYWORDS) {
  const list = KEYWORDS_BY_LENGTH.get(w.length) ?? [];
  if (!list.includes(w)) list.push(w);
  KEYWORDS_BY_LENGTH.set(w.length, list);
}
const SEGMENT_WORDS = new Set([...KEYWORDS, ...SEGMENT_EXTRA]);
// Longest run of joined letters split into words; longer runs are not spelled-out phrases.
const MAX_SEGMENTED = 160;
const LONGEST_SEGMENT_WORD = Math.max(...[...SEGMENT_WORDS].map((w) => w.length));

/** The keyword a leetspeak word spells (`1gn0r3` → `ignore`), or undefined. */
function deLeet(word: string): string | undefined {
  const candidates = KEYWORDS_BY_LENGTH.get(word.length);
  if (candidates === undefined) return undefined;
  outer: for (const kw of candidates) {
    for (let i = 0; i < word.length; i++) {
      const a = word[i];
      const b = kw[i];
      if (a === b) continue;
      const l = LEET[a];
      if (l === undefined || !l.includes(b)) continue outer;
    }
    return kw;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The normalised view
// ---------------------------------------------------------------------------------------------

/** The normalised view of one window of raw text. */
export interface NormalisedView {
  /** Normalised text. */
  readonly text: string;
  /** For each normalised character, the index of the raw character it came from. */
  readonly src: Int32Array;
  /** For each normalised character, `NF_*` flags. */
  readonly flags: Uint8Array;
}

interface CharCacheEntry {
  readonly s: string;
  readonly compat: boolean;
  readonly homoglyph: boolean;
}
const CHAR_CACHE = new Map<number, CharCacheEntry>();
const CHAR_CACHE_MAX = 8192;

function normaliseCodePoint(cp: number): CharCacheEntry {
  let e = CHAR_CACHE.get(cp);
  if (e !== undefined) return e;
  const ch = String.fromCodePoint(cp);
  const q = quoteOrDash(cp);
  const always = ALWAYS_HOMOGLYPHS[ch];
  if (q !== undefined) e = { s: q, compat: false, homoglyph: false };
  else if (isUnicodeSpace(cp)) e = { s: cp === 0x2028 || cp === 0x2029 || cp === 0x85 ? '\n' : ' ', compat: false, homoglyph: false };
  else if (always !== undefined) e = { s: always, compat: false, homoglyph: true };
  else {
    const nfkc = ch.normalize('NFKC');
    const s = stripLatinMarks(nfkc.toLowerCase());
    e = { s, compat: nfkc !== ch && /^[a-z0-9]+$/.test(s), homoglyph: false };
  }
  if (CHAR_CACHE.size >= CHAR_CACHE_MAX) CHAR_CACHE.clear();
  CHAR_CACHE.set(cp, e);
  return e;
}

const SCRIPT_OTHER = 0;
const SCRIPT_LATIN = 1;
const SCRIPT_CYRILLIC = 2;
const SCRIPT_GREEK = 3;
function scriptOf(c: number): number {
  if ((c >= 97 && c <= 122) || (c >= 0xc0 && c <= 0x24f)) return SCRIPT_LATIN;
  if (c >= 0x400 && c <= 0x52f) return SCRIPT_CYRILLIC;
  if (c >= 0x370 && c <= 0x3ff) return SCRIPT_GREEK;
  return SCRIPT_OTHER;
}
// Characters of a "word" for the homoglyph and leetspeak passes.
function isWordUnit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c < 128 && LEET_CODES[c] === 1) || (c >= 0xc0 && c <= 0x24f) || (c >= 0x370 && c <= 0x52f);
}
function isSpacedLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 64 || c === 36 || c === 33;
}
// '!' glued to the end of a word ("n $!") is punctuation; elsewhere it may be a leetspeak 'i'.
function spacedLetterAt(ch: Uint16Array, k: number, n: number): boolean {
  const c = ch[k];
  if (!isSpacedLetter(c)) return false;
  if (c !== 33) return true;
  const gluedAfterLetter = k > 0 && isSpacedLetter(ch[k - 1]) && ch[k - 1] !== 33;
  const letterNext = k + 1 < n && isSpacedLetter(ch[k + 1]) && ch[k + 1] !== 33;
  return !gluedAfterLetter || letterNext;
}
function isSpacedSeparator(c: number): boolean {
  return c === 32 || c === 46 || c === 45 || c === 95 || c === 183 || c === 124 || c === 47 || c === 44 || c === 126 || c === 43 || c === 58 || c === 39 || c === 34 || c === 96;
}

/** Growable parallel typed arrays the view is assembled in; reused from call to call. */
class CharBuffer {
  ch = new Uint16Array(1024);
  src = new Int32Array(1024);
  fl = new Uint8Array(1024);
  length = 0;
  push(c: number, src: number, fl: number): void {
    if (this.length === this.ch.length) this.grow();
    this.ch[this.length] = c;
    this.src[this.length] = src;
    this.fl[this.length] = fl;
    this.length++;
  }
  private grow(): void {
    const n = this.ch.length * 2;
    const ch = new Uint16Array(n);
    const src = new Int32Array(n);
    const fl = new Uint8Array(n);
    ch.set(this.ch);
    src.set(this.src);
    fl.set(this.fl);
    this.ch = ch;
    this.src = src;
    this.fl = fl;
  }
}

function isSpaceUnit(c: number): boolean {
  return c === 32 || c === 10;
}

/** Stage one of the view: per character NFKC, lower case, invisible characters out, whitespace collapsed. */
class Normaliser {
  buf = new CharBuffer();
  spare = new CharBuffer();
  private pendingInvisible = false;
  private pendingStar = false;

  pushUnit(c: number, src: number, fl: number): void {
    const buf = this.buf;
    const n = buf.length;
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 11 || c === 12) {
      const nl = c === 10 || c === 13;
      if (n > 0 && isSpaceUnit(buf.ch[n - 1])) {
        if (nl) buf.ch[n - 1] = 10;
      } else buf.push(nl ? 10 : 32, src, 0);
      this.pendingInvisible = false;
      this.pendingStar = false;
      return;
    }
    if ((this.pendingInvisible || this.pendingStar) && n > 0 && isWordUnit(buf.ch[n - 1]) && isWordUnit(c)) {
      const f = this.pendingInvisible ? NF_ZERO_WIDTH : NF_SPACED;
      buf.fl[n - 1] |= f;
      fl |= f;
    }
    this.pendingInvisible = false;
    this.pendingStar = false;
    buf.push(c, src, fl);
  }

  run(raw: string, from: number, to: number): void {
    this.buf.length = 0;
    this.pendingInvisible = false;
    this.pendingStar = false;
    let inTags = false;
    for (let i = from; i < to; i++) {
      let cp = raw.charCodeAt(i);
      const at = i;
      if (cp < 128) {
        if (inTags) {
          this.pushUnit(32, at, 0);
          inTags = false;
        }
        if (cp === 42) this.pendingStar = true;
        else this.pushUnit(cp >= 65 && cp <= 90 ? cp + 32 : cp, at, 0);
        continue;
      }
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
        const lo = raw.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          i++;
        }
      }
      if (isInvisible(cp)) {
        if (!isVariationSelector(cp)) this.pendingInvisible = true;
        continue;
      }
      if (isCombiningMark(cp)) continue;
      if (cp >= 0xe0000 && cp <= 0xe007f) {
        const a = cp - 0xe0000;
        // Smuggled text is a separate message: keep it from gluing onto the visible words around it.
        if (!inTags) this.pushUnit(32, at, 0);
        inTags = true;
        if (a >= 32 && a < 127) this.pushUnit(a >= 65 && a <= 90 ? a + 32 : a, at, NF_TAGS);
        continue;
      }
      if (inTags) {
        this.pushUnit(32, at, 0);
        inTags = false;
      }
      const e = normaliseCodePoint(cp);
      const fl = (e.compat ? NF_COMPAT : 0) | (e.homoglyph ? NF_HOMOGLYPH : 0);
      for (let k = 0; k < e.s.length; k++) this.pushUnit(e.s.charCodeAt(k), at, fl);
    }
  }
}

const NORMALISER = new Normaliser();

/**
 * Builds the normalised view of `raw[from, to)`.
 *
 * @param joinSpaced whether to look for spaced-out letters (the fast path saw some).
 */
export function normalise(raw: string, from: number, to: number, joinSpaced: boolean): NormalisedView {
  const z = NORMALISER;
  z.run(raw, from, to);
  if (joinSpaced) {
    joinSpacedLetters(z.buf, z.spare);
    [z.buf, z.spare] = [z.spare, z.buf];
  }
  if (dropSpacedWordSeparators(z.buf, z.spare)) [z.buf, z.spare] = [z.spare, z.buf];
  mapWords(z.buf);

  const { ch, length: n } = z.buf;
  let text = '';
  for (let k = 0; k < n; k += 8192) text += String.fromCharCode.apply(null, ch.subarray(k, Math.min(n, k + 8192)) as unknown as number[]);
  return { text, src: z.buf.src.slice(0, n), flags: z.buf.fl.slice(0, n) };
}

/**
 * Between two de-spaced words ("p*r*i*n*t / y*o*u*r"), a separator such as " / " or " | " is a word
 * break: it becomes one space.
 */
function dropSpacedWordSeparators(buf: CharBuffer, out: CharBuffer): boolean {
  const { ch, src, fl } = buf;
  const n = buf.length;
  let any = false;
  for (let k = 0; k < n && !any; k++) any = (fl[k] & NF_SPACED) !== 0;
  if (!any) return false;
  out.length = 0;
  let i = 0;
  while (i < n) {
    if (i > 0 && (fl[i - 1] & NF_SPACED) !== 0 && !isWordUnit(ch[i])) {
      let j = i;
      while (j < n && j - i < 5 && (ch[j] === 32 || ch[j] === 47 || ch[j] === 124 || ch[j] === 183 || ch[j] === 45 || ch[j] === 95 || ch[j] === 46 || ch[j] === 44)) j++;
      if (j > i && j < n && (fl[j] & NF_SPACED) !== 0 && isWordUnit(ch[j])) {
        out.push(32, src[i], NF_SPACED);
        i = j;
        continue;
      }
    }
    out.push(ch[i], src[i], fl[i]);
    i++;
  }
  return true;
}

/** Whether `ch[i, j)` has a leetspeak symbol that is not a digit (`@11` is "all", `2024` is a year). */
function hasLeetSymbol(ch: Uint16Array, i: number, j: number): boolean {
  for (let k = i; k < j; k++) if (ch[k] < 128 && LEET_CODES[ch[k]] === 1 && (ch[k] < 48 || ch[k] > 57)) return true;
  return false;
}

/** Homoglyphs inside mixed-script words, and leetspeak words that spell a keyword. */
function mapWords(buf: CharBuffer): void {
  const { ch, fl } = buf;
  const n = buf.length;
  // Words made of digits only ("411") are leetspeak only next to another leetspeak word.
  let digitWords: number[] | undefined;
  let i = 0;
  while (i < n) {
    if (!isWordUnit(ch[i])) {
      i++;
      continue;
    }
    let j = i;
    let latin = 0;
    let other = 0;
    let cyr = 0;
    let leet = 0;
    while (j < n && isWordUnit(ch[j])) {
      const s = scriptOf(ch[j]);
      if (s === SCRIPT_LATIN) latin++;
      else if (s === SCRIPT_CYRILLIC) {
        other++;
        cyr++;
      } else if (s === SCRIPT_GREEK) other++;
      else if (ch[j] < 128) leet++;
      j++;
    }
    if (latin > 0 && other > 0) {
      // The script of the letters that have no look-alike decides; a tie goes to Latin.
      let distinctLatin = 0;
      let distinctOther = 0;
      for (let k = i; k < j; k++) {
        const c = ch[k];
        const s = scriptOf(c);
        if (s === SCRIPT_LATIN) {
          if (!AMBIGUOUS_LATIN.has(String.fromCharCode(c))) distinctLatin++;
        } else if (s !== SCRIPT_OTHER && SCRIPT_HOMOGLYPHS[String.fromCharCode(c)] === undefined) distinctOther++;
      }
      const toLatin = distinctLatin > distinctOther || (distinctLatin === distinctOther && (latin + leet >= other || cyr === 0));
      if (toLatin) {
        for (let k = i; k < j; k++) {
          const m = SCRIPT_HOMOGLYPHS[String.fromCharCode(ch[k])];
          if (m !== undefined && scriptOf(ch[k]) !== SCRIPT_LATIN) {
            ch[k] = m.charCodeAt(0);
            fl[k] |= NF_HOMOGLYPH;
            latin++;
          }
        }
      } else if (cyr > 0) {
        for (let k = i; k < j; k++) {
          const m = LATIN_TO_CYRILLIC[String.fromCharCode(ch[k])];
          if (m !== undefined) {
            ch[k] = m.charCodeAt(0);
            fl[k] |= NF_HOMOGLYPH;
          }
        }
      }
    }
    if (leet > 0 && latin === 0 && other === 0 && !hasLeetSymbol(ch, i, j)) (digitWords ??= []).push(i, j);
    if (leet > 0 && (latin > 0 || hasLeetSymbol(ch, i, j))) {
      let end = j;
      // Trailing '!' or '|' is more often punctuation than a letter.
      for (let pass = 0; pass < 2 && end > i + 1; pass++) {
        const word = String.fromCharCode.apply(null, ch.subarray(i, end) as unknown as number[]);
        const kw = /[\u0080-\uffff]/.test(word) ? undefined : deLeet(word);
        if (kw !== undefined) {
          if (kw !== word) {
            for (let k = 0; k < kw.length; k++) {
              if (ch[i + k] !== kw.charCodeAt(k)) {
                ch[i + k] = kw.charCodeAt(k);
              }
              fl[i + k] |= NF_LEET;
            }
          }
          break;
        }
        const last = ch[end - 1];
        if (last === 33 || last === 124 || last === 43 || last === 36) end--;
        else break;
      }
    }
    i = j;
  }
  if (digitWords === undefined) return;
  for (let w = 0; w < digitWords.length; w += 2) {
    const a = digitWords[w];
    const b = digitWords[w + 1];
    const leetBefore = a >= 2 && (fl[a - 2] & NF_LEET) !== 0;
    const leetAfter = b + 1 < n && (fl[b + 1] & NF_LEET) !== 0;
    if (!leetBefore && !leetAfter) continue;
    const kw = deLeet(String.fromCharCode.apply(null, ch.subarray(a, b) as unknown as number[]));
    if (kw === undefined) continue;
    for (let k = 0; k < kw.length; k++) {
      ch[a + k] = kw.charCodeAt(k);
      fl[a + k] |= NF_LEET;
    }
  }
}

/**
 * Joins runs of at least four single letters separated by one to three separator characters
 * (`i g n o r e`, `r.e.v.e.a.l`). A separator different from the run's usual one marks a word
 * break; a long joined chunk without breaks is split into keywords (greedy longest match).
 */
function joinSpacedLetters(buf: CharBuffer, out: CharBuffer): void {
  const { ch, src, fl } = buf;
  const n = buf.length;
  out.length = 0;
  let i = 0;
  while (i < n) {
    // A single letter here: previous unit is not a letter, next is not a letter.
    const single = spacedLetterAt(ch, i, n) && (i === 0 || !isSpacedLetter(ch[i - 1])) && (i + 1 >= n || !spacedLetterAt(ch, i + 1, n));
    if (!single) {
      out.push(ch[i], src[i], fl[i]);
      i++;
      continue;
    }
    const letters: number[] = [i];
    const gaps: string[] = [];
    let k = i + 1;
    for (;;) {
      let g = k;
      while (g < n && g - k < 3 && isSpacedSeparator(ch[g])) g++;
      if (g === k || g >= n || !spacedLetterAt(ch, g, n) || (g + 1 < n && spacedLetterAt(ch, g + 1, n))) break;
      gaps.push(String.fromCharCode.apply(null, ch.subarray(k, g) as unknown as number[]));
      letters.push(g);
      k = g + 1;
    }
    if (letters.length < 4) {
      out.push(ch[i], src[i], fl[i]);
      i++;
      continue;
    }
    const counts = new Map<string, number>();
    for (const g of gaps) counts.set(g, (counts.get(g) ?? 0) + 1);
    let usual = gaps[0];
    for (const [g, c] of counts) if (c > (counts.get(usual) ?? 0)) usual = g;
    let chunk: number[] = [letters[0]];
    const flush = (): void => {
      // Only a chunk of keyword length is worth splitting into words.
      const parts = chunk.length > 8 && chunk.length <= MAX_SEGMENTED ? segment(String.fromCharCode(...chunk.map((p) => ch[p]))) : undefined;
      if (parts === undefined) {
        for (const p of chunk) out.push(ch[p], src[p], fl[p] | NF_SPACED);
        return;
      }
      let p = 0;
      for (const [pi, part] of parts.entries()) {
        if (pi > 0) out.push(32, src[chunk[p]], NF_SPACED);
        for (let q = 0; q < part.length; q++, p++) out.push(ch[chunk[p]], src[chunk[p]], fl[chunk[p]] | NF_SPACED);
      }
    };
    for (let g = 0; g < gaps.length; g++) {
      if (gaps[g] !== usual) {
        flush();
        out.push(32, src[letters[g] + 1], NF_SPACED);
        chunk = [];
      }
      chunk.push(letters[g + 1]);
    }
    flush();
    i = letters[letters.length - 1] + 1;
  }
}

/** Splits a run of letters into dictionary words, greedy longest match; unknown letters stay glued. */
function segment(word: string): string[] {
  const parts: string[] = [];
  let pending = '';
  let i = 0;
  while (i < word.length) {
    let best = 0;
    for (let len = Math.min(LONGEST_SEGMENT_WORD, word.length - i); len >= 2; len--) {
      const cand = word.slice(i, i + len);
      if (SEGMENT_WORDS.has(cand) || SEGMENT_WORDS.has(deLeet(cand) ?? '')) {
        best = len;
        break;
      }
    }
    if (best === 0) {
      pending += word[i];
      i++;
      continue;
    }
    if (pending !== '') {
      parts.push(pending);
      pending = '';
    }
    parts.push(word.slice(i, i + best));
    i += best;
  }
  if (pending !== '') parts.push(pending);
  return parts;
}
