/**
 * The subscription preferences API's "unsubscribe from all email", as HubSpot documents it:
 * `POST /communication-preferences/2026-03/statuses/{subscriberIdString}/unsubscribe-all?channel=EMAIL`
 * (scope `subscriptions-status-write`) and the same call under v4 (scope
 * `communication_preferences.write` or `.read_write`), plus the matching GET. Sources:
 * https://developers.hubspot.com/docs/api-reference/2026-03/communication-preferences/guide and
 * https://developers.hubspot.com/docs/api-reference/communication-preferences-subscriptions-v4/guide.
 *
 * - The status belongs to the email address, not to a contact: an address with no contact can be
 *   unsubscribed, and a contact with it shows it (legacy "update email subscription status" docs:
 *   "The subscription status is tied to the email address, and not a specific contact record").
 * - The contact's `hs_email_optout` ("Unsubscribed from all email") is calculated from it: read-only
 *   through the CRM API (a write answers READ_ONLY_VALUE, property-values.ts), changed here, and its
 *   change is a propertyChange event with the caller as its source.
 * - Unsubscribing an address already unsubscribed is not an error: the answer says nothing changed.
 * - There is no resubscribe here: v3's subscribe refuses an opted-out address, and only the person
 *   (preferences page) brings one back.
 */
import { Router } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { callerOf, originOf } from './auth.ts';
import type { CrmService } from './crm-service.ts';
import { HubSpotError, errorBody, resourceNotFound, validationError } from './errors.ts';
import { param, queryString } from './http-kit.ts';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** The portal's default email subscription types (every portal has these two). */
const SUBSCRIPTION_TYPES = [
  { id: 1, name: 'Marketing Information' },
  { id: 2, name: 'One to One' },
] as const;

const SCOPES: Readonly<Record<string, readonly string[]>> = {
  '2026-03': ['subscriptions-status-write'],
  v4: ['communication_preferences.write', 'communication_preferences.read_write'],
};
const READ_SCOPES: Readonly<Record<string, readonly string[]>> = {
  '2026-03': ['subscriptions-status-read', 'subscriptions-status-write'],
  v4: ['communication_preferences.read', 'communication_preferences.read_write'],
};

function requireOneOf(scopes: Readonly<Record<string, readonly string[]>>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const wanted = scopes[param(req, 'version')];
    if (wanted === undefined) throw resourceNotFound(`No route for ${req.method} ${req.path}`);
    const caller = callerOf(res);
    if (caller.kind === 'private-app' || wanted.some((scope) => (caller.scopes ?? []).includes(scope))) {
      next();
      return;
    }
    throw new HubSpotError(
      403,
      errorBody(
        'MISSING_SCOPES',
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        {
          errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [...wanted] } }],
        },
      ),
    );
  };
}

function subscriberOf(req: Request): string {
  if (queryString(req, 'channel') !== 'EMAIL')
    throw validationError('channel must be EMAIL', [
      { message: 'channel is required and must be EMAIL', code: 'INVALID_ENUM', in: 'channel' },
    ]);
  const email = param(req, 'subscriberIdString').trim().toLowerCase();
  if (!EMAIL.test(email))
    throw validationError(`${email} is not a valid email address`, [
      { message: 'invalid email address', code: 'INVALID_EMAIL', in: 'subscriberIdString' },
    ]);
  return email;
}

/** The routes, mounted behind bearer authentication and the rate limiter. */
export function communicationPreferencesRouter(crm: CrmService, now: () => number): Router {
  const router = Router();
  /** Unsubscribed addresses with the time they were unsubscribed (the portal's wide status). */
  const unsubscribed = new Map<string, number>();
  const optedOutAt = (email: string): number | undefined => {
    const known = unsubscribed.get(email);
    if (known !== undefined) return known;
    const contact = crm.find('contacts', email, { idProperty: 'email' });
    return contact?.properties.hs_email_optout === 'true' ? contact.updatedAt : undefined;
  };
  const path = '/communication-preferences/:version/statuses/:subscriberIdString/unsubscribe-all';
  router.post(path, requireOneOf(SCOPES), (req: Request, res: Response) => {
    const email = subscriberOf(req);
    const started = new Date(now()).toISOString();
    const already = optedOutAt(email) !== undefined;
    const at = already ? (optedOutAt(email) ?? now()) : now();
    if (!already) {
      unsubscribed.set(email, at);
      const contact = crm.find('contacts', email, { idProperty: 'email' });
      if (contact !== undefined) crm.writeCalculated('contacts', contact, new Map([['hs_email_optout', 'true']]), originOf(res));
    }
    res.json({
      status: 'COMPLETE',
      results: SUBSCRIPTION_TYPES.map((type) => ({
        channel: 'EMAIL',
        status: 'NOT_SUBSCRIBED',
        subscriberIdString: email,
        subscriptionId: type.id,
        subscriptionName: type.name,
        source: 'Public API',
        timestamp: new Date(at).toISOString(),
        ...(already ? { setStatusSuccessReason: 'NO_STATUS_CHANGE' } : {}),
      })),
      requestedAt: started,
      startedAt: started,
      completedAt: new Date(now()).toISOString(),
    });
  });
  router.get(path, requireOneOf(READ_SCOPES), (req: Request, res: Response) => {
    const email = subscriberOf(req);
    const at = optedOutAt(email);
    const stamp = new Date(now()).toISOString();
    res.json({
      status: 'COMPLETE',
      results:
        at === undefined
          ? []
          : [
              {
                channel: 'EMAIL',
                status: 'NOT_SUBSCRIBED',
                subscriberIdString: email,
                timestamp: new Date(at).toISOString(),
                wideStatusType: 'PORTAL_WIDE',
              },
            ],
      requestedAt: stamp,
      startedAt: stamp,
      completedAt: stamp,
    });
  });
  return router;
}
