/**
 * People invited to an installation and their invitation links. The link's token is stored only
 * as its SHA-256 (callers pass the hash): a copy of this table accepts no invitation.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from './db.ts';

export type InstallationRole = 'installation_admin' | 'viewer';

export interface AdminUser {
  id: string;
  installationId: string;
  role: InstallationRole;
  name: string;
  invitedBy: string;
  createdAt: Date;
}

/** An invitation not yet accepted: who it is for, like a user, until it expires. */
export interface PendingInvitation extends AdminUser {
  expiresAt: Date;
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

interface UserRow extends Record<string, unknown> {
  id: string;
  installation_id: string;
  role: InstallationRole;
  name: string;
  invited_by: string;
  created_at: Date | string;
}

interface InvitationRow extends UserRow {
  expires_at: Date | string;
}

const userOf = (row: UserRow): AdminUser => ({
  id: row.id,
  installationId: row.installation_id,
  role: row.role,
  name: row.name,
  invitedBy: row.invited_by,
  createdAt: asDate(row.created_at),
});
const invitationOf = (row: InvitationRow): PendingInvitation => ({ ...userOf(row), expiresAt: asDate(row.expires_at) });

/** Stores a new invitation under the hash of its link token; returns it. */
export async function createInvitation(
  db: Queryable,
  input: { tokenHash: string; installationId: string; role: InstallationRole; name: string; invitedBy: string; expiresAt: Date },
): Promise<PendingInvitation> {
  const rows = await db.query<InvitationRow>(
    `INSERT INTO admin_invitations (id, token_hash, installation_id, role, name, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING id, installation_id, role, name, invited_by, created_at, expires_at`,
    [randomUUID(), input.tokenHash, input.installationId, input.role, input.name, input.invitedBy, input.expiresAt],
  );
  const row = rows[0];
  if (!row) throw new Error('invitation was not stored');
  return invitationOf(row);
}

/** The invitation a link token opens, if it is still usable (not accepted, cancelled or expired). */
export async function findUsableInvitation(db: Queryable, tokenHash: string, now: Date): Promise<PendingInvitation | null> {
  const rows = await db.query<InvitationRow>(
    `SELECT id, installation_id, role, name, invited_by, created_at, expires_at FROM admin_invitations
     WHERE token_hash = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2`,
    [tokenHash, now],
  );
  return rows[0] ? invitationOf(rows[0]) : null;
}

/**
 * Accepts an invitation once: marks it used and creates its user, in one transaction, so two
 * concurrent accepts of the same link make one user. Null when the link is not usable.
 */
export async function acceptInvitation(db: Db, tokenHash: string, now: Date): Promise<AdminUser | null> {
  return db.transaction(async (tx) => {
    const taken = await tx.query<InvitationRow>(
      `UPDATE admin_invitations SET accepted_at = $2
       WHERE token_hash = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2
       RETURNING id, installation_id, role, name, invited_by, created_at, expires_at`,
      [tokenHash, now],
    );
    const invitation = taken[0];
    if (!invitation) return null;
    const users = await tx.query<UserRow>(
      `INSERT INTO admin_users (id, installation_id, role, name, invited_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, installation_id, role, name, invited_by, created_at`,
      [randomUUID(), invitation.installation_id, invitation.role, invitation.name, invitation.invited_by, now],
    );
    const user = users[0];
    if (!user) throw new Error('user was not stored');
    await tx.query('UPDATE admin_invitations SET user_id = $2 WHERE id = $1', [invitation.id, user.id]);
    return userOf(user);
  });
}

/** The invitations of an installation still waiting to be accepted, newest first. */
export async function pendingInvitations(db: Queryable, installationId: string, now: Date): Promise<PendingInvitation[]> {
  const rows = await db.query<InvitationRow>(
    `SELECT id, installation_id, role, name, invited_by, created_at, expires_at FROM admin_invitations
     WHERE installation_id = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2 ORDER BY created_at DESC`,
    [installationId, now],
  );
  return rows.map(invitationOf);
}

/** Cancels a pending invitation of an installation; false when there is none with that id. */
export async function cancelInvitation(db: Queryable, installationId: string, invitationId: string, now: Date): Promise<boolean> {
  const rows = await db.query(
    'UPDATE admin_invitations SET cancelled_at = $3 WHERE id = $1 AND installation_id = $2 AND accepted_at IS NULL AND cancelled_at IS NULL RETURNING id',
    [invitationId, installationId, now],
  );
  return rows.length > 0;
}

/** The active (not revoked) users of an installation, oldest first. */
export async function listUsers(db: Queryable, installationId: string): Promise<AdminUser[]> {
  const rows = await db.query<UserRow>(
    'SELECT id, installation_id, role, name, invited_by, created_at FROM admin_users WHERE installation_id = $1 AND revoked_at IS NULL ORDER BY created_at',
    [installationId],
  );
  return rows.map(userOf);
}

/** Revokes a user of an installation and ends their sessions; false when there is no such active user. */
export async function revokeUser(db: Db, installationId: string, userId: string, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query(
      'UPDATE admin_users SET revoked_at = $3 WHERE id = $1 AND installation_id = $2 AND revoked_at IS NULL RETURNING id',
      [userId, installationId, now],
    );
    if (rows.length === 0) return false;
    await tx.query('DELETE FROM admin_sessions WHERE user_id = $1', [userId]);
    return true;
  });
}
