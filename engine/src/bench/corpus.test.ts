import { decodePushJson } from '../core/distributor/push-json.js';
import { decodePushProto } from '../core/distributor/push-proto.js';
import { snappyDecode } from '../core/distributor/body.js';
import { Agent, encodeJsonBody, encodeProtoBody, Rng, Zipf } from './corpus.js';

const START = Date.UTC(2024, 0, 1);

describe('bench corpus', () => {
  it('is deterministic: the same seed gives byte-identical bodies', () => {
    const a = new Agent({ seed: 5, startMs: START }).nextBatch(500);
    const b = new Agent({ seed: 5, startMs: START }).nextBatch(500);
    expect(encodeProtoBody(a).equals(encodeProtoBody(b))).toBe(true);
    expect(encodeJsonBody(a).equals(encodeJsonBody(b))).toBe(true);
    const c = new Agent({ seed: 6, startMs: START }).nextBatch(500);
    expect(encodeJsonBody(c).equals(encodeJsonBody(a))).toBe(false);
  });

  it('stops a batch at the line or byte bound and counts line bytes exactly', () => {
    const agent = new Agent({ seed: 1, startMs: START });
    const byLines = agent.nextBatch(100, 1 << 30);
    expect(byLines.lines).toBe(100);
    const byBytes = agent.nextBatch(1_000_000, 10_000);
    expect(byBytes.lineBytes).toBeGreaterThanOrEqual(10_000);
    expect(byBytes.lineBytes).toBeLessThan(10_000 + 2048);
    let bytes = 0;
    for (const s of byBytes.streams) for (const l of s.lines) bytes += Buffer.byteLength(l);
    expect(bytes).toBe(byBytes.lineBytes);
  });

  it('encodes bodies the engine decodes back to the same entries, timestamps increasing per stream', () => {
    const agent = new Agent({ seed: 2, startMs: START });
    const batch = agent.nextBatch(2000);
    const fromProto = decodePushProto(snappyDecode(encodeProtoBody(batch), 1 << 30));
    const fromJson = decodePushJson(encodeJsonBody(batch));
    expect(fromProto.streams.length).toBe(batch.streams.length);
    for (const req of [fromProto, fromJson]) {
      let lines = 0;
      for (const [i, s] of req.streams.entries()) {
        const want = batch.streams[i]!;
        expect(s.entries.map((e) => e.line.toString())).toEqual(want.lines);
        expect(s.entries.map((e) => e.ts)).toEqual(want.ts);
        for (let k = 1; k < s.entries.length; k++) expect(s.entries[k]!.ts > s.entries[k - 1]!.ts).toBe(true);
        lines += s.entries.length;
      }
      expect(lines).toBe(batch.lines);
    }
    expect(fromProto.streams[0]!.labels).toMatch(/^\{app="[^"]+", level="(debug|info|warn|error)", namespace="[^"]+", pod="[^"]+"\}$/);
  });

  it('produces all four line formats', () => {
    const agent = new Agent({ seed: 3, startMs: START });
    const formats = new Set(agent.streams.map((s) => s.format));
    expect([...formats].sort()).toEqual(['json', 'klog', 'logfmt', 'nginx']);
    const lines = agent.nextBatch(5000).streams.flatMap((s) => s.lines.map((l) => [s.spec.format, l] as const));
    const one = (f: string): string => lines.find(([g]) => g === f)![1];
    expect(one('nginx')).toMatch(/^\d+\.\d+\.\d+\.\d+ - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "[A-Z]+ \S+ HTTP\/1\.1" \d{3} \d+ "/);
    expect(one('logfmt')).toMatch(/^ts=\S+Z level=\w+ caller=\S+ msg="/);
    expect(JSON.parse(one('json'))).toHaveProperty('trace_id');
    expect(one('klog')).toMatch(/^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} +1 \S+:\d+\] "/);
  });

  it('samples stream ranks with Zipf frequencies', () => {
    const z = new Zipf(50, 1);
    const rng = new Rng(9);
    const counts = new Array<number>(50).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[z.sample(rng)]!++;
    expect(counts[0]! / n).toBeCloseTo(z.p(0), 2);
    expect(counts[9]! / n).toBeCloseTo(z.p(9), 2);
    expect(z.p(0) / z.p(9)).toBeCloseTo(10, 6);
  });
});
