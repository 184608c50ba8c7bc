/**
 * The portals of one sandbox HubSpot server. Real HubSpot answers every account on one host
 * (`api.hubapi.com`) and tells them apart by the credential: a private-app token belongs to one
 * account, an OAuth token to the account the user chose on the consent page (the token's `hub_id`).
 * A public app installed on several accounts keeps one webhook configuration and one journal for
 * all of them, and each account's events carry its `portalId`
 * (https://developers.hubspot.com/docs/api/webhooks, …/webhooks-journal). So the server routes a
 * request to a portal by what names it — the bearer token, the OAuth code or refresh token, or the
 * portal id in the path (`/oauth/{portalId}/authorize`, the Forms submit URL) — and everything
 * app-level (the developer-key Webhooks API, the journal) and the sandbox controls to the first portal,
 * whose webhook registration and journal the others share.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { urlencoded } from 'express';
import type { Express } from 'express';
import type { PrivateApps } from './auth.ts';
import type { SandboxControl } from './sandbox-control.ts';
import type { SandboxStore } from './store.ts';

/** One HubSpot account in the sandbox server. */
export interface Portal {
  portalId: number;
  /** The private app token of the app's own private app in this portal. */
  privateAppToken: string;
  handler: Express;
  control: SandboxControl;
  store: SandboxStore;
  privateApps: PrivateApps;
  /** Stops its webhook deliveries. */
  close(): void;
}

/** Paths that name their portal: the consent page of an account, a form submission. */
const PORTAL_IN_PATH = [/^\/oauth\/(\d+)\/authorize$/, /^\/submissions\/v3\/integration\/(?:secure\/)?submit\/(\d+)\//];
/** OAuth endpoints whose form body names the portal (its code, refresh token or chosen account). */
const FORM_ROUTED = new Set(['/oauth/v1/token', '/oauth/authorize']);
/** Token metadata endpoints: the token in the path names the portal. */
const TOKEN_IN_PATH = /^\/oauth\/v1\/(access|refresh)-tokens\/([^/]+)$/;

function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1]?.trim();
}

/** The portal a credential of any kind belongs to. */
function ownerOf(portals: Iterable<Portal>, credential: string | undefined): Portal | undefined {
  if (credential === undefined || credential === '') return undefined;
  for (const portal of portals) {
    const { store } = portal;
    if (
      portal.privateApps.appOf(credential) !== undefined ||
      store.accessTokens.has(credential) ||
      store.refreshTokens.has(credential) ||
      store.codes.has(credential)
    )
      return portal;
  }
  return undefined;
}

/** The node request handler of the server: picks the portal, then lets its Express app answer. */
export function portalDispatcher(portals: ReadonlyMap<number, Portal>, primary: Portal) {
  const form = urlencoded({ extended: false });
  return (req: IncomingMessage, res: ServerResponse): void => {
    const answer = (portal: Portal | undefined) => portal ?? primary;
    if (portals.size === 1) {
      primary.handler(req, res);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    for (const pattern of PORTAL_IN_PATH) {
      const match = pattern.exec(path);
      if (match === null) continue;
      answer(portals.get(Number(match[1]))).handler(req, res);
      return;
    }
    const inPath = TOKEN_IN_PATH.exec(path);
    if (inPath !== null) {
      answer(ownerOf(portals.values(), decodeURIComponent(inPath[2] ?? ''))).handler(req, res);
      return;
    }
    if (req.method === 'POST' && FORM_ROUTED.has(path)) {
      // Parsed here once; the portal's own form parser sees a finished body and keeps it.
      form(req, res, () => {
        const body = (req as { body?: Record<string, unknown> }).body ?? {};
        const named = [body.code, body.refresh_token].find((value): value is string => typeof value === 'string');
        const chosen = typeof body.portal_id === 'string' ? portals.get(Number(body.portal_id)) : undefined;
        answer(chosen ?? ownerOf(portals.values(), named)).handler(req, res);
      });
      return;
    }
    answer(ownerOf(portals.values(), bearer(req))).handler(req, res);
  };
}
