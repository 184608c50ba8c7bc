/**
 * Stage agreement for the initial sync: a HubSpot contact and the Salesforce record it is linked
 * to may have drifted apart before the app was installed. The side that is behind is moved
 * forward to the stage of the side that is ahead, through the stage dictionary; nothing ever
 * moves backwards (invariant 4), and a Lead that sales closed (rejected / recycled) is not
 * reopened. Pure: the caller reads both records and writes what this decides.
 */
import {
  findStageForSalesforce,
  isFunnelStage,
  lifecycleRank,
  stageRank,
  type FunnelStage,
  type SalesforceLeadSnapshot,
  type SalesforceOpportunitySnapshot,
  type SharedStage,
  type StageDictionary,
} from './stages.ts';
import { presentOrNull, sameValue } from './validation.ts';

/** The Salesforce side of a linked pair: the Lead (converted or not) and, after conversion, its Opportunity. */
export interface SalesforceSide {
  readonly lead?: (SalesforceLeadSnapshot & { readonly Lifecycle_Stage__c?: string | null | undefined }) | null | undefined;
  readonly opportunity?: SalesforceOpportunitySnapshot | null | undefined;
}

/** The HubSpot side: the contact's lifecycle properties. */
export interface HubSpotSide {
  readonly lifecyclestage?: string | null | undefined;
  readonly hs_lead_status?: string | null | undefined;
}

/** What the initial sync does about one linked pair. */
export type StageAgreement =
  | { readonly action: 'none'; readonly reason: string }
  | {
      readonly action: 'move_hubspot';
      /** The stage HubSpot is moved to (the Salesforce side's funnel position). */
      readonly stage: FunnelStage;
      readonly properties: Readonly<Record<string, string>>;
      readonly reason: string;
    }
  | {
      readonly action: 'move_salesforce';
      /** The stage the Lead is moved to (the HubSpot side's). */
      readonly stage: FunnelStage;
      /** Lifecycle_Stage__c, and Status when the dictionary maps the stage to a Lead Status that syncs to Salesforce. */
      readonly fields: Readonly<Record<string, string>>;
      readonly reason: string;
    };

/** The funnel stage with the same rank as `stage` (a side stage sits where it happens: lost → opportunity). */
function funnelStageAt(dictionary: StageDictionary, stage: SharedStage): FunnelStage {
  return dictionary.funnel[stageRank(dictionary, stage) ?? 0] ?? dictionary.funnel[0] ?? stage;
}

/** The funnel rows' HubSpot lifecyclestage, per funnel stage (the first row naming one wins). */
function lifecycleOf(dictionary: StageDictionary, stage: FunnelStage): { lifecyclestage: string; hs_lead_status?: string } | null {
  const row = dictionary.rows.find((r) => r.stage === stage && r.hubspot?.lifecyclestage !== undefined);
  if (row?.hubspot?.lifecyclestage === undefined) return null;
  return {
    lifecyclestage: row.hubspot.lifecyclestage,
    ...(row.hubspot.hs_lead_status === undefined ? {} : { hs_lead_status: row.hubspot.hs_lead_status }),
  };
}

/**
 * Where a contact stands in the funnel by its lifecyclestage alone: the furthest funnel stage whose
 * lifecyclestage is not after the contact's in the portal's order (subscriber → before lead: -1;
 * evangelist → customer). Null when the value cannot be ranked.
 */
export function hubspotFunnelRank(dictionary: StageDictionary, contact: HubSpotSide): number | null {
  const have = presentOrNull(contact.lifecyclestage);
  if (have === null) return -1;
  const haveRank = lifecycleRank(dictionary.hubspotLifecycleOrder, have);
  if (haveRank === null) return null;
  let rank = -1;
  dictionary.funnel.forEach((stage, funnelRank) => {
    const meaning = lifecycleOf(dictionary, stage);
    const lifecycle = meaning === null ? null : lifecycleRank(dictionary.hubspotLifecycleOrder, meaning.lifecyclestage);
    if (lifecycle !== null && lifecycle <= haveRank) rank = Math.max(rank, funnelRank);
  });
  return rank;
}

/** The shared stage the Salesforce side is at: the Opportunity's after conversion, else the Lead's. */
export function salesforceStage(dictionary: StageDictionary, side: SalesforceSide): SharedStage | null {
  if (side.opportunity) return findStageForSalesforce(dictionary, side.opportunity);
  if (side.lead) return findStageForSalesforce(dictionary, side.lead);
  return null;
}

function describeSalesforce(side: SalesforceSide): string {
  if (side.opportunity)
    return `Opportunity "${side.opportunity.StageName}"${side.opportunity.IsWon ? ' (won)' : side.opportunity.IsClosed ? ' (lost)' : ' (open)'}`;
  if (side.lead) return `Lead Status "${side.lead.Status}"${side.lead.IsConverted ? ' (converted)' : ''}`;
  return 'no Salesforce record';
}

/**
 * Decides how a linked pair is brought into agreement: the side that is behind moves forward to
 * the other side's stage; equal stages, side stages a person decided (a closed Lead) and values
 * the dictionary cannot rank write nothing.
 */
export function decideStageAgreement(dictionary: StageDictionary, hubspot: HubSpotSide, salesforce: SalesforceSide): StageAgreement {
  const lifecycle = presentOrNull(hubspot.lifecyclestage);
  const hubspotRank = hubspotFunnelRank(dictionary, hubspot);
  const hubspotText = lifecycle === null ? 'HubSpot has no lifecyclestage' : `HubSpot lifecyclestage "${lifecycle}"`;
  if (hubspotRank === null)
    return { action: 'none', reason: `${hubspotText} is not in hubspotLifecycleOrder: it cannot be ranked, nothing moved` };
  if (!salesforce.lead && !salesforce.opportunity)
    return { action: 'none', reason: 'linked to a Salesforce Contact only: no Salesforce stage to compare' };
  const sfStage = salesforceStage(dictionary, salesforce);
  const sfText = describeSalesforce(salesforce);
  if (sfStage === null) return { action: 'none', reason: `no stage in the dictionary names ${sfText}: nothing moved` };
  const sfFunnel = funnelStageAt(dictionary, sfStage);
  const sfRank = stageRank(dictionary, sfFunnel) ?? 0;
  const pair: LinkedPair = { dictionary, hubspot, hubspotText, salesforce, sfStage, sfText };

  if (sfRank > hubspotRank) return moveHubSpotForward(pair, sfFunnel);
  if (hubspotRank > sfRank) return moveSalesforceForward(pair, dictionary.funnel[hubspotRank] ?? sfFunnel);
  return { action: 'none', reason: `already in agreement: ${hubspotText} and ${sfText} are both at ${sfFunnel}` };
}

/** A linked pair as decideStageAgreement has read it. */
interface LinkedPair {
  readonly dictionary: StageDictionary;
  readonly hubspot: HubSpotSide;
  readonly hubspotText: string;
  readonly salesforce: SalesforceSide;
  readonly sfStage: SharedStage;
  readonly sfText: string;
}

const describeWrites = (values: Readonly<Record<string, string>>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

/** Salesforce is ahead: HubSpot's lifecyclestage moves forward to the Salesforce side's funnel stage. */
function moveHubSpotForward(pair: LinkedPair, sfFunnel: FunnelStage): StageAgreement {
  const { dictionary, hubspot, hubspotText, sfStage, sfText } = pair;
  const target = lifecycleOf(dictionary, sfFunnel);
  if (target === null)
    return {
      action: 'none',
      reason: `Salesforce is ahead (${sfText}: ${sfStage}) but the dictionary gives ${sfFunnel} no HubSpot lifecyclestage`,
    };
  const lifecycle = presentOrNull(hubspot.lifecyclestage);
  const wantedRank = lifecycleRank(dictionary.hubspotLifecycleOrder, target.lifecyclestage);
  const haveRank = lifecycle === null ? -1 : lifecycleRank(dictionary.hubspotLifecycleOrder, lifecycle);
  if (wantedRank === null || haveRank === null || wantedRank <= haveRank) {
    return { action: 'none', reason: `refused: moving ${hubspotText} to "${target.lifecyclestage}" would not be forward` };
  }
  const properties: Record<string, string> = { lifecyclestage: target.lifecyclestage };
  const status = presentOrNull(hubspot.hs_lead_status);
  if (target.hs_lead_status !== undefined && (status === null || !sameValue(status, target.hs_lead_status)))
    properties.hs_lead_status = target.hs_lead_status;
  return {
    action: 'move_hubspot',
    stage: sfFunnel,
    properties,
    reason: `Salesforce is ahead: ${sfText} is ${sfStage}; ${hubspotText} moves forward to ${describeWrites(properties)}`,
  };
}

/** HubSpot is ahead: an unconverted, open Lead moves forward to the HubSpot side's stage. */
function moveSalesforceForward(pair: LinkedPair, hubspotStage: FunnelStage): StageAgreement {
  const { dictionary, hubspotText, salesforce, sfStage, sfText } = pair;
  const lead = salesforce.lead;
  if (!lead || lead.IsConverted || salesforce.opportunity) {
    return {
      action: 'none',
      reason: `HubSpot is ahead (${hubspotStage}) but ${sfText}: after conversion Salesforce owns the stage, nothing moved`,
    };
  }
  if (!isFunnelStage(dictionary, sfStage)) {
    return {
      action: 'none',
      reason: `HubSpot is ahead (${hubspotStage}) but sales closed the Lead (${sfText}: ${sfStage}): not reopened`,
    };
  }
  const fields: Record<string, string> = {};
  if (presentOrNull(lead.Lifecycle_Stage__c) !== hubspotStage) fields.Lifecycle_Stage__c = hubspotStage;
  const statusRow = dictionary.rows.find(
    (row) =>
      row.stage === hubspotStage &&
      (row.direction === 'hubspot_to_salesforce' || row.direction === 'both') &&
      row.salesforce?.object === 'Lead' &&
      row.salesforce.status !== undefined,
  );
  const status = statusRow?.salesforce?.object === 'Lead' ? statusRow.salesforce.status : undefined;
  if (status !== undefined && !sameValue(status, lead.Status)) fields.Status = status;
  if (Object.keys(fields).length === 0)
    return { action: 'none', reason: `HubSpot is ahead (${hubspotStage}); the Lead already shows Lifecycle_Stage__c "${hubspotStage}"` };
  return {
    action: 'move_salesforce',
    stage: hubspotStage,
    fields,
    reason: `HubSpot is ahead: ${hubspotText} is ${hubspotStage}, ${sfText} is ${sfStage}; the Lead moves forward: ${describeWrites(fields)}`,
  };
}
