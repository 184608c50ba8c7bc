/** Data shapes the sandbox keeps in memory and in its state file. */

export type ObjectTypeName = 'contacts' | 'companies' | 'deals' | 'notes';

/** One historic value of a property (`ValueWithTimestamp` in the generated models). */
export interface PropertyVersion {
  value: string;
  timestamp: number;
  sourceType: string;
  sourceId?: string;
  sourceLabel?: string;
  updatedByUserId?: number;
}

export interface CrmRecord {
  id: string;
  /** Current values; a cleared property is absent. */
  properties: Record<string, string>;
  /** Newest first, capped per property. */
  history: Record<string, PropertyVersion[]>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Set on a record merged away: the record it now resolves to (its id reads the survivor). */
  mergedInto?: string;
}

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  formField: boolean;
  hubspotDefined: boolean;
  calculated: boolean;
  externalOptions: boolean;
  /** The API refuses writes (calculated / analytics properties). */
  readOnlyValue: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

/** Who made a change: drives `changeSource`/`sourceId` of webhooks and property history. */
export interface ChangeOrigin {
  /** Property-history `sourceType` and webhook `changeSource`: INTEGRATION, CRM_UI, FORM… */
  changeSource: string;
  sourceId?: string;
  updatedByUserId?: number;
}

export type ChangeKind = 'creation' | 'deletion' | 'propertyChange' | 'privacyDeletion' | 'merge' | 'restore';

/** A CRM change, turned into webhook events by the delivery module. */
export interface ChangeEvent {
  objectType: ObjectTypeName;
  kind: ChangeKind;
  objectId: string;
  occurredAt: number;
  origin: ChangeOrigin;
  propertyName?: string;
  propertyValue?: string;
  /** Merge events: the records merged (primary first) and the record the merge made. */
  merge?: { primaryObjectId: string; mergedObjectIds: string[]; newObjectId: string; numberOfPropertiesMoved: number };
}

export interface WebhookSettings {
  targetUrl: string;
  maxConcurrentRequests: number;
  period?: string;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookSubscription {
  id: string;
  eventType: string;
  propertyName?: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface AccessTokenRecord {
  token: string;
  refreshToken: string;
  hubId: number;
  appId: number;
  userId: number;
  scopes: string[];
  expiresAt: number;
}

export interface RefreshTokenRecord {
  token: string;
  hubId: number;
  userId: number;
  clientId: string;
  scopes: string[];
}

export interface AuthorizationCode {
  code: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
}

/** A form the sandbox knows by guid (unknown guids are accepted with defaults). */
export interface FormDefinition {
  guid: string;
  name: string;
  inlineMessage?: string;
  redirectUri?: string;
}
