/**
 * Secrets at rest: the OAuth credentials of each side and the SLA alert target (its URL carries a
 * token too), each a zod-checked JSON document sealed with AES-256-GCM (`createSealer`) before it
 * reaches the database and opened only when a client is built or an alert sent. Each value is
 * bound to its installation and slot (associated data): moved to another row or column, it no
 * longer opens.
 */
import { z } from 'zod';
import type { Logger } from '../../log.ts';
import type { Sealer } from '../../runtime/secrets.ts';
import type { Queryable } from '../../store/db.ts';
import { loadCredentials, saveCredentials, type SealedSlot } from '../../store/installations.ts';
import { dropLegacyAlertTarget, installationsWithSealedSlots, legacyAlertTargets } from '../../store/sealed-slots.ts';
import { AlertTargetSchema, type AlertTarget } from '../../sync/alerts.ts';

/** A HubSpot OAuth grant of one portal. */
export const HubSpotCredentialsSchema = z.object({
  kind: z.literal('oauth'),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  /** Epoch ms when the access token expires (from `expires_in`). */
  expiresAt: z.number().int(),
  scopes: z.array(z.string()),
  hubId: z.string().min(1),
  /** The public app's id: HubSpot stamps it as `sourceId` on the app's own writes (echo filter). */
  appId: z.string().nullable(),
  connectedAt: z.number().int(),
});
export type HubSpotCredentials = z.infer<typeof HubSpotCredentialsSchema>;

/** A Salesforce OAuth grant (web server flow) of one org. */
export const SalesforceCredentialsSchema = z.object({
  kind: z.literal('oauth'),
  accessToken: z.string().min(1),
  /** Present when the connected app grants `refresh_token` / `offline_access`. */
  refreshToken: z.string().min(1).nullable(),
  instanceUrl: z.url(),
  orgId: z.string().min(15),
  userId: z.string().min(15),
  scope: z.string(),
  /** Epoch ms of the last token (issue or refresh). */
  issuedAt: z.number().int(),
  connectedAt: z.number().int(),
});
export type SalesforceCredentials = z.infer<typeof SalesforceCredentialsSchema>;

interface SideSchemas {
  hubspot: HubSpotCredentials;
  salesforce: SalesforceCredentials;
  alert: AlertTarget;
}

const schemas = {
  hubspot: HubSpotCredentialsSchema,
  salesforce: SalesforceCredentialsSchema,
  alert: AlertTargetSchema,
} as const satisfies Record<SealedSlot, z.ZodType>;
const WHAT: Readonly<Record<SealedSlot, string>> = {
  hubspot: 'HubSpot credentials',
  salesforce: 'Salesforce credentials',
  alert: 'SLA alert target',
};
const FIX: Readonly<Record<SealedSlot, string>> = {
  hubspot: 'reconnect HubSpot',
  salesforce: 'reconnect Salesforce',
  alert: 'save the alert target again',
};

/** Where a slot's value is bound: the installation and the slot, authenticated with the ciphertext. */
export function sealContext(installationId: string, slot: SealedSlot): string {
  return `installation:${installationId}:${slot}`;
}

/** The context of the PKCE code verifier kept between the two legs of an OAuth flow. */
const CODE_VERIFIER_CONTEXT = 'oauth-flow:code-verifier';

/** Stored credentials that cannot be used (wrong key, tampered, old shape). The message holds no secret. */
export class UnreadableCredentialsError extends Error {
  override readonly name = 'UnreadableCredentialsError';
}

/** Reads and writes sealed credentials. */
export class CredentialVault {
  constructor(
    private readonly db: Queryable,
    private readonly sealer: Sealer,
  ) {}

  /** The stored credentials of one side, or null when none are stored. */
  async read<S extends keyof SideSchemas>(installationId: string, side: S): Promise<SideSchemas[S] | null> {
    const sealed = await loadCredentials(this.db, installationId, side);
    if (!sealed) return null;
    let plaintext: string;
    try {
      plaintext = this.sealer.open(sealed, sealContext(installationId, side));
    } catch (error) {
      throw new UnreadableCredentialsError(
        `stored ${WHAT[side]} cannot be decrypted (${error instanceof Error ? error.message : 'unknown error'}): is the ENCRYPTION_KEY that sealed them configured (ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS)? Otherwise ${FIX[side]}.`,
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(plaintext);
    } catch {
      throw new UnreadableCredentialsError(`stored ${WHAT[side]} have an unexpected shape: ${FIX[side]}`);
    }
    const parsed = schemas[side].safeParse(document);
    if (!parsed.success) throw new UnreadableCredentialsError(`stored ${WHAT[side]} have an unexpected shape: ${FIX[side]}`);
    return parsed.data as SideSchemas[S];
  }

  /** Seals a short-lived secret kept between two requests (the PKCE code verifier). */
  sealText(plaintext: string): Buffer {
    return this.sealer.seal(plaintext, CODE_VERIFIER_CONTEXT);
  }

  /** Opens what `sealText` sealed. */
  openText(sealed: Buffer): string {
    return this.sealer.open(sealed, CODE_VERIFIER_CONTEXT);
  }

  /**
   * Finishes a key rotation: every stored grant is opened (with the current or a previous key)
   * and sealed again with the current one. Returns how many were re-sealed.
   */
  async resealAll(): Promise<number> {
    const rows = await installationsWithSealedSlots(this.db);
    let resealed = 0;
    for (const row of rows) {
      for (const [side, present] of [
        ['hubspot', row.hubspot_credentials !== null],
        ['salesforce', row.salesforce_credentials !== null],
        ['alert', row.alert_target !== null],
      ] as const) {
        const stored = present ? await this.read(row.id, side) : null;
        if (stored) {
          await this.write(row.id, side, stored);
          resealed += 1;
        }
      }
    }
    return resealed;
  }

  /** Removes what a slot holds (the alert target when the admin turns alerts off). */
  async clear(installationId: string, side: SealedSlot): Promise<void> {
    await saveCredentials(this.db, installationId, side, null);
  }

  /**
   * Moves alert targets saved in the settings jsonb (before they were sealed) into the vault and
   * removes them from the settings; returns how many moved. An invalid one is removed and logged
   * (without its values): it could not have sent an alert anyway.
   */
  async sealLegacyAlertTargets(log: Logger): Promise<number> {
    const rows = await legacyAlertTargets(this.db);
    let moved = 0;
    for (const row of rows) {
      const parsed = AlertTargetSchema.safeParse(row.alert);
      if (parsed.success) {
        await this.write(row.id, 'alert', parsed.data);
        moved += 1;
      } else {
        log.warn({ installationId: row.id }, 'an invalid SLA alert target in the settings was dropped: save the alert target again');
      }
      await dropLegacyAlertTarget(this.db, row.id);
    }
    return moved;
  }

  /** Seals and stores a slot's document (always with the current key: a write re-seals after a rotation). */
  async write<S extends keyof SideSchemas>(installationId: string, side: S, credentials: SideSchemas[S]): Promise<void> {
    const checked = schemas[side].parse(credentials);
    await saveCredentials(this.db, installationId, side, this.sealer.seal(JSON.stringify(checked), sealContext(installationId, side)));
  }

  /**
   * Seals again, in the current format and key, every stored value sealed by an earlier version
   * (a 1-byte key id, not bound to its installation and slot) or with a previous key; run at boot.
   * A value that cannot be opened is left exactly as it is (nothing an admin stored is lost) and
   * reported: its installation page shows it as unreadable, with the fix.
   */
  async upgradeSeals(log: Logger): Promise<{ upgraded: number; unreadable: number }> {
    const rows = await installationsWithSealedSlots(this.db);
    let upgraded = 0;
    let unreadable = 0;
    for (const row of rows) {
      for (const [side, sealed] of [
        ['hubspot', row.hubspot_credentials],
        ['salesforce', row.salesforce_credentials],
        ['alert', row.alert_target],
      ] as const) {
        if (!sealed || !this.sealer.isOutdated(Buffer.from(sealed))) continue;
        try {
          const stored = await this.read(row.id, side);
          if (stored) {
            await this.write(row.id, side, stored);
            upgraded += 1;
          }
        } catch (error) {
          if (!(error instanceof UnreadableCredentialsError)) throw error;
          unreadable += 1;
          log.warn(
            { installationId: row.id, slot: side },
            `stored ${WHAT[side]} cannot be read with the configured keys and were kept as they are: configure the key that sealed them (ENCRYPTION_KEY_PREVIOUS), or ${FIX[side]}`,
          );
        }
      }
    }
    return { upgraded, unreadable };
  }
}
