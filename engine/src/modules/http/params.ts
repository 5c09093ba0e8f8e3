import type { FastifyRequest } from 'fastify';
import { parse } from 'node:querystring';
import { EngineError } from '../../core/errors.js';
import type { Params } from '../../core/querier/params.js';

const MAX_FORM_BYTES = 8 * 1024 * 1024;

/**
 * Query parameters of a GET, or of a POST with an `application/x-www-form-urlencoded` body (Grafana and Loki's
 * clients use both); body fields win over URL fields of the same name.
 */
export async function requestParams(req: FastifyRequest): Promise<Params> {
  const query = (req.query ?? {}) as Params;
  if (req.method !== 'POST') return query;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req.raw as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_FORM_BYTES) throw new EngineError('request_too_large', `request body too large: limit ${MAX_FORM_BYTES} bytes`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return query;
  return { ...query, ...(parse(text) as Params) };
}
