"""matrix-nio with olm (an independent Python client) in an encrypted room.

Usage: nio_e2ee.py BASE_URL USER PASSWORD ROOM_ID EXPECT_TEXT REPLY_TEXT STORE_DIR
Logs in, uploads its keys, joins ROOM_ID (it must be invited), waits for an encrypted message
whose clear text is EXPECT_TEXT, then sends REPLY_TEXT encrypted to the room. Prints one JSON line
per step ({"step": ...}) so the test can follow; exits 1 on any failure or after 90 s.
"""
import asyncio
import json
import sys

from nio import AsyncClient, AsyncClientConfig, LoginResponse, JoinResponse, RoomMessageText, MegolmEvent


def say(**kw):
    print(json.dumps(kw), flush=True)


async def main(base, user, password, room_id, expect, reply, store):
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
    client = AsyncClient(base, user, store_path=store, config=config)
    try:
        login = await client.login(password, device_name="nio e2ee")
        if not isinstance(login, LoginResponse):
            say(step="error", error=str(login))
            return 1
        say(step="logged_in", device_id=login.device_id)
        if client.should_upload_keys:
            await client.keys_upload()
        await client.sync(timeout=0, full_state=True)
        joined = await client.join(room_id)
        if not isinstance(joined, JoinResponse):
            say(step="error", error=str(joined))
            return 1
        say(step="joined")
        got = False
        undecryptable = 0
        for _ in range(180):
            resp = await client.sync(timeout=500)
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
            room = getattr(resp, "rooms", None)
            events = room.join[room_id].timeline.events if room and room_id in room.join else []
            for ev in events:
                if isinstance(ev, RoomMessageText) and ev.body == expect and ev.decrypted:
                    got = True
                elif isinstance(ev, MegolmEvent):
                    undecryptable += 1
            if got:
                break
        if not got:
            say(step="error", error=f"no decrypted message ({undecryptable} undecryptable)")
            return 1
        say(step="received")
        sent = await client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": reply}, ignore_unverified_devices=True)
        if not hasattr(sent, "event_id"):
            say(step="error", error=str(sent))
            return 1
        say(step="sent", event_id=sent.event_id)
        return 0
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(asyncio.wait_for(main(*sys.argv[1:8]), 90)))
