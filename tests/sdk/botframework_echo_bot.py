"""An echo bot on Microsoft's Bot Framework SDK for Python (CloudAdapter, aiohttp), configured
only with base URLs pointing at byoc-sim's Bot Framework simulator.

Usage: botframework_echo_bot.py SIM_URL APP_ID APP_PASSWORD

Prints one JSON line on stdout once it listens:
  {"bot_url": "http://127.0.0.1:P/api/messages", "login_url": "https://127.0.0.1:Q/botframework.com"}
and then one JSON line per activity handled ({"handled": type, "text": ...}).

What is configured, and why:
- Inbound (channel -> bot) JWTs: TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL is the
  simulator's; issuer, audience (the app id), endorsements and the serviceurl claim are
  checked by the SDK itself.
- Outbound tokens: the SDK gets them with MSAL from TO_CHANNEL_FROM_BOT_LOGIN_URL. MSAL
  accepts only https authorities, so the simulator's authority is reached through a small
  TLS front started here (a throwaway self-signed certificate, trusted through
  REQUESTS_CA_BUNDLE, which requests and so MSAL honour). The front forwards bytes unchanged
  and sets X-Forwarded-Proto/-Host, as any TLS terminator does.
- VALIDATE_AUTHORITY=False is the SDK's setting for a private cloud authority, but
  botbuilder 4.17.1 does not pass it on to MSAL (MicrosoftAppCredentials builds its
  ConfidentialClientApplication with the default validate_authority=True, which makes MSAL
  ask login.microsoftonline.com to vouch for any other host). The credentials factory below
  only builds that MSAL application with the flag the SDK was given; token acquisition is
  otherwise the SDK's and MSAL's own code.
- Replies go to the activity's serviceUrl (the simulator's connector), as the SDK does.
"""

import asyncio
import datetime
import ipaddress
import json
import os
import queue
import ssl
import sys
import tempfile
import threading

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botframework.connector.auth import (
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from msal import ConfidentialClientApplication


def emit(obj):
    print(json.dumps(obj), flush=True)


def self_signed_cert(directory):
    """A certificate for 127.0.0.1, usable as its own trust anchor."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "front.pem")
    key_path = os.path.join(directory, "front.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def tls_front(upstream):
    """An aiohttp app forwarding every request to `upstream` (plain HTTP)."""

    async def forward(request):
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-Host"] = request.host
        body = await request.read()
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method,
                upstream + request.rel_url.path_qs,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=20),
            ) as resp:
                payload = await resp.read()
                out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
                out.pop("Content-Encoding", None)
                return web.Response(status=resp.status, headers=out, body=payload)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def start_tls_front(upstream, cert_path, key_path):
    """Starts the TLS front on a daemon thread; returns its port."""
    ready = queue.Queue()

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(cert_path, key_path)
        runner = web.AppRunner(tls_front(upstream))
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_ctx)
        loop.run_until_complete(site.start())
        ready.put(runner.addresses[0][1])
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    return ready.get(timeout=30)


class AuthorityAwareCredentialFactory(PasswordServiceClientCredentialFactory):
    """The SDK's password factory; only hands validate_authority on to MSAL (see above)."""

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        credentials = await super().create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id:
            credentials.app = ConfidentialClientApplication(
                client_id=credentials.microsoft_app_id,
                client_credential=credentials.microsoft_app_password,
                authority=credentials.oauth_endpoint,
                validate_authority=validate_authority,
            )
        return credentials


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext):
        text = turn_context.activity.text or ""
        emit({"handled": "message", "text": text})
        await turn_context.send_activity(MessageFactory.text(f"SDK echo: {text}"))

    async def on_members_added_activity(self, members_added, turn_context: TurnContext):
        emit({"handled": "conversationUpdate", "members": [m.id for m in members_added]})


class Config:
    def __init__(self, sim_url, login_url, app_id, app_password):
        self.APP_ID = app_id
        self.APP_PASSWORD = app_password
        # Public-cloud values (the SDK's own constants), stated because setting any URL
        # selects the SDK's parameterized authentication, which takes every value from here.
        self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = "https://api.botframework.com"
        self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = "https://api.botframework.com"
        self.OAUTH_URL = "https://api.botframework.com"
        # The base URLs pointing at the simulator.
        self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            f"{sim_url}/v1/.well-known/openidconfiguration"
        )
        self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            f"{sim_url}/v1/.well-known/openidconfiguration"
        )
        self.TO_CHANNEL_FROM_BOT_LOGIN_URL = login_url
        self.VALIDATE_AUTHORITY = False


async def main():
    sim_url, app_id, app_password = sys.argv[1:4]
    sim_url = sim_url.rstrip("/")
    workdir = tempfile.mkdtemp(prefix="byoc-sdk-bot-")
    cert_path, key_path = self_signed_cert(workdir)
    os.environ["REQUESTS_CA_BUNDLE"] = cert_path

    # The front runs on its own thread and loop: MSAL calls it with blocking requests from
    # inside the bot's turn.
    front_port = start_tls_front(sim_url, cert_path, key_path)
    login_url = f"https://127.0.0.1:{front_port}/botframework.com"

    config = Config(sim_url, login_url, app_id, app_password)
    auth = ConfigurationBotFrameworkAuthentication(
        config,
        credentials_factory=AuthorityAwareCredentialFactory(app_id, app_password),
    )
    adapter = CloudAdapter(auth)
    bot = EchoBot()

    async def on_error(context: TurnContext, error: Exception):
        emit({"error": f"{type(error).__name__}: {error}"})
        raise error

    adapter.on_turn_error = on_error

    async def messages(request):
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    emit({"bot_url": f"http://127.0.0.1:{port}/api/messages", "login_url": login_url})
    # Serve until the test kills this process (or stdin closes).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
