import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VigilError } from '../../src/errors.js';
import { decodeExportRequest } from '../../src/otel/otlp-decode.js';
import { otlpTypes } from '../../src/otel/otlp-proto.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

const attributes = [
  { key: 's', value: { stringValue: 'text' } },
  { key: 'b', value: { boolValue: true } },
  { key: 'i', value: { intValue: '42' } },
  { key: 'big', value: { intValue: '9007199254740993' } },
  { key: 'd', value: { doubleValue: 0.5 } },
  { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 1 }] } } },
  { key: 'kv', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
  { key: 'bytes', value: { bytesValue: 'AQI=' } },
  { key: 'empty', value: {} },
  { key: 's', value: { stringValue: 'duplicate ignored' } },
];

function jsonRequest(): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'scope-a' },
            spans: [
              {
                traceId: TRACE,
                spanId: SPAN,
                parentSpanId: PARENT,
                name: 'op',
                kind: 2,
                startTimeUnixNano: '1767268800000000001',
                endTimeUnixNano: 4503599627370497, // a JSON number, exact below 2^53
                attributes,
                events: [{ name: 'e', timeUnixNano: '1767268800000000500', attributes: [{ key: 'ek', value: { stringValue: 'ev' } }] }],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('decoding OTLP export requests', () => {
  it('reads OTLP/JSON: hex ids, string and number int64s, every AnyValue kind, events and status', () => {
    const [s] = decodeExportRequest(Buffer.from(JSON.stringify(jsonRequest())), 'json');
    assert.equal(s.traceId, TRACE);
    assert.equal(s.spanId, SPAN);
    assert.equal(s.parentSpanId, PARENT);
    assert.equal(s.kind, 2);
    assert.equal(s.startTimeUnixNano, 1767268800000000001n);
    assert.equal(s.statusCode, 2);
    assert.equal(s.scopeName, 'scope-a');
    assert.equal(s.resource.get('service.name'), 'svc');
    assert.deepEqual(Object.fromEntries(s.attributes), {
      s: 'text',
      b: true,
      i: 42,
      big: '9007199254740993',
      d: 0.5,
      arr: ['x', 1],
      kv: { k: 'v' },
      bytes: 'AQI=',
      empty: null,
    });
    assert.equal(s.events[0].name, 'e');
    assert.equal(s.events[0].attributes.get('ek'), 'ev');
  });

  it('reads the same request as binary protobuf, with ids from bytes', () => {
    const types = otlpTypes();
    const json = jsonRequest() as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const pbSpan = json.resourceSpans[0].scopeSpans[0].spans[0];
    pbSpan.traceId = Buffer.from(TRACE, 'hex');
    pbSpan.spanId = Buffer.from(SPAN, 'hex');
    pbSpan.parentSpanId = Buffer.from(PARENT, 'hex');
    pbSpan.endTimeUnixNano = '4503599627370497';
    pbSpan.attributes = attributes.map((a) => (a.key === 'bytes' ? { key: 'bytes', value: { bytesValue: Buffer.from([1, 2]) } } : a));
    const body = types.exportRequest.encode(types.exportRequest.fromObject(json)).finish();
    const fromJson = decodeExportRequest(Buffer.from(JSON.stringify(jsonRequest())), 'json');
    const fromProto = decodeExportRequest(body, 'protobuf');
    assert.deepEqual(fromProto, fromJson);
  });

  it('accepts the proto field names and enum names too', () => {
    const body = {
      resource_spans: [{ scope_spans: [{ spans: [{ trace_id: TRACE, span_id: SPAN, kind: 'SPAN_KIND_CLIENT', start_time_unix_nano: '5', status: { code: 'STATUS_CODE_ERROR' } }] }] }],
    };
    const [s] = decodeExportRequest(Buffer.from(JSON.stringify(body)), 'json');
    assert.equal(s.traceId, TRACE);
    assert.equal(s.kind, 3);
    assert.equal(s.startTimeUnixNano, 5n);
    assert.equal(s.statusCode, 2);
  });

  it('decodes an empty request to no spans', () => {
    assert.deepEqual(decodeExportRequest(Buffer.from('{}'), 'json'), []);
    assert.deepEqual(decodeExportRequest(new Uint8Array(0), 'protobuf'), []);
  });

  it('refuses malformed bodies with VIGIL_RECORD_INVALID and never quotes them', () => {
    const cases: [Buffer, 'json' | 'protobuf', RegExp][] = [
      [Buffer.from('{"secret prompt'), 'json', /^ExportTraceServiceRequest: the body is not valid JSON$/],
      [Buffer.from('[]'), 'json', /^ExportTraceServiceRequest: must be an object$/],
      [Buffer.from('{"resourceSpans": {}}'), 'json', /resourceSpans: must be an array/],
      [Buffer.from('{"resourceSpans": [{"scopeSpans": [{"spans": ["secret prompt"]}]}]}'), 'json', /spans\[0\]: must be an object/],
      [Buffer.from([0x0a, 0x05, 0x01]), 'protobuf', /not a valid protobuf message/],
    ];
    for (const [body, encoding, message] of cases) {
      assert.throws(
        () => decodeExportRequest(body, encoding),
        (e: unknown) => e instanceof VigilError && e.code === 'VIGIL_RECORD_INVALID' && message.test(e.message) && !e.message.includes('secret'),
      );
    }
  });
});
