/**
 * The SLA alert target as the admin sees and edits it: saved sealed in the vault, shown only as
 * its origin (a chat webhook URL's path is its token) and never with its secret. A URL that
 * leads to a loopback, private, link-local or otherwise non-public address is refused when saved
 * (and again, after a fresh lookup, each time an alert is sent).
 */
import { recordAdminAction } from '../../store/admin-sessions.ts';
import type { Result } from '../../domain/result.ts';
import { AlertTargetSchema } from '../../sync/alerts.ts';
import { checkOutboundUrl } from '../../sync/outbound-http.ts';
import { UnreadableCredentialsError } from '../oauth/credentials.ts';
import type { AdminContext } from './context.ts';

/** What the dashboard and the API show of an alert target. */
export interface AlertTargetView {
  /** True when a target is stored (readable or not). */
  configured: boolean;
  /** `https://hooks.example.com/…`: the origin only; null when none is stored or it cannot be read. */
  url: string | null;
  /** `ok`, `none`, or `unreadable`: stored but cannot be opened (another ENCRYPTION_KEY, damaged or moved); no alert is sent then. */
  state: 'ok' | 'none' | 'unreadable';
  /** Why it cannot be used and what to do, when `state` is `unreadable`. */
  problem: string | null;
}

function originOnly(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}/…`;
}

/** The installation's alert target, without its secret or path; an unreadable one is a state, not an error. */
export async function alertTargetView(ctx: Pick<AdminContext, 'vault'>, installationId: string): Promise<AlertTargetView> {
  try {
    const target = await ctx.vault.read(installationId, 'alert');
    return target
      ? { configured: true, url: originOnly(target.url), state: 'ok', problem: null }
      : { configured: false, url: null, state: 'none', problem: null };
  } catch (error) {
    if (!(error instanceof UnreadableCredentialsError)) throw error;
    return { configured: true, url: null, state: 'unreadable', problem: error.message };
  }
}

/** Validates and seals an alert target; refused with every problem, nothing stored then. */
export async function saveAlertTarget(
  ctx: Pick<AdminContext, 'vault' | 'db' | 'clients' | 'config'>,
  installationId: string,
  input: unknown,
): Promise<Result<AlertTargetView, string[]>> {
  const parsed = AlertTargetSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, error: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  // A name that does not resolve now is kept (it may be created later); where it leads is checked again at each send.
  const where = await checkOutboundUrl(parsed.data.url, { allowPrivate: ctx.config.outboundAllowPrivate });
  if (!where.ok && where.error.kind === 'policy') return { ok: false, error: [`url: ${where.error.message}`] };
  await ctx.vault.write(installationId, 'alert', parsed.data);
  await recordAdminAction(ctx.db, {
    installationId,
    action: 'alert_target_saved',
    summary: `SLA alerts go to ${originOnly(parsed.data.url)}`,
  });
  await ctx.clients()?.changed(installationId);
  return { ok: true, value: { configured: true, url: originOnly(parsed.data.url), state: 'ok', problem: null } };
}

/** Removes the alert target: breaches are still escalated with Salesforce Tasks, no alert is sent. */
export async function removeAlertTarget(ctx: Pick<AdminContext, 'vault' | 'db' | 'clients'>, installationId: string): Promise<void> {
  await ctx.vault.clear(installationId, 'alert');
  await recordAdminAction(ctx.db, { installationId, action: 'alert_target_removed', summary: 'SLA alerts turned off' });
  await ctx.clients()?.changed(installationId);
}
