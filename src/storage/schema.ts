// Row types of every table, for Kysely's type-checked queries. JSON columns hold canonical text;
// booleans are 0/1 integers so that SQLite and PostgreSQL share one shape.
import type { Generated } from "kysely";

export interface UsersTable {
  user_id: string;
  localpart: string;
  password_hash: string | null;
  admin: number;
  deactivated: number;
  locked: number;
  user_type: string | null;
  displayname: string | null;
  avatar_url: string | null;
  created_ts: number;
}

export interface DevicesTable {
  user_id: string;
  device_id: string;
  display_name: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
  last_seen_user_agent: string | null;
}

export interface AccessTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  expires_ts: number | null;
  refresh_token_id: number | null;
}

export interface RefreshTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
}

export interface AccountDataTable {
  user_id: string;
  /** "" for global account data. */
  room_id: string;
  type: string;
  content: string;
  stream_id: number;
}

export interface FiltersTable {
  user_id: string;
  filter_id: number;
  filter_json: string;
}

export interface RegistrationTokensTable {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

export interface UiaSessionsTable {
  session_id: string;
  user_id: string | null;
  created_ts: number;
  /** JSON: completed stages and what the session was started for. */
  data: string;
}

export interface StreamsTable {
  name: string;
  position: number;
}

export interface Database {
  users: UsersTable;
  devices: DevicesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  account_data: AccountDataTable;
  filters: FiltersTable;
  registration_tokens: RegistrationTokensTable;
  uia_sessions: UiaSessionsTable;
  streams: StreamsTable;
  rooms: RoomsTable;
  events: EventsTable;
  current_state: CurrentStateTable;
  event_txns: EventTxnsTable;
  room_aliases: RoomAliasesTable;
  event_reports: EventReportsTable;
  event_search: EventSearchTable;
  forgotten_rooms: ForgottenRoomsTable;
  receipts: ReceiptsTable;
  e2e_device_keys: E2eDeviceKeysTable;
  e2e_one_time_keys: E2eOneTimeKeysTable;
  e2e_fallback_keys: E2eFallbackKeysTable;
  e2e_cross_signing_keys: E2eCrossSigningKeysTable;
  e2e_signatures: E2eSignaturesTable;
  e2e_device_list_stream: E2eDeviceListStreamTable;
  e2e_to_device_inbox: E2eToDeviceInboxTable;
  e2e_to_device_txns: E2eToDeviceTxnsTable;
  e2e_room_keys_versions: E2eRoomKeysVersionsTable;
  e2e_room_keys: E2eRoomKeysTable;
  e2e_dehydrated_devices: E2eDehydratedDevicesTable;
}

export interface RoomsTable {
  room_id: string;
  room_version: string;
  creator: string;
  created_ts: number;
  is_public: number;
  blocked: number;
}

export interface EventsTable {
  stream_ordering: number;
  event_id: string;
  room_id: string;
  type: string;
  state_key: string | null;
  sender: string;
  origin_server_ts: number;
  depth: number;
  /** For m.room.member events: content.membership, indexed for membership queries. */
  membership: string | null;
  rel_type: string | null;
  relates_to: string | null;
  /** The thread an event belongs to (its root's id), for /threads and threaded receipts. */
  thread_root: string | null;
  redacted_by: string | null;
  /** The sending device and its transaction id: echoed as unsigned.transaction_id to that device only. */
  device_id: string | null;
  txn_id: string | null;
  /** The PDU as persisted (after a redaction: its redacted form). */
  json: string;
}

export interface CurrentStateTable {
  room_id: string;
  type: string;
  state_key: string;
  event_id: string;
  stream_ordering: number;
  membership: string | null;
}

export interface EventTxnsTable {
  user_id: string;
  device_id: string;
  txn_id: string;
  event_id: string;
  created_ts: number;
}

export interface RoomAliasesTable {
  alias: string;
  room_id: string;
  creator: string;
  created_ts: number;
}

export interface EventReportsTable {
  id: Generated<number>;
  room_id: string;
  event_id: string | null;
  user_id: string;
  reason: string | null;
  score: number | null;
  received_ts: number;
}

export interface EventSearchTable {
  event_id: string;
  room_id: string;
  key: string;
  stream_ordering: number;
  value: string;
}

export interface ForgottenRoomsTable {
  user_id: string;
  room_id: string;
}

export interface ReceiptsTable {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  event_stream_ordering: number;
  ts: number;
  stream_id: number;
}

// End-to-end encryption (migration 0007_e2ee): public keys, signatures and ciphertext only.
export interface E2eDeviceKeysTable {
  user_id: string;
  device_id: string;
  key_json: string;
}

export interface E2eOneTimeKeysTable {
  user_id: string;
  device_id: string;
  algorithm: string;
  key_id: string;
  key_json: string;
}

export interface E2eFallbackKeysTable {
  user_id: string;
  device_id: string;
  algorithm: string;
  key_id: string;
  key_json: string;
  used: number;
}

export interface E2eCrossSigningKeysTable {
  user_id: string;
  key_type: string;
  public_key: string;
  key_json: string;
}

export interface E2eSignaturesTable {
  target_user_id: string;
  target_key_id: string;
  signer_user_id: string;
  signer_key_id: string;
  signature: string;
}

export interface E2eDeviceListStreamTable {
  stream_id: number;
  user_id: string;
  observer: string;
  kind: string;
}

export interface E2eToDeviceInboxTable {
  user_id: string;
  device_id: string;
  stream_id: number;
  message_json: string;
}

export interface E2eToDeviceTxnsTable {
  user_id: string;
  device_id: string;
  txn_id: string;
  created_ts: number;
}

export interface E2eRoomKeysVersionsTable {
  user_id: string;
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
  deleted: number;
}

export interface E2eRoomKeysTable {
  user_id: string;
  version: number;
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: number;
  session_data: string;
}

export interface E2eDehydratedDevicesTable {
  user_id: string;
  device_id: string;
  device_data: string;
}
