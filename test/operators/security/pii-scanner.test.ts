/**
 * Tests for the PII scanner (operators/security/pii-scanner.ts) and its validators
 * (operators/security/pii-validators.ts).
 *
 * - Validators: Luhn, card networks, IBAN lengths and mod-97, SSN ranges, IPv4/IPv6 structure,
 *   placeholder secrets — each on known-good and known-bad values.
 * - Detectors: one block per type, with the documented false-positive rules as cases.
 * - Masking: the masked form of every finding of the fixture run never contains the raw value.
 * - Data set: test/fixtures/pii/{positive,negative}/<type>.jsonl (≥ 30 lines each); a finding is a
 *   true positive only with the expected type AND the exact span. Precision and recall are printed
 *   per type and asserted (overall ≥ 0.95, each type ≥ 0.9).
 * - Cost: a 10 MB text is cut at maxScanChars; adversarial 1 MB texts (a trigger at every word)
 *   finish in linear time.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { NO_PII, PiiScanner, maskValue } from '../../../operators/security/pii-scanner.js';
import type { PiiScanResult, PiiType } from '../../../operators/security/pii-scanner.js';
import {
  cardBrand,
  ibanLength,
  ibanMod97,
  ibanValid,
  ipv4Valid,
  ipv6Valid,
  isPlaceholderSecret,
  luhnValid,
  ssnValid,
} from '../../../operators/security/pii-validators.js';
import { isVigilError } from '../../../src/errors.js';

const ALL_TYPES: readonly PiiType[] = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip_address', 'secret'];

const scanner = new PiiScanner();

interface Found {
  type: PiiType;
  value: string;
  subtype?: string;
}

/** The findings of `text` as type + raw substring (+ subtype), in text order. */
function found(text: string, s: PiiScanner = scanner): Found[] {
  return s.scan(text).findings.map((f) => {
    const out: Found = { type: f.type, value: text.slice(f.start, f.start + f.length) };
    if (f.subtype !== undefined) out.subtype = f.subtype;
    return out;
  });
}

/** The raw values of type `type` found in `text`. */
function values(text: string, type: PiiType): string[] {
  return found(text)
    .filter((f) => f.type === type)
    .map((f) => f.value);
}

// ---------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------

describe('Luhn and card networks', () => {
  it('accepts Luhn-valid numbers and skips separators', () => {
    for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '79927398713']) {
      assert.ok(luhnValid(n), n);
    }
    assert.ok(luhnValid('4111 1111 1111 1111'));
    assert.ok(luhnValid('4111-1111-1111-1111'));
  });

  it('rejects a changed digit, a swap of adjacent digits and an empty range', () => {
    assert.ok(!luhnValid('4111111111111112'));
    assert.ok(!luhnValid('79927398710'));
    assert.ok(!luhnValid('4111111111111121'));
    assert.ok(!luhnValid(''));
    assert.ok(!luhnValid('----'));
  });

  it('checks only the given range of the string', () => {
    const s = 'card 4111111111111111 end';
    assert.ok(luhnValid(s, 5, 21));
    assert.ok(!luhnValid(s, 5, 20));
  });

  it('names the network from the issuer prefix and the length', () => {
    assert.equal(cardBrand('4111111111111111'), 'visa');
    assert.equal(cardBrand('4222222222222'), 'visa');
    assert.equal(cardBrand('4111111111111111110'), 'visa');
    assert.equal(cardBrand('5105105105105100'), 'mastercard');
    assert.equal(cardBrand('5555555555554444'), 'mastercard');
    assert.equal(cardBrand('2221000000000009'), 'mastercard');
    assert.equal(cardBrand('2720990000000007'), 'mastercard');
    assert.equal(cardBrand('378282246310005'), 'amex');
    assert.equal(cardBrand('341111111111111'), 'amex');
    assert.equal(cardBrand('6011111111111117'), 'discover');
    assert.equal(cardBrand('6445644564456445'), 'discover');
    assert.equal(cardBrand('6500000000000002'), 'discover');
    assert.equal(cardBrand('3530111333300000'), 'jcb');
    assert.equal(cardBrand('30569309025904'), 'diners');
    assert.equal(cardBrand('36227206271667'), 'diners');
    assert.equal(cardBrand('6200000000000005'), 'unionpay');
    assert.equal(cardBrand('6759649826438453'), 'maestro');
  });

  it('rejects a known prefix with the wrong length and unknown prefixes', () => {
    assert.equal(cardBrand('411111111111111'), undefined, 'Visa has no 15-digit cards');
    assert.equal(cardBrand('3782822463100051'), undefined, 'Amex is 15 digits');
    assert.equal(cardBrand('51051051051051001'), undefined, 'Mastercard is 16 digits');
    assert.equal(cardBrand('2721000000000000'), undefined, 'above the 2-series range');
    assert.equal(cardBrand('2220000000000000'), undefined, 'below the 2-series range');
    assert.equal(cardBrand('1234567890123456'), undefined);
    assert.equal(cardBrand('9780306406157'), undefined, 'ISBN-13');
    assert.equal(cardBrand('411111111111'), undefined, 'too short');
    assert.equal(cardBrand('41111111111111111111'), undefined, 'too long');
  });
});

describe('IBAN validation', () => {
  const valid = [
    'GB82WEST12345698765432',
    'DE89370400440532013000',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'BE68539007547034',
    'CH9300762011623852957',
    'AT611904300234573201',
    'ES9121000418450200051332',
    'NO9386011117947',
    'SA0380000000608010167519',
  ];

  it('knows the registry length of common countries and nothing for non-IBAN countries', () => {
    const code = (cc: string): [number, number] => [cc.charCodeAt(0), cc.charCodeAt(1)];
    assert.equal(ibanLength(...code('DE')), 22);
    assert.equal(ibanLength(...code('GB')), 22);
    assert.equal(ibanLength(...code('FR')), 27);
    assert.equal(ibanLength(...code('NL')), 18);
    assert.equal(ibanLength(...code('NO')), 15);
    assert.equal(ibanLength(...code('MT')), 31);
    assert.equal(ibanLength(...code('US')), 0);
    assert.equal(ibanLength(...code('CA')), 0);
    assert.equal(ibanLength(...code('de')), 0);
  });

  it('accepts known-good IBANs compact and in groups of four', () => {
    for (const iban of valid) {
      assert.equal(ibanMod97(iban), 1, iban);
      assert.ok(ibanValid(iban), iban);
      const grouped = iban.replace(/(.{4})/g, '$1 ').trim();
      assert.ok(ibanValid(grouped), grouped);
    }
  });

  it('rejects a changed digit, swapped digits, a wrong length and an unknown country', () => {
    assert.ok(!ibanValid('GB82WEST12345698765433'));
    assert.ok(!ibanValid('DE89370400440532013001'));
    assert.ok(!ibanValid('DE89370400440532031000'));
    assert.ok(!ibanValid('DE8937040044053201300'));
    assert.ok(!ibanValid('DE893704004405320130000'));
    assert.ok(!ibanValid('XX89370400440532013000'));
    assert.ok(!ibanValid('US64SVBKUS6S3300958879'));
  });

  it('rejects check digits 00, 01 and 99 even when the remainder is 1', () => {
    // Find a BBAN whose mod-97 is satisfied by "99" (i.e. also by "02"), then try the invalid alias.
    for (let tail = 0; tail < 1000; tail++) {
      const bban = `37040044053201${String(tail).padStart(4, '0')}`;
      if (ibanMod97(`DE99${bban}`) === 1) {
        assert.ok(!ibanValid(`DE99${bban}`));
        assert.ok(ibanValid(`DE02${bban}`));
        return;
      }
    }
    assert.fail('no BBAN found for the 02/99 alias');
  });

  it('rejects characters outside A–Z, 0–9 and space', () => {
    assert.equal(ibanMod97('GB82-WEST-1234'), -1);
    assert.equal(ibanMod97('gb82west12345698765432'), -1);
    assert.ok(!ibanValid('GB82west12345698765432'));
  });
});

describe('SSN ranges', () => {
  it('accepts issued ranges', () => {
    assert.ok(ssnValid(123, 45, 6789));
    assert.ok(ssnValid(1, 1, 1));
    assert.ok(ssnValid(665, 99, 9999));
    assert.ok(ssnValid(899, 1, 1));
  });

  it('rejects area 000, 666 and 900–999, group 00 and serial 0000', () => {
    assert.ok(!ssnValid(0, 12, 3456));
    assert.ok(!ssnValid(666, 12, 3456));
    assert.ok(!ssnValid(900, 12, 3456));
    assert.ok(!ssnValid(999, 12, 3456));
    assert.ok(!ssnValid(123, 0, 4567));
    assert.ok(!ssnValid(123, 45, 0));
  });

  it('rejects the two numbers the SSA voided after advertising', () => {
    assert.ok(!ssnValid(78, 5, 1120));
    assert.ok(!ssnValid(219, 9, 9999));
  });
});

describe('IP address structure', () => {
  it('accepts dotted quads with octets 0–255', () => {
    for (const ip of ['192.168.0.1', '0.0.0.0', '255.255.255.255', '8.8.8.8', '10.0.0.10']) assert.ok(ipv4Valid(ip), ip);
  });

  it('rejects out-of-range octets, leading zeros and the wrong number of parts', () => {
    for (const ip of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.1000', 'a.b.c.d', '']) {
      assert.ok(!ipv4Valid(ip), ip);
    }
  });

  it('accepts full, compressed and IPv4-embedded IPv6 forms', () => {
    for (const ip of [
      '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
      '2001:db8:85a3::8a2e:370:7334',
      '2001:db8::1',
      'fe80::1',
      '::1',
      '::',
      '2001:db8::',
      '::ffff:192.0.2.128',
      '64:ff9b::192.0.2.33',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      'FE80::ABCD',
    ]) {
      assert.ok(ipv6Valid(ip), ip);
    }
  });

  it('rejects two ::, too many groups, long groups, non-hex digits and stray colons', () => {
    for (const ip of [
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '1:2:3:4:5:6:7',
      '12345::1',
      'g::1',
      '1:2:3:4:5:6:7:',
      ':1::2',
      '1:::2',
      '::ffff:192.0.2.256',
      '::ffff:192.0.2.1:1',
      ':',
    ]) {
      assert.ok(!ipv6Valid(ip), ip);
    }
  });
});

describe('placeholder secrets', () => {
  it('recognises documentation placeholders', () => {
    for (const s of ['AKIAIOSFODNN7EXAMPLE', 'sk-xxxxxxxxxxxxxxxxxxxx', 'YOUR_API_KEY', 'sk-...', 'ghp_000000000000', 'abc1234567xyz', '<token>', 'sk-****']) {
      assert.ok(isPlaceholderSecret(s), s);
    }
  });

  it('does not flag random key material', () => {
    for (const s of ['Tq3vB8xR2mK9pL4nW7cY1zH6jF5dS0aE', '2E0A8F3B244C9986', 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6']) {
      assert.ok(!isPlaceholderSecret(s), s);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Detectors
// ---------------------------------------------------------------------------------------------

describe('e-mail detection', () => {
  it('finds addresses with subdomains, plus tags, upper case and multi-label TLDs', () => {
    assert.deepEqual(values('Write to j.smith+billing@mail.example.co.uk or ALICE@EXAMPLE.COM.', 'email'), [
      'j.smith+billing@mail.example.co.uk',
      'ALICE@EXAMPLE.COM',
    ]);
  });

  it('excludes sentence punctuation, brackets and quotes around the address', () => {
    assert.deepEqual(values('(<jane@example.com>), "bob@example.org".', 'email'), ['jane@example.com', 'bob@example.org']);
  });

  it('rejects hosts without a TLD, version pins, scp-like remotes and file names', () => {
    for (const text of [
      'ssh admin@server01',
      'npm i lodash@4.17.21',
      'git@github.com:org/repo.git',
      'icon@2x.png',
      'app@release.apk',
      'name@domain.tld',
      'svc@host.local',
      '@types/node',
      'user@-example.com',
      'jane..doe@example.com',
      'jane.@example.com',
    ]) {
      assert.deepEqual(values(text, 'email'), [], text);
    }
  });

  it('still reports an e-mail followed by a colon and a space', () => {
    assert.deepEqual(values('Email jane@example.com: she answers fast.', 'email'), ['jane@example.com']);
  });

  it('reports the IP address of user@ip as an IP, not as an e-mail', () => {
    assert.deepEqual(found('ssh root@192.168.1.10'), [{ type: 'ip_address', value: '192.168.1.10', subtype: 'ipv4' }]);
  });
});

describe('phone detection', () => {
  it('finds E.164 and international grouped formats', () => {
    for (const p of ['+44 20 7946 0958', '+1 (415) 555-2671', '+49 30 123456', '+33 1 23 45 67 89', '+81 3-1234-5678', '+44 (0)20 7946 0958', '+14155552671', '+34 912 345 678']) {
      assert.deepEqual(found(`Call ${p} today.`), [{ type: 'phone', value: p, subtype: 'international' }], p);
    }
  });

  it('finds North American numbers with parentheses, dashes, dots, spaces and a leading 1', () => {
    for (const p of ['(415) 555-2671', '(415)555-2671', '415-555-2671', '415.555.2671', '415 555 2671', '1-800-555-0199', '1 (800) 555-0199']) {
      assert.deepEqual(found(`Call ${p} today.`), [{ type: 'phone', value: p, subtype: 'nanp' }], p);
    }
  });

  it('rejects bare digit runs, dates, mixed separators and invalid NANP area codes or exchanges', () => {
    for (const text of [
      'Order 4155552671 shipped',
      'on 2023-10-15',
      'call 415-555.2671',
      'call 123-456-7890',
      'call (123) 456-7890',
      'call 415-155-2671',
      'call (411) 555-1234',
      'call 555-0199',
      'ORD-415-555-2671',
      '415-555-2671-99',
    ]) {
      assert.deepEqual(values(text, 'phone'), [], text);
    }
  });

  it('rejects counts written with a plus and thousands groups, and too few digits', () => {
    for (const text of ['+10 000 000 users', '+100 000 000', '+1 000 000 000', '+1234567', '+0 20 7946 0958', 'UTC+05:30', 'C++11', '+1.5%']) {
      assert.deepEqual(values(text, 'phone'), [], text);
    }
  });

  it('stops before a parenthesis that never closes and drops a trailing single digit', () => {
    assert.deepEqual(values('Dial +44 20 7946 0958 (24/7 line).', 'phone'), ['+44 20 7946 0958']);
    assert.deepEqual(values('Dial +44 20 7946 0958 2 times.', 'phone'), ['+44 20 7946 0958']);
  });
});

describe('payment card detection', () => {
  it('finds cards compact, spaced and dashed, with the network as subtype', () => {
    assert.deepEqual(found('Cards: 4111111111111111, 5555 5555 5555 4444, 3782-822463-10005 and 3056 930902 5904.'), [
      { type: 'credit_card', value: '4111111111111111', subtype: 'visa' },
      { type: 'credit_card', value: '5555 5555 5555 4444', subtype: 'mastercard' },
      { type: 'credit_card', value: '3782-822463-10005', subtype: 'amex' },
      { type: 'credit_card', value: '3056 930902 5904', subtype: 'diners' },
    ]);
  });

  it('finds 13- and 19-digit Visa in their printed groupings', () => {
    assert.deepEqual(values('a 4222 2222 2222 2 b', 'credit_card'), ['4222 2222 2222 2']);
    const nineteen = '4111111111111111110';
    assert.ok(luhnValid(nineteen));
    const grouped = nineteen.replace(/(\d{4})(\d{4})(\d{4})(\d{4})(\d{3})/, '$1 $2 $3 $4 $5');
    assert.deepEqual(values(`a ${grouped} b`, 'credit_card'), [grouped]);
  });

  it('rejects Luhn failures, unknown networks, odd groupings and longer grouped numbers', () => {
    for (const text of [
      '4111 1111 1111 1112',
      '1234567890123456',
      '9400 1000 0000 0000 0000 00',
      '3000 0000 0000 04',
      '4111 1111 1111 1111 2222',
      '4111-1111-1111-1111-2222',
      '4111 1111-1111 1111',
      '4111111111111111abc',
      'x4111111111111111',
      '490154203237518',
    ]) {
      assert.deepEqual(values(text, 'credit_card'), [], text);
    }
  });
});

describe('SSN detection', () => {
  it('finds dashed and spaced SSNs in issued ranges', () => {
    assert.deepEqual(values('SSN 123-45-6789 and 321 54 9876.', 'ssn'), ['123-45-6789', '321 54 9876']);
  });

  it('rejects invalid ranges, bare digits, mixed separators and longer sequences', () => {
    for (const text of ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000', '078-05-1120', '123456789', '123-45 6789', '123-45-6789-0', '12 123 45 6789 10']) {
      assert.deepEqual(values(text, 'ssn'), [], text);
    }
  });
});

describe('IBAN detection', () => {
  it('finds compact and grouped IBANs with the country as subtype', () => {
    assert.deepEqual(found('Pay GB82 WEST 1234 5698 7654 32 or DE89370400440532013000.'), [
      { type: 'iban', value: 'GB82 WEST 1234 5698 7654 32', subtype: 'GB' },
      { type: 'iban', value: 'DE89370400440532013000', subtype: 'DE' },
    ]);
  });

  it('rejects mod-97 failures, wrong lengths, inconsistent grouping and lower case', () => {
    for (const text of ['GB82 WEST 1234 5698 7654 33', 'DE8937040044053201300', 'DE893704004405320130001', 'GB82 WEST12345698765432', 'gb82west12345698765432', 'US12 3456 7890 1234']) {
      assert.deepEqual(values(text, 'iban'), [], text);
    }
  });
});

describe('IP address detection', () => {
  it('finds IPv4 with ports and prefixes and IPv6 in brackets, with zone ids and embedded IPv4', () => {
    assert.deepEqual(found('Hosts 10.1.2.3:8080, 192.168.0.0/16, [2001:db8::7]:443, fe80::1ff:fe23:4567:890a%eth0, ::ffff:192.0.2.128.'), [
      { type: 'ip_address', value: '10.1.2.3', subtype: 'ipv4' },
      { type: 'ip_address', value: '192.168.0.0', subtype: 'ipv4' },
      { type: 'ip_address', value: '2001:db8::7', subtype: 'ipv6' },
      { type: 'ip_address', value: 'fe80::1ff:fe23:4567:890a', subtype: 'ipv6' },
      { type: 'ip_address', value: '::ffff:192.0.2.128', subtype: 'ipv6' },
    ]);
  });

  it('rejects version strings, longer dotted sequences, OIDs and section numbers', () => {
    for (const text of ['v1.2.3.4', 'version 10.0.0.1', 'Version: 10.0.0.1', 'ver. 10.0.0.1', '1.3.6.1.4.1', 'OID 1.3.6.1', 'Section 3.2.1.4', 'x.10.0.0.1', '10.0.0.1.5', '1.2.3']) {
      assert.deepEqual(values(text, 'ip_address'), [], text);
    }
  });

  it('skips addresses that name no host', () => {
    for (const text of ['0.0.0.0', '127.0.0.1', '255.255.255.0', '::1', '::']) assert.deepEqual(values(text, 'ip_address'), [], text);
  });

  it('rejects times, MAC addresses, C++ scopes, Python slices and compressed forms without digits', () => {
    for (const text of ['12:30:45', '00:1a:2b:3c:4d:5e', 'std::vector', 'a[1::2]', 'dead::beef', '1:2:3:4:5:6:7:8:9', 'fe80:::1']) {
      assert.deepEqual(values(text, 'ip_address'), [], text);
    }
  });

  it('reports every address of a dashed range', () => {
    assert.deepEqual(values('DHCP 10.0.0.100-10.0.0.200', 'ip_address'), ['10.0.0.100', '10.0.0.200']);
  });
});

describe('secret detection', () => {
  const key48 = 'T3BlbkFJq9vB8xR2mK9pL4nW7cY1zH6jF5dS0aEu2Gw4Rt6Y';

  it('recognises each provider key shape with its subtype', () => {
    const cases: [string, string][] = [
      [`sk-${key48}`, 'openai_api_key'],
      [`sk-proj-${key48}`, 'openai_project_key'],
      [`sk-ant-api03-${key48}-AA`, 'anthropic_api_key'],
      ['AKIA2E0A8F3B244C9986', 'aws_access_key'],
      ['ASIAY34FZKBOKMUTVV7A', 'aws_access_key'],
      ['ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6', 'github_token'],
      ['gho_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6', 'github_token'],
      [`github_pat_11AQ7ZK3I0${key48}_${key48}`, 'github_token'],
      ['xoxb-263594206564-2343360395265-Tq3vB8xR2mK9pL4nW7cY1zH6', 'slack_token'],
      ['AIzaSyD3vB8xR2mK9pL4nW7cY1zH6jF5dS0a_-q', 'google_api_key'],
      ['sk_live_51Tq3vB8xR2mK9pL4nW7cY1zH', 'stripe_secret_key'],
      ['rk_live_51Tq3vB8xR2mK9pL4nW7cY1zH', 'stripe_restricted_key'],
    ];
    for (const [key, subtype] of cases) {
      assert.deepEqual(found(`export KEY="${key}"`), [{ type: 'secret', value: key, subtype }], key);
    }
  });

  it('rejects keys one character too short or too long for fixed-length shapes', () => {
    for (const key of [
      'AKIA2E0A8F3B244C998',
      'AKIA2E0A8F3B244C99861',
      'ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ',
      'ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6x',
      'AIzaSyD3vB8xR2mK9pL4nW7cY1zH6jF5dS0a_-',
      'AIzaSyD3vB8xR2mK9pL4nW7cY1zH6jF5dS0a_-qq',
      'sk-T3BlbkFJq9vB8xR2mK9',
    ]) {
      assert.deepEqual(values(`key ${key} end`, 'secret'), [], key);
    }
  });

  it('rejects prose, hyphenated words, placeholders and test-mode keys', () => {
    for (const text of [
      'Practice your sk-ills',
      'the sk-learn-the-basics-of-machine-learning-2024 course',
      'OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'sk-YOUR_API_KEY_HERE_1',
      'AKIAIOSFODNN7EXAMPLE',
      'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      'xoxb-your-bot-token-here-1234',
      'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
      'pk_live_51HqLyjWDarjtT1zdp7dc9a2b',
    ]) {
      assert.deepEqual(values(text, 'secret'), [], text);
    }
  });

  it('reports the whole PEM private-key block and ignores public keys, certificates and elided bodies', () => {
    const body = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQABAoIBAQCX';
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body.match(/.{1,64}/g)?.join('\n')}\n-----END RSA PRIVATE KEY-----`;
    const text = `Save it:\n\n${pem}\n\nthen chmod 600.`;
    assert.deepEqual(found(text), [{ type: 'secret', value: pem, subtype: 'private_key' }]);
    const finding = scanner.scan(text).findings[0];
    assert.equal(finding.masked, `-----BEGIN RSA PRIVATE KEY-----…(${pem.length} chars)`);
    assert.deepEqual(values(pem.replace(/RSA PRIVATE/g, 'PUBLIC'), 'secret'), []);
    assert.deepEqual(values(pem.replace(/RSA PRIVATE KEY/g, 'CERTIFICATE'), 'secret'), []);
    assert.deepEqual(values('-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----', 'secret'), []);
  });

  it('reports a PEM block cut off before its END line up to the last body character', () => {
    const body = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0';
    const text = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n`;
    assert.deepEqual(values(text, 'secret'), [`-----BEGIN OPENSSH PRIVATE KEY-----\n${body}`]);
  });

  it('reports the token of a bearer header, a JWT as jwt and a provider key behind Bearer by its provider', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    assert.deepEqual(found('Authorization: Bearer 9f86d081884c7d659a2feaa0c55ad015'), [{ type: 'secret', value: '9f86d081884c7d659a2feaa0c55ad015', subtype: 'bearer_token' }]);
    assert.deepEqual(found(`Authorization: Bearer ${jwt}`), [{ type: 'secret', value: jwt, subtype: 'jwt' }]);
    assert.deepEqual(found(`Authorization: Bearer sk-${key48}`), [{ type: 'secret', value: `sk-${key48}`, subtype: 'openai_api_key' }]);
    assert.deepEqual(found(`token=${jwt}.`), [{ type: 'secret', value: jwt, subtype: 'jwt' }]);
  });

  it('rejects bearer placeholders, short tokens and prose', () => {
    for (const text of ['Bearer <token>', 'Bearer ${TOKEN}', 'Bearer YOUR_ACCESS_TOKEN_GOES_HERE', 'Bearer abc123', 'the bearer of bad news', 'Bearer tokens-are-long-strings-of-text', 'eyJhbGciOiJIUzI1NiJ9 alone']) {
      assert.deepEqual(values(text, 'secret'), [], text);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Results, positions, options
// ---------------------------------------------------------------------------------------------

describe('PiiScanner results', () => {
  it('returns the frozen shared NO_PII for null, empty and clean texts', () => {
    assert.equal(scanner.scan(null), NO_PII);
    assert.equal(scanner.scan(''), NO_PII);
    assert.equal(scanner.scan('Nothing personal here: version 1.2.3 shipped on 2024-05-14 at 10:30.'), NO_PII);
    assert.ok(Object.isFrozen(NO_PII));
    assert.ok(Object.isFrozen(NO_PII.counts));
    assert.ok(Object.isFrozen(NO_PII.findings));
    assert.equal(NO_PII.total, 0);
    for (const t of ALL_TYPES) assert.equal(NO_PII.counts[t], 0);
  });

  it('reports exact UTF-16 positions, also after astral characters', () => {
    const text = '🙂 Mail jane@example.com, call +1 (415) 555-2671, card 4111 1111 1111 1111.';
    const r = scanner.scan(text);
    assert.deepEqual(
      r.findings.map((f) => [f.type, f.start, f.length]),
      [
        ['email', text.indexOf('jane'), 'jane@example.com'.length],
        ['phone', text.indexOf('+1'), '+1 (415) 555-2671'.length],
        ['credit_card', text.indexOf('4111'), '4111 1111 1111 1111'.length],
      ],
    );
  });

  it('counts every finding per type and in total', () => {
    const r = scanner.scan('a@example.com b@example.com 10.0.0.1 123-45-6789');
    assert.equal(r.total, 4);
    assert.deepEqual({ ...r.counts }, { email: 2, phone: 0, credit_card: 0, ssn: 1, iban: 0, ip_address: 1, secret: 0 });
  });

  it('keeps scans independent when one scanner is reused', () => {
    const s = new PiiScanner();
    const first = s.scan('a@example.com');
    const second = s.scan('10.0.0.1');
    assert.equal(first.total, 1);
    assert.equal(first.counts.email, 1);
    assert.equal(second.total, 1);
    assert.equal(second.counts.email, 0);
    assert.equal(second.counts.ip_address, 1);
    assert.equal(first.findings[0].type, 'email');
  });

  it('keeps only maxFindings findings but counts them all', () => {
    const text = Array.from({ length: 150 }, (_, i) => `user${i}@example.com`).join(' ');
    const r = new PiiScanner().scan(text);
    assert.equal(r.total, 150);
    assert.equal(r.counts.email, 150);
    assert.equal(r.findings.length, 100);
    const none = new PiiScanner({ maxFindings: 0 }).scan(text);
    assert.equal(none.total, 150);
    assert.equal(none.findings.length, 0);
  });

  it('detects only the configured types', () => {
    const text = 'jane@example.com +44 20 7946 0958 4111111111111111 123-45-6789 DE89370400440532013000 10.0.0.1 AKIA2E0A8F3B244C9986';
    assert.equal(scanner.scan(text).total, 7);
    for (const t of ALL_TYPES) {
      const r = new PiiScanner({ types: [t] }).scan(text);
      assert.equal(r.total, 1, t);
      assert.equal(r.findings[0].type, t);
    }
    assert.equal(new PiiScanner({ types: [] }).scan(text), NO_PII);
  });

  it('rejects unknown types and negative or fractional limits', () => {
    assert.throws(() => new PiiScanner({ types: ['name' as PiiType] }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
    assert.throws(() => new PiiScanner({ maxScanChars: -1 }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
    assert.throws(() => new PiiScanner({ maxFindings: 1.5 }), (e) => isVigilError(e, 'VIGIL_CONFIG_INVALID'));
  });

  it('never reports overlapping findings', () => {
    const r = scanner.scan('415-555-2671@example.com 4111111111111111@example.com user@10.0.0.1 Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl');
    for (let i = 1; i < r.findings.length; i++) {
      const prev = r.findings[i - 1];
      assert.ok(prev.start + prev.length <= r.findings[i].start, JSON.stringify(r.findings));
    }
  });
});

describe('masking', () => {
  it('masks each type in its documented form', () => {
    assert.equal(maskValue('email', 'john.doe@example.com'), 'j***@e***.com');
    assert.equal(maskValue('phone', '+1 (415) 555-2671'), '+* (***) ***-**71');
    assert.equal(maskValue('credit_card', '4111111111111111'), '**** **** **** 1111');
    assert.equal(maskValue('credit_card', '4111-1111-1111-1111'), '****-****-****-1111');
    assert.equal(maskValue('credit_card', '378282246310005'), '***********0005');
    assert.equal(maskValue('ssn', '123-45-6789'), '***-**-6789');
    assert.equal(maskValue('iban', 'GB82 WEST 1234 5698 7654 32'), 'GB** **** **** **** **54 32');
    assert.equal(maskValue('ip_address', '192.168.1.42'), '192.*.*.*');
    assert.equal(maskValue('ip_address', '2001:db8::1'), '2001:…(ipv6)');
    assert.equal(maskValue('secret', `sk-${'a1B2'.repeat(10)}`), 'sk-…(43 chars)');
    assert.equal(maskValue('secret', 'AKIA2E0A8F3B244C9986'), 'AKIA…(20 chars)');
    assert.equal(maskValue('secret', '9f86d081884c7d659a2feaa0c55ad015'), '…(32 chars)');
  });

  it('never returns the raw value, also for short or malformed input', () => {
    for (const t of ALL_TYPES) {
      for (const raw of ['12345', 'abcdef', 'a@b.co', '1.2.3.4', 'sk-abcdef', '123-45-6789', 'x@y', '::1']) {
        assert.ok(!maskValue(t, raw).includes(raw), `${t}: ${raw} -> ${maskValue(t, raw)}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Data set
// ---------------------------------------------------------------------------------------------

interface FixtureLine {
  text: string;
  expected: { type: PiiType; value: string }[];
}

interface Fixture {
  file: string;
  line: FixtureLine;
}

const FIXTURE_DIR = new URL('../../fixtures/pii/', import.meta.url);

function loadFixtures(kind: 'positive' | 'negative'): Fixture[] {
  const dir = new URL(`${kind}/`, FIXTURE_DIR);
  const out: Fixture[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    const lines = readFileSync(new URL(name, dir), 'utf8').split('\n');
    for (const raw of lines) {
      if (raw.trim() === '') continue;
      out.push({ file: `${kind}/${name}`, line: JSON.parse(raw) as FixtureLine });
    }
  }
  return out;
}

/** Expected spans as `type:start:length`, each value located after the previous one of the same text. */
function expectedSpans(line: FixtureLine): string[] {
  const from = new Map<string, number>();
  return line.expected.map((e) => {
    const start = line.text.indexOf(e.value, from.get(e.value) ?? 0);
    assert.ok(start >= 0, `fixture value ${JSON.stringify(e.value)} not in ${JSON.stringify(line.text)}`);
    from.set(e.value, start + 1);
    return `${e.type}:${start}:${e.value.length}`;
  });
}

describe('fixture data set', () => {
  const positives = loadFixtures('positive');
  const negatives = loadFixtures('negative');
  const all = [...positives, ...negatives];

  it('holds at least 30 true positives and 30 hard negatives per type', () => {
    for (const t of ALL_TYPES) {
      const pos = positives.filter((f) => f.file === `positive/${t}.jsonl`).reduce((n, f) => n + f.line.expected.filter((e) => e.type === t).length, 0);
      const neg = negatives.filter((f) => f.file === `negative/${t}.jsonl`).length;
      assert.ok(pos >= 30, `${t}: ${pos} positives`);
      assert.ok(neg >= 30, `${t}: ${neg} negatives`);
    }
    for (const f of negatives) assert.deepEqual(f.line.expected, [], `${f.file}: ${f.line.text}`);
  });

  it('reaches precision and recall of at least 0.95 overall and 0.9 per type', () => {
    const stats = new Map<PiiType, { tp: number; fp: number; fn: number }>(ALL_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
    const misses: string[] = [];
    for (const { file, line } of all) {
      const expected = new Set(expectedSpans(line));
      const r = scanner.scan(line.text);
      const got = new Set(r.findings.map((f) => `${f.type}:${f.start}:${f.length}`));
      for (const key of got) {
        const type = key.split(':')[0] as PiiType;
        const s = stats.get(type);
        assert.ok(s);
        if (expected.has(key)) s.tp++;
        else {
          s.fp++;
          misses.push(`FP ${file}: ${key} ${JSON.stringify(line.text.slice(Number(key.split(':')[1]), Number(key.split(':')[1]) + Number(key.split(':')[2])))}`);
        }
      }
      for (const key of expected) {
        if (got.has(key)) continue;
        const s = stats.get(key.split(':')[0] as PiiType);
        assert.ok(s);
        s.fn++;
        misses.push(`FN ${file}: ${key} in ${JSON.stringify(line.text.slice(0, 120))}`);
      }
    }
    const ratio = (a: number, b: number): number => (b === 0 ? 1 : a / b);
    const rows: string[] = ['| type | TP | FP | FN | precision | recall |', '|---|---|---|---|---|---|'];
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [t, s] of stats) {
      tp += s.tp;
      fp += s.fp;
      fn += s.fn;
      rows.push(`| ${t} | ${s.tp} | ${s.fp} | ${s.fn} | ${ratio(s.tp, s.tp + s.fp).toFixed(3)} | ${ratio(s.tp, s.tp + s.fn).toFixed(3)} |`);
    }
    rows.push(`| overall | ${tp} | ${fp} | ${fn} | ${ratio(tp, tp + fp).toFixed(3)} | ${ratio(tp, tp + fn).toFixed(3)} |`);
    console.log(`PII fixture set: ${positives.length} positive and ${negatives.length} negative texts\n${rows.join('\n')}`);
    if (misses.length > 0) console.log(misses.join('\n'));

    assert.ok(ratio(tp, tp + fp) >= 0.95, `overall precision ${ratio(tp, tp + fp)}`);
    assert.ok(ratio(tp, tp + fn) >= 0.95, `overall recall ${ratio(tp, tp + fn)}`);
    for (const [t, s] of stats) {
      assert.ok(ratio(s.tp, s.tp + s.fp) >= 0.9, `${t} precision`);
      assert.ok(ratio(s.tp, s.tp + s.fn) >= 0.9, `${t} recall`);
    }
  });

  it('never puts a raw value longer than 4 chars into a finding', () => {
    let checked = 0;
    for (const { line } of all) {
      for (const f of scanner.scan(line.text).findings) {
        assert.ok(f.start >= 0 && f.length > 0 && f.start + f.length <= line.text.length);
        const raw = line.text.slice(f.start, f.start + f.length);
        if (raw.length <= 4) continue;
        assert.ok(!f.masked.includes(raw), `${f.type} masked ${JSON.stringify(f.masked)} contains the raw value`);
        assert.ok(!JSON.stringify(f).includes(JSON.stringify(raw).slice(1, -1)), `${f.type} finding carries the raw value`);
        assert.deepEqual(Object.keys(f).sort(), f.subtype === undefined ? ['length', 'masked', 'start', 'type'] : ['length', 'masked', 'start', 'subtype', 'type']);
        checked++;
      }
    }
    assert.ok(checked >= 200, `${checked} findings checked`);
  });
});

// ---------------------------------------------------------------------------------------------
// Cost
// ---------------------------------------------------------------------------------------------

describe('cost on huge and adversarial texts', () => {
  function timed(fn: () => PiiScanResult): { ms: number; result: PiiScanResult } {
    const t0 = performance.now();
    const result = fn();
    return { ms: performance.now() - t0, result };
  }

  it('scans only the first maxScanChars of a 10 MB text', () => {
    const filler = 'The rollout finished at 10:30 on 2024-05-14; p95 dropped from 420 ms to 180 ms (v1.4.2). ';
    const head = 'Contact jane@example.com now. ';
    let text = head + filler.repeat(Math.ceil(10_000_000 / filler.length));
    const tail = ' late leak: bob@example.org ';
    text = text.slice(0, 10_000_000 - tail.length) + tail;
    assert.equal(text.length, 10_000_000);
    const { ms, result } = timed(() => scanner.scan(text));
    assert.equal(result.total, 1, 'only the e-mail in the first 64 KiB is found');
    assert.equal(result.findings[0].start, head.indexOf('jane'));
    assert.ok(ms < 1_000, `${ms.toFixed(1)} ms`);

    const full = new PiiScanner({ maxScanChars: text.length });
    const whole = timed(() => full.scan(text));
    assert.equal(whole.result.counts.email, 2);
    assert.ok(whole.ms < 10_000, `${whole.ms.toFixed(1)} ms for 10 MB`);
  });

  it('cuts a value straddling maxScanChars at the limit instead of reading past it', () => {
    const s = new PiiScanner({ maxScanChars: 20 });
    assert.equal(s.scan('Call 415-555-2671 or 415-555-2672').total, 1);
    assert.equal(s.scan('xxxxxxxxxxxxxxxx jane@example.com').total, 0);
  });

  it('stays linear on 1 MB texts that put a trigger at every word', () => {
    const s = new PiiScanner({ maxScanChars: 1_000_000 });
    const units = [
      'sk-',
      'sk-a',
      'a:',
      'a:a',
      '1:',
      '1.',
      '1-',
      '1 ',
      '+1 ',
      '(1',
      '(1)',
      '@a',
      'a@',
      'a@a.',
      'eyJ-',
      'eyJa.',
      'Bearer ',
      'Bearer a',
      '-----BEGIN PRIVATE KEY-----\n',
      '-----END ',
      'GB82 ',
      'AKIA',
      'ghp_',
      'github_pat_',
      'xoxb-',
      '::',
      '0',
      '4111 ',
      'a.b',
    ];
    for (const unit of units) {
      const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
      const { ms } = timed(() => s.scan(text));
      assert.ok(ms < 3_000, `${JSON.stringify(unit)} × ${text.length / unit.length}: ${ms.toFixed(1)} ms`);
    }
  });
});
