/** The people of an installation: users and pending invitations, inviting, cancelling and revoking. */
import { access } from '../../admin/access.ts';
import { identityOf } from '../../admin/auth.ts';
import {
  cancelInstallationInvitation,
  invitationJson,
  InvitationInput,
  inviteToInstallation,
  peopleOf,
  revokeInstallationUser,
  userJson,
} from '../../admin/users.ts';
import { parseInput, sendError } from '../errors.ts';
import { idParam, type ApiRoutes } from './kit.ts';

const userParams = idParam.extend({ userId: idParam.shape.id });
const invitationParams = idParam.extend({ invitationId: idParam.shape.id });

/** `/installations/:id/users` and `/installations/:id/invitations`. */
export function userRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.get('/installations/:id/users', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const { users, invitations } = await peopleOf(ctx, installation.id);
    res.json({ users: users.map(userJson), invitations: invitations.map(invitationJson) });
  });

  r.post('/installations/:id/invitations', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const body = parseInput(InvitationInput.strict(), req.body ?? {}, res, 'body');
    if (!body) return;
    const { invitation, url } = await inviteToInstallation(ctx, identityOf(res), installation.id, body);
    res.status(201).json({ invitation: invitationJson(invitation), url });
  });

  r.delete('/installations/:id/invitations/:invitationId', access.manageInstallation, async (req, res) => {
    const params = parseInput(invitationParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!(await cancelInstallationInvitation(ctx, identityOf(res), installation.id, params.invitationId)))
      return sendError(res, 404, 'not_found', `No pending invitation ${params.invitationId}`);
    res.status(204).end();
  });

  r.delete('/installations/:id/users/:userId', access.manageInstallation, async (req, res) => {
    const params = parseInput(userParams, req.params, res, 'path');
    if (!params) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    if (!(await revokeInstallationUser(ctx, identityOf(res), installation.id, params.userId)))
      return sendError(res, 404, 'not_found', `No user ${params.userId}`);
    res.status(204).end();
  });
}
