/**
 * HubSpot owners of the sandbox portal (CRM API | Owners, developers.hubspot.com/docs/api-reference/
 * crm-crm-owners-v3/guide): read-only, needs `crm.objects.owners.read`.
 *
 * - `GET /crm/v3/owners`: query `email` (exact), `after` (cursor), `limit` (1–500, default 100),
 *   `archived` (`true` lists the archived owners only; default the active ones). Answer
 *   `{ results, paging? }`; each owner `{ id, email, type: "PERSON", firstName, lastName, userId,
 *   userIdIncludingInactive, createdAt, updatedAt, archived, teams? }`. `id` is what records'
 *   `hubspot_owner_id` holds; `userId` is the user's id (null once deactivated, when only
 *   `userIdIncludingInactive` keeps it).
 * - `GET /crm/v3/owners/{ownerId}`: query `idProperty` (`id` | `userId`), `archived`; 404 when absent.
 *
 * The portal's owners are fixed seed data: the sales team of the sandbox org (same emails as its
 * users, one of whom is inactive there), a marketer with no Salesforce user, and an archived owner
 * whose email still matches an active Salesforce user. They survive resets.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { callerOf } from './auth.ts';
import { HubSpotError, errorBody, objectNotFound, validationError } from './errors.ts';
import { queryInt, queryString } from './http-kit.ts';

export const OWNERS_READ_SCOPE = 'crm.objects.owners.read';

export interface SandboxOwner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  archived: boolean;
  teams: { id: string; name: string; primary: boolean }[];
}

const marketing = [{ id: '7100001', name: 'Marketing', primary: true }];
const sales = [{ id: '7100002', name: 'Sales', primary: true }];

/** The portal's owners (emails written in mixed case on purpose: HubSpot keeps them as typed). */
export const SANDBOX_OWNERS: readonly SandboxOwner[] = [
  {
    id: '9000001',
    email: 'Alex.Rivera@sandbox.example.com',
    firstName: 'Alex',
    lastName: 'Rivera',
    userId: 3_000_101,
    archived: false,
    teams: sales,
  },
  {
    id: '9000002',
    email: 'jordan.kim@sandbox.example.com',
    firstName: 'Jordan',
    lastName: 'Kim',
    userId: 3_000_102,
    archived: false,
    teams: sales,
  },
  {
    id: '9000003',
    email: 'taylor.brooks@sandbox.example.com',
    firstName: 'Taylor',
    lastName: 'Brooks',
    userId: 3_000_103,
    archived: false,
    teams: sales,
  },
  // Active in HubSpot, inactive in the Salesforce org.
  {
    id: '9000004',
    email: 'casey.nguyen@sandbox.example.com',
    firstName: 'Casey',
    lastName: 'Nguyen',
    userId: 3_000_104,
    archived: false,
    teams: sales,
  },
  // No Salesforce user has this email.
  {
    id: '9000005',
    email: 'robin.hale@sandbox.example.com',
    firstName: 'Robin',
    lastName: 'Hale',
    userId: 3_000_105,
    archived: false,
    teams: marketing,
  },
  // Deactivated in HubSpot; an active Salesforce user still has the email.
  {
    id: '9000006',
    email: 'morgan.lee@sandbox.example.com',
    firstName: 'Morgan',
    lastName: 'Lee',
    userId: 3_000_106,
    archived: true,
    teams: [],
  },
];

const SEEDED_AT = '2026-01-05T09:00:00.000Z';

function view(owner: SandboxOwner): Record<string, unknown> {
  return {
    id: owner.id,
    email: owner.email,
    type: 'PERSON',
    firstName: owner.firstName,
    lastName: owner.lastName,
    ...(owner.archived ? {} : { userId: owner.userId }),
    userIdIncludingInactive: owner.userId,
    createdAt: SEEDED_AT,
    updatedAt: SEEDED_AT,
    archived: owner.archived,
    ...(owner.teams.length > 0 ? { teams: owner.teams } : {}),
  };
}

function requireOwnersScope(_req: Request, res: Response, next: NextFunction): void {
  const caller = callerOf(res);
  if (caller.kind !== 'private-app' && !(caller.scopes ?? []).includes(OWNERS_READ_SCOPE)) {
    throw new HubSpotError(
      403,
      errorBody(
        'MISSING_SCOPES',
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        {
          errors: [
            { message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [OWNERS_READ_SCOPE] } },
          ],
          links: { scopes: 'https://developers.hubspot.com/scopes' },
        },
      ),
    );
  }
  next();
}

/** The owners API routes (mounted behind bearer authentication and the rate limiter). */
export function ownersRouter(owners: () => readonly SandboxOwner[]): Router {
  const router = Router();
  router.get('/crm/v3/owners', requireOwnersScope, (req: Request, res: Response) => {
    const limit = queryInt(req, 'limit', 100, 1, 500);
    const archived = queryString(req, 'archived')?.toLowerCase() === 'true';
    const email = queryString(req, 'email')?.toLowerCase();
    const after = queryString(req, 'after');
    const offset = after === undefined ? 0 : Number(Buffer.from(after, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0)
      throw validationError(`Invalid after: ${after ?? ''}`, [{ message: 'invalid cursor', code: 'INVALID_CURSOR', in: 'after' }]);
    const matching = owners().filter(
      (owner) => owner.archived === archived && (email === undefined || owner.email.toLowerCase() === email),
    );
    const page = matching.slice(offset, offset + limit);
    const next = offset + limit < matching.length ? Buffer.from(String(offset + limit), 'utf8').toString('base64url') : undefined;
    res.json({
      results: page.map(view),
      ...(next === undefined ? {} : { paging: { next: { after: next, link: `${req.baseUrl}${req.path}?after=${next}` } } }),
    });
  });
  router.get('/crm/v3/owners/:ownerId', requireOwnersScope, (req: Request, res: Response) => {
    const key = String(req.params.ownerId);
    const byUser = queryString(req, 'idProperty') === 'userId';
    const archived = queryString(req, 'archived')?.toLowerCase() === 'true';
    const owner = owners().find(
      (candidate) => candidate.archived === archived && (byUser ? String(candidate.userId) === key : candidate.id === key),
    );
    if (owner === undefined) throw objectNotFound(key);
    res.json(view(owner));
  });
  return router;
}
