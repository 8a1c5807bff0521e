"""Sends one SMS and reads its status with TeleSign's official Python SDK, unchanged.

Usage: telesign_send.py REST_ENDPOINT CUSTOMER_ID API_KEY AUTH_METHOD PHONE MESSAGE
AUTH_METHOD is "default" (the SDK's own default, HMAC-SHA256), "HMAC-SHA256" or "Basic".
Prints one JSON object on stdout: what the SDK saw for each call.
"""

import json
import sys

import telesign
from telesign.messaging import MessagingClient


def main():
    endpoint, customer_id, api_key, auth_method, phone, message = sys.argv[1:7]
    kwargs = {"rest_endpoint": endpoint, "timeout": 10}
    if auth_method != "default":
        kwargs["auth_method"] = auth_method
    client = MessagingClient(customer_id, api_key, **kwargs)
    sent = client.message(phone, message, "ARN", external_id="sdk-interop-1")
    out = {
        "sdk_version": telesign.__version__,
        "send": {"status": sent.status_code, "ok": sent.ok, "json": sent.json},
    }
    reference_id = (sent.json or {}).get("reference_id")
    if reference_id:
        status = client.status(reference_id)
        out["status"] = {"status": status.status_code, "ok": status.ok, "json": status.json}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
