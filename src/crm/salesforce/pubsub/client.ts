/**
 * A Salesforce Pub/Sub API client for change data capture: `@grpc/grpc-js` with the official proto
 * (TLS with the system's roots against a real org, plaintext against the sandbox's `http://` URL),
 * the installation's session as call metadata (`accesstoken`, `instanceurl`, `tenantid`), schemas
 * from GetSchema cached by id, Avro decoding, and flow control: `batchSize` events are requested up
 * front and as many again once a batch has been handed over, so a slow consumer is never flooded.
 * A refused CUSTOM replay id (past the retention) ends the subscription as `replay-expired`, for the
 * caller to start again from LATEST.
 */
import { getCACertificates } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import { APP_CLIENT_NAME, decodeChangeEvent, type ChangeEventMessage } from './change-events.ts';
import {
  ERROR_CODE_TRAILER,
  REPLAY_ID_CORRUPTED,
  loadPubSubService,
  type FetchRequest,
  type FetchResponse,
  type SchemaInfo,
  type TopicInfo,
} from './proto.ts';

/** The Pub/Sub API endpoint of every production and sandbox org (Pub/Sub API guide). */
const SALESFORCE_PUBSUB_ENDPOINT = 'api.pubsub.salesforce.com:7443';

/** The installation's Salesforce session, read for every call (tokens are refreshed elsewhere). */
export interface PubSubAuth {
  accessToken: string;
  instanceUrl: string;
  orgId: string;
}

export interface PubSubClientOptions {
  /** `host:port` for TLS (default: the real service), or `http://host:port` for plaintext (the sandbox). */
  endpoint?: string;
  auth: () => PubSubAuth;
  /** The client name of the app's own writes; their events are marked `echo`. */
  appClientName?: string;
}

export type Replay = { preset: 'LATEST' } | { preset: 'EARLIEST' } | { preset: 'CUSTOM'; replayId: Buffer };

/** How a subscription ended: closed by us, its replay id refused as expired, or another failure. */
export type SubscriptionEnd =
  | { kind: 'closed' }
  | { kind: 'replay-expired'; replayId: Buffer | undefined; message: string }
  | { kind: 'failed'; code: grpc.status; errorCode: string | undefined; message: string };

/** Whether the service refused the session (expired or revoked access token): refresh it before retrying. */
export function sessionRefused(end: SubscriptionEnd): boolean {
  return end.kind === 'failed' && end.code === grpc.status.UNAUTHENTICATED;
}

export interface SubscribeOptions {
  /** A change event channel, e.g. `/data/LeadChangeEvent`. */
  topic: string;
  replay: Replay;
  /** Events requested at a time (`num_requested`). */
  batchSize?: number;
  /** Receives each batch in order; the next events are requested once it resolves. */
  onEvents: (events: ChangeEventMessage[]) => Promise<void>;
  /**
   * Receives the latest replay id of a keepalive (an empty response: nothing to deliver), in order
   * after every batch before it, so a quiet channel's position stays inside the retention.
   */
  onKeepalive?: (latestReplayId: Buffer) => Promise<void>;
}

export interface Subscription {
  /** Resolves once the stream is over and every batch received before has been handed over. */
  ended: Promise<SubscriptionEnd>;
  close(): void;
}

type PubSubStub = grpc.Client & {
  GetTopic(
    request: { topic_name: string },
    metadata: grpc.Metadata,
    done: (error: grpc.ServiceError | null, info?: TopicInfo) => void,
  ): void;
  GetSchema(
    request: { schema_id: string },
    metadata: grpc.Metadata,
    done: (error: grpc.ServiceError | null, info?: SchemaInfo) => void,
  ): void;
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
};

function channelFor(endpoint: string): { target: string; credentials: grpc.ChannelCredentials } {
  if (endpoint.startsWith('http://'))
    return { target: endpoint.slice('http://'.length).replace(/\/+$/, ''), credentials: grpc.credentials.createInsecure() };
  const roots = getCACertificates('system');
  const credentials = roots.length > 0 ? grpc.credentials.createSsl(Buffer.from(roots.join('\n'))) : grpc.credentials.createSsl();
  return { target: endpoint.replace(/^https:\/\//, ''), credentials };
}

function unary<T>(call: (done: (error: grpc.ServiceError | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, value) => {
      if (error || value === undefined) reject(error ?? new Error('empty Pub/Sub API answer'));
      else resolve(value);
    });
  });
}

export class PubSubClient {
  private readonly stub: PubSubStub;
  private readonly schemas = new Map<string, Promise<avro.Type>>();
  private readonly appClientName: string;

  constructor(private readonly options: PubSubClientOptions) {
    const { Client } = loadPubSubService();
    const { target, credentials } = channelFor(options.endpoint ?? SALESFORCE_PUBSUB_ENDPOINT);
    this.stub = new Client(target, credentials) as unknown as PubSubStub;
    this.appClientName = options.appClientName ?? APP_CLIENT_NAME;
  }

  getTopic(topic: string): Promise<TopicInfo> {
    return unary((done) => this.stub.GetTopic({ topic_name: topic }, this.metadata(), done));
  }

  /** The Avro type of a schema id, fetched once per client. */
  schema(schemaId: string): Promise<avro.Type> {
    let cached = this.schemas.get(schemaId);
    if (!cached) {
      cached = unary<SchemaInfo>((done) => this.stub.GetSchema({ schema_id: schemaId }, this.metadata(), done)).then((info) =>
        avro.Type.forSchema(JSON.parse(info.schema_json) as avro.Schema),
      );
      cached.catch(() => this.schemas.delete(schemaId));
      this.schemas.set(schemaId, cached);
    }
    return cached;
  }

  subscribe(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? 100;
    const call = this.stub.Subscribe(this.metadata());
    let chain = Promise.resolve();
    let closing = false;
    let settle: (end: SubscriptionEnd) => void = () => undefined;
    const ended = new Promise<SubscriptionEnd>((resolve) => (settle = resolve));
    const finish = (end: SubscriptionEnd) => {
      chain = chain.then(() => settle(end));
    };
    call.on('data', (response: FetchResponse) => {
      chain = chain
        .then(async () => {
          if (closing) return;
          if (response.events.length === 0) {
            if (response.latest_replay_id.length > 0) await options.onKeepalive?.(response.latest_replay_id);
            return;
          }
          const events = await this.decode(response);
          if (events.length > 0) await options.onEvents(events);
          if (response.events.length > 0 && !closing) call.write({ num_requested: response.events.length });
        })
        .catch((error: unknown) => {
          closing = true;
          call.cancel();
          settle({
            kind: 'failed',
            code: grpc.status.ABORTED,
            errorCode: undefined,
            message: error instanceof Error ? error.message : String(error),
          });
        });
    });
    call.on('error', (error: grpc.ServiceError) => finish(closing ? { kind: 'closed' } : this.endOf(error, options.replay)));
    call.on('end', () => finish({ kind: 'closed' }));
    const { replay } = options;
    call.write({
      topic_name: options.topic,
      replay_preset: replay.preset,
      ...(replay.preset === 'CUSTOM' ? { replay_id: replay.replayId } : {}),
      num_requested: batchSize,
    });
    return {
      ended,
      close: () => {
        closing = true;
        call.cancel();
      },
    };
  }

  close(): void {
    this.stub.close();
  }

  private metadata(): grpc.Metadata {
    const auth = this.options.auth();
    const metadata = new grpc.Metadata();
    metadata.set('accesstoken', auth.accessToken);
    metadata.set('instanceurl', auth.instanceUrl.replace(/\/+$/, ''));
    metadata.set('tenantid', auth.orgId);
    return metadata;
  }

  private async decode(response: FetchResponse): Promise<ChangeEventMessage[]> {
    const decoded: ChangeEventMessage[] = [];
    for (const { event, replay_id } of response.events) {
      const schema = await this.schema(event.schema_id);
      const message = decodeChangeEvent(schema, { id: event.id, payload: event.payload, replayId: replay_id }, this.appClientName);
      if (message) decoded.push(message);
    }
    return decoded;
  }

  private endOf(error: grpc.ServiceError, replay: Replay): SubscriptionEnd {
    const trailer = error.metadata?.get(ERROR_CODE_TRAILER)[0];
    const errorCode = typeof trailer === 'string' ? trailer : undefined;
    if (errorCode === REPLAY_ID_CORRUPTED) {
      return { kind: 'replay-expired', replayId: replay.preset === 'CUSTOM' ? replay.replayId : undefined, message: error.details };
    }
    return { kind: 'failed', code: error.code, errorCode, message: error.details };
  }
}
