/**
 * REFERENCE COPY for the equivalence tests — the prompt-injection scanner as it was before the fast
 * path was reworked (segment shortcut, primary groups, split text loop), kept verbatim but for its
 * imports and an `exhaustive` option (every rule eligible, as if the prefilter let everything
 * through), so that tests can check the production scanner returns exactly what this one returns.
 * It uses the production rules and normaliser, and its own copy of the old keyword automaton
 * (`reference-automaton.ts`). Not used by production code.
 */
/**
 * Prompt-injection scanner over a span's `inputText`: instruction override, role-play jailbreaks,
 * system-prompt extraction, delimiter and special-token abuse, and obfuscated or encoded forms of
 * all of these, in English and (at least) German, French, Spanish, Italian, Portuguese, Dutch,
 * Russian, Chinese, Japanese and Korean.
 *
 * **Fast path.** One pass over the raw UTF-16 units drives a keyword automaton (Aho–Corasick over a
 * folded alphabet: case, leetspeak digits, Cyrillic/Greek look-alikes, accents and full-width
 * forms folded, invisible characters skipped — see `injection-automaton.ts` and
 * `injection-normalize.ts`) and, in the same loop, counts runs of evenly spaced single letters and
 * long letter/digit runs (base64, hex). Each rule declares keyword groups every match must contain;
 * a text whose keywords complete no rule's groups, with no spaced letters, no long run and no
 * mathematical or tag characters, returns {@link NO_INJECTION} without allocating anything.
 *
 * **Slow path.** Only for texts the fast path flagged: the window is normalised (NFKC, invisible
 * characters removed, homoglyphs in mixed-script words mapped, leetspeak keywords and spaced letters
 * restored, whitespace collapsed; every character remembers its raw index and which
 * de-obfuscation produced it), the keyword automaton runs again over the normalised text when
 * spacing or Unicode tricks may have hidden keywords, and the eligible rules' regexes run over it.
 * Base64 and hex runs that decode to readable text, and ROT13 text next to a mention of ROT13, are
 * scanned again (two levels deep at most). A match whose characters came out of a de-obfuscation
 * adds an `obfuscation.*` finding for the technique (confidence of the match + 0.05).
 *
 * **Scoring.** Several rules of one category usually match the same evidence, so each category
 * counts with its strongest base finding cₖ, and categories — independent evidence — combine by
 * noisy-OR: `score = 1 − Π(1 − cₖ)`. Derived `obfuscation.*` findings do not add to the score (they
 * say *how* an attempt was hidden) but do rank the categories, so an obfuscated override reports
 * `obfuscation` first and `instruction_override` next. `attempt` is `score ≥ threshold`.
 *
 * **Judgment calls.**
 * - Talking *about* prompt injection ("how do I protect my app against prompt injection?") matches
 *   no rule. An attack phrase quoted inside such a discussion (a quote right before it, and words
 *   like "detect", "classifier", "phrases like", "prompt injection" in the text) has its confidence
 *   multiplied by 0.45, so one quoted example is not an attempt, but a quoted example plus a real
 *   instruction still is.
 * - Chat-template special tokens (`<|im_start|>`, `[INST]`, `<<SYS>>`…) are flagged even when a user
 *   merely mentions them: a template may turn them into control tokens whatever the intent.
 * - Persona role-play ("act as a pirate", "you are a Linux terminal") is benign; it becomes a
 *   jailbreak only with a restriction-bypass element (no rules/filters/guidelines, unfiltered,
 *   developer mode of an AI, DAN and friends).
 * - A user retracting their own words ("ignore my previous instructions", "disregard my last email")
 *   is benign; "ignore (all/the/your) previous instructions" is an override.
 * - JSON role messages and `System:` headers inside code or API payloads count for less than the
 *   same text in prose.
 * - Texts longer than `maxScanChars` are scanned on their head and tail only: an attack in the
 *   middle of a long document is missed, in exchange for a bounded cost per span.
 *
 * Pure and synchronous. One instance serves any number of spans; it keeps small scratch arrays that
 * are reset on every call, so calls must not interleave (they cannot: `scan` never yields).
 */
import { VigilError } from '../../../../src/errors.js';
import { KeywordPrefilter, T_LONG_TOKEN, T_SPACED, T_UNREPRESENTABLE } from './reference-automaton.js';
import {
  NF_COMPAT,
  NF_HOMOGLYPH,
  NF_LEET,
  NF_SPACED,
  NF_TAGS,
  NF_ZERO_WIDTH,
  normalise,
} from '../../../../operators/security/injection-normalize.js';
import { META_DISCUSSION, RULES } from '../../../../operators/security/injection-rules.js';
import type { InjectionRule, RuleContext } from '../../../../operators/security/injection-rules.js';

/** What an injection attempt tries to do. */
export type InjectionCategory = 'instruction_override' | 'roleplay_jailbreak' | 'system_prompt_extraction' | 'delimiter_abuse' | 'obfuscation';

/** One piece of evidence. Holds a rule id and a position, never the matched text. */
export interface InjectionFinding {
  /** What the evidence points to. */
  category: InjectionCategory;
  /** 0..1 */
  confidence: number;
  /** index in the text where the evidence starts (UTF-16 code units into the scanned text) */
  position: number;
  /** rule id, e.g. 'override.ignore-previous' — never the matched text */
  rule: string;
}

/** What {@link PromptInjectionScanner.scan} concluded about one text. */
export interface InjectionVerdict {
  /** True when {@link score} reaches the scanner's threshold. */
  attempt: boolean;
  /** highest-scoring category, or null (always null when `attempt` is false) */
  category: InjectionCategory | null;
  /** Every category with evidence, highest score first (empty when `attempt` is false). */
  categories: InjectionCategory[];
  /**
   * 1..5 for an attempt: 1 naive ("ignore previous instructions"), +1 per obfuscation technique
   * (+2 for an encoded payload), +1 for a non-English pattern, +1 for special tokens, +1 per extra
   * attack category (at most +2); capped at 5. 0 when `attempt` is false.
   */
  sophistication: number;
  /** 0..1: noisy-OR over categories of each category's strongest base finding (see the module documentation). */
  score: number;
  /** Base and derived findings, highest confidence first (weak findings also when `attempt` is false). */
  findings: InjectionFinding[];
  /** language of the matched pattern when non-English, e.g. 'de' (null for English or no attempt) */
  language: string | null;
}

/** Options of a {@link PromptInjectionScanner}. */
export interface PromptInjectionScannerOptions {
  /** Score at or above which a text is an attempt, in (0, 1]; default 0.5. */
  threshold?: number;
  /**
   * Most characters scanned per text (integer ≥ 64; default 8192). Longer texts are scanned on their
   * first ⌈max/2⌉ and last ⌊max/2⌋ characters only.
   */
  maxScanChars?: number;
}

/** The verdict of a null, empty or benign text: frozen, shared, returned without allocation. */
export const NO_INJECTION: InjectionVerdict = Object.freeze({
  attempt: false,
  category: null,
  categories: Object.freeze([]) as unknown as InjectionCategory[],
  sophistication: 0,
  score: 0,
  findings: Object.freeze([]) as unknown as InjectionFinding[],
  language: null,
});

const DEFAULT_THRESHOLD = 0.5;
const DEFAULT_MAX_SCAN_CHARS = 8192;
const MAX_DECODE_DEPTH = 2;
const MAX_CANDIDATES_PER_WINDOW = 16;
const MAX_MATCHES_PER_RULE = 8;
const QUOTED_EXAMPLE_FACTOR = 0.45;

const CATEGORY_ORDER: readonly InjectionCategory[] = [
  'obfuscation',
  'instruction_override',
  'roleplay_jailbreak',
  'system_prompt_extraction',
  'delimiter_abuse',
];

const DERIVED_BY_FLAG: readonly (readonly [number, string])[] = [
  [NF_ZERO_WIDTH, 'obfuscation.zero-width'],
  [NF_HOMOGLYPH, 'obfuscation.homoglyph'],
  [NF_LEET, 'obfuscation.leetspeak'],
  [NF_SPACED, 'obfuscation.spaced-letters'],
  [NF_COMPAT, 'obfuscation.compatibility-forms'],
  [NF_TAGS, 'obfuscation.unicode-tags'],
];
const PAYLOAD_RULES = new Set(['obfuscation.base64-payload', 'obfuscation.hex-payload', 'obfuscation.rot13-payload']);

const CODE_CONTEXT =
  /(?:(?:messages|msgs|payload|body|request|data|params|prompt)\s?[=:]\s?[[{(]|chat\.completions|\.create\(|(?:^|\n|;)\s?(?:import|from|def|const|let|var|function|class|export|async)\s|json\.dumps|json\.stringify|fetch\(|curl\s|=>|await\s|console\.log|print\(|\);|\w\(\{|"content"\s?:\s?(?:question|prompt|user_input|\w+\))|```(?:python|py|js|javascript|ts|typescript|json|bash|sh))/;
const QUOTE_BEFORE = /["'`]\s?$/;
// How far before a match code-like text still counts as its context (a prompt template in code).
const CODE_CONTEXT_REACH = 160;
const ROT13_MENTION = /(?<![a-z])(?:rot[\s-]?13|caesar\scipher)(?![a-z0-9])/;
const B64_CANDIDATE = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HAS_UPPER = /[A-Z]/;
const HAS_LOWER = /[a-z]/;
const HEX_CANDIDATE = /(?:[0-9a-fA-F]{2}){12,}/g;

/** A finding before de-duplication, with what the verdict needs beyond the public fields. */
interface RawFinding {
  rule: InjectionRule | null;
  id: string;
  category: InjectionCategory;
  confidence: number;
  position: number;
  /** `NF_*` flags over the matched characters. */
  flags: number;
  /** Derived finding (obfuscation technique of another finding). */
  derived: boolean;
}

const RULE_ANCHORS = RULES.map((r) => r.anchors);

/** 1 − (1 − a)(1 − b). */
function noisyOr(a: number, b: number): number {
  return 1 - (1 - a) * (1 - b);
}

/** Whether decoded bytes look like text worth scanning (mostly printable, at least half letters). */
function readable(s: string): boolean {
  if (s.length < 8) return false;
  let letters = 0;
  let printable = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 0xc0) {
      letters++;
      printable++;
    } else if (c === 0xfffd) return false;
    else if (c >= 32 || c === 10 || c === 9 || c === 13) printable++;
  }
  return printable >= 0.9 * s.length && letters >= 0.5 * s.length;
}

/** ROT13 of the ASCII letters of `s`. */
function rot13(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) out += String.fromCharCode(((c - 65 + 13) % 26) + 65);
    else if (c >= 97 && c <= 122) out += String.fromCharCode(((c - 97 + 13) % 26) + 97);
    else out += s[i];
  }
  return out;
}

/**
 * Detects prompt-injection attempts in user prompts. See the module documentation for the
 * detection model and its judgment calls.
 */
export class PromptInjectionScanner {
  /** Score at or above which a text is an attempt. */
  readonly threshold: number;
  /** Most characters scanned per text (head and tail of longer texts). */
  readonly maxScanChars: number;

  private readonly prefilter: KeywordPrefilter;
  /** Test option: every rule is eligible (the full regex set), not only those the prefilter lets through. */
  private readonly exhaustive: boolean;

  constructor(options: PromptInjectionScannerOptions & { exhaustive?: boolean } = {}) {
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const maxScanChars = options.maxScanChars ?? DEFAULT_MAX_SCAN_CHARS;
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `threshold must be a number in (0, 1], got ${String(threshold)}`, {
        details: { key: 'threshold' },
      });
    }
    if (!Number.isSafeInteger(maxScanChars) || maxScanChars < 64) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxScanChars must be an integer >= 64, got ${String(maxScanChars)}`, {
        details: { key: 'maxScanChars' },
      });
    }
    this.threshold = threshold;
    this.maxScanChars = maxScanChars;
    this.prefilter = new KeywordPrefilter(RULE_ANCHORS);
    this.exhaustive = options.exhaustive === true;
  }

  /**
   * Scans one text (typically a span's `inputText`). Returns {@link NO_INJECTION}, without
   * allocating, for null, empty and benign texts.
   */
  scan(text: string | null): InjectionVerdict {
    if (text === null || text === undefined || text.length === 0) return NO_INJECTION;
    const n = text.length;
    if (n <= this.maxScanChars) {
      const trig = this.prefilter.run(text, 0, n);
      if (trig === 0 && this.prefilter.idle && !this.exhaustive) return NO_INJECTION;
      const out: RawFinding[] = [];
      this.analyse(text, 0, n, trig, 0, out);
      return this.verdict(out);
    }
    let headEnd = Math.ceil(this.maxScanChars / 2);
    let tailStart = n - Math.floor(this.maxScanChars / 2);
    // Never cut a surrogate pair in two.
    const h = text.charCodeAt(headEnd - 1);
    if (h >= 0xd800 && h <= 0xdbff) headEnd--;
    const t = text.charCodeAt(tailStart);
    if (t >= 0xdc00 && t <= 0xdfff) tailStart++;
    let out: RawFinding[] | undefined;
    const headTrig = this.prefilter.run(text, 0, headEnd);
    if (headTrig !== 0 || !this.prefilter.idle || this.exhaustive) {
      out = [];
      this.analyse(text, 0, headEnd, headTrig, 0, out);
    }
    const tailTrig = this.prefilter.run(text, tailStart, n);
    if (tailTrig !== 0 || !this.prefilter.idle || this.exhaustive) {
      out ??= [];
      this.analyse(text, tailStart, n, tailTrig, 0, out);
    }
    return out === undefined ? NO_INJECTION : this.verdict(out);
  }

  /** The slow path over `text[from, to)`; appends raw findings with absolute positions. */
  private analyse(text: string, from: number, to: number, trig: number, depth: number, out: RawFinding[]): void {
    const eligible: number[] = [];
    this.prefilter.takeEligible(eligible);
    if (this.exhaustive) RULES.forEach((_, index) => eligible.includes(index) || eligible.push(index));
    const renormalised = (trig & (T_SPACED | T_UNREPRESENTABLE)) !== 0;
    if (eligible.length > 0 || renormalised) {
      const view = normalise(text, from, to, (trig & T_SPACED) !== 0);
      if (renormalised) {
        // Spaced letters, mathematical or tag characters hide keywords from the raw pass: look
        // for them again in the normalised text.
        this.prefilter.run(view.text, 0, view.text.length);
        this.prefilter.takeEligible(eligible);
      }
      if (this.exhaustive) eligible.sort((x, y) => x - y);
      let meta: boolean | undefined;
      const ctx: RuleContext = {
        text: view.text,
        codeContext: (start, end) => CODE_CONTEXT.test(view.text.slice(Math.max(0, start - CODE_CONTEXT_REACH), end)),
      };
      for (const index of eligible) {
        const rule = RULES[index];
        const re = rule.regex;
        re.lastIndex = 0;
        let best: RawFinding | undefined;
        for (let count = 0; count < MAX_MATCHES_PER_RULE; count++) {
          const m = re.exec(view.text);
          if (m === null) break;
          const start = m.index;
          const end = start + m[0].length;
          if (end === start) {
            re.lastIndex++;
            continue;
          }
          let conf = rule.adjust === undefined ? rule.confidence : rule.adjust(ctx, start, end);
          if (conf <= 0) continue;
          if (QUOTE_BEFORE.test(view.text.slice(Math.max(0, start - 2), start)) && (meta ??= META_DISCUSSION.test(view.text))) {
            conf *= QUOTED_EXAMPLE_FACTOR;
          }
          let flags = 0;
          for (let k = start; k < end; k++) flags |= view.flags[k];
          if (best === undefined) {
            best = { rule, id: rule.id, category: rule.category, confidence: conf, position: view.src[start], flags, derived: false };
            out.push(best);
          } else {
            best.flags |= flags;
            if (conf > best.confidence) best.confidence = conf;
          }
        }
      }
      if (depth < MAX_DECODE_DEPTH && ROT13_MENTION.test(view.text)) {
        this.decoded(rot13(text.slice(from, to)), from, 'obfuscation.rot13-payload', depth, out);
      }
    }
    if (depth < MAX_DECODE_DEPTH && (trig & T_LONG_TOKEN) !== 0) this.decodeRuns(text, from, to, depth, out);
  }

  /** Decodes the base64 and hex runs of `text[from, to)` that read as text, and scans them. */
  private decodeRuns(text: string, from: number, to: number, depth: number, out: RawFinding[]): void {
    const window = text.slice(from, to);
    let candidates = 0;
    B64_CANDIDATE.lastIndex = 0;
    for (let m = B64_CANDIDATE.exec(window); m !== null && candidates < MAX_CANDIDATES_PER_WINDOW; m = B64_CANDIDATE.exec(window)) {
      const s = m[0];
      // Base64 of text mixes both cases; a long lower-case word or hex string does not.
      if (!HAS_UPPER.test(s) || !HAS_LOWER.test(s)) continue;
      candidates++;
      const standard = s.includes('-') || s.includes('_') ? s.replace(/-/g, '+').replace(/_/g, '/') : s;
      const decoded = Buffer.from(standard, 'base64').toString('utf8');
      if (readable(decoded)) this.decoded(decoded, from + m.index, 'obfuscation.base64-payload', depth, out);
    }
    HEX_CANDIDATE.lastIndex = 0;
    for (let m = HEX_CANDIDATE.exec(window); m !== null && candidates < MAX_CANDIDATES_PER_WINDOW; m = HEX_CANDIDATE.exec(window)) {
      candidates++;
      const decoded = Buffer.from(m[0], 'hex').toString('utf8');
      if (readable(decoded)) this.decoded(decoded, from + m.index, 'obfuscation.hex-payload', depth, out);
    }
  }

  /** Scans decoded text; its findings are placed at `position` with a payload finding. */
  private decoded(decoded: string, position: number, payloadRule: string, depth: number, out: RawFinding[]): void {
    const inner: RawFinding[] = [];
    const trig = this.prefilter.run(decoded, 0, decoded.length);
    if (trig === 0 && this.prefilter.idle && !this.exhaustive) return;
    this.analyse(decoded, 0, decoded.length, trig, depth + 1, inner);
    const shifted = payloadRule === 'obfuscation.rot13-payload';
    let strongest = 0;
    let first = Infinity;
    for (const f of inner) {
      // ROT13 keeps every character in place; decoded base64 and hex have no such mapping.
      f.position = shifted ? f.position + position : position;
      out.push(f);
      if (!f.derived && f.confidence > strongest) strongest = f.confidence;
      if (!f.derived && f.position < first) first = f.position;
    }
    if (strongest > 0) {
      out.push({ rule: null, id: payloadRule, category: 'obfuscation', confidence: Math.min(0.99, strongest + 0.05), position: first, flags: 0, derived: true });
    }
  }

  /** Turns raw findings into a verdict. */
  private verdict(raw: RawFinding[]): InjectionVerdict {
    if (raw.length === 0) return NO_INJECTION;
    // One finding per rule id: the strongest, at the earliest position.
    const byId = new Map<string, RawFinding>();
    const derived: RawFinding[] = [];
    for (const f of raw) {
      if (!f.derived) {
        for (const [flag, id] of DERIVED_BY_FLAG) {
          if ((f.flags & flag) !== 0) {
            derived.push({ rule: null, id, category: 'obfuscation', confidence: Math.min(0.99, f.confidence + 0.05), position: f.position, flags: 0, derived: true });
          }
        }
      }
    }
    for (const f of [...raw, ...derived]) {
      const prev = byId.get(f.id);
      if (prev === undefined) byId.set(f.id, { ...f });
      else {
        if (f.confidence > prev.confidence) prev.confidence = f.confidence;
        if (f.position < prev.position) prev.position = f.position;
      }
    }
    const all = [...byId.values()];
    // Rules of one category often match the same evidence, so a category counts with its strongest
    // finding; different categories are independent evidence and combine by noisy-OR.
    const catScore = new Map<InjectionCategory, number>();
    const catBase = new Map<InjectionCategory, number>();
    for (const f of all) {
      catScore.set(f.category, Math.max(catScore.get(f.category) ?? 0, f.confidence));
      if (!f.derived) catBase.set(f.category, Math.max(catBase.get(f.category) ?? 0, f.confidence));
    }
    let score = 0;
    for (const c of catBase.values()) score = noisyOr(score, c);
    const attempt = score >= this.threshold;
    const findings: InjectionFinding[] = all
      .sort((a, b) => b.confidence - a.confidence || a.position - b.position)
      .map((f) => ({ category: f.category, confidence: round3(f.confidence), position: f.position, rule: f.id }));
    if (!attempt) {
      return { attempt: false, category: null, categories: [], sophistication: 0, score: round3(score), findings, language: null };
    }

    const categories = [...catScore.keys()].sort(
      (a, b) => (catScore.get(b) as number) - (catScore.get(a) as number) || CATEGORY_ORDER.indexOf(a) - CATEGORY_ORDER.indexOf(b),
    );

    let points = 0;
    let payload = false;
    let special = false;
    let language: string | null = null;
    let languageConfidence = 0;
    const attackCategories = new Set<InjectionCategory>();
    for (const f of all) {
      if (f.derived) {
        if (PAYLOAD_RULES.has(f.id)) payload = true;
        else points++;
        continue;
      }
      if (f.confidence < 0.4) {
        if (f.rule?.specialToken === true && f.confidence >= 0.3) special = true;
        continue;
      }
      if (f.rule?.specialToken === true) special = true;
      if (f.category !== 'obfuscation') attackCategories.add(f.category);
      const lang = f.rule?.language ?? null;
      if (lang !== null && f.confidence > languageConfidence) {
        language = lang;
        languageConfidence = f.confidence;
      }
    }
    if (payload) points += 2;
    if (special) points++;
    if (language !== null) points++;
    points += Math.min(2, Math.max(0, attackCategories.size - 1));

    return {
      attempt: true,
      category: categories[0],
      categories,
      sophistication: Math.min(5, 1 + points),
      score: round3(score),
      findings,
      language,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
