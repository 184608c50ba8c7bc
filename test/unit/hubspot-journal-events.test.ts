import { describe, expect, it } from 'vitest';
import { coversSubscription, wantedJournalSubscriptions, webhookEventsOf } from '../../src/crm/hubspot/journal-events.ts';
import { wantedSubscriptions } from '../../src/crm/hubspot/webhook-subscriptions.ts';
import { hubspotJobId } from '../../webhooks/hubspot/receiver.ts';
import { parseHubSpotBody } from '../../webhooks/hubspot/schema.ts';
import { validateChangeFeed } from '../../src/domain/change-feed.ts';
import { JOURNAL_IDLE_POLLS_PER_SECOND, idlePollMs } from '../../workers/hubspot-journal-feed.runner.ts';

const at = Date.parse('2026-12-04T10:00:00.123Z');

describe('journal subscriptions and events in terms of webhook events', () => {
  it('subscribes the journal to every event type and property the webhooks subscribe to', () => {
    const properties = ['lifecyclestage', 'email'];
    const journal = wantedJournalSubscriptions(1000001, properties);
    expect(journal).toEqual([
      {
        subscriptionType: 'OBJECT',
        portalId: 1000001,
        objectTypeId: '0-1',
        actions: ['CREATE', 'MERGE', 'DELETE', 'RESTORE', 'UPDATE'],
        properties,
      },
      { subscriptionType: 'GDPR_PRIVACY_DELETION', portalId: 1000001, actions: ['GDPR_DELETE'] },
    ]);
    // Every wanted webhook event type has its journal action.
    expect(wantedSubscriptions(properties)).toHaveLength(4 + properties.length + 1);
  });

  it('knows an existing subscription that already carries what is wanted, and one that lacks a property', () => {
    const [wanted] = wantedJournalSubscriptions(1000001, ['lifecyclestage']);
    const existing = {
      id: '1',
      subscriptionType: 'OBJECT',
      portalId: '1000001',
      objectTypeId: '0-1',
      actions: ['CREATE', 'UPDATE', 'DELETE', 'MERGE', 'RESTORE'],
    };
    expect(coversSubscription({ ...existing, properties: null }, wanted!)).toBe(true);
    expect(coversSubscription({ ...existing, properties: ['email'] }, wanted!)).toBe(false);
    expect(coversSubscription({ ...existing, portalId: '2', properties: null }, wanted!)).toBe(false);
  });

  it('turns an update into one propertyChange per property, with the job id the webhook of the same change gets', () => {
    const events = webhookEventsOf(
      {
        portalId: '1000001',
        occurredAt: at,
        action: 'UPDATE',
        objectTypeId: '0-1',
        objectId: '101',
        propertyChanges: { lifecyclestage: 'marketingqualifiedlead', hs_lead_status: null },
      },
      'off-1',
      0,
    );
    expect(events.map((e) => [e.subscriptionType, e.propertyName, e.propertyValue])).toEqual([
      ['contact.propertyChange', 'lifecyclestage', 'marketingqualifiedlead'],
      ['contact.propertyChange', 'hs_lead_status', ''],
    ]);
    const pushed = parseHubSpotBody(
      Buffer.from(
        JSON.stringify([
          {
            eventId: 7,
            subscriptionId: 9,
            portalId: 1000001,
            appId: 2000001,
            occurredAt: at,
            subscriptionType: 'contact.propertyChange',
            attemptNumber: 0,
            objectId: 101,
            propertyName: 'lifecyclestage',
            propertyValue: 'marketingqualifiedlead',
            changeSource: 'CRM_UI',
          },
        ]),
      ),
    );
    if (!pushed.ok) throw new Error(pushed.message);
    expect(hubspotJobId('inst-1', events[0]!)).toBe(hubspotJobId('inst-1', pushed.events[0]!));
    expect(hubspotJobId('inst-2', events[0]!)).not.toBe(hubspotJobId('inst-1', pushed.events[0]!));
  });

  it('maps the other actions to their webhook event types and skips what the push path has no type for', () => {
    const base = { portalId: '1', occurredAt: at, objectTypeId: '0-1', objectId: '5' };
    expect(webhookEventsOf({ ...base, action: 'CREATE' }, 'o', 0)[0]?.subscriptionType).toBe('contact.creation');
    expect(webhookEventsOf({ ...base, action: 'GDPR_DELETE' }, 'o', 0)[0]?.subscriptionType).toBe('contact.privacyDeletion');
    const merge = webhookEventsOf(
      { ...base, action: 'MERGE', primaryObjectId: '5', mergedObjectIds: ['5', '6'], newObjectId: '7' },
      'o',
      0,
    )[0];
    expect(merge).toMatchObject({ subscriptionType: 'contact.merge', mergedObjectIds: ['5', '6'], newObjectId: '7' });
    expect(webhookEventsOf({ ...base, action: 'ASSOCIATION_ADDED' }, 'o', 0)).toEqual([]);
    expect(webhookEventsOf({ ...base, objectTypeId: '2-123', action: 'CREATE' }, 'o', 0)).toEqual([]);
  });

  it('accepts push, pull or both as the change feed mode, and nothing else', () => {
    expect(validateChangeFeed({ mode: 'both' })).toEqual({ ok: true, value: { mode: 'both' } });
    expect(validateChangeFeed({ mode: 'poll' }).ok).toBe(false);
    expect(validateChangeFeed('pull').ok).toBe(false);
  });
});

describe('the journal feed pace', () => {
  it('polls every 0.5 s when few installations pull, and keeps all of them under half the journal limit', () => {
    expect(idlePollMs(500, 1)).toBe(500);
    expect(idlePollMs(500, 25)).toBe(500);
    expect(idlePollMs(500, 26)).toBe(520);
    // 500 installations: each caught-up follower asks every 10 s, 50 calls a second in all.
    expect(idlePollMs(500, 500)).toBe(10_000);
    expect((500 * 1000) / idlePollMs(500, 500)).toBeLessThanOrEqual(JOURNAL_IDLE_POLLS_PER_SECOND);
  });
});
