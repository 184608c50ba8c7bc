import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { recordInboundEvent } from '../../src/store/inbound-events.ts';
import { listActiveInstallations, loadCredentials, saveCredentials, upsertInstallation } from '../../src/store/installations.ts';
import { availableMigrations, migrate, pendingMigrations } from '../../src/store/migrate.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';

describe.each(BACKENDS)('store on %s', (backend) => {
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it('applies every migration once and records it', async () => {
    db = await openTestDb(backend);
    expect(await pendingMigrations(db)).toEqual(availableMigrations());
    expect(await migrate(db)).toEqual(availableMigrations());
    expect(await migrate(db)).toEqual([]);
    expect(await pendingMigrations(db)).toEqual([]);
    const recorded = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(recorded.map((r) => r.name)).toEqual(availableMigrations());
  });

  it('creates one installation per portal and org and routes by them', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const first = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '1000001', salesforceOrgId: '00D000000000001AAA' });
    const again = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '1000001', salesforceOrgId: '00D000000000001AAA' });
    expect(again.id).toBe(first.id);
    expect(first.salesforceWebhookToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const listed = await listActiveInstallations(db);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.hubspotPortalId).toBe('1000001');
  });

  it('stores credentials as opaque bytes', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const installation = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '42', salesforceOrgId: null });
    await saveCredentials(db, installation.id, 'hubspot', Buffer.from([1, 2, 3, 250]));
    expect(await loadCredentials(db, installation.id, 'hubspot')).toEqual(Buffer.from([1, 2, 3, 250]));
    expect(await loadCredentials(db, installation.id, 'salesforce')).toBeNull();
  });

  it('records an inbound event once, whatever the redelivery count', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    const installation = await upsertInstallation(db, { name: 'Acme', hubspotPortalId: '7', salesforceOrgId: null });
    const event = {
      dedupeKey: 'hs-abc',
      installationId: installation.id,
      source: 'hubspot' as const,
      objectType: 'contact',
      objectId: '101',
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      receivedAt: new Date('2026-01-01T00:00:01Z'),
      payload: { propertyName: 'lifecyclestage', propertyValue: 'marketingqualifiedlead' },
    };
    expect(await recordInboundEvent(db, event)).toBe(true);
    expect(await recordInboundEvent(db, event)).toBe(false);
    const rows = await db.query<{ n: number; occurred_at: Date }>(
      'SELECT count(*) AS n, min(occurred_at) AS occurred_at FROM inbound_events',
    );
    expect(rows[0]?.n).toBe(1);
    expect(rows[0]?.occurred_at).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it('rolls a transaction back when its work throws', async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ('x', 'X', 'tok')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await listActiveInstallations(db)).toEqual([]);
  });
});
