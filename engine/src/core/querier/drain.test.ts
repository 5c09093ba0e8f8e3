import { Drain, patternString, PLACEHOLDER, tokenize } from './drain.js';

const patterns = (d: Drain): string[] => d.clusters().map(patternString);

describe('tokenize', () => {
  it('splits at whitespace and around key=value punctuation, keeping every byte', () => {
    const line = 'ts=2024-03-30T23:03:40 caller=grpc_logging.go:66  msg="a b"';
    const t = tokenize(line);
    expect(t.texts).toEqual(['ts', '=', '2024-03-30T23:03:40', 'caller', '=', 'grpc_logging.go:66', 'msg', '=', '"', 'a', 'b', '"']);
    expect(t.gaps).toEqual(['', '', '', ' ', '', '', '  ', '', '', '', ' ', '']);
    expect(t.texts.map((x, i) => t.gaps[i] + x).join('')).toBe(line);
  });

  it('splits JSON at its structure but keeps times and file:line whole', () => {
    const t = tokenize('{"ts":"10:00:01","caller":"x.go:7"}');
    expect(t.texts).toEqual(['{', '"', 'ts', '"', ':', '"', '10:00:01', '"', ',', '"', 'caller', '"', ':', '"', 'x.go:7', '"', '}']);
  });

  it('treats a colon before a space as a separator', () => {
    expect(tokenize('error: boom').texts).toEqual(['error', ':', 'boom']);
  });

  it('folds the tail of a long line into its last token', () => {
    const t = tokenize('a b c d e', 3);
    expect(t.texts).toEqual(['a', 'b', 'c d e']);
    expect(t.texts.map((x, i) => t.gaps[i] + x).join('')).toBe('a b c d e');
  });
});

describe('Drain', () => {
  it('turns the varying tokens of similar lines into placeholders (Loki docs example)', () => {
    const d = new Drain();
    d.train('ts=2024-03-30T23:03:40 caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=200ms msg=gRPC', 0);
    d.train('ts=2024-03-30T23:03:41 caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=500ms msg=gRPC', 0);
    expect(patterns(d)).toEqual(['ts=<_> caller=grpc_logging.go:66 level=info method=/cortex.Ingester/Push duration=<_> msg=gRPC']);
    expect(d.clusters()[0]!.size).toBe(2);
  });

  it('keeps lines of different lengths or different leading words apart', () => {
    const d = new Drain();
    d.train('GET /api/users/1 200', 0);
    d.train('GET /api/users/2 200', 0);
    d.train('POST /api/users 201', 0);
    d.train('connection reset by peer', 0);
    d.train('connection lost', 0);
    expect(patterns(d)).toEqual(['GET <_> 200', 'POST /api/users 201', 'connection reset by peer', 'connection lost']);
  });

  it('routes by the leading words: words without digits branch the tree (Loki routes by up to 27 tokens)', () => {
    const d = new Drain();
    d.train('GET /api/users 200', 0);
    d.train('GET /api/orders 200', 0);
    expect(patterns(d)).toEqual(['GET /api/users 200', 'GET /api/orders 200']);
    const shallow = new Drain({ depth: 4 }); // the paper's depth: one routing token
    shallow.train('GET /api/users 200', 0);
    shallow.train('GET /api/orders 200', 0);
    expect(patterns(shallow)).toEqual(['GET <_> 200']);
  });

  it('routes tokens with digits through one wildcard branch so ids do not split clusters', () => {
    const d = new Drain();
    for (let i = 0; i < 50; i++) d.train(`user ${1000 + i} logged in from 10.0.0.${i}`, 0);
    expect(patterns(d)).toEqual(['user <_> logged in from <_>']);
    expect(d.clusters()[0]!.size).toBe(50);
  });

  it('joins a line to the most similar cluster only above the similarity threshold', () => {
    const d = new Drain({ depth: 4, similarity: 0.5 });
    d.train('job started a b c', 0);
    d.train('job started a b d', 0); // 4 of 5 equal
    d.train('job x y z w', 0); // 1 of 5 equal: a cluster of its own
    expect(patterns(d)).toEqual(['job started a b <_>', 'job x y z w']);
  });

  it('collapses placeholders separated only by whitespace and drops templates with no literal word', () => {
    expect(patternString({ texts: ['a', PLACEHOLDER, PLACEHOLDER, 'b'], gaps: ['', ' ', ' ', ' '] })).toBe('a <_> b');
    expect(patternString({ texts: [PLACEHOLDER, '=', PLACEHOLDER], gaps: ['', '', ''] })).toBe('');
    const d = new Drain({ depth: 3 });
    d.train('"alpha"', 0);
    d.train('"beta"', 0);
    expect(d.clusters()).toHaveLength(1);
    expect(patterns(d)).toEqual(['']);
  });

  it('counts samples per bucket', () => {
    const d = new Drain();
    d.train('tick 1', 10);
    d.train('tick 2', 10);
    d.train('tick 3', 20, 5);
    expect([...d.clusters()[0]!.samples]).toEqual([
      [10, 2],
      [20, 5],
    ]);
    expect(d.clusters()[0]!.size).toBe(7);
  });

  it('evicts the least recently matched cluster beyond maxClusters', () => {
    const d = new Drain({ maxClusters: 2 });
    d.train('alpha one', 0);
    d.train('beta two', 0);
    d.train('alpha one', 0); // alpha is now the most recent
    d.train('gamma three', 0); // evicts beta
    expect(patterns(d)).toEqual(['alpha one', 'gamma three']);
  });

  it('gives new words a branch until maxChildren, then shares a wildcard branch', () => {
    const d = new Drain({ maxChildren: 3, similarity: 0.4 });
    // Distinct first words without digits: two branches, then the wildcard takes the rest.
    d.train('apple x y', 0);
    d.train('banana x y', 0);
    d.train('cherry x y', 0);
    d.train('damson x y', 0);
    expect(patterns(d)).toEqual(['apple x y', 'banana x y', '<_> x y']);
  });
});
