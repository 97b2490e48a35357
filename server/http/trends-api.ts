/**
 * Trend routes: per-minute aggregates over 1 h / 24 h / 7 d / 30 d (server/store/trends.ts,
 * read through the read model). Parameters are checked here; a bad one is a 400 that says what
 * is accepted.
 *
 * Mount before apiRouter: it ends with a catch-all 404 for /api.
 */
import express, { type Router } from 'express';
import { RequestError } from '../errors';
import type { HistoryQueries } from '../views/read-model';
import { TREND_RANGES, type TrendRange } from '../views/trend-types';
import type { TrendsRequest } from '../views/trends-view';
import { param, type Query } from './params';

const KNOWN = new Set(['range', 'name', 'queue']);

function rangeParam(query: Query): TrendRange {
  const raw = param(query, 'range');
  if (raw === undefined || raw === '') return '24h';
  if ((TREND_RANGES as readonly string[]).includes(raw)) return raw as TrendRange;
  throw new RequestError(400, `Invalid value for 'range': ${JSON.stringify(raw)} (one of ${TREND_RANGES.join(', ')})`);
}

function nameParam(query: Query, name: string): string | null {
  const raw = param(query, name);
  if (raw === undefined || raw === '') return null;
  if (raw.length > 500) throw new RequestError(400, `Invalid value for '${name}': longer than 500 characters`);
  return raw;
}

/** `range` (default 24h), `name` and `queue` of the trend routes; anything else is refused. */
export function parseTrendsRequest(query: Query): TrendsRequest {
  for (const key of Object.keys(query)) {
    if (!KNOWN.has(key)) throw new RequestError(400, `Unknown parameter '${key}' (the trend routes take range, name and queue)`);
  }
  return { range: rangeParam(query), name: nameParam(query, 'name'), queue: nameParam(query, 'queue') };
}

export function trendsRouter(read: Pick<HistoryQueries, 'trends' | 'queueHistory'>): Router {
  const router = express.Router();

  router.get('/api/celeriac/trends', async (req, res) => {
    const request = parseTrendsRequest(req.query as Query);
    res.set('Cache-Control', 'no-store');
    res.json(await read.trends(request));
  });

  router.get('/api/celeriac/queues/history', async (req, res) => {
    const { range, queue, name } = parseTrendsRequest(req.query as Query);
    if (name !== null) throw new RequestError(400, "Unknown parameter 'name' (queue history takes range and queue)");
    res.set('Cache-Control', 'no-store');
    res.json(await read.queueHistory({ range, queue }));
  });

  return router;
}
