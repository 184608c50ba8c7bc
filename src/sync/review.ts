/**
 * The pipeline review (docs/architecture.md §13): the one data set `GET /api/review`, the
 * `/admin/review` page and the scheduled digest render. Its stored blocks come from the report's
 * tables (src/store/review.ts, the commitments and goal tables); the campaigns starting in the next
 * UPCOMING_DAYS come from both CRMs, and a side that cannot be read is named with its reason
 * instead of failing the review.
 */
import { periodContaining, type CommitmentPeriod } from '../domain/commitments.ts';
import type { PipelineReview, UpcomingCampaign } from '../domain/review.ts';
import { UPCOMING_DAYS } from '../domain/review.ts';
import type { HubSpotPort, SalesforcePort } from '../crm/ports.ts';
import { commitmentsReport, goalsReport, marketingCommitmentsOf, quarterActuals, sharedGoalsOf } from '../store/commitments.ts';
import type { Queryable } from '../store/db.ts';
import { orgCurrencies, revenuePolicyOf } from '../store/deals.ts';
import { judgedAt, lossesIn, newCustomersIn, openPipelineByStage, revenueSources } from '../store/review.ts';
import { slaPolicyOf } from '../store/sla.ts';
import { salesSide } from '../store/sla-compliance.ts';

export interface ReviewDeps {
  db: Queryable;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  installationId: string;
}

const DAY_MS = 86_400_000;

/** The start of the UTC day of `at`. */
const dayOf = (at: Date): Date => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));

/** Why a side could not be read, without anything secret (the adapters redact tokens already). */
const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 500);

/** Campaigns starting from today (UTC) through the next UPCOMING_DAYS days, from both CRMs. */
export async function upcomingCampaigns(
  ports: { hubspot: HubSpotPort; salesforce: SalesforcePort },
  now: Date,
): Promise<PipelineReview['upcoming']> {
  const from = dayOf(now);
  const until = new Date(from.getTime() + UPCOMING_DAYS * DAY_MS);
  const campaigns: UpcomingCampaign[] = [];
  const unavailable: PipelineReview['upcoming']['unavailable'] = [];
  const [salesforce, hubspot] = await Promise.allSettled([
    ports.salesforce.campaignsStartingBetween(from, until),
    ports.hubspot.campaignsStartingBetween(from, until),
  ]);
  if (salesforce.status === 'fulfilled') campaigns.push(...salesforce.value.map((c) => ({ source: 'salesforce' as const, ...c })));
  else unavailable.push({ source: 'salesforce', reason: `Salesforce Campaigns could not be read: ${reasonOf(salesforce.reason)}` });
  if (hubspot.status === 'rejected')
    unavailable.push({ source: 'hubspot', reason: `HubSpot campaigns could not be read: ${reasonOf(hubspot.reason)}` });
  else if (!hubspot.value.ok) unavailable.push({ source: 'hubspot', reason: hubspot.value.error });
  else campaigns.push(...hubspot.value.value.map((c) => ({ source: 'hubspot' as const, ...c })));
  campaigns.sort((a, b) => a.startDate.localeCompare(b.startDate) || a.name.localeCompare(b.name) || a.source.localeCompare(b.source));
  return { campaigns, unavailable };
}

/** The review's blocks that come from the app's own tables, with the upcoming campaigns given. */
export async function storedReview(
  db: Queryable,
  input: { installationId: string; period: CommitmentPeriod; now: Date; upcoming: PipelineReview['upcoming'] },
): Promise<PipelineReview> {
  const { installationId, period, now } = input;
  const at = judgedAt(period, now);
  const revenue = await revenuePolicyOf(db, installationId);
  // 1. The quarter's goal against what closed in it (the quarter containing the period).
  const quarter = periodContaining('quarter', period.from).id;
  const goals = await sharedGoalsOf(db, installationId);
  const revenueGoal = goals.goals.find((goal) => goal.quarter === quarter && goal.kpi === 'revenue') ?? null;
  const closedCents = (await quarterActuals(db, { installationId, quarter, now, revenue })).wonCents;
  const targetCents = revenueGoal === null ? null : Math.round(revenueGoal.target * 100);
  // 2. Pipeline, sources, customers and losses of the period.
  const pipeline = await openPipelineByStage(db, installationId, at);
  const sources = await revenueSources(db, { installationId, from: period.from, to: period.to, at, revenue });
  const newCustomers = await newCustomersIn(db, { installationId, from: period.from, to: period.to, revenue });
  const losses = await lossesIn(db, { installationId, from: period.from, to: period.to });
  // 3. Both sides of the agreement, and the goal table.
  const commitments = await commitmentsReport(db, {
    installationId,
    commitments: await marketingCommitmentsOf(db, installationId),
    now,
    period,
  });
  const sales = await salesSide(db, {
    installationId,
    from: period.from,
    to: period.to,
    now,
    policy: await slaPolicyOf(db, installationId),
  });
  const goalTable = await goalsReport(db, { installationId, goals, quarter, now, revenue });
  const currency = await orgCurrencies(db, installationId);
  return {
    installationId,
    period: { id: period.id, kind: period.kind, from: period.from.toISOString(), to: period.to.toISOString() },
    generatedAt: now.toISOString(),
    currency: currency?.corporate ?? null,
    goal: {
      quarter,
      targetCents,
      closedCents,
      share: targetCents === null || targetCents === 0 ? null : Math.round((closedCents / targetCents) * 10_000) / 10_000,
      owner: revenueGoal?.owner ?? null,
    },
    pipeline,
    sources,
    newCustomers,
    losses,
    agreement: { marketing: commitments === null ? null : { period: commitments.period, commitments: commitments.commitments }, sales },
    goals: goalTable.goals,
    upcoming: input.upcoming,
  };
}

/**
 * The review of an installation's period: with its CRM clients when they can be had, else its
 * stored blocks with both campaign sides named unavailable and why (the page, the API and the
 * digest all answer rather than fail when a CRM is down).
 */
export async function reviewOfInstallation(
  db: Queryable,
  runtimeOf: (installationId: string) => Promise<{ hubspot: HubSpotPort; salesforce: SalesforcePort }>,
  installationId: string,
  input: { period: CommitmentPeriod; now: Date },
): Promise<PipelineReview> {
  let runtime: { hubspot: HubSpotPort; salesforce: SalesforcePort };
  try {
    runtime = await runtimeOf(installationId);
  } catch (error) {
    const reason = `The CRMs cannot be reached: ${reasonOf(error)}`;
    return storedReview(db, {
      installationId,
      ...input,
      upcoming: {
        campaigns: [],
        unavailable: [
          { source: 'salesforce', reason },
          { source: 'hubspot', reason },
        ],
      },
    });
  }
  return pipelineReview({ db, ...runtime, installationId }, input);
}

/** The pipeline review of one period (default in callers: the current quarter). */
export async function pipelineReview(deps: ReviewDeps, input: { period: CommitmentPeriod; now: Date }): Promise<PipelineReview> {
  const upcoming = await upcomingCampaigns(deps, input.now);
  return storedReview(deps.db, { installationId: deps.installationId, period: input.period, now: input.now, upcoming });
}
