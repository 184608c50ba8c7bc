/** The installation's Salesforce API budget (`installations.salesforce_api_budget`). */
import { ApiBudgetSchema, type ApiBudget } from '../domain/api-budget.ts';
import type { Queryable } from './db.ts';

/** The stored budget, or null when none is set (a stored value that no longer parses counts as none). */
export async function readSalesforceBudget(db: Queryable, installationId: string): Promise<ApiBudget | null> {
  const rows = await db.query<{ budget: unknown }>('SELECT salesforce_api_budget AS budget FROM installations WHERE id = $1', [
    installationId,
  ]);
  const parsed = ApiBudgetSchema.safeParse(rows[0]?.budget);
  return parsed.success ? parsed.data : null;
}

/** Saves a budget (already validated), or removes it with null. */
export async function saveSalesforceBudget(db: Queryable, installationId: string, budget: ApiBudget | null): Promise<void> {
  await db.query('UPDATE installations SET salesforce_api_budget = $2::jsonb, updated_at = now() WHERE id = $1', [
    installationId,
    budget === null ? null : JSON.stringify(budget),
  ]);
}
