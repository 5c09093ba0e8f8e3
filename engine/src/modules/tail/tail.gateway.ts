import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { parse } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Engine } from '../../core/engine.js';
import { EngineError } from '../../core/errors.js';
import type { Params } from '../../core/querier/params.js';
import { CATEGORIZE_LABELS } from '../../core/querier/response.js';
import { parseTailRequest, requireOrgId, resolveTailTenant } from '../../core/tail/tail-request.js';
import { CLOSE_GOING_AWAY, CLOSE_INTERNAL_ERROR, type TailFlags, type TailSink, type Tailer } from '../../core/tail/tailer.js';
import type { TailRequest } from '../../core/tail/tail-request.js';
import type { Logger } from '../../core/util/logger.js';
import { ENGINE } from '../tokens.js';

/** The tail paths, and whether each answers in the legacy body. */
const TAIL_PATHS = new Map<string, boolean>([
  ['/loki/api/v1/tail', false],
  ['/api/prom/tail', true],
]);

/** Loki pings every tail connection each second, so dead connections are noticed when nothing is sent. */
const PING_INTERVAL_MS = 1000;
/** A client sends nothing but control frames; anything large is refused by the ws library. */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** On shutdown, clients get this long to complete the closing handshake before their sockets are cut. */
const CLOSE_GRACE_MS = 1000;
/** RFC 6455: a close frame's reason is at most 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Loki's tail endpoint over WebSocket. Fastify has no WebSocket support of its own, so a `ws` server in noServer mode
 * takes the HTTP server's `upgrade` events for the tail paths only; every other request is untouched. Parameters,
 * tenant and readiness are checked before the upgrade (a plain-text HTTP error, as Loki answers them); limits and
 * later failures close the socket with code 1011 and the reason, as Loki does.
 */
@Injectable()
export class TailGateway implements OnModuleInit, OnModuleDestroy {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  private readonly clients = new Set<WebSocket>();
  private readonly logger: Logger;
  private server: Server | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(req, socket, head);

  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {
    this.logger = engine.logger.with({ component: 'tail' });
  }

  onModuleInit(): void {
    // Tails are served here, so their loki_querier_tail_* metrics go to this process's registry.
    this.engine.tail.useMetrics(this.engine.metrics);
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  async onModuleDestroy(): Promise<void> {
    this.server?.off('upgrade', this.onUpgrade);
    const open = [...this.clients];
    const closed = open.map((ws) => new Promise<void>((done) => ws.once('close', () => done())));
    for (const ws of open) ws.close(CLOSE_GOING_AWAY, 'server shutting down');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((done) => (timer = setTimeout(done, CLOSE_GRACE_MS)))]);
    clearTimeout(timer);
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const legacy = TAIL_PATHS.get(q < 0 ? url : url.slice(0, q));
    if (legacy === undefined) {
      // Not ours: answer as Loki's router would, unless another listener wants upgrades too.
      if (this.server?.listenerCount('upgrade') === 1) reject(socket, 404, '404 page not found\n');
      return;
    }
    socket.on('error', (err) => this.logger.debug('tail: socket error', { err }));
    let tenant: string;
    let request: TailRequest;
    try {
      this.engine.assertRunning();
      const orgId = req.headers['x-scope-orgid'];
      const auth = this.engine.config.auth_enabled;
      // Loki's order: its auth middleware refuses a request without a tenant, then the handler reads the parameters,
      // then the tenant ID itself (one tenant only).
      requireOrgId(orgId, auth);
      const params = parse(q < 0 ? '' : url.slice(q + 1)) as Params;
      request = parseTailRequest(params, BigInt(this.engine.clock.now()) * 1_000_000n);
      tenant = resolveTailTenant(orgId, auth);
    } catch (err) {
      if (!(err instanceof EngineError)) this.logger.error('tail: upgrade failed', { err });
      reject(socket, err instanceof EngineError ? err.status : 500, err instanceof Error ? err.message : String(err));
      return;
    }
    const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '')
      .split(',')
      .some((f) => f.trim() === CATEGORIZE_LABELS);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, tenant, request, { categorize, legacy }));
  }

  private attach(ws: WebSocket, tenant: string, request: TailRequest, flags: TailFlags): void {
    this.clients.add(ws);
    let tailer: Tailer | undefined;
    const ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, PING_INTERVAL_MS);
    ping.unref();
    ws.on('error', (err) => this.logger.debug('tail: connection error', { tenant, err }));
    ws.on('close', () => {
      clearInterval(ping);
      this.clients.delete(ws);
      tailer?.close();
      this.logger.info('ended tailing logs', { tenant });
    });
    const sink: TailSink = {
      send: (message, done) => {
        if (ws.readyState !== WebSocket.OPEN) {
          done(new Error('connection closed'));
          return;
        }
        ws.send(message, done);
      },
      close: (code, reason) => {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason(reason));
      },
    };
    try {
      tailer = this.engine.tail.open(tenant, request, sink, flags);
      this.logger.info('starting to tail logs', { tenant });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof EngineError)) this.logger.error('tail: opening failed', { tenant, err });
      ws.close(CLOSE_INTERNAL_ERROR, closeReason(message));
    }
  }
}

/** Answers an upgrade request with a plain HTTP response (before any WebSocket exists) and closes the socket. */
function reject(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}

/** A close reason cut to the 123 bytes a close frame allows, never inside a UTF-8 sequence. */
export function closeReason(reason: string): string {
  const buf = Buffer.from(reason, 'utf8');
  if (buf.length <= MAX_CLOSE_REASON_BYTES) return reason;
  let end = MAX_CLOSE_REASON_BYTES;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
