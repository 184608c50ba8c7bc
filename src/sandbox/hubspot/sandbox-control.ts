import type { z } from 'zod';
import type { PrivateApps } from './auth.ts';
import type { MarketingHubTier } from './campaigns.ts';
import type { CrmService } from './crm-service.ts';
import { objectNotFound, validationError } from './errors.ts';
import type { FaultConfig, FaultController, FaultCounters, faultConfigSchema } from './faults.ts';
import type { ChangeOrigin, FormDefinition, ObjectTypeName } from './model.ts';
import { resolveObjectType } from './object-types.ts';
import type { StatePersistence } from './persistence.ts';
import type { PropertyInputValue, WritePolicy } from './property-values.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { CallStats, SandboxStats } from './stats.ts';
import type { SandboxStore } from './store.ts';
import { toApiObject } from './views.ts';
import type { DeliveryRecord, WebhookDispatcher } from './webhook-delivery.ts';
import type { Journal } from './journal.ts';

/** What `reset` may keep: webhook settings/subscriptions and OAuth grants survive when listed. */
export interface SandboxResetOptions {
  keep?: ('webhooks' | 'oauth')[];
}

export type FaultConfigInput = z.input<typeof faultConfigSchema>;

export interface FaultsView {
  config: FaultConfig;
  counters: FaultCounters;
}

/** Programmatic handles of the sandbox; the `/__sandbox/*` endpoints call the same functions. */
export interface SandboxControl {
  stats(): SandboxStats;
  resetStats(): void;
  /** Empties CRM data, stats, faults and rate-limit windows (config stays). */
  reset(options?: SandboxResetOptions): Promise<void>;
  /** Installs fault knobs (zod-validated; throws on an invalid configuration). */
  setFaults(config: FaultConfigInput): FaultConfig;
  clearFaults(): void;
  faults(): FaultsView;
  deliveries(): DeliveryRecord[];
  /** Every entry now in the webhooks journal passes its 3-day retention (offsets held by readers expire). */
  expireJournal(): void;
  /** A user edit in the HubSpot UI: `changeSource: "CRM_UI"`, `sourceId: "userId:…"`, backward lifecycle moves allowed. */
  editInUi(objectType: string, id: string, properties: Record<string, PropertyInputValue>, userId?: number): Record<string, unknown>;
  createInUi(objectType: string, properties: Record<string, PropertyInputValue>, userId?: number): Record<string, unknown>;
  archiveInUi(objectType: string, id: string, userId?: number): void;
  /**
   * The recipient unsubscribes from all email through a marketing email's footer link: the contact's
   * calculated `hs_email_optout` turns true (changeSource `EMAIL`).
   */
  unsubscribeRecipient(contactId: string): void;
  /** A user restoring a deleted record from the recycle bin (the public API has no restore endpoint). */
  restoreInUi(objectType: string, id: string, userId?: number): void;
  /**
   * Another private app in the portal (a script, a marketing tool), as an admin creates one in
   * Settings → Integrations: its own token and burst limit, the account's daily limit.
   */
  createPrivateApp(name: string): { token: string; appId: number };
  /** Names a form (for conversion event names) and sets its response (inline message or redirect). */
  registerForm(form: FormDefinition): void;
  /** Sets the portal's Marketing Hub tier (below Professional the campaigns API answers 403). */
  setMarketingHubTier(tier: MarketingHubTier): void;
  /** Writes the state file now (no-op without `stateFile`). */
  flushState(): Promise<void>;
  /**
   * Imports contacts in bulk, as a CSV import would: validated like API creates (all or none),
   * no webhooks, no rate limit. For demos and benchmarks of portals that predate the app.
   */
  seedContacts(contacts: readonly { properties: Record<string, PropertyInputValue> }[]): {
    created: number;
    firstId: string | null;
    lastId: string | null;
  };
}

/** Contacts per seed request (one import chunk). */
export const MAX_SEED_CONTACTS = 10_000;
const IMPORT_ORIGIN: ChangeOrigin = { changeSource: 'IMPORT', sourceId: 'sandbox-seed' };

const UI_POLICY: WritePolicy = { lifecycle: 'any', allowReadOnly: false };

interface ControlDeps {
  store: SandboxStore;
  crm: CrmService;
  config: SandboxConfig;
  faults: FaultController;
  dispatcher: WebhookDispatcher;
  journal: Journal;
  stats: CallStats;
  limiter: RateLimiter;
  persistence: StatePersistence | undefined;
  privateApps: PrivateApps;
}

type UiControls = Pick<SandboxControl, 'unsubscribeRecipient' | 'editInUi' | 'createInUi' | 'archiveInUi' | 'restoreInUi'>;

/** What a user does by hand in the HubSpot UI: edits, creates, deletes and restores records. */
function uiControls({ store, crm, config, persistence }: ControlDeps): UiControls {
  const type = (raw: string): ObjectTypeName => {
    const resolved = resolveObjectType(raw);
    if (resolved === undefined) throw validationError(`Unable to infer object type from: ${raw}`);
    return resolved;
  };
  const uiOrigin = (userId: number): ChangeOrigin => ({ changeSource: 'CRM_UI', sourceId: `userId:${userId}`, updatedByUserId: userId });
  const view = (objectType: ObjectTypeName, id: string, names: string[]) => {
    const record = crm.find(objectType, id, { archived: false });
    if (record === undefined) throw objectNotFound(id);
    return toApiObject(
      objectType,
      record,
      { properties: names },
      { catalog: store.properties[objectType], associations: store.associations },
    );
  };
  const changed = () => persistence?.markDirty();

  return {
    unsubscribeRecipient(contactId) {
      const record = crm.find('contacts', contactId);
      if (record === undefined) throw objectNotFound(contactId);
      crm.writeCalculated('contacts', record, new Map([['hs_email_optout', 'true']]), { changeSource: 'EMAIL' });
      changed();
    },
    editInUi(objectType, id, properties, userId = config.uiUserId) {
      const resolved = type(objectType);
      const record = crm.find(resolved, id);
      if (record === undefined) throw objectNotFound(id);
      crm.updateMany(resolved, [{ record, properties }], uiOrigin(userId), UI_POLICY);
      changed();
      return view(resolved, id, Object.keys(properties));
    },
    createInUi(objectType, properties, userId = config.uiUserId) {
      const resolved = type(objectType);
      // Contacts created by hand in HubSpot default to the Lead stage.
      const initial = resolved === 'contacts' ? { lifecyclestage: 'lead', ...properties } : properties;
      const [record] = crm.createMany(resolved, [{ properties: initial }], uiOrigin(userId), UI_POLICY);
      if (record === undefined) throw new Error('UI create returned nothing');
      changed();
      return view(resolved, record.id, Object.keys(initial));
    },
    archiveInUi(objectType, id, userId = config.uiUserId) {
      const resolved = type(objectType);
      const record = crm.find(resolved, id);
      if (record === undefined) throw objectNotFound(id);
      crm.archive(resolved, record, uiOrigin(userId));
      changed();
    },
    restoreInUi(objectType, id, userId = config.uiUserId) {
      const resolved = type(objectType);
      const record = crm.find(resolved, id, { archived: true });
      if (record === undefined) throw objectNotFound(id);
      crm.restore(resolved, record, uiOrigin(userId));
      changed();
    },
  };
}

/** Builds the sandbox controls over the running parts. */
export function createControl(deps: ControlDeps): SandboxControl {
  const { store, crm, faults, dispatcher, journal, stats, limiter, persistence, privateApps } = deps;
  const changed = () => persistence?.markDirty();

  return {
    ...uiControls(deps),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    async reset(options = {}) {
      const keep = new Set(options.keep ?? []);
      dispatcher.reset();
      store.resetCrm();
      if (!keep.has('webhooks')) {
        store.resetWebhooks();
        journal.reset();
      }
      if (!keep.has('oauth')) store.resetOauth();
      stats.reset();
      faults.clear();
      faults.resetCounters();
      limiter.reset();
      if (persistence !== undefined) await persistence.flush();
    },
    setFaults: (input) => faults.set(input),
    clearFaults: () => faults.clear(),
    faults: () => ({ config: faults.current(), counters: { ...faults.counters } }),
    deliveries: () => dispatcher.deliveries(),
    expireJournal: () => journal.expireAll(),
    createPrivateApp: (name) => privateApps.create(name),
    setMarketingHubTier(tier) {
      store.campaignBook.tier = tier;
    },
    registerForm(form) {
      store.forms.set(form.guid, { ...form });
      changed();
    },
    flushState: async () => {
      if (persistence !== undefined) await persistence.flush();
    },
    seedContacts(contacts) {
      if (contacts.length > MAX_SEED_CONTACTS)
        throw validationError(`At most ${MAX_SEED_CONTACTS} contacts per seed request, got ${contacts.length}`);
      const created = dispatcher.withoutWebhooks(() =>
        crm.createMany(
          'contacts',
          contacts.map((c) => ({ properties: c.properties })),
          IMPORT_ORIGIN,
          UI_POLICY,
        ),
      );
      changed();
      return { created: created.length, firstId: created[0]?.id ?? null, lastId: created.at(-1)?.id ?? null };
    },
  };
}
