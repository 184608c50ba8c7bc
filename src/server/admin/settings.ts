/**
 * The admin's rules as data (`installations.settings` jsonb keys): stage dictionary, field sync
 * rules, channel rules, feedback taxonomy and SLA policy. Every edit goes through the domain's
 * validator and is refused with its messages; a saved edit drops the cached runtime.
 */
import { DEFAULT_CHANNEL_RULES, validateChannelRules } from '../../domain/channels.ts';
import { DEFAULT_FEEDBACK_TAXONOMY, validateFeedbackTaxonomy } from '../../domain/feedback.ts';
import type { Result } from '../../domain/result.ts';
import { DEFAULT_SLA_POLICY, validateSlaPolicy } from '../../domain/sla.ts';
import { DEFAULT_FIELD_MAPPINGS, DEFAULT_STAGE_DICTIONARY, validateFieldMappings, validateStageDictionary } from '../../domain/stages.ts';
import type { Queryable } from '../../store/db.ts';
import { recordAdminAction } from '../../store/admin-sessions.ts';
import { deleteSetting, readSettings, writeSetting } from '../../store/installation-admin.ts';

/** The settings keys, in the order the dashboard shows them. */
export const SETTING_KEYS = ['stageDictionary', 'fieldMappings', 'channelRules', 'feedbackTaxonomy', 'slaPolicy'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

interface SettingDefinition {
  label: string;
  description: string;
  validate(input: unknown): Result<unknown, string[]>;
  defaults: unknown;
}

/** What each key holds, its validator and its default. */
export const SETTINGS: Readonly<Record<SettingKey, SettingDefinition>> = {
  stageDictionary: {
    label: 'Stage dictionary',
    description: 'What each shared funnel stage means in HubSpot and in Salesforce, and which way it syncs. One value may mean one stage only.',
    validate: validateStageDictionary,
    defaults: DEFAULT_STAGE_DICTIONARY,
  },
  fieldMappings: {
    label: 'Field sync rules',
    description: 'HubSpot contact property ↔ Salesforce Lead field, each with its rule: prefer_salesforce_unless_blank, always_salesforce, two_way or dont_sync.',
    validate: validateFieldMappings,
    defaults: DEFAULT_FIELD_MAPPINGS,
  },
  channelRules: {
    label: 'Channel rules',
    description: 'Source/medium/campaign patterns → channel, first match wins (like GA4 default channel grouping), with site lists and a fallback channel.',
    validate: validateChannelRules,
    defaults: DEFAULT_CHANNEL_RULES,
  },
  feedbackTaxonomy: {
    label: 'Feedback taxonomy',
    description: 'Salesforce reason labels → stable reason codes, which reasons recycle a lead to nurture, and the Lead Status meanings.',
    validate: validateFeedbackTaxonomy,
    defaults: DEFAULT_FEEDBACK_TAXONOMY,
  },
  slaPolicy: {
    label: 'SLA policy',
    description: 'Hours from handoff to the first sales touch, optional business hours, and overrides per team or Lead Source.',
    validate: validateSlaPolicy,
    defaults: DEFAULT_SLA_POLICY,
  },
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
    if (stored[key] === undefined) return { key, label: definition.label, description: definition.description, value: definition.defaults, isDefault: true, problems: [] };
    const checked = definition.validate(stored[key]);
    return checked.ok
      ? { key, label: definition.label, description: definition.description, value: checked.value, isDefault: false, problems: [] }
      : { key, label: definition.label, description: definition.description, value: definition.defaults, isDefault: true, problems: checked.error };
  });
}

/** Validates and stores one setting; refused with every problem the validator found. */
export async function saveSetting(
  db: Queryable,
  installationId: string,
  key: SettingKey,
  input: unknown,
  onSaved: (installationId: string, key: SettingKey) => Promise<void>,
): Promise<Result<unknown, string[]>> {
  const checked = SETTINGS[key].validate(input);
  if (!checked.ok) return checked;
  await writeSetting(db, installationId, key, checked.value);
  await recordAdminAction(db, { installationId, action: 'settings_saved', summary: `${SETTINGS[key].label} saved` });
  await onSaved(installationId, key);
  return checked;
}

/** Removes a stored setting so the default applies again. */
export async function resetSetting(db: Queryable, installationId: string, key: SettingKey, onSaved: (installationId: string, key: SettingKey) => Promise<void>): Promise<void> {
  await deleteSetting(db, installationId, key);
  await recordAdminAction(db, { installationId, action: 'settings_reset', summary: `${SETTINGS[key].label} reset to the default` });
  await onSaved(installationId, key);
}
