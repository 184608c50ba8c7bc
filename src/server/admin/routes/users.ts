/** The people of an installation: who may sign in, pending invitations, inviting, cancelling and revoking. */
import type { Response } from 'express';
import type { InstallationDetails } from '../../../store/installation-admin.ts';
import { access } from '../access.ts';
import { identityOf } from '../auth.ts';
import type { AdminContext } from '../context.ts';
import { usersBody, type UsersPageData } from '../pages/users.ts';
import { cancelInstallationInvitation, InvitationInput, inviteToInstallation, peopleOf, revokeInstallationUser } from '../users.ts';
import { basePath, noticeOf, render, tabInfo, type Pages } from './pages.ts';

/** The people page, with the invitation just created or the refused one when there is one. */
async function usersPage(
  ctx: AdminContext,
  res: Response,
  installation: InstallationDetails,
  extra: Pick<UsersPageData, 'created' | 'refused'> = {},
  status = 200,
): Promise<void> {
  const people = await peopleOf(ctx, installation.id);
  render(
    res,
    {
      title: 'People',
      section: 'users',
      installation: tabInfo(installation),
      notice: extra.created || extra.refused ? undefined : noticeOf(res.req),
      body: usersBody({ installationId: installation.id, ...people, csrfToken: identityOf(res).csrfToken, ...extra }),
    },
    status,
  );
}

/** `/installations/:id/users` and the invitation and revoke forms it posts. */
export function userRoutes({ ctx, r, withInstallation }: Pages): void {
  r.get(
    '/installations/:id/users',
    access.manageInstallation,
    withInstallation((_req, res, installation) => usersPage(ctx, res, installation)),
  );

  r.post(
    '/installations/:id/invitations',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const parsed = InvitationInput.safeParse(req.body);
      if (!parsed.success) {
        const typed = (req.body as { name?: unknown } | undefined)?.name;
        return usersPage(
          ctx,
          res,
          installation,
          { refused: { issues: parsed.error.issues.map((i) => i.message), name: typeof typed === 'string' ? typed : '' } },
          422,
        );
      }
      const { invitation, url } = await inviteToInstallation(ctx, identityOf(res), installation.id, parsed.data);
      await usersPage(ctx, res, installation, { created: { name: invitation.name, url, expiresAt: invitation.expiresAt } });
    }),
  );

  r.post(
    '/installations/:id/invitations/:invitationId/cancel',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const cancelled = await cancelInstallationInvitation(ctx, identityOf(res), installation.id, String(req.params.invitationId));
      res.redirect(303, `${basePath(installation)}/users?notice=${cancelled ? 'invitation_cancelled' : 'user_missing'}`);
    }),
  );

  r.post(
    '/installations/:id/users/:userId/revoke',
    access.manageInstallation,
    withInstallation(async (req, res, installation) => {
      const revoked = await revokeInstallationUser(ctx, identityOf(res), installation.id, String(req.params.userId));
      res.redirect(303, `${basePath(installation)}/users?notice=${revoked ? 'user_revoked' : 'user_missing'}`);
    }),
  );
}
