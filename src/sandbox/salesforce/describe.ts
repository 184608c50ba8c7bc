/** Describe results (`/sobjects`, `/sobjects/{type}/describe`) in the shape the REST API returns. */
import type { FieldDef, FieldType, ObjectDef } from './types.ts';

const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  boolean: 'xsd:boolean',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
};

function objectUrls(base: string, name: string): Record<string, string> {
  return {
    sobject: `${base}/sobjects/${name}`,
    describe: `${base}/sobjects/${name}/describe`,
    rowTemplate: `${base}/sobjects/${name}/{ID}`,
  };
}

export function describeField(f: FieldDef): Record<string, unknown> {
  const textual = SOAP_TYPES[f.type] === 'xsd:string' || f.type === 'id' || f.type === 'reference';
  const longText = f.type === 'textarea' && f.length > 255;
  return {
    aggregatable: !longText,
    aiPredictionField: false,
    autoNumber: false,
    byteLength: textual ? f.length * 3 : 0,
    calculated: f.calculated,
    calculatedFormula: null,
    cascadeDelete: false,
    caseSensitive: f.caseSensitive,
    compoundFieldName: null,
    controllerName: null,
    createable: f.createable,
    custom: f.custom,
    defaultValue: f.type === 'boolean' ? (f.defaultValue ?? false) : null,
    defaultValueFormula: null,
    defaultedOnCreate: f.defaultedOnCreate,
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: f.type === 'int' ? f.precision : 0,
    displayLocationInDecimal: false,
    encrypted: false,
    externalId: f.externalId,
    extraTypeInfo: null,
    filterable: !longText,
    filteredLookupInfo: null,
    groupable: !longText && f.type !== 'double' && f.type !== 'currency' && f.type !== 'percent' && f.type !== 'datetime',
    highScaleNumber: false,
    htmlFormatted: false,
    idLookup: f.type === 'id' || f.externalId || f.name === 'Email' || f.name === 'Username',
    inlineHelpText: f.inlineHelpText,
    label: f.label,
    length: textual ? f.length : 0,
    mask: null,
    maskType: null,
    name: f.name,
    nameField: f.nameField,
    namePointing: f.relationshipName === 'Owner',
    nillable: f.nillable,
    permissionable: f.nillable && !f.calculated && f.createable,
    picklistValues: f.picklistValues.map((p) => ({
      active: p.active,
      defaultValue: p.defaultValue,
      label: p.label,
      validFor: null,
      value: p.value,
    })),
    polymorphicForeignKey: f.referenceTo.length > 1,
    precision: f.type === 'int' ? 0 : f.precision,
    queryByDistance: false,
    referenceTargetField: null,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    relationshipOrder: null,
    restrictedDelete: false,
    restrictedPicklist: f.restrictedPicklist,
    scale: f.scale,
    searchPrefilterable: false,
    soapType: SOAP_TYPES[f.type],
    sortable: !longText,
    type: f.type,
    unique: f.unique,
    updateable: f.updateable,
    writeRequiresMasterRead: false,
  };
}

export function objectSummary(o: ObjectDef, base: string): Record<string, unknown> {
  return {
    activateable: false,
    createable: o.createable,
    custom: false,
    customSetting: false,
    deletable: o.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isSubtype: false,
    keyPrefix: o.keyPrefix,
    label: o.label,
    labelPlural: o.labelPlural,
    layoutable: o.createable,
    mergeable: o.name === 'Lead' || o.name === 'Contact' || o.name === 'Account',
    mruEnabled: o.createable,
    name: o.name,
    queryable: o.queryable,
    replicateable: true,
    retrieveable: true,
    searchable: o.createable,
    triggerable: o.createable,
    undeletable: o.deletable,
    updateable: o.updateable,
    urls: objectUrls(base, o.name),
  };
}

/** Body of `GET /sobjects`. */
export function describeGlobal(objects: ObjectDef[], base: string): Record<string, unknown> {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: objects.map((o) => objectSummary(o, base)) };
}

/** Body of `GET /sobjects/{type}/describe`. */
export function describeObject(o: ObjectDef, base: string, allObjects: ObjectDef[]): Record<string, unknown> {
  const childRelationships = allObjects.flatMap((child) =>
    child.fields
      .filter((f) => f.referenceTo.includes(o.name))
      .map((f) => ({
        cascadeDelete: false,
        childSObject: child.name,
        deprecatedAndHidden: false,
        field: f.name,
        junctionIdListNames: [],
        junctionReferenceTo: [],
        relationshipName: o.childRelationships.find((c) => c.childSObject === child.name && c.field === f.name)?.relationshipName ?? null,
        restrictedDelete: false,
      })),
  );
  return {
    ...objectSummary(o, base),
    actionOverrides: [],
    childRelationships,
    compactLayoutable: o.createable,
    fields: o.fields.map(describeField),
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    recordTypeInfos: [],
    supportedScopes: o.fields.some((f) => f.name === 'OwnerId')
      ? [
          { label: 'All', name: 'everything' },
          { label: 'My', name: 'mine' },
        ]
      : [{ label: 'All', name: 'everything' }],
    urls: { ...objectUrls(base, o.name), layouts: `${base}/sobjects/${o.name}/describe/layouts` },
  };
}
