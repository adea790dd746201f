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
  push_rules: PushRulesTable;
  push_rule_default_changes: PushRuleDefaultChangesTable;
  event_push_actions: EventPushActionsTable;
  pushers: PushersTable;
  push_implicit_reads: PushImplicitReadsTable;
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

export interface PushRulesTable {
  user_id: string;
  kind: string;
  rule_id: string;
  ord: number;
  /** JSON array, for override and underride rules. */
  conditions: string | null;
  /** For content rules. */
  pattern: string | null;
  /** JSON array. */
  actions: string;
  enabled: number;
}

export interface PushRuleDefaultChangesTable {
  user_id: string;
  rule_id: string;
  enabled: number | null;
  actions: string | null;
}

export interface EventPushActionsTable {
  user_id: string;
  event_id: string;
  room_id: string;
  stream_ordering: number;
  thread_id: string;
  highlight: number;
  actions: string;
  ts: number;
}

export interface PushersTable {
  id: Generated<number>;
  user_id: string;
  kind: string;
  app_id: string;
  pushkey: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  /** JSON object: url, format and whatever else the app put there. */
  data: string;
  created_ts: number;
}

export interface PushImplicitReadsTable {
  user_id: string;
  room_id: string;
  stream_ordering: number;
}
