/**
 * Each installation's Salesforce API budget as the limiter keeps it: the calls of every process
 * counted in Redis per installation, the cap read from the installation (at most every few seconds
 * per process, so a change applies everywhere within them), the org's daily allowance learned from
 * the `Sforce-Limit-Info` header of the app's own calls (for a budget given as a percentage).
 */
import type { RedisConnection } from '../queue/redis.ts';
import { CallBudget, type CallBudgetPolicy } from '../crm/limiter.ts';
import { alertThreshold, budgetLimit, type ApiBudget } from '../domain/api-budget.ts';
import type { Logger } from '../log.ts';
import type { Queryable } from '../store/db.ts';
import { readSalesforceBudget } from '../store/salesforce-budget.ts';

/** How long a process uses the budget it read before reading it again. */
const BUDGET_READ_TTL_MS = 5_000;

/** The budget and its use, for the dashboard's gauge and the API. */
export interface SalesforceBudgetUsage {
  budget: ApiBudget | null;
  /** The app's Salesforce calls in the last 24 h (counted whether or not a budget is set). */
  used: number;
  /** The cap in calls, or null (no budget, or a percentage of an allowance not learned yet). */
  limit: number | null;
  /** The org's daily API allowance as its last answer said, or null before one. */
  dailyAllowance: number | null;
}

export class SalesforceBudgets {
  private readonly read = new Map<string, { at: number; budget: Promise<ApiBudget | null> }>();

  constructor(
    private readonly deps: {
      db: Queryable;
      redis: RedisConnection;
      prefix: string;
      log: Logger;
      /** Sends the 80 % alert (the composition root enqueues it); once per budget period. */
      onAlert?: ((installationId: string, usage: { used: number; limit: number }) => Promise<void>) | undefined;
      now?: () => number;
    },
  ) {}

  private key(installationId: string): string {
    return `${this.deps.prefix}:api-budget:salesforce:${installationId}`;
  }

  private allowanceKey(installationId: string): string {
    return `${this.key(installationId)}:allowance`;
  }

  /** The installation's budget, read again after a few seconds. */
  private budget(installationId: string): Promise<ApiBudget | null> {
    const now = (this.deps.now ?? Date.now)();
    const cached = this.read.get(installationId);
    if (cached && now - cached.at < BUDGET_READ_TTL_MS) return cached.budget;
    const budget = readSalesforceBudget(this.deps.db, installationId);
    this.read.set(installationId, { at: now, budget });
    budget.catch(() => this.read.delete(installationId));
    return budget;
  }

  /** Forgets this process's copy of the budget (the admin changed it here). */
  forget(installationId: string): void {
    this.read.delete(installationId);
  }

  /** The policy for the installation's Salesforce limiter; `allowance` reads what the org's last answer said. */
  policy(installationId: string, allowance: () => number | undefined): CallBudgetPolicy {
    let taught: number | undefined;
    return {
      budget: new CallBudget(this.deps.redis, this.key(installationId)),
      system: 'salesforce',
      limit: async () => {
        const known = allowance();
        if (known !== undefined && known !== taught) {
          taught = known;
          await this.deps.redis.set(this.allowanceKey(installationId), String(known));
        }
        const limit = budgetLimit(await this.budget(installationId), known ?? (await this.storedAllowance(installationId)));
        return { limit, alertAt: limit === null ? null : alertThreshold(limit) };
      },
      onAlert: (usage) => {
        this.deps.log.warn({ installationId, ...usage }, 'Salesforce API budget 80 % used');
        this.deps
          .onAlert?.(installationId, usage)
          .catch((error: unknown) =>
            this.deps.log.error(
              { installationId, error: error instanceof Error ? error.message : String(error) },
              'the Salesforce API budget alert could not be queued',
            ),
          );
      },
    };
  }

  private async storedAllowance(installationId: string): Promise<number | null> {
    const stored = Number(await this.deps.redis.get(this.allowanceKey(installationId)));
    return Number.isFinite(stored) && stored > 0 ? stored : null;
  }

  /** The budget, the calls of the last 24 h and the cap they count against. */
  async usage(installationId: string): Promise<SalesforceBudgetUsage> {
    this.forget(installationId);
    const [budget, used, dailyAllowance] = await Promise.all([
      this.budget(installationId),
      new CallBudget(this.deps.redis, this.key(installationId)).used(),
      this.storedAllowance(installationId),
    ]);
    return { budget, used, limit: budgetLimit(budget, dailyAllowance), dailyAllowance };
  }
}
