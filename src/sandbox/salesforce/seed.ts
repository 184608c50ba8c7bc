/** The fresh org: admin, integration user, a small sales team, and the picklist metadata rows. */
import { makeId, KEY_PREFIXES } from './ids.ts';
import { auditFields } from './audit-fields.ts';
import { LEAD_STATUSES, OPPORTUNITY_STAGES } from './standard-objects.ts';
import type { SfRecord } from './types.ts';

/** Seeded rows use generation 0, so their ids survive resets. */
const seededId = (prefix: string, n: number): string => makeId(prefix, 0, n);

export const ADMIN_USER_ID = seededId(KEY_PREFIXES.User, 1);
export const INTEGRATION_USER_ID = seededId(KEY_PREFIXES.User, 2);

interface SeedUser {
  n: number;
  first: string;
  last: string;
  username?: string;
  alias: string;
  title: string;
  department: string;
  managerN?: number;
  active?: boolean;
  rep?: boolean;
  /** The Marketing User checkbox (User.UserPermissionsMarketingUser). */
  marketing?: boolean;
}

const USERS: readonly SeedUser[] = [
  // The org's first administrator manages campaigns; the integration user and the sales team do not
  // until an admin ticks Marketing User for them.
  { n: 1, first: 'Sandbox', last: 'Admin', alias: 'sadmin', title: 'System Administrator', department: 'IT', marketing: true },
  {
    n: 2,
    first: 'Smarketing',
    last: 'Integration',
    username: 'integration@sandbox.example.com',
    alias: 'integ',
    title: 'Integration User',
    department: 'IT',
  },
  { n: 3, first: 'Morgan', last: 'Lee', alias: 'mlee', title: 'Sales Manager', department: 'Sales' },
  {
    n: 4,
    first: 'Alex',
    last: 'Rivera',
    alias: 'arive',
    title: 'Sales Development Representative',
    department: 'Sales',
    managerN: 3,
    rep: true,
  },
  {
    n: 5,
    first: 'Jordan',
    last: 'Kim',
    alias: 'jkim',
    title: 'Sales Development Representative',
    department: 'Sales',
    managerN: 3,
    rep: true,
  },
  { n: 6, first: 'Taylor', last: 'Brooks', alias: 'tbroo', title: 'Account Executive', department: 'Sales', managerN: 3, rep: true },
  {
    n: 7,
    first: 'Casey',
    last: 'Nguyen',
    alias: 'cnguy',
    title: 'Sales Development Representative',
    department: 'Sales',
    managerN: 3,
    active: false,
    rep: true,
  },
];

/** Ids of the sales reps (active or not) that round-robin assignment draws from by default. */
export const SALES_REP_IDS: readonly string[] = USERS.filter((u) => u.rep).map((u) => seededId(KEY_PREFIXES.User, u.n));

const audit = (now: number): SfRecord => auditFields(ADMIN_USER_ID, now);

/** Builds the seeded tables of a fresh org. */
export function seedTables(adminUsername: string, now: number): Record<string, Record<string, SfRecord>> {
  const users: Record<string, SfRecord> = {};
  for (const u of USERS) {
    const id = seededId(KEY_PREFIXES.User, u.n);
    const username = u.n === 1 ? adminUsername : (u.username ?? `${u.first}.${u.last}@sandbox.example.com`.toLowerCase());
    users[id] = {
      Id: id,
      Username: username,
      FirstName: u.first,
      LastName: u.last,
      Name: `${u.first} ${u.last}`,
      Email: username,
      Alias: u.alias,
      Title: u.title,
      Department: u.department,
      IsActive: u.active ?? true,
      UserPermissionsMarketingUser: u.marketing ?? false,
      ManagerId: u.managerN === undefined ? null : seededId(KEY_PREFIXES.User, u.managerN),
      UserType: 'Standard',
      TimeZoneSidKey: 'GMT',
      ...audit(now),
    };
  }
  const leadStatuses: Record<string, SfRecord> = {};
  LEAD_STATUSES.forEach((row, i) => {
    const id = seededId(KEY_PREFIXES.LeadStatus, 100 + i);
    leadStatuses[id] = { Id: id, ...row, ...audit(now) };
  });
  const stages: Record<string, SfRecord> = {};
  OPPORTUNITY_STAGES.forEach((row, i) => {
    const id = seededId(KEY_PREFIXES.OpportunityStage, 200 + i);
    stages[id] = { Id: id, ...row, ...audit(now) };
  });
  return { User: users, LeadStatus: leadStatuses, OpportunityStage: stages };
}
