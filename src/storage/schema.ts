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
  policy_users: PolicyUsersTable;
  email_validations: EmailValidationsTable;
  email_invites: EmailInvitesTable;
  account_validity: AccountValidityTable;
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

export interface PolicyUsersTable {
  user_id: string;
  email: string | null;
  external: number;
}

export interface EmailValidationsTable {
  sid: string;
  client_secret: string;
  email: string;
  purpose: string;
  token_hash: string;
  send_attempt: number;
  failed_attempts: number;
  created_ts: number;
  validated_ts: number | null;
}

export interface EmailInvitesTable {
  id: Generated<number>;
  room_id: string;
  sender: string;
  address: string;
  token: string;
  display_name: string;
  created_ts: number;
  consumed_ts: number | null;
}

export interface AccountValidityTable {
  user_id: string;
  expiration_ts: number;
  email_sent_ts: number | null;
  renewal_token_hash: string | null;
}
