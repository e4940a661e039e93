/**
 * JSON syntax check without building anything: `isJsonText(text)` is true exactly when
 * `JSON.parse(text)` would succeed, but allocates nothing (the parse builds every object, array
 * and string of the document only to throw them away). Runs once per model output that declared
 * `expectedFormat: json`.
 */

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

// Open containers, innermost last: 1 for an object, 0 for an array (nesting has no depth limit,
// as JSON.parse has none).
let stack = new Uint8Array(64);

function skipWhitespace(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return i;
    i++;
  }
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** The index after the string starting with the quote at `i`, or -1. */
function skipString(t: string, i: number): number {
  i++;
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    // NaN (past the end) and control characters end it in error.
    if (!(c >= SPACE)) return -1;
    if (c === BACKSLASH) {
      const e = t.charCodeAt(i + 1);
      if (e === 117) {
        if (!(isHex(t.charCodeAt(i + 2)) && isHex(t.charCodeAt(i + 3)) && isHex(t.charCodeAt(i + 4)) && isHex(t.charCodeAt(i + 5)))) return -1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== QUOTE && e !== BACKSLASH && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) return -1;
      i += 2;
      continue;
    }
    i++;
  }
}

function skipDigits(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (!(c >= ZERO && c <= NINE)) return i;
    i++;
  }
}

/** The index after the number starting at `i`, or -1: `-? (0 | [1-9]d*) (.d+)? ([eE][+-]?d+)?`. */
function skipNumber(t: string, i: number): number {
  if (t.charCodeAt(i) === MINUS) i++;
  const first = t.charCodeAt(i);
  if (first === ZERO) i++;
  else if (first > ZERO && first <= NINE) i = skipDigits(t, i + 1);
  else return -1;
  if (t.charCodeAt(i) === DOT) {
    const j = skipDigits(t, i + 1);
    if (j === i + 1) return -1;
    i = j;
  }
  const e = t.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = t.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    const j = skipDigits(t, i);
    if (j === i) return -1;
    i = j;
  }
  return i;
}

function skipLiteral(t: string, i: number, word: string): number {
  return t.startsWith(word, i) ? i + word.length : -1;
}

/** True exactly when `JSON.parse(text)` succeeds; allocates nothing (beyond a reused stack). */
export function isJsonText(text: string): boolean {
  const t = text;
  let depth = 0;
  let i = skipWhitespace(t, 0);
  for (;;) {
    // A value starts at i (whitespace skipped).
    const c = t.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const object = c === OPEN_BRACE;
      i = skipWhitespace(t, i + 1);
      if (t.charCodeAt(i) === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
        i++;
      } else {
        if (depth === stack.length) {
          const grown = new Uint8Array(2 * stack.length);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = object ? 1 : 0;
        if (object) {
          if (t.charCodeAt(i) !== QUOTE) return false;
          i = skipString(t, i);
          if (i < 0) return false;
          i = skipWhitespace(t, i);
          if (t.charCodeAt(i) !== COLON) return false;
          i = skipWhitespace(t, i + 1);
        }
        continue;
      }
    } else {
      if (c === QUOTE) i = skipString(t, i);
      else if (c === 116) i = skipLiteral(t, i, 'true');
      else if (c === 102) i = skipLiteral(t, i, 'false');
      else if (c === 110) i = skipLiteral(t, i, 'null');
      else i = skipNumber(t, i);
      if (i < 0) return false;
    }
    // After a complete value: close containers, or go on to the next element or member.
    for (;;) {
      i = skipWhitespace(t, i);
      if (depth === 0) return i === t.length;
      const object = stack[depth - 1] === 1;
      const d = t.charCodeAt(i);
      if (d === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
        depth--;
        i++;
        continue;
      }
      if (d !== COMMA) return false;
      i = skipWhitespace(t, i + 1);
      if (object) {
        if (t.charCodeAt(i) !== QUOTE) return false;
        i = skipString(t, i);
        if (i < 0) return false;
        i = skipWhitespace(t, i);
        if (t.charCodeAt(i) !== COLON) return false;
        i = skipWhitespace(t, i + 1);
      }
      break;
    }
  }
}
