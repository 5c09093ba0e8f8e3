import { EngineError } from '../errors.js';
import { decodeBody, encodeArrayBody, encodeBody, errorBody, errorFromBody } from './codec.js';

describe('internal protocol codec', () => {
  it('keeps nanosecond bigints exact and lines as bytes', () => {
    const body = { ts: 1700000000123456789n, small: 5n, line: Buffer.from('héllo'), labels: [['app', 'a']], n: 1.5 };
    const back = decodeBody<typeof body>(encodeBody(body));
    expect(back).toEqual(body);
    expect(typeof back.small).toBe('bigint');
    expect(Buffer.isBuffer(back.line)).toBe(true);
  });

  it('builds {key: [items]} from items encoded once, decoding to the same value as the whole object encoded', () => {
    for (const n of [0, 1, 23, 24, 300]) {
      const items = Array.from({ length: n }, (_, i) => ({ canonical: `{i="${i}"}`, entries: [{ ts: BigInt(i), line: Buffer.from(`line ${i}`) }] }));
      const built = encodeArrayBody('streams', items.map((i) => encodeBody(i))).bytes;
      expect(decodeBody(built)).toEqual({ streams: items });
    }
  });

  it('carries an EngineError across with its code and message; anything else becomes a 5xx', () => {
    const { status, body } = errorBody(new EngineError('rate_limited', 'Ingestion rate limit exceeded'));
    expect(status).toBe(429);
    const e = errorFromBody(status, body);
    expect([e.code, e.message]).toEqual(['rate_limited', 'Ingestion rate limit exceeded']);
    expect(errorFromBody(502, Buffer.from('<html>bad gateway</html>')).code).toBe('unavailable');
    expect(errorBody(new Error('boom')).status).toBe(500);
  });
});
