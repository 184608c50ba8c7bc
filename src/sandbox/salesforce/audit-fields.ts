/** The system fields every new record carries: not deleted, created and last modified by one user at one time. */
import { formatDateTime } from './sf-time.ts';

export function auditFields(
  userId: string,
  now: number,
): {
  IsDeleted: false;
  CreatedDate: string;
  CreatedById: string;
  LastModifiedDate: string;
  LastModifiedById: string;
  SystemModstamp: string;
} {
  const stamp = formatDateTime(now);
  return {
    IsDeleted: false,
    CreatedDate: stamp,
    CreatedById: userId,
    LastModifiedDate: stamp,
    LastModifiedById: userId,
    SystemModstamp: stamp,
  };
}
