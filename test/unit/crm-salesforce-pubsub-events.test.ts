/**
 * Change event decoding without a server: field bitmaps (the rule of forcedotcom/pub-sub-api
 * `python/util/ChangeEventHeaderUtility.py`), `changeOrigin` client names, gap events.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { decodeFieldBitmap, encodeFieldBitmap, setBits } from '../../src/crm/salesforce/pubsub/bitmap.ts';
import { decodeChangeEvent, originClientOf } from '../../src/crm/salesforce/pubsub/change-events.ts';

const header = {
  type: 'record',
  name: 'ChangeEventHeader',
  fields: [
    { name: 'entityName', type: 'string' },
    { name: 'recordIds', type: { type: 'array', items: 'string' } },
    { name: 'changeType', type: 'string' },
    { name: 'changeOrigin', type: 'string' },
    { name: 'transactionKey', type: 'string' },
    { name: 'sequenceNumber', type: 'int' },
    { name: 'commitTimestamp', type: 'long' },
    { name: 'commitNumber', type: 'long' },
    { name: 'commitUser', type: 'string' },
    { name: 'nulledFields', type: { type: 'array', items: 'string' } },
    { name: 'diffFields', type: { type: 'array', items: 'string' } },
    { name: 'changedFields', type: { type: 'array', items: 'string' } },
  ],
};
const address = {
  type: 'record',
  name: 'Address',
  fields: ['Street', 'City', 'PostalCode'].map((name) => ({ name, type: ['null', 'string'], default: null })),
};
const schema = avro.Type.forSchema({
  type: 'record',
  name: 'LeadChangeEvent',
  namespace: 'com.sforce.eventbus',
  fields: [
    { name: 'ChangeEventHeader', type: header },
    { name: 'LastName', type: ['null', 'string'], default: null },
    { name: 'Status', type: ['null', 'string'], default: null },
    { name: 'Address', type: ['null', address], default: null },
    { name: 'LastModifiedDate', type: ['null', 'long'], default: null },
  ],
} as avro.Schema);

function event(changeType: string, extra: Record<string, unknown> = {}) {
  const body = {
    ChangeEventHeader: {
      entityName: 'Lead',
      recordIds: ['00Q000000000001AAA'],
      changeType,
      changeOrigin: 'com/salesforce/api/rest/62.0;client=SmarketingSync',
      transactionKey: 'tx-1',
      sequenceNumber: 1,
      commitTimestamp: 1_780_000_000_000,
      commitNumber: 7,
      commitUser: '005000000000001AAA',
      nulledFields: [],
      diffFields: [],
      changedFields: ['0x12'],
    },
    LastName: null,
    Status: 'Working - Contacted',
    Address: null,
    LastModifiedDate: 1_780_000_000_000,
    ...extra,
  };
  return { id: 'e-1', payload: schema.toBuffer(body), replayId: Buffer.from([0, 1]) };
}

describe('field bitmaps', () => {
  it('reads bit i, least significant first, as the i-th field of the schema', () => {
    expect(setBits('0x12')).toEqual([1, 4]);
    expect(decodeFieldBitmap(schema, ['0x12'])).toEqual(['LastName', 'LastModifiedDate']);
  });

  it('reads `parentPos-0x…` as fields of the compound field at that position', () => {
    expect(decodeFieldBitmap(schema, ['0x4', '3-0x5'])).toEqual(['Status', 'Address.Street', 'Address.PostalCode']);
  });

  it('encodes names back to the same bitmap', () => {
    const names = ['ChangeEventHeader', 'LastName', 'Status', 'Address', 'LastModifiedDate'];
    expect(encodeFieldBitmap(names, ['LastName', 'LastModifiedDate'])).toBe('0x12');
  });
});

describe('change events', () => {
  it('marks a change whose origin is the app’s client as an echo', () => {
    expect(decodeChangeEvent(schema, event('UPDATE'), 'SmarketingSync')).toMatchObject({
      kind: 'change',
      echo: true,
      originClient: 'SmarketingSync',
      changedFields: ['LastName', 'LastModifiedDate'],
      fields: { Status: 'Working - Contacted', LastModifiedDate: 1_780_000_000_000 },
    });
    expect(decodeChangeEvent(schema, event('UPDATE'), 'AnotherApp')).toMatchObject({ echo: false });
  });

  it('reads the client name out of a changeOrigin, and none when the writer sent none', () => {
    expect(originClientOf('com/salesforce/api/soap/62.0;client=Acme Sync')).toBe('Acme Sync');
    expect(originClientOf('com/salesforce/api/rest/62.0')).toBeUndefined();
    expect(originClientOf('')).toBeUndefined();
  });

  it('turns a gap event into records to re-read', () => {
    for (const changeType of ['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW']) {
      expect(decodeChangeEvent(schema, event(changeType), 'SmarketingSync')).toEqual({
        kind: 'reread',
        changeType,
        replayId: Buffer.from([0, 1]),
        eventId: 'e-1',
        entityName: 'Lead',
        recordIds: ['00Q000000000001AAA'],
        transactionKey: 'tx-1',
        sequenceNumber: 1,
        commitTimestamp: 1_780_000_000_000,
        commitUser: '005000000000001AAA',
      });
    }
  });
});
