/** Programmatic control of the sandbox org; `/__sandbox/*` and the `SalesforceSandbox` handle both use it. */
import type { SandboxContext } from './context.ts';
import { currencySettings, updateCurrencySettings, type CurrencySettings, type CurrencySettingsInput } from './currency-admin.ts';
import { setTrackedFields, trackedFields } from './field-history.ts';
import { httpError } from './errors.ts';
import type { FaultConfig, FaultConfigInput } from './faults.ts';
import type { OutboundMessages } from './outbound-messages.ts';
import type { DeliveryLogEntry, OutboundRule, PendingNotification } from './outbound-rules.ts';
import { ADMIN_USER_ID, INTEGRATION_USER_ID, SALES_REP_IDS } from './seed.ts';
import type { TokenResponse } from './tokens.ts';

export interface SandboxStats {
  /** Calls per endpoint: `METHOD /route/pattern` with the sObject type filled in. */
  calls: Record<string, number>;
  totalCalls: number;
  apiUsage: { used: number; limit: number; remaining: number };
  faultsInjected: number;
  outbound: { rules: number; pending: number; acked: number; failed: number; expired: number; droppedByFault: number };
}

export interface SandboxUser {
  id: string;
  username: string;
  name: string;
  email: string;
  title: string | null;
  isActive: boolean;
  managerId: string | null;
  role: 'admin' | 'integration' | 'sales-rep' | 'sales-manager';
}

export interface AssignmentSettings {
  active: boolean;
  /** Users round-robin assignment draws from (inactive ones are skipped); null = every active user. */
  userIds: string[] | null;
}

export class SandboxControl {
  constructor(
    private readonly ctx: SandboxContext,
    private readonly outboundMessages: OutboundMessages,
  ) {}

  stats(): SandboxStats {
    const { usage, stats } = this.ctx;
    const used = usage.used();
    const log = this.outboundMessages.deliveries();
    const count = (outcome: DeliveryLogEntry['outcome']) => log.filter((d) => d.outcome === outcome).length;
    return {
      calls: stats.snapshot(),
      totalCalls: stats.total(),
      apiUsage: { used, limit: usage.limit(), remaining: Math.max(0, usage.limit() - used) },
      faultsInjected: stats.faultsInjected,
      outbound: {
        rules: this.outboundMessages.rules().length,
        pending: this.outboundMessages.pending().length,
        acked: count('acked'),
        failed: count('failed'),
        expired: count('expired'),
        droppedByFault: count('dropped-by-fault'),
      },
    };
  }

  /** Back to a fresh org: records, custom fields, rules, deliveries, usage, stats and faults. Issued tokens stay valid. */
  async reset(): Promise<void> {
    await this.outboundMessages.reset();
    this.ctx.store.reset();
    this.ctx.cursors.clear();
    this.ctx.stats.reset();
    this.ctx.faults.clear();
    this.ctx.store.flush();
  }

  readonly faults = {
    get: (): FaultConfig => this.ctx.faults.current(),
    set: (config: FaultConfigInput): FaultConfig => this.ctx.faults.configure(config),
    clear: (): void => this.ctx.faults.clear(),
  };

  /** The org's currency setting and CurrencyType rows, changed the way an admin changes them in Setup. */
  readonly currency = {
    get: (): CurrencySettings => currencySettings(this.ctx.store),
    set: (input: CurrencySettingsInput): CurrencySettings => updateCurrencySettings(this.ctx.store, input, this.ctx.config.now()),
  };

  /** The fields whose history is kept, per object, set the way an admin sets them in Setup (field-history.ts). */
  readonly fieldHistory = {
    get: (object: string): readonly string[] => trackedFields(this.ctx.store, object),
    set: (object: string, fields: readonly string[]): string[] => setTrackedFields(this.ctx.store, object, fields),
  };

  readonly outbound = {
    rules: (): OutboundRule[] => this.outboundMessages.rules(),
    addRule: (input: unknown): OutboundRule => this.outboundMessages.addRule(input),
    removeRule: (id: string): boolean => this.outboundMessages.removeRule(id),
    clearRules: (): void => this.outboundMessages.clearRules(),
    deliveries: (): DeliveryLogEntry[] => this.outboundMessages.deliveries(),
    pending: (): PendingNotification[] => this.outboundMessages.pending(),
    retryNow: (): number => this.outboundMessages.retryNow(),
  };

  users(): SandboxUser[] {
    return Object.values(this.ctx.store.table('User')).map((u) => {
      const id = String(u.Id);
      const role: SandboxUser['role'] =
        id === ADMIN_USER_ID
          ? 'admin'
          : id === INTEGRATION_USER_ID
            ? 'integration'
            : SALES_REP_IDS.includes(id)
              ? 'sales-rep'
              : 'sales-manager';
      return {
        id,
        username: String(u.Username),
        name: String(u.Name),
        email: String(u.Email),
        title: typeof u.Title === 'string' ? u.Title : null,
        isActive: u.IsActive === true,
        managerId: typeof u.ManagerId === 'string' ? u.ManagerId : null,
        role,
      };
    });
  }

  /** A user's own access token (acting as a sales rep): writes made with it carry that user's id. */
  issueUserToken(userId: string): TokenResponse {
    const user = this.ctx.store.get('User', userId);
    if (!user) throw httpError(404, 'NOT_FOUND', `no such user: ${userId}`);
    if (user.IsActive !== true) throw httpError(400, 'INACTIVE_OWNER_OR_USER', `user ${userId} is inactive`);
    return this.ctx.tokens.issue(userId, { withRefreshToken: false, scope: 'api web', channel: 'ui' });
  }

  /** Expires live access tokens now (all, or one user's), so the next API call answers INVALID_SESSION_ID. */
  expireSessions(userId?: string): number {
    return this.ctx.tokens.expireSessions(userId);
  }

  setApiUsage(used: number): void {
    this.ctx.usage.set(used);
  }

  assignment(): AssignmentSettings {
    const { active, userIds } = this.ctx.store.state.assignment;
    return { active, userIds };
  }

  setAssignment(settings: { active: boolean; userIds?: string[] | null | undefined }): AssignmentSettings {
    const state = this.ctx.store.state.assignment;
    state.active = settings.active;
    if (settings.userIds !== undefined) state.userIds = settings.userIds;
    state.nextIndex = 0;
    this.ctx.store.markDirty();
    return this.assignment();
  }
}
