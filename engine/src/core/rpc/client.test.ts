import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EngineError } from '../errors.js';
import { sleep } from '../util/clock.js';
import { RpcClient } from './client.js';
import { CBOR_CONTENT_TYPE, decodeBody, EncodedBody, encodeArrayBody, encodeBody, errorBody } from './codec.js';

/** What the peer saw of one call. */
interface Hit {
  method: string;
  tenant: string | undefined;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: unknown;
}

/** The handler answered (or broke) the response itself; the peer must not write a reply. */
const HANDLED = Symbol('handled');

type Handler = (hit: Hit, req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * A real HTTP peer on loopback that answers `POST /internal/v1/<method>` as the engine's internal controller does:
 * the body decoded with the codec, the result encoded with `encodeBody(result ?? {})`, a thrown error with
 * `errorBody`.
 */
class Peer {
  readonly hits: Hit[] = [];
  connections = 0;
  /** Sockets the server holds open right now. */
  openSockets = 0;
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server;
  private readonly socketClosed: Array<() => void> = [];

  constructor(private readonly handler: Handler) {
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.openSockets++;
      s.on('close', () => {
        this.openSockets--;
        for (const f of this.socketClosed.splice(0)) f();
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once the server holds no open socket. */
  async allSocketsClosed(): Promise<void> {
    while (this.openSockets > 0) await new Promise<void>((resolve) => this.socketClosed.push(resolve));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const d of req) parts.push(d as Buffer);
    const raw = Buffer.concat(parts);
    const prefix = '/internal/v1/';
    const tenant = req.headers['x-scope-orgid'];
    const hit: Hit = {
      method: req.url!.startsWith(prefix) ? req.url!.slice(prefix.length) : `!${req.url}`,
      tenant: typeof tenant === 'string' ? tenant : undefined,
      headers: req.headers,
      raw,
      body: decodeBody(raw),
    };
    this.hits.push(hit);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const result = await this.handler(hit, req, res);
      if (result === HANDLED) return;
      res.writeHead(200, { 'content-type': CBOR_CONTENT_TYPE }).end(encodeBody(result ?? {}));
    } catch (e) {
      const { status, body } = errorBody(e);
      if (!res.headersSent) res.writeHead(status, { 'content-type': CBOR_CONTENT_TYPE }).end(body);
    } finally {
      this.inFlight--;
    }
  }
}

/** A promise that never settles: a peer that never answers. */
const never = (): Promise<never> => new Promise<never>(() => undefined);

/** Resolves when `cond` holds, polling (bounded so a broken test fails instead of hanging). */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(2);
  }
}

/** The EngineError a call rejected with (fails the test when it resolved or threw something else). */
async function failure(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('the call succeeded');
}

describe('RpcClient', () => {
  const peers: Peer[] = [];
  const clients: RpcClient[] = [];

  async function peer(handler: Handler): Promise<[Peer, string]> {
    const p = new Peer(handler);
    peers.push(p);
    return [p, await p.start()];
  }

  function client(opts?: ConstructorParameters<typeof RpcClient>[0]): RpcClient {
    const c = new RpcClient({ timeoutMs: 2000, ...opts });
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  describe('round trip', () => {
    it('sends a CBOR body with bigints and Buffers, the tenant header and CBOR content types, and decodes the answer', async () => {
      const [p, addr] = await peer((hit) => ({ echo: hit.body, tenant: hit.tenant ?? null }));
      const c = client();
      const body = {
        streams: [{ labels: [['app', 'api']], entries: [{ ts: 1700000000123456789n, line: Buffer.from('héllo\x00wörld') }] }],
        from: 0n,
        through: 18446744073709551615n,
        n: 1.5,
      };

      const res = await c.call<{ echo: typeof body; tenant: string }>(addr, 'ingester/push', 'tenant-a', body);

      expect(p.hits).toHaveLength(1);
      const hit = p.hits[0]!;
      expect(hit.method).toBe('ingester/push');
      expect(hit.headers['content-type']).toBe('application/cbor');
      expect(hit.headers.accept).toBe('application/cbor');
      expect(hit.headers['content-length']).toBe(String(hit.raw.length));
      expect(hit.tenant).toBe('tenant-a');
      expect(hit.raw.equals(encodeBody(body))).toBe(true);
      expect(hit.body).toEqual(body);
      // Exact on both sides of the wire: bigints stay bigints (ns timestamps), lines stay bytes.
      const entry = (hit.body as typeof body).streams[0]!.entries[0]!;
      expect(entry.ts).toBe(1700000000123456789n);
      expect(Buffer.isBuffer(entry.line)).toBe(true);
      expect(res).toEqual({ echo: body, tenant: 'tenant-a' });
      expect(res.echo.through).toBe(18446744073709551615n);
      expect(Buffer.isBuffer(res.echo.streams[0]!.entries[0]!.line)).toBe(true);
    });

    it('sends no tenant header for a tenant-free call, and answers {} for an empty result', async () => {
      const [p, addr] = await peer(() => undefined);
      const res = await client().call(addr, 'ingester/flush', undefined, {});
      expect(p.hits[0]!.headers['x-scope-orgid']).toBeUndefined();
      expect(p.hits[0]!.tenant).toBeUndefined();
      expect(res).toEqual({});
    });

    it('sends an EncodedBody byte for byte, and accepts a full http:// URL as the address', async () => {
      const [p, addr] = await peer((hit) => hit.body);
      const c = client();
      const items = [{ canonical: '{a="1"}', entries: [{ ts: 5n, line: Buffer.from('x') }] }];
      const pre = encodeArrayBody('streams', items.map((i) => encodeBody(i)));

      const res = await c.call(`http://${addr}/`, 'ingester/push', 't', pre);
      expect(p.hits[0]!.method).toBe('ingester/push');
      expect(p.hits[0]!.raw.equals(pre.bytes)).toBe(true);
      expect(res).toEqual({ streams: items });

      // An EncodedBody is never re-encoded (which would wrap it as a CBOR object or byte string).
      const opaque = new EncodedBody(Buffer.from([0x82, 0x01, 0x02])); // CBOR [1, 2]
      expect(await c.call(addr, 'x/y', 't', opaque)).toEqual([1, 2]);
      expect(p.hits[1]!.raw.equals(opaque.bytes)).toBe(true);
    });
  });

  describe('errors', () => {
    it('rethrows the EngineError the peer raised, with its code, message and status', async () => {
      const [, addr] = await peer((hit) => {
        if (hit.method === 'ingester/push') {
          throw new EngineError('rate_limited', "Ingestion rate limit exceeded for user tenant-a (limit: 4194304 bytes/sec) while attempting to ingest '10' lines totaling '100' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased");
        }
        throw new EngineError('bad_request', 'matchers: expected an array');
      });
      const c = client();

      const limited = await failure(c.call(addr, 'ingester/push', 'tenant-a', {}));
      expect(limited.code).toBe('rate_limited');
      expect(limited.status).toBe(429);
      expect(limited.message).toMatch(/^Ingestion rate limit exceeded for user tenant-a \(limit: 4194304 bytes\/sec\)/);

      const bad = await failure(c.call(addr, 'ingester/series', 'tenant-a', {}));
      expect([bad.code, bad.message, bad.status]).toEqual(['bad_request', 'matchers: expected an array', 400]);
    });

    it('turns a peer’s non-EngineError into internal, and a non-CBOR 5xx page into unavailable', async () => {
      const [, addr] = await peer((hit, _req, res) => {
        if (hit.method === 'a/boom') throw new Error('boom');
        res.writeHead(hit.method === 'a/proxy' ? 502 : 500, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
        return HANDLED;
      });
      const c = client();

      const boom = await failure(c.call(addr, 'a/boom', 't', {}));
      expect([boom.code, boom.message]).toEqual(['internal', 'boom']);

      const html = await failure(c.call(addr, 'a/html', 't', {}));
      expect([html.code, html.message]).toEqual(['unavailable', 'unexpected response 500: <html>bad gateway</html>']);
      const proxy = await failure(c.call(addr, 'a/proxy', 't', {}));
      expect([proxy.code, proxy.message]).toEqual(['unavailable', 'unexpected response 502: <html>bad gateway</html>']);
    });
  });

  describe('timeouts and cancellation', () => {
    it('abandons a call the peer never answers with timeout after timeoutMs, and does not retry it', async () => {
      let closedByCaller = 0;
      const [p, addr] = await peer((_hit, _req, res) => {
        // What the internal controller listens to in order to stop the work of a caller that gave up.
        res.once('close', () => {
          if (!res.writableFinished) closedByCaller++;
        });
        return never();
      });
      const c = client({ timeoutMs: 150 });

      const t0 = Date.now();
      const e = await failure(c.call(addr, 'ingester/chunks', 't', {}, { idempotent: true }));
      const elapsed = Date.now() - t0;
      expect([e.code, e.message, e.status]).toEqual(['timeout', `call ingester/chunks to ${addr} timed out after 150ms`, 504]);
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(elapsed).toBeLessThan(1000);
      expect(p.hits).toHaveLength(1);
      await until(() => closedByCaller === 1);

      // A per-call timeout overrides the client's.
      const short = await failure(c.call(addr, 'index/series', 't', {}, { timeoutMs: 60 }));
      expect(short.message).toBe(`call index/series to ${addr} timed out after 60ms`);
    });

    it('times out while the answer is still arriving', async () => {
      const [, addr] = await peer((_hit, _req, res) => {
        res.writeHead(200, { 'content-type': CBOR_CONTENT_TYPE, 'content-length': 10 });
        res.write(Buffer.from([0xa1, 0x61]));
        return HANDLED; // the rest never comes
      });
      const e = await failure(client().call(addr, 'a/b', 't', {}, { timeoutMs: 100 }));
      expect([e.code, e.message]).toEqual(['timeout', `call a/b to ${addr} timed out after 100ms`]);
    });

    it('fails with client_closed when the caller aborts its signal, and does not retry', async () => {
      const [p, addr] = await peer(() => never());
      const c = client();
      const ac = new AbortController();
      const call = c.call(addr, 'ingester/chunks', 't', {}, { signal: ac.signal, idempotent: true });
      await until(() => p.hits.length === 1);
      ac.abort();
      const e = await failure(call);
      expect([e.code, e.message, e.status]).toEqual(['client_closed', `call ingester/chunks to ${addr} cancelled`, 499]);
      expect(p.hits).toHaveLength(1);

      // Already cancelled: never reaches the peer.
      const pre = await failure(c.call(addr, 'ingester/chunks', 't', {}, { signal: AbortSignal.abort() }));
      expect(pre.code).toBe('client_closed');
      expect(p.hits).toHaveLength(1);
    });
  });

  describe('unreachable peers and retries', () => {
    async function closedPort(): Promise<string> {
      const p = new Peer(() => undefined);
      const addr = await p.start();
      await p.stop();
      return addr;
    }

    it('reports a refused connection as unavailable, retrying it with backoff only when idempotent', async () => {
      const addr = await closedPort();
      const c = client();

      const once = await failure(c.call(addr, 'ingester/push', 't', {}));
      expect(once.code).toBe('unavailable');
      expect(once.status).toBe(503);
      expect(once.message).toMatch(new RegExp(`^call ingester/push to ${addr} failed: .*ECONNREFUSED`));

      // Two retries: backoffs of at least 50 ms and 100 ms (jittered between half and all of 100 ms and 200 ms).
      const t0 = Date.now();
      const retried = await failure(c.call(addr, 'ingester/chunks', 't', {}, { idempotent: true }));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
      expect(retried.code).toBe('unavailable');
      expect(retried.message).toMatch(/ECONNREFUSED/);
    });

    it('retries an idempotent call on 503 until it succeeds; a non-idempotent call is sent exactly once', async () => {
      let failFirst = 2;
      const [p, addr] = await peer(() => {
        if (failFirst-- > 0) throw new EngineError('unavailable', 'Ingester is starting');
        return { ok: true };
      });
      const c = client();

      expect(await c.call(addr, 'ingester/series', 't', {}, { idempotent: true })).toEqual({ ok: true });
      expect(p.hits).toHaveLength(3);

      failFirst = 1;
      const e = await failure(c.call(addr, 'ingester/push', 't', {}));
      expect([e.code, e.message]).toEqual(['unavailable', 'Ingester is starting']);
      expect(p.hits).toHaveLength(4);

      // Retries are bounded: `retries` extra attempts, then the peer's error.
      failFirst = 10;
      const bounded = await failure(client({ retries: 1 }).call(addr, 'ingester/series', 't', {}, { idempotent: true }));
      expect([bounded.code, bounded.message]).toEqual(['unavailable', 'Ingester is starting']);
      expect(p.hits).toHaveLength(6);
    });

    it('retries an idempotent call whose connection dropped, and does not retry a 4xx', async () => {
      let drop = 1;
      const [p, addr] = await peer((hit, req) => {
        if (hit.method === 'a/limited') throw new EngineError('too_many_requests', 'slow down');
        if (drop-- > 0) {
          req.socket.destroy();
          return HANDLED;
        }
        return { ok: true };
      });
      const c = client();
      expect(await c.call(addr, 'a/read', 't', {}, { idempotent: true })).toEqual({ ok: true });
      expect(p.hits).toHaveLength(2);

      const e = await failure(c.call(addr, 'a/limited', 't', {}, { idempotent: true }));
      expect(e.code).toBe('too_many_requests');
      expect(p.hits).toHaveLength(3);
    });

    it('reports a response cut off mid-body as unavailable, never as a decoded body', async () => {
      const full = encodeBody({ entries: Array.from({ length: 50 }, (_, i) => ({ ts: BigInt(i), line: Buffer.alloc(64, i) })) });
      const [p, addr] = await peer((hit, req, res) => {
        const chunked = hit.method === 'a/chunked';
        res.writeHead(200, chunked ? { 'content-type': CBOR_CONTENT_TYPE } : { 'content-type': CBOR_CONTENT_TYPE, 'content-length': full.length });
        res.write(full.subarray(0, full.length >> 1), () => setTimeout(() => req.socket.destroy(), 10));
        return HANDLED;
      });
      const c = client();

      for (const method of ['a/sized', 'a/chunked']) {
        const t0 = Date.now();
        const e = await failure(c.call(addr, method, 't', {}));
        expect(e.code).toBe('unavailable');
        expect(e.message).toMatch(new RegExp(`^call ${method} to ${addr} failed: `));
        expect(Date.now() - t0).toBeLessThan(1000);
      }
      expect(p.hits).toHaveLength(2);
    });
  });

  describe('per-peer gate', () => {
    it('serves calls beyond maxInFlightPerPeer one after the other', async () => {
      const order: string[] = [];
      const [p, addr] = await peer(async (hit) => {
        order.push(`start ${hit.method}`);
        await sleep(40);
        order.push(`end ${hit.method}`);
        return { m: hit.method };
      });
      const c = client({ maxInFlightPerPeer: 1 });

      const res = await Promise.all([c.call(addr, 'a/one', 't', {}), c.call(addr, 'a/two', 't', {})]);
      expect(res).toEqual([{ m: 'a/one' }, { m: 'a/two' }]);
      expect(p.maxInFlight).toBe(1);
      expect(order).toEqual(['start a/one', 'end a/one', 'start a/two', 'end a/two']);
    });

    it('fails a call fast when maxQueuedPerPeer calls already wait', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const [p, addr] = await peer(async () => {
        await gate;
        return {};
      });
      const c = client({ maxInFlightPerPeer: 1, maxQueuedPerPeer: 1 });

      const first = c.call(addr, 'a/b', 't', {});
      const second = c.call(addr, 'a/b', 't', {});
      const t0 = Date.now();
      const third = await failure(c.call(addr, 'a/b', 't', {}));
      expect([third.code, third.message]).toEqual(['unavailable', `too many outstanding calls to ${addr}`]);
      expect(Date.now() - t0).toBeLessThan(100);

      // Another peer has its own budget.
      const [other, otherAddr] = await peer(() => ({ other: true }));
      expect(await c.call(otherAddr, 'a/b', 't', {})).toEqual({ other: true });
      expect(other.hits).toHaveLength(1);

      await until(() => p.hits.length === 1);
      release();
      expect(await Promise.all([first, second])).toEqual([{}, {}]);
      expect(p.hits).toHaveLength(2);
      expect(p.maxInFlight).toBe(1);
    });

    it('bounds the wait for a slot by the call’s timeout and signal, and a call that gave up leaves the queue', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const [p, addr] = await peer(async (hit) => {
        if (hit.method === 'a/stuck') await gate;
        return { m: hit.method };
      });
      const c = client({ maxInFlightPerPeer: 1, maxQueuedPerPeer: 1 });

      // (Caught at once: were the queued calls below to wait for its slot, it would time out before they end.)
      const stuck = c.call(addr, 'a/stuck', 't', {}, { timeoutMs: 3000 }).catch((e: unknown) => e);
      await until(() => p.hits.length === 1);

      const t0 = Date.now();
      const queued = await failure(c.call(addr, 'a/queued', 't', {}, { timeoutMs: 80 }));
      expect([queued.code, queued.message]).toEqual(['timeout', `call a/queued to ${addr} timed out after 80ms`]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
      expect(Date.now() - t0).toBeLessThan(1000);

      const ac = new AbortController();
      const cancelled = c.call(addr, 'a/cancelled', 't', {}, { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      const e = await failure(cancelled);
      expect([e.code, e.message]).toEqual(['client_closed', `call a/cancelled to ${addr} cancelled`]);

      // Neither still holds a place in the queue (of one), nor a slot once the stuck call ends.
      const next = c.call(addr, 'a/next', 't', {});
      release();
      expect(await Promise.all([stuck, next])).toEqual([{ m: 'a/stuck' }, { m: 'a/next' }]);
      expect(p.hits.map((h) => h.method)).toEqual(['a/stuck', 'a/next']);
      expect(p.maxInFlight).toBe(1);
      expect(await Promise.all([c.call(addr, 'a/x', 't', {}), c.call(addr, 'a/y', 't', {})])).toEqual([{ m: 'a/x' }, { m: 'a/y' }]);
      expect(p.maxInFlight).toBe(1);
    });

    it('lets ungated calls past a full gate', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const [p, addr] = await peer(async () => {
        await gate;
        return {};
      });
      const c = client({ maxInFlightPerPeer: 1, maxQueuedPerPeer: 0 });

      const gated = c.call(addr, 'a/b', 't', {});
      await until(() => p.hits.length === 1);
      const refused = await failure(c.call(addr, 'a/b', 't', {}));
      expect(refused.message).toBe(`too many outstanding calls to ${addr}`);

      const ungated = [c.call(addr, 'scheduler/dequeue', 't', {}, { ungated: true }), c.call(addr, 'scheduler/dequeue', 't', {}, { ungated: true })];
      await until(() => p.hits.length === 3);
      expect(p.maxInFlight).toBe(3);
      release();
      expect(await Promise.all([gated, ...ungated])).toEqual([{}, {}, {}]);

      // Ungated calls never took a slot: the gate is free again once the gated call finished.
      expect(await c.call(addr, 'a/b', 't', {})).toEqual({});
    });
  });

  describe('connections', () => {
    it('reuses one keep-alive connection for sequential calls', async () => {
      const [p, addr] = await peer((hit) => hit.body);
      const c = client();
      for (let i = 0; i < 5; i++) expect(await c.call(addr, 'a/b', 't', { i })).toEqual({ i });
      expect(p.hits).toHaveLength(5);
      expect(p.connections).toBe(1);
    });

    it('close() drops the pooled connections and the client keeps working on a new one', async () => {
      const [p, addr] = await peer((hit) => hit.body);
      const c = client();
      expect(await c.call(addr, 'a/b', 't', { n: 1 })).toEqual({ n: 1 });
      expect(p.openSockets).toBe(1);

      c.close();
      await p.allSocketsClosed();
      expect(p.openSockets).toBe(0);

      expect(await c.call(addr, 'a/b', 't', { n: 2 })).toEqual({ n: 2 });
      expect(await c.call(addr, 'a/b', 't', { n: 3 })).toEqual({ n: 3 });
      expect(p.connections).toBe(2);
    });
  });
});
