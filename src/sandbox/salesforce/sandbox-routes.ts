/**
 * `/__sandbox/*`: inspection and control of the sandbox org for tests, demos and benchmarks.
 * No auth, loopback only. Every body is validated with zod; errors use Salesforce's array shape.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { SandboxControl } from './control.ts';
import { httpError } from './errors.ts';
import { faultConfigSchema } from './faults.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const expireSchema = z.strictObject({ userId: z.string().optional() });
const usageSchema = z.strictObject({ used: z.number().int().min(0) });
const assignmentSchema = z.strictObject({ active: z.boolean(), userIds: z.array(z.string()).nullable().optional() });
const fieldHistorySchema = z.strictObject({ object: z.string().min(1), fields: z.array(z.string().min(1)) });
const currencySchema = z.strictObject({
  multiCurrency: z.boolean().optional(),
  corporateCurrency: z.string().length(3).optional(),
  currencies: z
    .array(
      z.strictObject({
        isoCode: z.string().length(3),
        conversionRate: z.number().positive(),
        decimalPlaces: z.number().int().min(0).max(6).optional(),
        isActive: z.boolean().optional(),
      }),
    )
    .optional(),
});

function validated<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw httpError(400, 'INVALID_INPUT', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Set History Tracking (field-history.ts): the tracked fields of an object, read and set. */
function registerFieldHistoryRoutes(app: Express, control: SandboxControl): void {
  app.get('/__sandbox/field-history/:object', (req, res) => {
    res.json({ object: req.params.object, fields: control.fieldHistory.get(req.params.object) });
  });
  app.post('/__sandbox/field-history', (req, res) => {
    const { object, fields } = validated(fieldHistorySchema, req.body);
    res.json({ object, fields: control.fieldHistory.set(object, fields) });
  });
}

export function registerSandboxRoutes(app: Express, control: SandboxControl): void {
  const json = express.json();
  const only = (req: Request, _res: Response, next: NextFunction) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
      throw httpError(403, 'INSUFFICIENT_ACCESS', 'sandbox controls answer loopback clients only');
    next();
  };
  app.use('/__sandbox', only, json);

  app.get('/__sandbox/stats', (_req, res) => {
    res.json(control.stats());
  });
  app.post('/__sandbox/reset', async (_req, res) => {
    await control.reset();
    res.status(204).end();
  });

  app.get('/__sandbox/faults', (_req, res) => {
    res.json(control.faults.get());
  });
  app.post('/__sandbox/faults', (req, res) => {
    res.json(control.faults.set(validated(faultConfigSchema, req.body)));
  });
  app.delete('/__sandbox/faults', (_req, res) => {
    control.faults.clear();
    res.status(204).end();
  });

  app.get('/__sandbox/outbound-messages', (_req, res) => {
    res.json(control.outbound.rules());
  });
  app.post('/__sandbox/outbound-messages', (req, res) => {
    res.status(201).json(control.outbound.addRule(req.body));
  });
  app.delete('/__sandbox/outbound-messages', (_req, res) => {
    control.outbound.clearRules();
    res.status(204).end();
  });
  app.delete('/__sandbox/outbound-messages/:id', (req, res) => {
    if (!control.outbound.removeRule(String(req.params.id))) throw httpError(404, 'NOT_FOUND', 'no such outbound message rule');
    res.status(204).end();
  });
  app.get('/__sandbox/outbound-deliveries', (_req, res) => {
    res.json({ deliveries: control.outbound.deliveries(), pending: control.outbound.pending() });
  });
  app.post('/__sandbox/outbound-deliveries/retry', (_req, res) => {
    res.json({ retried: control.outbound.retryNow() });
  });

  app.get('/__sandbox/users', (_req, res) => {
    res.json(control.users());
  });
  app.post('/__sandbox/users/:id/token', (req, res) => {
    res.json(control.issueUserToken(String(req.params.id)));
  });
  app.post('/__sandbox/sessions/expire', (req, res) => {
    res.json({ expired: control.expireSessions(validated(expireSchema, req.body).userId) });
  });
  app.post('/__sandbox/api-usage', (req, res) => {
    control.setApiUsage(validated(usageSchema, req.body).used);
    res.json(control.stats().apiUsage);
  });
  app.get('/__sandbox/currency', (_req, res) => {
    res.json(control.currency.get());
  });
  app.post('/__sandbox/currency', (req, res) => {
    res.json(control.currency.set(validated(currencySchema, req.body)));
  });
  registerFieldHistoryRoutes(app, control);
  app.get('/__sandbox/assignment', (_req, res) => {
    res.json(control.assignment());
  });
  app.post('/__sandbox/assignment', (req, res) => {
    res.json(control.setAssignment(validated(assignmentSchema, req.body)));
  });
}
