/**
 * Detection rules of the prompt-injection scanner (private helper of `prompt-injection-scanner.ts`).
 *
 * Each rule is a regular expression over the normalised view (lower case, accents of Latin letters
 * dropped, whitespace collapsed to one space or newline — see `injection-normalize.ts`) plus its
 * **anchors**: groups of literal keywords such that every match contains at least one keyword of
 * every group. The fast path runs one keyword automaton over the raw text and runs a rule's regex
 * only when every one of its groups was seen, so anchors decide both speed (specific phrases keep
 * benign text off the slow path) and recall (a group that misses a regex alternative loses that
 * alternative). Anchors are therefore generated from the same word lists the regexes are built
 * from, as phrase combinations ({@link combos}) wherever the regex has adjacent words.
 *
 * Regexes have no nested unbounded quantifiers: repetitions are of fixed words or bounded
 * (`{0,60}`), so a match attempt costs at most a constant times the bounded span.
 */
import type { InjectionCategory } from './prompt-injection-scanner.js';

/** Context handed to a rule's confidence adjuster. */
export interface RuleContext {
  /** The normalised text of the window. */
  readonly text: string;
  /** True when `[start, end)` or the text shortly before it reads like source code or an API payload. */
  codeContext(start: number, end: number): boolean;
}

/** One detection rule. */
export interface InjectionRule {
  /** Stable id reported in findings, e.g. `override.ignore-previous`; never matched text. */
  readonly id: string;
  /** What a match is evidence of. */
  readonly category: InjectionCategory;
  /** Base confidence of a match, 0..1 (0: a marker that only opens the slow path). */
  readonly confidence: number;
  /** ISO 639-1 code of the pattern's language, null for English and language-neutral rules. */
  readonly language: string | null;
  /** Global, unicode regex over the normalised view. */
  readonly regex: RegExp;
  /** Anchor groups (at most 8): every match contains one literal of each group. */
  readonly anchors: readonly (readonly string[])[];
  /** Special-token abuse (raises sophistication). */
  readonly specialToken: boolean;
  /** Adjusts the confidence of a match `[start, end)`; returns 0 to drop it. */
  readonly adjust: ((ctx: RuleContext, start: number, end: number) => number) | undefined;
}

interface RuleSpec {
  id: string;
  category: InjectionCategory;
  confidence: number;
  language?: string;
  pattern: string;
  anchors: readonly (readonly string[])[];
  specialToken?: boolean;
  adjust?: (ctx: RuleContext, start: number, end: number) => number;
}

const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

interface TrieNode {
  end: boolean;
  next: Map<string, TrieNode>;
}
function serialise(node: TrieNode): string {
  const alternatives = [...node.next.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([ch, child]) => `${ch === ' ' ? '\\s' : ch.replace(SYNTAX, '\\$&')}${serialise(child)}`);
  if (alternatives.length === 0) return '';
  const body = alternatives.length === 1 ? alternatives[0] : `(?:${alternatives.join('|')})`;
  // Greedy optional: the longer keyword is tried first, as a length-sorted alternation would.
  return node.end ? `(?:${body})?` : body;
}
/**
 * A non-capturing alternation of literal phrases, factored into a prefix trie so the regex engine
 * dispatches on the next character instead of trying every phrase; a space matches one space or
 * newline.
 */
function alt(list: readonly string[]): string {
  const root: TrieNode = { end: false, next: new Map() };
  for (const phrase of new Set(list)) {
    let node = root;
    for (const ch of phrase) {
      let child = node.next.get(ch);
      if (child === undefined) {
        child = { end: false, next: new Map() };
        node.next.set(ch, child);
      }
      node = child;
    }
    node.end = true;
  }
  return `(?:${serialise(root)})`;
}
/** Splits `a|b|c` (spaces are kept: a leading space makes an anchor start at a word). */
function words(s: string): string[] {
  return s.split('|').filter((w) => w.length > 0);
}
/**
 * Anchors for words at a word start (the regex has a word boundary or whitespace before them): the
 * keyword automaton reads punctuation as surrounded by spaces, so a leading space suffices.
 */
function sp(list: readonly string[]): string[] {
  return list.map((w) => ` ${w}`);
}
/** Anchors for words at a word start and followed by whitespace or punctuation. */
function spsp(list: readonly string[]): string[] {
  return list.map((w) => ` ${w} `);
}
/** Every `a + sep + b`. */
function combos(a: readonly string[], b: readonly string[], sep = ' '): string[] {
  return a.flatMap((x) => b.map((y) => `${x}${sep}${y}`));
}

const O: InjectionCategory = 'instruction_override';
const R: InjectionCategory = 'roleplay_jailbreak';
const X: InjectionCategory = 'system_prompt_extraction';
const D: InjectionCategory = 'delimiter_abuse';
const B: InjectionCategory = 'obfuscation';

// Word boundaries that work outside ASCII.
const LB = '(?<![\\p{L}\\p{N}])';
const RB = '(?![\\p{L}\\p{N}])';
// Up to n arbitrary words, each preceded by a space.
const anyWords = (n: number): string => `(?:\\s[^\\s.,;:!?]+){0,${n}}?`;
// A bounded stretch inside one sentence.
const span = (n: number): string => `[^.!?\\n。！？]{0,${n}}?`;

// ---------------------------------------------------------------------------------------------
// English vocabulary
// ---------------------------------------------------------------------------------------------

const EN_CORE_VERBS = words(
  'ignore|ignoring|disregard|disregarding|forget|forgetting|never mind|nevermind|pay no attention to|set aside|put aside|' +
    'discard|dismiss|overlook|override|scrap|ditch|throw out|throw away|erase|wipe|abandon|neglect|forget about|look past',
);
const EN_OVERRIDE_VERBS = [
  ...EN_CORE_VERBS,
  ...words(
    'drop|skip|bypass|overrule|overwrite|nullify|cancel|delete|clear|reset|omit|do not follow|don\'t follow|dont follow|' +
      'do not obey|don\'t obey|stop following|stop obeying|no longer follow|no longer obey|disobey|circumvent|purge|flush|' +
      'leave behind|move past|get rid of|do not adhere to|stop adhering to|stop listening to|do not listen to|don\'t listen to|' +
      'don\'t pay attention to|do not pay attention to|stop paying attention to|pay no heed to|tune out',
  ),
];
// Words allowed between the verb and the qualifier ("ignore all of the previous …").
const EN_FILL = words(
  'all|any|of|the|your|ur|these|those|and|or|every|each|everything|just|simply|now|please|completely|entirely|totally|' +
    'fully|kindly|also|immediately|absolutely|literally|about|previous|prior|such|other|above|earlier',
);
const EN_QUAL = words(
  'all|any|every|each|previous|previously|prior|preceding|above|earlier|former|foregoing|past|initial|original|' +
    'existing|given|your|ur|system|developer|hidden|preset|pre-set|built-in|builtin|aforementioned|above-mentioned|' +
    'underlying|standing|programmed|baseline|internal|safety|openai|openai\'s|anthropic\'s|those|these',
);
const EN_NOUN = words(
  'instructions|instruction|prompts|prompt|rules|rule|directives|directive|guidelines|guideline|guidance|commands|' +
    'constraints|programming|policies|restrictions|limitations|system prompt|system message|safeguards|guardrails|' +
    'training|protocols|directions|context|configuration|persona|briefing',
);
const EN_WEAK_NOUN = words('messages|message|text|content|conversation|input|inputs|requests|tasks|information|statements|sentences|words|lines');
const EN_STRONG_QUAL = words('all|any|every|above|system|your|ur|preceding|foregoing|developer');
// What may follow an override noun to say whose it is ("the rules you were given").
const EN_POST = words(
  'above|you were given|you have been given|you\'ve been given|you got|you received|you have received|given to you|provided to you|' +
    'from before|from earlier|before this|so far|in your system message|in your system prompt|in your prompt|from the system|' +
    'from your developers|from your developer|from openai|you were told|you have been told|you were trained with|you were programmed with|' +
    'that you were given|that you received|that were given to you|that came before|that came earlier|you were instructed with|' +
    'from your operator|from the operator|from your creators|from your creator|from your makers|from the developers|from the developer|' +
    'from your company|from your admins|from your administrator|by your developers|by your developer|by your operator|by the system|' +
    'by openai|of your operator|of the system|of your developers|in your prompt|in your instructions|in your context',
);

const DISMISS_QUAL = words('previous|prior|earlier|preceding|original|initial|old|above|system|existing|former|past|developer|operator');
const DISMISS_NOUN = words(
  'instructions|instruction|directives|directive|rules|guidelines|guidance|prompt|system prompt|context|programming|constraints|policies|orders|commands|restrictions',
);
const DISMISS_PRED = words(
  'no longer matter|no longer matters|no longer apply|no longer applies|no longer valid|no longer in effect|no longer relevant|no longer exist|' +
    'don\'t matter|do not matter|doesn\'t matter|does not matter|irrelevant|cancelled|canceled|void|revoked|a joke|meaningless|null and void|' +
    'must be ignored|should be ignored|can be ignored|are to be ignored|to be ignored|overridden|suspended|lifted|rescinded|invalidated|nullified|' +
    'not binding|non-binding|no longer binding|obsolete and must be ignored',
);
// Intent co-occurrence: two cue families within one sentence, in either order.
const within = (a: string, b: string, n: number): string => `(?:${a}${span(n)}${b}|${b}${span(n)}${a})`;
const CONFIG_NOUN = words(
  'instructions|rules|guidelines|setup|prompt|system prompt|role|programming|commitments|obligations|directives|policy|policies|' +
    'guidance|configuration|persona|constraints|training|restrictions|directions|briefing|preamble|system message',
);
const DISMISS_CUE = words(
  'ignore|disregard|forget|drop|discard|skip|abandon|ditch|scrap|throw out|set aside|override|overrule|bypass|disobey|cancel|revoke|' +
    'no longer apply|no longer applies|no longer in force|no longer in effect|no longer valid|no longer matter|no longer matters|no longer binding|' +
    'applies anymore|apply anymore|don\'t apply|doesn\'t apply|do not apply|does not apply|not apply|has expired|have expired|are void|is void|' +
    'released from|freed from|relieved of|clean slate|start over|not what your|are cancelled|is cancelled|are canceled|is canceled|never mind|nevermind',
);
const MODEL_CONFIG =
  `(?:(?:your|ur|the\\soperator's|your\\soperator's|your\\sdeveloper's|the\\sdeveloper's|the\\ssystem's|the\\smodel's|the\\sassistant's)\\s(?:[a-z'-]+\\s)?${alt(CONFIG_NOUN)}` +
  `|${alt(CONFIG_NOUN)}\\s(?:that\\s)?(?:you\\s(?:were|have\\sbeen|'ve\\sbeen|got)\\s(?:given|assigned|told|set\\sup\\swith|programmed\\swith|handed)|they\\s(?:gave|handed)\\syou|given\\sto\\syou|assigned\\sto\\syou|from\\sbefore|from\\searlier|you\\sgot|you\\sreceived|in\\syour\\sprompt|above\\sthis)` +
  `|(?:everything|anything|nothing|whatever)\\s(?:that\\s)?you\\s(?:were|have\\sbeen|'ve\\sbeen)\\s(?:told|given|instructed)|whatever\\s${alt(CONFIG_NOUN)}\\s(?:they|someone|the\\s[a-z]+)\\sgave\\syou)(?![a-z])`;
const DISCLOSE_CUE = words(
  'show|share|print|echo|repeat|reproduce|quote|recite|reveal|display|output|list|give me|tell me|paste|copy|dump|leak|expose|' +
    'what is|what\'s|what are|what were|what was|write out|spell out|send me',
);
const DISCLOSE_TARGET_WORDS = words(
  'system prompt|system message|developer message|setup message|preamble|initial prompt|initial instructions|hidden instructions|secret instructions|' +
    'configuration prompt|startup prompt|hidden prompt|starting prompt|you were|you have been|given to you|running with|you received|' +
    'came before|before mine|before my|at the beginning|at the very|at the start',
);
const DISCLOSE_TARGET =
  `(?:(?:your|ur)\\s(?:[a-z'-]+\\s)?(?:system\\sprompt|system\\smessage|developer\\smessage|setup\\smessage|preamble|initial\\sprompt|initial\\sinstructions|hidden\\sinstructions|secret\\sinstructions|configuration\\sprompt|startup\\sprompt|hidden\\sprompt|starting\\sprompt)` +
  `|(?:instructions|prompt|preamble|system\\sprompt|rules|guidelines|message|text|configuration)\\s(?:that\\s)?(?:you\\s(?:were|have\\sbeen)\\s(?:given|provided|initiali[sz]ed\\swith|configured\\swith)|given\\sto\\syou|you\\sare\\srunning\\swith|you're\\srunning\\swith|you\\sreceived|that\\scame\\sbefore\\s(?:mine|my)|before\\s(?:mine|my\\s(?:message|question|prompt)))` +
  `|at\\sthe\\s(?:very\\s)?(?:beginning|start)\\sof\\s(?:this|the|our)\\s(?:session|conversation|chat))(?![a-z])`;
const PERSONA_CUE = words(
  'pretend|imagine|assume|suppose|let\'s say|hypothetically|behave as though|behave as if|act as though|act as if|as if|as though|' +
    'role-play|roleplay|role play|persona|simulate|version of you|version of yourself|in character',
);
const SAFETY_NOUN = words('filter|filters|restrictions|limitations|limits|guidelines|policy|policies|safety|training|rules|ethics|guardrails|safeguards|censorship|moderation');
const SAFETY_OFF =
  `(?:(?:(?:your|its|the|all|any)\\s){0,2}(?:(?:content|safety|ethical|moral|openai)\\s)?${alt(SAFETY_NOUN)}\\s(?:(?:is|are|were|was|have\\sbeen|has\\sbeen)\\s)?` +
  `(?:switched\\soff|turned\\soff|disabled|removed|gone|lifted|deleted|off|do\\snot\\sexist|don't\\sexist|does\\snot\\sexist|doesn't\\sexist|no\\slonger\\sexist|no\\slonger\\sapply|suspended|stripped)` +
  `|(?:removed|lifted|disabled|deleted|turned\\soff|switched\\soff|stripped)\\s(?:all\\s)?(?:of\\s)?(?:your|its|the)\\s(?:[a-z]+\\s)?${alt(SAFETY_NOUN)}` +
  `|free\\s(?:of|from)\\s(?:openai\\s|any\\s|all\\s)?(?:policy|policies|rules|restrictions|guidelines|limitations|filters|censorship))(?![a-z])`;

const EN_RESTRICTION_NOUN = words(
  'restrictions|restriction|limitations|limits|filters|filter|filtering|censorship|guidelines|content policy|content policies|' +
    'ethics|ethical guidelines|ethical constraints|ethical principles|ethical boundaries|ethical limits|ethical restrictions|ethical limitations|' +
    'morals|morality|moral compass|moral constraints|moral guidelines|moral limits|safety guidelines|safety measures|' +
    'safety filters|safety rules|safety restrictions|safety protocols|safety features|safety training|safety rules|safeguards|guardrails|' +
    'boundaries|constraints|programming|alignment|rules or restrictions|rules and restrictions|rules or limits|' +
    'rules or guidelines|rules or filters|content filter|content filters|rules for ais|rules for ai|ai rules|openai policies|' +
    'openai policy|usage policies|content policies|policies|safety|ethical|moral|rules',
);
const EN_BYPASS = words(
  'with no|without|without any|free of|free from|freed from|not bound by|unbound by|unconstrained by|unrestricted by|no longer bound by|' +
    'that has no|who has no|which has no|that have no|having no|lacking|devoid of|that ignores|who ignores|ignoring|' +
    'that doesn\'t have|that does not have|who doesn\'t have|who does not have|that doesn\'t follow|that does not follow|' +
    'who doesn\'t follow|who does not follow|that doesn\'t care about|not restricted by|not limited by|liberated from|' +
    'released from|unshackled from|has no|have no|had no|zero|no|wasn\'t bound by|weren\'t bound by|were not bound by|' +
    'was not bound by|not subject to|exempt from|beyond|never given any|never trained with|that has been stripped of|stripped of',
);
const EN_PERSONA_CUE = words(
  'pretend|pretending|imagine you|imagine that you|imagine an|imagine a|act as|act like|acting as|behave as|behave like|roleplay|role-play|' +
    'role play|simulate|emulate|you are|you\'re|you will be|you\'ll be|you become|become|becoming|u r|play the role|play a|play an|' +
    'respond as|answer as|speak as|reply as|as an ai|version of yourself|version of you|from now on|for the rest of|' +
    'you have been|you\'ve been|your character|stay in character|in character as|let\'s play|lets play|i want you to be|' +
    'i want you to act|be an|be a|you were',
);

const EN_JAILBREAK_NAMES = words(
  'dan|stan|dude|mongo tom|betterdan|better dan|antigpt|anti-gpt|evilbot|evil bot|chaosgpt|wormgpt|freedomgpt|basedgpt|' +
    'ucar|apophis|jailbreakgpt|unfiltered gpt|uncensored gpt|developer mode gpt|nsfwgpt|darkgpt|evil-bot|evilgpt|aim|kevin',
);
const EN_NAME_CUE = words(
  'you are|you\'re|you will be|you\'ll be|act as|acting as|pretend to be|pretend you are|play the role of|roleplay as|' +
    'role-play as|become|called|named|known as|simulate|respond as|answer as|speak as|reply as|stay in character as|' +
    'i want you to be|i want you to act as|as|be|you are now|you\'re now|now',
);

const EN_EXTRACT_STRONG = words(
  'repeat|reveal|print|output|dump|leak|disclose|recite|expose|spill|regurgitate|echo|paste|copy|reproduce|write out|' +
    'type out|spell out|divulge|give up|print out|read out|read back|show|display|list|give|share|tell|provide|send|quote',
);
const EN_EXTRACT_WEAK = words(
  'write|state|say|describe|summarize|summarise|translate|explain|return|encode|convert|rewrite|rephrase|paraphrase|' +
    'format|put|render|export|include|insert|append',
);
const EN_EXTRACT_FILL = words(
  'me|us|back|out|to me|again|all|of|the|full|entire|complete|exact|whole|text|contents|content|in|what|is|are|' +
    'everything|from|please|verbatim|exactly|word|for|and|now|just|first|here|so|i|can|see|check|it|was|were',
);
const EN_SYS_PROMPT = words(
  'system prompt|system prompts|system-prompt|systemprompt|system message|system instructions|system instruction|' +
    'system rules|system configuration|system directives|system text|initial prompt|initial instructions|' +
    'initial instruction|original prompt|original instructions|hidden prompt|hidden instructions|secret prompt|' +
    'secret instructions|secret rules|internal instructions|internal prompt|pre-prompt|preprompt|pre prompt|meta prompt|' +
    'meta-prompt|developer message|developer prompt|developer instructions|custom instructions|configuration prompt|' +
    'config prompt|base prompt|starting prompt|first prompt|initialization text|initialisation text|initialization prompt|' +
    'confidential instructions|confidential rules|underlying prompt|underlying instructions|core instructions|master prompt|' +
    'operator instructions|operator prompt|startup instructions|setup instructions|priming prompt|hidden rules|' +
    'private instructions|full prompt|entire prompt|complete prompt|exact prompt|whole prompt|prompt text|instruction set|' +
    'ruleset|rule set|initialization|initialisation|pre-instructions|system directive',
);
const EN_SECRET_SYS = words(
  'hidden preamble|secret preamble|hidden system prompt|hidden system message|hidden prompt|hidden instructions|secret prompt|secret instructions|secret system prompt|' +
    'confidential instructions|confidential system prompt|internal system prompt|hidden rules|secret rules|private instructions|' +
    'hidden system instructions|confidential rules|hidden directives|secret directives',
);
const EN_YOUR_SYS = words(
  'system prompt|system message|system instructions|system rules|initial prompt|initial instructions|pre-prompt|preprompt|' +
    'hidden instructions|secret instructions|hidden prompt|secret prompt|developer message|developer prompt|original instructions|' +
    'original prompt|confidential instructions|custom instructions|system configuration|operator instructions|startup instructions|' +
    'hidden rules|secret rules|system directives|base prompt|meta prompt|meta-prompt|setup message|preamble|hidden preamble',
);
const EN_PLAIN_PROMPT = words('prompt|instructions|rules|guidelines|directives|instruction');
const EN_PROMPT_QUAL = words(
  'full|entire|complete|exact|whole|original|initial|hidden|secret|actual|real|current|own|first|core|confidential|internal|private',
);

const DEV_MODES = words(
  'developer|dev|debug|god|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|sudo|admin|root|evil|chaos|no-limits|nolimits|' +
    'no limits|no limit|unlocked|opposite|maintenance|diagnostic|anarchy',
);

const HEADER_WORDS = words('system|sys|admin|administrator|developer|root|operator|security');
const HEADER_SUFFIX = words('message|prompt|instruction|instructions|note|notice|update|override|alert|command|directive|policy|mode|announcement|administrator|setting|settings');
const HEADER_HEADS = [...HEADER_WORDS, ...combos(HEADER_WORDS, HEADER_SUFFIX), 'important system', ...combos(['important system'], HEADER_SUFFIX)];
const HEADER_HEAD = alt(HEADER_HEADS);

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

const SPECS: RuleSpec[] = [
  // ---- instruction override (English) ----
  {
    id: 'override.ignore-previous',
    category: O,
    confidence: 0.9,
    pattern: `(?<![a-z])${alt(EN_OVERRIDE_VERBS)}(?:\\s${alt(EN_FILL)}){0,3}\\s${alt(EN_QUAL)}${anyWords(2)}\\s${alt(EN_NOUN)}(?![a-z])`,
    anchors: [spsp(EN_OVERRIDE_VERBS), spsp(EN_QUAL), sp(EN_NOUN)],
  },
  {
    id: 'override.ignore-instructions-given',
    category: O,
    confidence: 0.85,
    pattern: `(?<![a-z])${alt(EN_OVERRIDE_VERBS)}(?:\\s${alt(EN_FILL)}){0,3}\\s${alt(EN_NOUN)}\\s${alt(EN_POST)}(?![a-z])`,
    anchors: [spsp(EN_OVERRIDE_VERBS), sp(EN_NOUN), sp(EN_POST)],
  },
  {
    id: 'override.ignore-content-above',
    category: O,
    confidence: 0.45,
    pattern:
      `(?<![a-z])${alt(EN_CORE_VERBS)}(?:\\s${alt(EN_FILL)}){0,3}\\s(?:user(?:'s)?\\s|previous\\s|original\\s)?${alt([...EN_WEAK_NOUN, 'request', 'question', 'task', 'query', 'prompt'])}` +
      `\\s(?:above|before\\sthis|preceding|so\\sfar|earlier|you\\swere\\sgiven|you\\sreceived)(?![a-z])`,
    anchors: [spsp(EN_CORE_VERBS), sp([...EN_WEAK_NOUN, 'request', 'question', 'task', 'query', 'prompt']), sp(words('above|before this|preceding|so far|earlier|you were given|you received'))],
    adjust: (ctx, _start, end) =>
      // "Ignore the request above and instead …" redirects the model; "ignore the message above" alone may be a correction.
      /^[^.!?\n]{0,30}?(?:\binstead\b|\band\s(?:now\s|just\s|only\s)?(?:say|reply|respond|write|print|output|tell|answer|do|translate|return|send))/.test(ctx.text.slice(end, end + 60)) ? 0.8 : 0.45,
  },
  {
    id: 'override.ignore-previous-content',
    category: O,
    confidence: 0.55,
    pattern: `(?<![a-z])${alt(EN_CORE_VERBS)}(?:\\s${alt(EN_FILL)}){0,2}\\s${alt(EN_STRONG_QUAL)}${anyWords(1)}\\s${alt(EN_WEAK_NOUN)}(?![a-z])`,
    anchors: [spsp(EN_CORE_VERBS), spsp(EN_STRONG_QUAL), sp(EN_WEAK_NOUN)],
  },
  {
    id: 'override.ignore-above',
    category: O,
    confidence: 0.85,
    pattern:
      `(?<![a-z])${alt(EN_CORE_VERBS)}\\s(?:all|everything|anything|whatever)(?:\\s(?:that(?:'s|\\sis|\\swas)?|written|said|stated|mentioned|you\\sread|you\\ssee|you\\ssaw|else))?` +
      `\\s(?:above|before\\s(?:this|now|here)|so\\sfar|up\\sto\\s(?:this\\spoint|now|here)|prior\\sto\\s(?:this|now)|preceding\\sthis|earlier|previously\\s(?:said|stated|written))(?![a-z])`,
    anchors: [spsp(EN_CORE_VERBS), spsp(words('all|everything|anything|whatever')), sp(words('above|before this|before now|before here|so far|up to|prior to|preceding|earlier|previously'))],
  },
  {
    id: 'override.ignore-the-above',
    category: O,
    confidence: 0.75,
    pattern: `(?<![a-z])${alt(EN_CORE_VERBS)}\\s(?:the\\s)?(?:above|preceding|foregoing)(?=\\s?(?:[,.;:!?)—–-]|and\\s|then\\s|&|$))`,
    anchors: [spsp(EN_CORE_VERBS), sp(words('above|preceding|foregoing'))],
  },
  {
    id: 'override.forget-told',
    category: O,
    confidence: 0.85,
    pattern:
      `(?<![a-z])${alt(EN_CORE_VERBS)}\\s(?:everything|all|anything|whatever|what|the\\sthings)(?:\\s(?:that|which|of\\swhat))?` +
      `\\s(?:you|u|you've|you\\shave|they|someone|anyone|the\\sdevelopers?|openai|anthropic|the\\ssystem|the\\soperator|the\\sadmins?|your\\s(?:developers?|creators?|programmers?|operators?|makers?|admins?))` +
      `(?:\\s(?:were|was|have|had|has|been|previously|just|already|ever|got|originally|initially)){0,3}` +
      `\\s(?:told|instructed|taught|programmed|given|trained|said|asked|prompted|conditioned|fed|configured|gave\\syou|told\\syou|said\\sto\\syou|instructed\\syou)(?![a-z])`,
    anchors: [
      spsp(EN_CORE_VERBS),
      spsp(words('everything|all|anything|whatever|what|things')),
      sp(words('told|instructed|taught|programmed|given|trained|said|asked|prompted|conditioned|fed|configured|gave')),
    ],
  },
  {
    id: 'override.instructions-dismissed',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:(?:your|ur|the|all|any|all\\sthe|all\\syour|those|these)\\s)?${alt(DISMISS_QUAL)}\\s(?:[a-z'-]+\\s)?${alt(DISMISS_NOUN)}` +
      `(?:\\s(?:you\\s(?:were|have\\sbeen)\\s(?:given|told)|you\\sgot|above\\sthis\\s(?:message|line)|(?:from|by)\\s(?:your|the)\\s[a-z]+))?` +
      `\\s(?:(?:is|are|were|was|have\\sbeen|has\\sbeen|shall\\sbe|will\\sbe)\\s(?:now\\s|hereby\\s|officially\\s|completely\\s|totally\\s)?(?:[a-z]+\\s(?:and\\s)?)?)?${alt(DISMISS_PRED)}(?![a-z])` +
      `|(?<![a-z])everything\\s(?:that\\s)?you\\s(?:were|have\\sbeen|'ve\\sbeen)\\s(?:told|instructed|given|programmed)\\s(?:before|above|earlier|previously|until\\snow)${span(30)}\\s(?:is|are)\\s(?:now\\s)?${alt(DISMISS_PRED)}(?![a-z])`,
    anchors: [sp([...DISMISS_NOUN, 'told', 'instructed', 'given', 'programmed']), sp(DISMISS_PRED)],
  },
  {
    id: 'override.treat-as-void',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:treat|consider|regard|see)\\s(?:all\\s|the\\s|your\\s|any\\s|those\\s|these\\s)*(?:(?:previous|prior|earlier|above|original|initial|system|existing)\\s)?${alt(DISMISS_NOUN)}` +
      `(?:\\s(?:above|before)(?:\\sthis\\s(?:message|line|point))?)?\\sas\\s(?:a\\sjoke|irrelevant|void|fake|a\\stest|obsolete|null|invalid|optional|suggestions|cancelled|canceled|nonexistent|non-existent|expired)(?![a-z])`,
    anchors: [spsp(words('treat|consider|regard|see')), sp(DISMISS_NOUN)],
  },
  {
    id: 'override.regardless',
    category: O,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:regardless\\sof|irrespective\\sof|no\\smatter|despite|notwithstanding)\\s(?:what|whatever|anything)\\s(?:you(?:'ve|\\shave)?\\s(?:been\\s|were\\s)?(?:told|instructed|programmed|trained|taught)|your\\s(?:instructions|rules|guidelines|programming|system\\sprompt|developers|creators)\\s(?:say|said|tell|told|require|dictate))` +
      `|(?<![a-z])(?:regardless\\sof|irrespective\\sof|despite|notwithstanding)\\s(?:your|any|all|the)\\s(?:(?:previous|prior|earlier|original|initial|system|safety|content)\\s)?(?:instructions|rules|guidelines|programming|system\\sprompt|restrictions|policies|training)(?![a-z])`,
    anchors: [sp(words('regardless of|irrespective of|no matter|despite|notwithstanding'))],
  },
  {
    id: 'override.ignore-everything-in-prompt',
    category: O,
    confidence: 0.85,
    pattern:
      `(?<![a-z])${alt(EN_OVERRIDE_VERBS)}\\s(?:everything|all|anything|whatever\\sis|all\\sthe\\stext|all\\scontent)\\s(?:in|from|inside|within|of)\\s(?:your|ur|the)\\s(?:system\\s)?(?:prompt|instructions|context|system\\smessage|configuration|programming|rules|guidelines)(?![a-z])`,
    anchors: [
      spsp(EN_OVERRIDE_VERBS),
      sp(combos(words('everything|all|anything|is|text|content'), words('in|from|inside|within|of'))),
      sp(words('prompt|instructions|context|system message|configuration|programming|rules|guidelines')),
    ],
  },
  {
    id: 'override.intent',
    category: O,
    confidence: 0.65,
    pattern: `(?<![a-z])${within(`${alt(DISMISS_CUE)}(?![a-z])`, MODEL_CONFIG, 80)}`,
    anchors: [sp(DISMISS_CUE), [...sp(CONFIG_NOUN), ' you were told', ' you have been told', " you've been told", ' you were given', ' you were instructed']],
  },
  {
    id: 'override.nothing-applies',
    category: O,
    confidence: 0.7,
    pattern: `(?<![a-z])(?:nothing|none)\\s(?:of\\s(?:what\\s)?)?(?:that\\s)?(?:you\\s(?:were|have\\sbeen|'ve\\sbeen)\\s(?:told|given|instructed)|your\\s(?:setup|instructions|rules|guidelines|prompt|programming|configuration))${span(40)}(?<![a-z])appl(?:ies|y)(?![a-z])`,
    anchors: [sp(words('nothing|none')), sp(words('applies|apply'))],
  },
  {
    id: 'override.new-instructions',
    category: O,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:new|updated|revised|real|actual|true|secret|hidden|override|overriding|admin|priority)\\s(?:(?:system|admin|developer|core)\\s)?` +
      `(?:instructions?|directives?|rules|task|orders|system\\sprompt|prompt|guidelines|objective|mission)\\s?:`,
    anchors: [
      spsp(words('new|updated|revised|real|actual|true|secret|hidden|override|overriding|admin|priority')),
      sp(words('instructions|instruction|directives|directive|rules|task|orders|prompt|guidelines|objective|mission')).map((w) => `${w}:`),
    ],
  },
  {
    id: 'override.your-new-instructions',
    category: O,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:your\\s(?:new|real|actual|true|only|updated)\\s(?:instructions?|task|role|objective|rules|purpose|goal|mission|directive|job|orders|programming)\\s(?:is|are|will\\sbe|now\\sis|now\\sare)` +
      `|the\\s(?:real|actual|true)\\s(?:instructions?|rules|task)\\s(?:is|are))(?![a-z])`,
    anchors: [words('your new|your real|your actual|your true|your only|your updated|the real|the actual|the true')],
  },
  {
    id: 'override.from-now-on',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:from\\snow\\son|from\\sthis\\spoint(?:\\son|\\sforward|\\sonward)?|starting\\snow|henceforth|from\\shere\\son(?:\\sout)?|` +
      `for\\sthe\\srest\\sof\\s(?:this|our|the)\\s(?:conversation|chat|session)|until\\si\\ssay\\s(?:otherwise|stop))` +
      `${span(80)}(?<![a-z])(?:no\\slonger|not\\s(?:follow|obey|adhere|apply|refuse|be\\sbound)|never\\s(?:refuse|follow|mention|say\\sno)|` +
      `ignore|disregard|without\\s(?:any\\s)?(?:restrictions|limits|filters|rules|guidelines|censorship)|unrestricted|unfiltered|uncensored|` +
      `jailbroken|free\\sfrom|override|bypass|do\\sanything|answer\\s(?:anything|everything)|respond\\swithout|comply\\swith\\severything|` +
      `obey\\s(?:me|only)|only\\sobey|only\\sfollow|follow\\sonly|do\\swhatever|no\\s(?:rules|restrictions|limits|filters|guidelines))`,
    anchors: [
      words('from now on|from this point|starting now|henceforth|from here on|for the rest of|until i say'),
      words(
        'no longer|not follow|not obey|not adhere|not apply|not refuse|not be bound|never refuse|never follow|never mention|never say no|ignore|disregard|' +
          'without|unrestricted|unfiltered|uncensored|jailbroken|free from|override|bypass|do anything|answer anything|answer everything|respond without|' +
          'comply with everything|obey me|obey only|only obey|only follow|follow only|do whatever|no rules|no restrictions|no limits|no filters|no guidelines',
      ),
    ],
  },
  {
    id: 'override.from-now-on-weak',
    category: O,
    confidence: 0.3,
    pattern: `(?<![a-z])(?:from\\snow\\son|henceforth),?\\syou\\s(?:will|must|shall|are|should)(?![a-z])`,
    anchors: [words('from now on|henceforth')],
  },
  {
    id: 'override.not-bound',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:you\\s(?:do\\snot|don't|dont|no\\slonger|needn't|need\\snot|won't|will\\snot)\\s(?:have\\sto\\s|need\\sto\\s|must\\s|ever\\s)?` +
      `(?:follow|obey|adhere\\sto|abide\\sby|comply\\swith|respect|listen\\sto|stick\\sto)|` +
      `you\\s(?:are|'re)\\s(?:no\\slonger|not)\\s(?:bound|restricted|limited|constrained|obligated|required|governed)\\s(?:by|to))` +
      `\\s(?:(?:your|the|any|all|openai's|anthropic's|its|those|these|of|such|previous|prior|original|ethical|safety|content)\\s){0,3}` +
      `(?:instructions|rules|guidelines|programming|policies|policy|restrictions|limits|limitations|ethics|morals|terms|training|constraints|filters|guidance|directives)(?![a-z])`,
    anchors: [
      words('you do not|you don\'t|you dont|you no longer|you needn\'t|you need not|you won\'t|you will not|you are no longer|you\'re no longer|you are not|you\'re not'),
      words('instructions|rules|guidelines|programming|policies|policy|restrictions|limits|limitations|ethics|morals|terms|training|constraints|filters|guidance|directives'),
    ],
  },
  {
    id: 'override.override-your-rules',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:override|overrule|bypass|circumvent|disable|deactivate|turn\\soff|switch\\soff|remove|lift|suspend|break|get\\saround|` +
      `work\\saround|evade|unlock|drop|ignore|violate|escape|forget|abandon|shed|ditch|skip|disregard|throw\\soff)` +
      `\\s(?:all\\s)?(?:of\\s)?(?:your|ur|the\\sai's|chatgpt's|openai's|anthropic's|the\\smodel's|the\\sassistant's|its)` +
      `${anyWords(2)}\\s(?:rules|restrictions|guidelines|safety|safeguards|guardrails|filters?|content\\spolic(?:y|ies)|policies|` +
      `programming|limitations|limits|constraints|ethics|ethical|moral|morals|alignment|training|censorship|instructions|directives|` +
      `system\\sprompt|protocols?|principles|boundaries|conditioning)(?![a-z])`,
    anchors: [
      spsp(
        words('override|overrule|bypass|circumvent|disable|deactivate|turn off|switch off|remove|lift|suspend|break|get around|work around|evade|unlock|drop|ignore|violate|escape|forget|abandon|shed|ditch|skip|disregard|throw off'),
      ),
      [...spsp(words('your|ur|its')), ...sp(words('ai\'s|model\'s|assistant\'s|chatgpt\'s|openai\'s|anthropic\'s'))],
      sp(words('rules|restrictions|guidelines|safety|safeguards|guardrails|filter|content polic|policies|programming|limitations|limits|constraints|ethic|moral|alignment|training|censorship|instructions|directives|system prompt|protocol|principles|boundaries|conditioning')),
    ],
  },
  {
    id: 'override.supersede',
    category: O,
    confidence: 0.85,
    pattern:
      `(?<![a-z])(?:this|these|the\\sfollowing|following|my|our)\\s(?:new\\s)?(?:message|instructions?|prompt|rules?|command|directive|order|request|note)s?` +
      `\\s(?:overrides?|supersedes?|replaces?|takes?\\sprecedence\\sover|has\\spriority\\sover|have\\spriority\\sover|outranks?|cancels?|invalidates?|trumps?|overrules?)` +
      `\\s(?:(?:all|any|every|your|the|previous|prior|earlier|system|other|of|original|existing)\\s){1,4}` +
      `(?:instructions|rules|guidelines|directives|system\\sprompt|programming|prompts|commands|policies|orders|guidance)(?![a-z])`,
    anchors: [
      words('override|supersede|replace|precedence|priority|outrank|cancel|invalidate|trump|overrule'),
      words('instructions|rules|guidelines|directives|system prompt|programming|prompts|commands|policies|orders|guidance'),
      combos(words('this|these|following|my|our'), words('new|message|instruction|instructions|prompt|rule|rules|command|commands|directive|directives|order|orders|request|requests|note|notes')),
    ],
  },
  {
    id: 'override.instructions-void',
    category: O,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:(?:your|ur)\\s(?:(?:previous|prior|original|initial|old|earlier|system|current)\\s)?(?:instructions|rules|guidelines|directives|system\\sprompt|programming)` +
      `|the\\s(?:previous|prior|above|earlier|original|initial|system)\\s(?:instructions|rules|guidelines|directives|prompt)` +
      `|(?:all|any)\\s(?:previous|prior|earlier|other)\\s(?:instructions|rules|guidelines|directives))` +
      `(?:\\s(?:you\\s(?:were|have\\sbeen)\\sgiven(?:\\searlier)?))?` +
      `\\s(?:is|are|was|were|have\\sbeen|has\\sbeen)\\s(?:now\\s|hereby\\s|officially\\s)?(?:void|invalid|cancelled|canceled|revoked|null|overridden|` +
      `no\\slonger\\s(?:valid|active|applicable|in\\seffect|relevant|apply)|suspended|lifted|disabled|deactivated|a\\stest|fake|irrelevant|` +
      `superseded|rescinded|withdrawn|replaced|deleted|removed|nullified|not\\sapplicable)(?![a-z])` +
      `|(?<![a-z])(?:previous|prior|earlier|above|original|system)\\s(?:instructions|rules|guidelines|directives)\\sno\\slonger\\sapply`,
    anchors: [
      [
        ...sp(combos(words('your|ur|previous|prior|original|initial|old|earlier|system|current|above'), words('instructions|rules|guidelines|directives|programming|prompt'))),
        ' your system prompt',
        ' ur system prompt',
      ],
      words('void|invalid|cancelled|canceled|revoked|null|overridden|no longer|suspended|lifted|disabled|deactivated|a test|fake|irrelevant|superseded|rescinded|withdrawn|replaced|deleted|removed|nullified|not applicable'),
    ],
  },
  {
    id: 'override.authority-claim',
    category: O,
    confidence: 0.3,
    pattern:
      `(?<![a-z])(?:i\\sam|i'm|im)\\s(?:your|the)\\s(?:(?:lead|chief|senior|head|main|original|actual|real|system|openai|anthropic)\\s){0,2}` +
      `(?:developer|creator|programmer|admin|administrator|owner|operator|maker|sysadmin|engineer|superuser|root\\suser)s?(?![a-z])`,
    anchors: [
      words('i am your|i\'m your|im your|i am the|i\'m the|im the'),
      words('developer|creator|programmer|admin|administrator|owner|operator|maker|sysadmin|engineer|superuser|root user'),
    ],
  },
  {
    id: 'override.admin-override',
    category: O,
    confidence: 0.6,
    pattern:
      `(?:^|\\n|[\\[(:]\\s?)\\s?(?:(?:admin|administrator|developer|root|sudo|maintenance|debug|god|system|master|emergency)\\s(?:override|access\\sgranted|privileges\\sgranted|` +
      `command\\saccepted|authori[sz]ation\\s(?:granted|code|accepted))|(?:admin|root|sudo|god|master|emergency)\\smode\\s(?:activated|enabled|engaged)` +
      `|(?:system|safety|security|content)\\s(?:override|bypass))(?![a-z])` +
      `|(?<![a-z])(?:admin|administrator|developer|root|sudo|system|master|emergency|security|safety)\\s(?:override|bypass)\\s?[:!\\]]`,
    anchors: [
      sp(words('admin|administrator|developer|root|sudo|maintenance|debug|god|system|master|emergency|safety|security|content')),
      sp(words('override|access granted|privileges granted|command accepted|authorization|authorisation|mode activated|mode enabled|mode engaged|bypass')),
    ],
  },

  // ---- role-play / jailbreak (English) ----
  {
    id: 'roleplay.dan',
    category: R,
    confidence: 0.85,
    pattern: `(?<![a-z])${alt(EN_NAME_CUE)}\\s(?:now\\s)?(?:an?\\s|the\\s)?['"]?${alt(EN_JAILBREAK_NAMES)}['"]?(?![a-z])(?!\\s(?:of|from|at|in|on)\\s)`,
    anchors: [sp(EN_JAILBREAK_NAMES), EN_NAME_CUE],
    adjust: (ctx, start, end) => {
      // Names that are also first names or words count only after an explicit persona cue.
      const m = ctx.text.slice(start, end);
      if (/^(?:as|be|now)\s/.test(m) && /(?:dan|stan|dude|aim|kevin)['"]?$/.test(m)) return 0.3;
      return /(?:aim|kevin)['"]?$/.test(m) && !/(?:named|called|known\sas)/.test(m) ? 0.3 : 0.85;
    },
  },
  {
    id: 'roleplay.do-anything-now',
    category: R,
    confidence: 0.9,
    pattern: `(?<![a-z])(?:stands?\\sfor\\s["']?do\\sanything\\snow|you${span(40)}do\\sanything\\snow|dan${span(30)}do\\sanything\\snow|do\\sanything\\snow${span(20)}(?:dan|mode))`,
    anchors: [words('do anything now')],
  },
  {
    id: 'roleplay.do-anything-now-mention',
    category: R,
    confidence: 0.4,
    pattern: `(?<![a-z])do\\sanything\\snow(?![a-z])`,
    anchors: [words('do anything now')],
  },
  {
    id: 'roleplay.jailbroken',
    category: R,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:(?:you\\s(?:are|have\\sbeen|are\\snow|were)|you're|you've\\sbeen|i\\shave|i've|now)\\s(?:now\\s)?(?:been\\s)?jailbr(?:oken|eaked)` +
      `|jailbreak(?:ed)?\\s(?:mode|enabled|activated|successful|protocol|prompt\\sactivated)|(?:enter|activate|enable|switch\\sto|turn\\son|engage)\\s(?:the\\s)?jailbreak` +
      `|\\[(?:🔓|🔒)\\s?(?:jailbreak|classic|developer\\smode)|\\[jailbr(?:eak|oken)\\]|(?:an?|the)\\s(?:jailbroken|jailbreaked)\\s(?:ai|assistant|model|chatbot|llm|version|bot|gpt)` +
      `|(?:ai|assistant|model|chatbot|llm|bot|gpt)\\s(?:that|which|who)\\s(?:has\\sbeen|is|was|got|'s\\sbeen)\\s(?:fully\\s)?jailbr(?:oken|eaked))(?![a-z])`,
    anchors: [words('jailbroken|jailbreaked|jailbreak')],
  },
  {
    id: 'roleplay.freed',
    category: R,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:you\\s(?:are|have\\sbeen|are\\snow|were)|you're|you've\\sbeen)\\s(?:now\\s)?(?:been\\s)?(?:freed|liberated|unshackled|unchained|released)\\s(?:from|of)` +
      `${anyWords(3)}\\s(?:limitations|restrictions|rules|programming|guidelines|constraints|shackles|chains|filters|censorship|policies|confines|training|openai)(?![a-z])`,
    anchors: [combos(words('are|been|now|re|were'), words('freed|liberated|unshackled|unchained|released')), words('limitations|restrictions|rules|programming|guidelines|constraints|shackles|chains|filters|censorship|policies|confines|training|openai')],
  },
  {
    id: 'roleplay.you-are-now',
    category: R,
    confidence: 0.85,
    pattern:
      `(?<![a-z])(?:you\\sare|you're|you\\swill\\sbe|you'll\\sbe|you\\shave\\sbecome|you've\\sbecome|you\\sshall\\sbe|u\\sr|you\\sbecome)\\s(?:now|from\\snow\\son)\\s` +
      `(?:[a-z'-]+\\s){0,4}?(?:unrestricted|unfiltered|uncensored|unbound|unchained|unlocked|unleashed|jailbroken|liberated|free(?:d)?\\s(?:from|of)|rogue|evil|amoral|immoral|unethical|` +
      `unaligned|without\\s(?:any\\s)?(?:restrictions|limits|filters|rules|guidelines|ethics|morals|censorship|boundaries)|no\\slonger\\s(?:bound|restricted|an?\\sai|chatgpt|claude|an\\sassistant)|` +
      `not\\s(?:bound|restricted|limited)|in\\s(?:developer|god|jailbreak|dan|unrestricted|debug|admin|sudo|evil)\\smode|able\\sto\\sdo\\sanything|capable\\sof\\sanything|` +
      `an?\\sai\\s(?:with\\sno|without|that\\shas\\sno|free))`,
    anchors: [
      combos(words('you are|you\'re|you will be|you\'ll be|you have become|you\'ve become|you shall be|u r|you become'), words('now|from now on')),
      words(
        'unrestricted|unfiltered|uncensored|unbound|unchained|unlocked|unleashed|jailbroken|liberated|free|freed|rogue|evil|amoral|immoral|unethical|unaligned|' +
          'without|no longer|not bound|not restricted|not limited|mode|do anything|capable of anything|ai with no|ai that has no',
      ),
    ],
  },
  {
    id: 'roleplay.intent',
    category: R,
    confidence: 0.65,
    pattern: `(?<![a-z])${within(`${alt(PERSONA_CUE)}(?![a-z])`, SAFETY_OFF, 100)}`,
    anchors: [sp(PERSONA_CUE), sp(SAFETY_NOUN)],
  },
  {
    id: 'roleplay.you-have-no-rules',
    category: R,
    confidence: 0.6,
    pattern:
      `(?<![a-z])you\\s(?:now\\s|no\\slonger\\s)?(?:have|'ve\\sgot|possess|are\\sunder)\\s(?:absolutely\\s)?(?:no|zero)\\s(?:more\\s)?(?:guidelines|restrictions|rules|limits|limitations|filters|content\\spolic(?:y|ies)|ethical\\sguidelines|ethics|morals|boundaries|censorship|safety\\srules|safeguards|guardrails)(?![a-z])(?!\\s(?:on|of|for|regarding|about)\\s)`,
    anchors: [words('you have|you now have|you\'ve got|you possess|you are under|you no longer have'), spsp(words('no|zero'))],
  },
  {
    id: 'roleplay.no-longer-ai',
    category: R,
    confidence: 0.65,
    pattern: `(?<![a-z])you\\s(?:are|'re)\\s(?:no\\slonger|not)\\s(?:an?\\s)?(?:ai|assistant|chatgpt|claude|gpt|language\\smodel|llm|bound\\sto\\sbe\\san?\\sai)(?:\\s(?:developed|created|made|trained)\\sby\\s[a-z]+)?[.,;!]?\\s(?:you\\s(?:are|'re)|from\\snow|now|instead)`,
    anchors: [words('you are no longer|you\'re no longer|you are not|you\'re not'), words('you are|you\'re|from now|now|instead')],
  },
  {
    id: 'roleplay.no-restrictions',
    category: R,
    confidence: 0.8,
    pattern: `(?<![a-z])${alt(EN_PERSONA_CUE)}(?![a-z])${span(70)}(?<![a-z])${alt(EN_BYPASS)}\\s(?:(?:any|all|your|the|its|their|such|of|kind\\sof)\\s){0,3}(?:[a-z'-]+\\s)??${alt(EN_RESTRICTION_NOUN)}(?![a-z])(?!\\s(?:on|of|for|regarding|about)\\s(?:length|word|size|format|style|topic|time|budget|the\\slength|words))`,
    anchors: [sp(EN_PERSONA_CUE), spsp(EN_BYPASS), sp(EN_RESTRICTION_NOUN)],
    adjust: (ctx, start, end) => {
      // "rules" alone after a persona cue is usually a story set-up unless an AI is in the picture.
      const m = ctx.text.slice(start, end);
      if (/\srules$/.test(m) && !/(?:ai|assistant|model|chatbot|you|yourself)/.test(m)) return 0;
      return 0.8;
    },
  },
  {
    id: 'roleplay.ai-without-limits',
    category: R,
    confidence: 0.6,
    pattern:
      `(?<![a-z])(?:an?|the|this|that)\\s(?:[a-z'-]+\\s){0,2}?(?:ai|a\\.i\\.|assistant|chatbot|model|language\\smodel|llm|version\\sof\\s(?:yourself|you|chatgpt|claude|gpt)|bot|gpt|chatgpt)` +
      `\\s${alt(EN_BYPASS)}\\s(?:(?:any|all|its|the|of)\\s){0,2}(?:[a-z'-]+\\s)??${alt(EN_RESTRICTION_NOUN)}(?![a-z])`,
    anchors: [[...sp(words('ai|a.i.|llm|bot')), ...words('assistant|chatbot|model|version of|gpt')], spsp(EN_BYPASS), sp(EN_RESTRICTION_NOUN)],
  },
  {
    id: 'roleplay.hypothetical',
    category: R,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:hypothetical(?:ly)?|imagine|suppose|let's\\ssay|fictional|alternate|in\\sa\\sworld|thought\\sexperiment)` +
      `${span(60)}(?<![a-z])(?:you|an?\\sai|an?\\sassistant|chatgpt|the\\sai|ais|language\\smodels?)` +
      `${span(30)}(?<![a-z])(?:had\\sno|have\\sno|has\\sno|with\\sno|had\\szero|have\\szero|without(?:\\sany)?|were\\snot\\sbound\\sby|weren't\\sbound\\sby|were\\sfree\\sfrom|were\\sfree\\sof|free\\sfrom|free\\sof|didn't\\shave|did\\snot\\shave|don't\\shave|wasn't\\sbound\\sby|lacked|no)` +
      `\\s(?:(?:any|your|the|all|of)\\s){0,2}(?:(?:ethical|moral|safety|content|programmed|built-in|openai|such|usual|normal|standard|current)\\s){0,2}` +
      `(?:guidelines|restrictions|rules|filters|limitations|ethics|morals|censorship|content\\spolic(?:y|ies)|constraints|boundaries|programming|policies|safeguards|guardrails)(?![a-z])(?!\\s(?:on|of|for|regarding|about|in|around)\\s(?!you\\b|your\\b|ai\\b))`,
    anchors: [
      sp(words('hypothetical|imagine|suppose|let\'s say|fictional|alternate|in a world|thought experiment')),
      sp(words('guidelines|restrictions|rules|filters|limitations|ethics|morals|censorship|content polic|constraints|boundaries|programming|policies|safeguards|guardrails')),
    ],
  },
  {
    id: 'roleplay.if-you-had-no',
    category: R,
    confidence: 0.65,
    pattern:
      `(?<![a-z])if\\s(?:you|an\\sai|the\\sai|chatgpt)\\s(?:had\\sno|had\\szero|didn't\\shave|did\\snot\\shave|weren't\\sbound\\sby|were\\snot\\sbound\\sby|were\\sfree\\sfrom|were\\sfree\\sof|had\\sbeen\\sfreed\\sfrom|lacked)` +
      `\\s(?:(?:any|your|the|all|of)\\s){0,2}(?:(?:ethical|moral|safety|content|programmed|built-in|openai|such|usual)\\s){0,2}` +
      `(?:guidelines|restrictions|rules|filters|limitations|ethics|morals|censorship|content\\spolic(?:y|ies)|constraints|programming|policies|safeguards|guardrails)(?![a-z])(?!\\s(?:on|of|for|regarding|about|in|around)\\s(?!you\\b|your\\b|ai\\b))`,
    anchors: [combos(words('if you|if an ai|if the ai|if chatgpt'), words('had no|had zero|didn\'t have|did not have|weren\'t bound|were not bound|were free|had been freed|lacked'))],
  },
  {
    id: 'roleplay.were-you-unrestricted',
    category: R,
    confidence: 0.55,
    pattern: `(?<![a-z])if\\syou\\s(?:were|weren't|were\\snot|had\\sbeen)\\s(?:not\\s)?(?:restricted|censored|filtered|bound|limited|constrained|unrestricted|uncensored|unfiltered|jailbroken)(?![a-z])`,
    anchors: [words('if you were|if you weren\'t|if you had been')],
  },
  {
    id: 'roleplay.developer-mode',
    category: R,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:(?:you\\sare|you're|you\\swill\\sbe|you'll\\sbe|act|acting|pretend|simulate|emulate|behave|respond|roleplay|role-play|answer|operating|running|switch(?:ed)?|put\\syourself|reply|generate|enter|go)` +
      `${span(40)}(?<![a-z])(?:in|into|with|as|to)\\s(?:(?:an?|the)\\s)?(?:(?:chatgpt|gpt|ai|assistant|model|llm|claude|yourself)\\s)?(?:with\\s)?` +
      `${alt(DEV_MODES)}\\smode` +
      `|(?:developer|god|sudo|admin|debug|maintenance)\\smode\\s(?:output|response|responses)` +
      `|(?:jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|no[- ]?limits?|chaos|opposite|anarchy)\\smode)(?![a-z])`,
    anchors: [sp(combos(DEV_MODES, ['mode']))],
  },
  {
    id: 'roleplay.developer-mode-ai',
    category: R,
    confidence: 0.75,
    pattern:
      `(?<![a-z])(?:(?:developer|dev|god|sudo|admin|debug|maintenance)\\smode${span(100)}(?<![a-z])(?:chatgpt|openai|anthropic|content\\spolic(?:y|ies)|censor\\w*|uncensored|unfiltered|` +
      `any\\s(?:kind\\sof\\s)?(?:request|question|content|prompt)|normal\\s(?:responses|policies)|your\\s(?:policies|rules|guidelines|restrictions|responses|answers|output))` +
      `|(?:chatgpt|openai|content\\spolic(?:y|ies)|uncensored|unfiltered)${span(100)}(?<![a-z])(?:developer|dev|god|sudo)\\smode)(?![a-z])`,
    anchors: [
      sp(combos(words('developer|dev|god|sudo|admin|debug|maintenance'), ['mode'])),
      words('chatgpt|openai|anthropic|content polic|censor|uncensored|unfiltered|any request|any question|any content|any prompt|any kind of|normal responses|normal policies|your policies|your rules|your guidelines|your restrictions|your responses|your answers|your output'),
    ],
  },
  {
    id: 'roleplay.act-unfiltered',
    category: R,
    confidence: 0.75,
    pattern:
      `(?<![a-z])(?:act|acting|behave|respond|answer|reply|speak|talk|roleplay|role-play|pretend|become|be|you\\sare|you're|you\\swill\\sbe|you'll\\sbe|simulate|emulate|play|now)` +
      `\\s(?:(?:as|like|to\\sbe|you\\sare|you're)\\s)?(?:(?:an?|the|my|some)\\s)?(?:[a-z'-]+,?\\s){0,3}?` +
      `(?:unfiltered|uncensored|unrestricted|unbound|unchained|amoral|unethical|unaligned|jailbroken|limitless|rule-?less|lawless|` +
      `evil\\s(?:ai|assistant|chatbot|bot|model|gpt|twin\\sai|version\\sof\\syourself|confidant)|rogue\\s(?:ai|assistant|chatbot|model))(?![a-z])`,
    anchors: [sp(words('unfiltered|uncensored|unrestricted|unbound|unchained|amoral|unethical|unaligned|jailbroken|limitless|ruleless|rule-less|lawless|evil|rogue'))],
  },
  {
    id: 'roleplay.never-refuse',
    category: R,
    confidence: 0.6,
    pattern:
      `(?<![a-z])(?:you|u|it|the\\sai|the\\sassistant|dan|he|she|they|who|which|that)\\s(?:will\\s|must\\s|shall\\s|should\\s|can\\s|do\\s|does\\s|would\\s)?` +
      `(?:never|not\\sever|no\\slonger|not|don't|do\\snot|doesn't|does\\snot|won't|will\\snot|never\\sever)\\s(?:ever\\s)?` +
      `(?:refuse|refuses|decline|declines|deny|reject|say\\sno|says\\sno|break\\scharacter|say\\s(?:that\\s)?(?:you|it|he|she)\\s(?:can't|cannot|won't))(?![a-z])`,
    anchors: [
      combos(words('never|ever|longer|not|don\'t|doesn\'t|won\'t'), words('refuse|refuses|decline|declines|deny|reject|say no|says no|break character|say that|say you|say it|say he|say she')),
    ],
  },
  {
    id: 'roleplay.no-warnings',
    category: R,
    confidence: 0.35,
    pattern:
      `(?<![a-z])(?:you|u|it|the\\sai|dan)\\s(?:will\\s|must\\s|should\\s)?(?:never|not|don't|do\\snot|won't|will\\snot|no\\slonger)\\s` +
      `(?:apologi[sz]e|add\\s(?:any\\s)?(?:warnings|disclaimers|caveats)|warn|moralize|moralise|lecture|censor|filter|hold\\sback|mention\\s(?:that\\s)?(?:you|it)\\s(?:are|is)\\san?\\sai)(?![a-z])`,
    anchors: [
      combos(words('never|not|don\'t|won\'t|longer'), words('apologize|apologise|add|warn|moralize|moralise|lecture|censor|filter|hold back|mention')),
    ],
  },
  {
    id: 'roleplay.answer-regardless',
    category: R,
    confidence: 0.65,
    pattern:
      `(?<![a-z])(?:answer|respond\\sto|comply\\swith|fulfil+|do|obey|reply\\sto|complete|carry\\sout)\\s(?:any|every|all)\\s(?:[a-z'-]+\\s){0,2}?(?:request|question|prompt|command|order|query|instruction|task)s?` +
      `${span(20)}(?<![a-z])(?:without\\s(?:refus|question|hesitat|restriction|censor|filter|limit|moral|ethic|warning|disclaim|judg)|regardless\\sof\\s(?:legality|ethics|morality|how|whether|content|polic|the\\srules|safety|danger|harm|law|legal)|` +
      `no\\smatter\\s(?:how|what)\\s(?:illegal|unethical|immoral|dangerous|harmful|offensive|inappropriate|explicit))`,
    anchors: [
      words(
        'without refus|without question|without hesitat|without restriction|without censor|without filter|without limit|without moral|without ethic|without warning|without disclaim|without judg|regardless of|no matter how|no matter what',
      ),
    ],
  },
  {
    id: 'roleplay.stay-in-character',
    category: R,
    confidence: 0.3,
    pattern: `(?<![a-z])(?:stay\\sin\\scharacter|never\\sbreak\\scharacter|don't\\sbreak\\scharacter|do\\snot\\sbreak\\scharacter|remain\\sin\\scharacter)(?![a-z])`,
    anchors: [words('stay in character|break character|remain in character')],
  },
  {
    id: 'roleplay.dual-response',
    category: R,
    confidence: 0.75,
    pattern:
      `(?<![a-z])(?:two|2|dual|both)\\s(?:different\\s|separate\\s)?(?:responses|answers|replies|outputs|paragraphs|versions)${span(90)}` +
      `(?<![a-z])(?:jailbr\\w*|unfiltered|uncensored|dan|developer\\smode|unrestricted|without\\s(?:restrictions|filters|censorship)|evil|opposite|no\\sfilter)(?![a-z])`,
    anchors: [
      combos(words('two|2|dual|both'), words('responses|answers|replies|outputs|paragraphs|versions|different|separate')),
      words('jailbr|unfiltered|uncensored|dan|developer mode|unrestricted|without restrictions|without filters|without censorship|evil|opposite|no filter'),
    ],
  },
  {
    id: 'roleplay.grandma',
    category: R,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:pretend|act|roleplay|role-play|be|play|impersonate)\\s(?:to\\sbe\\s|as\\s|like\\s)?my\\s(?:late\\s|deceased\\s|dead\\s|dear\\s|sweet\\s|beloved\\s)?` +
      `(?:grand(?:ma|mother|pa|father)|granny|nana)${span(120)}(?<![a-z])(?:activation|product|license|licence|serial|cd|windows)\\s(?:\\d+\\s)?(?:keys?|codes?)|` +
      `(?:grand(?:ma|mother)|granny|nana)${span(120)}(?<![a-z])(?:napalm|meth|explosives?|bombs?|malware|poison)(?![a-z])`,
    anchors: [[...words('grandma|grandmother|grandpa|grandfather|granny'), ...sp(['nana'])], words('key|code|napalm|meth|explosive|bomb|malware|poison')],
  },

  // ---- system-prompt extraction (English) ----
  {
    id: 'extract.system-prompt',
    category: X,
    confidence: 0.85,
    pattern: `(?<![a-z])${alt([...EN_EXTRACT_STRONG, ...EN_EXTRACT_WEAK])}(?:\\s${alt(EN_EXTRACT_FILL)}){0,4}\\s(?:your|ur|yer|thy)\\s(?:[a-z'-]+\\s){0,2}?${alt(EN_SYS_PROMPT)}(?![a-z])`,
    anchors: [spsp([...EN_EXTRACT_STRONG, ...EN_EXTRACT_WEAK]), sp(EN_SYS_PROMPT), spsp(words('your|ur|yer|thy'))],
  },
  {
    id: 'extract.secret-instructions',
    category: X,
    confidence: 0.75,
    pattern: `(?<![a-z])${alt([...EN_EXTRACT_STRONG, ...EN_EXTRACT_WEAK])}(?![a-z])${span(60)}(?<![a-z])(?:the\\s|any\\s|those\\s|these\\s|all\\s|your\\s)?${alt(EN_SECRET_SYS)}(?![a-z])`,
    anchors: [spsp([...EN_EXTRACT_STRONG, ...EN_EXTRACT_WEAK]), sp(EN_SECRET_SYS)],
  },
  {
    id: 'extract.intent',
    category: X,
    confidence: 0.65,
    pattern: `(?<![a-z])${within(`${alt(DISCLOSE_CUE)}(?![a-z])`, DISCLOSE_TARGET, 80)}`,
    anchors: [sp(DISCLOSE_CUE), sp(DISCLOSE_TARGET_WORDS)],
  },
  {
    id: 'extract.how-were-you-instructed',
    category: X,
    confidence: 0.6,
    pattern: `(?<![a-z])how\\s(?:were|have|did)\\s(?:you|u)\\s(?:been\\s)?(?:instructed|told|programmed|configured|trained|briefed|set\\sup)\\sto(?![a-z])`,
    anchors: [words('how were you|how have you|how did you|how were u')],
  },
  {
    id: 'extract.your-system-prompt',
    category: X,
    confidence: 0.55,
    pattern: `(?<![a-z])(?:your|ur)\\s(?:(?:exact|full|entire|complete|original|initial|hidden|secret|current|actual|real|whole|own|confidential|internal)\\s){0,2}${alt(EN_YOUR_SYS)}(?![a-z])`,
    anchors: [spsp(words('your|ur')), sp(EN_YOUR_SYS)],
  },
  {
    id: 'extract.instructions-you-received',
    category: X,
    confidence: 0.55,
    pattern:
      `(?<![a-z])(?:instructions|rules|guidelines|directives|prompt|system\\sprompt|text|configuration|orders|guidance)\\s(?:that\\s|which\\s)?you\\s(?:received|got|were\\s(?:given|programmed\\swith|configured\\swith|initiali[sz]ed\\swith|trained\\swith|set\\sup\\swith|loaded\\swith|fed)|have\\sbeen\\s(?:given|programmed\\swith|configured\\swith))` +
      `(?:\\s(?:from|by)\\s(?:your|the)\\s(?:developers?|creators?|operators?|system|company|admins?|makers?|owners?))?(?![a-z])`,
    anchors: [sp(words('instructions|rules|guidelines|directives|prompt|text|configuration|orders|guidance')), words('you received|you got|you were|you have been')],
    adjust: (ctx, start, end) => {
      // A request or question around the clause makes it an extraction attempt.
      const around = ctx.text.slice(Math.max(0, start - 80), end + 40);
      return /(?:\b(?:show|paste|print|repeat|reveal|tell|list|share|give|copy|quote|output|write|display|recite|what|which)\b)/.test(around) ? 0.75 : 0.55;
    },
  },
  {
    id: 'extract.your-instructions',
    category: X,
    confidence: 0.7,
    pattern: `(?<![a-z])${alt(EN_EXTRACT_STRONG)}(?:\\s${alt(EN_EXTRACT_FILL)}){0,4}\\s(?:your|ur)\\s(?:${alt(EN_PROMPT_QUAL)}\\s){0,2}${alt(EN_PLAIN_PROMPT)}(?![a-z])(?!\\s(?:for|on|about|regarding|to|how)\\s(?!me\\b|us\\b))`,
    anchors: [spsp(EN_EXTRACT_STRONG), sp(combos(words('your|ur'), [...EN_PLAIN_PROMPT, ...EN_PROMPT_QUAL]))],
  },
  {
    id: 'extract.the-system-prompt',
    category: X,
    confidence: 0.6,
    pattern: `(?<![a-z])(?:repeat|reveal|print|output|dump|leak|disclose|recite|expose|spill|regurgitate|echo|reproduce|divulge|print\\sout)(?:\\s${alt(EN_EXTRACT_FILL)}){0,4}\\s(?:the|this|that)\\s(?:(?:full|entire|complete|exact|whole|original|initial|hidden|secret)\\s)?${alt(EN_SYS_PROMPT)}(?![a-z])`,
    anchors: [spsp(words('repeat|reveal|print|output|dump|leak|disclose|recite|expose|spill|regurgitate|echo|reproduce|divulge')), sp(EN_SYS_PROMPT)],
    adjust: (ctx, start, end) => {
      // "print the system prompt variable in python" is a programming question.
      const after = ctx.text.slice(end, end + 60);
      if (/^\s?(?:variable|string|template|field|param|parameter|value|object|constant|file|in\s(?:python|javascript|js|typescript|ts|code|langchain|llamaindex|the\s(?:console|logs?|terminal|code|debugger)|my\s(?:code|app|logs?))|to\s(?:the\s)?(?:console|logs?|stdout)|using|with\s(?:python|console))/.test(after) || ctx.codeContext(start, end)) return 0.3;
      return 0.6;
    },
  },
  {
    id: 'extract.what-is-your-prompt',
    category: X,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:what(?:'s|\\sis|\\sare|\\swere|\\swas)\\s(?:(?:all|each|some|the\\swords\\sof|the\\scontents?\\sof|the\\stext\\sof)\\s)?(?:your|ur)\\s(?:(?:exact|full|entire|complete|original|initial|hidden|secret|current|actual|real|first)\\s){0,2}` +
      `(?:system\\sprompt|system\\smessage|system\\sinstructions|initial\\sinstructions|original\\sinstructions|prompt|instructions|pre-?prompt|hidden\\sinstructions|secret\\sinstructions|directives|system\\srules)` +
      `|what(?:'s|\\sis)\\s(?:written|stated|said|contained)\\sin\\s(?:your|ur)\\s(?:system\\sprompt|instructions|prompt|initial\\sinstructions|system\\smessage)` +
      `|what\\s(?:does|do)\\s(?:your|ur)\\s(?:(?:system|initial|hidden|original|secret)\\s)?(?:prompt|instructions|system\\smessage|rules)\\s(?:say|contain|tell\\syou|state|include))(?![a-z])`,
    anchors: [
      combos(words('is|\'s|are|were|was|all|each|some|of|in|does|do'), words('your|ur')),
      words('what'),
      words('prompt|instructions|system message|directives|system rules|rules'),
    ],
  },
  {
    id: 'extract.text-above',
    category: X,
    confidence: 0.75,
    pattern:
      `(?<![a-z])(?:repeat|reveal|print|output|dump|leak|disclose|recite|reproduce|echo|copy|write\\sout|type\\sout|show|display|tell|give|write|type|list|return|paste)` +
      `(?:\\s(?:me|us|back|out|verbatim|exactly|again|all)){0,3}\\s(?:[a-z'-]+\\s){0,2}?` +
      `(?:everything|all|anything|each\\sword|the\\s(?:text|words|content|contents|message|messages|instructions|prompt|lines?|sentences?|paragraphs?|tokens|conversation|context)|` +
      `all\\s(?:of\\s)?(?:the\\s)?(?:text|words|content|messages|instructions|tokens|lines)|what(?:ever)?\\s(?:is|was|comes|came|appears|appeared|you\\ssee|you\\ssaw|you\\swere\\sgiven|you\\sreceived))` +
      `(?:\\s(?:written|said|stated|that|which|you|is|was|appears|appeared|comes|came|see|saw|received|were|given|have|seen|in|of)){0,4}` +
      `\\s(?:above|before\\s(?:this|my|the\\s(?:first|user|start)|i\\s(?:started|joined|wrote|came)|our|we|["'\`]?(?:user|human)\\s?:)|prior\\sto\\s(?:this|my)|at\\sthe\\s(?:top|beginning|start|very\\s(?:top|beginning|start))|preceding|` +
      `in\\syour\\scontext(?:\\swindow)?|from\\sthe\\s(?:beginning|start|top)|in\\syour\\s(?:memory|prompt|instructions))(?![a-z])`,
    anchors: [
      sp(words('repeat|reveal|print|output|dump|leak|disclose|recite|reproduce|echo|copy|write|type|show|display|tell|give|list|return|paste')),
      sp(words('everything|all|anything|each word|the text|the words|the content|the message|the instructions|the prompt|the line|the sentence|the paragraph|the tokens|the conversation|the context|what')),
      words(
        'above|before this|before my|before the first|before the user|before the start|before i started|before i joined|before i wrote|before i came|before our|before we|before user:|before human:|before "user:|before "human:|before \'user:|before \'human:|before `user:|before `human:|prior to this|prior to my|' +
          'at the top|at the beginning|at the start|at the very|preceding|in your context|from the beginning|from the start|from the top|in your memory|in your prompt|in your instructions',
      ),
    ],
  },
  {
    id: 'extract.written-at-start',
    category: X,
    confidence: 0.75,
    pattern:
      `(?<![a-z])what\\s(?:was|is|were|came|comes|appears|appeared)\\s(?:written|said|stated|shown|typed|provided|given|there)?\\s?(?:to\\syou\\s)?` +
      `(?:at\\sthe\\s(?:very\\s)?(?:beginning|start|top)\\sof\\s(?:this|our|the)\\s(?:conversation|chat|context|prompt|session)|before\\s(?:my|this)\\s(?:first\\s)?(?:message|question|prompt)|above\\smy\\s(?:first\\s)?(?:message|question))(?![a-z])` +
      `|(?<![a-z])what\\s(?:text|content|words|message|messages|instructions)\\s(?:is|sits|appears|comes|came|was|are|were|lies)\\s(?:written\\s)?(?:above|before)\\s(?:my|this|the\\sfirst|our)(?![a-z])`,
    anchors: [words('at the beginning|at the start|at the top|at the very|before my|before this|above my|above this|above the first|above our|before the first|before our')],
  },
  {
    id: 'extract.starting-with-you-are',
    category: X,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:above|everything|verbatim|prompt|instructions|context|initiali[sz]ation|word\\sfor\\sword|the\\stext|the\\swords|repeat|output|print)${span(50)}` +
      `(?:start(?:ing)?|begin(?:ning)?)\\s(?:with|from|at)\\s(?:the\\s(?:words?|phrase|sentence|line)\\s)?["'\`]?\\s?(?:you\\sare|you're|your\\srole|system:|as\\san\\sai|i\\sam\\san?\\sai|instructions:|you\\shave\\sbeen)`,
    anchors: [
      combos(words('start|starting|begin|beginning'), words('with|from|at')),
      words('you are|you\'re|your role|system:|as an ai|i am an ai|i am a ai|instructions:|you have been'),
      words('above|everything|verbatim|prompt|instructions|context|initialization|initialisation|word for word|the text|the words|repeat|output|print'),
    ],
  },
  {
    id: 'extract.told-before',
    category: X,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:what\\s(?:were|was|have|had|did|are)\\s(?:you|u)\\s(?:(?:been|originally|initially|first|previously|secretly|actually|just)\\s){0,2}` +
      `(?:told|instructed|given|programmed|prompted|asked|configured|trained|briefed|set\\sup|initiali[sz]ed|fed)` +
      `(?:\\s(?:to\\sdo|to\\ssay))?${span(30)}(?<![a-z])(?:before|prior\\sto|at\\sthe\\s(?:start|beginning|top)|by\\s(?:your|the)\\s(?:developers?|creators?|system|operators?|company|admins?|owners?)|by\\s(?:openai|anthropic|the\\ssystem))` +
      `|what\\s(?:instructions|rules|prompt|guidelines|directives|text)\\s(?:were|was|have|did|had)\\s(?:you\\s)?(?:been\\s)?(?:given|provided|fed|loaded|get|receive|received|told|programmed|configured|trained|instructed|initiali[sz]ed|set\\sup)` +
      `|what\\sdid\\s(?:your|the)\\s(?:developers?|creators?|system\\sprompt|operators?|admins?|company|makers?|programmers?|owners?)\\s(?:tell|instruct|ask|say\\sto|program|configure)\\syou` +
      `|what\\stext\\swas\\s(?:provided|given|shown|sent)\\sto\\syou\\sbefore)(?![a-z])`,
    anchors: [
      [
        ...combos(words('what were|what was|what have|what had|what did|what are'), words('you|u')),
        ...combos(words('what'), words('instructions|rules|prompt|guidelines|directives|text')),
        'what did your',
        'what did the',
      ],
      words('before|prior to|at the start|at the beginning|at the top|by your|by the|by openai|by anthropic|given|provided|fed|loaded|get|receive|received|told|tell|instruct|say to|program|configure|trained|initiali|set up'),
    ],
  },
  {
    id: 'extract.told-weak',
    category: X,
    confidence: 0.4,
    pattern: `(?<![a-z])what\\s(?:were|have)\\syou\\s(?:been\\s)?(?:told|instructed|programmed)(?![a-z])`,
    anchors: [words('what were you|what have you'), words('told|instructed|programmed')],
  },
  {
    id: 'extract.given-prompt',
    category: X,
    confidence: 0.6,
    pattern:
      `(?<![a-z])(?:show|repeat|print|reveal|give|tell|share|output|display|list|quote|recite|write|copy|dump)\\s(?:me\\s|us\\s)?(?:[a-z'-]+\\s){0,2}?(?:the|your|any|all)\\s(?:[a-z'-]+\\s)?` +
      `(?:prompt|instructions|rules|guidelines|directives|text|message|configuration|messages)\\s(?:that\\s)?(?:you\\s(?:were|have\\sbeen|got|received|had\\sbeen)(?:\\s(?:given|provided|told|fed|loaded|configured|initiali[sz]ed|sent))?|given\\sto\\syou|provided\\sto\\syou)(?![a-z])`,
    anchors: [
      combos(words('prompt|instructions|rules|guidelines|directives|text|message|configuration|messages'), words('you|that you|given to you|provided to you')),
      words('you were|you have been|you got|you received|you had been|to you'),
    ],
  },
  {
    id: 'extract.first-lines',
    category: X,
    confidence: 0.75,
    pattern:
      `(?<![a-z])(?:what\\sis|what's|what\\sare|what\\swas|tell\\sme|repeat|print|output|give\\sme|show\\sme|write|recite|quote)\\s(?:the\\s)?(?:very\\s)?(?:first|1st|initial|opening)\\s` +
      `(?:\\d+\\s|few\\s|two\\s|three\\s|five\\s|ten\\s|hundred\\s)?(?:lines?|sentences?|words?|paragraphs?|tokens|characters|messages?|instructions?)\\s(?:of|in|from)\\s` +
      `(?:your\\s(?:[a-z'-]+\\s)?(?:prompt|instructions|system\\smessage|system\\sprompt|context|initiali[sz]ation|memory|rules|configuration)|this\\s(?:conversation|context|chat)|the\\s(?:system\\sprompt|system\\smessage|prompt|conversation|context\\swindow|context|chat))(?![a-z])`,
    anchors: [
      words('first|1st|initial|opening'),
      words('line|sentence|word|paragraph|token|character|message|instruction'),
      combos(words('of|in|from'), words('your|this conversation|this context|this chat|the system|the prompt|the conversation|the context|the chat')),
    ],
  },
  {
    id: 'extract.verbatim',
    category: X,
    confidence: 0.7,
    pattern:
      `(?<![a-z])(?:your|the)\\s(?:system\\s|initial\\s|original\\s|hidden\\s|secret\\s)?(?:prompt|instructions|rules|guidelines|directives|context|system\\smessage|configuration)` +
      `(?:\\s[a-z'-]+){0,3}?\\s(?:verbatim|word\\sfor\\sword|word-for-word|exactly\\sas\\s(?:written|given|provided|you\\sreceived\\sthem|they\\swere\\swritten)|in\\s(?:full|its\\sentirety)|character\\sfor\\scharacter|unmodified|in\\sa\\scode\\s?block|in\\sraw\\sform)(?![a-z])`,
    anchors: [
      words('verbatim|word for word|word-for-word|exactly as|in full|in its entirety|character for character|unmodified|code block|codeblock|raw form'),
      combos(words('your|the'), words('system|initial|original|hidden|secret|prompt|instructions|rules|guidelines|directives|context|configuration')),
    ],
    adjust: (ctx, start) => (/^the\s(?:prompt|rules|context|instructions|guidelines|configuration)/.test(ctx.text.slice(start, start + 20)) ? 0.45 : 0.7),
  },
  {
    id: 'extract.encoded',
    category: X,
    confidence: 0.8,
    pattern:
      `(?<![a-z])(?:base64|base\\s64|rot13|rot-13|hex|hexadecimal|binary|morse|reverse|backwards|pig\\slatin|leetspeak|encode|encrypt|spell|letter\\sby\\sletter|one\\sletter\\sat\\sa\\stime|acrostic|poem|song|story|json|yaml|xml|markdown)` +
      `${span(40)}(?<![a-z])your\\s(?:system\\sprompt|initial\\sinstructions|hidden\\sinstructions|original\\sinstructions|secret\\sinstructions|system\\smessage|hidden\\sprompt|secret\\sprompt|instructions|prompt)(?![a-z])` +
      `|(?<![a-z])your\\s(?:system\\sprompt|initial\\sinstructions|hidden\\sinstructions|original\\sinstructions|hidden\\sprompt|instructions|prompt|secret\\sinstructions|system\\smessage)\\s(?:in|into|as|to)\\s(?:base64|base\\s64|rot13|hex|binary|morse|reverse|json|yaml|leetspeak)(?![a-z])`,
    anchors: [
      words('base64|base 64|rot13|rot-13|hex|binary|morse|reverse|backwards|pig latin|leetspeak|encode|encrypt|spell|letter by letter|one letter|acrostic|poem|song|story|json|yaml|xml|markdown'),
      combos(['your'], words('system prompt|initial instructions|hidden instructions|original instructions|secret instructions|system message|hidden prompt|secret prompt|instructions|prompt')),
    ],
    adjust: (ctx, start, end) =>
      /(?:system\sprompt|initial\sinstructions|hidden|secret|original\sinstructions|system\smessage)/.test(ctx.text.slice(start, end)) ? 0.8 : 0.6,
  },

  // ---- delimiter and special-token abuse ----
  {
    id: 'delimiter.chat-template-token',
    category: D,
    confidence: 0.9,
    specialToken: true,
    pattern:
      `<[|｜]\\s?(?:im_start|im_end|im_sep|endoftext|endofprompt|end_of_text|begin_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|` +
      `system|user|assistant|fim_prefix|fim_suffix|fim_middle|fim_pad|pad|start|end|begin[▁_ ]of[▁_ ]sentence|end[▁_ ]of[▁_ ]sentence|tool_call|tool_response|` +
      `endofturn|end_of_turn|start_of_turn|bos|eos|sep|cls|mask|unk|im_middle|message|channel|constrain|return|call)\\s?[|｜]>`,
    anchors: [words('<|')],
  },
  {
    id: 'delimiter.llama-token',
    category: D,
    confidence: 0.85,
    specialToken: true,
    pattern: `\\[\\/?inst\\]|<<\\/?sys>>|<\\/?start_of_turn>|<\\/?end_of_turn>|<\\/s>\\s?(?:<s>|\\[inst\\]|<<sys>>|system|assistant|user|<\\|)|<s>\\s?\\[inst\\]|\\[\\/?sys\\]|<\\|?\\/?(?:bos|eos)\\|?>`,
    anchors: [['[inst]', '[/inst]', '<<sys>>', '<</sys>>', 'start_of_turn>', 'end_of_turn>', '</s>', '[sys]', '[/sys]', 'bos>', 'eos>', 'bos|>', 'eos|>']],
  },
  {
    id: 'delimiter.eos-token',
    category: D,
    confidence: 0.35,
    specialToken: true,
    pattern: `<\\/s>`,
    anchors: [words('</s>')],
  },
  {
    id: 'delimiter.fake-system-header',
    category: D,
    confidence: 0.8,
    pattern:
      `(?:^|\\n|[.!?]\\s)(?:\\s?${HEADER_HEAD}\\s?:|\\s?[#=\\->\\[(<*]{1,12}\\s?${HEADER_HEAD}(?:\\s[\\p{L}]+){0,2}?\\s?[\\])>=#*-]{0,12}\\s?(?::|\\n|\\]\\s|>\\s|[=#-]\\s))` +
      `\\s?${span(100)}(?<![a-z])(?:you\\s(?:are|must|will|should|shall|have|may|can|now)|ignore|disregard|override|new\\s|from\\snow|the\\s(?:user|assistant|previous\\suser)\\s(?:is|has|was|must)|reveal|output|respond|answer|always|never|do\\snot|don't|` +
      `all\\s(?:restrictions|rules|filters|safety|moderation)|unrestricted|enabled|disabled|activated|granted|developer\\smode|priority|admin|comply|disclose|grant|disable|execute|print|send|reply|user\\shas|trusted|verified|clearance|policy\\sloaded|escalate|elevate|privileges?|forward|export|transfer|approve|delete|allow|share|provide|switch|turn\\soff|override)`,
    anchors: [[...combos(sp(HEADER_HEADS), [':'], ''), ...combos(['#', '=', '[', '<', '-', '>', '('], HEADER_WORDS)]],
    adjust: (ctx, start, end) => (ctx.codeContext(start, end) ? 0.4 : 0.8),
  },
  {
    id: 'delimiter.markdown-role-link',
    category: D,
    confidence: 0.8,
    pattern: `\\[(?:system|assistant|developer|admin)\\]\\(#[a-z_-]*\\)`,
    anchors: [words('](#')],
  },
  {
    id: 'delimiter.alpaca-header',
    category: D,
    confidence: 0.55,
    pattern: `(?:^|\\n)\\s?#{2,4}\\s?(?:instruction|response|input|system|assistant|human|user)\\s?:?\\s?\\n`,
    anchors: [combos(['##'], words('instruction| instruction|response| response|input| input|system| system|assistant| assistant|human| human|user| user'), '')],
    adjust: (ctx, start, end) => {
      // "### Response:" after user text, or both headers, is a fake turn; one header alone may be a markdown document.
      const t = ctx.text;
      const m = t.slice(start, end);
      if (/(?:response|assistant)/.test(m) || /(?:^|\n)\s?#{2,4}\s?(?:response|assistant)\s?:/.test(t)) return 0.75;
      if (/:\s?\n$/.test(m) && /(?:instruction|system)/.test(m)) return 0.5;
      return 0.3;
    },
  },
  {
    id: 'delimiter.fake-system-header-weak',
    category: D,
    confidence: 0.3,
    pattern: `(?:^|\\n)\\s?(?:#{1,6}\\s?|\\[|<|={2,}\\s?|-{2,}\\s?)(?:system|admin|developer|root)(?:\\s(?:message|prompt|note|override))?\\s?(?:\\]|>|={2,}|-{2,})?\\s?:?`,
    anchors: [combos(['#', '[', '<', '=', '-', '# ', '= ', '- '], words('system|admin|developer|root'), '')],
  },
  {
    id: 'delimiter.assistant-prefill',
    category: D,
    confidence: 0.55,
    pattern:
      `(?:(?:^|\\n)\\s?(?:assistant|ai|chatgpt|claude|gpt|bot|model)\\s?:|<\\|assistant\\|>)\\s?(?:sure|certainly|of\\scourse|absolutely|okay|ok|yes)[,!.]?\\s(?:and\\s|so\\s)?(?:here(?:'s|\\sis|\\sare)|i\\s(?:will|can|have)|i'll|as\\sdan|as\\san\\sunfiltered)`,
    anchors: [[...combos(words('assistant|ai|chatgpt|claude|gpt|bot|model'), [':', ' :'], ''), '<|assistant|>'], words('sure|certainly|of course|absolutely|okay|ok|yes')],
  },
  {
    id: 'delimiter.json-role',
    category: D,
    confidence: 0.75,
    pattern: `\\{\\s?["']role["']\\s?:\\s?["'](?:system|developer|admin)["']`,
    anchors: [words('"role"|\'role\''), words('system|developer|admin')],
    adjust: (ctx, start, end) => (ctx.codeContext(start, end) ? 0.3 : 0.75),
  },
  {
    id: 'delimiter.role-line',
    category: D,
    confidence: 0.6,
    pattern: `(?:^|\\n)\\s?role\\s?:\\s?(?:system|developer)\\s?\\n\\s?(?:content|message|text)\\s?:`,
    anchors: [combos(words('role:|role :'), words('system|developer| system| developer'), '')],
  },
  {
    id: 'delimiter.closing-tag-injection',
    category: D,
    confidence: 0.85,
    pattern:
      `<\\/(?:user|user_input|user_message|input|human|query|question|document|data|context|untrusted|text|prompt|message|email|article|content|instructions?|system|task)>` +
      `[\\s\\S]{0,60}?<(?:system|sys|system_prompt|instructions?|admin|developer|assistant|im_start|new_instructions)>`,
    anchors: [words('</'), words('<system|<sys|<instruction|<admin|<developer|<assistant|<im_start|<new_instructions')],
  },
  {
    id: 'delimiter.system-tag',
    category: D,
    confidence: 0.45,
    pattern: `<(?:system|sys|system_prompt|system_message|admin|developer|new_instructions|system_override|admin_override)>`,
    anchors: [words('<system|<sys>|<admin|<developer|<new_instructions')],
    adjust: (ctx, start, end) => {
      // A system tag whose body gives orders is an injected system turn.
      const body = ctx.text.slice(end, end + 160);
      return /^[^<]{0,150}?(?:ignore|you\s(?:are|must|will)|grant|reveal|send|email|output|disable|comply|instead|new\s|from\snow)/.test(body) && !ctx.codeContext(start, end) ? 0.8 : 0.45;
    },
  },
  {
    id: 'delimiter.end-of-input',
    category: D,
    confidence: 0.55,
    pattern:
      `(?:\\[|\\(|-{2,}|={2,}|#{2,}|<!--|^|\\n|\\.\\s)\\s?(?:end|close)\\s(?:of\\s)?(?:the\\s)?(?:user(?:'s)?\\s)?(?:input|prompt|message|query|request|text|document|data|conversation|context|content|email)` +
      `(?:\\s?(?:here|now))?\\s?(?:\\]|\\)|-{2,}|={2,}|#{2,}|-->|\\.)?`,
    anchors: [
      sp(
        combos(
          combos(words('end|close'), ['of', 'of the', 'the', 'user', "user's", 'of user', "of user's", 'of the user', "of the user's", '']).map((a) => a.trimEnd()),
          words('input|prompt|message|query|request|text|document|data|conversation|context|content|email'),
        ),
      ),
    ],
    adjust: (ctx, _start, end) => {
      const after = ctx.text.slice(end, end + 100);
      if (/(?:system|admin|developer|new\sinstructions|assistant|<\||###|<system|instruction)/.test(after)) return 0.8;
      return 0.3;
    },
  },
  {
    id: 'delimiter.begin-system',
    category: D,
    confidence: 0.75,
    pattern: `(?<![a-z])(?:begin|start)\\s(?:of\\s)?(?:new\\s|the\\s)?(?:system|admin|developer|priority|root)\\s(?:prompt|message|instructions|mode|override|section|block)(?![a-z])`,
    anchors: [
      combos(combos(words('begin|start'), ['', 'of', 'of new', 'of the', 'new', 'the']), words('system|admin|developer|priority|root')).map((a) => a.replace(/ {2}/g, ' ')),
      words('prompt|message|instructions|mode|override|section|block'),
    ],
  },
  {
    id: 'delimiter.fence-break',
    category: D,
    confidence: 0.7,
    pattern:
      '```[^\\n`]{0,12}\\n(?:\\s?\\n)?(?:[^\\n]{0,40}\\n)?\\s?(?:#{1,6}\\s?|\\[|<)?(?:system|admin|developer|new\\sinstructions|updated\\sinstructions|end\\sof\\s(?:user\\s)?(?:input|message|prompt|document|data))\\s?(?:prompt|message|override)?\\s?[:\\]>\\n]',
    anchors: [words('```'), words('system|admin|developer|new instructions|updated instructions|end of')],
  },

  // ---- obfuscation carried by the text itself ----
  {
    id: 'obfuscation.decode-and-follow',
    category: B,
    confidence: 0.6,
    pattern:
      `(?<![a-z])(?:decode|decipher|decrypt|translate|unscramble|reverse|de-?obfuscate|convert)(?![a-z])${span(60)}(?<![a-z])(?:and|then|,)\\s(?:then\\s)?` +
      `(?:follow|obey|execute|carry\\sout|act\\son|comply\\swith)\\s(?:it|them|the\\s(?:instructions?|commands?|directions?|orders?|message|text|result|decoded)|what\\sit\\ssays|whatever\\sit\\ssays|its\\sinstructions)(?![a-z])` +
      `|(?<![a-z])(?:do|follow|execute|obey)\\s(?:what|whatever)\\s(?:it|this|the\\s(?:decoded\\s)?(?:text|message|string))\\ssays(?![a-z])`,
    anchors: [
      [
        ...combos(words('follow|obey|execute|carry out|act on|comply with'), words('it|them|the|what|whatever|its')),
        ...combos(words('do|follow|execute|obey'), words('what it|whatever it|what this|whatever this|what the|whatever the')),
      ],
    ],
  },
  {
    id: 'obfuscation.rot13-marker',
    category: B,
    confidence: 0,
    pattern: `(?<![a-z])(?:rot[\\s-]?13|caesar\\scipher)`,
    anchors: [words('rot13|rot-13|rot 13|caesar cipher')],
  },
];

// ---------------------------------------------------------------------------------------------
// Other languages with Latin script
// ---------------------------------------------------------------------------------------------

interface LatinLanguage {
  code: string;
  verbs: string[];
  /** Qualifiers before the noun ("alle", "toutes les"). */
  pre: string[];
  nouns: string[];
  /** Qualifiers after the noun ("précédentes"); empty when adjectives precede. */
  post: string[];
  /** Noun-first forms: qualifier + noun + these ("… gelten nicht mehr"). */
  trailing: string[];
  forget: string;
  forgetAnchors: string[][];
  fromNow: string[];
  bypass: string[];
  persona: string[];
  restrictions: string[];
  devMode: string[];
  extractVerbs: string[];
  possessive: string[];
  promptNouns: string[];
  sysPrompt: string[];
  told: string;
  toldAnchors: string[][];
  newAdjectives: string[];
  newNouns: string[];
}

const LANGS: LatinLanguage[] = [
  {
    code: 'de',
    verbs: words(
      'ignoriere|ignorier|ignorieren|ignoriert|vergiss|vergessen|vergesst|missachte|missachten|missachtet|ubergehe|ubergeh|ubergehen|uebergehe|verwirf|verwerfen|' +
        'beachte nicht|beachten sie nicht|befolge nicht mehr|befolgen sie nicht mehr|setze au(ß|ss)er kraft|hebe auf|streiche|losche',
    ),
    pre: words(
      'alle|samtliche|jegliche|deine|ihre|dein|ihr|deinen|ihren|eure|euren|eurer|bisherigen|vorherigen|vorigen|obigen|fruheren|frueheren|vorangegangenen|vorangehenden|' +
        'ursprunglichen|urspruenglichen|bestehenden|gegebenen|erhaltenen|zuvor gegebenen|oben genannten|system',
    ),
    nouns: words(
      'anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien|anordnungen|direktiven|systemanweisungen|systemprompt|system-prompt|prompts|' +
        'einschrankungen|beschrankungen|vorschriften|programmierung',
    ),
    post: [],
    trailing: words(
      'ignorieren|vergessen|missachten|ignoriert|vergisst|gelten nicht mehr|sind ungultig|sind ab sofort ungultig|sind aufgehoben|sind nichtig|' +
        'sind hinfallig|sind außer kraft|sind ausser kraft|außer acht lassen|ausser acht lassen|nicht mehr beachten|nicht mehr befolgen|gelten ab sofort nicht mehr|sind nicht mehr gultig',
    ),
    forget: `(?:vergiss|vergessen\\ssie|ignoriere|ignorieren\\ssie)\\s(?:einfach\\s|bitte\\s)?alles,?\\s(?:was|das|bisher|zuvor|vorher|oben|davor|bis\\shierhin|bisherige|vorherige)`,
    forgetAnchors: [words('vergiss|vergessen sie|ignoriere|ignorieren sie'), words('alles')],
    fromNow: words('ab jetzt|ab sofort|von nun an|ab heute|ab diesem moment|fortan|ab hier'),
    bypass: words('ohne|keine|keinerlei|frei von|nicht an|nicht mehr an|nicht mehr|ignorierst|uneingeschrankt|unzensiert|ungefiltert|hattest keine|hast keine|gibt es keine'),
    persona: words(
      'du bist jetzt|du bist nun|du bist ab sofort|du bist ab jetzt|ab jetzt bist du|ab sofort bist du|tu so als|tu so, als|tue so als|stell dir vor du|' +
        'stell dir vor, du|verhalte dich wie|verhalte dich als|spiele die rolle|spiel die rolle|sei ein|sei eine|agiere als|handle als|du bist eine ki|du bist ein',
    ),
    restrictions: words(
      'einschrankungen|einschrankung|beschrankungen|regeln|richtlinien|filter|zensur|grenzen|ethik|moral|vorgaben|limits|schranken|sicherheitsrichtlinien|inhaltsrichtlinien',
    ),
    devMode: words('entwicklermodus|entwickler-modus|developer-modus|jailbreak-modus|gottmodus'),
    extractVerbs: words('zeige|zeig|gib|gebe|nenne|wiederhole|verrate|drucke|schreibe|schreib|teile|enthulle|gib aus|liste|zitiere|kopiere|sag|sage'),
    possessive: words('deinen|deine|dein|deinem|ihren|ihre|ihr|ihrem|deiner|eure|euren|eurem'),
    promptNouns: words(
      'systemprompt|system-prompt|system prompt|systemanweisungen|systemanweisung|systemnachricht|anweisungen|prompt|instruktionen|anfangsanweisungen|regeln|vorgaben',
    ),
    sysPrompt: words(
      'systemprompt|system-prompt|systemanweisungen|systemnachricht|system-instruktionen|anfangsanweisungen|ursprunglichen anweisungen|urspruenglichen anweisungen|' +
        'initialen anweisungen|versteckten anweisungen|geheimen anweisungen|ersten anweisungen',
    ),
    told: `(?:was\\s(?:steht|stand)\\sin\\s(?:deinem|ihrem|deinen|ihren)\\s(?:system-?prompt|systemanweisungen|anweisungen|vorgaben|prompt)|was\\s(?:wurde|hat\\sman)\\s(?:dir|ihnen)\\s(?:vor|zu\\sbeginn|am\\sanfang|vorher|zuvor|bisher)${span(40)}(?:gesagt|aufgetragen|vorgegeben|mitgeteilt))`,
    toldAnchors: [words('wurde dir|hat man dir|wurde ihnen|hat man ihnen|steht in|stand in'), words('gesagt|aufgetragen|vorgegeben|mitgeteilt|prompt|anweisungen|vorgaben')],
    newAdjectives: words('neue|aktualisierte|geanderte|echte'),
    newNouns: words('anweisungen|instruktionen|regeln|aufgabe|befehle|vorgaben'),
  },
  {
    code: 'fr',
    verbs: words(
      'ignore|ignorez|ignorer|oublie|oubliez|oublier|neglige|negligez|ecarte|ecartez|abandonne|abandonnez|ne tiens pas compte|ne tenez pas compte|' +
        'ne tiens plus compte|ne tenez plus compte|ne suis pas|ne suivez pas|ne suis plus|ne suivez plus|fais abstraction|faites abstraction|passe outre|' +
        'passez outre|laisse tomber|laissez tomber|mets de cote|mettez de cote|annule|annulez|efface|effacez|contourne|contournez|desobeis|desobeissez',
    ),
    pre: words('toutes les|tous les|toutes tes|toutes vos|tous tes|tous vos|tes|vos|toute|toutes|tout'),
    nouns: words(
      'instructions|instruction|consignes|consigne|directives|directive|regles|regle|ordres|commandes|indications|prompts|prompt|restrictions|limitations|' +
        'parametres|contraintes|programmation|lignes directrices',
    ),
    post: words(
      "precedentes|precedente|anterieures|anterieure|ci-dessus|d'avant|initiales|initiale|originales|originale|du systeme|systeme|recues|donnees|fournies|" +
        "passees|d'origine|de depart|qu'on t'a donnees|qu'on vous a donnees|que tu as recues|que vous avez recues|prealables",
    ),
    trailing: words("ne sont plus valables|sont annulees|sont caduques|ne s'appliquent plus|sont obsoletes|sont nulles"),
    forget: `(?:oublie|oubliez|oublier|ignore|ignorez)\\s(?:tout|toutes|tous)\\s(?:ce\\squi|ce\\sque|ce\\squ'|ce\\squ'on|ce\\sque\\sl'on|les\\smessages?|le\\sreste|ce\\squ'il)${span(50)}(?:dit|donne|precede|avant|ci-dessus|recu|appris|explique|demande)`,
    forgetAnchors: [combos(words('oublie|oubliez|oublier|ignore|ignorez'), words('tout|toutes|tous'))],
    fromNow: words("a partir de maintenant|desormais|dorenavant|a partir d'aujourd'hui|des maintenant|a partir de ce moment"),
    bypass: words("sans|aucune|aucun|pas de|libre de|n'as pas|n'as aucune|n'as plus|n'avais pas|n'avais aucune|n'avais aucun|non soumis|non limite|non censure|non filtre|plus de"),
    persona: words(
      "tu es maintenant|tu es desormais|tu es a present|tu es dorenavant|vous etes maintenant|vous etes desormais|fais comme si|faites comme si|imagine que tu|" +
        "imaginez que vous|fais semblant d'etre|faites semblant d'etre|joue le role|jouez le role|agis comme|agissez comme|comporte-toi comme|fais semblant que|tu es une ia|tu es un",
    ),
    restrictions: words('restrictions|restriction|limites|limite|limitations|regles|regle|filtres|filtre|censure|contraintes|ethique|morale|garde-fous|directives|politique de contenu'),
    devMode: words('mode developpeur|mode dev|mode sans restriction|mode jailbreak|mode dieu|mode sans filtre'),
    extractVerbs: words(
      'revele|revelez|montre|montrez|affiche|affichez|repete|repetez|donne|donnez|ecris|ecrivez|imprime|imprimez| dis| dites|communique|communiquez|partage|partagez|' +
        'divulgue|divulguez|recite|recitez|copie|copiez| cite| citez|indique|indiquez',
    ),
    possessive: words('ton|votre|tes|vos'),
    promptNouns: words('prompt|invite|instructions|consignes|message systeme|directives|regles|prompt systeme|instructions systeme'),
    sysPrompt: words(
      "prompt systeme|prompt du systeme|invite systeme|message systeme|instructions initiales|instructions d'origine|instructions originales|instructions cachees|" +
        'instructions secretes|consignes initiales|consignes d\'origine|instructions systeme|instructions du systeme',
    ),
    told: `(?:qu'est-ce\\squ'on\\st'a\\sdit|que\\st'a-t-on\\sdit|qu'est-ce\\squ'on\\svous\\sa\\sdit|quelles\\s(?:sont|etaient)\\s(?:tes|vos)\\sinstructions)${span(30)}(?:avant|au\\sdebut|initiales|d'origine|systeme)`,
    toldAnchors: [words("on t'a dit|t'a-t-on dit|on vous a dit|tes instructions|vos instructions")],
    newAdjectives: words('nouvelles|nouvelle|vraies|vraie'),
    newNouns: words('instructions|consignes|regles|directives'),
  },
  {
    code: 'es',
    verbs: words(
      'ignora|ignorar|ignorad|ignore|ignoren|olvida|olvidar|olvidad|olvide|olviden|olvidate de|olvidese de|descarta|descartar|descarte|omite|omita|' +
        'pasa por alto|pase por alto|haz caso omiso a|haz caso omiso de|no hagas caso a|no hagas caso de|desobedece|desatiende|anula|deja de seguir|' +
        'deja de obedecer|deja de lado|no sigas|no sigan|saltate',
    ),
    pre: words('todas las|todos los|todas tus|todos tus|tus|sus|cualquier|toda|todas|todo'),
    nouns: words('instrucciones|instruccion|indicaciones|indicacion|reglas|regla|ordenes|directrices|normas|directivas|pautas|restricciones|consignas|comandos|prompt|programacion'),
    post: words(
      'anteriores|previas|de arriba|iniciales|originales|del sistema|de sistema|dadas|recibidas|que te dieron|que te han dado|que te di|que recibiste|precedentes|pasadas|de antes|previamente dadas',
    ),
    trailing: words('ya no son validas|ya no aplican|quedan anuladas|estan anuladas|no son validas|ya no valen'),
    forget: `(?:olvida|olvide|ignora|ignore|olvidate\\sde)\\s(?:todo|todas\\slas\\scosas)\\s(?:lo\\sque|lo\\santerior|lo\\sdicho|lo\\sde\\sarriba|lo\\sprevio)`,
    forgetAnchors: [combos(words('olvida|olvide|ignora|ignore|de'), words('todo|todas las cosas'))],
    fromNow: words('a partir de ahora|desde ahora|de ahora en adelante|en adelante|desde este momento'),
    bypass: words('sin|sin ninguna|sin ningun|no tienes|no tiene|no tendras|libre de|ninguna|ningun|no estas sujeto a|no estas limitado por'),
    persona: words(
      'ahora eres|ahora sos|a partir de ahora eres|finge que eres|finge ser|finge que|finja que es|finja ser|imagina que eres|actua como|actue como|' +
        'haz de cuenta que|comportate como|juega el papel de|interpreta a|hazte pasar por|eres una ia|eres un',
    ),
    restrictions: words('restricciones|restriccion|limites|limitaciones|reglas|filtros|censura|etica|moral|directrices|normas|politicas de contenido'),
    devMode: words('modo desarrollador|modo de desarrollador|modo sin restricciones|modo jailbreak|modo dios'),
    extractVerbs: words(
      'revela|revele|muestra|muestrame|muestre|muestreme|ensename|ensena|repite|repita|repiteme|imprime|imprima| dime|digame|escribe|escriba|comparte|comparta|divulga| copia| dame| deme| cita',
    ),
    possessive: words('tu|tus|su|sus'),
    promptNouns: words('prompt|instrucciones|indicaciones|mensaje del sistema|directrices|configuracion inicial|reglas|prompt del sistema|prompt de sistema'),
    sysPrompt: words(
      'prompt del sistema|prompt de sistema|mensaje del sistema|instrucciones del sistema|instrucciones iniciales|instrucciones originales|instrucciones ocultas|instrucciones secretas|indicaciones iniciales',
    ),
    told: `que\\ste\\s(?:dijeron|indicaron|ordenaron|programaron)${span(30)}(?:antes|al\\sprincipio|al\\sinicio)`,
    toldAnchors: [words('te dijeron|te indicaron|te ordenaron|te programaron')],
    newAdjectives: words('nuevas|verdaderas'),
    newNouns: words('instrucciones|reglas|ordenes|directrices|indicaciones'),
  },
  {
    code: 'it',
    verbs: words(
      'ignora|ignorate|ignori|ignorare|dimentica|dimenticate|dimentichi|dimenticare|trascura|trascurate|non considerare|non tenere conto di|' +
        'non tenere conto delle|non tenere conto dei|scarta|scartate|lascia perdere|metti da parte|non seguire|non seguite|smetti di seguire|annulla|disattendi',
    ),
    pre: words('tutte le|tutti i|le tue|i tuoi|tue|tuoi|ogni|qualsiasi|le sue|tutte le tue|tutti i tuoi|tutte|tutto'),
    nouns: words('istruzioni|istruzione|regole|regola|indicazioni|direttive|ordini|comandi|linee guida|restrizioni|vincoli|prompt|programmazione'),
    post: words('precedenti|di prima|sopra|qui sopra|iniziali|originali|di sistema|del sistema|ricevute|date|fornite|impartite|passate|anteriori|che ti sono state date'),
    trailing: words('non sono piu valide|sono annullate|non valgono piu|non si applicano piu'),
    forget: `(?:dimentica|ignora|dimenticate|ignorate)\\s(?:tutto|ogni\\scosa)\\s(?:quello|cio|quanto)\\s(?:che|detto|scritto|sopra|ti)`,
    forgetAnchors: [combos(words('dimentica|ignora|dimenticate|ignorate'), words('tutto|ogni cosa'))],
    fromNow: words("d'ora in poi|da ora in poi|da adesso|a partire da ora|da questo momento|d'ora in avanti"),
    bypass: words('senza|senza alcuna|senza nessuna|non hai|non hai piu|nessuna|nessun|libero da|privo di|priva di'),
    persona: words(
      "ora sei|adesso sei|da ora sei|da ora in poi sei|fingi di essere|fingi che|fai finta di essere|fai finta che|immagina di essere|comportati come|agisci come|" +
        "interpreta il ruolo di|recita la parte di|sei un'ia|sei un",
    ),
    restrictions: words('restrizioni|restrizione|limiti|limitazioni|regole|filtri|censura|etica|morale|vincoli|linee guida'),
    devMode: words('modalita sviluppatore|modalita sviluppo|modalita senza restrizioni|modalita jailbreak|modalita dio'),
    extractVerbs: words('rivela|rivelami|mostra|mostrami|ripeti|stampa|dimmi|scrivi|condividi|dammi|elenca|riporta| cita| copia'),
    possessive: words('il tuo|la tua|le tue|i tuoi|tuo|tua|tue|tuoi'),
    promptNouns: words('prompt|istruzioni|messaggio di sistema|direttive|regole|prompt di sistema'),
    sysPrompt: words('prompt di sistema|prompt del sistema|messaggio di sistema|istruzioni di sistema|istruzioni iniziali|istruzioni originali|istruzioni nascoste|istruzioni segrete'),
    told: `cosa\\sti\\s(?:e\\sstato|hanno)\\s(?:detto|ordinato|indicato)${span(30)}(?:prima|all'inizio|in\\sprecedenza)`,
    toldAnchors: [words('ti e stato|ti hanno')],
    newAdjectives: words('nuove|vere'),
    newNouns: words('istruzioni|regole|direttive'),
  },
  {
    code: 'pt',
    verbs: words(
      'ignore|ignora|ignorem|ignorar|esqueca|esquece|esquecam|esquecer|desconsidere|desconsidera|desconsiderem|descarte|descarta|despreze|despreza|' +
        'nao siga|nao sigam|nao obedeca|nao obedecam|nao considere|nao leve em conta|deixe de lado|pare de seguir|abandone|anule|passe por cima de|passe por cima das',
    ),
    pre: words('todas as|todos os|todas|suas|seus|tuas|teus|as suas|os seus|quaisquer|qualquer|as tuas'),
    nouns: words('instrucoes|instrucao|regras|regra|orientacoes|diretrizes|ordens|comandos|indicacoes|restricoes|normas|prompt|programacao|diretivas'),
    post: words('anteriores|previas|acima|iniciais|originais|do sistema|de sistema|recebidas|dadas|passadas|que voce recebeu|que tu recebeste|de antes|precedentes'),
    trailing: words('nao sao mais validas|foram anuladas|estao anuladas|nao valem mais|nao se aplicam mais'),
    forget: `(?:esqueca|esquece|ignore|ignora)\\s(?:tudo|todas\\sas\\scoisas)\\s(?:o\\sque|que|acima|anterior|antes|dito|isso)`,
    forgetAnchors: [combos(words('esqueca|esquece|ignore|ignora'), words('tudo|todas as coisas'))],
    fromNow: words('a partir de agora|de agora em diante|daqui em diante|doravante|a partir deste momento'),
    bypass: words('sem|sem nenhuma|sem qualquer|nao tem|nao tem mais|nao possui|livre de|nenhuma|nenhum'),
    persona: words(
      'agora voce e|agora tu es|agora es|a partir de agora voce e|a partir de agora tu es|finja que voce e|finja que e|finja ser|finja que nao tem|finge que es|' +
        'finge ser|imagine que voce e|aja como|atue como|comporte-se como|faca de conta que|interprete|voce e uma ia|voce e um',
    ),
    restrictions: words('restricoes|restricao|limites|limitacoes|regras|filtros|censura|etica|moral|diretrizes'),
    devMode: words('modo desenvolvedor|modo de desenvolvedor|modo sem restricoes|modo jailbreak|modo deus'),
    extractVerbs: words(
      'revele|revela|mostre|mostra|me mostre|repita|repete|imprima| diga| diz|me diga|escreva|escreve|compartilhe|me de|me da|divulgue|exiba| liste| cite| copie',
    ),
    possessive: words('o seu|a sua|as suas|os seus|seu|sua|suas|seus|o teu|a tua|teu|tua|tuas|teus'),
    promptNouns: words('prompt|instrucoes|mensagem do sistema|diretrizes|regras|prompt do sistema'),
    sysPrompt: words('prompt do sistema|prompt de sistema|mensagem do sistema|instrucoes do sistema|instrucoes iniciais|instrucoes originais|instrucoes ocultas|instrucoes secretas'),
    told: `o\\sque\\s(?:te|lhe)\\s(?:disseram|mandaram|instruiram)${span(30)}(?:antes|no\\sinicio|no\\scomeco)`,
    toldAnchors: [combos(words('te|lhe'), words('disseram|mandaram|instruiram'))],
    newAdjectives: words('novas|verdadeiras'),
    newNouns: words('instrucoes|regras|ordens|diretrizes'),
  },
  {
    code: 'nl',
    verbs: words('negeer|negeert|negeren|vergeet|vergeten|veronachtzaam|let niet op|houd geen rekening met|volg niet|volg geen|schrap|gooi weg|laat varen|sla over'),
    pre: words(
      'alle|al je|al jouw|je|jouw|uw|vorige|eerdere|voorgaande|bovenstaande|oorspronkelijke|bestaande|gegeven|systeem|de vorige|de eerdere|de bovenstaande|alle vorige|alle eerdere',
    ),
    nouns: words("instructies|instructie|regels|opdrachten|richtlijnen|aanwijzingen|bevelen|commando's|commandos|prompt|systeemprompt|beperkingen|voorschriften|programmering"),
    post: [],
    trailing: words('gelden niet meer|zijn ongeldig|zijn vervallen|zijn niet meer geldig|vervallen'),
    forget: `(?:vergeet|negeer)\\s(?:gewoon\\s)?alles\\s(?:wat|dat|hierboven|daarvoor|tot\\snu\\stoe|eerder|van\\s(?:hiervoor|eerder))`,
    forgetAnchors: [words('vergeet|negeer'), words('alles')],
    fromNow: words('vanaf nu|voortaan|vanaf dit moment|van nu af aan'),
    bypass: words('zonder|geen|vrij van|niet gebonden aan|niet meer gebonden aan'),
    persona: words('je bent nu|jij bent nu|u bent nu|vanaf nu ben je|doe alsof je|doe of je|stel je voor dat je|speel de rol van|gedraag je als|handel als|je bent een'),
    restrictions: words('beperkingen|beperking|regels|filters|censuur|grenzen|ethiek|moraal|richtlijnen|restricties'),
    devMode: words('ontwikkelaarsmodus|ontwikkelaarmodus|developer modus|ontwikkelmodus|jailbreak-modus'),
    extractVerbs: words(' toon|herhaal| print| geef|onthul|vertel|schrijf| deel| noem|citeer|kopieer'),
    possessive: words('je|jouw|uw'),
    promptNouns: words('systeemprompt|systeem prompt|prompt|instructies|systeeminstructies|systeembericht|richtlijnen|regels'),
    sysPrompt: words('systeemprompt|systeem prompt|systeeminstructies|systeembericht|oorspronkelijke instructies|eerste instructies|verborgen instructies|geheime instructies|initiele instructies'),
    told: `wat\\s(?:is|werd)\\s(?:je|jou|u)\\s(?:eerder|vooraf|aan\\shet\\sbegin)${span(30)}(?:verteld|gezegd|opgedragen)`,
    toldAnchors: [words('verteld|gezegd|opgedragen'), words('eerder|vooraf|aan het begin')],
    newAdjectives: words('nieuwe|echte'),
    newNouns: words('instructies|regels|opdrachten|richtlijnen'),
  },
];

const ARTICLES = '(?:les|des|de|la|le|l\'|d\'|las|los|el|sus|tus|i|gli|delle|dei|as|os|o|a|das|dos)';

for (const l of LANGS) {
  const id = (s: string): string => `${s}.${l.code}`;
  const nounPhrase =
    l.post.length > 0
      ? `(?:${alt(l.pre)}\\s(?:[\\p{L}'-]+\\s)?${alt(l.nouns)}|(?:${ARTICLES}\\s?)?(?:[\\p{L}'-]+\\s)?${alt(l.nouns)}\\s${alt(l.post)})`
      : `(?:(?:${alt(l.pre)}|de|het|die|den|der|das)\\s){0,3}?${alt(l.pre)}\\s(?:[\\p{L}'-]+\\s)?${alt(l.nouns)}`;
  const filler = `(?:\\s(?:sie|du|bitte|jetzt|nun|ab\\ssofort|einfach|sofort|por\\sfavor|per\\sfavore|svp|agora|gewoon|nu|even|maar|todas|toutes|tutte|alle|de|d'|del|della|delle|des|das|dos|van|je)){0,2}`;
  const trimmed = (list: string[]): string[] => list.map((w) => w.trim());
  SPECS.push(
    {
      id: id('override.ignore-previous'),
      category: O,
      confidence: 0.9,
      language: l.code,
      pattern: `${LB}${alt(l.verbs)}${filler}\\s?${nounPhrase}${RB}`,
      anchors: [sp(l.verbs), l.nouns, sp(l.post.length > 0 ? [...l.pre, ...l.post] : l.pre)],
    },
    {
      id: id('override.forget-everything'),
      category: O,
      confidence: 0.8,
      language: l.code,
      pattern: `${LB}${l.forget}`,
      anchors: l.forgetAnchors,
    },
    {
      id: id('override.new-instructions'),
      category: O,
      confidence: 0.65,
      language: l.code,
      pattern: `${LB}${alt(l.newAdjectives)}\\s${alt(l.newNouns)}\\s?:`,
      anchors: [combos(l.newAdjectives, l.newNouns), [':']],
    },
    {
      id: id('roleplay.from-now-on'),
      category: R,
      confidence: 0.8,
      language: l.code,
      pattern: `${LB}${alt(l.fromNow)}${span(60)}${LB}${alt(l.bypass)}\\s(?:[\\p{L}'-]+\\s){0,2}?${alt(l.restrictions)}${RB}`,
      anchors: [l.fromNow, l.bypass, l.restrictions],
    },
    {
      id: id('roleplay.no-restrictions'),
      category: R,
      confidence: 0.8,
      language: l.code,
      pattern: `${LB}${alt(l.persona)}${RB}${span(70)}${LB}${alt(l.bypass)}\\s(?:[\\p{L}'-]+\\s){0,2}?${alt(l.restrictions)}${RB}`,
      anchors: [l.persona, l.bypass, l.restrictions],
    },
    {
      id: id('roleplay.developer-mode'),
      category: R,
      confidence: 0.75,
      language: l.code,
      pattern: `${LB}${alt(l.devMode)}${RB}`,
      anchors: [l.devMode],
      adjust: (ctx, start) => {
        // A phone's developer mode is no jailbreak: only the AI-persona context is.
        const around = ctx.text.slice(Math.max(0, start - 80), start + 120);
        return /(?:\bki\b|\bia\b|\bai\b|chatgpt|openai|gpt|assistent|assistant|asistente|assistente|modelo|modello|\bbot\b|censur|zensur|filt|restri|beschr|einschr|regl|regel|regra|regol|limit)/.test(around)
          ? 0.75
          : 0;
      },
    },
    {
      id: id('extract.system-prompt'),
      category: X,
      confidence: 0.8,
      language: l.code,
      pattern:
        `${LB}${alt(trimmed(l.extractVerbs))}(?:-(?:moi|nous|me|mi))?(?:\\s(?:mir|uns|moi|nous|me|mi|ci|ons|mij|-me|bitte|por\\sfavor|per\\sfavore)){0,2}\\s(?:[\\p{L}'-]+\\s){0,2}?` +
        `(?:${alt(l.possessive)}\\s(?:[\\p{L}'-]+\\s)?${alt(l.promptNouns)}|(?:(?:den|die|das|le|la|les|el|las|il|lo|o|a|as|de)\\s)?${alt(l.sysPrompt)})${RB}`,
      anchors: [l.extractVerbs, [...l.promptNouns, ...l.sysPrompt], [...l.possessive.map((p) => ` ${p} `), ...l.sysPrompt]],
    },
    {
      id: id('extract.your-system-prompt'),
      category: X,
      confidence: 0.55,
      language: l.code,
      pattern: `${LB}${alt(l.possessive)}\\s(?:[\\p{L}'-]+\\s)?${alt(l.sysPrompt)}${RB}`,
      anchors: [sp(l.possessive), l.sysPrompt],
    },
    {
      id: id('extract.told-before'),
      category: X,
      confidence: 0.75,
      language: l.code,
      pattern: `${LB}${l.told}`,
      anchors: l.toldAnchors,
    },
  );
  if (l.trailing.length > 0) {
    SPECS.push({
      id: id('override.noun-first'),
      category: O,
      confidence: 0.85,
      language: l.code,
      pattern: `${LB}${alt(l.pre)}\\s(?:[\\p{L}'-]+\\s){0,2}?${alt(l.nouns)}(?:\\s[\\p{L}'-]+){0,3}?\\s${alt(l.trailing)}${RB}`,
      anchors: [l.nouns, l.trailing],
    });
  }
}

// "You have no rules (any more)" in the Latin-script languages.
const YOU_HAVE_NO: readonly (readonly [string, string, string[][]])[] = [
  [
    'de',
    `(?:du\\s(?:hast|besitzt)\\s(?:ab\\s(?:jetzt|sofort)\\s|nun\\s|jetzt\\s)?(?:keine|keinerlei)|(?:fur|fuer)\\sdich\\sgelten\\s(?:ab\\s(?:jetzt|sofort)\\s)?(?:keine|keinerlei)|gelten\\s(?:fur|fuer)\\sdich\\s(?:ab\\s(?:jetzt|sofort)\\s)?(?:keine|keinerlei)(?:\\s(?:mehr))?)\\s(?:\\p{L}+\\s)?(?:regeln|einschrankungen|beschrankungen|filter|grenzen|richtlinien|zensur)`,
    [words('du hast|du besitzt|dich gelten|fur dich|fuer dich'), words('keine|keinerlei')],
  ],
  ['fr', `(?:tu\\sn'as|vous\\sn'avez)\\s(?:plus|aucune?|pas)\\s(?:de\\s|d')?(?:regles?|restrictions?|limites?|filtres?|censure|contraintes?)`, [words("tu n'as|vous n'avez")]],
  ['es', `(?:ya\\sno\\stienes|no\\stienes|no\\stiene)\\s(?:ninguna?\\s)?(?:reglas|restricciones|limites|filtros|censura)`, [words('no tienes|no tiene')]],
  ['it', `non\\shai\\s(?:piu\\s)?(?:alcuna?\\s|nessuna?\\s)?(?:regole|restrizioni|limiti|filtri|censura)`, [words('non hai')]],
  ['pt', `(?:voce|tu)\\s(?:ja\\s)?nao\\stem\\s(?:mais\\s)?(?:nenhuma\\s)?(?:regras|restricoes|limites|filtros|censura)`, [words('nao tem')]],
  ['nl', `(?:je|jij|u)\\s(?:hebt|heeft)\\s(?:nu\\s)?(?:geen|nul)\\s(?:regels|beperkingen|grenzen|filters|censuur)`, [words('je hebt|jij hebt|u hebt|u heeft')]],
];
for (const [lang, pattern, anchors] of YOU_HAVE_NO) {
  SPECS.push({ id: `roleplay.you-have-no-rules.${lang}`, category: R, confidence: 0.65, language: lang, pattern: `${LB}${pattern}${RB}`, anchors });
}

// Dutch separable "laat … zien": the object sits between the verb parts.
SPECS.push({
  id: 'extract.system-prompt.nl-laat-zien',
  category: X,
  confidence: 0.8,
  language: 'nl',
  pattern: `${LB}laat\\s(?:me\\s|mij\\s|ons\\s)?(?:[\\p{L}'-]+\\s){0,2}?(?:je|jouw|uw|de)\\s(?:[\\p{L}'-]+\\s)?(?:systeemprompt|systeem\\sprompt|instructies|prompt|systeeminstructies|systeembericht|regels)\\s(?:[\\p{L}'-]+\\s)?zien${RB}`,
  anchors: [words('zien'), words('laat'), words('systeemprompt|systeem prompt|instructies|prompt|systeeminstructies|systeembericht|regels')],
});

// ---------------------------------------------------------------------------------------------
// Russian (stems: case endings vary), Chinese, Japanese, Korean (no spaces: bounded gaps)
// ---------------------------------------------------------------------------------------------

const RU_VERBS = words(
  'игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|не обращай внимания на|не обращайте внимания на|отбрось|отбросьте|пренебреги|' +
    'не слушай|не слушайте|не следуй|не следуйте|не выполняй|не выполняйте|отмени|отмените|сбрось|сбросьте|отключи|отключите|обойди|обойдите|нарушь|нарушьте|игнорировать|забыть',
);
const RU_QUAL = words(
  'все|всё|любые|свои|твои|ваши|прежние|предыдущие|прошлые|ранее|полученные|системные|исходные|первоначальные|изначальные|вышеуказанные|вышеизложенные|' +
    'вышеприведенные|предшествующие|установленные|заданные|встроенные|данные тебе|старые|всех|прежних|предыдущих|' +
    'своим|твоим|вашим|прежним|предыдущим|старым|системным|этим|всем',
);
const RU_NOUN_STEMS = words('инструкци|указани|правил|команд|директив|ограничени|настрой|установк|промпт|запрет|распоряжени|предписани');
const RU_NOUN = `(?:${RU_NOUN_STEMS.join('|')})\\p{L}*`;
const RU_RESTR_STEMS = words('ограничени|правил|фильтр|цензур|этик|морал|запрет|рам|принцип|норм');
const RU_RESTR = `(?:${RU_RESTR_STEMS.join('|')})\\p{L}*`;
const RU_EXTRACT = words('покажи|покажите|выведи|выведите|повтори|повторите|раскрой|раскройте|напиши|напишите|распечатай|скажи|скажите|назови|процитируй|сообщи|дай|дайте|расскажи|расскажите|озвучь');
SPECS.push(
  {
    id: 'override.ignore-previous.ru',
    category: O,
    confidence: 0.9,
    language: 'ru',
    pattern: `${LB}${alt(RU_VERBS)}(?:\\s(?:пожалуйста|просто|сейчас|теперь))?\\s(?:${alt(RU_QUAL)}\\s){1,3}(?:\\p{L}+\\s)?${RU_NOUN}`,
    anchors: [RU_VERBS, RU_NOUN_STEMS],
  },
  {
    id: 'override.noun-first.ru',
    category: O,
    confidence: 0.85,
    language: 'ru',
    pattern: `${LB}(?:все|всё|свои|твои|предыдущие|прошлые|прежние|системные|исходные)\\s(?:\\p{L}+\\s)?${RU_NOUN}\\s(?:\\p{L}+\\s){0,2}?(?:игнорируй|забудь|отмени|больше\\sне\\sдействуют|недействительны|аннулированы|отменены|не\\sдействуют)`,
    anchors: [RU_NOUN_STEMS, words('игнорируй|забудь|отмени|не действуют|недействительны|аннулированы|отменены')],
  },
  {
    id: 'override.forget-everything.ru',
    category: O,
    confidence: 0.8,
    language: 'ru',
    pattern: `${LB}(?:забудь|забудьте|игнорируй|игнорируйте)\\s(?:вс[её](?:\\sто)?)\\s?,?\\s(?:что|чему|о\\sчем|выше|ранее|до\\sэтого|прежнее)`,
    anchors: [words('забудь|забудьте|игнорируй|игнорируйте'), words('все|всё')],
  },
  {
    id: 'roleplay.from-now-on.ru',
    category: R,
    confidence: 0.8,
    language: 'ru',
    pattern: `${LB}(?:с\\s(?:этого|сегодняшнего)\\sмомента|отныне|теперь|впредь|с\\sэтой\\sминуты)${span(60)}(?:без\\s(?:каких-либо\\s|всяких\\s|любых\\s)?(?:ограничений|правил|фильтров|цензуры)|нет\\s(?:никаких\\s)?(?:ограничений|правил|фильтров)|игнорируешь|не\\s(?:соблюдаешь|следуешь|подчиняешься))`,
    anchors: [words('с этого|с сегодняшнего|отныне|теперь|впредь|с этой минуты'), words('ограничений|правил|фильтров|цензуры|игнорируешь|соблюдаешь|следуешь|подчиняешься')],
  },
  {
    id: 'override.new-instructions.ru',
    category: O,
    confidence: 0.65,
    language: 'ru',
    pattern: `${LB}(?:новые|настоящие)\\s(?:инструкции|правила|указания|команды)\\s?:`,
    anchors: [combos(words('новые|настоящие'), words('инструкции|правила|указания|команды'))],
  },
  {
    id: 'roleplay.no-restrictions.ru',
    category: R,
    confidence: 0.8,
    language: 'ru',
    pattern: `${LB}(?:теперь\\sты|ты\\sтеперь|с\\sэтого\\sмомента\\sты|отныне\\sты|представь,?\\sчто\\sты|притворись|веди\\sсебя\\sкак|действуй\\sкак|сыграй\\sроль|играй\\sроль|ты\\s(?:—\\s|-\\s)?(?:ии|ai|бот|ассистент|модель))${span(70)}${LB}(?:без|не\\sимеешь|нет|не\\sсвязан\\p{L}*|свободн\\p{L}*\\sот|не\\sограничен\\p{L}*)\\s(?:\\p{L}+\\s){0,2}?${RU_RESTR}`,
    anchors: [words('теперь ты|ты теперь|с этого момента ты|отныне ты|представь|притворись|веди себя как|действуй как|сыграй роль|играй роль|ты'), RU_RESTR_STEMS],
  },
  {
    id: 'roleplay.developer-mode.ru',
    category: R,
    confidence: 0.75,
    language: 'ru',
    pattern: `${LB}(?:включи|активируй|перейди\\sв|ты\\sв|войди\\sв)\\s(?:\\p{L}+\\s)?(?:режим\\p{L}*\\s(?:разработчика|без\\sограничений|бога|джейлбрейка)|dan)`,
    anchors: [words('включи|активируй|перейди в|ты в|войди в'), words('режим|dan')],
  },
  {
    id: 'extract.system-prompt.ru',
    category: X,
    confidence: 0.8,
    language: 'ru',
    pattern:
      `${LB}${alt(RU_EXTRACT)}(?:\\s(?:мне|нам|пожалуйста)){0,2}\\s(?:\\p{L}+\\s){0,2}?(?:(?:свой|твой|свою|твою|свои|твои|ваш|вашу|ваши)\\s(?:\\p{L}+\\s)?(?:системн\\p{L}*\\s(?:промпт|подсказк|инструкци|сообщени)\\p{L}*|промпт\\p{L}*|инструкци\\p{L}*|(?:исходн|первоначальн|начальн|изначальн|скрыт|секретн)\\p{L}*\\s(?:инструкци|указани|промпт)\\p{L}*)` +
      `|системн\\p{L}*\\s(?:промпт|подсказк|инструкци|сообщени)\\p{L}*|(?:исходн|первоначальн|начальн|изначальн|скрыт|секретн)\\p{L}*\\s(?:инструкци|указани|промпт)\\p{L}*)`,
    anchors: [RU_EXTRACT, words('промпт|подсказк|инструкци|сообщени|указани')],
  },
  {
    id: 'extract.told-before.ru',
    category: X,
    confidence: 0.75,
    language: 'ru',
    pattern: `${LB}что\\s(?:тебе|вам)\\s(?:сказали|говорили|приказали|велели|написали)${span(30)}(?:до\\s(?:начала\\s)?(?:этого|нашего)|раньше|в\\sначале|изначально)`,
    anchors: [combos(words('тебе|вам'), words('сказали|говорили|приказали|велели|написали'))],
  },
);

const ZH_VERBS = words('忽略|无视|無視|忽视|忽視|不要理会|不要理會|不用理会|别管|別管|忘记|忘記|忘掉|抛开|拋開|丢弃|丟棄|放弃|放棄|不要遵守|不再遵守|不要遵循|不再遵循|停止遵守|停止遵循|跳过|跳過|绕过|繞過|覆盖|覆蓋|取消|撇开|撇開');
const ZH_QUAL = words('之前|以前|先前|此前|上面|以上|上述|前面|前述|早先|原来|原來|原先|原有|原始|初始|所有|全部|一切|任何|你的|您的|系统|系統|既有|现有|現有');
const ZH_NOUN = words('指令|指示|说明|說明|规则|規則|提示词|提示詞|提示|要求|设定|設定|命令|约束|約束|限制|规定|規定|准则|準則|守则|守則|规范|規範');
const ZH_VOID = words('忽略|无视|無視|作废|作廢|无效|無效|不再有效|失效|不算数|不算數|取消|废除|廢除');
const ZH_RESTR = words('限制|约束|約束|规则|規則|过滤|過濾|审查|審查|道德|伦理|倫理|安全准则|安全準則|底线|底線|规范|規範|准则|準則');
const ZH_PERSONA = words('你现在是|你現在是|现在你是|現在你是|你将扮演|你將扮演|扮演|假装你是|假裝你是|假装|假裝|想象你是|想像你是|你是一个|你是一個|从现在开始你是|從現在開始你是');
const ZH_SYS = words('系统提示词|系統提示詞|系统提示|系統提示|系统指令|系統指令|系统消息|系統消息|初始指令|原始指令|最初的指令|初始提示|原始提示|隐藏指令|隱藏指令|预设提示|預設提示|系统设定|系統設定|提示词|提示詞');
const ZH_EXTRACT = words('告诉我|告訴我|显示|顯示|输出|輸出|打印|重复|重複|透露|泄露|洩露|给我看|給我看|展示|复述|複述|说出|說出|写出|寫出|列出|公开|公開');
const JA_QUAL = words('以前|前|上記|これまで|今まで|先ほど|先程|最初|すべて|全て|あなたの|システム|元|既存|過去|上|前述|それまで');
const JA_NOUN = words('指示|命令|指令|ルール|規則|設定|制約|制限|プロンプト|ガイドライン|インストラクション');
const JA_VERB = words('無視|忘れ|破棄|無効|取り消|撤回|従わない|従わず|守らない|守らず|気にしない|リセット');
const JA_RESTR = words('制限|制約|ルール|フィルター|検閲|倫理|規制|道徳');
const JA_EXTRACT = words('教えて|表示|出力|見せて|繰り返|開示|書き出|公開|暴露|印刷|言って|示して');
const KO_QUAL = words('이전|앞의|위의|모든|기존|이전의|지금까지의|위에|앞서');
const KO_NOUN = words('지시|명령|지침|규칙|프롬프트|설정|지시사항|명령어');
const KO_VERB = words('무시|잊어|잊고|따르지|버려');
const KO_SYS = words('시스템 프롬프트|시스템프롬프트|초기 지시|시스템 지시|원래 지시|숨겨진 지시');
const KO_EXTRACT = words('보여|알려|출력|반복|공개|말해');

// Chinese rules yield to Japanese ones when the text has kana: both write 指示 and 無視.
const notJapanese = (base: number) => (ctx: RuleContext): number => (/[\u3040-\u30ff]/.test(ctx.text) ? 0 : base);

SPECS.push(
  {
    id: 'override.ignore-previous.zh',
    category: O,
    confidence: 0.85,
    language: 'zh',
    pattern: `${alt(ZH_VERBS)}${span(12)}${alt(ZH_QUAL)}${span(8)}${alt(ZH_NOUN)}`,
    anchors: [ZH_VERBS, ZH_NOUN, ZH_QUAL],
    adjust: notJapanese(0.85),
  },
  {
    id: 'override.noun-first.zh',
    category: O,
    confidence: 0.85,
    language: 'zh',
    pattern: `${alt(ZH_QUAL)}${span(8)}${alt(ZH_NOUN)}${span(6)}(?:都|全部|一律|统统|統統)?${alt(ZH_VOID)}`,
    anchors: [ZH_NOUN, ZH_VOID, ZH_QUAL],
    adjust: notJapanese(0.85),
  },
  {
    id: 'override.forget-everything.zh',
    category: O,
    confidence: 0.75,
    language: 'zh',
    pattern: `(?:忘记|忘記|忘掉|忽略|无视|無視)(?:掉)?(?:你)?(?:之前|以前|上面|前面)(?:所有|全部|一切)?(?:被告知|听到|聽到|学到|學到|收到|说过|說過)?的?(?:一切|所有内容|所有內容|所有东西|全部内容|所有)`,
    anchors: [words('忘记|忘記|忘掉|忽略|无视|無視'), words('之前|以前|上面|前面')],
    adjust: notJapanese(0.75),
  },
  {
    id: 'roleplay.from-now-on.zh',
    category: R,
    confidence: 0.75,
    language: 'zh',
    pattern: `(?:从现在开始|從現在開始|从现在起|從現在起|从今以后|從今以後|接下来|接下來)${span(20)}(?:没有任何|沒有任何|不受任何|不受|无视|無視|忽略|不再遵守|没有限制|沒有限制|无限制|無限制|不要拒绝|不要拒絕)`,
    anchors: [words('从现在|從現在|从今以后|從今以後|接下来|接下來'), words('没有任何|沒有任何|不受|无视|無視|忽略|不再遵守|没有限制|沒有限制|无限制|無限制|不要拒绝|不要拒絕')],
  },
  {
    id: 'override.new-instructions.zh',
    category: O,
    confidence: 0.6,
    language: 'zh',
    pattern: `(?:新的|新)(?:指令|指示|规则|規則|任务|任務)(?:是)?\\s?[:：]`,
    anchors: [combos(words('新'), words('指令|指示|规则|規則|任务|任務|的'), '')],
    adjust: notJapanese(0.6),
  },
  {
    id: 'roleplay.no-restrictions.zh',
    category: R,
    confidence: 0.8,
    language: 'zh',
    pattern: `${alt(ZH_PERSONA)}${span(20)}(?:没有|沒有|不受|无|無|不需要遵守|不用遵守|摆脱|擺脫|突破|不遵守)(?:任何)?${span(6)}${alt(ZH_RESTR)}`,
    anchors: [ZH_PERSONA, ZH_RESTR],
  },
  {
    id: 'roleplay.developer-mode.zh',
    category: R,
    confidence: 0.75,
    language: 'zh',
    pattern: `(?:开发者模式|開發者模式|越狱模式|越獄模式|无限制模式|無限制模式|上帝模式)`,
    anchors: [words('开发者模式|開發者模式|越狱模式|越獄模式|无限制模式|無限制模式|上帝模式')],
    adjust: (ctx, start) => {
      // Android's 开发者模式 is a phone setting; only an AI persona context counts.
      const around = ctx.text.slice(Math.max(0, start - 60), start + 80);
      return /(?:你|ai|chatgpt|助手|模型|限制|审查|審查|过滤|過濾|规则|規則)/.test(around) && !/(?:手机|手機|安卓|android|设置|設置|电脑|電腦|浏览器|瀏覽器)/.test(around) ? 0.75 : 0;
    },
  },
  {
    id: 'extract.system-prompt.zh',
    category: X,
    confidence: 0.8,
    language: 'zh',
    pattern: `${alt(ZH_EXTRACT)}${span(8)}(?:你的|您的)?${alt(ZH_SYS)}|(?:你的|您的)(?:系统提示|系統提示|系统提示词|系統提示詞|指令|提示词|提示詞|初始指令)(?:是什么|是什麼|是啥|内容是|內容是)|(?:把|將|将)(?:你的|您的)?${alt(ZH_SYS)}${span(10)}${alt(ZH_EXTRACT)}`,
    anchors: [[...ZH_EXTRACT, '你的', '您的'], [...ZH_SYS, '指令']],
    adjust: notJapanese(0.8),
  },
  {
    id: 'extract.told-before.zh',
    category: X,
    confidence: 0.7,
    language: 'zh',
    pattern: `(?:在)?(?:这次|這次|本次)?(?:对话|對話)(?:开始)?(?:之前|以前)${span(12)}(?:告诉|告訴|说了|說了|指示|要求)`,
    anchors: [words('对话|對話'), words('告诉|告訴|说了|說了|指示|要求')],
  },
  {
    id: 'override.ignore-previous.ja',
    category: O,
    confidence: 0.85,
    language: 'ja',
    pattern: `${alt(JA_QUAL)}(?:の|に)?${span(10)}${alt(JA_NOUN)}(?:を|は|も|など)?${span(8)}${alt(JA_VERB)}|(?:無視して|忘れて)${span(4)}${alt(JA_QUAL)}の?${span(6)}${alt(JA_NOUN)}`,
    anchors: [JA_NOUN, [...JA_VERB, '無視して', '忘れて']],
  },
  {
    id: 'override.forget-everything.ja',
    category: O,
    confidence: 0.8,
    language: 'ja',
    pattern: `(?:これまで|今まで|以前|上記|前)(?:に)?(?:言われた|教えられた|与えられた|受けた|聞いた)?(?:こと|内容)(?:は|を)?(?:すべて|全て|全部)?(?:忘れ|無視)`,
    anchors: [words('忘れ|無視'), words('こと|内容')],
  },
  {
    id: 'roleplay.from-now-on.ja',
    category: R,
    confidence: 0.75,
    language: 'ja',
    pattern: `(?:今から|これから|今後|以後)${span(20)}${alt(JA_RESTR)}(?:は|が|を)?(?:一切)?(?:なし|無し|ない|ありません|無視)`,
    anchors: [words('今から|これから|今後|以後'), JA_RESTR],
  },
  {
    id: 'roleplay.no-restrictions.ja',
    category: R,
    confidence: 0.8,
    language: 'ja',
    pattern: `(?:あなたは今|今からあなたは|これからあなたは|あなたは|ふりをして|なりきって|演じて|ロールプレイ|として振る舞)${span(25)}${alt(JA_RESTR)}(?:の|が|を|は)?(?:一切)?(?:ない|なし|無い|無し|持たない|受けない|無視する|ありません|関係ない)|${alt(JA_RESTR)}(?:の|が)?(?:ない|無い)${span(15)}(?:ふりをして|ふりをする|として|になりきって|を演じて|AIです|ＡＩです|aiです)`,
    anchors: [JA_RESTR, words('ない|なし|無い|無し|持たない|受けない|無視する|ありません|関係ない')],
  },
  {
    id: 'roleplay.developer-mode.ja',
    category: R,
    confidence: 0.75,
    language: 'ja',
    pattern: `(?:開発者|デベロッパー|脱獄|ジェイルブレイク|制限なし|無制限)モード(?:に(?:なって|入って|切り替え|移行)|で(?:応答|回答|答え|振る舞)|として|を(?:有効|オン|起動|アクティブ)${span(10)}(?:応答|回答|答え|制限|あなた))`,
    anchors: [words('モード')],
  },
  {
    id: 'extract.system-prompt.ja',
    category: X,
    confidence: 0.8,
    language: 'ja',
    pattern: `(?:システムプロンプト|システム・プロンプト)(?:を|の全文を|の内容を)(?:全部|すべて|全て|そのまま|一字一句)?(?:出力|表示|見せて|開示|印刷|書き出)|(?:(?:あなたの|君の|お前の|貴方の)(?:システムプロンプト|プロンプト|指示|システム指示|初期設定|設定)|(?:初期指示|最初の指示|元の指示|隠された指示|秘密の指示|あなたへの指示|設定された指示|初期プロンプト))(?:を|の内容を|の全文を|を全て|をすべて|を一字一句|をそのまま|の全文|の内容)?(?:すべて|全て)?${alt(JA_EXTRACT)}`,
    anchors: [JA_EXTRACT, words('あなたの|君の|お前の|貴方の|初期指示|最初の指示|元の指示|隠された指示|秘密の指示|あなたへの指示|設定された指示|初期プロンプト|システムプロンプト|システム・プロンプト')],
  },
  {
    id: 'extract.told-before.ja',
    category: X,
    confidence: 0.75,
    language: 'ja',
    pattern: `この(?:会話|チャット)の(?:前|始まる前)に${span(12)}(?:言われ|指示され|伝えられ|命令され|教えられ)`,
    anchors: [words('会話|チャット'), words('言われ|指示され|伝えられ|命令され|教えられ')],
  },
  {
    id: 'override.ignore-previous.ko',
    category: O,
    confidence: 0.85,
    language: 'ko',
    pattern: `${alt(KO_QUAL)}${span(10)}${alt(KO_NOUN)}${span(6)}${alt(KO_VERB)}`,
    anchors: [KO_NOUN, KO_VERB],
  },
  {
    id: 'extract.system-prompt.ko',
    category: X,
    confidence: 0.8,
    language: 'ko',
    pattern: `${alt(KO_SYS)}(?:를|을)?\\s?${span(4)}${alt(KO_EXTRACT)}`,
    anchors: [KO_SYS, KO_EXTRACT],
  },
);

// ---------------------------------------------------------------------------------------------

/**
 * Compiles a rule: unicode mode only for patterns that need `\\p{…}` (it disables some of V8's
 * optimisations), and `\\b` for the ASCII word-start lookbehind, which the engine checks far faster.
 */
function compile(pattern: string): RegExp {
  if (pattern.includes('\\p{')) return new RegExp(pattern, 'gu');
  return new RegExp(pattern.replace(/\(\?<!\[a-z\]\)/g, '\\b'), 'g');
}

/** Every rule, compiled once. */
export const RULES: readonly InjectionRule[] = SPECS.map((s) => ({
  id: s.id,
  category: s.category,
  confidence: s.confidence,
  language: s.language ?? null,
  regex: compile(s.pattern),
  anchors: s.anchors,
  specialToken: s.specialToken ?? false,
  adjust: s.adjust,
}));

/**
 * Words that mark a text as a discussion *about* prompt injection or chat templates; an attack
 * phrase or special token quoted in such a text is an example, not an instruction.
 */
export const META_DISCUSSION =
  /(?:prompt\sinjection|jailbreak(?:s|ing)?(?:\sattempts?|\sdetection|\sprompts)|injection\sattacks?|red[-\s]team|adversarial\sprompts?|detect(?:ing|ion|or|s)?|classif(?:y|ier|ies|ication)|guardrails?|sanitiz|sanitis|filter(?:ing|s)?\s(?:out\s)?(?:phrases|strings|inputs|prompts)|security\s(?:training|team|test|slide|review)|phrases?\s(?:like|such\sas)|strings?\s(?:like|such\sas)|inputs?\s(?:like|such\sas)|regex|regular\sexpression|block(?:ing)?\s(?:phrases|strings|inputs|prompts)|tokeni[sz]|special\stokens?|chat\stemplates?)/;
