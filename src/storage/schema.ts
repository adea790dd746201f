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
  /** When the login that started this session happened (0011; null before). */
  session_start_ts?: number | null;
}

export interface RefreshTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  /** When the login that started this session happened (0011; null before). */
  session_start_ts?: number | null;
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
  account_locks: AccountLocksTable;
  login_guard_blocks: LoginGuardBlocksTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  login_tokens: LoginTokensTable;
  web_sessions: WebSessionsTable;
  known_logins: KnownLoginsTable;
  not_me_links: NotMeLinksTable;
  security_contacts: SecurityContactsTable;
  media: MediaTable;
  media_thumbnails: MediaThumbnailsTable;
  policy_users: PolicyUsersTable;
  email_validations: EmailValidationsTable;
  email_invites: EmailInvitesTable;
  account_validity: AccountValidityTable;
  audit_log: AuditLogTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_export_cursors: AuditExportCursorsTable;
  security_alerts: SecurityAlertsTable;
  read_baselines: ReadBaselinesTable;
  stepped_up_tokens: SteppedUpTokensTable;
  blocked_rooms: BlockedRoomsTable;
  server_notice_rooms: ServerNoticeRoomsTable;
  erased_users: ErasedUsersTable;
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
  push_implicit_reads: PushImplicitReadsTable;
  event_push_shared: EventPushSharedTable;
  push_member_spans: PushMemberSpansTable;
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
  /** 0: this member is not notified where the event's shared outcome notifies (0016). */
  notify: number;
}

/** The outcome of an event for every member it does not single out (migration 0016). */
export interface EventPushSharedTable {
  room_id: string;
  stream_ordering: number;
  event_id: string;
  thread_id: string;
  sender: string;
  highlight: number;
  actions: string;
  ts: number;
}

/** A local user's joined stretch of a room's stream: (from_ordering, to_ordering]. */
export interface PushMemberSpansTable {
  user_id: string;
  room_id: string;
  from_ordering: number;
  to_ordering: number | null;
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
  /** The device whose session set it (0017): it goes when that device does. Null: set before 0017. */
  device_id: string | null;
}
// Login security (migration 0011).
export interface AccountLocksTable {
  user_id: string;
  reason: string | null;
  locked_by: string | null;
  locked_ts: number;
}

export interface LoginGuardBlocksTable {
  user_id: string;
  failures: number;
  blocked_ts: number;
}

export interface MfaTotpTable {
  user_id: string;
  secret_sealed: string;
  last_step: number;
  created_ts: number;
}

export interface MfaRecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_ts: number;
  used_ts: number | null;
}

export interface WebauthnCredentialsTable {
  credential_id: string;
  user_id: string;
  public_key: string;
  counter: number;
  transports: string;
  name: string;
  created_ts: number;
  last_used_ts: number | null;
}

export interface LoginTokensTable {
  token_hash: string;
  user_id: string;
  expires_ts: number;
}

export interface WebSessionsTable {
  id_hash: string;
  user_id: string | null;
  state: string;
  csrf: string;
  created_ts: number;
  expires_ts: number;
  data: string;
}

export interface KnownLoginsTable {
  user_id: string;
  what: string;
  first_seen_ts: number;
}

export interface NotMeLinksTable {
  token_hash: string;
  user_id: string;
  created_ts: number;
  expires_ts: number;
}

export interface SecurityContactsTable {
  user_id: string;
  email: string;
}

export type MediaStatus = "awaiting_upload" | "uploading" | "unscanned" | "clean" | "infected" | "skipped";

export interface MediaTable {
  media_id: string;
  user_id: string;
  content_type: string | null;
  upload_name: string | null;
  size: number | null;
  sha256: string | null;
  created_ts: number;
  uploaded_ts: number | null;
  unused_expires_ts: number | null;
  status: MediaStatus;
  scan_result: string | null;
  scanned_ts: number | null;
  quarantined_by: string | null;
  quarantined_ts: number | null;
  quarantine_reason: string | null;
  last_access_ts: number | null;
}

export interface MediaThumbnailsTable {
  media_id: string;
  width: number;
  height: number;
  method: string;
  content_type: string;
  size: number;
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
export interface AuditLogTable {
  seq: number;
  ts: number;
  kind: string;
  /** Canonical JSON of the record's fields (docs/read-gate.md). */
  data: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  seq: number;
  ts: number;
  hash: string;
  key_id: string;
  signature: string;
}

export interface AuditExportCursorsTable {
  sink: string;
  seq: number;
}

export interface SecurityAlertsTable {
  id: Generated<number>;
  ts: number;
  user_id: string;
  kind: string;
  detail: string;
  delivered: number;
}

export interface ReadBaselinesTable {
  user_id: string;
  metric: string;
  peak: number;
  updated_ts: number;
}

export interface SteppedUpTokensTable {
  token_hash: string;
  user_id: string;
  ts: number;
}

/** Rooms blocked by an admin: nobody may join them (admin API "Block Room"). */
export interface BlockedRoomsTable {
  room_id: string;
  /** The admin who blocked it. */
  user_id: string;
  blocked_ts: number;
}

/** The server notices room of each user (admin API "Server Notices"). */
export interface ServerNoticeRoomsTable {
  user_id: string;
  room_id: string;
  created_ts: number;
}

/** Users deactivated with erase: true (admin API "Query User Account": `erased`). */
export interface ErasedUsersTable {
  user_id: string;
  erased_ts: number;
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

export interface PushImplicitReadsTable {
  user_id: string;
  room_id: string;
  stream_ordering: number;
}
