// A real WebSocket client for Loki's tail endpoints (the `ws` package, as Grafana's backend and logcli use a
// WebSocket library): collects every message, and reports the close code and reason.
import WebSocket from 'ws';

export interface TailValue {
  labels: Record<string, string>;
  ts: string;
  line: string;
  extra?: Record<string, unknown>;
}

export class TailClient {
  readonly ws: WebSocket;
  readonly messages: any[] = [];
  /** Resolves once upgraded; rejects with the HTTP status and body when the server refuses the upgrade. */
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(baseUrl: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}?${new URLSearchParams(params)}`, { headers });
    this.ws.on('message', (data) => this.messages.push(JSON.parse(data.toString())));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Every entry received, in arrival order, with the labels of its stream object. */
  values(): TailValue[] {
    const out: TailValue[] = [];
    for (const m of this.messages) {
      for (const s of m.streams ?? []) {
        for (const v of s.values) out.push({ labels: s.stream, ts: v[0], line: v[1], ...(v.length > 2 ? { extra: v[2] } : {}) });
      }
    }
    return out;
  }

  dropped(): Array<{ labels: Record<string, string>; timestamp: string }> {
    return this.messages.flatMap((m) => m.dropped_entries ?? []);
  }

  async waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`tail: condition not met within ${timeoutMs}ms; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    await this.closed;
  }
}

/** Attempts an upgrade that the server must refuse; resolves with the HTTP status and body. */
export async function refusedUpgrade(
  baseUrl: string,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const c = new TailClient(baseUrl, path, params, headers);
  try {
    await c.opened;
  } catch (e) {
    const err = e as { status?: number; body?: string };
    if (err.status !== undefined) return { status: err.status, body: err.body ?? '' };
    throw e;
  }
  await c.close();
  throw new Error('the upgrade was accepted');
}
