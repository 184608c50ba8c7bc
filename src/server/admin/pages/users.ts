/** `/admin/installations/:id/users`: who may use this installation, the invitation form, revocation. */
import type { AdminUser, PendingInvitation } from '../../../store/admin-users.ts';
import { csrfField, postButton } from '../components.ts';
import { formatTime, html, type Html } from '../html.ts';
import { ROLE_LABELS } from '../users.ts';

export interface UsersPageData {
  installationId: string;
  users: AdminUser[];
  invitations: PendingInvitation[];
  csrfToken: string;
  /** The link just created (shown once: it is stored only hashed). */
  created?: { name: string; url: string; expiresAt: Date };
  /** Problems of a refused invitation form, with what was typed. */
  refused?: { issues: string[]; name: string };
}

/** Renders the people page body. */
export function usersBody(data: UsersPageData): Html {
  const base = `/admin/installations/${encodeURIComponent(data.installationId)}`;
  return html`
  ${
    data.created
      ? html`<section class="card" id="invitation-link">
      <h2>Invitation link for ${data.created.name}</h2>
      <p>Send this link to them. It works once, until ${formatTime(data.created.expiresAt)}, and is shown only now.</p>
      <p><input class="mono" type="text" readonly value="${data.created.url}" aria-label="Invitation link"></p>
    </section>`
      : ''
  }
  <section class="card">
    <h2>People</h2>
    <p class="muted">Installation admins manage this installation (settings, connections, sync controls, people). Viewers read its funnel report and change nothing. The operator's token (ADMIN_TOKEN) administers every installation and is not listed.</p>
    ${
      data.users.length === 0
        ? html`<p class="empty">Nobody is invited yet.</p>`
        : html`<table class="data">
      <thead><tr><th>Name</th><th>Role</th><th>Invited by</th><th>Since</th><th></th></tr></thead>
      <tbody>${data.users.map(
        (user) => html`<tr>
          <td>${user.name}</td><td>${ROLE_LABELS[user.role]}</td><td>${user.invitedBy}</td><td>${formatTime(user.createdAt)}</td>
          <td class="actions">${postButton({ action: `${base}/users/${encodeURIComponent(user.id)}/revoke`, csrfToken: data.csrfToken, label: 'Revoke', kind: 'danger', confirm: `Revoke ${user.name}? Their sessions end at once.` })}</td>
        </tr>`,
      )}</tbody>
    </table>`
    }
  </section>
  <section class="card">
    <h2>Pending invitations</h2>
    ${
      data.invitations.length === 0
        ? html`<p class="empty">No invitation is waiting.</p>`
        : html`<table class="data">
      <thead><tr><th>For</th><th>Role</th><th>Invited by</th><th>Expires</th><th></th></tr></thead>
      <tbody>${data.invitations.map(
        (invitation) => html`<tr>
          <td>${invitation.name}</td><td>${ROLE_LABELS[invitation.role]}</td><td>${invitation.invitedBy}</td><td>${formatTime(invitation.expiresAt)}</td>
          <td class="actions">${postButton({ action: `${base}/invitations/${encodeURIComponent(invitation.id)}/cancel`, csrfToken: data.csrfToken, label: 'Cancel' })}</td>
        </tr>`,
      )}</tbody>
    </table>`
    }
  </section>
  <section class="card">
    <h2>Invite someone</h2>
    ${data.refused ? html`<div class="notice error" role="alert">${data.refused.issues.join('; ')}</div>` : ''}
    <form method="post" action="${base}/invitations" class="stack">
      ${csrfField(data.csrfToken)}
      <label for="invite-name">Who it is for</label>
      <input id="invite-name" name="name" type="text" maxlength="120" required value="${data.refused?.name ?? ''}" placeholder="Dana Reyes, sales lead">
      <label for="invite-role">Role</label>
      <select id="invite-role" name="role">
        <option value="viewer">${ROLE_LABELS.viewer}: reads the report</option>
        <option value="installation_admin">${ROLE_LABELS.installation_admin}: manages this installation</option>
      </select>
      <button type="submit" class="primary">Create the invitation link</button>
    </form>
    <p class="muted small">The link works once and expires after 72 hours. Whoever opens it and accepts signs in as that person; send it privately.</p>
  </section>`;
}
