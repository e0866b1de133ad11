/**
 * A fake Matrix homeserver for tests: a real HTTP server on 127.0.0.1 serving the client-server
 * endpoints matrix-bot-sdk uses, driven by a small room model. See fake-homeserver/server.ts.
 */
export { type FakeHomeserverOptions, type RecordedRequest, type SyncRecord, FakeHomeserver, startFakeHomeserver } from './fake-homeserver/server.js';
export {
  type AccountDataEntry,
  type CreateRoomOptions,
  type JsonObject,
  type Membership,
  type RoomRecord,
  type StoredEvent,
  FakeClock,
  FakeMatrixModel,
  MatrixRuleError,
} from './fake-homeserver/model.js';
export { type Fault, type RouteMatcher } from './fake-homeserver/faults.js';
export { type RouteName } from './fake-homeserver/routes.js';
export { DEFAULT_TIMELINE_LIMIT, buildSync, parseSyncToken, syncToken } from './fake-homeserver/sync.js';
export { type AppservicePushOptions, type PushAttempt, type PushedTransaction, AppservicePusher } from './fake-homeserver/appservice.js';
