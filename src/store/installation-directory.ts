/**
 * In-memory routing table for the receivers: portal id / org token → installation. Webhook
 * requests never query the database per event; the table reloads periodically and, throttled,
 * when a request names an installation it does not know yet.
 */
import type { Queryable } from './db.ts';
import { listActiveInstallations, type Installation } from './installations.ts';

export class InstallationDirectory {
  private byPortal = new Map<string, Installation>();
  private byToken = new Map<string, Installation>();
  private lastLoad = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly now: () => number = Date.now,
    private readonly minReloadIntervalMs = 5_000,
  ) {}

  /** Loads every active installation. */
  async reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const installations = await listActiveInstallations(this.db);
        this.byPortal = new Map(installations.filter((i) => i.hubspotPortalId).map((i) => [i.hubspotPortalId as string, i]));
        this.byToken = new Map(installations.map((i) => [i.salesforceWebhookToken, i]));
        this.lastLoad = this.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async reloadIfStale(): Promise<void> {
    if (this.now() - this.lastLoad >= this.minReloadIntervalMs) await this.reload();
  }

  /** The installation for a HubSpot portal, or undefined. */
  async forPortal(portalId: string): Promise<Installation | undefined> {
    const known = this.byPortal.get(portalId);
    if (known) return known;
    await this.reloadIfStale();
    return this.byPortal.get(portalId);
  }

  /** True when the installation is active (as of the last reload). */
  isActive(installationId: string): boolean {
    return [...this.byToken.values()].some((installation) => installation.id === installationId);
  }

  /** The installation whose Outbound Message endpoint carries this path token, or undefined. */
  async forSalesforceToken(token: string): Promise<Installation | undefined> {
    const known = this.byToken.get(token);
    if (known) return known;
    await this.reloadIfStale();
    return this.byToken.get(token);
  }
}
