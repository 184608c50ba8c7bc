/**
 * What a settings change would do, said before it is saved, counted from what the app has
 * recorded (stage history, record links, stamped touches, feedback, running SLA clocks) — never
 * from a scan of the CRMs. Each line names how many records it concerns.
 */
import type { MarketingCommitments } from './commitments.ts';
import type { MappingPair } from './field-values.ts';
import type { SharedGoals } from './goals.ts';
import type { RevenuePolicy } from './revenue.ts';
import type { ChannelRules } from './channels.ts';
import { reasonCodeFor, type FeedbackTaxonomy } from './feedback.ts';
import type { SlaPolicy } from './sla.ts';
import {
  findStageForHubSpot,
  findStageForSalesforce,
  SHARED_STAGES,
  stagesOf,
  type FieldMapping,
  type SalesforceSnapshot,
  type SalesforceStageMeaning,
  type SharedStage,
  type StageDictionary,
} from './stages.ts';

/** One consequence of the change. `warn` lines are the ones an admin should read twice. */
export interface PreviewLine {
  readonly level: 'info' | 'warn';
  readonly count: number;
  readonly text: string;
}

/**
 * The preview of one change; `restampOffered` when recorded history was classified by the old
 * rules; `fillOffered` when field mappings start syncing or change rule, with `fillPairs` the pairs
 * a fill of the existing records would write.
 */
export interface SettingPreview {
  readonly changed: boolean;
  readonly lines: readonly PreviewLine[];
  readonly restampOffered: boolean;
  readonly fillOffered?: boolean;
  readonly fillPairs?: readonly MappingPair[];
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function stageName(stage: string): string {
  return stage.length <= 3 ? stage.toUpperCase() : stage;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The Salesforce record a stage's current meaning describes (what its records hold today). */
function snapshotOf(meaning: SalesforceStageMeaning): SalesforceSnapshot | null {
  if (meaning.object === 'Lead') {
    if (meaning.status === undefined && meaning.isConverted !== true) return null;
    return {
      object: 'Lead',
      Status: meaning.status ?? '',
      IsConverted: meaning.isConverted ?? false,
      Feedback_Reason__c: meaning.reasons?.[0] ?? null,
    };
  }
  return {
    object: 'Opportunity',
    StageName: '',
    IsClosed: meaning.state !== 'open',
    IsWon: meaning.state === 'won',
    Loss_Reason__c: meaning.reasons?.[0] ?? null,
  };
}

function describeMeaning(meaning: SalesforceStageMeaning): string {
  if (meaning.object === 'Opportunity') return `Opportunity state ${meaning.state}`;
  return meaning.status !== undefined ? `Lead Status "${meaning.status}"` : 'converted Lead';
}

/**
 * The stage dictionary: for each stage contacts are in now, where the values their records hold
 * today (the stage's current meaning on each side) would land under the new dictionary.
 */
export function previewStageDictionary(
  current: StageDictionary,
  next: StageDictionary,
  contactsByStage: ReadonlyMap<string, number>,
): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const lines: PreviewLine[] = [];
  // The default stages in their usual order, then any stage only a custom funnel names.
  for (const stage of new Set([...SHARED_STAGES, ...stagesOf(current), ...stagesOf(next)])) {
    const count = contactsByStage.get(stage) ?? 0;
    if (count === 0) continue;
    const outcomes = new Map<string, string[]>();
    const note = (landsAt: SharedStage | null, why: string) => {
      if (landsAt === stage) return;
      const key = landsAt ?? '';
      outcomes.set(key, [...(outcomes.get(key) ?? []), why]);
    };
    for (const row of current.rows.filter((candidate) => candidate.stage === stage)) {
      const snapshot = row.salesforce ? snapshotOf(row.salesforce) : null;
      if (snapshot && row.salesforce) note(findStageForSalesforce(next, snapshot), `their Salesforce ${describeMeaning(row.salesforce)}`);
      if (row.hubspot && Object.keys(row.hubspot).length > 0) {
        const values = Object.entries(row.hubspot)
          .map(([property, value]) => `${property}="${String(value)}"`)
          .join(' + ');
        note(findStageForHubSpot(next, row.hubspot), `their HubSpot ${values}`);
      }
    }
    for (const [landsAt, why] of outcomes) {
      lines.push(
        landsAt === ''
          ? {
              level: 'warn',
              count,
              text: `${plural(count, 'contact')} in ${stageName(stage)} would map to a stage no rule covers (${why.join('; ')} matches no row): their sync would stop`,
            }
          : {
              level: 'warn',
              count,
              text: `${plural(count, 'contact')} in ${stageName(stage)} would count as ${stageName(landsAt)} (${why.join('; ')})`,
            },
      );
    }
  }
  if (current.handoffStage !== next.handoffStage) {
    const count = contactsByStage.get(next.handoffStage) ?? 0;
    lines.push({
      level: 'info',
      count,
      text: `The handoff to sales moves from ${stageName(current.handoffStage)} to ${stageName(next.handoffStage)}; ${plural(count, 'contact')} are in ${stageName(next.handoffStage)} now`,
    });
  }
  const total = [...contactsByStage.values()].reduce((sum, n) => sum + n, 0);
  if (lines.length === 0)
    lines.push({
      level: 'info',
      count: total,
      text: `No contact changes stage: the ${plural(total, 'contact')} with a recorded stage keep it`,
    });
  return { changed: true, lines, restampOffered: false };
}

function pairOf(mapping: FieldMapping): string {
  return `${mapping.hubspotProperty} ↔ ${mapping.salesforceField}`;
}

/** The field rules: which pairs start or stop syncing, or change rule, for every linked record. */
export function previewFieldMappings(
  current: readonly FieldMapping[],
  next: readonly FieldMapping[],
  linkedRecords: number,
): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false, fillOffered: false };
  const lines: PreviewLine[] = [];
  const fillPairs: MappingPair[] = [];
  const syncing = (list: readonly FieldMapping[]) => new Map(list.filter((m) => m.rule !== 'dont_sync').map((m) => [pairOf(m), m]));
  const before = syncing(current);
  const after = syncing(next);
  const records = plural(linkedRecords, 'linked record');
  for (const [pair, mapping] of after) {
    const old = before.get(pair);
    if (!old)
      lines.push({
        level: 'info',
        count: linkedRecords,
        text: `${pair} starts syncing (${mapping.rule}) for ${records}, at their next change unless existing records are filled`,
      });
    else if (old.rule !== mapping.rule)
      lines.push({ level: 'info', count: linkedRecords, text: `${pair} changes from ${old.rule} to ${mapping.rule} for ${records}` });
    if (!old || old.rule !== mapping.rule)
      fillPairs.push({ hubspotProperty: mapping.hubspotProperty, salesforceField: mapping.salesforceField });
  }
  for (const pair of before.keys()) {
    if (!after.has(pair))
      lines.push({ level: 'warn', count: linkedRecords, text: `${pair} stops syncing for ${records}: the two sides may drift apart` });
  }
  return { changed: true, lines, restampOffered: false, fillOffered: fillPairs.length > 0, ...(fillPairs.length > 0 ? { fillPairs } : {}) };
}

/** The channel rules: stamped touches keep the channel they got until history is re-stamped. */
export function previewChannelRules(
  current: ChannelRules,
  next: ChannelRules,
  touchesByChannel: ReadonlyMap<string, number>,
): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const produced = new Set([...next.rules.map((rule) => rule.channel), next.fallbackChannel]);
  const lines: PreviewLine[] = [];
  for (const [channel, count] of touchesByChannel) {
    if (!produced.has(channel))
      lines.push({
        level: 'warn',
        count,
        text: `${plural(count, 'touch', 'touches')} stamped "${channel}", a channel no rule produces any more: the report splits its history until it is re-stamped`,
      });
  }
  const total = [...touchesByChannel.values()].reduce((sum, n) => sum + n, 0);
  lines.push({
    level: 'info',
    count: total,
    text: `${plural(total, 'stamped touch', 'stamped touches')} keep the channel the current rules gave them; new touches get the new rules. Re-stamping history classifies them all again`,
  });
  return { changed: true, lines, restampOffered: total > 0 };
}

/** The feedback taxonomy: how recorded reason labels would be coded from now on. */
export function previewFeedbackTaxonomy(
  current: FeedbackTaxonomy,
  next: FeedbackTaxonomy,
  eventsByLabel: ReadonlyMap<string, number>,
): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const lines: PreviewLine[] = [];
  for (const [label, count] of eventsByLabel) {
    const before = reasonCodeFor(current, label);
    const after = reasonCodeFor(next, label);
    if (before === after) continue;
    const fallback = after === next.fallbackCode && !next.reasons.some((reason) => reason.label === label);
    lines.push({
      level: fallback ? 'warn' : 'info',
      count,
      text: `"${label}" (${plural(count, 'recorded feedback event')}) would be coded ${after ?? 'nothing'} instead of ${before ?? 'nothing'}${fallback ? ': the taxonomy no longer knows it' : ''}; recorded events keep their code`,
    });
  }
  if (lines.length === 0) lines.push({ level: 'info', count: 0, text: 'No recorded reason label is coded differently' });
  return { changed: true, lines, restampOffered: false };
}

/** The SLA policy: running clocks are rescheduled from their handoff. */
export function previewSlaPolicy(current: SlaPolicy, next: SlaPolicy, runningClocks: number): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  return {
    changed: true,
    lines: [
      {
        level: 'info',
        count: runningClocks,
        text: `${plural(runningClocks, 'running SLA clock')} would be rescheduled from their handoff under the new policy`,
      },
    ],
    restampOffered: false,
  };
}

/** What a revenue policy change moves: won deals between periods, customers between size bands. */
export function previewRevenuePolicy(
  current: RevenuePolicy,
  next: RevenuePolicy,
  counts: { wonDeals: number; customers: number },
): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const lines: PreviewLine[] = [];
  if (current.wonDate !== next.wonDate)
    lines.push({
      level: 'info',
      count: counts.wonDeals,
      text: `${plural(counts.wonDeals, 'won deal')} would be reported on ${next.wonDate === 'close_date' ? 'their close date' : 'the day they were won'}`,
    });
  if (!same(current.segments, next.segments))
    lines.push({
      level: 'info',
      count: counts.customers,
      text: `${plural(counts.customers, 'customer account')} would be grouped again into the new size bands`,
    });
  if (!same(current.channelCosts, next.channelCosts))
    lines.push({
      level: 'info',
      count: next.channelCosts.length,
      text: `${plural(next.channelCosts.length, 'channel cost')} would count in the report's cost and ROI`,
    });
  return { changed: true, lines, restampOffered: false };
}

/** Marketing commitments: how many are paced, per which period; nothing recorded changes. */
export function previewMarketingCommitments(current: MarketingCommitments, next: MarketingCommitments): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const lines: PreviewLine[] = [
    {
      level: 'info',
      count: next.commitments.length,
      text: `${plural(next.commitments.length, 'commitment')} would be paced per ${next.period}`,
    },
  ];
  if (current.period !== next.period && current.commitments.length > 0)
    lines.push({
      level: 'warn',
      count: current.commitments.length,
      text: `${plural(current.commitments.length, 'commitment')} paced per ${current.period} would start pacing (and alerting) afresh per ${next.period}`,
    });
  return { changed: true, lines, restampOffered: false };
}

/** Shared goals: how many quarters and KPIs the goal table would show. */
export function previewSharedGoals(current: SharedGoals, next: SharedGoals): SettingPreview {
  if (same(current, next)) return { changed: false, lines: [], restampOffered: false };
  const quarters = new Set(next.goals.map((goal) => goal.quarter)).size;
  return {
    changed: true,
    lines: [
      {
        level: 'info',
        count: next.goals.length,
        text: `${plural(next.goals.length, 'goal')} over ${plural(quarters, 'quarter')} would be in the goal table`,
      },
    ],
    restampOffered: false,
  };
}
