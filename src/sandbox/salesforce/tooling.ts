/**
 * Tooling API subset for install-time provisioning: CustomField create / retrieve / update /
 * delete, describe, and SOQL (`SELECT Id, DeveloperName, TableEnumOrId FROM CustomField …`).
 * A created field shows up in describe at once and becomes writable and queryable.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { sessionOf, type SandboxContext } from './context.ts';
import { customFieldMetadataSchema, parseFullName, validateMetadata, type CustomFieldState } from './custom-fields.ts';
import { describeGlobal, describeObject } from './describe.ts';
import { httpError, malformedQuery, notFound, SfHttpError } from './errors.ts';
import { fields, objectDef, ownerlessFields } from './field-builders.ts';
import { toId18 } from './ids.ts';
import { batchSizeFrom } from './query-cursors.ts';
import { firstPage, soqlParam } from './query-routes.ts';
import { API, urlBase } from './rest-routes.ts';
import { formatDateTime } from './sf-time.ts';
import type { Row, SoqlSource } from './soql-paths.ts';
import type { SfError } from './types.ts';

const TOOLING = `${API}/tooling`;

const customFieldObject = objectDef(
  'CustomField',
  'Custom Field Definition',
  'Custom Field Definitions',
  ownerlessFields([
    fields.readOnly(fields.text('DeveloperName', 'Field Name', 40)),
    fields.readOnly(fields.text('TableEnumOrId', 'Table Enum or ID', 40)),
    fields.text('FullName', 'Full Name', 255),
    fields.readOnly(fields.text('NamespacePrefix', 'Namespace Prefix', 15)),
    fields.readOnly(fields.textarea('Description', 'Description', 1000)),
    fields.readOnly(fields.textarea('InlineHelpText', 'Help Text', 510)),
    fields.readOnly(fields.picklist('ManageableState', 'Manageable State', ['unmanaged', 'installed', 'released'])),
    fields.textarea('Metadata', 'Metadata', 131_072),
  ]),
);

const createSchema = z.looseObject({ FullName: z.string().min(1), Metadata: customFieldMetadataSchema });
const updateSchema = z.looseObject({ FullName: z.string().optional(), Metadata: customFieldMetadataSchema });

function toRow(state: CustomFieldState): Row {
  const fullName = `${state.object}.${state.developerName}__c`;
  return {
    Id: state.id,
    DeveloperName: state.developerName,
    TableEnumOrId: state.object,
    FullName: fullName,
    NamespacePrefix: null,
    Description: state.metadata.description ?? null,
    InlineHelpText: state.metadata.inlineHelpText ?? null,
    ManageableState: 'unmanaged',
    Metadata: { fullName, ...state.metadata },
    IsDeleted: false,
    CreatedDate: state.createdDate,
    CreatedById: state.createdById,
    LastModifiedDate: state.lastModifiedDate,
    LastModifiedById: state.lastModifiedById,
    SystemModstamp: state.lastModifiedDate,
  };
}

function toolingSource(ctx: SandboxContext): SoqlSource {
  const isCustomField = (name: string) => name.toLowerCase() === 'customfield';
  return {
    object: (name) => (isCustomField(name) ? customFieldObject : undefined),
    field: (objectName, fieldName) =>
      isCustomField(objectName) ? customFieldObject.fields.find((f) => f.name.toLowerCase() === fieldName.toLowerCase()) : undefined,
    relationship: () => undefined,
    child: () => undefined,
    rows: (type) => (isCustomField(type) ? ctx.store.state.customFields.map(toRow) : []),
    byId: () => undefined,
  };
}

function badRequest(errors: SfError[]): SfHttpError {
  return new SfHttpError(400, errors);
}

function findField(ctx: SandboxContext, rawId: string): CustomFieldState {
  const id = toId18(rawId);
  const found = ctx.store.state.customFields.find((c) => c.id === id);
  if (!found) throw notFound();
  return found;
}

function requireCustomField(req: Request): void {
  if (String(req.params.type).toLowerCase() !== 'customfield') throw notFound();
}

/** Creates a CustomField from a Tooling API body, as Setup would; a refused one throws the API's error. */
function createCustomField(ctx: SandboxContext, input: unknown, res: Response): CustomFieldState {
  const { store } = ctx;
  const parsed = createSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`, []);
  }
  const name = parseFullName(parsed.data.FullName);
  if ('errorCode' in name) throw badRequest([name]);
  const problems = validateMetadata(parsed.data.Metadata);
  if (problems.length > 0) throw badRequest(problems);
  const clash = store.state.customFields.some(
    (c) => c.object === name.object && c.developerName.toLowerCase() === name.developerName.toLowerCase(),
  );
  if (clash)
    throw httpError(400, 'DUPLICATE_DEVELOPER_NAME', `There is already a field named ${name.developerName} on ${name.object}.`, []);
  const stamp = formatDateTime(ctx.config.now());
  const userId = sessionOf(res).userId;
  const state: CustomFieldState = {
    id: store.newRecordId('CustomField'),
    object: name.object,
    developerName: name.developerName,
    metadata: parsed.data.Metadata,
    createdDate: stamp,
    createdById: userId,
    lastModifiedDate: stamp,
    lastModifiedById: userId,
  };
  store.setCustomFields([...store.state.customFields, state]);
  const field = store.schema.field(name.object, `${name.developerName}__c`);
  // Existing rows get the new field's default (false for a checkbox), as Setup backfills it.
  if (field)
    for (const row of Object.values(store.table(name.object)))
      row[field.name] = field.type === 'boolean' ? (field.defaultValue ?? false) : null;
  return state;
}

const toolingBase = (req: Request) => `${urlBase(req)}/tooling`;

/** The Tooling API: CustomField describe and CRUD, then its SOQL query. */
export function registerToolingRoutes(app: Express, ctx: SandboxContext): void {
  registerCustomFieldRoutes(app, ctx);
  registerToolingQueryRoutes(app, ctx);
}

/** CustomField describe, create, read, update and delete. */
function registerCustomFieldRoutes(app: Express, ctx: SandboxContext): void {
  const { store } = ctx;

  app.get(`${TOOLING}/sobjects`, (req, res) => {
    res.json(describeGlobal([customFieldObject], toolingBase(req)));
  });
  app.get(`${TOOLING}/sobjects/:type/describe`, (req, res) => {
    requireCustomField(req);
    res.json(describeObject(customFieldObject, toolingBase(req), [customFieldObject]));
  });

  app.post(`${TOOLING}/sobjects/:type`, (req, res) => {
    requireCustomField(req);
    const state = createCustomField(ctx, req.body, res);
    res.status(201).json({ id: state.id, success: true, errors: [], warnings: [], infos: [] });
  });

  app.get(`${TOOLING}/sobjects/:type/:id`, (req, res) => {
    requireCustomField(req);
    const row = toRow(findField(ctx, String(req.params.id)));
    res.json({ attributes: { type: 'CustomField', url: `${toolingBase(req)}/sobjects/CustomField/${String(row.Id)}` }, ...row });
  });

  app.patch(`${TOOLING}/sobjects/:type/:id`, (req, res) => {
    requireCustomField(req);
    const current = findField(ctx, String(req.params.id));
    const parsed = updateSchema.safeParse(req.body);
    if (!parsed.success) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', parsed.error.issues[0]?.message ?? 'invalid Metadata', []);
    if (
      parsed.data.FullName !== undefined &&
      parsed.data.FullName.toLowerCase() !== `${current.object}.${current.developerName}__c`.toLowerCase()
    ) {
      throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', 'FullName cannot be changed; delete the field and create a new one', []);
    }
    const problems = validateMetadata(parsed.data.Metadata);
    if (problems.length > 0) throw badRequest(problems);
    const next: CustomFieldState = {
      ...current,
      metadata: parsed.data.Metadata,
      lastModifiedDate: formatDateTime(ctx.config.now()),
      lastModifiedById: sessionOf(res).userId,
    };
    store.setCustomFields(store.state.customFields.map((c) => (c.id === current.id ? next : c)));
    res.status(204).end();
  });

  app.delete(`${TOOLING}/sobjects/:type/:id`, (req, res) => {
    requireCustomField(req);
    const current = findField(ctx, String(req.params.id));
    store.setCustomFields(store.state.customFields.filter((c) => c.id !== current.id));
    for (const row of Object.values(store.table(current.object))) delete row[`${current.developerName}__c`];
    res.status(204).end();
  });
}

/** SOQL over CustomField, with the Tooling API's one-row rule for Metadata and FullName. */
function registerToolingQueryRoutes(app: Express, ctx: SandboxContext): void {
  const singleRowRule = (result: { totalSize: number }, soql: string) => {
    if (result.totalSize > 1 && /\b(FullName|Metadata)\b/i.test(soql.split(/\bFROM\b/i)[0] ?? '')) {
      throw malformedQuery(
        `When retrieving results with Metadata or FullName fields, the query qualifications must specify no more than one row for retrieval. Result size: ${result.totalSize}`,
      );
    }
  };
  app.get(`${TOOLING}/query`, (req: Request, res: Response) => {
    res.json(
      firstPage(
        ctx,
        {
          source: toolingSource(ctx),
          resource: 'tooling/query',
          soql: soqlParam(req),
          includeDeleted: false,
          urlBase: urlBase(req),
          recordUrlBase: toolingBase(req),
          userId: sessionOf(res).userId,
          batchSize: batchSizeFrom(req.get('sforce-query-options')),
        },
        singleRowRule,
      ),
    );
  });
  app.get(`${TOOLING}/query/:locator`, (req, res) => {
    res.json(ctx.cursors.next(sessionOf(res).userId, 'tooling/query', urlBase(req), String(req.params.locator)));
  });
}
