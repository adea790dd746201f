"""matrix-nio (an independent Python client) logs in and asks whoami over r0 paths.

Usage: nio_login.py BASE_URL USER PASSWORD
Prints one JSON line: {"user_id": ..., "device_id": ..., "whoami": ...}; exits 1 on any failure.
"""
import asyncio
import json
import sys

from nio import AsyncClient, LoginResponse
from nio.responses import WhoamiResponse


async def main(base, user, password):
    client = AsyncClient(base, user)
    try:
        login = await client.login(password, device_name="nio test")
        if not isinstance(login, LoginResponse):
            print(json.dumps({"error": str(login)}))
            return 1
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse):
            print(json.dumps({"error": str(who)}))
            return 1
        print(json.dumps({"user_id": login.user_id, "device_id": login.device_id, "whoami": who.user_id}))
        return 0
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
