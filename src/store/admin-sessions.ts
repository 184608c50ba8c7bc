/**
 * Admin sessions, OAuth install states and the admin audit trail. Callers pass hashes, never the
 * session ids or states themselves: what this table holds cannot be replayed as a credential.
 */
import type { Queryable } from './db.ts';

/** Who a session belongs to: the operator (bound to a fingerprint of ADMIN_TOKEN) or an invited user. */
export type SessionOwner = { kind: 'operator'; credential: string } | { kind: 'user'; userId: string };

export interface AdminSession {
  csrfToken: string;
  /** The credential fingerprint the session was created with (operator sessions). */
  credential: string;
  /** The invited user, with their installation and role; null for the operator. */
  user: { id: string; name: string; installationId: string; role: 'installation_admin' | 'viewer' } | null;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  lastSeenAt: Date;
}

interface SessionRow extends Record<string, unknown> {
  csrf_token: string;
  credential: string;
  user_id: string | null;
  user_name: string | null;
  installation_id: string | null;
  role: 'installation_admin' | 'viewer' | null;
  expires_at: Date | string;
  absolute_expires_at: Date | string;
  last_seen_at: Date | string;
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

/** Stores a new session under the hash of its id. */
export async function createAdminSession(
  db: Queryable,
  input: { idHash: string; csrfToken: string; owner: SessionOwner; expiresAt: Date; absoluteExpiresAt: Date },
): Promise<void> {
  const { owner } = input;
  await db.query(
    'INSERT INTO admin_sessions (id_hash, csrf_token, credential, user_id, expires_at, absolute_expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [
      input.idHash,
      input.csrfToken,
      owner.kind === 'operator' ? owner.credential : `user:${owner.userId}`,
      owner.kind === 'user' ? owner.userId : null,
      input.expiresAt,
      input.absoluteExpiresAt,
    ],
  );
}

/**
 * The live session with this id hash, or null when it is unknown, idle for too long, past its
 * absolute lifetime, or belongs to a revoked user.
 */
export async function findAdminSession(db: Queryable, idHash: string, now: Date): Promise<AdminSession | null> {
  const rows = await db.query<SessionRow>(
    `SELECT s.csrf_token, s.credential, s.user_id, u.name AS user_name, u.installation_id, u.role, s.expires_at, s.absolute_expires_at, s.last_seen_at
     FROM admin_sessions s LEFT JOIN admin_users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.absolute_expires_at > $2 AND (s.user_id IS NULL OR u.revoked_at IS NULL)`,
    [idHash, now],
  );
  const row = rows[0];
  if (!row) return null;
  const user =
    row.user_id && row.user_name !== null && row.installation_id && row.role
      ? { id: row.user_id, name: row.user_name, installationId: row.installation_id, role: row.role }
      : null;
  if (row.user_id && !user) return null;
  return {
    csrfToken: row.csrf_token,
    credential: row.credential,
    user,
    expiresAt: asDate(row.expires_at),
    absoluteExpiresAt: asDate(row.absolute_expires_at),
    lastSeenAt: asDate(row.last_seen_at),
  };
}

/** Slides a session's idle expiry forward (never past its absolute lifetime). */
export async function touchAdminSession(db: Queryable, idHash: string, now: Date, expiresAt: Date): Promise<void> {
  await db.query('UPDATE admin_sessions SET last_seen_at = $2, expires_at = LEAST($3, absolute_expires_at) WHERE id_hash = $1', [
    idHash,
    now,
    expiresAt,
  ]);
}

/** Ends a session (sign-out). */
export async function deleteAdminSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('DELETE FROM admin_sessions WHERE id_hash = $1', [idHash]);
}

/** Ends every session of an owner ("sign out everywhere"): all operator sessions, or all of one user. Returns how many. */
export async function deleteSessionsOf(db: Queryable, owner: { kind: 'operator' } | { kind: 'user'; userId: string }): Promise<number> {
  const rows =
    owner.kind === 'operator'
      ? await db.query('DELETE FROM admin_sessions WHERE user_id IS NULL RETURNING id_hash')
      : await db.query('DELETE FROM admin_sessions WHERE user_id = $1 RETURNING id_hash', [owner.userId]);
  return rows.length;
}

/** Removes expired sessions and OAuth states; returns how many rows went. */
export async function pruneAdminState(db: Queryable, now: Date): Promise<number> {
  const sessions = await db.query('DELETE FROM admin_sessions WHERE expires_at <= $1 RETURNING id_hash', [now]);
  const states = await db.query('DELETE FROM oauth_states WHERE expires_at <= $1 RETURNING state_hash', [now]);
  return sessions.length + states.length;
}

export type OAuthProvider = 'hubspot' | 'salesforce';

export interface OAuthState {
  provider: OAuthProvider;
  installationId: string | null;
  browserHash: string;
  /** Sealed PKCE code verifier (Salesforce). */
  codeVerifier: Buffer | null;
  expiresAt: Date;
}

interface StateRow extends Record<string, unknown> {
  provider: OAuthProvider;
  installation_id: string | null;
  browser_hash: string;
  code_verifier: Buffer | Uint8Array | null;
  expires_at: Date | string;
}

/** Records an OAuth flow that was just started. */
export async function createOAuthState(db: Queryable, stateHash: string, state: OAuthState): Promise<void> {
  await db.query(
    'INSERT INTO oauth_states (state_hash, provider, installation_id, browser_hash, code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [stateHash, state.provider, state.installationId, state.browserHash, state.codeVerifier, state.expiresAt],
  );
}

/** Takes (reads and deletes, so it works once) the OAuth state with this hash, if it exists. */
export async function takeOAuthState(db: Queryable, stateHash: string): Promise<OAuthState | null> {
  const rows = await db.query<StateRow>(
    'DELETE FROM oauth_states WHERE state_hash = $1 RETURNING provider, installation_id, browser_hash, code_verifier, expires_at',
    [stateHash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    provider: row.provider,
    installationId: row.installation_id,
    browserHash: row.browser_hash,
    codeVerifier: row.code_verifier ? Buffer.from(row.code_verifier) : null,
    expiresAt: asDate(row.expires_at),
  };
}

export interface AdminAction {
  installationId: string | null;
  action: string;
  summary: string;
  details?: Record<string, unknown>;
}

export interface AdminActionRecord extends AdminAction {
  at: Date;
}

/** Appends an entry to the admin audit trail. */
export async function recordAdminAction(db: Queryable, entry: AdminAction): Promise<void> {
  // An installation id that no longer exists is recorded as none rather than refused.
  await db.query(
    'INSERT INTO admin_audit (installation_id, action, summary, details) VALUES ((SELECT id FROM installations WHERE id = $1), $2, $3, $4::jsonb)',
    [entry.installationId, entry.action, entry.summary, JSON.stringify(entry.details ?? {})],
  );
}

/** The latest admin actions of an installation (or of all when null), newest first. */
export async function recentAdminActions(db: Queryable, installationId: string | null, limit = 20): Promise<AdminActionRecord[]> {
  const rows = await db.query<{
    installation_id: string | null;
    action: string;
    summary: string;
    details: Record<string, unknown>;
    created_at: Date | string;
  }>(
    `SELECT installation_id, action, summary, details, created_at FROM admin_audit
     WHERE ($1::text IS NULL OR installation_id = $1) ORDER BY id DESC LIMIT $2`,
    [installationId, limit],
  );
  return rows.map((row) => ({
    installationId: row.installation_id,
    action: row.action,
    summary: row.summary,
    details: row.details,
    at: asDate(row.created_at),
  }));
}
