// A bot on Microsoft's Bot Framework SDK for JavaScript (botbuilder 4.23, CloudAdapter with
// ConfigurationBotFrameworkAuthentication), configured through the SDK's documented
// settings to use byoc-sim's Bot Framework simulator as its cloud.
//
// Usage: node botbuilder_bot.js SIM_URL APP_ID APP_PASSWORD
// Prints {"bot_url": "http://127.0.0.1:P/api/messages"} once it listens, then one JSON line
// per activity handled. It serves until stdin closes.
//
// What is configured, and why:
// - Inbound (channel -> bot) JWTs: ToBotFromChannelOpenIdMetadataUrl is the simulator's
//   metadata; the issuer (api.botframework.com), audience (the app id), endorsements and the
//   serviceurl claim are checked by the SDK itself.
// - Outbound tokens come from the simulator's authority (ToChannelFromBotLoginUrl), through
//   MSAL, over TLS: the simulator's CA is trusted with NODE_EXTRA_CA_CERTS, Node's setting.
// - The one extension point used: botbuilder's documented MsalServiceClientCredentialsFactory
//   with an MSAL ConfidentialClientApplication. botbuilder 4.23 reads ValidateAuthority but
//   does not hand it to MSAL (its PrivateCloudAppCredentials builds the MSAL application
//   with the authority alone), and MSAL then asks login.microsoftonline.com to vouch for any
//   other host (instance discovery), which fails offline and refuses the authority. MSAL's
//   own documented setting for a trusted authority, `knownAuthorities`, is what
//   ValidateAuthority=false means; everything else (the tenant discovery document, the token
//   request, caching) is MSAL's and the SDK's own code.

'use strict';

const http = require('http');
const readline = require('readline');
const {
  ActivityHandler,
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  MessageFactory,
} = require('botbuilder');
const { MsalServiceClientCredentialsFactory } = require('botframework-connector');
const { ConfidentialClientApplication } = require('@azure/msal-node');

const [simUrl, appId, appPassword] = process.argv.slice(2);
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const loginUrl = `${simUrl}/botframework.com`;
const msal = new ConfidentialClientApplication({
  auth: {
    clientId: appId,
    clientSecret: appPassword,
    authority: loginUrl,
    knownAuthorities: [new URL(simUrl).host],
  },
});

const auth = new ConfigurationBotFrameworkAuthentication(
  {
    MicrosoftAppId: appId,
    MicrosoftAppPassword: appPassword,
    MicrosoftAppType: 'MultiTenant',
    // Public-cloud values (the SDK's own constants), stated because setting any URL selects
    // the SDK's parameterized authentication, which takes every value from here.
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    // The simulator.
    ToChannelFromBotLoginUrl: loginUrl,
    ToBotFromChannelOpenIdMetadataUrl: `${simUrl}/v1/.well-known/openidconfiguration`,
    ToBotFromEmulatorOpenIdMetadataUrl: `${simUrl}/v1/.well-known/openidconfiguration`,
    ValidateAuthority: false,
  },
  new MsalServiceClientCredentialsFactory(appId, msal),
);
const adapter = new CloudAdapter(auth);
adapter.onTurnError = async (context, error) => {
  emit({ error: `${error && error.name}: ${error && error.message}` });
};

class Bot extends ActivityHandler {
  constructor() {
    super();
    this.onMembersAdded(async (context, next) => {
      emit({ handled: 'conversationUpdate', members: context.activity.membersAdded.map((m) => m.id) });
      await next();
    });
    this.onMessage(async (context, next) => {
      const text = context.activity.text || '';
      emit({ handled: 'message', text });
      await context.sendActivity({ type: ActivityTypes.Typing });
      const draft = await context.sendActivity(
        MessageFactory.suggestedActions(['yes', 'no'], `JS echo (draft): ${text}`),
      );
      const edited = MessageFactory.text(`JS echo: ${text}`);
      edited.id = draft.id;
      await context.updateActivity(edited);
      emit({ replied: draft.id });
      await next();
    });
  }
}
const bot = new Bot();

// botbuilder's CloudAdapter takes any request with `headers`, `method` and a parsed `body`,
// and any response with `status`, `header`, `send` and `end` (its documented Request and
// Response interfaces); Node's own http server is adapted to them here.
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/messages') {
    res.statusCode = 404;
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    const request = { body, headers: req.headers, method: req.method };
    const response = {
      socket: res.socket,
      status(code) {
        res.statusCode = code;
        return response;
      },
      header(name, value) {
        res.setHeader(name, value);
        return response;
      },
      send(payload) {
        if (payload !== undefined) {
          res.setHeader('content-type', 'application/json');
          res.write(typeof payload === 'string' ? payload : JSON.stringify(payload));
        }
        return response;
      },
      end() {
        res.end();
        return response;
      },
    };
    try {
      await adapter.process(request, response, (context) => bot.run(context));
    } catch (e) {
      emit({ error: String(e) });
      if (!res.writableEnded) {
        res.statusCode = 500;
        res.end();
      }
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  emit({ bot_url: `http://127.0.0.1:${server.address().port}/api/messages` });
});
readline.createInterface({ input: process.stdin }).on('close', () => process.exit(0));
