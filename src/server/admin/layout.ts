/** The page frame of the dashboard: head, top navigation, installation tabs, notices. */
import { html, type Html } from './html.ts';

export type Section = 'overview' | 'installation' | 'settings' | 'health' | 'report' | 'review' | 'queues' | 'users';

export interface LayoutInput {
  title: string;
  section: Section;
  csrfToken: string;
  /** Who is signed in: the navigation shows only what their role reaches. */
  who: { role: 'operator' | 'installation_admin' | 'viewer'; name: string };
  body: Html;
  /** Shown as tabs under the header when the page belongs to one installation. */
  installation?: { id: string; name: string; status: string } | undefined;
  notice?: { kind: 'ok' | 'error'; text: string } | undefined;
  /** Extra scripts under /admin/static (vendor files included). */
  scripts?: readonly string[];
}

const tab = (href: string, label: string, active: boolean): Html =>
  html`<a href="${href}" class="${active ? 'tab active' : 'tab'}"${active ? html` aria-current="page"` : ''}>${label}</a>`;

/** Renders a full dashboard page. */
export function layout(input: LayoutInput): string {
  const { installation, section, who } = input;
  const base = installation ? `/admin/installations/${encodeURIComponent(installation.id)}` : '';
  const manages = who.role !== 'viewer';
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="csrf-token" content="${input.csrfToken}">
  <title>${input.title} · Smarketing Sync</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/admin/static/admin.css">
</head>
<body>
  <header class="topbar">
    <a class="brand" href="/admin"><span class="logo" aria-hidden="true">◆</span> Smarketing Sync</a>
    <nav class="mainnav" aria-label="Main">
      <a href="/admin" class="${section === 'overview' ? 'active' : ''}">Installations</a>
      <a href="/admin/report" class="${section === 'report' && !installation ? 'active' : ''}">Funnel report</a>
      <a href="/admin/review" class="${section === 'review' && !installation ? 'active' : ''}">Pipeline review</a>
      ${who.role === 'operator' ? html`<a href="/admin/queues" class="${section === 'queues' ? 'active' : ''}">Queues</a>` : ''}
    </nav>
    <span class="muted small">${who.role === 'operator' ? 'Operator' : who.name}</span>
    <form method="post" action="/admin/logout" class="signout">
      <input type="hidden" name="_csrf" value="${input.csrfToken}">
      <button type="submit" class="link">Sign out</button>
    </form>
    <form method="post" action="/admin/sign-out-everywhere" class="signout" data-confirm="End every session of yours, on every device?">
      <input type="hidden" name="_csrf" value="${input.csrfToken}">
      <button type="submit" class="link">Sign out everywhere</button>
    </form>
  </header>
  <main>
    ${
      installation
        ? html`<div class="page-head">
      <div>
        <p class="crumbs"><a href="/admin">Installations</a> /</p>
        <h1>${installation.name} <span class="badge ${installation.status === 'active' ? 'ok' : 'muted'}">${installation.status}</span></h1>
      </div>
    </div>
    <nav class="tabs" aria-label="Installation">
      ${manages ? tab(base, 'Connections & install', section === 'installation') : ''}
      ${manages ? tab(`${base}/settings`, 'Settings', section === 'settings') : ''}
      ${manages ? tab(`${base}/health`, 'Sync health', section === 'health') : ''}
      ${tab(`/admin/report?installation=${encodeURIComponent(installation.id)}`, 'Funnel report', section === 'report')}
      ${tab(`/admin/review?installation=${encodeURIComponent(installation.id)}`, 'Pipeline review', section === 'review')}
      ${manages ? tab(`${base}/users`, 'People', section === 'users') : ''}
    </nav>`
        : html`<div class="page-head"><h1>${input.title}</h1></div>`
    }
    ${input.notice ? html`<div class="notice ${input.notice.kind}" role="status">${input.notice.text}</div>` : ''}
    ${input.body}
  </main>
  <script src="/admin/static/admin.js"></script>
  ${(input.scripts ?? []).map((src) => html`<script src="/admin/static/${src}"></script>`)}
</body>
</html>`.value;
}

/**
 * A small page outside the dashboard (sign-in, invitation, OAuth result): no navigation, no
 * session needed. `head` adds elements to the head (a refresh).
 */
export function cardPage(input: { title: string; body: Html; head?: Html }): string {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  ${input.head ?? ''}
  <title>${input.title} · Smarketing Sync</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/admin/static/admin.css">
</head>
<body class="login">
  <main class="login-card">
    <p class="brand"><span class="logo" aria-hidden="true">◆</span> Smarketing Sync</p>
    ${input.body}
  </main>
</body>
</html>`.value;
}

/** The sign-in page (no navigation, no session yet). */
export function loginPage(input: { next: string; error?: string | undefined }): string {
  return cardPage({
    title: 'Sign in',
    body: html`<h1>Admin sign-in</h1>
    <p class="muted">Enter the deployment's admin token (ADMIN_TOKEN). In sandbox mode it was generated into DATA_DIR/secrets/admin-token.</p>
    ${input.error ? html`<div class="notice error" role="alert">${input.error}</div>` : ''}
    <form method="post" action="/admin/login">
      <input type="hidden" name="next" value="${input.next}">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
      <button type="submit" class="primary">Sign in</button>
    </form>`,
  });
}

/** The page an invitation link opens: who invites whom to what, and one button to accept. */
export function invitationPage(input: { token: string; installationName: string; role: string; name: string } | { error: string }): string {
  return cardPage({
    title: 'Invitation',
    body: html`<h1>Invitation</h1>
    ${
      'error' in input
        ? html`<div class="notice error" role="alert">${input.error}</div>`
        : html`<p>This link invites <strong>${input.name}</strong> to <strong>${input.installationName}</strong> as <strong>${input.role}</strong>.</p>
    <p class="muted">Accepting signs you in on this browser. The link then stops working.</p>
    <form method="post" action="/admin/invitations/${input.token}">
      <button type="submit" class="primary">Accept and sign in</button>
    </form>`
    }`,
  });
}
