/**
 * People of an installation: invitation links (single use, 72 hours, only their hash stored), the
 * users they made, and revocation. The operator invites to any installation; an installation
 * admin to their own. Shared by the dashboard and the API.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import {
  acceptInvitation,
  cancelInvitation,
  createInvitation,
  listUsers,
  pendingInvitations,
  revokeUser,
  type AdminUser,
  type PendingInvitation,
} from '../../store/admin-users.ts';
import { sha256, type AdminIdentity } from './auth.ts';
import type { AdminContext } from './context.ts';

/** How long an invitation link can be accepted. */
export const INVITATION_TTL_MS = 72 * 3600_000;

export const ROLE_LABELS = { installation_admin: 'Installation admin', viewer: 'Viewer' } as const;

/** What an inviter fills in: who the link is for (a label, shown in the people list) and their role. */
export const InvitationInput = z.object({
  name: z.string().trim().min(1, 'say who the invitation is for').max(120),
  role: z.enum(['installation_admin', 'viewer'], 'role must be installation_admin or viewer'),
});

/** Where an invitation link points; the token is in the path and in no log line. */
export function invitationUrl(ctx: AdminContext, token: string): string {
  return `${ctx.publicUrl()}/admin/invitations/${token}`;
}

/** Creates an invitation to an installation; returns it with its link (shown once, never stored). */
export async function inviteToInstallation(
  ctx: AdminContext,
  by: AdminIdentity,
  installationId: string,
  input: z.output<typeof InvitationInput>,
): Promise<{ invitation: PendingInvitation; url: string }> {
  const token = randomBytes(32).toString('base64url');
  const invitation = await createInvitation(ctx.db, {
    tokenHash: sha256(token),
    installationId,
    role: input.role,
    name: input.name,
    invitedBy: by.name,
    expiresAt: new Date(ctx.now() + INVITATION_TTL_MS),
  });
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'user_invited',
    summary: `${by.name} invited ${input.name} as ${ROLE_LABELS[input.role].toLowerCase()}`,
    details: { invitationId: invitation.id, role: input.role },
  });
  ctx.log.info({ installationId, invitationId: invitation.id, role: input.role }, 'invitation created');
  return { invitation, url: invitationUrl(ctx, token) };
}

/** Accepts an invitation link once, making its user; null when the link is unknown, used, cancelled or expired. */
export async function acceptInvitationLink(ctx: AdminContext, token: string): Promise<AdminUser | null> {
  const user = await acceptInvitation(ctx.db, sha256(token), new Date(ctx.now()));
  if (user) {
    await recordAdminAction(ctx.db, {
      installationId: user.installationId,
      action: 'invitation_accepted',
      summary: `${user.name} accepted the invitation (${ROLE_LABELS[user.role].toLowerCase()})`,
      details: { userId: user.id },
    });
    ctx.log.info({ installationId: user.installationId, userId: user.id, role: user.role }, 'invitation accepted');
  }
  return user;
}

/** The users of an installation and its pending invitations. */
export async function peopleOf(
  ctx: AdminContext,
  installationId: string,
): Promise<{ users: AdminUser[]; invitations: PendingInvitation[] }> {
  const [users, invitations] = await Promise.all([
    listUsers(ctx.db, installationId),
    pendingInvitations(ctx.db, installationId, new Date(ctx.now())),
  ]);
  return { users, invitations };
}

/** Revokes a user (their sessions end at once); false when the installation has no such user. */
export async function revokeInstallationUser(
  ctx: AdminContext,
  by: AdminIdentity,
  installationId: string,
  userId: string,
): Promise<boolean> {
  const revoked = await revokeUser(ctx.db, installationId, userId, new Date(ctx.now()));
  if (revoked) {
    await recordAdminAction(ctx.db, { installationId, action: 'user_revoked', summary: `${by.name} revoked a user`, details: { userId } });
    ctx.log.info({ installationId, userId }, 'user revoked');
  }
  return revoked;
}

/** Cancels a pending invitation; false when the installation has no such pending invitation. */
export async function cancelInstallationInvitation(
  ctx: AdminContext,
  by: AdminIdentity,
  installationId: string,
  invitationId: string,
): Promise<boolean> {
  const cancelled = await cancelInvitation(ctx.db, installationId, invitationId, new Date(ctx.now()));
  if (cancelled)
    await recordAdminAction(ctx.db, {
      installationId,
      action: 'invitation_cancelled',
      summary: `${by.name} cancelled an invitation`,
      details: { invitationId },
    });
  return cancelled;
}

/** The JSON shape of a user and of an invitation (no token, no hash). */
export const userJson = (user: AdminUser) => ({
  id: user.id,
  name: user.name,
  role: user.role,
  invitedBy: user.invitedBy,
  createdAt: user.createdAt.toISOString(),
});
export const invitationJson = (invitation: PendingInvitation) => ({
  id: invitation.id,
  name: invitation.name,
  role: invitation.role,
  invitedBy: invitation.invitedBy,
  createdAt: invitation.createdAt.toISOString(),
  expiresAt: invitation.expiresAt.toISOString(),
});
