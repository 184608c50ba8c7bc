import { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { resourceNotFound, validationError } from './errors.ts';
import { param, parseBody } from './http-kit.ts';
import type { WebhookSettings, WebhookSubscription } from './model.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';

const EVENT_TYPE =
  /^(contact|company|deal|ticket|product|line_item|conversation|object)\.(creation|deletion|propertyChange|privacyDeletion|merge|restore|associationChange|newMessage)$/;
/** Properties HubSpot refuses as propertyChange subscriptions. */
const UNSUBSCRIBABLE = new Set(['hs_lastmodifieddate', 'lastmodifieddate', 'num_unique_conversion_events']);
const MAX_SUBSCRIPTIONS = 1000;

const settingsBody = z.object({
  targetUrl: z.url(),
  throttling: z.object({
    maxConcurrentRequests: z.number().int().min(5, 'maxConcurrentRequests must be a number greater than five'),
    period: z.enum(['SECONDLY', 'ROLLING_MINUTE']).optional(),
  }),
});

const subscriptionBody = z.object({
  eventType: z.string().regex(EVENT_TYPE, 'unknown eventType'),
  propertyName: z.string().min(1).optional(),
  active: z.boolean().optional(),
  objectTypeId: z.string().optional(),
});

const patchBody = z.object({ active: z.boolean() });
const batchBody = z.object({ inputs: z.array(z.object({ id: z.union([z.number(), z.string()]).transform(String), active: z.boolean() })) });

const iso = (ms: number) => new Date(ms).toISOString();

function settingsView(settings: WebhookSettings): Record<string, unknown> {
  const throttling: Record<string, unknown> = { maxConcurrentRequests: settings.maxConcurrentRequests };
  if (settings.period !== undefined) throttling.period = settings.period;
  return { targetUrl: settings.targetUrl, throttling, createdAt: iso(settings.createdAt), updatedAt: iso(settings.updatedAt) };
}

/** A subscription as the generated `SubscriptionResponse` model. */
export function subscriptionView(subscription: WebhookSubscription): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: subscription.id,
    eventType: subscription.eventType,
    active: subscription.active,
    createdAt: iso(subscription.createdAt),
    updatedAt: iso(subscription.updatedAt),
  };
  if (subscription.propertyName !== undefined) view.propertyName = subscription.propertyName;
  return view;
}

/** Webhooks v3 management API (developer API key): target URL, throttling and subscriptions. */
export function webhooksRouter(store: SandboxStore, config: SandboxConfig): Router {
  const router = Router();

  router.use('/webhooks/v3/:appId', (req: Request, _res: Response, next: NextFunction) => {
    if (Number(param(req, 'appId')) !== config.appId)
      throw resourceNotFound(`App ${param(req, 'appId')} was not found for this developer account`);
    next();
  });
  registerSettingsRoutes(router, store, config);
  registerSubscriptionRoutes(router, store, config);
  return router;
}

/** Refuses a subscription HubSpot would refuse: propertyName rules, the cap and duplicates. */
function checkNewSubscription(store: SandboxStore, input: z.output<typeof subscriptionBody>): void {
  const isPropertyChange = input.eventType.endsWith('.propertyChange');
  if (isPropertyChange && input.propertyName === undefined) throw validationError(`propertyName is required for ${input.eventType}`);
  if (!isPropertyChange && input.propertyName !== undefined)
    throw validationError(`propertyName is only allowed for propertyChange subscriptions`);
  if (input.propertyName !== undefined && UNSUBSCRIBABLE.has(input.propertyName)) {
    throw validationError(`${input.propertyName} cannot be used for propertyChange subscriptions`);
  }
  if (store.subscriptions.size >= MAX_SUBSCRIPTIONS) throw validationError(`An app can have at most ${MAX_SUBSCRIPTIONS} subscriptions`);
  const duplicate = [...store.subscriptions.values()].some((s) => s.eventType === input.eventType && s.propertyName === input.propertyName);
  if (duplicate)
    throw validationError(
      `A subscription for ${input.eventType}${input.propertyName === undefined ? '' : ` ${input.propertyName}`} already exists`,
    );
}

/** The app's target URL and throttling. */
function registerSettingsRoutes(router: Router, store: SandboxStore, config: SandboxConfig): void {
  router.get('/webhooks/v3/:appId/settings', (_req: Request, res: Response) => {
    if (store.webhookSettings === undefined) throw resourceNotFound(`No webhook settings found for app ${config.appId}`);
    res.json(settingsView(store.webhookSettings));
  });

  router.put('/webhooks/v3/:appId/settings', (req: Request, res: Response) => {
    const input = parseBody(settingsBody, req.body);
    const now = config.now();
    const settings: WebhookSettings = {
      targetUrl: input.targetUrl,
      maxConcurrentRequests: input.throttling.maxConcurrentRequests,
      createdAt: store.webhookSettings?.createdAt ?? now,
      updatedAt: now,
    };
    if (input.throttling.period !== undefined) settings.period = input.throttling.period;
    store.webhookSettings = settings;
    res.json(settingsView(settings));
  });

  router.delete('/webhooks/v3/:appId/settings', (_req: Request, res: Response) => {
    store.webhookSettings = undefined;
    res.status(204).end();
  });
}

/** Event subscriptions: list, create, batch update, read, update, delete. */
function registerSubscriptionRoutes(router: Router, store: SandboxStore, config: SandboxConfig): void {
  const requireSubscription = (id: string): WebhookSubscription => {
    const subscription = store.subscriptions.get(id);
    if (subscription === undefined) throw resourceNotFound(`Subscription ${id} was not found`);
    return subscription;
  };

  router.get('/webhooks/v3/:appId/subscriptions', (_req: Request, res: Response) => {
    res.json({ results: [...store.subscriptions.values()].map(subscriptionView) });
  });

  router.post('/webhooks/v3/:appId/subscriptions', (req: Request, res: Response) => {
    const input = parseBody(subscriptionBody, req.body);
    checkNewSubscription(store, input);
    const now = config.now();
    // New subscriptions start paused unless asked otherwise, as in HubSpot.
    const subscription: WebhookSubscription = {
      id: store.newSubscriptionId(),
      eventType: input.eventType,
      active: input.active ?? false,
      createdAt: now,
      updatedAt: now,
    };
    if (input.propertyName !== undefined) subscription.propertyName = input.propertyName;
    store.subscriptions.set(subscription.id, subscription);
    res.status(201).json(subscriptionView(subscription));
  });

  router.post('/webhooks/v3/:appId/subscriptions/batch/update', (req: Request, res: Response) => {
    const { inputs } = parseBody(batchBody, req.body);
    const startedAt = config.now();
    const results = inputs.map((input) => {
      const subscription = requireSubscription(input.id);
      subscription.active = input.active;
      subscription.updatedAt = config.now();
      return subscriptionView(subscription);
    });
    res.json({ status: 'COMPLETE', results, startedAt: iso(startedAt), completedAt: iso(config.now()) });
  });

  router.get('/webhooks/v3/:appId/subscriptions/:subscriptionId', (req: Request, res: Response) => {
    res.json(subscriptionView(requireSubscription(param(req, 'subscriptionId'))));
  });

  router.patch('/webhooks/v3/:appId/subscriptions/:subscriptionId', (req: Request, res: Response) => {
    const subscription = requireSubscription(param(req, 'subscriptionId'));
    subscription.active = parseBody(patchBody, req.body).active;
    subscription.updatedAt = config.now();
    res.json(subscriptionView(subscription));
  });

  router.delete('/webhooks/v3/:appId/subscriptions/:subscriptionId', (req: Request, res: Response) => {
    store.subscriptions.delete(param(req, 'subscriptionId'));
    res.status(204).end();
  });
}
