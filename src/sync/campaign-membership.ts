/**
 * Campaign membership for attribution (docs/architecture.md §3, §11): each Lead or Contact joins
 * the Salesforce Campaigns named like its UTM campaigns — found by name, created when missing and
 * allowed, with a member status the Campaign counts as responded — in a fixed number of calls per
 * batch; and the sync log lines that report what happened.
 */
import { refusalOf, type SalesforcePort, type WriteOutcome } from '../crm/ports.ts';
import { chooseMemberStatus, type MemberStatusOption } from '../domain/campaign-member-status.ts';
import { assertNever } from '../domain/result.ts';
import { SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { presentOrNull } from '../domain/validation.ts';
import type { CampaignSettings } from './attribution-settings.ts';
import type { LogLine } from './context.ts';

/** A Lead or Contact that should be a member of the named Campaigns. */
export interface MembershipRequest {
  /** The caller's key for the result. */
  readonly key: string;
  readonly leadId?: string | undefined;
  readonly contactId?: string | undefined;
  readonly campaigns: readonly string[];
}

/** What happened to one request's memberships. */
export interface MembershipResult {
  /** Campaigns joined, with the member status written (one of that campaign's responded statuses). */
  added: { campaign: string; status: string }[];
  already: string[];
  /** Campaigns that do not exist and were not created (creating is off). */
  missing: string[];
  /** Campaigns that count none of their member statuses as responded: the person was not added. */
  noRespondedStatus: string[];
  failed: { campaign: string; reason: string }[];
  /** Campaigns this call created. */
  createdCampaigns: string[];
}

/** Refusals that mean the integration user may not create Campaigns (no Marketing User, no Create). */
const CAMPAIGN_ACCESS_CODES = new Set(['INVALID_TYPE_FOR_OPERATION', 'INSUFFICIENT_ACCESS_OR_READONLY', 'INSUFFICIENT_ACCESS']);

/** A campaign's member status for new members, or why there is none. */
type CampaignStatus = { readonly status: string } | { readonly noResponded: true } | { readonly failed: string };

/** A membership to have: the person of a request in one of its Campaigns, with the status new members get. */
interface WantedMembership {
  request: MembershipRequest;
  campaign: string;
  campaignId: string;
  status: string;
}

/**
 * Makes each Lead / Contact a member of its Campaigns, in a fixed number of calls per batch: one
 * Campaign query by name (`Name IN (…)`, oldest first so duplicates converge on one), one
 * Collections create of the missing Campaigns (active), one CampaignMemberStatus query, one
 * Collections create of the configured status on the app's new Campaigns that lack it, one
 * CampaignMember query, one Collections create of the missing memberships. Each member gets a
 * responded status its campaign has (domain/campaign-member-status.ts); existing memberships are kept.
 */
export async function ensureCampaignMemberships(
  salesforce: SalesforcePort,
  settings: CampaignSettings,
  requests: readonly MembershipRequest[],
): Promise<Map<string, MembershipResult>> {
  const results = new Map<string, MembershipResult>();
  const names = new Map<string, string>();
  for (const request of requests)
    for (const name of request.campaigns) if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  if (names.size === 0) return results;

  // 1. Campaigns by name (SOQL `=`/`IN` on text ignore case), preferring an active one.
  const campaignIds = await findCampaigns(salesforce, [...names.values()]);
  // 2. Missing Campaigns: created (active) in one call, or reported.
  const missing = [...names].filter(([key]) => !campaignIds.has(key)).map(([, name]) => name);
  const { created, createFailures } = settings.createMissing
    ? await createCampaigns(salesforce, missing, campaignIds)
    : { created: new Set<string>(), createFailures: new Map<string, string>() };
  // 3. The member status each Campaign gives new members.
  const statusOf = await memberStatuses(salesforce, settings.memberStatus, [...campaignIds.values()], created);
  // 4. Memberships that exist already.
  const wanted = wantedMemberships(requests, campaignIds, created, createFailures, statusOf, results);
  if (wanted.length === 0) return results;
  const existing = await existingMemberships(salesforce, wanted);
  // 5. The missing memberships, in one Collections create.
  await addMemberships(salesforce, wanted, existing, results);
  return results;
}

/** The result of a request's key, made empty on first use. */
function membershipResultOf(results: Map<string, MembershipResult>, key: string): MembershipResult {
  let result = results.get(key);
  if (!result) {
    result = { added: [], already: [], missing: [], noRespondedStatus: [], failed: [], createdCampaigns: [] };
    results.set(key, result);
  }
  return result;
}

/** Creates the missing Campaigns (active) in one call, adding their ids to `campaignIds`; returns the created ids and the failures by lower-case name. */
async function createCampaigns(
  salesforce: SalesforcePort,
  missing: readonly string[],
  campaignIds: Map<string, string>,
): Promise<{ created: Set<string>; createFailures: Map<string, string> }> {
  const createFailures = new Map<string, string>();
  const created = new Set<string>();
  if (missing.length === 0) return { created, createFailures };
  const outcomes = await salesforce.createRecords(
    'Campaign',
    missing.map((name) => ({
      Name: name,
      IsActive: true,
      Status: 'In Progress',
      Description: `Created by Smarketing Sync for utm_campaign "${name}"`,
    })),
  );
  missing.forEach((name, index) => {
    const outcome = outcomes[index];
    if (outcome?.ok) {
      campaignIds.set(name.toLowerCase(), outcome.id);
      created.add(outcome.id);
    } else {
      createFailures.set(name.toLowerCase(), campaignCreateFailure(outcome));
    }
  });
  return { created, createFailures };
}

/** The memberships the requests ask for, each with its status; a missing Campaign or one without a responded status is reported instead. */
function wantedMemberships(
  requests: readonly MembershipRequest[],
  campaignIds: ReadonlyMap<string, string>,
  created: ReadonlySet<string>,
  createFailures: ReadonlyMap<string, string>,
  statusOf: ReadonlyMap<string, CampaignStatus>,
  results: Map<string, MembershipResult>,
): WantedMembership[] {
  const wanted: WantedMembership[] = [];
  for (const request of requests) {
    const result = membershipResultOf(results, request.key);
    for (const campaign of request.campaigns) {
      const key = campaign.toLowerCase();
      const campaignId = campaignIds.get(key);
      if (campaignId === undefined) {
        const failure = createFailures.get(key);
        if (failure === undefined) result.missing.push(campaign);
        else result.failed.push({ campaign, reason: failure });
        continue;
      }
      if (created.has(campaignId) && !result.createdCampaigns.includes(campaign)) result.createdCampaigns.push(campaign);
      if (request.leadId === undefined && request.contactId === undefined) continue;
      const choice = statusOf.get(campaignId) ?? { noResponded: true };
      if ('failed' in choice) result.failed.push({ campaign, reason: choice.failed });
      else if ('noResponded' in choice) result.noRespondedStatus.push(campaign);
      else wanted.push({ request, campaign, campaignId, status: choice.status });
    }
  }
  return wanted;
}

/** A membership's key: Campaign and person. */
function memberKey(campaignId: string, personId: string): string {
  return `${campaignId}:${personId}`;
}

/** The keys of the wanted memberships that exist already, one CampaignMember query per person type. */
async function existingMemberships(salesforce: SalesforcePort, wanted: readonly WantedMembership[]): Promise<Set<string>> {
  const existing = new Set<string>();
  const leadIds = [...new Set(wanted.flatMap((w) => (w.request.leadId === undefined ? [] : [w.request.leadId])))];
  const contactIds = [...new Set(wanted.flatMap((w) => (w.request.contactId === undefined ? [] : [w.request.contactId])))];
  const ids = [...new Set(wanted.map((w) => w.campaignId))];
  for (const [field, people] of [
    ['LeadId', leadIds],
    ['ContactId', contactIds],
  ] as const) {
    for (const row of await salesforce.campaignMembers(ids, field, people)) {
      const campaignId = presentOrNull(row.campaignId);
      const personId = presentOrNull(field === 'LeadId' ? row.leadId : row.contactId);
      if (campaignId !== null && personId !== null) existing.add(memberKey(campaignId, personId));
    }
  }
  return existing;
}

/** Creates the memberships that do not exist yet (each once), in one Collections create, and reports each. */
async function addMemberships(
  salesforce: SalesforcePort,
  wanted: readonly WantedMembership[],
  existing: ReadonlySet<string>,
  results: Map<string, MembershipResult>,
): Promise<void> {
  const creates: { request: MembershipRequest; campaign: string; status: string; record: Record<string, unknown> }[] = [];
  const queued = new Set<string>();
  for (const { request, campaign, campaignId, status } of wanted) {
    const personId = request.contactId ?? request.leadId ?? '';
    const key = memberKey(campaignId, personId);
    if (existing.has(key) || queued.has(key)) {
      membershipResultOf(results, request.key).already.push(campaign);
      continue;
    }
    queued.add(key);
    const person = request.contactId !== undefined ? { ContactId: request.contactId } : { LeadId: request.leadId };
    creates.push({ request, campaign, status, record: { CampaignId: campaignId, ...person, Status: status } });
  }
  if (creates.length === 0) return;
  const outcomes = await salesforce.createRecords(
    'CampaignMember',
    creates.map((c) => c.record),
  );
  creates.forEach(({ request, campaign, status }, index) => {
    const outcome = outcomes[index];
    const result = membershipResultOf(results, request.key);
    if (outcome?.ok) result.added.push({ campaign, status });
    else if (outcome?.code === 'DUPLICATE_VALUE') result.already.push(campaign);
    else result.failed.push({ campaign, reason: refusalOf(outcome) });
  });
}

/** Campaign ids by lower-case name, an active Campaign preferred, then the oldest. */
async function findCampaigns(salesforce: SalesforcePort, names: readonly string[]): Promise<Map<string, string>> {
  const found = await salesforce.campaignsNamed(names);
  const campaignIds = new Map<string, string>();
  for (const active of [true, false]) {
    for (const campaign of found) {
      const key = (presentOrNull(campaign.name) ?? '').toLowerCase();
      if (campaign.active === active && !campaignIds.has(key)) campaignIds.set(key, campaign.id);
    }
  }
  return campaignIds;
}

function campaignCreateFailure(outcome: WriteOutcome | undefined): string {
  if (!outcome || outcome.ok) return 'could not create the Campaign';
  // Creating a Campaign needs the Marketing User checkbox on the integration user (docs/architecture.md §11).
  const hint = CAMPAIGN_ACCESS_CODES.has(outcome.code)
    ? ' (creating Campaigns needs Marketing User ticked on the integration user: Setup → Users → Edit)'
    : '';
  return `could not create the Campaign: ${refusalOf(outcome)}${hint}`;
}

/**
 * The member status each Campaign gives new members: its statuses read in one query, and the
 * configured status created (counted as responded) in one Collections call on the Campaigns this
 * batch created that lack it. Keyed by Campaign id.
 */
async function memberStatuses(
  salesforce: SalesforcePort,
  configured: string,
  campaignIds: readonly string[],
  created: ReadonlySet<string>,
): Promise<Map<string, CampaignStatus>> {
  const byCampaign = new Map<string, MemberStatusOption[]>(campaignIds.map((id) => [id, []]));
  for (const row of await salesforce.campaignMemberStatuses(campaignIds)) {
    const label = presentOrNull(row.label);
    if (label !== null) byCampaign.get(row.campaignId)?.push({ label, responded: row.responded, sortOrder: row.sortOrder });
  }
  const statusOf = new Map<string, CampaignStatus>();
  const additions: { campaignId: string; label: string; sortOrder: number }[] = [];
  for (const [campaignId, statuses] of byCampaign) {
    const choice = chooseMemberStatus(statuses, configured, created.has(campaignId));
    switch (choice.kind) {
      case 'use':
        statusOf.set(campaignId, { status: choice.label });
        break;
      case 'add':
        additions.push({ campaignId, label: choice.label, sortOrder: choice.sortOrder });
        break;
      case 'none':
        statusOf.set(campaignId, { noResponded: true });
        break;
      default:
        assertNever(choice);
    }
  }
  if (additions.length === 0) return statusOf;
  const outcomes = await salesforce.createRecords(
    'CampaignMemberStatus',
    additions.map((a) => ({ CampaignId: a.campaignId, Label: a.label, HasResponded: true, SortOrder: a.sortOrder })),
  );
  additions.forEach(({ campaignId, label }, index) => {
    const outcome = outcomes[index];
    statusOf.set(
      campaignId,
      outcome?.ok
        ? { status: label }
        : {
            failed: `could not add the member status "${label}" to the Campaign: ${refusalOf(outcome)}`,
          },
    );
  });
  return statusOf;
}

/** Logs what happened to one person's memberships: joined, missing, without a responded status, failed. */
export function reportMembershipResult(entry: LogLine, ref: string, result: MembershipResult, memberStatus: string): void {
  if (result.added.length > 0) {
    const joined = result.added.map(({ campaign, status }) => `"${campaign}" as ${status}`).join(', ');
    entry(ref, 'info', 'add_campaign_member', `added to Campaign ${joined}`, {
      created: result.createdCampaigns,
      statuses: Object.fromEntries(result.added.map((a) => [a.campaign, a.status])),
    });
  }
  if (result.missing.length > 0)
    entry(
      ref,
      'warn',
      'campaign_missing',
      `no Salesforce Campaign named ${result.missing.map((c) => `"${c}"`).join(', ')} and creating Campaigns is off`,
    );
  for (const campaign of result.noRespondedStatus) {
    entry(
      ref,
      'warn',
      SILENT_STOP_ACTIONS.campaignNoRespondedStatus,
      `not added to Campaign "${campaign}": none of its member statuses counts as responded, and the app adds people only with a responded status. In Salesforce, open the Campaign, and under Campaign Member Statuses tick Responded on the status that means this person responded (or add one, e.g. "${memberStatus}"). The app uses it for the people it adds afterwards; add this person to the Campaign yourself.`,
      { campaign },
    );
  }
  for (const failure of result.failed)
    entry(ref, 'error', 'campaign_membership_failed', `Campaign "${failure.campaign}": ${failure.reason}`);
}
