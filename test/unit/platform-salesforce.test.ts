/**
 * The Salesforce metadata kit (platform/salesforce): Salesforce's own source-deploy-retrieve
 * library (what `sf project deploy start` runs) must resolve and convert every file, the committed
 * files must be what the generator writes from the app's constants, and the integration permission
 * set must let the app use every custom field its code names.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { ComponentSet, MetadataConverter, type SourceComponent } from '@salesforce/source-deploy-retrieve';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KIT_API_VERSION,
  KIT_ROOT,
  PLACEHOLDERS,
  SOURCE_DIR,
  parseKitOptions,
  renderKit,
  writeKit,
} from '../../platform/salesforce/generate.ts';
import { outboundRulesFor } from '../../src/server/admin/provisioning.ts';
import type { InstallationDetails } from '../../src/store/installation-admin.ts';

const REPO = join(KIT_ROOT, '..', '..');
const SOURCE = join(KIT_ROOT, SOURCE_DIR);
const DEFAULT_DIR = join(SOURCE, 'main', 'default');

/** Files under `dir`, as `/`-separated paths relative to `base`. */
function filesUnder(dir: string, base: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isFile())
    .map((path) => relative(base, path).split(sep).join('/'))
    .sort();
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) =>
    ['fieldPermissions', 'objectPermissions', 'userPermissions', 'outboundMessages', 'fields', 'actionCalls'].includes(name),
});
const readXml = (path: string): Record<string, unknown> => parser.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

interface FieldPermission {
  field: string;
  editable: string;
  readable: string;
}
const permissionSet = (name: string) =>
  readXml(join(DEFAULT_DIR, 'permissionsets', `${name}.permissionset-meta.xml`)).PermissionSet as { fieldPermissions: FieldPermission[] };
/** `Object.Field` of every field a permission set lets read and edit. */
const editableIn = (name: string) =>
  new Set(
    permissionSet(name)
      .fieldPermissions.filter((p) => p.editable === 'true' && p.readable === 'true')
      .map((p) => p.field),
  );

/** `Object.Field` of every custom field the kit creates (`objects/<Object>/fields/<Field>.field-meta.xml`). */
function createdFields(): string[] {
  return filesUnder(join(DEFAULT_DIR, 'objects'), join(DEFAULT_DIR, 'objects')).map((path) => {
    const [object, , file] = path.split('/');
    return `${object}.${file?.replace(/\.field-meta\.xml$/, '')}`;
  });
}

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe('Salesforce metadata kit', () => {
  it('resolves every file of the kit to a metadata component Salesforce knows', () => {
    const set = ComponentSet.fromSource(SOURCE);
    const components = set.getSourceComponents().toArray();
    const resolved = new Set<string>();
    const collect = (component: SourceComponent) => {
      if (component.xml) resolved.add(component.xml);
      for (const path of component.walkContent()) resolved.add(path);
      for (const child of component.getChildren()) collect(child);
    };
    components.forEach(collect);
    const onDisk = filesUnder(SOURCE, SOURCE);
    expect([...resolved].map((path) => relative(SOURCE, path).split(sep).join('/')).sort()).toEqual(onDisk);
    expect([...new Set(components.map((component) => component.type.name))].sort()).toEqual([
      'CustomField',
      'ExternalClientApplication',
      'ExtlClntAppGlobalOauthSettings',
      'ExtlClntAppOauthSettings',
      'Flow',
      'PermissionSet',
      'Workflow',
    ]);
  });

  it('converts to Metadata API format with a package.xml naming every type and member', async () => {
    const set = ComponentSet.fromSource(SOURCE);
    // What `sf project deploy start` takes from sfdx-project.json.
    set.sourceApiVersion = KIT_API_VERSION;
    const output = mkdtempSync(join(tmpdir(), 'sf-kit-'));
    temporary.push(output);
    await new MetadataConverter().convert(set, 'metadata', { type: 'directory', outputDirectory: output, genUniqueDir: false });

    const manifest = readXml(join(output, 'package.xml')).Package as {
      types: { name: string; members: string | string[] }[];
      version: string;
    };
    expect(manifest.version).toBe(KIT_API_VERSION);
    const listed = new Map(manifest.types.map((type) => [type.name, new Set([type.members].flat())]));
    const expected = new Map<string, Set<string>>();
    for (const component of set.getSourceComponents().toArray()) {
      for (const each of [component, ...component.getChildren()]) {
        const members = expected.get(each.type.name) ?? new Set<string>();
        members.add(each.fullName);
        expected.set(each.type.name, members);
      }
    }
    expect([...listed.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [type, members] of expected) expect([...(listed.get(type) ?? [])].sort(), type).toEqual([...members].sort());
    // Outbound messages travel inside their object's workflow; fields inside their object.
    expect(listed.get('WorkflowOutboundMessage')).toEqual(
      new Set([
        'Contact.Smarketing_Sync_Contact',
        'Event.Smarketing_Sync_Event',
        'Lead.Smarketing_Sync_Lead',
        'Opportunity.Smarketing_Sync_Opportunity',
        'Task.Smarketing_Sync_Task',
      ]),
    );
    expect(filesUnder(output, output)).toEqual(
      expect.arrayContaining([
        'objects/Lead.object',
        'workflows/Lead.workflow',
        'flows/Smarketing_Sync_Lead.flow',
        'permissionsets/Smarketing_Sync_Integration.permissionset',
        'externalClientApps/Smarketing_Sync.eca',
      ]),
    );
  });

  it('is exactly what the generator writes with placeholders (run `npm run platform:salesforce` after changing the catalog)', () => {
    const generated = renderKit(PLACEHOLDERS);
    const committed = ['sfdx-project.json', ...filesUnder(SOURCE, KIT_ROOT)];
    expect(committed.sort()).toEqual([...generated.keys()].sort());
    for (const [path, content] of generated) expect(readFileSync(join(KIT_ROOT, path), 'utf8'), path).toBe(content);
  });

  it('grants the integration user edit on every Salesforce custom field the app names', () => {
    // The fake org (src/sandbox) is not the app; everything else that runs is.
    const sources = ['src', 'workers', 'webhooks']
      .flatMap((dir) => filesUnder(join(REPO, dir), REPO))
      .filter((path) => !path.startsWith('src/sandbox/'));
    const named = new Set<string>();
    for (const path of sources) {
      for (const match of readFileSync(join(REPO, path), 'utf8').matchAll(/\b[A-Za-z0-9_]+__c\b/g)) {
        // An API name starts with a letter; `'_At__c'` (a suffix test in src/sync/attribution-changes.ts) is not a field.
        if (/^[A-Za-z]/.test(match[0])) named.add(match[0]);
      }
    }
    expect(named.size).toBeGreaterThan(10);
    // Edit on the field of every object the kit creates it on (the code does not say which object a name belongs to).
    const created = createdFields();
    const editable = editableIn('Smarketing_Sync_Integration');
    const missing = [...named].filter((name) => {
      const onObjects = created.filter((field) => field.endsWith(`.${name}`));
      return onObjects.length === 0 || onObjects.some((field) => !editable.has(field));
    });
    expect(missing).toEqual([]);
  });

  it('grants the integration user edit, and the sales users read, on every custom field the kit creates', () => {
    const created = createdFields().sort();
    expect([...editableIn('Smarketing_Sync_Integration')].sort()).toEqual(created);
    const readable = permissionSet('Smarketing_Sync_Sales')
      .fieldPermissions.filter((p) => p.readable === 'true')
      .map((p) => p.field);
    expect(readable.sort()).toEqual(created);
  });

  it('sends each outbound message from a record-triggered flow on the same object', () => {
    const rules = outboundRulesFor(PLACEHOLDERS.publicUrl, { salesforceWebhookToken: PLACEHOLDERS.webhookToken } as InstallationDetails);
    for (const rule of rules) {
      const name = rule.name.replace(/ /g, '_');
      const workflow = readXml(join(DEFAULT_DIR, 'workflows', `${rule.object}.workflow-meta.xml`)).Workflow as {
        outboundMessages: Record<string, unknown>[];
      };
      const message = workflow.outboundMessages.find((m) => m.fullName === name);
      expect(message, name).toMatchObject({
        endpointUrl: rule.endpointUrl,
        fields: rule.fields,
        includeSessionId: 'false',
        integrationUser: PLACEHOLDERS.integrationUser,
      });
      const flow = readXml(join(DEFAULT_DIR, 'flows', `${name}.flow-meta.xml`)).Flow as {
        actionCalls: { name: string; actionName: string; actionType: string }[];
        start: Record<string, unknown>;
        status: string;
      };
      // A Contact matters once a Lead was converted into it: its updates only.
      expect(flow.start).toMatchObject({
        object: rule.object,
        recordTriggerType: rule.object === 'Contact' ? 'Update' : 'CreateAndUpdate',
        triggerType: 'RecordAfterSave',
      });
      expect(flow.actionCalls).toEqual([expect.objectContaining({ actionName: `${rule.object}.${name}`, actionType: 'outboundMessage' })]);
      expect((flow.start.connector as { targetReference: string }).targetReference).toBe(flow.actionCalls[0]?.name);
      expect(flow.status).toBe('Active');
    }
  });

  it('holds no OAuth consumer key or secret', () => {
    for (const path of filesUnder(SOURCE, SOURCE))
      expect(readFileSync(join(SOURCE, path), 'utf8'), path).not.toMatch(/<consumer(Key|Secret)>/);
  });
});

describe('Salesforce kit generator options', () => {
  const complete = [
    '--public-url',
    'https://sync.example.com/',
    '--webhook-token',
    'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    '--integration-user',
    'sync@acme.example.com',
    '--contact-email',
    'admin@acme.example.com',
  ];

  it('writes the given values in place of every placeholder', () => {
    const parsed = parseKitOptions(complete);
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    expect(parsed.placeholders).toEqual([]);
    const kit = renderKit(parsed.value);
    for (const [path, content] of kit) expect(content, path).not.toContain('{{');
    const global = kit.get(`${SOURCE_DIR}/main/default/extlClntAppGlobalOauthSets/Smarketing_Sync_Global_OAuth.ecaGlblOauth-meta.xml`);
    expect(global).toContain('<callbackUrl>https://sync.example.com/oauth/salesforce/callback</callbackUrl>');
    const lead = kit.get(`${SOURCE_DIR}/main/default/workflows/Lead.workflow-meta.xml`);
    expect(lead).toContain('<endpointUrl>https://sync.example.com/webhooks/salesforce/AbCdEfGhIjKlMnOpQrStUvWxYz012345</endpointUrl>');
    expect(lead).toContain('<integrationUser>sync@acme.example.com</integrationUser>');
  });

  it('keeps the placeholder of an omitted option', () => {
    const parsed = parseKitOptions(['--public-url', 'https://sync.example.com']);
    expect(parsed).toMatchObject({
      ok: true,
      placeholders: [PLACEHOLDERS.webhookToken, PLACEHOLDERS.integrationUser, PLACEHOLDERS.contactEmail],
    });
  });

  it('refuses a public URL that is not http or https', () => {
    expect(parseKitOptions(['--public-url', 'ftp://sync.example.com'])).toMatchObject({
      ok: false,
      errors: [expect.stringContaining('--public-url')],
    });
  });

  it('refuses a webhook token that is not a path segment', () => {
    expect(parseKitOptions(['--webhook-token', 'a/b?c'])).toMatchObject({
      ok: false,
      errors: [expect.stringContaining('--webhook-token')],
    });
  });

  it('lists every invalid option at once', () => {
    const parsed = parseKitOptions(['--public-url', 'nope', '--integration-user', 'sync', '--contact-email', 'admin']);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toHaveLength(3);
  });

  it('refuses an output folder that holds something other than a kit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-kit-out-'));
    temporary.push(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not a kit');
    expect(parseKitOptions(['--out-dir', dir])).toMatchObject({ ok: false, errors: [expect.stringContaining('--out-dir')] });
  });

  it('writes into an output folder that holds a kit written before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-kit-out-'));
    temporary.push(dir);
    const kit = renderKit(PLACEHOLDERS);
    writeKit(dir, kit);
    expect(parseKitOptions(['--out-dir', dir])).toMatchObject({ ok: true, outDir: dir });
    expect(filesUnder(dir, dir)).toEqual([...kit.keys()].sort());
  });

  it('refuses an unknown option', () => {
    expect(parseKitOptions(['--endpoint', 'x'])).toMatchObject({ ok: false });
  });
});
