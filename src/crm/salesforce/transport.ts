/**
 * What every part of the Salesforce adapter shares: the jsforce connection, the limiter every HTTP
 * call waits for, the translation of failures into the classes of `../errors.ts` (tokens redacted),
 * answer checking, SOQL paging and writes in sObject Collections of 200.
 */
import type { Connection } from 'jsforce';
import type { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import type { RequestLimiter } from '../limiter.ts';
import type { SalesforceRecord, WriteOutcome } from '../ports.ts';
import { salesforceId15 } from '../../domain/salesforce-id.ts';
import { redact, toSalesforceError } from './errors.ts';
import { COLLECTION_LIMIT, queryResultSchema, saveResultsSchema, toSalesforceRecord, toWriteOutcome } from './mapper.ts';

export class SalesforceTransport {
  constructor(
    readonly conn: Connection,
    readonly limiter: RequestLimiter,
  ) {}

  /**
   * The limiter key names the org by its 15-character id: from the login's user info, else from the
   * session id, which starts with it (`00D…!…`); the instance URL only when neither says.
   */
  limiterKey(): string {
    const org = this.conn.userInfo?.organizationId ?? /^(00D[A-Za-z0-9]{12})!/.exec(this.conn.accessToken ?? '')?.[1];
    return `salesforce:${org === undefined ? this.conn.instanceUrl : salesforceId15(org)}`;
  }

  /** The tokens no message may carry. */
  secrets(): (string | null | undefined)[] {
    return [this.conn.accessToken, this.conn.refreshToken];
  }

  /** One HTTP call: wait for the limiter, run, translate failures. */
  async call<T>(what: string, run: () => PromiseLike<T>): Promise<T> {
    await this.limiter.acquire(this.limiterKey());
    try {
      return await run();
    } catch (error) {
      throw toSalesforceError(error, what, this.secrets());
    }
  }

  /** The answer in the schema's shape, or UNEXPECTED_RESPONSE. */
  parseAnswer<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new CrmRejectedError(
        'salesforce',
        'UNEXPECTED_RESPONSE',
        redact(`Salesforce ${what}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'shape mismatch'}`, this.secrets()),
      );
    }
    return parsed.data;
  }

  /** Runs SOQL and follows `nextRecordsUrl` until done or `max` rows. */
  async runQuery(
    soql: string,
    what: string,
    api: 'data' | 'tooling' = 'data',
    max = Number.POSITIVE_INFINITY,
    scanAll = false,
  ): Promise<SalesforceRecord[]> {
    const source = api === 'tooling' ? this.conn.tooling : this.conn;
    const records: SalesforceRecord[] = [];
    let page = this.parseAnswer(
      queryResultSchema,
      await this.call(what, () => source.query(soql, { scanAll }).execute({ autoFetch: false })),
      what,
    );
    for (;;) {
      for (const raw of page.records) {
        if (records.length >= max) return records;
        records.push(toSalesforceRecord(raw));
      }
      const next = page.nextRecordsUrl;
      if (page.done || next === undefined || records.length >= max) return records;
      page = this.parseAnswer(queryResultSchema, await this.call(what, () => source.queryMore(next).execute({ autoFetch: false })), what);
    }
  }

  /** Writes records in collections of 200; `send` is one collection call; outcomes in input order. */
  async inCollections<T>(
    what: string,
    records: readonly T[],
    send: (part: T[]) => Promise<unknown>,
    createdByDefault: boolean,
  ): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (let start = 0; start < records.length; start += COLLECTION_LIMIT) {
      const part = records.slice(start, start + COLLECTION_LIMIT);
      const results = this.parseAnswer(saveResultsSchema, await this.call(what, () => send(part)), what);
      if (results.length !== part.length) {
        throw new CrmRejectedError(
          'salesforce',
          'UNEXPECTED_RESPONSE',
          `Salesforce ${what}: ${results.length} results for ${part.length} records`,
        );
      }
      outcomes.push(...results.map((result) => toWriteOutcome(result, createdByDefault)));
    }
    return outcomes;
  }
}
