/** The Marketing campaigns API v3 of the sandbox portal (rules in campaigns.ts). */
import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { callerOf } from './auth.ts';
import { CAMPAIGNS_READ_SCOPE, CAMPAIGNS_WRITE_SCOPE, tierHasCampaigns, type CampaignBook, type SandboxCampaign } from './campaigns.ts';
import { missingScopes, validationError } from './errors.ts';
import { parseBody, queryInt, queryList, queryString } from './http-kit.ts';

const dateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const createBody = z
  .object({
    properties: z
      .object({
        hs_name: z.string().trim().min(1, 'hs_name is required'),
        hs_start_date: dateText.optional(),
        hs_end_date: dateText.optional(),
      })
      .catchall(z.string()),
  })
  .strict();

const SORTS = new Set(['hs_name', 'createdAt', 'updatedAt']);

function requireScope(book: CampaignBook, scope: string): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(res);
    const granted = caller.kind === 'private-app' || (caller.scopes ?? []).includes(scope);
    if (!tierHasCampaigns(book.tier) || !granted) throw missingScopes(scope);
    next();
  };
}

function view(campaign: SandboxCampaign, wanted: readonly string[]): Record<string, unknown> {
  const properties: Record<string, string> = {};
  for (const name of wanted) {
    const value = campaign.properties[name];
    if (value !== undefined && value !== '') properties[name] = value;
  }
  return {
    id: campaign.id,
    properties,
    createdAt: new Date(campaign.createdAt).toISOString(),
    updatedAt: new Date(campaign.updatedAt).toISOString(),
    businessUnits: [{ id: 0 }],
  };
}

/** The campaigns API routes (mounted behind bearer authentication and the rate limiter). */
export function campaignsRouter(book: CampaignBook, now: () => number): Router {
  const router = Router();
  const list = (req: Request, res: Response): void => {
    const limit = queryInt(req, 'limit', 50, 1, 100);
    const sortText = queryString(req, 'sort') ?? 'hs_name';
    const descending = sortText.startsWith('-');
    const sort = descending ? sortText.slice(1) : sortText;
    if (!SORTS.has(sort))
      throw validationError(`Invalid sort: ${sortText}. Allowed values are hs_name, createdAt, updatedAt`, [
        { message: `invalid sort: ${sortText}`, code: 'INVALID_SORT', in: 'sort' },
      ]);
    const name = queryString(req, 'name')?.toLowerCase();
    const wanted = queryList(req, 'properties') ?? [];
    const after = queryString(req, 'after');
    let offset = 0;
    if (after !== undefined) {
      offset = Number(Buffer.from(after, 'base64url').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0)
        throw validationError(`Invalid after: ${after}`, [{ message: 'invalid cursor', code: 'INVALID_CURSOR', in: 'after' }]);
    }
    const key = (campaign: SandboxCampaign): string | number =>
      sort === 'hs_name'
        ? (campaign.properties.hs_name ?? '').toLowerCase()
        : sort === 'createdAt'
          ? campaign.createdAt
          : campaign.updatedAt;
    const matching = [...book.campaigns.values()]
      .filter((campaign) => name === undefined || (campaign.properties.hs_name ?? '').toLowerCase().includes(name))
      .sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const order = x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id);
        return descending ? -order : order;
      });
    const page = matching.slice(offset, offset + limit);
    const next = offset + limit < matching.length ? Buffer.from(String(offset + limit), 'utf8').toString('base64url') : undefined;
    const path = `${req.baseUrl}${req.path}`;
    res.json({
      total: matching.length,
      results: page.map((campaign) => view(campaign, wanted)),
      ...(next === undefined ? {} : { paging: { next: { after: next, link: `${path}?after=${next}` } } }),
    });
  };
  router.get(['/marketing/v3/campaigns', '/marketing/v3/campaigns/'], requireScope(book, CAMPAIGNS_READ_SCOPE), list);
  router.post(
    ['/marketing/v3/campaigns', '/marketing/v3/campaigns/'],
    requireScope(book, CAMPAIGNS_WRITE_SCOPE),
    (req: Request, res: Response) => {
      const input = parseBody(createBody, req.body);
      const name = input.properties.hs_name.toLowerCase();
      if ([...book.campaigns.values()].some((campaign) => campaign.properties.hs_name?.toLowerCase() === name)) {
        throw validationError(`A campaign with the name ${input.properties.hs_name} already exists`, [
          { message: 'campaign name must be unique', code: 'DUPLICATE_NAME', in: 'hs_name' },
        ]);
      }
      const at = now();
      const campaign: SandboxCampaign = { id: randomUUID(), properties: { ...input.properties }, createdAt: at, updatedAt: at };
      book.campaigns.set(campaign.id, campaign);
      res.status(201).json(view(campaign, Object.keys(campaign.properties)));
    },
  );
  return router;
}
