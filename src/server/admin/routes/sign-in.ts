/** Signing in and out of the dashboard: the admin token form, sign-out, and invitation links. */
import type express from 'express';
import { z } from 'zod';
import { getInstallationDetails } from '../../../store/installation-admin.ts';
import { findUsableInvitation } from '../../../store/admin-users.ts';
import { access } from '../access.ts';
import { clientAddress, identityOf, sha256 } from '../auth.ts';
import { invitationPage, loginPage } from '../layout.ts';
import { acceptInvitationLink, ROLE_LABELS } from '../users.ts';
import type { Pages } from './pages.ts';

const loginForm = z.object({ token: z.string().max(1_000).default(''), next: z.string().max(2_000).optional() });
const invitationParam = z.object({
  token: z
    .string()
    .min(20)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
});

const INVALID_INVITATION =
  'This invitation link does not work: it was already used, cancelled or has expired. Ask whoever invited you for a new one.';

/** Only same-app paths are followed after sign-in (no open redirect). */
function safeNext(next: string | undefined): string {
  return next && /^\/(admin|oauth)(\/|\?|$)/.test(next) && !next.startsWith('//') ? next : '/admin';
}

/** `/login`, `/logout`, `/sign-out-everywhere`; `smallForm` reads the public form before any credential. */
export function signInRoutes({ ctx, r }: Pages, smallForm: express.RequestHandler): void {
  r.get('/login', access.anyone, async (req, res) => {
    const next = safeNext(typeof req.query.next === 'string' ? req.query.next : undefined);
    // A cookie session only: a bearer here would be a token presentation to count, not a visit.
    if (!req.headers.authorization && (await ctx.auth.identify(req)).kind === 'signed-in') return res.redirect(303, next);
    res.type('html').send(loginPage({ next }));
  });

  r.post('/login', access.anyone, smallForm, async (req, res) => {
    const parsed = loginForm.safeParse(req.body);
    const next = safeNext(parsed.success ? parsed.data.next : undefined);
    const check = await ctx.auth.checkToken(clientAddress(req), parsed.success ? parsed.data.token : '', 'form');
    if (check.kind === 'locked') {
      res
        .status(429)
        .set('Retry-After', String(check.retryAfterSeconds))
        .type('html')
        .send(
          loginPage({
            next,
            error: `Too many wrong tokens from this address: try again in ${Math.ceil(check.retryAfterSeconds / 60)} minute(s).`,
          }),
        );
      return;
    }
    if (check.kind === 'refused') {
      res
        .status(401)
        .type('html')
        .send(loginPage({ next, error: 'That is not the admin token.' }));
      return;
    }
    await ctx.auth.signIn(res, { kind: 'operator' });
    res.redirect(303, next);
  });

  r.post('/logout', access.signedIn, async (req, res) => {
    await ctx.auth.signOut(req, res);
    res.redirect(303, '/admin/login');
  });

  r.post('/sign-out-everywhere', access.signedIn, async (_req, res) => {
    await ctx.auth.signOutEverywhere(identityOf(res), res);
    res.redirect(303, '/admin/login');
  });
}

/** An invitation link: GET shows it (link previews and scanners may open it), POST accepts it once. */
export function invitationLinkRoutes({ ctx, r }: Pages): void {
  r.get('/invitations/:token', access.anyone, async (req, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    const params = invitationParam.safeParse(req.params);
    const invitation = params.success ? await findUsableInvitation(ctx.db, sha256(params.data.token), new Date(ctx.now())) : null;
    const installation = invitation ? await getInstallationDetails(ctx.db, invitation.installationId) : null;
    if (!params.success || !invitation || !installation) {
      res
        .status(404)
        .type('html')
        .send(invitationPage({ error: INVALID_INVITATION }));
      return;
    }
    res.type('html').send(
      invitationPage({
        token: params.data.token,
        installationName: installation.name,
        role: ROLE_LABELS[invitation.role].toLowerCase(),
        name: invitation.name,
      }),
    );
  });

  r.post('/invitations/:token', access.anyone, async (req, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    const address = clientAddress(req);
    const wait = await ctx.auth.lockedFor(address);
    if (wait > 0) {
      res
        .status(429)
        .set('Retry-After', String(wait))
        .type('html')
        .send(
          invitationPage({
            error: `Too many unknown links or wrong tokens from this address: try again in ${Math.ceil(wait / 60)} minute(s).`,
          }),
        );
      return;
    }
    const params = invitationParam.safeParse(req.params);
    const user = params.success ? await acceptInvitationLink(ctx, params.data.token) : null;
    if (!user) {
      await ctx.auth.recordFailure(address, 'invitation');
      res
        .status(404)
        .type('html')
        .send(invitationPage({ error: INVALID_INVITATION }));
      return;
    }
    await ctx.auth.signIn(res, { kind: 'user', userId: user.id });
    res.redirect(
      303,
      user.role === 'viewer'
        ? `/admin/report?installation=${encodeURIComponent(user.installationId)}`
        : `/admin/installations/${encodeURIComponent(user.installationId)}`,
    );
  });
}
