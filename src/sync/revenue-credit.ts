/**
 * Revenue credit per campaign (docs/architecture.md §3): each won Opportunity's amount is split over the
 * touches its contact had up to the win (kept in Postgres as they were observed), under
 * first-touch, last-touch, linear and position-based (40/20/40) models. Every model's credits
 * add up to the won revenue, to the cent.
 */
import { CREDIT_MODELS, creditRevenue, type CampaignCredit, type CreditModel, type CreditTouchpoint } from '../domain/attribution.ts';
import type { Queryable } from '../store/db.ts';
import { creditableDeals } from '../store/deals.ts';
import { touchesOf } from '../store/touches.ts';

/** One won deal and the touches that may share its credit. */
export interface CreditedDeal {
  readonly amountCents: number;
  /** Epoch ms: touches after the win get no credit. */
  readonly wonAt: number;
  readonly touchpoints: readonly CreditTouchpoint[];
}

/** Credit per campaign under each model; each model's credits sum to `wonCents`. */
export interface CampaignCreditReport {
  wonCents: number;
  deals: number;
  models: Record<CreditModel, CampaignCredit[]>;
}

/**
 * Credits every deal under each model and adds the credits up per campaign (pure). A deal with no
 * touch up to its win credits `(unattributed)`. Campaigns are listed by credit, largest first.
 */
export function creditCampaigns(deals: readonly CreditedDeal[], models: readonly CreditModel[] = CREDIT_MODELS): CampaignCreditReport {
  const totals = new Map<CreditModel, Map<string, number>>(models.map((model) => [model, new Map()]));
  let wonCents = 0;
  for (const deal of deals) {
    wonCents += deal.amountCents;
    const before = deal.touchpoints.filter((touch) => touch.at <= deal.wonAt);
    for (const model of models) {
      const perCampaign = totals.get(model) ?? new Map<string, number>();
      for (const credit of creditRevenue(model, before, deal.amountCents)) {
        perCampaign.set(credit.campaign, (perCampaign.get(credit.campaign) ?? 0) + credit.amountCents);
      }
    }
  }
  const report = Object.fromEntries(
    models.map((model) => [
      model,
      [...(totals.get(model) ?? new Map<string, number>())]
        .map(([campaign, amountCents]) => ({ campaign, amountCents }))
        .sort((a, b) => b.amountCents - a.amountCents || a.campaign.localeCompare(b.campaign)),
    ]),
  ) as Record<CreditModel, CampaignCredit[]>;
  return { wonCents, deals: deals.length, models: report };
}

/** Credit per campaign of the won deals converted from synced Leads, from the stored touches of an installation. */
export async function campaignCredit(
  db: Queryable,
  installationId: string,
  models: readonly CreditModel[] = CREDIT_MODELS,
): Promise<CampaignCreditReport> {
  const won = await creditableDeals(db, installationId);
  const touches = await touchesOf(db, installationId, [...new Set(won.map((w) => w.hubspotContactId))]);
  const byContact = new Map<string, CreditTouchpoint[]>();
  for (const touch of touches) {
    const list = byContact.get(touch.hubspotContactId) ?? [];
    list.push({ campaign: touch.campaign ?? '', at: touch.occurredAt.getTime() });
    byContact.set(touch.hubspotContactId, list);
  }
  return creditCampaigns(
    won.map((w) => ({ amountCents: w.amountCents, wonAt: w.wonAt.getTime(), touchpoints: byContact.get(w.hubspotContactId) ?? [] })),
    models,
  );
}
