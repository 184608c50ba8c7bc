/** An HTTP client of the admin that signs in like a browser (cookie jar, CSRF token from the page), and the OAuth install it drives. No test runner needed: the benchmarks use it too. */
/** A browser-like client: keeps cookies per path, reads the CSRF token from pages. */
export class AdminClient {
  private readonly cookies = new Map<string, { value: string; path: string }>();
  csrfToken = '';

  constructor(readonly baseUrl: string) {}

  /** The Cookie header for a path. */
  cookieHeader(pathname: string): string {
    return [...this.cookies]
      .filter(([, c]) => pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  /** The raw value of a cookie (tests compare it with what is stored and logged). */
  cookie(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  private keep(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const index = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, index).trim();
      const value = (pair ?? '').slice(index + 1).trim();
      const cookiePath =
        attributes
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const expired = attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a.trim())) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path: cookiePath });
    }
  }

  /** One request without following redirects. */
  async request(method: string, target: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(target, this.baseUrl);
    const cookie = url.origin === new URL(this.baseUrl).origin ? this.cookieHeader(url.pathname) : '';
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(init.headers ?? {}) },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    if (url.origin === new URL(this.baseUrl).origin) this.keep(response);
    return response;
  }

  /** GET a page and remember its CSRF token. */
  async page(target: string): Promise<{ status: number; html: string }> {
    const response = await this.request('GET', target);
    const html = await response.text();
    const token = /<meta name="csrf-token" content="([^"]*)">/.exec(html)?.[1];
    if (token) this.csrfToken = token;
    return { status: response.status, html };
  }

  /** Posts a form (the CSRF field added unless `csrf: false`). */
  async form(target: string, fields: Record<string, string>, csrf = true): Promise<Response> {
    const body = new URLSearchParams({ ...(csrf ? { _csrf: this.csrfToken } : {}), ...fields }).toString();
    return this.request('POST', target, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  /** Calls the JSON API with the session (and its CSRF header). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are inspected with expect(), field by field
  async api(method: string, target: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
    const response = await this.request(method, target, {
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'GET' ? {} : { 'x-csrf-token': this.csrfToken }),
      },
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (CSV, HTML)
    }
    return { status: response.status, json, text };
  }

  /** Signs in with the admin token and loads the dashboard (for its CSRF token). */
  async signIn(token: string): Promise<void> {
    const response = await this.form('/admin/login', { token, next: '/admin' }, false);
    if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
    await this.page('/admin');
  }
}

/**
 * Runs a HubSpot or Salesforce install the way a browser does: the app's install URL, the sandbox
 * consent page approved, the callback with the code. Returns the callback's answer.
 */
export async function runOAuthInstall(
  client: AdminClient,
  provider: 'hubspot' | 'salesforce',
  installationId?: string,
  /** The HubSpot account chosen on the consent page (`/oauth/{portalId}/authorize`); default the first. */
  hubspotPortalId?: number,
): Promise<{ status: number; html: string; authorizeUrl: URL }> {
  const start = await client.request(
    'GET',
    `/oauth/${provider}/install${installationId ? `?installation=${encodeURIComponent(installationId)}` : ''}`,
  );
  if (start.status !== 302) throw new Error(`install did not redirect: ${start.status} ${await start.text()}`);
  const authorizeUrl = new URL(start.headers.get('location') ?? '');
  if (hubspotPortalId !== undefined) authorizeUrl.pathname = `/oauth/${hubspotPortalId}/authorize`;
  const consent = await fetch(authorizeUrl);
  const page = await consent.text();
  const fields = Object.fromEntries(
    [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1] as string,
      decodeEntities(m[2] as string),
    ]),
  );
  const approve = await fetch(new URL(provider === 'hubspot' ? '/oauth/authorize' : '/services/oauth2/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision: provider === 'hubspot' ? 'approve' : 'allow' }).toString(),
  });
  const callback = approve.headers.get('location');
  if (approve.status !== 302 || !callback) throw new Error(`consent did not redirect: ${approve.status}`);
  const answer = await client.request('GET', callback);
  return { status: answer.status, html: await answer.text(), authorizeUrl };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
