"""An echo bot on Microsoft's Bot Framework SDK for Python (CloudAdapter, aiohttp), configured
only with base URLs pointing at byoc-sim's Bot Framework simulator.

Usage: botframework_echo_bot.py SIM_URL APP_ID APP_PASSWORD
The simulator serves TLS; its CA is trusted through REQUESTS_CA_BUNDLE (requests, and so MSAL
and the connector client) and SSL_CERT_FILE (everything else on OpenSSL), set by the caller:
nothing stands between the SDK and the simulator.

Prints one JSON line on stdout once it listens:
  {"bot_url": "http://127.0.0.1:P/api/messages", "login_url": "https://127.0.0.1:Q/botframework.com"}
and then one JSON line per activity handled ({"handled": type, "text": ...}).

What is configured, and why:
- Inbound (channel -> bot) JWTs: TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL is the
  simulator's; issuer, audience (the app id), endorsements and the serviceurl claim are
  checked by the SDK itself.
- Outbound tokens: the SDK gets them with MSAL from TO_CHANNEL_FROM_BOT_LOGIN_URL, the
  simulator's authority, over HTTPS.
- VALIDATE_AUTHORITY=False is the SDK's setting for a private cloud authority, but
  botbuilder 4.17.1 does not pass it on to MSAL (MicrosoftAppCredentials builds its
  ConfidentialClientApplication with the default validate_authority=True, which makes MSAL
  ask login.microsoftonline.com to vouch for any other host). The credentials factory below
  (the SDK's documented extension point) only builds that MSAL application with the flag the
  SDK was given; token acquisition is otherwise the SDK's and MSAL's own code.
- Replies go to the activity's serviceUrl (the simulator's connector), as the SDK does.
"""

import asyncio
import json
import sys

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
from msal import ConfidentialClientApplication


def emit(obj):
    print(json.dumps(obj), flush=True)


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
    login_url = f"{sim_url}/botframework.com"

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
