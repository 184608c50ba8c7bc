/**
 * The Salesforce adapter's setup of the org and checks of what the connected user may do: custom
 * fields (Tooling API), permission sets, describe, the Marketing User flag.
 */
import { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import type { CustomFieldDefinition, DescribedAccess, SalesforcePort } from '../ports.ts';
import { toSalesforceError } from './errors.ts';
import { ensurePermissionSet } from './permission-sets.ts';
import {
  customFieldRowsSchema,
  customFieldsQuery,
  developerNameOf,
  fullNameOf,
  saveResultSchema,
  sobjectName,
  soqlString,
  toFieldMetadata,
  toWriteOutcome,
} from './mapper.ts';
import type { SalesforceTransport } from './transport.ts';

/** The part of a describe answer the access check reads. */
const describeSchema = z.looseObject({
  name: z.string(),
  createable: z.boolean(),
  updateable: z.boolean(),
  fields: z.array(z.looseObject({ name: z.string(), createable: z.boolean(), updateable: z.boolean() })),
});

/**
 * The part of a describe answer the settings check reads: each field's picklist values (the
 * DescribeSObjectResult's `fields[].picklistValues[]`, PicklistEntry `{active, value, label,
 * defaultValue, validFor}`; only active values may be written) and whether the user may create or
 * update it. docs/reference/salesforce-api.md §2: read picklists with describe, never hard-code them.
 */
const describeFieldsSchema = z.looseObject({
  name: z.string(),
  fields: z.array(
    z.looseObject({
      name: z.string(),
      label: z.string(),
      type: z.string(),
      length: z.number().optional(),
      createable: z.boolean(),
      updateable: z.boolean(),
      picklistValues: z.array(z.looseObject({ value: z.string(), active: z.boolean() })).optional(),
    }),
  ),
});

/** Creates one field through the Tooling API; false when it appeared meanwhile (a concurrent install). */
async function createCustomField(t: SalesforceTransport, definition: CustomFieldDefinition): Promise<boolean> {
  const body = { FullName: fullNameOf(definition), Metadata: toFieldMetadata(definition) };
  try {
    await t.limiter.acquire(t.limiterKey());
    const result = t.parseAnswer(saveResultSchema, await t.conn.tooling.create('CustomField', body), 'create custom field');
    const outcome = toWriteOutcome(result, true);
    if (!outcome.ok)
      throw new CrmRejectedError('salesforce', outcome.code, `Salesforce create custom field ${body.FullName}: ${outcome.message}`);
    return true;
  } catch (error) {
    const mapped = toSalesforceError(error, `create custom field ${body.FullName}`, t.secrets());
    if (mapped instanceof CrmRejectedError && mapped.code === 'DUPLICATE_DEVELOPER_NAME') return false;
    throw mapped;
  }
}

/** Custom fields, permission sets, and whether an object can be queried. */
export function orgSetup(
  t: SalesforceTransport,
  writes: Pick<SalesforcePort, 'createRecords' | 'updateRecords'>,
): Pick<SalesforcePort, 'canQuery' | 'ensureCustomFields' | 'ensurePermissionSet'> {
  return {
    async canQuery(object) {
      try {
        await t.runQuery(`SELECT Id FROM ${sobjectName(object)} LIMIT 1`, 'query');
        return true;
      } catch (error) {
        if (error instanceof CrmRejectedError && error.code === 'INVALID_TYPE') return false;
        throw error;
      }
    },

    async ensureCustomFields(definitions, dryRun) {
      // A malformed name is a bug in the caller's list: refuse before anything is created.
      for (const definition of definitions) developerNameOf(definition.name);
      const objects = [...new Set(definitions.map((definition) => definition.object))];
      const existing = new Set<string>();
      if (objects.length > 0) {
        const rows = t.parseAnswer(
          customFieldRowsSchema,
          await t.runQuery(customFieldsQuery(objects), 'list custom fields', 'tooling'),
          'list custom fields',
        );
        for (const row of rows) existing.add(`${row.TableEnumOrId}.${row.DeveloperName}__c`.toLowerCase());
      }
      const wanted = [...new Map(definitions.map((definition) => [fullNameOf(definition).toLowerCase(), definition])).values()];
      const missing = wanted.filter((definition) => !existing.has(fullNameOf(definition).toLowerCase()));
      const created: string[] = [];
      if (!dryRun) {
        for (const definition of missing) if (await createCustomField(t, definition)) created.push(fullNameOf(definition));
      }
      return { missing: missing.map(fullNameOf), created };
    },

    async ensurePermissionSet(spec, assigneeIds, dryRun) {
      return ensurePermissionSet(
        {
          query: (soql) => t.runQuery(soql, 'query'),
          create: (type, records) => writes.createRecords(type, records),
          update: (type, records) => writes.updateRecords(type, records),
        },
        spec,
        assigneeIds,
        dryRun,
      );
    },
  };
}

/** What the connected user sees and may do (describe), and its Marketing User flag. */
export function userAccess(
  t: SalesforceTransport,
  writes: Pick<SalesforcePort, 'updateRecords'>,
): Pick<SalesforcePort, 'describeFields' | 'describeAccess' | 'marketingUser'> {
  return {
    async describeFields(object) {
      const name = sobjectName(object);
      let described: z.output<typeof describeFieldsSchema>;
      try {
        described = t.parseAnswer(describeFieldsSchema, await t.call(`describe ${name}`, () => t.conn.describe(name)), `describe ${name}`);
      } catch (error) {
        if (error instanceof CrmRejectedError && (error.code === 'NOT_FOUND' || error.code === 'INVALID_TYPE')) return null;
        throw error;
      }
      return described.fields.map((field) => ({
        name: field.name,
        label: field.label,
        type: field.type,
        length: field.length ?? 0,
        writable: field.createable || field.updateable,
        picklistValues:
          field.type === 'picklist' || field.type === 'multipicklist'
            ? (field.picklistValues ?? []).filter((value) => value.active).map((value) => value.value)
            : null,
      }));
    },

    async describeAccess(objects) {
      const access: DescribedAccess = { objects: new Map(), fields: new Map() };
      for (const object of objects) {
        const name = sobjectName(object);
        let described: z.output<typeof describeSchema>;
        try {
          described = t.parseAnswer(describeSchema, await t.call(`describe ${name}`, () => t.conn.describe(name)), `describe ${name}`);
        } catch (error) {
          // An object the user cannot see answers NOT_FOUND / INVALID_TYPE: absent from the result.
          if (error instanceof CrmRejectedError && (error.code === 'NOT_FOUND' || error.code === 'INVALID_TYPE')) continue;
          throw error;
        }
        access.objects.set(described.name, { createable: described.createable, updateable: described.updateable });
        for (const field of described.fields)
          access.fields.set(`${described.name}.${field.name}`, field.updateable || field.createable ? 'edit' : 'read');
      }
      return access;
    },

    async marketingUser(userId, enable) {
      const [user] = await t.runQuery(
        `SELECT Id, UserPermissionsMarketingUser FROM User WHERE Id = ${soqlString(userId)}`,
        'read user permissions',
      );
      if (user === undefined) throw new CrmRejectedError('salesforce', 'NOT_FOUND', `Salesforce user ${userId} not found`);
      if (user.UserPermissionsMarketingUser === true || !enable)
        return { enabled: user.UserPermissionsMarketingUser === true, changed: false };
      const outcome = (await writes.updateRecords('User', [{ Id: user.Id, UserPermissionsMarketingUser: true }])).get(user.Id);
      if (outcome?.ok !== true)
        throw new CrmRejectedError(
          'salesforce',
          outcome?.code ?? 'UNEXPECTED_RESPONSE',
          `Salesforce set Marketing User on ${userId}: ${outcome?.ok === false ? outcome.message : 'no result'}`,
        );
      return { enabled: true, changed: true };
    },
  };
}
