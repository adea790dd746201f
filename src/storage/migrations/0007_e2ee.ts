// End-to-end encryption (client-server API "End-to-End Encryption"): device keys, one-time and
// fallback keys, cross-signing keys and signatures, the device-list and to-device streams,
// server-side key backup and dehydrated devices (MSC3814). The server only ever holds public keys,
// signatures and ciphertext: nothing here can decrypt a message.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("e2e_device_keys")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    /** The signed DeviceKeys object as uploaded. */
    .addColumn("key_json", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_device_keys_pk", ["user_id", "device_id"])
    .execute();

  await db.schema
    .createTable("e2e_one_time_keys")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("algorithm", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    /** A JSON string (unsigned curve25519) or a signed key object. */
    .addColumn("key_json", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_one_time_keys_pk", ["user_id", "device_id", "algorithm", "key_id"])
    .execute();

  await db.schema
    .createTable("e2e_fallback_keys")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("algorithm", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("key_json", "text", (c) => c.notNull())
    .addColumn("used", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_fallback_keys_pk", ["user_id", "device_id", "algorithm"])
    .execute();

  await db.schema
    .createTable("e2e_cross_signing_keys")
    .addColumn("user_id", "text", (c) => c.notNull())
    /** master, self_signing or user_signing. */
    .addColumn("key_type", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("key_json", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_cross_signing_keys_pk", ["user_id", "key_type"])
    .execute();

  await db.schema
    .createTable("e2e_signatures")
    .addColumn("target_user_id", "text", (c) => c.notNull())
    /** A device id, or the public key of a cross-signing key. */
    .addColumn("target_key_id", "text", (c) => c.notNull())
    .addColumn("signer_user_id", "text", (c) => c.notNull())
    /** "ed25519:<device id or public key>". */
    .addColumn("signer_key_id", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_signatures_pk", ["target_user_id", "target_key_id", "signer_user_id", "signer_key_id"])
    .execute();

  await db.schema
    .createTable("e2e_device_list_stream")
    .addColumn("stream_id", "bigint", (c) => c.notNull())
    /** The user whose devices or cross-signing keys changed. */
    .addColumn("user_id", "text", (c) => c.notNull())
    /** "" for everyone who shares a room with user_id; else the one user told. */
    .addColumn("observer", "text", (c) => c.notNull())
    /** changed | left */
    .addColumn("kind", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_device_list_stream_pk", ["stream_id", "user_id", "observer"])
    .execute();
  await db.schema.createIndex("e2e_device_list_stream_observer").on("e2e_device_list_stream").columns(["observer", "stream_id"]).execute();

  await db.schema
    .createTable("e2e_to_device_inbox")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("stream_id", "bigint", (c) => c.notNull())
    /** {type, sender, content}: the content is ciphertext for encrypted messages. */
    .addColumn("message_json", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_to_device_inbox_pk", ["user_id", "device_id", "stream_id"])
    .execute();
  await db.schema.createIndex("e2e_to_device_inbox_stream").on("e2e_to_device_inbox").column("stream_id").execute();

  await db.schema
    .createTable("e2e_to_device_txns")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("txn_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_to_device_txns_pk", ["user_id", "device_id", "txn_id"])
    .execute();

  await db.schema
    .createTable("e2e_room_keys_versions")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("version", "bigint", (c) => c.notNull())
    .addColumn("algorithm", "text", (c) => c.notNull())
    .addColumn("auth_data", "text", (c) => c.notNull())
    .addColumn("etag", "bigint", (c) => c.notNull())
    .addColumn("deleted", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_room_keys_versions_pk", ["user_id", "version"])
    .execute();

  await db.schema
    .createTable("e2e_room_keys")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("version", "bigint", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("first_message_index", "bigint", (c) => c.notNull())
    .addColumn("forwarded_count", "bigint", (c) => c.notNull())
    .addColumn("is_verified", "integer", (c) => c.notNull())
    /** Encrypted with the backup's public key: the server cannot read it. */
    .addColumn("session_data", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("e2e_room_keys_pk", ["user_id", "version", "room_id", "session_id"])
    .execute();

  await db.schema
    .createTable("e2e_dehydrated_devices")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("device_id", "text", (c) => c.notNull())
    /** Pickled device, encrypted by the client with a key the server never sees. */
    .addColumn("device_data", "text", (c) => c.notNull())
    .execute();
}
