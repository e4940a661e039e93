/**
 * Checksum and structure validators behind the PII scanner (`./pii-scanner.ts`): Luhn, card
 * issuer ranges, IBAN lengths and mod-97, US SSN ranges, IPv4/IPv6 structure and placeholder
 * secrets. Every validator reads a range of a string by char code, so the scanner can validate a
 * candidate in place without slicing it.
 *
 * @packageDocumentation
 */

/** Card networks recognised by {@link cardBrand}. */
export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'maestro';

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Luhn (mod-10) check over the ASCII digits of `s[start, end)`; any other character (space, dash)
 * is skipped. False when the range holds no digit.
 */
export function luhnValid(s: string, start = 0, end = s.length): boolean {
  let sum = 0;
  let digits = 0;
  for (let i = end - 1; i >= start; i--) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c)) continue;
    let d = c - 48;
    if ((digits & 1) === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    digits++;
  }
  return digits > 0 && sum % 10 === 0;
}

/**
 * The card network whose issuer range (IIN) and length match the ASCII digits of `s[start, end)`,
 * separators skipped, or `undefined`. Ranges: Visa 4 (13, 16, 19 digits); Mastercard 51–55 and
 * 2221–2720 (16); Amex 34, 37 (15); Discover 6011, 644–649, 65 (16–19); JCB 3528–3589 (16–19);
 * Diners 300–305, 3095, 36, 38, 39 (14–19); UnionPay 62 (16–19); Maestro 50, 56–58, 63, 67 (13–19).
 * The Luhn check is separate ({@link luhnValid}).
 */
export function cardBrand(s: string, start = 0, end = s.length): CardBrand | undefined {
  let len = 0;
  let p6 = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c)) continue;
    if (len < 6) p6 = p6 * 10 + (c - 48);
    len++;
  }
  if (len < 13 || len > 19) return undefined;
  const p1 = Math.floor(p6 / 100_000);
  const p2 = Math.floor(p6 / 10_000);
  const p3 = Math.floor(p6 / 1_000);
  const p4 = Math.floor(p6 / 100);
  if (p1 === 4) return len === 13 || len === 16 || len === 19 ? 'visa' : undefined;
  if (p2 === 34 || p2 === 37) return len === 15 ? 'amex' : undefined;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return len === 16 ? 'mastercard' : undefined;
  if (len < 14) return undefined;
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return len >= 16 ? 'discover' : undefined;
  if (p4 >= 3528 && p4 <= 3589) return len >= 16 ? 'jcb' : undefined;
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return 'diners';
  if (p2 === 62) return len >= 16 ? 'unionpay' : undefined;
  if (p2 === 50 || (p2 >= 56 && p2 <= 58) || p2 === 63 || p2 === 67) return 'maestro';
  return undefined;
}

// IBAN length per country (SWIFT IBAN registry). Index: (first letter - 'A') * 26 + (second - 'A').
const IBAN_LENGTHS = new Uint8Array(26 * 26);
for (const entry of (
  'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 ' +
  'DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 ' +
  'IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 ' +
  'MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 ' +
  'SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
).split(' ')) {
  IBAN_LENGTHS[(entry.charCodeAt(0) - 65) * 26 + (entry.charCodeAt(1) - 65)] = Number(entry.slice(2));
}

/**
 * IBAN length of the country whose ISO 3166 code is the two upper-case letters `c1 c2` (char
 * codes), or 0 when the country does not issue IBANs (or is unknown to the registry table).
 */
export function ibanLength(c1: number, c2: number): number {
  if (c1 < 65 || c1 > 90 || c2 < 65 || c2 > 90) return 0;
  return IBAN_LENGTHS[(c1 - 65) * 26 + (c2 - 65)];
}

/**
 * ISO 13616 mod-97 of the IBAN in `s[start, end)` with spaces skipped: the first four characters
 * moved to the end, letters read as 10–35. A valid IBAN leaves 1. Returns -1 on a character other
 * than A–Z, 0–9 or space, or when fewer than five characters remain.
 */
export function ibanMod97(s: string, start = 0, end = s.length): number {
  let r = 0;
  let head = 0;
  let headEnd = start;
  let body = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) continue;
    if (head < 4) {
      head++;
      headEnd = i + 1;
      continue;
    }
    r = mod97Step(r, c);
    if (r < 0) return -1;
    body++;
  }
  if (body === 0) return -1;
  for (let i = start; i < headEnd; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) continue;
    r = mod97Step(r, c);
    if (r < 0) return -1;
  }
  return r;
}

function mod97Step(r: number, c: number): number {
  if (isDigitCode(c)) return (r * 10 + (c - 48)) % 97;
  if (c >= 65 && c <= 90) return (r * 100 + (c - 55)) % 97;
  return -1;
}

/**
 * Full IBAN check of `s[start, end)` (spaces allowed anywhere, upper case only): a registry
 * country, that country's length, check digits 02–98 and mod-97 = 1.
 */
export function ibanValid(s: string, start = 0, end = s.length): boolean {
  let len = 0;
  let c1 = 0;
  let c2 = 0;
  let check = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) continue;
    if (len === 0) c1 = c;
    else if (len === 1) c2 = c;
    else if (len < 4) {
      if (!isDigitCode(c)) return false;
      check = check * 10 + (c - 48);
    }
    len++;
  }
  const expected = ibanLength(c1, c2);
  if (expected === 0 || len !== expected || check < 2 || check > 98) return false;
  return ibanMod97(s, start, end) === 1;
}

/**
 * Whether `AAA-GG-SSSS` is in the ranges the US Social Security Administration issues: area not
 * 000, 666 or 900–999 (the 9xx block is ITINs and never SSNs), group not 00, serial not 0000, and
 * not one of the two numbers the SSA voided after they were printed in advertising (078-05-1120,
 * 219-09-9999).
 */
export function ssnValid(area: number, group: number, serial: number): boolean {
  if (area <= 0 || area === 666 || area >= 900) return false;
  if (group <= 0 || group > 99 || serial <= 0 || serial > 9999) return false;
  if (area === 78 && group === 5 && serial === 1120) return false;
  if (area === 219 && group === 9 && serial === 9999) return false;
  return true;
}

/**
 * Whether `s[start, end)` is exactly a dotted-quad IPv4 address: four decimal octets 0–255 without
 * leading zeros ("01" is rejected: it is read as octal by some parsers and is usually a date part).
 */
export function ipv4Valid(s: string, start = 0, end = s.length): boolean {
  let octets = 0;
  let i = start;
  while (i < end) {
    const from = i;
    let v = 0;
    while (i < end && isDigitCode(s.charCodeAt(i)) && i - from < 4) {
      v = v * 10 + (s.charCodeAt(i) - 48);
      i++;
    }
    const len = i - from;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(from) === 48)) return false;
    octets++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 46 || octets === 4) return false;
    i++;
    if (i === end) return false;
  }
  return octets === 4;
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Whether `s[start, end)` is a structurally valid IPv6 address (RFC 4291 text forms): eight groups
 * of 1–4 hex digits, or fewer with exactly one `::` standing for at least one zero group, optionally
 * ending in an embedded dotted IPv4 address (which counts as two groups). Zone ids (`%eth0`) and
 * prefix lengths (`/64`) are not part of the range.
 */
export function ipv6Valid(s: string, start = 0, end = s.length): boolean {
  let groups = 0;
  let compressed = false;
  let i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    compressed = true;
    i += 2;
  }
  while (i < end) {
    const from = i;
    while (i < end && isHexCode(s.charCodeAt(i))) i++;
    if (i < end && s.charCodeAt(i) === 46) {
      if (!ipv4Valid(s, from, end)) return false;
      groups += 2;
      break;
    }
    const len = i - from;
    if (len < 1 || len > 4) return false;
    groups++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (compressed) return false;
      compressed = true;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

// A documentation placeholder rather than a live credential. Random key material essentially never
// contains these: a run of six equal characters, an ascending run, an ellipsis or a template word.
const PLACEHOLDER = /example|your|placeholder|redacted|dummy|sample|xxxx|\.\.\.|\*\*\*|<|>|(.)\1{5}|1234567|abcdefg/i;

/**
 * Whether a secret-shaped string is a documentation placeholder rather than key material: it
 * contains (case-insensitive) `example`, `your`, `placeholder`, `redacted`, `dummy`, `sample`,
 * `xxxx`, `...`, `***`, angle brackets, six equal characters in a row, `1234567` or `abcdefg`.
 * AWS's documented `AKIAIOSFODNN7EXAMPLE` and `sk-xxxxxxxx…` are placeholders.
 */
export function isPlaceholderSecret(value: string): boolean {
  return PLACEHOLDER.test(value);
}
