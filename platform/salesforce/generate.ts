/**
 * Writes the Salesforce metadata kit (`platform/salesforce`, an SFDX project) from the app's own
 * definitions, so the kit cannot drift from what the app provisions and reads:
 * - custom fields: `SALESFORCE_CUSTOM_FIELDS` shaped by `toFieldMetadata` (the same metadata the
 *   Tooling API provisioning creates);
 * - the integration and sales permission sets: `INTEGRATION_PERMISSION_SET`, `SALES_PERMISSION_SET`;
 * - the External Client App: the OAuth callback of `src/server/oauth/router.ts` and the scopes of
 *   `SALESFORCE_SCOPE`;
 * - one Outbound Message and one record-triggered Flow sending it per rule of `outboundRulesFor`.
 *
 * `node --import tsx platform/salesforce/generate.ts [--public-url URL] [--webhook-token TOKEN]
 * [--integration-user USERNAME] [--contact-email EMAIL] [--out-dir DIR]` (`npm run
 * platform:salesforce -- …`): an omitted value is written as its `{{…}}` placeholder (the
 * committed kit has all four); `--out-dir` writes the project elsewhere instead of over the kit.
 * Inside each file the elements come in the order the Metadata WSDL declares them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { XMLBuilder } from 'fast-xml-parser';
import { INTEGRATION_PERMISSION_SET, SALES_PERMISSION_SET, SALESFORCE_CUSTOM_FIELDS } from '../../src/crm/field-catalog.ts';
import type { CustomFieldDefinition, PermissionSetSpec } from '../../src/crm/ports.ts';
import { toFieldMetadata } from '../../src/crm/salesforce/mapper.ts';
import { outboundRulesFor, type OutboundRuleSpec } from '../../src/server/admin/provisioning.ts';
import { SALESFORCE_SCOPE } from '../../src/server/oauth/apps.ts';
import type { InstallationDetails } from '../../src/store/installation-admin.ts';

/** The kit's folder (this file's folder). */
export const KIT_ROOT = dirname(fileURLToPath(import.meta.url));

/** The package directory `sf project deploy start --source-dir` takes, relative to the kit. */
export const SOURCE_DIR = 'force-app';

/** The kit's project name in `sfdx-project.json`: an `--out-dir` holding another project is not overwritten. */
const PROJECT_NAME = 'smarketing-sync-salesforce';

/** Metadata API version of the kit: the app's default REST version (`SALESFORCE_API_VERSION`). */
export const KIT_API_VERSION = '62.0';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';
const DEFAULT_DIR = `${SOURCE_DIR}/main/default`;

/** API name of the External Client App (its header file, and the name its plugins point at). */
export const EXTERNAL_CLIENT_APP_NAME = 'Smarketing_Sync';

/** What differs per deployment. */
export interface KitOptions {
  /** The app's `PUBLIC_URL`, without a trailing slash. */
  publicUrl: string;
  /** The installation's Salesforce webhook token (last segment of its Outbound Message endpoint). */
  webhookToken: string;
  /** Username of the integration user the Outbound Messages are sent as. */
  integrationUser: string;
  /** Where Salesforce writes about the External Client App. */
  contactEmail: string;
}

/** Written where a value was not given; a kit that still has one must not be deployed. */
export const PLACEHOLDERS: Readonly<KitOptions> = {
  publicUrl: '{{PUBLIC_URL}}',
  webhookToken: '{{WEBHOOK_TOKEN}}',
  integrationUser: '{{INTEGRATION_USERNAME}}',
  contactEmail: '{{CONTACT_EMAIL}}',
};

// ---------------------------------------------------------------------------------------------
// XML

type XmlValue = string | number | boolean | XmlElement | readonly XmlValue[];
interface XmlElement {
  readonly [name: string]: XmlValue;
}

const builder = new XMLBuilder({
  format: true,
  indentBy: '    ',
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: true,
});

/** A metadata file: the XML declaration and `root` in the metadata namespace; keys in the given order. */
function metadataXml(root: string, body: XmlElement): string {
  const xml = builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [root]: { '@_xmlns': METADATA_NS, ...body } });
  return xml.endsWith('\n') ? xml : `${xml}\n`;
}

/** Code-point order (what the WSDL's alphabetical sequences and a retrieve's sorting follow). */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `fullName` first, then the other elements in code-point order: the order the WSDL declares for
 * CustomField and the types it contains (ValueSet, ValueSetValuesDefinition, CustomValue), as
 * `@salesforce/types` (generated from the WSDL) lists them. Applied to `toFieldMetadata` output,
 * whose key order follows its own code.
 */
function inWsdlOrder(value: unknown): XmlValue {
  if (Array.isArray(value)) return value.map(inWsdlOrder);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object') throw new TypeError(`cannot write ${String(value)} as XML`);
  const rank = (key: string) => (key === 'fullName' ? 0 : 1);
  const keys = Object.keys(value).sort((a, b) => rank(a) - rank(b) || byText(a, b));
  return Object.fromEntries(keys.map((key) => [key, inWsdlOrder((value as Record<string, unknown>)[key])]));
}

// ---------------------------------------------------------------------------------------------
// Components

/** A Salesforce API name: a letter first, then letters, digits and single underscores, no trailing underscore. */
function apiName(label: string): string {
  const name = label.trim().replace(/\s+/g, '_');
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || name.includes('__') || name.endsWith('_')) {
    throw new RangeError(`cannot make a Salesforce API name from ${JSON.stringify(label)}`);
  }
  return name;
}

function customFieldFile(field: CustomFieldDefinition): [string, string] {
  const body = inWsdlOrder({ fullName: field.name, ...toFieldMetadata(field) }) as XmlElement;
  return [`${DEFAULT_DIR}/objects/${field.object}/fields/${field.name}.field-meta.xml`, metadataXml('CustomField', body)];
}

/**
 * A permission set exactly as specified: its system permissions, per object read/create/edit
 * (never delete, View All or Modify All), per field readable and, for `edit`, editable. Sorted as
 * a retrieve writes them.
 */
function permissionSetFile(spec: PermissionSetSpec): [string, string] {
  const fieldPermissions = spec.fields
    .map((f) => ({ editable: f.access === 'edit', field: `${f.object}.${f.field}`, readable: true }))
    .sort((a, b) => byText(a.field, b.field));
  const objectPermissions = [...spec.objects]
    .sort((a, b) => byText(a.object, b.object))
    .map((o) => ({
      allowCreate: o.create,
      allowDelete: false,
      allowEdit: o.edit,
      allowRead: o.read,
      modifyAllRecords: false,
      object: o.object,
      viewAllRecords: false,
    }));
  const userPermissions = [...spec.userPermissions].sort(byText).map((name) => ({ enabled: true, name }));
  return [
    `${DEFAULT_DIR}/permissionsets/${spec.name}.permissionset-meta.xml`,
    metadataXml('PermissionSet', {
      description: spec.description,
      fieldPermissions,
      label: spec.label,
      objectPermissions,
      userPermissions,
    }),
  ];
}

/** OAuth scope values of the app's authorize request → the scope names of ECA metadata (`ConnectedAppOauthAccessScope`). */
const ECA_SCOPE_NAMES: Readonly<Record<string, string>> = { api: 'Api', refresh_token: 'RefreshToken' };

function ecaScopes(): string {
  return SALESFORCE_SCOPE.split(/\s+/)
    .filter((scope) => scope.length > 0)
    .map((scope) => {
      const name = ECA_SCOPE_NAMES[scope];
      if (name === undefined)
        throw new RangeError(`the app asks for the Salesforce scope ${JSON.stringify(scope)}: add its metadata name to ECA_SCOPE_NAMES`);
      return name;
    })
    .join(', ');
}

/**
 * The External Client App: header, global OAuth settings (callback, PKCE, secrets required) and
 * OAuth settings (scopes). No consumer key or secret: Salesforce generates them on deploy. No
 * policies file: Salesforce generates it with defaults on deploy and the org's admin sets it.
 */
function externalClientAppFiles(options: KitOptions): [string, string][] {
  const app = EXTERNAL_CLIENT_APP_NAME;
  return [
    [
      `${DEFAULT_DIR}/externalClientApps/${app}.eca-meta.xml`,
      metadataXml('ExternalClientApplication', {
        contactEmail: options.contactEmail,
        description:
          'Smarketing Sync: two-way HubSpot and Salesforce lead lifecycle sync. The app signs in as the integration user (OAuth web server flow with PKCE).',
        distributionState: 'Local',
        isProtected: false,
        label: 'Smarketing Sync',
      }),
    ],
    [
      `${DEFAULT_DIR}/extlClntAppGlobalOauthSets/${app}_Global_OAuth.ecaGlblOauth-meta.xml`,
      metadataXml('ExtlClntAppGlobalOauthSettings', {
        // Mounted at /oauth (src/server/admin/index.ts); the route is /salesforce/callback (src/server/oauth/router.ts).
        callbackUrl: `${options.publicUrl}/oauth/salesforce/callback`,
        externalClientApplication: app,
        // The app only runs the web server flow (src/server/oauth/salesforce.ts).
        isClientCredentialsFlowEnabled: false,
        // The code exchange and every refresh send the consumer secret.
        isConsumerSecretOptional: false,
        isIntrospectAllTokens: false,
        // The authorize request carries a PKCE challenge (jsforce OAuth2 `useVerifier`).
        isPkceRequired: true,
        isSecretRequiredForRefreshToken: true,
        label: 'Smarketing Sync global OAuth settings',
        shouldRotateConsumerKey: false,
        shouldRotateConsumerSecret: false,
      }),
    ],
    [
      `${DEFAULT_DIR}/extlClntAppOauthSettings/${app}_OAuth.ecaOauth-meta.xml`,
      metadataXml('ExtlClntAppOauthSettings', {
        commaSeparatedOauthScopes: ecaScopes(),
        externalClientApplication: app,
        label: 'Smarketing Sync OAuth settings',
      }),
    ],
  ];
}

const RECORD_TRIGGER_TYPES = { create: 'Create', update: 'Update', both: 'CreateAndUpdate' } as const;

function recordTriggerType(rule: OutboundRuleSpec): string {
  const create = rule.triggerOn.includes('create');
  const update = rule.triggerOn.includes('update');
  if (create && update) return RECORD_TRIGGER_TYPES.both;
  if (create) return RECORD_TRIGGER_TYPES.create;
  if (update) return RECORD_TRIGGER_TYPES.update;
  throw new RangeError(`the Outbound Message rule ${JSON.stringify(rule.name)} has no trigger`);
}

/** One `<Object>.workflow-meta.xml` per object, holding only its outbound messages (no rules). */
function workflowFiles(rules: readonly OutboundRuleSpec[], options: KitOptions): [string, string][] {
  const objects = [...new Set(rules.map((rule) => rule.object))];
  return objects.map((object) => {
    const outboundMessages = rules
      .filter((rule) => rule.object === object)
      .map((rule) => ({
        fullName: apiName(rule.name),
        apiVersion: KIT_API_VERSION,
        description: `Tells Smarketing Sync that a ${rule.object} changed; sent by the ${apiName(rule.name)} flow.`,
        endpointUrl: rule.endpointUrl,
        fields: [...rule.fields],
        // The receiver never calls back with the message's session (webhooks/salesforce/receiver.ts).
        includeSessionId: false,
        integrationUser: options.integrationUser,
        name: rule.name,
        protected: false,
        useDeadLetterQueue: false,
      }));
    return [`${DEFAULT_DIR}/workflows/${object}.workflow-meta.xml`, metadataXml('Workflow', { outboundMessages })];
  });
}

/**
 * A record-triggered flow (after save) that sends the rule's outbound message: the replacement
 * for the retired workflow rule. The builder entries make Flow Builder open it in auto-layout.
 */
function flowFile(rule: OutboundRuleSpec): [string, string] {
  const name = apiName(rule.name);
  const action = `Send_${name}`;
  return [
    `${DEFAULT_DIR}/flows/${name}.flow-meta.xml`,
    metadataXml('Flow', {
      // FlowActionCall: FlowElement (name), then FlowNode (label, locationX, locationY), then its own elements.
      actionCalls: {
        name: action,
        label: `Send ${rule.name}`,
        locationX: 176,
        locationY: 323,
        actionName: `${rule.object}.${name}`,
        actionType: 'outboundMessage',
      },
      apiVersion: KIT_API_VERSION,
      description: `Sends the ${name} outbound message to Smarketing Sync when a ${rule.object} is ${rule.triggerOn.map((t) => `${t}d`).join(' or ')}.`,
      label: rule.name,
      processMetadataValues: [
        { name: 'BuilderType', value: { stringValue: 'LightningFlowBuilder' } },
        { name: 'CanvasMode', value: { stringValue: 'AUTO_LAYOUT_CANVAS' } },
      ],
      processType: 'AutoLaunchedFlow',
      // FlowStart: FlowNode (locationX, locationY), then its own elements.
      start: {
        locationX: 50,
        locationY: 0,
        connector: { targetReference: action },
        object: rule.object,
        recordTriggerType: recordTriggerType(rule),
        triggerType: 'RecordAfterSave',
      },
      status: 'Active',
    }),
  ];
}

function projectFile(): [string, string] {
  const project = {
    packageDirectories: [{ path: SOURCE_DIR, default: true }],
    name: PROJECT_NAME,
    namespace: '',
    sfdcLoginUrl: 'https://login.salesforce.com',
    sourceApiVersion: KIT_API_VERSION,
  };
  return ['sfdx-project.json', `${JSON.stringify(project, null, 2)}\n`];
}

/** Every file of the kit the generator owns: path relative to the kit → content. */
export function renderKit(options: KitOptions): Map<string, string> {
  // outboundRulesFor reads only the installation's webhook token.
  const installation = { salesforceWebhookToken: options.webhookToken } as InstallationDetails;
  const rules = outboundRulesFor(options.publicUrl, installation);
  const files: [string, string][] = [
    projectFile(),
    ...SALESFORCE_CUSTOM_FIELDS.map(customFieldFile),
    permissionSetFile(INTEGRATION_PERMISSION_SET),
    permissionSetFile(SALES_PERMISSION_SET),
    ...externalClientAppFiles(options),
    ...workflowFiles(rules, options),
    ...rules.map(flowFile),
  ];
  const kit = new Map<string, string>();
  for (const [path, content] of files) {
    if (kit.has(path)) throw new Error(`two kit files at ${path}`);
    kit.set(path, content);
  }
  return kit;
}

/** Replaces the generated part of the kit (`force-app`, `sfdx-project.json`) under `root`. */
export function writeKit(root: string, kit: ReadonlyMap<string, string>): void {
  // The whole package directory is generated: a field removed from the catalog leaves no file behind.
  rmSync(join(root, SOURCE_DIR), { recursive: true, force: true });
  for (const [path, content] of kit) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

// ---------------------------------------------------------------------------------------------
// Command line

export type ParsedKitOptions =
  { ok: true; value: KitOptions; placeholders: string[]; outDir: string | undefined } | { ok: false; errors: string[] };

const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Why `dir` cannot take a generated kit (it holds something else), or undefined when it can. */
function outDirProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `--out-dir ${JSON.stringify(dir)} is a file`;
  if (readdirSync(dir).length === 0) return undefined;
  const project = join(dir, 'sfdx-project.json');
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(project, 'utf8')) as { name?: unknown }).name;
  } catch {
    name = undefined;
  }
  return name === PROJECT_NAME
    ? undefined
    : `--out-dir ${JSON.stringify(dir)} is neither empty nor a kit written before: its ${SOURCE_DIR}/ would be replaced`;
}

/** The options of the command line, every problem listed at once; an omitted value keeps its placeholder. */
export function parseKitOptions(argv: readonly string[]): ParsedKitOptions {
  let values: Partial<Record<'public-url' | 'webhook-token' | 'integration-user' | 'contact-email' | 'out-dir', string>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'public-url': { type: 'string' },
        'webhook-token': { type: 'string' },
        'integration-user': { type: 'string' },
        'contact-email': { type: 'string' },
        'out-dir': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  const errors: string[] = [];
  const options: KitOptions = { ...PLACEHOLDERS };
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
      errors.push(`--public-url must be the app's PUBLIC_URL (http or https, no query), got ${JSON.stringify(publicUrl)}`);
    } else {
      options.publicUrl = publicUrl.replace(/\/+$/, '');
    }
  }
  const token = values['webhook-token'];
  if (token !== undefined) {
    // newWebhookToken (src/store/installations.ts) makes base64url tokens.
    if (!/^[A-Za-z0-9_-]{16,}$/.test(token))
      errors.push(
        `--webhook-token must be the last segment of the installation's Outbound Message endpoint (letters, digits, - and _), got ${JSON.stringify(token)}`,
      );
    else options.webhookToken = token;
  }
  const user = values['integration-user'];
  if (user !== undefined) {
    if (!EMAIL_LIKE.test(user))
      errors.push(`--integration-user must be a Salesforce username (it has the form of an email address), got ${JSON.stringify(user)}`);
    else options.integrationUser = user;
  }
  const email = values['contact-email'];
  if (email !== undefined) {
    if (!EMAIL_LIKE.test(email)) errors.push(`--contact-email must be an email address, got ${JSON.stringify(email)}`);
    else options.contactEmail = email;
  }
  const outDir = values['out-dir'] === undefined ? undefined : resolve(values['out-dir']);
  const outProblem = outDir === undefined ? undefined : outDirProblem(outDir);
  if (outProblem !== undefined) errors.push(outProblem);
  if (errors.length > 0) return { ok: false, errors };
  const placeholders = (Object.keys(PLACEHOLDERS) as (keyof KitOptions)[])
    .filter((key) => options[key] === PLACEHOLDERS[key])
    .map((key) => PLACEHOLDERS[key]);
  return { ok: true, value: options, placeholders, outDir };
}

const USAGE =
  'usage: npm run platform:salesforce -- --public-url URL --webhook-token TOKEN --integration-user USERNAME --contact-email EMAIL [--out-dir DIR]\n';

function main(argv: readonly string[]): number {
  const parsed = parseKitOptions(argv);
  if (!parsed.ok) {
    process.stderr.write(`platform/salesforce/generate.ts: invalid options:\n${parsed.errors.map((e) => `  - ${e}\n`).join('')}${USAGE}`);
    return 2;
  }
  const root = parsed.outDir ?? KIT_ROOT;
  const kit = renderKit(parsed.value);
  writeKit(root, kit);
  const shown = relative(process.cwd(), root);
  const where = shown === '' ? '.' : shown.startsWith('..') ? root : shown;
  process.stdout.write(`Wrote ${kit.size} files to ${where} (${SOURCE_DIR}/ and sfdx-project.json).\n`);
  if (parsed.placeholders.length > 0) {
    process.stdout.write(
      `Placeholders left: ${parsed.placeholders.join(', ')}. Do not deploy this kit: run again with every option (platform/salesforce/README.md).\n`,
    );
  } else if (root === KIT_ROOT) {
    process.stdout.write(
      "The kit now holds this installation's values (its webhook token is a secret): deploy it, then run `npm run platform:salesforce` with no options to restore the placeholders, and never commit it like this.\n",
    );
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
