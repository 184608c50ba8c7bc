/**
 * The Pub/Sub API's gRPC service `eventbus.v1.PubSub`, loaded at run time from the official
 * `pubsub_api.proto` beside this file, and the message shapes we read and write (proto-loader with
 * `keepCase`, enums as strings, `bytes` as Buffer, 64-bit ints as strings).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export type ReplayPreset = 'LATEST' | 'EARLIEST' | 'CUSTOM';

export interface FetchRequest {
  topic_name?: string;
  replay_preset?: ReplayPreset;
  replay_id?: Buffer;
  num_requested?: number;
  auth_refresh?: string;
}

export interface ProducerEvent {
  id: string;
  schema_id: string;
  payload: Buffer;
  headers: Array<{ key: string; value: Buffer }>;
}

export interface ConsumerEvent {
  event: ProducerEvent;
  replay_id: Buffer;
}

export interface FetchResponse {
  events: ConsumerEvent[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}

export interface TopicInfo {
  topic_name: string;
  tenant_guid: string;
  can_publish: boolean;
  can_subscribe: boolean;
  schema_id: string;
  rpc_id: string;
}

export interface SchemaInfo {
  schema_json: string;
  schema_id: string;
  rpc_id: string;
}

/** The custom error code the service sends in the trailers of a failed call (`error-code`). */
export const ERROR_CODE_TRAILER = 'error-code';

/**
 * What the service answers a CUSTOM replay id it no longer holds (older than the 72 h retention)
 * with, as INVALID_ARGUMENT: "Retry Long-Lived RPC Calls After an Error Occurs", Pub/Sub API guide,
 * and forcedotcom/pub-sub-api `java/src/main/java/genericpubsub/Subscribe.java`.
 */
export const REPLAY_ID_CORRUPTED = 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted';

const PROTO_FILE = fileURLToPath(new URL('pubsub_api.proto', import.meta.url));

/** The `eventbus.v1.PubSub` service definition (for a server) and client constructor. */
export function loadPubSubService(): { definition: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  const packageDefinition = protoLoader.loadSync(PROTO_FILE, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } };
  };
  const Client = loaded.eventbus.v1.PubSub;
  return { definition: Client.service, Client };
}
