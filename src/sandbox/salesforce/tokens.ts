/**
 * OAuth tokens of the sandbox org. Access tokens look like Salesforce session ids
 * (`<15-char org id>!<opaque>`), expire after the configured TTL, and die with their refresh token.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SandboxConfig } from './sandbox-config.ts';
import type { OrgStore, TokenState } from './state-store.ts';

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  signature: string;
  scope: string;
  instance_url: string;
  id: string;
  token_type: 'Bearer';
  issued_at: string;
}

const opaque = (bytes: number): string => randomBytes(bytes).toString('base64url');

export class TokenService {
  constructor(
    private readonly store: OrgStore,
    private readonly config: SandboxConfig,
    private readonly url: () => string,
  ) {}

  identityUrl(userId: string): string {
    return `${this.url()}/id/${this.config.orgId}/${userId}`;
  }

  /** Issues an access token (and, when asked, a refresh token) for a user. */
  issue(
    userId: string,
    options: { withRefreshToken: boolean; scope: string; refreshToken?: string; channel?: 'api' | 'ui' },
  ): TokenResponse {
    const now = this.config.now();
    const accessToken = `${this.config.orgId.slice(0, 15)}!${opaque(48)}`;
    let refreshToken = options.refreshToken ?? null;
    if (options.withRefreshToken && refreshToken === null) {
      refreshToken = `5Aep861${opaque(40)}`;
      this.store.tokens.refresh[refreshToken] = { userId, clientId: this.config.clientId, issuedAt: now, scope: options.scope };
    }
    this.store.tokens.access[accessToken] = {
      userId,
      issuedAt: now,
      expiresAt: now + this.config.accessTokenTtlMs,
      refreshToken,
      channel: options.channel ?? 'api',
    };
    this.pruneExpired(now);
    this.store.markDirty();
    const id = this.identityUrl(userId);
    const issuedAt = String(now);
    return {
      access_token: accessToken,
      ...(options.withRefreshToken && refreshToken !== null ? { refresh_token: refreshToken } : {}),
      signature: createHmac('sha256', this.config.clientSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: options.scope,
      instance_url: this.url(),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
  }

  /** The live session behind an access token, or undefined when it is unknown, expired or its user inactive. */
  session(accessToken: string): (TokenState & { token: string }) | undefined {
    const state = this.store.tokens.access[accessToken];
    if (!state) return undefined;
    if (state.expiresAt <= this.config.now()) return undefined;
    const user = this.store.get('User', state.userId);
    if (!user || user.IsActive !== true) return undefined;
    return { ...state, token: accessToken };
  }

  refresh(refreshToken: string): { userId: string; scope: string } | undefined {
    const state = this.store.tokens.refresh[refreshToken];
    return state ? { userId: state.userId, scope: state.scope } : undefined;
  }

  /** Revokes an access or refresh token; a refresh token takes its access tokens with it. */
  revoke(token: string): boolean {
    const { access, refresh } = this.store.tokens;
    if (access[token]) {
      delete access[token];
      this.store.markDirty();
      return true;
    }
    if (refresh[token]) {
      delete refresh[token];
      for (const [key, state] of Object.entries(access)) if (state.refreshToken === token) delete access[key];
      this.store.markDirty();
      return true;
    }
    return false;
  }

  /** Makes every live access token of a user expire now (the 'session timeout' knob for tests). */
  expireSessions(userId?: string): number {
    let count = 0;
    const now = this.config.now();
    for (const state of Object.values(this.store.tokens.access)) {
      if (userId === undefined || state.userId === userId) {
        state.expiresAt = Math.min(state.expiresAt, now);
        count++;
      }
    }
    this.store.markDirty();
    return count;
  }

  private pruneExpired(now: number): void {
    for (const [key, state] of Object.entries(this.store.tokens.access)) if (state.expiresAt <= now) delete this.store.tokens.access[key];
  }
}
