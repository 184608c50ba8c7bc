/**
 * The org's Pub/Sub API (`eventbus.v1.PubSub` over gRPC, plaintext on loopback): GetTopic, GetSchema
 * and Subscribe for the change event channels. Every call authenticates like the real service, with
 * the metadata headers `accesstoken`, `instanceurl` and `tenantid` checked against the org's live
 * sessions, its URL and its id. Subscribe honours the replay option of the first FetchRequest only,
 * sends no more events than requested (`num_requested` adds up across requests), and refuses a
 * CUSTOM replay id outside the retention with INVALID_ARGUMENT and the documented `error-code`.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { SandboxConfig } from '../sandbox-config.ts';
import type { TokenService } from '../tokens.ts';
import { CHANNELS, replayIdOf, seqOfReplayId, type ChangeEventBus } from './event-bus.ts';
import {
  ERROR_CODE_TRAILER,
  REPLAY_ID_CORRUPTED,
  loadPubSubService,
  type FetchRequest,
  type FetchResponse,
  type SchemaInfo,
  type TopicInfo,
} from '../../../crm/salesforce/pubsub/proto.ts';

/** Events per FetchResponse at most (the service batches what it has, up to what is pending). */
const MAX_BATCH = 100;

/**
 * "If there are no events to deliver, the server sends an empty batch fetch response with the latest
 * replay ID. The empty fetch response is sent within 270 seconds" (`FetchResponse` in pubsub_api.proto).
 */
const KEEPALIVE_MS = 270_000;

/** The sandbox's own error codes for what the guide names without giving the string. */
const AUTH_ERROR = 'sfdc.platform.eventbus.grpc.service.auth.error';
const TOPIC_NOT_FOUND = 'sfdc.platform.eventbus.grpc.service.topic.not.found';

export interface PubSubDeps {
  bus: ChangeEventBus;
  tokens: TokenService;
  config: SandboxConfig;
  url: () => string;
}

function failure(code: grpc.status, errorCode: string, message: string): grpc.ServiceError {
  const rpcId = randomUUID();
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, errorCode);
  metadata.set('rpc-id', rpcId);
  const details = `${message} rpcId: ${rpcId}`;
  return Object.assign(new Error(details), { code, details, metadata });
}

function header(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class PubSubService {
  private readonly server = new grpc.Server();
  private readonly streams = new Set<grpc.ServerDuplexStream<FetchRequest, FetchResponse>>();

  constructor(private readonly deps: PubSubDeps) {
    const { definition } = loadPubSubService();
    this.server.addService(definition, {
      GetTopic: (call: grpc.ServerUnaryCall<{ topic_name: string }, TopicInfo>, done: grpc.sendUnaryData<TopicInfo>) =>
        this.answer(call.metadata, done, () => this.topicInfo(call.request.topic_name)),
      GetSchema: (call: grpc.ServerUnaryCall<{ schema_id: string }, SchemaInfo>, done: grpc.sendUnaryData<SchemaInfo>) =>
        this.answer(call.metadata, done, () => this.schemaInfo(call.request.schema_id)),
      Subscribe: (call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>) => this.subscribe(call),
    });
  }

  /** Listens on the sandbox's host; resolves the port (an ephemeral one for 0). */
  listen(port: number): Promise<number> {
    const { host } = this.deps.config;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(
        `${host.includes(':') ? `[${host}]` : host}:${port}`,
        grpc.ServerCredentials.createInsecure(),
        (error, bound) => {
          if (error) reject(error);
          else resolve(bound);
        },
      );
    });
  }

  close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    return new Promise((resolve) => {
      this.server.tryShutdown(() => resolve());
      setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000).unref();
    });
  }

  /** The refusal for calls whose metadata names no live session of this org, else undefined. */
  private authFailure(metadata: grpc.Metadata): grpc.ServiceError | undefined {
    const token = header(metadata, 'accesstoken');
    const session = token === undefined ? undefined : this.deps.tokens.session(token);
    const instanceUrl = header(metadata, 'instanceurl')?.replace(/\/+$/, '');
    const tenantId = header(metadata, 'tenantid');
    if (session && instanceUrl === this.deps.url() && tenantId?.slice(0, 15) === this.deps.config.orgId.slice(0, 15)) return undefined;
    return failure(
      grpc.status.UNAUTHENTICATED,
      AUTH_ERROR,
      'An error occurred while trying to authenticate. Check the access token, instance URL and tenant id.',
    );
  }

  private answer<T>(metadata: grpc.Metadata, done: grpc.sendUnaryData<T>, produce: () => T | grpc.ServiceError): void {
    const refused = this.authFailure(metadata);
    const result = refused ?? produce();
    if (result instanceof Error) done(result);
    else done(null, result);
  }

  private topicInfo(topicName: string): TopicInfo | grpc.ServiceError {
    const entities = CHANNELS.get(topicName);
    if (!entities) return failure(grpc.status.NOT_FOUND, TOPIC_NOT_FOUND, `Topic not found: ${topicName}.`);
    // A single-entity channel has that entity's schema; `/data/ChangeEvents` mixes several, so none.
    const schemaId = entities.length === 1 ? this.deps.bus.schemaOf(entities[0] ?? '').id : '';
    return {
      topic_name: topicName,
      tenant_guid: this.deps.config.orgId,
      can_publish: false,
      can_subscribe: true,
      schema_id: schemaId,
      rpc_id: randomUUID(),
    };
  }

  private schemaInfo(schemaId: string): SchemaInfo | grpc.ServiceError {
    const schema = this.deps.bus.schemaById(schemaId);
    if (!schema) return failure(grpc.status.NOT_FOUND, 'sfdc.platform.eventbus.grpc.schema.not.found', `Schema not found: ${schemaId}.`);
    return { schema_json: schema.json, schema_id: schema.id, rpc_id: randomUUID() };
  }

  private subscribe(call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>): void {
    const refused = this.authFailure(call.metadata);
    if (refused) {
      call.emit('error', refused);
      return;
    }
    this.streams.add(call);
    const subscription = new StreamState(this.deps.bus, call);
    call.on('data', (request: FetchRequest) => subscription.request(request));
    const finish = () => {
      subscription.stop();
      this.streams.delete(call);
    };
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
  }
}

/** One Subscribe stream: its channel, position, pending count and the delivery loop. */
class StreamState {
  private channel: string | undefined;
  private cursor = 0n;
  private pending = 0;
  private delivered = 0;
  private dropAfter: number | undefined;
  private pumping = false;
  private stopped = false;
  private lastSentAt = Date.now();
  private keepalive: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly bus: ChangeEventBus,
    private readonly call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>,
  ) {
    this.unsubscribe = bus.onPublish(() => void this.pump());
  }

  request(request: FetchRequest): void {
    if (this.stopped) return;
    if (this.channel === undefined) {
      const refused = this.open(request);
      if (refused) {
        this.fail(refused);
        return;
      }
    } else if (request.topic_name && request.topic_name !== this.channel) {
      this.fail(
        failure(
          grpc.status.INVALID_ARGUMENT,
          'sfdc.platform.eventbus.grpc.subscription.topic.mismatch',
          'The topic differs from the first FetchRequest.',
        ),
      );
      return;
    }
    this.pending += Math.max(0, request.num_requested ?? 0);
    void this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.keepalive);
    this.unsubscribe();
  }

  /**
   * The keepalive: an empty response once nothing was sent for the interval, naming the latest
   * replay id the subscriber may resume after — the bus's newest when none of the channel's events
   * waits undelivered (other channels' events are no gap for it), else the last one it was sent.
   */
  private startKeepalive(): void {
    const everyMs = this.bus.faults.keepaliveMs ?? KEEPALIVE_MS;
    this.keepalive = setInterval(
      () => {
        if (this.stopped || this.channel === undefined || Date.now() - this.lastSentAt < everyMs) return;
        const latest = this.bus.hasAfter(this.channel, this.cursor) ? this.cursor : this.bus.latestSeq();
        this.lastSentAt = Date.now();
        this.call.write({ events: [], latest_replay_id: replayIdOf(latest), rpc_id: randomUUID(), pending_num_requested: this.pending });
      },
      Math.max(10, Math.floor(everyMs / 4)),
    );
    this.keepalive.unref();
  }

  /** The first request: its topic and replay option fix where the stream starts. */
  private open(request: FetchRequest): grpc.ServiceError | undefined {
    const topic = request.topic_name ?? '';
    if (!CHANNELS.has(topic)) return failure(grpc.status.NOT_FOUND, TOPIC_NOT_FOUND, `Topic not found: ${topic}.`);
    const preset = request.replay_preset ?? 'LATEST';
    if (preset === 'CUSTOM') {
      const seq = seqOfReplayId(request.replay_id ?? Buffer.alloc(0));
      if (!this.bus.isReplayable(seq)) {
        return failure(
          grpc.status.INVALID_ARGUMENT,
          REPLAY_ID_CORRUPTED,
          'The Replay ID validation failed. The replay id may be outside the retention window.',
        );
      }
      this.cursor = seq ?? 0n;
    } else {
      this.cursor = preset === 'EARLIEST' ? this.bus.earliestSeq() : this.bus.latestSeq();
    }
    this.channel = topic;
    this.startKeepalive();
    this.dropAfter = this.bus.faults.dropStreamAfter;
    if (this.dropAfter !== undefined) {
      const { dropStreamAfter: _once, ...rest } = this.bus.faults;
      this.bus.faults = rest;
    }
    return undefined;
  }

  private fail(error: grpc.ServiceError): void {
    this.stop();
    this.call.emit('error', error);
  }

  /** Sends what is pending and available, one batch at a time; a publish wakes it again. */
  private async pump(): Promise<void> {
    if (this.pumping || this.channel === undefined) return;
    this.pumping = true;
    try {
      while (!this.stopped && this.pending > 0) {
        const limit = Math.min(this.pending, MAX_BATCH, this.dropAfter === undefined ? MAX_BATCH : this.dropAfter - this.delivered);
        if (limit <= 0) {
          this.fail(
            failure(
              grpc.status.UNAVAILABLE,
              'sfdc.platform.eventbus.grpc.service.unavailable',
              'The service is unavailable. Retry the call.',
            ),
          );
          return;
        }
        const batch = this.bus.readAfter(this.channel, this.cursor, limit);
        if (batch.length === 0) return;
        const delayMs = this.bus.faults.delayMs ?? 0;
        if (delayMs > 0) await sleep(delayMs);
        if (this.stopped) return;
        const last = batch[batch.length - 1]?.seq ?? this.cursor;
        this.cursor = last;
        this.pending -= batch.length;
        this.delivered += batch.length;
        this.lastSentAt = Date.now();
        this.call.write({
          events: batch.map((stored) => ({ event: stored.event, replay_id: replayIdOf(stored.seq) })),
          latest_replay_id: replayIdOf(last),
          rpc_id: randomUUID(),
          pending_num_requested: this.pending,
        });
      }
    } finally {
      this.pumping = false;
    }
  }
}
