/**
 * The campaign statistics a real org keeps on each Campaign, recomputed inside the transaction
 * that changes what they count (Campaign object reference; Salesforce Help, "Campaign Fields"):
 *
 * - NumberOfLeads: members that name a Lead, converted or not. Salesforce Help article 003964576:
 *   "Leads in Campaign" includes "Converted Leads in Campaign"; when a member lead is converted the
 *   lead count does not drop and the contact count rises, so the members listed on the campaign
 *   are NumberOfLeads − NumberOfConvertedLeads + NumberOfContacts (a converted lead's membership
 *   names both the Lead and its Contact: lead-convert.ts).
 * - NumberOfConvertedLeads: members whose Lead is converted.
 * - NumberOfContacts: members that name a Contact.
 * - NumberOfResponses: "contacts and unconverted leads" whose member status counts as responded
 *   (Knowledge Article 000004860: "a calculated field of all leads + contacts that have the member
 *   status 'responded'"; what counts is the member's Responded flag).
 * - NumberOfOpportunities / NumberOfWonOpportunities: opportunities whose primary campaign
 *   (Opportunity.CampaignId) is this campaign, all of them / the won ones.
 * - AmountAllOpportunities / AmountWonOpportunities: the sum of their Amount, "including closed/won
 *   opportunities" / of the won ones; in a multi-currency org each Amount is converted to the
 *   campaign's currency with the org's rates ("Amounts display in the campaign currency").
 *
 * "Salesforce automatically calculates this amount using all associated records regardless of
 * whether you have read access to them" and "Updates to this field do not trigger workflow rules"
 * (Help, Campaign Fields): the recount reads every record and stamps no LastModifiedDate, so it
 * emits no change event and sends no outbound message.
 * Not modelled: the hierarchy totals (HierarchyActualCost, HierarchyNumberOfLeads, …).
 */
import { convertAmount, type RateSource } from './currency.ts';
import type { SfRecord } from './types.ts';

/** The part of an org transaction the recount needs: reads, and a write that rolls back with it. */
export interface RollupTxn {
  readonly store: RateSource & {
    get(type: string, id: string): SfRecord | undefined;
    recordsWithValue(type: string, field: string, caseSensitive: boolean, value: unknown): SfRecord[];
  };
  put(type: string, record: SfRecord): void;
}

const STATISTICS = [
  'NumberOfLeads',
  'NumberOfConvertedLeads',
  'NumberOfContacts',
  'NumberOfResponses',
  'NumberOfOpportunities',
  'NumberOfWonOpportunities',
  'AmountAllOpportunities',
  'AmountWonOpportunities',
] as const;

const liveWith = (txn: RollupTxn, type: string, field: string, id: string): SfRecord[] =>
  txn.store.recordsWithValue(type, field, true, id).filter((r) => r.IsDeleted !== true && r[field] === id);

/** Rounds a sum of currency amounts to cents, so float noise does not show in the statistics. */
const cents = (n: number): number => Math.round(n * 100) / 100;

function statisticsOf(txn: RollupTxn, campaign: SfRecord): Record<(typeof STATISTICS)[number], number> {
  const id = String(campaign.Id);
  const members = liveWith(txn, 'CampaignMember', 'CampaignId', id);
  const convertedLead = (m: SfRecord): boolean => typeof m.LeadId === 'string' && txn.store.get('Lead', m.LeadId)?.IsConverted === true;
  const opportunities = liveWith(txn, 'Opportunity', 'CampaignId', id);
  const won = opportunities.filter((o) => o.IsWon === true);
  const target = typeof campaign.CurrencyIsoCode === 'string' ? campaign.CurrencyIsoCode : null;
  const total = (rows: SfRecord[]): number =>
    cents(
      rows.reduce(
        (sum, o) =>
          sum +
          convertAmount(
            txn.store,
            typeof o.Amount === 'number' ? o.Amount : 0,
            typeof o.CurrencyIsoCode === 'string' ? o.CurrencyIsoCode : null,
            target,
          ),
        0,
      ),
    );
  return {
    NumberOfLeads: members.filter((m) => typeof m.LeadId === 'string').length,
    NumberOfConvertedLeads: members.filter(convertedLead).length,
    NumberOfContacts: members.filter((m) => typeof m.ContactId === 'string').length,
    NumberOfResponses: members.filter((m) => m.HasResponded === true && (typeof m.ContactId === 'string' || !convertedLead(m))).length,
    NumberOfOpportunities: opportunities.length,
    NumberOfWonOpportunities: won.length,
    AmountAllOpportunities: total(opportunities),
    AmountWonOpportunities: total(won),
  };
}

function recount(txn: RollupTxn, campaignId: string): void {
  const campaign = txn.store.get('Campaign', campaignId);
  if (!campaign || campaign.IsDeleted === true) return;
  const next = statisticsOf(txn, campaign);
  if (STATISTICS.every((name) => campaign[name] === next[name])) return;
  txn.put('Campaign', { ...campaign, ...next });
}

const campaignOf = (record: SfRecord | undefined): string[] => (typeof record?.CampaignId === 'string' ? [record.CampaignId] : []);

/** The campaigns whose statistics a write of `record` (over `previous`) may change. */
function campaignsAffected(txn: RollupTxn, type: string, record: SfRecord, previous: SfRecord | undefined): string[] {
  switch (type) {
    case 'CampaignMember':
    case 'Opportunity':
      return [...campaignOf(record), ...campaignOf(previous)];
    case 'Lead':
      if (previous !== undefined && previous.IsConverted === record.IsConverted && previous.IsDeleted === record.IsDeleted) return [];
      return liveWith(txn, 'CampaignMember', 'LeadId', String(record.Id)).flatMap((m) => campaignOf(m));
    case 'Campaign':
      // A campaign whose currency changed shows its amounts in the new currency.
      return previous !== undefined && previous.CurrencyIsoCode !== record.CurrencyIsoCode ? [String(record.Id)] : [];
    case 'CurrencyType':
      return Object.values(txn.store.table('Campaign'))
        .filter((c) => c.IsDeleted !== true)
        .map((c) => String(c.Id));
    default:
      return [];
  }
}

/** Recounts the statistics of the campaigns a write touched (called by the transaction after each put). */
export function applyCampaignRollups(txn: RollupTxn, type: string, record: SfRecord, previous: SfRecord | undefined): void {
  for (const campaignId of new Set(campaignsAffected(txn, type, record, previous))) recount(txn, campaignId);
}
