/** Call counts per endpoint, for `GET /__sandbox/stats` (API-calls-per-record in tests and benches). */

export interface SandboxStats {
  /** `"POST /crm/v3/objects/contacts/batch/upsert": 3`, ids replaced by `{id}`-style placeholders. */
  endpoints: Record<string, number>;
  totals: {
    calls: number;
    byStatus: Record<string, number>;
    rateLimited: number;
    faultsInjected: number;
  };
}

const RESERVED_OBJECT_SEGMENTS = new Set(['batch', 'search', 'merge', 'gdpr-delete']);

/** Replaces the variable parts of a path so calls to the same endpoint share one key. */
export function endpointPath(path: string): string {
  const segments = path.split('/');
  return segments
    .map((segment, index) => {
      const before = segments[index - 1] ?? '';
      const twoBefore = segments[index - 2] ?? '';
      if (segment === '') return segment;
      if (before === 'access-tokens' || before === 'refresh-tokens') return '{token}';
      if (before === 'submit') return '{portalId}';
      if (twoBefore === 'submit') return '{formGuid}';
      if (before === 'v3' && twoBefore === 'webhooks') return '{appId}';
      if (twoBefore === 'objects' && segments[index - 3] === 'v3' && !RESERVED_OBJECT_SEGMENTS.has(segment)) return '{objectId}';
      if (twoBefore === 'properties' && segment !== 'groups' && segment !== 'batch') return '{propertyName}';
      if (before === 'groups') return '{groupName}';
      if (before === 'subscriptions' && segment !== 'batch') return '{subscriptionId}';
      if (/^\d+$/.test(segment)) return '{id}';
      return segment;
    })
    .join('/');
}

/** Counts finished requests per normalized endpoint and per status. */
export class CallStats {
  private endpoints = new Map<string, number>();
  private statuses = new Map<number, number>();
  private calls = 0;
  private limited = 0;
  private injected = 0;

  /** Counts one finished request. */
  record(method: string, path: string, status: number, faultInjected: boolean): void {
    const key = `${method} ${endpointPath(path)}`;
    this.endpoints.set(key, (this.endpoints.get(key) ?? 0) + 1);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.calls += 1;
    if (status === 429 && !faultInjected) this.limited += 1;
    if (faultInjected) this.injected += 1;
  }

  snapshot(): SandboxStats {
    return {
      endpoints: Object.fromEntries([...this.endpoints].sort(([a], [b]) => a.localeCompare(b))),
      totals: {
        calls: this.calls,
        byStatus: Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count])),
        rateLimited: this.limited,
        faultsInjected: this.injected,
      },
    };
  }

  reset(): void {
    this.endpoints = new Map();
    this.statuses = new Map();
    this.calls = 0;
    this.limited = 0;
    this.injected = 0;
  }
}
