/*
 * Workflow History <-> proto3 JSON (the format of `temporal workflow show --output json` and of
 * the SDK's historyToJSON/historyFromJSON, so an exported file can be replayed or loaded in the
 * Web UI). The SDK functions cannot be used in this install: npm put two copies of protobufjs
 * 8.8.1 under @temporalio/common and @temporalio/proto, and common's `toJson`/`fromJson` reject
 * the History type built by proto's copy ("TypeError: type must be a Type"). So the protojson
 * functions are taken from the copy that built the type.
 */
import { createRequire } from 'node:module';
import type * as protoTypes from '@temporalio/proto';
import type { History } from '@temporalio/common/lib/proto-utils';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// Loaded with require (not an ESM namespace import) so the patched root is the module object itself.
const protoRequire = createRequire(require.resolve('@temporalio/proto/package.json'));
const protojson = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const proto = protoRequire('@temporalio/proto') as typeof protoTypes;
const { patchProtobufRoot } = protoRequire('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } };
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history) throw new TypeError('history JSON: got a value protojson could not read; expected proto3 JSON of temporal.api.history.v1.History');
  return history;
}
