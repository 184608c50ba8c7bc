/**
 * The HubSpot developer-platform project in platform/hubspot, read by HubSpot's own parser
 * (@hubspot/project-parsing-lib: `hs project upload` and `hs project validate` run its `translate`).
 *
 * Offline, `translate` does what an upload does short of the schema check: it finds the
 * *-hsmeta.json files (one outside its component's directory is listed as skipped), applies a
 * config profile's variables and links each feature to its app, throwing on what it cannot
 * translate (no component, a duplicate uid, a profile variable without a value). The component
 * schemas are served by HubSpot per platform version to an authenticated account (the library's
 * `getIntermediateRepresentationSchema`), so that case runs only with the library's environment
 * configuration set: USE_ENVIRONMENT_HUBSPOT_CONFIG=true, HUBSPOT_ACCOUNT_ID and
 * HUBSPOT_PERSONAL_ACCESS_KEY.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SubscriptionCreateRequestEventTypeEnum } from '@hubspot/api-client/lib/codegen/webhooks/models/SubscriptionCreateRequest.js';
import { ALLOWED_TOP_LEVEL_FIELDS } from '@hubspot/project-parsing-lib/constants';
import { getProjectMetadata, isKnownPlatformVersion, isLegacyProject, parseProjectConfig } from '@hubspot/project-parsing-lib/projects';
import { isTranslationError, translate, type IntermediateRepresentationNode } from '@hubspot/project-parsing-lib/translate';
import { validateUid } from '@hubspot/project-parsing-lib/uid';
import { afterAll, describe, expect, it } from 'vitest';
import { WATCHED_PROPERTIES } from '../../src/crm/field-catalog.ts';
import { PROPERTYLESS_EVENTS } from '../../src/crm/hubspot/webhook-subscriptions.ts';
import { IDENTITY_EVENT_TYPES } from '../../src/crm/hubspot/webhook-subscriptions.ts';
import { HUBSPOT_SCOPES } from '../../src/server/oauth/apps.ts';
import { isHandledSubscription } from '../../webhooks/hubspot/schema.ts';

const KIT_DIR = fileURLToPath(new URL('../../platform/hubspot/', import.meta.url));
const APP_FILE = 'src/app/app-hsmeta.json';
const WEBHOOKS_FILE = 'src/app/webhooks/webhooks-hsmeta.json';
// Where the app listens: the receiver is mounted at /webhooks/hubspot (src/startup/boot.ts), the
// OAuth routes at /oauth (src/server/admin/index.ts) with /hubspot/callback (src/server/oauth/router.ts).
const WEBHOOK_PATH = '/webhooks/hubspot';
const OAUTH_CALLBACK_PATH = '/oauth/hubspot/callback';
const PUBLIC_URL = 'https://sync.example.com';
const PROFILE = 'test';

interface AppConfig {
  name: string;
  distribution: string;
  auth: { type: string; redirectUrls: string[]; requiredScopes: string[]; optionalScopes: string[]; conditionallyRequiredScopes: string[] };
}
interface Subscription {
  subscriptionType: string;
  propertyName?: string;
  active: boolean;
}
interface WebhooksConfig {
  settings: { targetUrl: string; maxConcurrentRequests: number };
  subscriptions: Record<string, Subscription[]>;
}

const { platformVersion } = parseProjectConfig(KIT_DIR);
const env = process.env;
const schemaAccount =
  env.USE_ENVIRONMENT_HUBSPOT_CONFIG === 'true' && env.HUBSPOT_PERSONAL_ACCESS_KEY && env.HUBSPOT_ACCOUNT_ID
    ? Number(env.HUBSPOT_ACCOUNT_ID)
    : undefined;

async function readHsMeta<T>(file: string): Promise<{ uid: string; type: string; config: T } & Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(KIT_DIR, file), 'utf8')) as { uid: string; type: string; config: T };
}

const copies: string[] = [];
afterAll(async () => {
  await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of the kit with one deployment's config profile, as an admin has it; returns its source dir. */
async function deployment(variables: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hubspot-kit-'));
  copies.push(dir);
  await cp(KIT_DIR, dir, { recursive: true });
  const srcDir = path.join(dir, 'src');
  await writeFile(path.join(srcDir, `hsprofile.${PROFILE}.json`), JSON.stringify({ accountId: schemaAccount ?? 1, variables }));
  return srcDir;
}

function nodeOf(nodes: IntermediateRepresentationNode[], componentType: string): IntermediateRepresentationNode {
  const node = nodes.find((n) => n.componentType === componentType);
  if (!node) throw new Error(`no ${componentType} component in the project`);
  return node;
}

const subscriptionKey = (s: Subscription) => `${s.subscriptionType}:${s.propertyName ?? ''}`;

describe('HubSpot developer-platform project', () => {
  it('is on a platform version the HubSpot parser knows and not a legacy one', () => {
    expect(isKnownPlatformVersion(platformVersion)).toBe(true);
    expect(isLegacyProject(platformVersion)).toBe(false);
  });

  it('translates with a deployment profile into one app and its webhooks, URLs taken from PUBLIC_URL', async () => {
    const srcDir = await deployment({ PUBLIC_URL });
    const { intermediateRepresentation, skippedHsMetaFiles } = await translate(
      { projectSourceDir: srcDir, platformVersion },
      { skipValidation: true, profile: PROFILE },
    );

    // A file outside the directory of its component type is skipped, not uploaded.
    expect(skippedHsMetaFiles).toEqual([]);
    const nodes = Object.values(intermediateRepresentation.intermediateNodesIndexedByUid);
    expect(nodes.map((n) => n.componentType).sort()).toEqual(['APPLICATION', 'WEBHOOKS']);
    const app = nodeOf(nodes, 'APPLICATION');
    const webhooks = nodeOf(nodes, 'WEBHOOKS');
    expect(webhooks.componentDeps.app).toBe(app.uid);
    for (const node of nodes) expect(validateUid(node.uid), node.uid).toBeUndefined();
    expect((app.config as AppConfig).auth.redirectUrls).toEqual([`${PUBLIC_URL}${OAUTH_CALLBACK_PATH}`]);
    expect((webhooks.config as WebhooksConfig).settings.targetUrl).toBe(`${PUBLIC_URL}${WEBHOOK_PATH}`);
  });

  it('refuses to translate for a profile without PUBLIC_URL', async () => {
    const srcDir = await deployment({});
    await expect(translate({ projectSourceDir: srcDir, platformVersion }, { skipValidation: true, profile: PROFILE })).rejects.toThrow(
      /PUBLIC_URL/,
    );
  });

  it('uses only the top-level fields and component counts the HubSpot parser allows', async () => {
    for (const file of [APP_FILE, WEBHOOKS_FILE]) {
      const fields = Object.keys(await readHsMeta(file));
      expect(
        fields.filter((field) => !(ALLOWED_TOP_LEVEL_FIELDS as ReadonlySet<string>).has(field)),
        file,
      ).toEqual([]);
    }
    const { components } = await getProjectMetadata(path.join(KIT_DIR, 'src'));
    expect(components.app?.count).toBe(1);
    expect(components.webhooks?.count).toBe(1);
    for (const [type, { count, maxCount }] of Object.entries(components)) expect(count, type).toBeLessThanOrEqual(maxCount);
  });

  it('installs through OAuth on many portals', async () => {
    const { config } = await readHsMeta<AppConfig>(APP_FILE);
    expect(config.distribution).toBe('marketplace');
    expect(config.auth.type).toBe('oauth');
  });

  it('declares exactly the scopes the OAuth flow asks for, all required', async () => {
    const { auth } = (await readHsMeta<AppConfig>(APP_FILE)).config;
    // The authorize URL puts every scope in `scope` (src/server/oauth/hubspot.ts): each one is required.
    expect([...auth.requiredScopes].sort()).toEqual([...HUBSPOT_SCOPES].sort());
    expect(auth.optionalScopes).toEqual([]);
    expect(auth.conditionallyRequiredScopes).toEqual([]);
  });

  it('subscribes to contact creation, merge, deletion and restore and to a change of each watched property, and to nothing else', async () => {
    const { subscriptions } = (await readHsMeta<WebhooksConfig>(WEBHOOKS_FILE)).config;
    // The same list ensureWebhookSubscriptions creates on a legacy app (src/crm/hubspot/webhook-subscriptions.ts).
    const consumed: Subscription[] = [
      { subscriptionType: SubscriptionCreateRequestEventTypeEnum.ContactCreation, active: true },
      ...IDENTITY_EVENT_TYPES.map((subscriptionType) => ({ subscriptionType, active: true })),
      ...WATCHED_PROPERTIES.map((propertyName) => ({
        subscriptionType: SubscriptionCreateRequestEventTypeEnum.ContactPropertyChange,
        propertyName,
        active: true,
      })),
    ];
    expect(Object.keys(subscriptions).sort()).toEqual(['hubEvents', 'legacyCrmObjects']);
    // A GDPR deletion is a hub event in a project (docs/reference/hubspot-api.md §2).
    expect(subscriptions.hubEvents).toEqual(PROPERTYLESS_EVENTS.map((subscriptionType) => ({ subscriptionType, active: true })));
    const declared = subscriptions.legacyCrmObjects ?? [];
    expect(new Set(declared.map(subscriptionKey)).size).toBe(declared.length);
    const byKey = (a: Subscription, b: Subscription) => subscriptionKey(a).localeCompare(subscriptionKey(b));
    expect([...declared].sort(byKey)).toEqual([...consumed].sort(byKey));
  });

  it('subscribes only to event types the webhook receiver hands on to the sync', async () => {
    const { subscriptions } = (await readHsMeta<WebhooksConfig>(WEBHOOKS_FILE)).config;
    for (const { subscriptionType } of Object.values(subscriptions).flat())
      expect(isHandledSubscription(subscriptionType), subscriptionType).toBe(true);
  });

  it.skipIf(schemaAccount === undefined)(
    'passes the component schemas HubSpot serves for its platform version',
    { timeout: 60_000 },
    async () => {
      const srcDir = await deployment({ PUBLIC_URL });
      try {
        await translate(
          { projectSourceDir: srcDir, platformVersion, ...(schemaAccount === undefined ? {} : { accountId: schemaAccount }) },
          { profile: PROFILE },
        );
      } catch (error) {
        if (isTranslationError(error)) expect.fail(error.toString());
        throw error;
      }
    },
  );
});
