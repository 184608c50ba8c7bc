/**
 * The admin's rules as data (`installations.settings` jsonb keys): stage dictionary, field sync
 * rules, channel rules, feedback taxonomy, SLA policy, revenue policy, marketing commitments,
 * shared goals and how Salesforce changes arrive. Every edit goes through the domain's
 * validator, then through the check against the live CRMs (picklist values, fields and properties
 * exist and are writable), and is refused with every message; a preview counts what it would
 * change. A saved edit reaches every process (settingsChanged).
 */
import { DEFAULT_MARKETING_COMMITMENTS, validateMarketingCommitments, type MarketingCommitments } from '../../domain/commitments.ts';
import { DEFAULT_SHARED_GOALS, validateSharedGoals, type SharedGoals } from '../../domain/goals.ts';
import { DEFAULT_CHANNEL_RULES, validateChannelRules, type ChannelRules } from '../../domain/channels.ts';
import { DEFAULT_FEEDBACK_TAXONOMY, validateFeedbackTaxonomy, type FeedbackTaxonomy } from '../../domain/feedback.ts';
import type { Result } from '../../domain/result.ts';
import { DEFAULT_REVENUE_POLICY, validateRevenuePolicy, type RevenuePolicy } from '../../domain/revenue.ts';
import {
  checkChannelRules,
  checkFeedbackTaxonomy,
  checkFieldMappings,
  checkMarketingCommitments,
  checkRevenuePolicy,
  checkSlaPolicy,
  checkStageDictionary,
  type CrmFacts,
} from '../../domain/settings-check.ts';
import {
  previewChannelRules,
  previewFeedbackTaxonomy,
  previewFieldMappings,
  previewMarketingCommitments,
  previewRevenuePolicy,
  previewSharedGoals,
  previewSlaPolicy,
  previewStageDictionary,
  type SettingPreview,
} from '../../domain/settings-preview.ts';
import { DEFAULT_SLA_POLICY, validateSlaPolicy, type SlaPolicy } from '../../domain/sla.ts';
import {
  DEFAULT_FIELD_MAPPINGS,
  DEFAULT_STAGE_DICTIONARY,
  validateFieldMappings,
  validateStageDictionary,
  type FieldMapping,
  type StageDictionary,
} from '../../domain/stages.ts';
import type { AppConfig } from '../../config.ts';
import {
  DEFAULT_DELETION_POLICY,
  describeDeletionPolicyChange,
  validateDeletionPolicy,
  type DeletionPolicy,
} from '../../domain/record-identity.ts';
import { DEFAULT_REVIEW_DIGEST, previewReviewDigest, validateReviewDigest, type ReviewDigest } from '../../domain/digest.ts';
import type { InstallationRuntime } from '../../runtime/installation-clients.ts';
import {
  checkOwnerMatching,
  DEFAULT_OWNER_MATCHING,
  previewOwnerMatching,
  validateOwnerMatching,
  type OwnerMatching,
} from '../../domain/owners.ts';
import { DEFAULT_PRIVACY_POLICY, previewPrivacyPolicy, validatePrivacyPolicy, type PrivacyPolicy } from '../../domain/consent.ts';
import { type ChangeFeedSetting, DEFAULT_CHANGE_FEED, describeChangeFeedChange, validateChangeFeed } from '../../domain/change-feed.ts';
import { describeSalesforceFeedChange } from '../../domain/salesforce-feed.ts';
import type { Queryable } from '../../store/db.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { deleteSetting, readSettings, writeSetting } from '../../store/installation-admin.ts';
import {
  contactsByStage,
  customerCounts,
  feedbackByReasonLabel,
  linkedRecordCount,
  runningClockCount,
  touchesByChannel,
} from '../../store/settings-preview.ts';
import { settingsChanged, type AdminContext } from './context.ts';
import { runtimeOf } from './installations.ts';
import { readCrmFacts } from './settings-live.ts';

/** The settings keys, in the order the dashboard shows them. */
export const SETTING_KEYS = [
  'stageDictionary',
  'fieldMappings',
  'channelRules',
  'feedbackTaxonomy',
  'slaPolicy',
  'revenuePolicy',
  'marketingCommitments',
  'sharedGoals',
  'reviewDigest',
  'ownerMatching',
  'privacyPolicy',
  'deletionPolicy',
  'hubspotChangeFeed',
  'salesforceFeed',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

interface SettingDefinition<T> {
  label: string;
  description: string;
  /** The shape check (zod, the domain's validator). */
  validate(input: unknown): Result<T, string[]>;
  /** The check against the CRMs' metadata (domain/settings-check.ts). */
  check(value: T, facts: CrmFacts, runtime: Pick<InstallationRuntime, 'attribution'>): string[];
  /** The check against the deployment's configuration (a setting that needs SMTP), when there is one. */
  deploymentCheck?(value: T, config: AppConfig): string[];
  /** A check that asks the CRMs more than their metadata (the people in them), when there is one. */
  liveCheck?(value: T, runtime: Pick<InstallationRuntime, 'hubspot' | 'salesforce'>): Promise<string[]>;
  /** What saving `next` over `current` would change, counted from the app's tables. */
  preview(db: Queryable, installationId: string, current: T, next: T): Promise<SettingPreview>;
  defaults: T;
}

/** The preview of a change described in lines to read, with no records to count. */
function infoPreview(lines: readonly string[]): SettingPreview {
  return { changed: lines.length > 0, lines: lines.map((text) => ({ level: 'info', count: 0, text })), restampOffered: false };
}

/** Keeps each definition's value type inside it while the table holds them side by side. */
function define<T>(definition: SettingDefinition<T>): SettingDefinition<unknown> {
  return definition;
}

/** What each key holds, its validator, its CRM check, its preview and its default. */
export const SETTINGS: Readonly<Record<SettingKey, SettingDefinition<unknown>>> = {
  stageDictionary: define<StageDictionary>({
    label: 'Stage dictionary',
    description:
      'What each shared funnel stage means in HubSpot and in Salesforce, and which way it syncs. One value may mean one stage only.',
    validate: validateStageDictionary,
    check: (value, facts) => checkStageDictionary(value, facts),
    preview: async (db, id, current, next) => previewStageDictionary(current, next, await contactsByStage(db, id)),
    defaults: DEFAULT_STAGE_DICTIONARY,
  }),
  fieldMappings: define<readonly FieldMapping[]>({
    label: 'Field sync rules',
    description:
      'HubSpot contact property ↔ Salesforce Lead field, each with its rule: prefer_salesforce_unless_blank, always_salesforce, two_way or dont_sync.',
    validate: validateFieldMappings,
    check: (value, facts) => checkFieldMappings(value, facts),
    preview: async (db, id, current, next) => previewFieldMappings(current, next, await linkedRecordCount(db, id)),
    defaults: DEFAULT_FIELD_MAPPINGS,
  }),
  channelRules: define<ChannelRules>({
    label: 'Channel rules',
    description:
      'Source/medium/campaign patterns → channel, first match wins (like GA4 default channel grouping), with site lists and a fallback channel.',
    validate: validateChannelRules,
    check: (value, facts, runtime) => checkChannelRules(value, runtime.attribution.leadSourceByChannel, facts),
    preview: async (db, id, current, next) => previewChannelRules(current, next, await touchesByChannel(db, id)),
    defaults: DEFAULT_CHANNEL_RULES,
  }),
  feedbackTaxonomy: define<FeedbackTaxonomy>({
    label: 'Feedback taxonomy',
    description: 'Salesforce reason labels → stable reason codes, which reasons recycle a lead to nurture, and the Lead Status meanings.',
    validate: validateFeedbackTaxonomy,
    check: (value, facts) => checkFeedbackTaxonomy(value, facts),
    preview: async (db, id, current, next) => previewFeedbackTaxonomy(current, next, await feedbackByReasonLabel(db, id)),
    defaults: DEFAULT_FEEDBACK_TAXONOMY,
  }),
  slaPolicy: define<SlaPolicy>({
    label: 'SLA policy',
    description: 'Hours from handoff to the first sales touch, optional business hours, and overrides per team or Lead Source.',
    validate: validateSlaPolicy,
    check: (value, facts) => checkSlaPolicy(value, facts),
    preview: async (db, id, current, next) => previewSlaPolicy(current, next, await runningClockCount(db, id)),
    defaults: DEFAULT_SLA_POLICY,
  }),
  revenuePolicy: define<RevenuePolicy>({
    label: 'Revenue policy',
    description:
      'Which day a won deal counts on (the day it was won, or its close date), customer size bands for segments, and acquisition cost per channel and month where no Salesforce Campaign carries it.',
    validate: validateRevenuePolicy,
    check: (value, _facts, runtime) => checkRevenuePolicy(value, runtime.attribution.channelRules),
    preview: async (db, id, current, next) => previewRevenuePolicy(current, next, await customerCounts(db, id)),
    defaults: DEFAULT_REVENUE_POLICY,
  }),
  marketingCommitments: define<MarketingCommitments>({
    label: 'Marketing commitments',
    description:
      "Marketing's side of the SLA: MQLs delivered, SQLs accepted by sales and pipeline created per month or quarter, optionally for one first-touch channel, paced against the period; at risk or behind alerts the alert target once per period.",
    validate: validateMarketingCommitments,
    check: (value, _facts, runtime) => checkMarketingCommitments(value, runtime.attribution.channelRules),
    preview: (_db, _id, current, next) => Promise.resolve(previewMarketingCommitments(current, next)),
    defaults: DEFAULT_MARKETING_COMMITMENTS,
  }),
  sharedGoals: define<SharedGoals>({
    label: 'Shared goals',
    description:
      'The goal table both teams see, per quarter: revenue, pipeline coverage, MQL→SQL and SQL→won conversion, win rate and time to first touch, each with a target and an owner.',
    validate: validateSharedGoals,
    check: () => [],
    preview: (_db, _id, current, next) => Promise.resolve(previewSharedGoals(current, next)),
    defaults: DEFAULT_SHARED_GOALS,
  }),
  reviewDigest: define<ReviewDigest>({
    label: 'Review digest',
    description:
      "The pipeline review sent weekly or every two weeks at a weekday, hour and time zone: by email (through the deployment's SMTP server) and as a chat-ready text to the signed alert target, once per week or fortnight.",
    validate: validateReviewDigest,
    check: () => [],
    // Refused at save time rather than failing at send time: an admin sees it while still on the form.
    deploymentCheck: (value, config) =>
      value.emailTo.length > 0 && config.smtp === undefined
        ? [
            'emailTo: email is not configured on this deployment (the operator sets SMTP_HOST and SMTP_FROM): remove the recipients or send to the alert target only',
          ]
        : [],
    preview: (_db, _id, current, next) => Promise.resolve(previewReviewDigest(current, next, new Date())),
    defaults: DEFAULT_REVIEW_DIGEST,
  }),
  ownerMatching: define<OwnerMatching>({
    label: 'Owner matching',
    description:
      "HubSpot owners are matched to Salesforce users by email; an override pairs an owner (id or email) with a user (id or username) instead. A Lead is owned by the matched active user, else the org's assignment rules decide.",
    validate: validateOwnerMatching,
    check: () => [],
    liveCheck: async (value, runtime) => {
      if (value.overrides.length === 0) return [];
      const [owners, users] = await Promise.all([runtime.hubspot.listOwners(), runtime.salesforce.listUsers()]);
      if (!owners.ok) return [`overrides: HubSpot's owners could not be read, so the pairs cannot be checked: ${owners.error}`];
      return checkOwnerMatching(value, { owners: owners.value, users });
    },
    preview: (_db, _id, current, next) => Promise.resolve(previewOwnerMatching(current, next)),
    defaults: DEFAULT_OWNER_MATCHING,
  }),
  privacyPolicy: define<PrivacyPolicy>({
    label: 'Privacy deletions',
    description:
      'What a HubSpot GDPR deletion does to the linked Salesforce Lead or Contact: anonymize it (the default), or leave it and only unlink it. The app always erases its own copy of the person.',
    validate: validatePrivacyPolicy,
    check: () => [],
    preview: (_db, _id, current, next) => Promise.resolve(previewPrivacyPolicy(current, next)),
    defaults: DEFAULT_PRIVACY_POLICY,
  }),
  deletionPolicy: define<DeletionPolicy>({
    label: 'Deletion policy',
    description:
      'What a record deleted on one side does to its linked record on the other: only unlink (the default: never delete across systems) or delete it too. A restore (HubSpot restore, Salesforce undelete) links them again.',
    validate: validateDeletionPolicy,
    check: () => [],
    preview: async (db, id, current, next) => {
      const changes = describeDeletionPolicyChange(current, next);
      const linked = await linkedRecordCount(db, id);
      return {
        changed: changes.length > 0,
        lines: changes.map((text) => ({
          level: text.includes('also deletes') ? ('warn' as const) : ('info' as const),
          count: linked,
          text: `${text} (linked records now)`,
        })),
        restampOffered: false,
      };
    },
    defaults: DEFAULT_DELETION_POLICY,
  }),
  hubspotChangeFeed: define<ChangeFeedSetting>({
    label: 'HubSpot change feed',
    description:
      "How HubSpot changes reach the app: push (signed webhooks to /webhooks/hubspot, needs a public URL), pull (the app reads the portal's webhooks journal, outbound connections only) or both (each change taken once).",
    validate: validateChangeFeed,
    check: () => [],
    preview: (_db, _id, current, next) => Promise.resolve(infoPreview(describeChangeFeedChange('HubSpot', current.mode, next.mode))),
    defaults: DEFAULT_CHANGE_FEED,
  }),
  salesforceFeed: define<ChangeFeedSetting>({
    label: 'Salesforce changes arrive by',
    description:
      'push: Outbound Messages to the public endpoint (the default); pull: change data capture over the Pub/Sub API, followed by the worker with no public endpoint; both: the two together, one sync per change.',
    validate: validateChangeFeed,
    check: () => [],
    preview: (_db, _id, current, next) => Promise.resolve(infoPreview(describeSalesforceFeedChange(current, next))),
    defaults: DEFAULT_CHANGE_FEED,
  }),
};

/** Whether a string names a settings key. */
export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

export interface SettingView {
  key: SettingKey;
  label: string;
  description: string;
  /** The value in effect: the stored one, or the default. */
  value: unknown;
  isDefault: boolean;
  /** Problems of a stored value that no longer validates (the default applies meanwhile). */
  problems: string[];
}

/** Every setting of an installation, as in effect. */
export async function readAllSettings(db: Queryable, installationId: string): Promise<SettingView[]> {
  const stored = await readSettings(db, installationId);
  return SETTING_KEYS.map((key) => {
    const definition = SETTINGS[key];
    if (stored[key] === undefined)
      return {
        key,
        label: definition.label,
        description: definition.description,
        value: definition.defaults,
        isDefault: true,
        problems: [],
      };
    const checked = definition.validate(stored[key]);
    return checked.ok
      ? { key, label: definition.label, description: definition.description, value: checked.value, isDefault: false, problems: [] }
      : {
          key,
          label: definition.label,
          description: definition.description,
          value: definition.defaults,
          isDefault: true,
          problems: checked.error,
        };
  });
}

/** Whether the rules were checked against the CRMs, or why not (no CRM connected: nothing syncs yet). */
export type CrmCheck = { checked: true } | { checked: false; reason: string };

/** A setting that passed every check, with what saving it changes. */
export interface CheckedSetting {
  value: unknown;
  preview: SettingPreview;
  crmCheck: CrmCheck;
}

/** Why a setting is refused: its problems (422), or the CRMs could not be asked (503). */
export interface RefusedSetting {
  status: 422 | 503;
  issues: string[];
}

/**
 * Checks one setting as an edit would be saved: its shape, then against the CRMs' metadata, then
 * previews it against the value in effect. Nothing is written.
 */
export async function checkSetting(
  ctx: AdminContext,
  installationId: string,
  key: SettingKey,
  input: unknown,
): Promise<Result<CheckedSetting, RefusedSetting>> {
  const definition = SETTINGS[key];
  const shaped = definition.validate(input);
  if (!shaped.ok) return { ok: false, error: { status: 422, issues: shaped.error } };
  const deploymentProblems = definition.deploymentCheck?.(shaped.value, ctx.config) ?? [];
  if (deploymentProblems.length > 0) return { ok: false, error: { status: 422, issues: deploymentProblems } };
  // 1. Against the CRMs, when the installation reaches them.
  const runtime = await runtimeOf(ctx, installationId);
  let crmCheck: CrmCheck;
  if ('error' in runtime) {
    crmCheck = { checked: false, reason: runtime.error };
  } else {
    let facts: CrmFacts;
    try {
      facts = await readCrmFacts(runtime);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        error: {
          status: 503,
          issues: [`(root): the CRMs could not be asked whether these values exist, so nothing was saved: ${message}`],
        },
      };
    }
    let problems = definition.check(shaped.value, facts, runtime);
    try {
      if (problems.length === 0 && definition.liveCheck) problems = await definition.liveCheck(shaped.value, runtime);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        error: {
          status: 503,
          issues: [`(root): the CRMs could not be asked whether these values exist, so nothing was saved: ${message}`],
        },
      };
    }
    if (problems.length > 0) return { ok: false, error: { status: 422, issues: problems } };
    crmCheck = { checked: true };
  }
  // 2. What it would change, from the app's own records.
  const current = (await readAllSettings(ctx.db, installationId)).find((view) => view.key === key)?.value ?? definition.defaults;
  const preview = await definition.preview(ctx.db, installationId, current, shaped.value);
  return { ok: true, value: { value: shaped.value, preview, crmCheck } };
}

/** Checks and stores one setting; refused with every problem found. Every process reads it at its next job. */
export async function saveSetting(
  ctx: AdminContext,
  installationId: string,
  key: SettingKey,
  input: unknown,
): Promise<Result<CheckedSetting, RefusedSetting>> {
  const checked = await checkSetting(ctx, installationId, key, input);
  if (!checked.ok) return checked;
  await writeSetting(ctx.db, installationId, key, checked.value.value);
  await recordAdminAction(ctx.db, { installationId, action: 'settings_saved', summary: `${SETTINGS[key].label} saved` });
  await settingsChanged(ctx, installationId, key);
  return checked;
}

/** Removes a stored setting so the default applies again. */
export async function resetSetting(ctx: AdminContext, installationId: string, key: SettingKey): Promise<void> {
  await deleteSetting(ctx.db, installationId, key);
  await recordAdminAction(ctx.db, { installationId, action: 'settings_reset', summary: `${SETTINGS[key].label} reset to the default` });
  await settingsChanged(ctx, installationId, key);
}
