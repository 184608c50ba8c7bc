/**
 * What a decoded change event means to us. The `ChangeEventHeader` (Change Data Capture Developer
 * Guide, "Change Event Header Fields") says which records changed and how; field lists arrive as
 * bitmaps (see bitmap.ts); `changeOrigin` (`com/salesforce/api/rest/62.0;client=<id>`) names the
 * writer's `Sforce-Call-Options` client, which is how our own writes are recognised as echoes; a gap
 * event (`GAP_CREATE`…`GAP_OVERFLOW`) carries no field data and means "re-read these records".
 */
import type avro from 'avsc';
import { z } from 'zod';
import { decodeFieldBitmap } from './bitmap.ts';

/** The client name the app's writes carry in `Sforce-Call-Options: client=…`. */
export const APP_CLIENT_NAME = 'SmarketingSync';

const headerSchema = z.object({
  entityName: z.string(),
  recordIds: z.array(z.string()),
  changeType: z.string(),
  changeOrigin: z.string(),
  transactionKey: z.string(),
  sequenceNumber: z.number(),
  commitTimestamp: z.number(),
  commitUser: z.string(),
  nulledFields: z.array(z.string()),
  diffFields: z.array(z.string()),
  changedFields: z.array(z.string()),
});

interface EventCommon {
  /** Opaque position of the event on its channel; store it to resume after it. */
  replayId: Buffer;
  /** The event's id (unique even when replay ids are not, e.g. after an org migration). */
  eventId: string;
  entityName: string;
  recordIds: string[];
  transactionKey: string;
  sequenceNumber: number;
  /** Epoch milliseconds of the commit. */
  commitTimestamp: number;
  commitUser: string;
}

/** A create, update, delete or undelete with its field data. */
export interface RecordChange extends EventCommon {
  kind: 'change';
  changeType: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
  /** The writer's client name from `changeOrigin`, when it sent one. */
  originClient: string | undefined;
  /** Written by the app itself (its client name): not to be synced back. */
  echo: boolean;
  /** Updates: the fields that changed (names, nested as `Parent.Child`). */
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
  /** The event's non-null field values. */
  fields: Record<string, unknown>;
}

/** A gap event: Salesforce could not produce the change event; the records must be read again. */
export interface RecordsToReread extends EventCommon {
  kind: 'reread';
  changeType: 'GAP_CREATE' | 'GAP_UPDATE' | 'GAP_DELETE' | 'GAP_UNDELETE' | 'GAP_OVERFLOW';
}

export type ChangeEventMessage = RecordChange | RecordsToReread;

/** `client=<id>` of a `changeOrigin`, or undefined. */
export function originClientOf(changeOrigin: string): string | undefined {
  return /(?:^|;)\s*client=([^;]+)/.exec(changeOrigin)?.[1]?.trim();
}

function isGap(changeType: string): changeType is RecordsToReread['changeType'] {
  return changeType.startsWith('GAP_');
}

function isChange(changeType: string): changeType is RecordChange['changeType'] {
  return ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE'].includes(changeType);
}

/** Decodes one event's Avro payload with its schema; undefined when it is no change event. */
export function decodeChangeEvent(
  schema: avro.Type,
  event: { id: string; payload: Buffer; replayId: Buffer },
  appClientName: string,
): ChangeEventMessage | undefined {
  const body = schema.fromBuffer(event.payload) as Record<string, unknown>;
  const parsed = headerSchema.safeParse(body.ChangeEventHeader);
  if (!parsed.success) return undefined;
  const header = parsed.data;
  const common: EventCommon = {
    replayId: event.replayId,
    eventId: event.id,
    entityName: header.entityName,
    recordIds: header.recordIds,
    transactionKey: header.transactionKey,
    sequenceNumber: header.sequenceNumber,
    commitTimestamp: header.commitTimestamp,
    commitUser: header.commitUser,
  };
  if (isGap(header.changeType)) return { ...common, kind: 'reread', changeType: header.changeType };
  if (!isChange(header.changeType)) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) if (name !== 'ChangeEventHeader' && value !== null) fields[name] = value;
  const originClient = originClientOf(header.changeOrigin);
  return {
    ...common,
    kind: 'change',
    changeType: header.changeType,
    originClient,
    echo: originClient === appClientName,
    changedFields: decodeFieldBitmap(schema, header.changedFields),
    nulledFields: decodeFieldBitmap(schema, header.nulledFields),
    diffFields: decodeFieldBitmap(schema, header.diffFields),
    fields,
  };
}
