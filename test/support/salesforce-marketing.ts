/**
 * The Marketing User checkbox in tests, ticked the way an admin ticks it in a real org: an update of
 * the User record through the REST API, with the administrator's own session.
 */
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { sessionAs } from './salesforce-org.ts';

/** Ticks (or clears) `User.UserPermissionsMarketingUser` for `userId` as the org's administrator. */
export async function setMarketingUser(sandbox: SalesforceSandbox, userId: string, enabled = true): Promise<void> {
  const admin = sessionAs(sandbox, sandbox.adminUserId);
  const result = await admin.sobject('User').update({ Id: userId, UserPermissionsMarketingUser: enabled });
  if (!result.success) throw new Error(`Marketing User not set: ${JSON.stringify(result)}`);
}
