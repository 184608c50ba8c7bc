/**
 * The org's API allowance (a rolling 24 h window, counted in hour buckets so it survives restarts),
 * the `/limits` resource, and per-endpoint call statistics for `/__sandbox/stats`.
 */
import type { SandboxConfig } from './sandbox-config.ts';
import type { OrgStore } from './state-store.ts';

const HOUR_MS = 3_600_000;

export class ApiUsage {
  constructor(
    private readonly store: OrgStore,
    private readonly config: SandboxConfig,
  ) {}

  private currentHour(): number {
    return Math.floor(this.config.now() / HOUR_MS);
  }

  used(): number {
    const oldest = this.currentHour() - 23;
    let total = 0;
    for (const [hour, count] of Object.entries(this.store.state.apiUsage)) {
      if (Number(hour) >= oldest) total += count;
      else delete this.store.state.apiUsage[hour];
    }
    return total;
  }

  limit(): number {
    return this.config.dailyApiLimit;
  }

  exhausted(): boolean {
    return this.used() >= this.limit();
  }

  /** Counts one API call. */
  record(): void {
    const key = String(this.currentHour());
    this.store.state.apiUsage[key] = (this.store.state.apiUsage[key] ?? 0) + 1;
    this.store.markDirty();
  }

  /** Sets the usage so far (tests push the org to its limit without making 15,000 calls). */
  set(used: number): void {
    this.store.state.apiUsage = used > 0 ? { [String(this.currentHour())]: used } : {};
    this.store.markDirty();
  }

  /** The `Sforce-Limit-Info` header value. */
  header(): string {
    return `api-usage=${this.used()}/${this.limit()}`;
  }

  /** Body of `GET /limits` (the daily API allowance is live; the others are a fresh org's values). */
  limitsBody(): Record<string, { Max: number; Remaining: number }> {
    const max = this.limit();
    const fixed = (value: number) => ({ Max: value, Remaining: value });
    return {
      ConcurrentAsyncGetReportInstances: fixed(200),
      ConcurrentSyncReportRuns: fixed(20),
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - this.used()) },
      DailyAsyncApexExecutions: fixed(250_000),
      DailyBulkApiBatches: fixed(15_000),
      DailyBulkV2QueryFileStorageMB: fixed(976_562),
      DailyBulkV2QueryJobs: fixed(10_000),
      DailyDurableStreamingApiEvents: fixed(10_000),
      DailyStandardVolumePlatformEvents: fixed(10_000),
      DailyWorkflowEmails: fixed(1_000),
      DataStorageMB: fixed(5),
      FileStorageMB: fixed(20),
      HourlyDashboardRefreshes: fixed(200),
      HourlyODataCallout: fixed(10_000),
      HourlyTimeBasedWorkflow: fixed(50),
      MassEmail: fixed(10),
      SingleEmail: fixed(15),
      StreamingApiConcurrentClients: fixed(20),
    };
  }
}

/** Call counts per endpoint (`METHOD /route/pattern` with the sObject type filled in). */
export class CallStats {
  private calls = new Map<string, number>();
  faultsInjected = 0;

  count(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let sum = 0;
    for (const value of this.calls.values()) sum += value;
    return sum;
  }

  reset(): void {
    this.calls = new Map();
    this.faultsInjected = 0;
  }
}
