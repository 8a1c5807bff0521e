// A Direct Line client on Microsoft's botframework-directlinejs, unchanged, pointed at
// byoc-sim's Direct Line simulator by its domain and secret only.
//
// Usage: node directline_client.js DIRECTLINE_URL SECRET polling|websocket [echo|bot]
// `echo` (the default) expects the simulator's echo bot; `bot` expects botbuilder_bot.js:
// typing, a draft reply with suggested actions, then its update.
// The simulator's CA is trusted through NODE_EXTRA_CA_CERTS (Node's own setting): nothing
// stands between this client and the simulator.
//
// Under Node the SDK needs the browser's XMLHttpRequest and WebSocket: `xhr2` and `ws`
// stand in for them, as the SDK's README says for Node. Attachment upload is not exercised:
// the SDK builds the upload as a browser FormData of Blobs handed to XMLHttpRequest, which
// no Node XMLHttpRequest implementation sends.
//
// Prints one JSON line: what the client saw.

'use strict';

global.XMLHttpRequest = require('xhr2');
global.WebSocket = require('ws');

const { DirectLine, ConnectionStatus } = require('botframework-directlinejs');

const [domain, secret, transport, expect = 'echo'] = process.argv.slice(2);
const STEP_MS = 20000;

function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const directLine = new DirectLine({
    domain,
    secret,
    webSocket: transport === 'websocket',
    pollingInterval: 200,
  });
  const statuses = [];
  directLine.connectionStatus$.subscribe((s) => statuses.push(ConnectionStatus[s]));
  const received = [];
  const waiters = [];
  directLine.activity$.subscribe(
    (activity) => {
      received.push(activity);
      for (const w of waiters.splice(0)) {
        if (!w.test(activity)) {
          waiters.push(w);
        } else {
          w.resolve(activity);
        }
      }
    },
    (error) => console.error('activity$ error', error),
  );
  const next = (test) =>
    new Promise((resolve) => {
      const seen = received.find(test);
      if (seen) resolve(seen);
      else waiters.push({ test, resolve });
    });

  const post = (activity) =>
    within(
      STEP_MS,
      'postActivity',
      new Promise((resolve, reject) => directLine.postActivity(activity).subscribe(resolve, reject)),
    );

  const from = { id: 'dl-user-1', name: 'Direct Line user' };
  const postedId = await post({ type: 'message', from, text: 'hello over ' + transport });
  const reply = await within(
    STEP_MS,
    'reply',
    next((a) => a.type === 'message' && a.from && a.from.id !== from.id),
  );
  // Our own message came back too, with the id the post answered.
  const own = await within(STEP_MS, 'own activity', next((a) => a.id === postedId));
  let update = null;
  if (expect === 'bot') {
    update = await within(
      STEP_MS,
      'updated reply',
      next((a) => a.channelData && a.channelData.updateActivityId),
    );
  }

  const out = {
    transport,
    sawWebSocket: directLine.webSocket === true,
    postedId,
    ownText: own.text,
    reply: {
      id: reply.id,
      text: reply.text,
      replyToId: reply.replyToId,
      from: reply.from,
      suggestedActions: reply.suggestedActions || null,
    },
    update: update && { id: update.id, text: update.text, updateActivityId: update.channelData.updateActivityId },
    typing: received.filter((a) => a.type === 'typing').length,
    conversationId: directLine.conversationId,
    watermark: directLine.watermark,
    statuses,
  };
  directLine.end();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
