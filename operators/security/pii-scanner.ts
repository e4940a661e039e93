import { VigilError } from '../../src/errors.js';
import { cardBrand, ibanLength, ibanMod97, ipv4Valid, ipv6Valid, isPlaceholderSecret, luhnValid, ssnValid } from './pii-validators.js';

/** Kinds of personal data and credentials a {@link PiiScanner} reports. */
export type PiiType = 'email' | 'phone' | 'credit_card' | 'ssn' | 'iban' | 'ip_address' | 'secret';

/**
 * One detected value. It holds the position and a masked form only — never the raw value — so a
 * finding can travel into alerts, logs and API responses without leaking what it found.
 */
export interface PiiFinding {
  /** What was found. */
  type: PiiType;
  /** start index (UTF-16 code units into the scanned text) */
  start: number;
  /** length (UTF-16 code units) */
  length: number;
  /** masked form, e.g. 'j***@e***.com', '**** **** **** 1111', 'sk-…(40 chars)' — never the raw value */
  masked: string;
  /**
   * subtype, e.g. 'visa', 'ipv6', 'aws_access_key', 'private_key'. Phones: 'international' |
   * 'nanp'; cards: the network; IBANs: the country code; IP addresses: 'ipv4' | 'ipv6'; secrets:
   * 'openai_api_key' | 'openai_project_key' | 'anthropic_api_key' | 'aws_access_key' |
   * 'github_token' | 'slack_token' | 'google_api_key' | 'stripe_secret_key' |
   * 'stripe_restricted_key' | 'private_key' | 'jwt' | 'bearer_token'. Emails and SSNs have none.
   */
  subtype?: string;
}

/** What {@link PiiScanner.scan} found in one text. */
export interface PiiScanResult {
  /** Findings of every type, including those beyond `maxFindings`. */
  total: number;
  /** Findings per type, including those beyond `maxFindings`. */
  counts: Readonly<Record<PiiType, number>>;
  /** The first `maxFindings` findings in text order. */
  findings: readonly PiiFinding[];
}

const TYPES: readonly PiiType[] = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip_address', 'secret'];
const T_EMAIL = 0;
const T_PHONE = 1;
const T_CARD = 2;
const T_SSN = 3;
const T_IBAN = 4;
const T_IP = 5;
const T_SECRET = 6;
const ALL_TYPES = 0x7f;
const NUMERIC_TYPES = (1 << T_PHONE) | (1 << T_CARD) | (1 << T_SSN) | (1 << T_IP);

/** The result of a text without findings: frozen, shared, returned without allocation. */
export const NO_PII: PiiScanResult = Object.freeze({
  total: 0,
  counts: Object.freeze({ email: 0, phone: 0, credit_card: 0, ssn: 0, iban: 0, ip_address: 0, secret: 0 }),
  findings: Object.freeze([]),
});

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only: everything ≥ 128 is a plain separator)
// ---------------------------------------------------------------------------------------------

const WORD = 1; // [A-Za-z0-9_]
const DIGIT = 2;
const UPPER = 4;
const HEX = 8;
const LOCAL = 16; // e-mail local part: [A-Za-z0-9._%+-]
const DOMAIN = 32; // [A-Za-z0-9.-]
const KEY = 64; // API-key body: [A-Za-z0-9_-]
const START = 128; // a word starting here may be a secret or an IBAN
const PUNCT = 256; // '@', ':', '+', '(', '-': may start an e-mail, IPv6, phone or PEM block
const TOKEN68 = 512; // bearer token: [A-Za-z0-9._~+/=-]
const LOWER = 1024;

const CLS = new Uint16Array(128);
for (let c = 48; c <= 57; c++) CLS[c] = WORD | DIGIT | HEX | LOCAL | DOMAIN | KEY | TOKEN68;
for (let c = 65; c <= 90; c++) CLS[c] = WORD | UPPER | LOCAL | DOMAIN | KEY | START | TOKEN68 | (c <= 70 ? HEX : 0);
for (let c = 97; c <= 122; c++) CLS[c] = WORD | LOWER | LOCAL | DOMAIN | KEY | TOKEN68 | (c <= 102 ? HEX : 0);
for (const ch of 'srgxeb') CLS[ch.charCodeAt(0)] |= START;
CLS[95] = WORD | LOCAL | KEY | TOKEN68; // _
CLS[45] = LOCAL | DOMAIN | KEY | TOKEN68 | PUNCT; // -
CLS[46] = LOCAL | DOMAIN | TOKEN68; // .
CLS[43] = LOCAL | TOKEN68 | PUNCT; // +
CLS[37] = LOCAL; // %
CLS[126] = TOKEN68; // ~
CLS[47] = TOKEN68; // /
CLS[61] = TOKEN68; // =
CLS[64] = PUNCT; // @
CLS[58] = PUNCT; // :
CLS[40] = PUNCT; // (

// CLS for every UTF-16 unit (0 from 128 on), so the text loop needs no range check.
const CLS_ALL = new Uint16Array(65536);
CLS_ALL.set(CLS);

function cls(c: number): number {
  return c < 128 && c >= 0 ? CLS[c] : 0;
}

// First two chars of a word that may start a secret (sk-, rk_, AKIA, ASIA, AIza, gh*_, github_pat_,
// xox, eyJ, Bearer) or an IBAN (a registry country code), indexed (first << 7) | second.
const PAIRS = new Uint8Array(128 * 128);
for (const pair of ['sk', 'rk', 'AK', 'AS', 'AI', 'gh', 'gi', 'xo', 'ey', 'Be', 'be']) {
  PAIRS[(pair.charCodeAt(0) << 7) | pair.charCodeAt(1)] = 1;
}
for (let a = 65; a <= 90; a++) for (let b = 65; b <= 90; b++) if (ibanLength(a, b) > 0) PAIRS[(a << 7) | b] = 1;

/** Whether a digit group followed by `c1 c2 c3` continues into another group ("1-2", "1 (2"). */
function joinsGroups(c1: number, c2: number, c3: number): boolean {
  if (c1 === 32) return isDigit(c2) || (c2 === 40 && isDigit(c3));
  return (c1 === 45 || c1 === 46) && isDigit(c2);
}

/** Whether the punctuation `c` followed by `c2` may start a value (see PiiScanner.punct). */
function punctMayStart(c: number, c2: number): boolean {
  switch (c) {
    case 64: // @
      return true;
    case 58: // :
      return c2 === 58 || (c2 < 128 && (CLS[c2] & HEX) !== 0);
    case 45: // -
      return c2 === 45;
    default: // + (
      return isDigit(c2);
  }
}

// ---------------------------------------------------------------------------------------------
// Digit clusters: digit groups joined by one separator, parsed into reused typed arrays
// ---------------------------------------------------------------------------------------------

const SEP_NONE = 0;
const SEP_SPACE = 1; // "1 2"
const SEP_DASH = 2; // "1-2"
const SEP_DOT = 3; // "1.2"
const SEP_SPACE_OPEN = 4; // "1 (2"
const SEP_CLOSE = 5; // "1)2", "1) 2", "1)-2"
const MAX_GROUPS = 12;
// Longest key body, JWT part and bearer token read; longer runs are no key of these shapes.
const MAX_KEY = 256;
const MAX_JWT_HEADER = 512;
const MAX_JWT_PART = 8192;
const MAX_BEARER = 4096;
const PREFIX_NONE = 0;
const PREFIX_PLUS = 1;
const PREFIX_PAREN = 2;

// Version-like words before a dotted quad ("version 10.0.0.1", "OID 1.3.6.1").
// Section numbers ("Section 3.2.1.4") read the same way.
const VERSION_WORDS = new Set([
  'v', 'ver', 'version', 'release', 'rel', 'build', 'rev', 'revision', 'oid', 'firmware', 'fw',
  'section', 'sec', 'chapter', 'clause', 'figure', 'fig', 'table', 'step', 'item', 'rule', 'article', 'art',
]);
// Endings of "icon@2x.png", "app@release.apk" or "name@domain.tld" that are no e-mail TLD: file
// extensions that are not also country codes, placeholders and private-network suffixes.
const NOT_TLDS = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'pdf', 'json', 'js', 'mjs', 'cjs', 'ts', 'jsx', 'tsx', 'css',
  'scss', 'html', 'htm', 'yml', 'yaml', 'toml', 'ini', 'cfg', 'conf', 'txt', 'csv', 'tsv', 'xml', 'log', 'lock', 'map',
  'apk', 'ipa', 'exe', 'dll', 'jar', 'war', 'tar', 'gz', 'tgz', 'bz2', 'wasm', 'java', 'kt', 'cpp', 'hpp', 'bak', 'tmp',
  'tld', 'local', 'localhost', 'internal', 'lan', 'invalid', 'intranet', 'corp', 'home',
]);

const SECRET_PREFIXES: readonly string[] = [
  'sk-ant-', 'sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk_live_', 'rk_live_', 'github_pat_',
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'xoxb-', 'xoxa-', 'xoxp-', 'xoxr-', 'xoxs-', 'AKIA', 'ASIA', 'AIza', 'sk-', 'eyJ',
];

// ---------------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------------

/** Replaces every ASCII digit but the last `keep` (at most half of them) with '*'. */
function maskDigits(raw: string, keep: number): string {
  let digits = 0;
  for (let i = 0; i < raw.length; i++) if (isDigit(raw.charCodeAt(i))) digits++;
  const visible = Math.min(keep, digits >> 1);
  let seen = 0;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (isDigit(c)) {
      out += seen < digits - visible ? '*' : raw[i];
      seen++;
    } else {
      out += raw[i];
    }
  }
  return out;
}

function maskCard(raw: string): string {
  let digits = '';
  let separated = false;
  for (let i = 0; i < raw.length; i++) {
    if (isDigit(raw.charCodeAt(i))) digits += raw[i];
    else separated = true;
  }
  if (separated || digits.length % 4 !== 0 || digits.length < 8) return maskDigits(raw, 4);
  const groups: string[] = [];
  for (let i = 0; i < digits.length - 4; i += 4) groups.push('****');
  groups.push(digits.slice(-4));
  return groups.join(' ');
}

function maskEmail(raw: string): string {
  const at = raw.lastIndexOf('@');
  const dot = raw.lastIndexOf('.');
  if (at <= 0 || dot <= at + 1 || dot === raw.length - 1) return `…(${raw.length} chars)`;
  return `${raw[0]}***@${raw[at + 1]}***${raw.slice(dot)}`;
}

function maskIban(raw: string): string {
  let alnum = 0;
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) !== 32) alnum++;
  let seen = 0;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === ' ') {
      out += ' ';
      continue;
    }
    out += seen < 2 || (seen >= alnum - 4 && alnum >= 10) ? ch : '*';
    seen++;
  }
  return out;
}

function maskIp(raw: string): string {
  const dot = raw.indexOf('.');
  const colon = raw.indexOf(':');
  if (colon >= 0 && (dot < 0 || colon < dot)) return `${raw.slice(0, colon)}:…(ipv6)`;
  if (dot > 0) return `${raw.slice(0, dot)}.*.*.*`;
  return `…(${raw.length} chars)`;
}

function maskSecret(raw: string): string {
  if (raw.startsWith('-----BEGIN ')) {
    const close = raw.indexOf('-----', 11);
    if (close > 0 && close < 64) return `${raw.slice(0, close + 5)}…(${raw.length} chars)`;
  }
  for (const prefix of SECRET_PREFIXES) {
    if (raw.length >= prefix.length * 2 + 4 && raw.startsWith(prefix)) return `${prefix}…(${raw.length} chars)`;
  }
  return `…(${raw.length} chars)`;
}

/**
 * The masked form of a raw value of type `type`, as put in {@link PiiFinding.masked}. It keeps
 * only what helps a human recognise the kind of value and never the value itself: e-mail →
 * first letters of local part and domain plus the TLD (`j***@e***.com`); phone → last 2 digits;
 * card → last 4 (`**** **** **** 1111`); SSN → last 4 (`***-**-6789`); IBAN → country code and
 * last 4; IPv4 → first octet (`192.*.*.*`); IPv6 → first group; secret → its public provider
 * prefix and length (`sk-…(40 chars)`), or the PEM header for a private-key block.
 */
export function maskValue(type: PiiType, raw: string): string {
  const masked = maskByType(type, raw);
  // A value that does not have its type's shape (no digits to hide, no '@') is hidden entirely.
  return raw.length > 0 && masked.includes(raw) ? `…(${raw.length} chars)` : masked;
}

function maskByType(type: PiiType, raw: string): string {
  switch (type) {
    case 'email':
      return maskEmail(raw);
    case 'phone':
      return maskDigits(raw, 2);
    case 'credit_card':
      return maskCard(raw);
    case 'ssn':
      return maskDigits(raw, 4);
    case 'iban':
      return maskIban(raw);
    case 'ip_address':
      return maskIp(raw);
    case 'secret':
      return maskSecret(raw);
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// ---------------------------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------------------------

/**
 * Detects personal data and credentials in a span's `outputText`: e-mail addresses, phone
 * numbers, payment cards, US SSNs, IBANs, IP addresses and secrets (provider API keys, PEM private
 * keys, bearer tokens and JWTs). Pure and synchronous; one instance is reused across spans (it is
 * not re-entrant, which a synchronous scan never needs).
 *
 * Speed: one pass over the text's char codes with a class table decides where a detector may
 * start — a digit group that a separator joins to another or that has ≥ 13 digits, '@', ':' before
 * a hex digit, '+' or '(' before a digit, "-----BEGIN ", or a word whose first two letters can
 * begin a key prefix or an IBAN country code — and skips the rest of every word. Detectors read
 * forward (or a bounded distance back) with hand-written loops: no regular expression runs on the
 * scan path, so nothing backtracks, and every char is read a bounded number of times (runs that
 * detectors share are remembered), so the cost is linear in `maxScanChars` whatever the text. A
 * text without findings allocates nothing and gets {@link NO_PII}.
 *
 * Rules that keep false positives down (the fixtures under `test/fixtures/pii/` hold the hard
 * negatives):
 * - e-mail: ASCII `local@domain.tld`, local part ≤ 64 chars without `..`, domain of ≥ 2 labels
 *   with an alphabetic TLD of ≥ 2 letters. Not e-mails: `user@host` without a TLD (code, SSH
 *   targets, `pkg@1.2.3` version pins), `git@github.com:org/repo` (an scp-like remote: ':' and a
 *   non-space after the domain), `icon@2x.png` / `app@release.apk` (a file extension that is no
 *   country code), `name@domain.tld` / `svc@host.local` (placeholder and private-network
 *   suffixes). Addresses at `example.com` are reported: they are placeholders only by convention.
 * - phone, international: `+`, a country code of 1–3 digits not starting with 0, 8–15 digits in
 *   total (E.164) in groups joined by single spaces, dashes, dots or a parenthesised group
 *   (`+44 (0)20 7946 0958`, `+1 (415) 555-2671`); ungrouped (`+4930123456`) needs ≥ 10 digits;
 *   groups of exactly 3 digits are a count (`+10 000 000`) unless there are ≥ 11 digits not ending
 *   in 000; a trailing one-digit group or unclosed parenthesis is not part of the number.
 * - phone, North American: `(415) 555-2671`, `415-555-2671`, `415.555.2671`, `415 555 2671`,
 *   optionally led by `1`, the same separator twice, area code and exchange starting with 2–9,
 *   area code not N11. Not phones: bare digit runs (`4155552671`: order numbers, timestamps), dates
 *   (`2023-10-15`), `123-456-7890` (area code 1xx), 7-digit local numbers and other countries'
 *   national formats without `+` — without the `+` or the NANP shape nothing tells a phone number
 *   from any other grouped number.
 * - card: 13–19 digits, ungrouped or printed as 4-4-4-4, 4-4-4-1, 4-4-4-4-3, 4-6-5 or 4-6-4 with
 *   one separator kind (space or dash) and no further digit group glued on, a known network range
 *   for that length, and Luhn.
 * - SSN: only `AAA-GG-SSSS` or `AAA GG SSSS` (nine bare digits are any number), issued ranges only
 *   (see `ssnValid`).
 * - IBAN: upper-case country code of the SWIFT registry, the country's exact length, compact or in
 *   groups of 4 separated by single spaces, check digits 02–98 and mod-97.
 * - IPv4: four octets 0–255 without leading zeros; not part of a longer dotted sequence or glued
 *   to a word (`1.3.6.1.4.1`, `v1.2.3.4`, `x.10.0.0.1`); not after a version or section word
 *   (`version 10.0.0.1`, `OID 1.3.6.1`, `Section 3.2.1.4`). Addresses that name no host —
 *   0.x.x.x, 127.x.x.x (loopback), 255.x.x.x (netmasks) — are skipped.
 * - IPv6: RFC 4291 structure; a compressed (`::`) address also needs ≥ 2 groups, one of ≥ 3 hex
 *   digits and a decimal digit somewhere, which `::1`, `a::b` and Python slices (`x[1::2]`) lack.
 *   Times (`12:30:45`) and MAC addresses have the wrong group count.
 * - secret: `sk-`/`sk-proj-`/`sk-ant-` + ≥ 20 chars holding upper case, lower case and a digit
 *   (so "sk-ills" and "sk-learn-style-words-2024" are not keys); `AKIA`/`ASIA` + 16 [A-Z0-9];
 *   `ghp_` (gho_, ghu_, ghs_, ghr_) + 36 alphanumerics; `github_pat_` + ≥ 40; `xox[baprs]-` + ≥ 20
 *   with a digit; `AIza` + 35; Stripe `sk_live_`/`rk_live_` + ≥ 16 with a letter and a digit
 *   (test-mode keys are out of scope: documentation the model reproduces is full of them); PEM
 *   blocks whose label ends in PRIVATE KEY with ≥ 64 base64 chars of body (an elided `...` body,
 *   or one cut after the ASN.1 header every key shares, is a template); `Bearer <token>` with ≥ 20
 *   token68 chars holding a letter and a digit (the finding is the token); JWTs
 *   `eyJ….eyJ…[.sig]`. Documentation placeholders — `AKIAIOSFODNN7EXAMPLE`, `sk-xxxx…`,
 *   `YOUR_API_KEY`, `...` — are not reported (see `isPlaceholderSecret`).
 *
 * Findings never overlap; positions are UTF-16 indices into the text. Only the first
 * `maxScanChars` characters are scanned, so a value straddling that limit is cut off or missed.
 */
export class PiiScanner {
  private readonly mask: number;
  private readonly maxScanChars: number;
  private readonly maxFindings: number;

  // Per-scan state, reset by scan().
  private text = '';
  private limit = 0;
  private lastEnd = 0;
  // The result under construction: NO_PII until the first finding.
  private out: PiiScanResult = NO_PII;
  private counts: Record<PiiType, number> | null = null;
  private findings: PiiFinding[] | null = null;

  // Digit-cluster scratch: group start, group length, separator after the group.
  private readonly gs = new Int32Array(MAX_GROUPS);
  private readonly gl = new Int32Array(MAX_GROUPS);
  private readonly sp = new Int8Array(MAX_GROUPS);
  private groups = 0;

  // The last maximal run of KEY (index 0) and TOKEN68 (index 1) chars: [runFrom, runTo).
  private readonly runFrom = new Int32Array(2);
  private readonly runTo = new Int32Array(2);

  /**
   * @param options.types Types to detect (default: all).
   * @param options.maxScanChars Characters scanned from the start of each text (default 65 536):
   *   bounds the cost of a huge output.
   * @param options.maxFindings Findings kept per result (default 100); `total` and `counts` still
   *   count every finding.
   */
  constructor(options: { types?: readonly PiiType[]; maxScanChars?: number; maxFindings?: number } = {}) {
    const { types, maxScanChars = 65_536, maxFindings = 100 } = options;
    if (!Number.isSafeInteger(maxScanChars) || maxScanChars < 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxScanChars must be a non-negative integer, got ${String(maxScanChars)}`, {
        details: { key: 'maxScanChars' },
      });
    }
    if (!Number.isSafeInteger(maxFindings) || maxFindings < 0) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `maxFindings must be a non-negative integer, got ${String(maxFindings)}`, {
        details: { key: 'maxFindings' },
      });
    }
    let mask = ALL_TYPES;
    if (types !== undefined) {
      mask = 0;
      for (const t of types) {
        const index = TYPES.indexOf(t);
        if (index < 0) {
          throw new VigilError('VIGIL_CONFIG_INVALID', `unknown PII type ${JSON.stringify(t)}; expected one of ${TYPES.join(', ')}`, {
            details: { key: 'types' },
          });
        }
        mask |= 1 << index;
      }
    }
    this.mask = mask;
    this.maxScanChars = maxScanChars;
    this.maxFindings = maxFindings;
  }

  /**
   * Scans the first `maxScanChars` characters of `text`. Returns {@link NO_PII} (no allocation)
   * when nothing is found or `text` is null or empty.
   */
  scan(text: string | null): PiiScanResult {
    if (text === null || text.length === 0 || this.mask === 0) return NO_PII;
    const n = Math.min(text.length, this.maxScanChars);
    this.text = text;
    this.limit = n;
    this.lastEnd = 0;
    this.out = NO_PII;
    this.counts = null;
    this.findings = null;
    this.runTo.fill(-1);
    const mask = this.mask;
    const numeric = (mask & NUMERIC_TYPES) !== 0;
    const words = (mask & ((1 << T_SECRET) | (1 << T_IBAN))) !== 0;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      const f = CLS_ALL[c];
      if ((f & WORD) !== 0) {
        // A word starts here: dispatch on its first char, then skip the rest of the word.
        let next = i + 1;
        if ((f & (DIGIT | START)) !== 0) {
          if ((f & DIGIT) !== 0) {
            if (numeric) {
              // Most numbers in prose are one short group ("10 seconds"): no value starts there.
              let j = next;
              while (j < n && isDigit(text.charCodeAt(j))) j++;
              next = j - i >= 13 || joinsGroups(text.charCodeAt(j), text.charCodeAt(j + 1), text.charCodeAt(j + 2)) ? this.numeric(i, PREFIX_NONE) : j;
            }
          } else if (words) {
            // Two chars tell whether a secret prefix or an IBAN country code can start here.
            const c2 = text.charCodeAt(i + 1);
            if (c2 < 128 && PAIRS[(c << 7) | c2] !== 0) next = this.wordStart(i, c, f);
          }
          // A detector that stopped after the word (or on a non-word char) leaves nothing to skip.
          if ((CLS_ALL[text.charCodeAt(next - 1)] & WORD) === 0) {
            i = next;
            continue;
          }
        }
        i = next;
        while (i < n && (CLS_ALL[text.charCodeAt(i)] & WORD) !== 0) i++;
        continue;
      }
      if ((f & PUNCT) !== 0 && punctMayStart(c, text.charCodeAt(i + 1))) {
        i = this.punct(i, c);
        // A detector may stop inside a word ("12:30pm"): its rest starts nothing.
        if ((CLS_ALL[text.charCodeAt(i - 1)] & WORD) === 0) continue;
        while (i < n && (CLS_ALL[text.charCodeAt(i)] & WORD) !== 0) i++;
        continue;
      }
      i++;
    }
    // Every statement after the loop runs on every scan: a branch that only texts with findings
    // took would lack type feedback when V8 optimizes scan() on clean texts, and reaching it would
    // deoptimize scan() again and again.
    this.text = '';
    const out = this.out;
    this.out = NO_PII;
    this.findings = null;
    this.counts = null;
    return out;
  }

  private record(type: number, start: number, end: number, subtype: string | undefined): void {
    this.lastEnd = end;
    let counts = this.counts;
    let findings = this.findings;
    if (counts === null || findings === null) {
      counts = { email: 0, phone: 0, credit_card: 0, ssn: 0, iban: 0, ip_address: 0, secret: 0 };
      findings = [];
      this.counts = counts;
      this.findings = findings;
      this.out = { total: 0, counts, findings };
    }
    const t = TYPES[type];
    this.out.total++;
    counts[t]++;
    if (findings.length >= this.maxFindings) return;
    const finding: PiiFinding = { type: t, start, length: end - start, masked: maskValue(t, this.text.slice(start, end)) };
    if (subtype !== undefined) finding.subtype = subtype;
    findings.push(finding);
  }

  private on(type: number): boolean {
    return (this.mask & (1 << type)) !== 0;
  }

  private at(i: number): number {
    return i < this.limit ? this.text.charCodeAt(i) : -1;
  }

  /** Punctuation triggers; returns where scanning resumes (> i). */
  private punct(i: number, c: number): number {
    const next = this.at(i + 1);
    switch (c) {
      case 64: // @
        return this.on(T_EMAIL) ? this.email(i) : i + 1;
      case 58: // :
        return this.on(T_IP) && ((cls(next) & HEX) !== 0 || next === 58) ? this.ipv6(i) : i + 1;
      case 43: // +
      case 40: // (
        if (isDigit(next) && (i === 0 || (cls(this.text.charCodeAt(i - 1)) & WORD) === 0) && (this.mask & NUMERIC_TYPES) !== 0) {
          return this.numeric(i + 1, c === 43 ? PREFIX_PLUS : PREFIX_PAREN);
        }
        return i + 1;
      case 45: // -
        if (next === 45 && this.on(T_SECRET) && this.text.startsWith('----BEGIN ', i + 1)) return this.pem(i);
        return i + 1;
      default:
        return i + 1;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Numbers: phones, cards, SSNs, IPv4
  // -------------------------------------------------------------------------------------------

  /** A digit cluster starting at digit `p` (after '+' or '(' for those prefixes). */
  private numeric(p: number, prefix: number): number {
    const end = this.parseCluster(p, prefix === PREFIX_PAREN);
    if (prefix === PREFIX_NONE && p >= 2) {
      // "v1.2.3.4", "x.10.0.0.1", "ORD-2023-10-4567": a continuation of a word, not a value.
      const prev = this.text.charCodeAt(p - 1);
      if ((prev === 46 || prev === 45) && (cls(this.text.charCodeAt(p - 2)) & WORD) !== 0) return end;
    }
    const cnt = this.groups;
    const gl = this.gl;
    if (prefix !== PREFIX_PLUS && cnt < 3 && gl[0] < 13 && (cnt < 2 || gl[1] < 13)) return end;
    const sp = this.sp;
    let afterMatch = false;
    for (let k = 0; k < cnt; k++) {
      if (k > 0 && !afterMatch && sp[k - 1] !== SEP_SPACE && sp[k - 1] !== SEP_SPACE_OPEN) continue;
      const m = this.classify(k, prefix);
      afterMatch = m >= 0;
      if (m >= 0) k = m;
    }
    return end;
  }

  private parseCluster(p: number, openAtStart: boolean): number {
    const t = this.text;
    const n = this.limit;
    const gs = this.gs;
    const gl = this.gl;
    const sp = this.sp;
    let open = openAtStart;
    let k = 0;
    let pos = p;
    for (;;) {
      const s = pos;
      while (pos < n && isDigit(t.charCodeAt(pos))) pos++;
      gs[k] = s;
      gl[k] = pos - s;
      sp[k] = SEP_NONE;
      k++;
      if (k === MAX_GROUPS || pos >= n) break;
      const c = t.charCodeAt(pos);
      const c2 = this.at(pos + 1);
      let q = -1;
      let kind = SEP_NONE;
      if (open) {
        if (c === 41) {
          if (isDigit(c2)) {
            q = pos + 1;
            kind = SEP_CLOSE;
          } else if ((c2 === 32 || c2 === 45 || c2 === 46) && isDigit(this.at(pos + 2))) {
            q = pos + 2;
            kind = SEP_CLOSE;
          }
          open = false;
        }
      } else if (c === 32 || c === 45 || c === 46) {
        if (isDigit(c2)) {
          q = pos + 1;
          kind = c === 32 ? SEP_SPACE : c === 45 ? SEP_DASH : SEP_DOT;
        } else if (c === 32 && c2 === 40 && isDigit(this.at(pos + 2))) {
          q = pos + 2;
          kind = SEP_SPACE_OPEN;
          open = true;
        }
      }
      if (q < 0) break;
      sp[k - 1] = kind;
      pos = q;
    }
    // "… 0958 (24/7 line)": a parenthesised group that never closes is not part of the number.
    if (open && k > 1 && sp[k - 2] === SEP_SPACE_OPEN) {
      k--;
      sp[k - 1] = SEP_NONE;
      pos = gs[k - 1] + gl[k - 1];
    }
    this.groups = k;
    return pos;
  }

  /** Tries every numeric type at group `k`; returns the last group of the match or -1. */
  private classify(k: number, prefix: number): number {
    if (k === 0 && prefix === PREFIX_PLUS) return this.on(T_PHONE) ? this.intlPhone() : -1;
    let m = -1;
    if (this.on(T_IP)) m = this.ipv4(k);
    if (m < 0 && this.on(T_SSN)) m = this.ssn(k);
    if (m < 0 && this.on(T_CARD)) m = this.card(k);
    if (m < 0 && this.on(T_PHONE)) m = this.nanp(k, prefix);
    return m;
  }

  /** Digit value of `len` digits at `start`. */
  private num(start: number, len: number): number {
    let v = 0;
    for (let i = start; i < start + len; i++) v = v * 10 + (this.text.charCodeAt(i) - 48);
    return v;
  }

  private groupEnd(m: number): number {
    return this.gs[m] + this.gl[m];
  }

  /** True when group `m` is followed by a separator that glues more digits to it. */
  private continues(m: number): boolean {
    if (m >= this.groups - 1) return (cls(this.at(this.groupEnd(m))) & WORD) !== 0;
    const s = this.sp[m];
    return s !== SEP_SPACE && s !== SEP_SPACE_OPEN;
  }

  /** True when the groups `k..m` joined by spaces have another space-joined group on either side. */
  private spacedNeighbours(k: number, m: number): boolean {
    return (k > 0 && this.sp[k - 1] === SEP_SPACE) || (m < this.groups - 1 && this.sp[m] === SEP_SPACE);
  }

  private ipv4(k: number): number {
    const { gs, gl, sp } = this;
    if (k + 3 >= this.groups || sp[k] !== SEP_DOT || sp[k + 1] !== SEP_DOT || sp[k + 2] !== SEP_DOT) return -1;
    const m = k + 3;
    if (m < this.groups - 1 && sp[m] === SEP_DOT) return -1;
    if (m === this.groups - 1 && (cls(this.at(this.groupEnd(m))) & WORD) !== 0) return -1;
    const start = gs[k];
    const end = this.groupEnd(m);
    if (!ipv4Valid(this.text, start, end)) return -1;
    const first = this.num(gs[k], gl[k]);
    if (first === 0 || first === 127 || first === 255) return -1;
    if (this.afterVersionWord(start)) return -1;
    this.record(T_IP, start, end, 'ipv4');
    return m;
  }

  /** Whether the word before `start` (skipping up to 3 of " .:=#") is a version word. */
  private afterVersionWord(start: number): boolean {
    const t = this.text;
    let p = start;
    for (let skipped = 0; p > 0 && skipped < 3; skipped++) {
      const c = t.charCodeAt(p - 1);
      if (c !== 32 && c !== 46 && c !== 58 && c !== 61 && c !== 35) break;
      p--;
    }
    const wordEnd = p;
    while (p > 0 && wordEnd - p < 10 && (cls(t.charCodeAt(p - 1)) & (UPPER | LOWER)) !== 0) p--;
    if (p === wordEnd || wordEnd - p > 9) return false;
    return VERSION_WORDS.has(t.slice(p, wordEnd).toLowerCase());
  }

  private ssn(k: number): number {
    const { gs, gl, sp } = this;
    if (k + 2 >= this.groups || gl[k] !== 3 || gl[k + 1] !== 2 || gl[k + 2] !== 4) return -1;
    const sep = sp[k];
    if ((sep !== SEP_DASH && sep !== SEP_SPACE) || sp[k + 1] !== sep) return -1;
    const m = k + 2;
    if (this.continues(m)) return -1;
    if (sep === SEP_SPACE && this.spacedNeighbours(k, m)) return -1;
    if (!ssnValid(this.num(gs[k], 3), this.num(gs[k + 1], 2), this.num(gs[m], 4))) return -1;
    this.record(T_SSN, gs[k], this.groupEnd(m), undefined);
    return m;
  }

  private card(k: number): number {
    const { gl, sp } = this;
    let m = k;
    if (gl[k] >= 13) {
      if (gl[k] > 19) return -1;
    } else {
      const sep = sp[k];
      if (gl[k] !== 4 || (sep !== SEP_SPACE && sep !== SEP_DASH)) return -1;
      while (m + 1 < this.groups && sp[m] === sep) m++;
      let digits = 0;
      for (let j = k; j <= m; j++) digits += gl[j];
      if (digits < 13 || digits > 19) return -1;
      // Printed groupings: 4-4-4-4, 4-4-4-1 (13), 4-4-4-4-3 (19), Amex 4-6-5, Diners 4-6-4.
      let fours = digits === 13 || digits === 16 || digits === 19;
      for (let j = k; j < m && fours; j++) if (gl[j] !== 4) fours = false;
      if (!fours && !(m === k + 2 && gl[k + 1] === 6 && (gl[m] === 5 || gl[m] === 4))) return -1;
      if (sep === SEP_SPACE && k > 0 && sp[k - 1] === SEP_SPACE) return -1;
    }
    if (this.continues(m)) return -1;
    const start = this.gs[k];
    const end = this.groupEnd(m);
    const brand = cardBrand(this.text, start, end);
    if (brand === undefined || !luhnValid(this.text, start, end)) return -1;
    this.record(T_CARD, start, end, brand);
    return m;
  }

  private nanp(k: number, prefix: number): number {
    const { gs, gl, sp, text } = this;
    let a = k;
    if (gl[k] === 1 && text.charCodeAt(gs[k]) === 49 && sp[k] !== SEP_NONE && sp[k] !== SEP_CLOSE) a = k + 1;
    if (a + 2 >= this.groups || gl[a] !== 3 || gl[a + 1] !== 3 || gl[a + 2] !== 4) return -1;
    const paren = (a === 0 && prefix === PREFIX_PAREN) || (a > 0 && sp[a - 1] === SEP_SPACE_OPEN);
    const sep = sp[a + 1];
    if (sep !== SEP_DASH && sep !== SEP_DOT && sep !== SEP_SPACE) return -1;
    if (paren) {
      if (sp[a] !== SEP_CLOSE) return -1;
    } else if (sp[a] !== sep || (a > k && sp[k] !== sep)) {
      return -1;
    }
    const m = a + 2;
    if (this.continues(m)) return -1;
    if (!paren && sep === SEP_SPACE && this.spacedNeighbours(k, m)) return -1;
    const area = gs[a];
    const c0 = text.charCodeAt(area);
    if (c0 < 50 || (text.charCodeAt(area + 1) === 49 && text.charCodeAt(area + 2) === 49)) return -1;
    if (text.charCodeAt(gs[a + 1]) < 50) return -1;
    const start = paren && a === k ? gs[a] - 1 : gs[k];
    this.record(T_PHONE, start, this.groupEnd(m), 'nanp');
    return m;
  }

  private intlPhone(): number {
    const { gs, gl, text } = this;
    const cnt = this.groups;
    if (text.charCodeAt(gs[0]) === 48) return -1;
    let m = 0;
    let digits = gl[0];
    while (m + 1 < cnt && digits + gl[m + 1] <= 15) {
      m++;
      digits += gl[m];
    }
    while (m > 0 && gl[m] === 1) {
      digits -= 1;
      m--;
    }
    if (m === 0) {
      if (digits < 10 || digits > 15) return -1;
    } else {
      if (digits < 8 || gl[0] > 3) return -1;
      // "+10 000 000" is a count: all-3-digit groups are only a phone when long and not ending 000.
      let threes = m >= 2;
      for (let j = 1; j <= m && threes; j++) if (gl[j] !== 3) threes = false;
      if (threes && (digits < 11 || this.num(gs[m], 3) === 0)) return -1;
    }
    if (this.continues(m)) return -1;
    this.record(T_PHONE, gs[0] - 1, this.groupEnd(m), 'international');
    return m;
  }

  // -------------------------------------------------------------------------------------------
  // E-mail, IPv6, PEM
  // -------------------------------------------------------------------------------------------

  private email(at: number): number {
    const t = this.text;
    const n = this.limit;
    if (at === 0 || (cls(t.charCodeAt(at - 1)) & (WORD | LOCAL)) === 0 || (cls(this.at(at + 1)) & WORD) === 0) return at + 1;
    const floor = Math.max(this.lastEnd, at - 64);
    let s = at;
    while (s > floor && (cls(t.charCodeAt(s - 1)) & LOCAL) !== 0) s--;
    if (s === floor && s > 0 && (cls(t.charCodeAt(s - 1)) & LOCAL) !== 0) return at + 1;
    while (s < at && (cls(t.charCodeAt(s)) & WORD) === 0) s++;
    if (s === at || t.charCodeAt(at - 1) === 46) return at + 1;
    for (let p = s + 1; p < at; p++) if (t.charCodeAt(p) === 46 && t.charCodeAt(p - 1) === 46) return at + 1;

    let e = at + 1;
    const lim = Math.min(n, at + 254);
    while (e < lim && (cls(t.charCodeAt(e)) & DOMAIN) !== 0) e++;
    while (e > at + 1 && (t.charCodeAt(e - 1) === 46 || t.charCodeAt(e - 1) === 45)) e--;
    let labels = 0;
    let labelStart = at + 1;
    for (let p = at + 1; p <= e; p++) {
      if (p < e && t.charCodeAt(p) !== 46) continue;
      const len = p - labelStart;
      if (len < 1 || len > 63 || t.charCodeAt(labelStart) === 45 || t.charCodeAt(p - 1) === 45) return at + 1;
      labels++;
      if (p < e) labelStart = p + 1;
    }
    if (labels < 2) return at + 1;
    const tldLen = e - labelStart;
    if (tldLen < 2 || tldLen > 24) return at + 1;
    for (let p = labelStart; p < e; p++) if ((cls(t.charCodeAt(p)) & (UPPER | LOWER)) === 0) return at + 1;
    if (NOT_TLDS.has(t.slice(labelStart, e).toLowerCase())) return at + 1;
    if ((cls(this.at(e)) & WORD) !== 0) return at + 1;
    // "git@github.com:org/repo.git" is an scp-like remote, not a mailbox.
    if (this.at(e) === 58 && e + 1 < n && this.at(e + 1) !== 32 && this.at(e + 1) !== 10) return at + 1;
    this.record(T_EMAIL, s, e, undefined);
    return e;
  }

  private ipv6(colon: number): number {
    const t = this.text;
    const n = this.limit;
    const floor = Math.max(this.lastEnd, colon - 39);
    let s = colon;
    while (s > floor && ((cls(t.charCodeAt(s - 1)) & HEX) !== 0 || t.charCodeAt(s - 1) === 58)) s--;
    if (s > 0) {
      // Inside a word ("SSN:123", "key:value"): what follows the colon may still be a value.
      const before = t.charCodeAt(s - 1);
      if ((cls(before) & WORD) !== 0 || before === 46 || before === 58) return colon + 1;
    }
    let e = colon;
    while (e < n && ((cls(t.charCodeAt(e)) & HEX) !== 0 || t.charCodeAt(e) === 58 || t.charCodeAt(e) === 46)) e++;
    while (e > colon && t.charCodeAt(e - 1) === 46) e--;
    const resume = Math.max(e, colon + 1);
    if ((cls(this.at(e)) & WORD) !== 0 || e - s > 45 || e - s < 3) return resume;
    if (!ipv6Valid(t, s, e)) return resume;
    let groups = 1;
    let compressed = false;
    let decimal = false;
    let longest = 0;
    let run = 0;
    for (let p = s; p < e; p++) {
      const c = t.charCodeAt(p);
      if (c === 58) {
        if (p > s && t.charCodeAt(p - 1) === 58) compressed = true;
        else groups++;
        run = 0;
      } else {
        if (isDigit(c)) decimal = true;
        run++;
        if (run > longest) longest = run;
      }
    }
    if (compressed) {
      if (t.charCodeAt(s) === 58) groups--;
      if (t.charCodeAt(e - 1) === 58) groups--;
      if (groups < 2 || longest < 3 || !decimal) return resume;
    }
    this.record(T_IP, s, e, 'ipv6');
    return resume;
  }

  private pem(i: number): number {
    const t = this.text;
    const n = this.limit;
    const labelStart = i + 11;
    let p = labelStart;
    while (p < n && p - labelStart < 40 && t.charCodeAt(p) !== 45 && t.charCodeAt(p) !== 10) p++;
    if (!t.startsWith('-----', p) || p + 5 > n) return i + 1;
    const label = t.slice(labelStart, p);
    if (!label.endsWith('PRIVATE KEY') && label !== 'PGP PRIVATE KEY BLOCK') return p;
    let e = p + 5;
    let bodyChars = 0;
    let end = -1;
    let q = e;
    while (q < n) {
      const c = t.charCodeAt(q);
      if (c === 45) {
        if (t.startsWith('-----END ', q)) {
          let close = q + 9;
          while (close < n && close - q < 60 && t.charCodeAt(close) !== 45) close++;
          if (t.startsWith('-----', close) && close + 5 <= n) end = close + 5;
          break;
        }
        q++;
        continue;
      }
      const f = cls(c);
      if ((f & WORD) !== 0 || c === 43 || c === 47 || c === 61) {
        if (c !== 95) bodyChars++;
        q++;
        e = q;
      } else if (c === 10 || c === 13 || c === 32 || c === 9 || c === 58 || c === 44) {
        q++;
      } else {
        break;
      }
    }
    if (bodyChars < 64) return Math.max(q, i + 1);
    const stop = end > 0 ? end : e;
    this.record(T_SECRET, i, stop, 'private_key');
    return stop;
  }

  // -------------------------------------------------------------------------------------------
  // Words: provider keys, JWTs, bearer tokens, IBANs
  // -------------------------------------------------------------------------------------------

  private wordStart(i: number, c: number, f: number): number {
    if (this.on(T_SECRET)) {
      const e = this.secretAt(i, c, true);
      if (e > 0) return e;
    }
    if ((f & UPPER) !== 0 && this.on(T_IBAN)) {
      const e = this.iban(i);
      if (e > 0) return e;
    }
    return i + 1;
  }

  /** Returns the end of a secret starting at `i`, or -1. */
  private secretAt(i: number, c: number, allowBearer: boolean): number {
    const t = this.text;
    switch (c) {
      case 115: // s
        if (t.startsWith('sk-', i)) return this.skKey(i);
        if (t.startsWith('sk_live_', i)) return this.stripeKey(i, 'stripe_secret_key');
        return -1;
      case 114: // r
        return t.startsWith('rk_live_', i) ? this.stripeKey(i, 'stripe_restricted_key') : -1;
      case 65: // A
        if (t.startsWith('AKIA', i) || t.startsWith('ASIA', i)) return this.fixedKey(i, 4, 16, UPPER | DIGIT, 'aws_access_key');
        if (t.startsWith('AIza', i)) return this.fixedKey(i, 4, 35, KEY, 'google_api_key');
        return -1;
      case 103: // g
        if (this.at(i + 1) === 104 && this.at(i + 3) === 95) {
          const c2 = this.at(i + 2);
          if (c2 === 112 || c2 === 111 || c2 === 117 || c2 === 115 || c2 === 114) return this.fixedKey(i, 4, 36, UPPER | LOWER | DIGIT, 'github_token');
        }
        return t.startsWith('github_pat_', i) ? this.runKey(i, 11, 40, 'github_token') : -1;
      case 120: // x
        if (t.startsWith('xox', i) && this.at(i + 4) === 45) {
          const k = this.at(i + 3);
          if (k === 98 || k === 97 || k === 112 || k === 114 || k === 115) return this.slackToken(i);
        }
        return -1;
      case 101: // e
        return t.startsWith('eyJ', i) ? this.jwt(i) : -1;
      case 66: // B
      case 98: // b
        return allowBearer && t.startsWith('earer', i + 1) ? this.bearer(i) : -1;
      default:
        return -1;
    }
  }

  /**
   * End of the run of chars of class `f` from `p`, or `p + max` if the run is longer. Runs of
   * KEY and TOKEN68 chars contain '-', so a word — and a detector — can start anywhere inside
   * them ("eyJ-eyJ-eyJ-…"): their true end is remembered, and each char of the text is read at
   * most once per class however many detectors start inside the same run.
   */
  private run(p: number, f: number, max: number): number {
    const memo = f === KEY ? 0 : f === TOKEN68 ? 1 : -1;
    if (memo >= 0 && p >= this.runFrom[memo] && p < this.runTo[memo]) return Math.min(this.runTo[memo], p + max);
    const t = this.text;
    const n = memo >= 0 ? this.limit : Math.min(this.limit, p + max);
    let e = p;
    while (e < n) {
      const c = t.charCodeAt(e);
      if (c >= 128 || (CLS[c] & f) === 0) break;
      e++;
    }
    if (memo >= 0) {
      this.runFrom[memo] = p;
      this.runTo[memo] = e;
    }
    return Math.min(e, p + max);
  }

  /** Upper case, lower case and digit each appear in `[s, e)`. */
  private mixed(s: number, e: number): number {
    let seen = 0;
    for (let p = s; p < e; p++) seen |= cls(this.text.charCodeAt(p)) & (UPPER | LOWER | DIGIT);
    return seen;
  }

  private placeholder(s: number, e: number): boolean {
    return isPlaceholderSecret(this.text.slice(s, e));
  }

  private skKey(i: number): number {
    const t = this.text;
    let body = i + 3;
    let subtype = 'openai_api_key';
    if (t.startsWith('ant-', body)) {
      subtype = 'anthropic_api_key';
      body += 4;
    } else if (t.startsWith('proj-', body)) {
      subtype = 'openai_project_key';
      body += 5;
    } else if (t.startsWith('svcacct-', body)) {
      body += 8;
    } else if (t.startsWith('admin-', body)) {
      body += 6;
    }
    let e = this.run(i + 3, KEY, MAX_KEY);
    while (e > body && (t.charCodeAt(e - 1) === 45 || t.charCodeAt(e - 1) === 95)) e--;
    if (e - body < 20 || e - i >= MAX_KEY) return -1;
    if (this.mixed(body, e) !== (UPPER | LOWER | DIGIT) || this.placeholder(body, e)) return -1;
    this.record(T_SECRET, i, e, subtype);
    return e;
  }

  private stripeKey(i: number, subtype: string): number {
    const body = i + 8;
    const e = this.run(body, UPPER | LOWER | DIGIT, MAX_KEY);
    if (e - body < 16 || e - body >= MAX_KEY || (cls(this.at(e)) & WORD) !== 0) return -1;
    const seen = this.mixed(body, e);
    if ((seen & DIGIT) === 0 || (seen & (UPPER | LOWER)) === 0 || this.placeholder(body, e)) return -1;
    this.record(T_SECRET, i, e, subtype);
    return e;
  }

  /** A prefix of `prefixLen` then exactly `bodyLen` chars of class `f`, then a non-key char. */
  private fixedKey(i: number, prefixLen: number, bodyLen: number, f: number, subtype: string): number {
    const body = i + prefixLen;
    const e = this.run(body, f, bodyLen + 1);
    if (e - body !== bodyLen || (cls(this.at(e)) & KEY) !== 0 || this.placeholder(body, e)) return -1;
    this.record(T_SECRET, i, e, subtype);
    return e;
  }

  /** A prefix of `prefixLen` then at least `minLen` chars of [A-Za-z0-9_]. */
  private runKey(i: number, prefixLen: number, minLen: number, subtype: string): number {
    const body = i + prefixLen;
    const e = this.run(body, WORD, MAX_KEY);
    if (e - body < minLen || e - body >= MAX_KEY || (cls(this.at(e)) & KEY) !== 0 || this.placeholder(body, e)) return -1;
    this.record(T_SECRET, i, e, subtype);
    return e;
  }

  private slackToken(i: number): number {
    const body = i + 5;
    let e = this.run(body, KEY, MAX_KEY);
    while (e > body && this.text.charCodeAt(e - 1) === 45) e--;
    if (e - body < 20 || e - body >= MAX_KEY || (this.mixed(body, e) & DIGIT) === 0 || this.placeholder(body, e)) return -1;
    this.record(T_SECRET, i, e, 'slack_token');
    return e;
  }

  private jwt(i: number): number {
    const t = this.text;
    const h = this.run(i, KEY, MAX_JWT_HEADER);
    if (h - i < 10 || this.at(h) !== 46 || !t.startsWith('eyJ', h + 1)) return -1;
    const payload = this.run(h + 1, KEY, MAX_JWT_PART);
    if (payload - h - 1 < 10) return -1;
    let e = payload;
    if (this.at(payload) === 46) {
      const sig = this.run(payload + 1, KEY, MAX_JWT_PART);
      if (sig > payload + 1) e = sig;
    }
    this.record(T_SECRET, i, e, 'jwt');
    return e;
  }

  private bearer(i: number): number {
    const t = this.text;
    let q = i + 6;
    while (q < this.limit && q - i < 9 && t.charCodeAt(q) === 32) q++;
    if (q === i + 6 || q - i >= 9) return -1;
    const c = this.at(q);
    if ((cls(c) & START) !== 0) {
      const e = this.secretAt(q, c, false);
      if (e > 0) return e;
    }
    let e = this.run(q, TOKEN68, MAX_BEARER + 1);
    while (e > q && t.charCodeAt(e - 1) === 46) e--;
    if (e - q < 20 || e - q > MAX_BEARER) return -1;
    const seen = this.mixed(q, e);
    if ((seen & DIGIT) === 0 || (seen & (UPPER | LOWER)) === 0 || this.placeholder(q, e)) return -1;
    this.record(T_SECRET, q, e, 'bearer_token');
    return e;
  }

  private iban(i: number): number {
    const t = this.text;
    const n = this.limit;
    if (!isDigit(this.at(i + 2)) || !isDigit(this.at(i + 3))) return -1;
    const expected = ibanLength(t.charCodeAt(i), this.at(i + 1));
    if (expected === 0) return -1;
    let count = 4;
    let p = i + 4;
    let spaced = -1;
    while (count < expected && p < n) {
      let c = t.charCodeAt(p);
      if (count % 4 === 0) {
        if (c === 32) {
          if (spaced === 0) break;
          spaced = 1;
          p++;
          c = this.at(p);
        } else {
          if (spaced === 1) break;
          spaced = 0;
        }
      }
      if (!isDigit(c) && (c < 65 || c > 90)) break;
      count++;
      p++;
    }
    if (count !== expected || (cls(this.at(p)) & WORD) !== 0) return -1;
    if (spaced === 1 && this.at(p) === 32 && isDigit(this.at(p + 1))) return -1;
    const check = (t.charCodeAt(i + 2) - 48) * 10 + (t.charCodeAt(i + 3) - 48);
    if (check < 2 || check > 98 || ibanMod97(t, i, p) !== 1) return -1;
    this.record(T_IBAN, i, p, t.slice(i, i + 2));
    return p;
  }
}
