import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { EngineError } from '../errors.js';
import type { PushRequest } from '../model.js';
import { decodePushBody, parseContentEncoding, readPushBody, snappyDecode } from './body.js';
import { encodePushProto } from './push-proto.js';

const MiB = 1024 * 1024;

async function rejection(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

function syncError(f: () => unknown): EngineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an error');
}

/** An async iterable over `chunks` that records how many chunks were pulled. */
function counted(chunks: Buffer[]): AsyncIterable<Buffer> & { pulled: number } {
  const it = {
    pulled: 0,
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        it.pulled++;
        yield c;
      }
    },
  };
  return it;
}

function split(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const jsonBody = Buffer.from(JSON.stringify({ streams: [{ stream: { app: 'api' }, values: [['1', 'hello']] }] }));
const request: PushRequest = { streams: [{ labels: '{app="api"}', entries: [{ ts: 1n, line: Buffer.from('hello') }] }] };

function expectHello(req: PushRequest): void {
  expect(req.streams).toHaveLength(1);
  expect(req.streams[0]!.labels).toBe('{app="api"}');
  expect(req.streams[0]!.entries[0]!.ts).toBe(1n);
  expect(req.streams[0]!.entries[0]!.line.toString()).toBe('hello');
}

describe('parseContentEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    [' GZIP ', 'gzip'],
    ['x-gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['snappy', 'snappy'],
  ])('maps %j to %s', (header, want) => {
    expect(parseContentEncoding(header)).toBe(want);
  });

  it("rejects anything else with Loki's 400", () => {
    const err = syncError(() => parseContentEncoding('br'));
    expect(err.code).toBe('bad_request');
    expect(err.message).toBe('Content-Encoding "br" not supported');
  });
});

describe('readPushBody', () => {
  it('reads an uncompressed body from a Node stream, an async iterable, and string chunks', async () => {
    expect((await readPushBody(Readable.from(split(jsonBody, 7)), undefined, MiB)).equals(jsonBody)).toBe(true);
    expect((await readPushBody(counted(split(jsonBody, 5)), 'identity', MiB)).equals(jsonBody)).toBe(true);
    expect((await readPushBody(Readable.from([jsonBody.toString()], { objectMode: true }), '', MiB)).equals(jsonBody)).toBe(true);
  });

  it('returns the single chunk of a one-chunk body without copying', async () => {
    const body = await readPushBody(counted([jsonBody]), undefined, MiB);
    expect(body).toBe(jsonBody);
  });

  it('refuses a body over the limit with 413 and stops reading without destroying the stream', async () => {
    const chunks = split(Buffer.alloc(10_000, 0x61), 1000);
    const source = counted(chunks);
    const err = await rejection(readPushBody(source, undefined, 2500));
    expect(err.code).toBe('request_too_large');
    expect(err.status).toBe(413);
    expect(err.message).toBe('request body too large: message size too large than max (3000 vs 2500)');
    expect(source.pulled).toBe(3);

    const stream = Readable.from(chunks);
    await rejection(readPushBody(stream, undefined, 2500));
    expect(stream.destroyed).toBe(false); // the HTTP layer still owns it and can answer
  });

  it('accepts a body of exactly the limit; 0 means no limit', async () => {
    expect((await readPushBody(counted([Buffer.alloc(100)]), undefined, 100)).length).toBe(100);
    expect((await readPushBody(counted([Buffer.alloc(100)]), undefined, 0)).length).toBe(100);
  });

  it('turns a Node stream closed before its end into client_closed', async () => {
    const stream = new PassThrough();
    stream.write('{"str');
    setImmediate(() => stream.destroy());
    const err = await rejection(readPushBody(stream, undefined, MiB));
    expect(err.code).toBe('client_closed');
    expect(err.message).toBe('error reading request body: request closed before the body was complete');
  });

  it('turns an error of the request stream into client_closed', async () => {
    const failing = (async function* () {
      yield Buffer.from('{"str');
      throw new Error('aborted');
    })();
    const err = await rejection(readPushBody(failing, undefined, MiB));
    expect(err.code).toBe('client_closed');
    expect(err.message).toBe('error reading request body: aborted');
  });

  describe('gzip', () => {
    it('decompresses as a stream, including concatenated members', async () => {
      const gz = zlib.gzipSync(jsonBody);
      expect((await readPushBody(Readable.from(split(gz, 3)), 'gzip', MiB)).equals(jsonBody)).toBe(true);
      const two = Buffer.concat([zlib.gzipSync('abc'), zlib.gzipSync('def')]);
      expect((await readPushBody(counted([two]), 'gzip', MiB)).toString()).toBe('abcdef');
    });

    it('refuses output over the limit with 413', async () => {
      const gz = zlib.gzipSync(Buffer.alloc(300_000, 0x61));
      const err = await rejection(readPushBody(counted([gz]), 'gzip', 100_000));
      expect(err.code).toBe('request_too_large');
      expect(err.message).toMatch(/^request body too large: decompressed message size too large than max \(\d+ vs 100000\)$/);
    });

    it('stops a gzip bomb early: 1 GiB of zeros in ~2 MB never gets decompressed', async () => {
      const member = zlib.gzipSync(Buffer.alloc(MiB)); // ~1 KB
      const bomb = Array.from({ length: 1024 }, () => member); // 1 GiB when decompressed
      const source = counted(bomb);
      const before = process.memoryUsage().arrayBuffers;
      const started = Date.now();
      const err = await rejection(readPushBody(source, 'gzip', 4 * MiB));
      expect(err.code).toBe('request_too_large');
      expect(Date.now() - started).toBeLessThan(2000);
      // Stream read-ahead pulls some compressed chunks beyond the first 4 MiB of output, but nowhere near all.
      expect(source.pulled).toBeLessThan(128);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MiB);
    });

    it('answers at once when the client stalls after sending a bomb (async iterable and open stream)', async () => {
      const member = zlib.gzipSync(Buffer.alloc(MiB));
      const stalling = (async function* () {
        for (let i = 0; i < 8; i++) yield member;
        await new Promise(() => undefined); // the client never sends the rest
      })();
      expect((await rejection(readPushBody(stalling, 'gzip', 2 * MiB))).code).toBe('request_too_large');

      const open = new PassThrough();
      for (let i = 0; i < 8; i++) open.write(member);
      expect((await rejection(readPushBody(open, 'gzip', 2 * MiB))).code).toBe('request_too_large');
      expect(open.destroyed).toBe(false);
      expect(open.listenerCount('data')).toBe(0); // nothing of ours is left on the stream
    });

    it('lets the HTTP server answer 413 to a client that keeps the bomb request open', async () => {
      const server = http.createServer((req, res) => {
        readPushBody(req, req.headers['content-encoding'], MiB).then(
          () => res.writeHead(204).end(),
          (e: EngineError) => res.writeHead(e.status, { connection: 'close' }).end(e.message),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request({ port, method: 'POST', headers: { 'content-encoding': 'gzip' } }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          });
          req.on('error', reject);
          req.write(zlib.gzipSync(Buffer.alloc(8 * MiB))); // and never end the request
        });
        expect(answer.status).toBe(413);
        expect(answer.body).toMatch(/^request body too large: decompressed message size too large than max \(\d+ vs 1048576\)$/);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('stops a single-member bomb as well', async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(64 * MiB));
      const err = await rejection(readPushBody(counted(split(bomb, 4096)), 'gzip', MiB));
      expect(err.code).toBe('request_too_large');
    });

    it('applies the limit to the compressed bytes too', async () => {
      const gz = zlib.gzipSync(Buffer.alloc(10_000, 0x61));
      const err = await rejection(readPushBody(counted([gz]), 'gzip', 10));
      expect(err.message).toBe(`request body too large: message size too large than max (${gz.length} vs 10)`);
    });

    it.each([
      ['not gzip at all', Buffer.from('{"streams":[]}'), 'gzip: invalid header'],
      ['a truncated stream', zlib.gzipSync(jsonBody).subarray(0, 20), 'gzip: unexpected EOF'],
      ['an empty body', Buffer.alloc(0), 'gzip: unexpected EOF'],
    ])('rejects %s with a 400', async (_name, body, message) => {
      const err = await rejection(readPushBody(counted(body.length ? [body] : []), 'gzip', MiB));
      expect(err.code).toBe('bad_request');
      expect(err.message).toBe(message);
    });

    it('rejects a corrupted checksum', async () => {
      const gz = Buffer.from(zlib.gzipSync(jsonBody));
      gz[gz.length - 6]! ^= 0xff;
      const err = await rejection(readPushBody(counted([gz]), 'gzip', MiB));
      expect(err.message).toBe('gzip: invalid checksum');
    });
  });

  describe('deflate', () => {
    it('accepts raw DEFLATE (what Loki reads) and zlib-wrapped deflate (what HTTP specifies)', async () => {
      for (const body of [zlib.deflateRawSync(jsonBody), zlib.deflateSync(jsonBody)]) {
        expect((await readPushBody(Readable.from(split(body, 1)), 'deflate', MiB)).equals(jsonBody)).toBe(true);
      }
    });

    it('refuses output over the limit and rejects corrupt input', async () => {
      const err = await rejection(readPushBody(counted([zlib.deflateRawSync(Buffer.alloc(MiB))]), 'deflate', 1000));
      expect(err.code).toBe('request_too_large');
      const bad = await rejection(readPushBody(counted([Buffer.from([0xff, 0xff, 0xff])]), 'deflate', MiB));
      expect(bad.code).toBe('bad_request');
      expect(bad.message).toMatch(/^flate: corrupt input \(/);
    });
  });

  describe('snappy', () => {
    it('returns the body still compressed: decodePushBody undoes snappy for protobuf', async () => {
      const compressed = snappy.compressSync(encodePushProto(request));
      const body = await readPushBody(counted(split(compressed, 2)), 'snappy', MiB);
      expect(body.equals(compressed)).toBe(true);
      expectHello(decodePushBody(body, 'application/x-protobuf', MiB, 'snappy'));
    });

    it('refuses a body whose declared length is over the limit as soon as the header arrives', async () => {
      const header = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]); // declares 1 GiB
      const source = (async function* () {
        yield header.subarray(0, 2);
        yield header.subarray(2);
        throw new Error('read past the header');
      })();
      const err = await rejection(readPushBody(source, 'snappy', MiB));
      expect(err.code).toBe('request_too_large');
      expect(err.message).toBe(`request body too large: message size too large than max (${1024 * MiB} vs ${MiB})`);
    });
  });
});

describe('decodePushBody', () => {
  const proto = snappy.compressSync(encodePushProto(request));

  it.each(['application/x-protobuf', 'Application/X-Protobuf; charset=utf-8', 'application/protobuf'])(
    'decodes snappy protobuf for %s',
    (type) => {
      expectHello(decodePushBody(proto, type, MiB));
    },
  );

  it.each(['application/json', 'application/json; charset=utf-8', 'text/json', 'application/vnd.loki+json'])(
    'decodes JSON for %s',
    (type) => {
      expectHello(decodePushBody(jsonBody, type, MiB));
    },
  );

  it('decodes snappy-compressed JSON when Content-Encoding says snappy', () => {
    expectHello(decodePushBody(snappy.compressSync(jsonBody), 'application/json', MiB, 'snappy'));
  });

  it('sniffs a body without (or with another) content type: JSON if it looks like JSON, else protobuf', () => {
    expectHello(decodePushBody(jsonBody, undefined, MiB));
    expectHello(decodePushBody(Buffer.concat([Buffer.from(' \n'), jsonBody]), 'application/x-www-form-urlencoded', MiB));
    expectHello(decodePushBody(proto, undefined, MiB));
    expectHello(decodePushBody(proto, 'application/octet-stream', MiB));
  });

  it('falls back to protobuf when a sniffed body starting with "{" is snappy (a 123-byte message)', () => {
    const padded: PushRequest = {
      streams: [{ labels: '{app="api"}', entries: [{ ts: 1n, line: Buffer.from('hello') }] }],
    };
    // Grow the line until the protobuf is exactly 123 bytes: its snappy header byte is then '{' (0x7b).
    let pb = encodePushProto(padded);
    padded.streams[0]!.entries[0]!.line = Buffer.from('hello'.padEnd(5 + 123 - pb.length, '!'));
    pb = encodePushProto(padded);
    expect(pb.length).toBe(123);
    const body = snappy.compressSync(pb);
    expect(body[0]).toBe(0x7b);
    const req = decodePushBody(body, undefined, MiB);
    expect(req.streams[0]!.entries[0]!.line.toString()).toMatch(/^hello!+$/);
  });

  it('reports the JSON error for a sniffed body that is neither', () => {
    const err = syncError(() => decodePushBody(Buffer.from('{"streams":[1]}'), undefined, MiB));
    expect(err.message).toBe('streams[0] must be an object, got number');
  });

  it("rejects corrupt snappy with Loki's message", () => {
    const err = syncError(() => decodePushBody(Buffer.from('not snappy at all'), 'application/x-protobuf', MiB));
    expect(err.code).toBe('bad_request');
    expect(err.message).toBe('snappy: corrupt input');
    expect(syncError(() => decodePushBody(Buffer.alloc(0), 'application/x-protobuf', MiB)).message).toBe('snappy: corrupt input');
  });

  it('checks the declared decompressed length before decompressing', () => {
    const lying = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]); // declares 1 GiB, holds nothing
    const err = syncError(() => decodePushBody(lying, 'application/x-protobuf', MiB));
    expect(err.code).toBe('request_too_large');
    expect(err.message).toBe(`request body too large: message size too large than max (${1024 * MiB} vs ${MiB})`);
  });

  it('refuses a body over the limit', () => {
    const err = syncError(() => snappyDecode(Buffer.alloc(100), 99));
    expect(err.code).toBe('request_too_large');
    expect(err.message).toBe('request body too large: message size too large than max (100 vs 99)');
  });

  it('works end to end with readPushBody for gzip JSON', async () => {
    const body = await readPushBody(Readable.from(split(zlib.gzipSync(jsonBody), 10)), 'gzip', MiB);
    expectHello(decodePushBody(body, 'application/json', MiB, 'gzip'));
  });
});
