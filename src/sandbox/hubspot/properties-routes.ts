import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { HubSpotError, batchError, errorBody, resourceNotFound, validationError } from './errors.ts';
import { param, parseBody, queryBool } from './http-kit.ts';
import type { ObjectTypeName, PropertyDefinition, PropertyGroup } from './model.ts';
import { objectTypeParam } from './objects-routes.ts';
import { checkBatchSize } from './schemas.ts';
import type { SandboxStore } from './store.ts';
import { batchEnvelope } from './views.ts';

const optionInput = z.object({
  label: z.string().min(1),
  value: z.string().min(1),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
  description: z.string().optional(),
});

const FIELD_TYPES = [
  'textarea',
  'text',
  'date',
  'file',
  'number',
  'select',
  'radio',
  'checkbox',
  'booleancheckbox',
  'calculation_equation',
  'html',
  'phonenumber',
] as const;
const COMPATIBLE: Record<PropertyDefinition['type'], readonly string[]> = {
  string: ['text', 'textarea', 'file', 'html', 'phonenumber'],
  number: ['number', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox'],
  bool: ['booleancheckbox'],
};

const propertyCreate = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'must start with a lowercase letter and contain only lowercase letters, digits and underscores')
    .max(100),
  label: z.string().min(1),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'bool']),
  fieldType: z.enum(FIELD_TYPES),
  groupName: z.string().min(1),
  description: z.string().optional(),
  options: z.array(optionInput).optional(),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  externalOptions: z.boolean().optional(),
  calculationFormula: z.string().optional(),
  referencedObjectType: z.string().optional(),
});

const propertyUpdate = propertyCreate
  .omit({ name: true, hasUniqueValue: true, externalOptions: true, referencedObjectType: true })
  .partial();
const groupCreate = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .max(100),
  label: z.string().min(1),
  displayOrder: z.number().int().optional(),
});
const groupUpdate = z.object({ label: z.string().min(1).optional(), displayOrder: z.number().int().optional() });

type PropertyCreate = z.output<typeof propertyCreate>;

/** A definition as the generated `Property` model. */
export function propertyView(property: PropertyDefinition): Record<string, unknown> {
  return {
    name: property.name,
    label: property.label,
    type: property.type,
    fieldType: property.fieldType,
    description: property.description,
    groupName: property.groupName,
    options: property.options,
    displayOrder: property.displayOrder,
    calculated: property.calculated,
    externalOptions: property.externalOptions,
    hasUniqueValue: property.hasUniqueValue,
    hidden: property.hidden,
    hubspotDefined: property.hubspotDefined,
    showCurrencySymbol: false,
    modificationMetadata: {
      archivable: !property.hubspotDefined,
      readOnlyDefinition: property.hubspotDefined,
      readOnlyValue: property.readOnlyValue,
      readOnlyOptions: false,
    },
    formField: property.formField,
    createdAt: new Date(property.createdAt).toISOString(),
    updatedAt: new Date(property.updatedAt).toISOString(),
    archived: false,
  };
}

const groupView = (group: PropertyGroup) => ({
  name: group.name,
  label: group.label,
  displayOrder: group.displayOrder,
  archived: group.archived,
});

/** Builds a definition from a create body, or throws the HubSpot error that refuses it. */
function definitionFrom(store: SandboxStore, type: ObjectTypeName, input: PropertyCreate, at: number): PropertyDefinition {
  if (store.properties[type].has(input.name)) {
    throw new HubSpotError(
      409,
      errorBody('OBJECT_ALREADY_EXISTS', `Property named '${input.name}' already exists.`, {
        subCategory: 'PropertyValidationError.PROPERTY_EXISTS',
      }),
    );
  }
  if (input.name.startsWith('hs_'))
    throw validationError(`Property name '${input.name}' is invalid: the hs_ prefix is reserved for HubSpot-defined properties`);
  if (!store.groups[type].has(input.groupName)) throw validationError(`Property group '${input.groupName}' does not exist.`);
  if (!COMPATIBLE[input.type].includes(input.fieldType)) {
    throw validationError(
      `fieldType '${input.fieldType}' is not valid for type '${input.type}'; use one of ${COMPATIBLE[input.type].join(', ')}`,
    );
  }
  let options = (input.options ?? []).map((option, index) => ({
    label: option.label,
    value: option.value,
    displayOrder: option.displayOrder ?? index,
    hidden: option.hidden ?? false,
    ...(option.description === undefined ? {} : { description: option.description }),
  }));
  if (input.type === 'bool' && options.length === 0) {
    options = [
      { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
      { label: 'No', value: 'false', displayOrder: 1, hidden: false },
    ];
  }
  if (input.type === 'enumeration' && options.length === 0 && input.externalOptions !== true) {
    throw validationError(`Property '${input.name}' of type enumeration needs options`);
  }
  return {
    name: input.name,
    label: input.label,
    type: input.type,
    fieldType: input.fieldType,
    groupName: input.groupName,
    description: input.description ?? '',
    options,
    displayOrder: input.displayOrder ?? -1,
    hasUniqueValue: input.hasUniqueValue ?? false,
    hidden: input.hidden ?? false,
    formField: input.formField ?? false,
    hubspotDefined: false,
    calculated: false,
    externalOptions: input.externalOptions ?? false,
    readOnlyValue: false,
    createdAt: at,
    updatedAt: at,
  };
}

/** CRM v3 properties API: definitions and property groups. */
export function propertiesRouter(store: SandboxStore, now: () => number): Router {
  const router = Router();
  // Groups first: `groups` would otherwise be read as a property name.
  registerGroupRoutes(router, store);
  registerPropertyRoutes(router, store, now);
  registerBatchPropertyRoutes(router, store, now);
  return router;
}

/** Stores a new definition; a unique one also gets its value index. */
function install(store: SandboxStore, type: ObjectTypeName, definition: PropertyDefinition): void {
  store.properties[type].set(definition.name, definition);
  if (definition.hasUniqueValue) store.objects[type].addUniqueProperty(definition.name);
}

/** The definition of `name`, or HubSpot's 404. */
function requireProperty(store: SandboxStore, type: ObjectTypeName, name: string): PropertyDefinition {
  const property = store.properties[type].get(name);
  if (property === undefined) throw resourceNotFound(`Unable to find property ${name} for object type ${type}`);
  return property;
}

/** The group of `:groupName`, or HubSpot's 404. */
function requireGroup(store: SandboxStore, req: Request): PropertyGroup {
  const group = store.groups[objectTypeParam(req)].get(param(req, 'groupName'));
  if (group === undefined) throw resourceNotFound(`Unable to find property group ${param(req, 'groupName')}`);
  return group;
}

/** Property groups: list, create, read, update, delete. */
function registerGroupRoutes(router: Router, store: SandboxStore): void {
  router.get('/crm/v3/properties/:objectType/groups', (req: Request, res: Response) => {
    res.json({ results: [...store.groups[objectTypeParam(req)].values()].map(groupView) });
  });

  router.post('/crm/v3/properties/:objectType/groups', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const input = parseBody(groupCreate, req.body);
    if (store.groups[type].has(input.name)) {
      throw new HubSpotError(409, errorBody('OBJECT_ALREADY_EXISTS', `Property group named '${input.name}' already exists.`));
    }
    const group: PropertyGroup = { name: input.name, label: input.label, displayOrder: input.displayOrder ?? -1, archived: false };
    store.groups[type].set(group.name, group);
    res.status(201).json(groupView(group));
  });

  router.get('/crm/v3/properties/:objectType/groups/:groupName', (req: Request, res: Response) => {
    res.json(groupView(requireGroup(store, req)));
  });

  router.patch('/crm/v3/properties/:objectType/groups/:groupName', (req: Request, res: Response) => {
    const group = requireGroup(store, req);
    const input = parseBody(groupUpdate, req.body);
    if (input.label !== undefined) group.label = input.label;
    if (input.displayOrder !== undefined) group.displayOrder = input.displayOrder;
    res.json(groupView(group));
  });

  router.delete('/crm/v3/properties/:objectType/groups/:groupName', (req: Request, res: Response) => {
    store.groups[objectTypeParam(req)].delete(param(req, 'groupName'));
    res.status(204).end();
  });
}

/** Property definitions: list, read, create, update, archive. */
function registerPropertyRoutes(router: Router, store: SandboxStore, now: () => number): void {
  router.get('/crm/v3/properties/:objectType', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    res.json({ results: queryBool(req, 'archived') ? [] : [...store.properties[type].values()].map(propertyView) });
  });

  router.get('/crm/v3/properties/:objectType/:propertyName', (req: Request, res: Response) => {
    res.json(propertyView(requireProperty(store, objectTypeParam(req), param(req, 'propertyName'))));
  });

  router.post('/crm/v3/properties/:objectType', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const definition = definitionFrom(store, type, parseBody(propertyCreate, req.body), now());
    install(store, type, definition);
    res.status(201).json(propertyView(definition));
  });

  router.patch('/crm/v3/properties/:objectType/:propertyName', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const property = requireProperty(store, type, param(req, 'propertyName'));
    const input = parseBody(propertyUpdate, req.body);
    if (property.hubspotDefined && (input.type !== undefined || input.fieldType !== undefined)) {
      throw validationError(`The type of HubSpot-defined property ${property.name} cannot be changed`);
    }
    const nextType = input.type ?? property.type;
    const nextFieldType = input.fieldType ?? property.fieldType;
    if (!COMPATIBLE[nextType].includes(nextFieldType))
      throw validationError(`fieldType '${nextFieldType}' is not valid for type '${nextType}'`);
    if (input.groupName !== undefined && !store.groups[type].has(input.groupName))
      throw validationError(`Property group '${input.groupName}' does not exist.`);
    Object.assign(property, {
      label: input.label ?? property.label,
      description: input.description ?? property.description,
      groupName: input.groupName ?? property.groupName,
      displayOrder: input.displayOrder ?? property.displayOrder,
      hidden: input.hidden ?? property.hidden,
      formField: input.formField ?? property.formField,
      type: nextType,
      fieldType: nextFieldType,
      updatedAt: now(),
    });
    if (input.options !== undefined) {
      property.options = input.options.map((option, index) => ({
        label: option.label,
        value: option.value,
        displayOrder: option.displayOrder ?? index,
        hidden: option.hidden ?? false,
      }));
    }
    res.json(propertyView(property));
  });

  router.delete('/crm/v3/properties/:objectType/:propertyName', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const property = store.properties[type].get(param(req, 'propertyName'));
    if (property?.hubspotDefined === true) throw validationError(`HubSpot-defined property ${property.name} cannot be archived`);
    if (property !== undefined) store.properties[type].delete(property.name);
    res.status(204).end();
  });
}

/** Batch create, read and archive of definitions. */
function registerBatchPropertyRoutes(router: Router, store: SandboxStore, now: () => number): void {
  router.post('/crm/v3/properties/:objectType/batch/create', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const { inputs } = parseBody(z.object({ inputs: z.array(propertyCreate) }), req.body);
    checkBatchSize(inputs.length);
    const startedAt = now();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      try {
        const definition = definitionFrom(store, type, input, now());
        install(store, type, definition);
        results.push(propertyView(definition));
      } catch (error) {
        if (!(error instanceof HubSpotError)) throw error;
        errors.push({ ...error.body, context: { propertyName: [input.name] }, errors: [], links: {} });
      }
    }
    res.status(errors.length > 0 ? 207 : 201).json(batchEnvelope(results, errors, startedAt, now()));
  });

  router.post('/crm/v3/properties/:objectType/batch/read', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const { inputs } = parseBody(z.object({ inputs: z.array(z.object({ name: z.string() })), archived: z.boolean().optional() }), req.body);
    checkBatchSize(inputs.length);
    const startedAt = now();
    const found = inputs.map(({ name }) => store.properties[type].get(name));
    const missing = inputs.filter((_, index) => found[index] === undefined).map(({ name }) => name);
    const results = found.filter((property) => property !== undefined).map(propertyView);
    const errors =
      missing.length === 0
        ? []
        : [batchError('OBJECT_NOT_FOUND', `Unable to find properties: ${missing.join(', ')}`, { propertyName: missing })];
    res.status(errors.length > 0 ? 207 : 200).json(batchEnvelope(results, errors, startedAt, now()));
  });

  router.post('/crm/v3/properties/:objectType/batch/archive', (req: Request, res: Response) => {
    const type = objectTypeParam(req);
    const { inputs } = parseBody(z.object({ inputs: z.array(z.object({ name: z.string() })) }), req.body);
    checkBatchSize(inputs.length);
    for (const { name } of inputs) {
      const property = store.properties[type].get(name);
      if (property !== undefined && !property.hubspotDefined) store.properties[type].delete(name);
    }
    res.status(204).end();
  });
}
