import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { CrmService } from './crm-service.ts';
import { HubSpotError } from './errors.ts';
import { param } from './http-kit.ts';
import type { ChangeOrigin, CrmRecord } from './model.ts';
import { validateWrites } from './property-values.ts';
import type { WritePolicy } from './property-values.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';
import { classifyTrafficSource } from './traffic-source.ts';

/** Body of the Forms submission API v3. `context.sandboxReferrer` is sandbox-only (the real API has no referrer field). */
const submissionBody = z
  .object({
    fields: z.array(z.object({ objectTypeId: z.string().optional(), name: z.string().min(1), value: z.string() }).strict()),
    context: z
      .object({
        hutk: z.string().optional(),
        pageUri: z.string().optional(),
        pageName: z.string().optional(),
        ipAddress: z.string().optional(),
        sfdcCampaignId: z.string().optional(),
        goToWebinarWebinarKey: z.string().optional(),
        pageId: z.string().optional(),
        sandboxReferrer: z.string().optional(),
      })
      .strict()
      .optional(),
    legalConsentOptions: z.record(z.string(), z.unknown()).optional(),
    skipValidation: z.boolean().optional(),
    submittedAt: z.union([z.string().regex(/^\d+$/), z.number().int()]).optional(),
  })
  .strict();

type Submission = z.output<typeof submissionBody>;
const FORM_POLICY: WritePolicy = { lifecycle: 'keep-forward', allowReadOnly: false };

/** The Forms API's own 400 shape: `{status, message:"The request is not valid", errors:[{message, errorType}]}`. */
function formsError(errors: { message: string; errorType: string }[], status = 400): HubSpotError {
  return new HubSpotError(status, { status: 'error', message: 'The request is not valid', correlationId: randomUUID(), errors });
}

/**
 * `POST /submissions/v3/integration/submit/{portalId}/{formGuid}`: creates or updates the contact
 * by email, stamps original (first touch, once) and latest source from the page URL's UTM
 * parameters and the referrer, and records first/recent conversion.
 */
export function formsRouter(store: SandboxStore, crm: CrmService, config: SandboxConfig, secureAuth: RequestHandler[]): Router {
  const router = Router();

  const submit = (req: Request, res: Response) => {
    if (Number(param(req, 'portalId')) !== config.portalId) {
      throw formsError([{ message: `Portal ${param(req, 'portalId')} was not found`, errorType: 'PORTAL_NOT_FOUND' }], 404);
    }
    const formGuid = param(req, 'formGuid');
    const parsed = submissionBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw formsError(
        parsed.error.issues.map((issue) => ({
          message: `Error in '${issue.path.map(String).join('.')}'. ${issue.message}`,
          errorType: 'INVALID_INPUT',
        })),
      );
    }
    applySubmission(store, crm, config, formGuid, parsed.data);
    const form = store.forms.get(formGuid);
    res.json(
      form?.redirectUri !== undefined
        ? { redirectUri: form.redirectUri }
        : { inlineMessage: form?.inlineMessage ?? 'Thanks for submitting the form.' },
    );
  };

  router.post('/submissions/v3/integration/submit/:portalId/:formGuid', submit);
  router.post('/submissions/v3/integration/secure/submit/:portalId/:formGuid', ...secureAuth, submit);
  return router;
}

function applySubmission(store: SandboxStore, crm: CrmService, config: SandboxConfig, formGuid: string, submission: Submission): CrmRecord {
  const values: Record<string, string> = {};
  const errors: { message: string; errorType: string }[] = [];
  const catalog = store.properties.contacts;
  for (const field of submission.fields) {
    const definition = catalog.get(field.name);
    if ((field.objectTypeId !== undefined && field.objectTypeId !== '0-1') || definition === undefined || definition.readOnlyValue) {
      errors.push({
        message: `Error in 'fields.${field.name}'. Field '${field.name}' is not in the form definition`,
        errorType: 'FIELD_NOT_IN_FORM_DEFINITION',
      });
      continue;
    }
    values[field.name] = field.value;
  }
  const email = values.email?.trim() ?? '';
  if (email === '') errors.push({ message: "Error in 'fields.email'. Required field 'email' is missing", errorType: 'REQUIRED_FIELD' });
  const existing = email === '' ? undefined : crm.table('contacts').findUnique('email', email);
  for (const issue of validateWrites(catalog, existing?.properties, values, FORM_POLICY).issues) {
    errors.push({ message: `Error in 'fields.${issue.name}'. ${issue.message}`, errorType: issue.error });
  }
  if (errors.length > 0) throw formsError(errors);

  const origin: ChangeOrigin = { changeSource: 'FORM', sourceId: formGuid };
  const at = submission.submittedAt === undefined ? config.now() : Number(submission.submittedAt);
  let record: CrmRecord;
  if (existing !== undefined) {
    crm.updateMany('contacts', [{ record: existing, properties: values }], origin, FORM_POLICY);
    record = existing;
  } else {
    const initial = { lifecyclestage: 'lead', ...values };
    const [created] = crm.createMany('contacts', [{ properties: initial }], origin, FORM_POLICY);
    if (created === undefined) throw new Error('form submission created no contact');
    record = created;
  }
  crm.writeCalculated('contacts', record, analyticsValues(store, record, formGuid, submission, at), {
    changeSource: 'ANALYTICS',
    sourceId: formGuid,
  });
  return record;
}

/** Source and conversion properties for one submission (first-touch ones only when still empty). */
function analyticsValues(
  store: SandboxStore,
  record: CrmRecord,
  formGuid: string,
  submission: Submission,
  at: number,
): Map<string, string> {
  const context = submission.context ?? {};
  const pageUri = context.pageUri;
  const referrer = context.sandboxReferrer;
  const touch = classifyTrafficSource(pageUri, referrer);
  const iso = new Date(at).toISOString();
  const values = new Map<string, string>();
  const current = record.properties;
  if ((current.hs_analytics_source ?? '') === '') {
    values.set('hs_analytics_source', touch.source);
    values.set('hs_analytics_source_data_1', touch.data1);
    values.set('hs_analytics_source_data_2', touch.data2);
    values.set('hs_analytics_first_url', pageUri ?? '');
    values.set('hs_analytics_first_referrer', referrer ?? '');
    values.set('hs_analytics_first_timestamp', iso);
  }
  values.set('hs_latest_source', touch.source);
  values.set('hs_latest_source_data_1', touch.data1);
  values.set('hs_latest_source_data_2', touch.data2);
  values.set('hs_latest_source_timestamp', iso);
  values.set('hs_analytics_last_url', pageUri ?? '');
  values.set('hs_analytics_last_referrer', referrer ?? '');
  values.set('hs_analytics_last_timestamp', iso);

  const formName = store.forms.get(formGuid)?.name ?? `Form ${formGuid}`;
  const eventName = context.pageName !== undefined && context.pageName !== '' ? `${context.pageName}: ${formName}` : formName;
  if ((current.first_conversion_event_name ?? '') === '') {
    values.set('first_conversion_event_name', eventName);
    values.set('first_conversion_date', iso);
  }
  values.set('recent_conversion_event_name', eventName);
  values.set('recent_conversion_date', iso);
  const submissions = (current.hs_calculated_form_submissions ?? '').split(';').filter((entry) => entry !== '');
  submissions.push(`${formGuid}:${at}`);
  values.set('hs_calculated_form_submissions', submissions.join(';'));
  values.set('num_conversion_events', String(submissions.length));
  values.set('num_unique_conversion_events', String(new Set(submissions.map((entry) => entry.split(':')[0])).size));
  return values;
}
