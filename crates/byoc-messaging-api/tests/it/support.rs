//! A simulator, a webhook server hosting the adapter, and a registered channel.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use byoc_core::{Activity, ChannelAdapter};
use byoc_messaging_api::adapter::MessagingApiAdapter;
use byoc_messaging_api::client::MessagingApiClient;
use byoc_messaging_api::config::{
    DataverseConfig, EntraApp, Guid, HeaderNames, MessagingApiConfig, WebhookConfig,
};
use byoc_messaging_api::registration::{CustomChannel, DataverseClient};
use byoc_messaging_api::transport::{HttpTransport, ReqwestTransport};
use byoc_sim::fault::Faults;
use byoc_sim::messaging_api::{MessagingApiSim, Options};

pub(crate) struct Harness {
    pub(crate) sim: MessagingApiSim,
    pub(crate) adapter: Arc<MessagingApiAdapter>,
    pub(crate) client: MessagingApiClient,
    pub(crate) dataverse: DataverseClient,
    pub(crate) channel_id: Guid,
    pub(crate) webhook_url: String,
    pub(crate) webhook_faults: Faults,
    pub(crate) received: Arc<Mutex<Vec<Activity>>>,
    pub(crate) refused: Arc<Mutex<Vec<u16>>>,
    /// When set, the next accepted call is answered this late (after its activities were
    /// recorded): a host that persisted a delivery but answered too slowly.
    pub(crate) answer_late: Arc<Mutex<Option<std::time::Duration>>>,
}

#[derive(Clone)]
struct Hook {
    adapter: Arc<MessagingApiAdapter>,
    received: Arc<Mutex<Vec<Activity>>>,
    refused: Arc<Mutex<Vec<u16>>>,
    answer_late: Arc<Mutex<Option<std::time::Duration>>>,
}

async fn hook(State(h): State<Hook>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::builder().status(413).body(Body::empty()).unwrap();
    };
    let req = http::Request::from_parts(parts, bytes);
    let resp = match h.adapter.receive(req).await {
        Ok(inbound) => {
            h.received.lock().unwrap().extend(inbound.activities);
            let late = h.answer_late.lock().unwrap().take();
            if let Some(d) = late {
                tokio::time::sleep(d).await;
            }
            inbound.response
        }
        Err(e) => {
            h.refused.lock().unwrap().push(e.http_status().as_u16());
            e.to_response()
        }
    };
    let (p, b) = resp.into_parts();
    Response::from_parts(p, Body::from(b))
}

pub(crate) fn app(sim: &MessagingApiSim) -> EntraApp {
    let o = sim.options();
    EntraApp::new(&o.tenant_id, &o.client_id, o.client_secret.as_str()).unwrap()
}

pub(crate) fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(ReqwestTransport::new().unwrap())
}

pub(crate) fn dataverse(sim: &MessagingApiSim) -> DataverseClient {
    let cfg = DataverseConfig::new(app(sim), sim.url())
        .unwrap()
        .with_authority(sim.url())
        .unwrap();
    DataverseClient::with_transport(cfg, transport())
}

pub(crate) fn messaging_config(sim: &MessagingApiSim, channel_id: &Guid) -> MessagingApiConfig {
    let o = sim.options();
    MessagingApiConfig::new(app(sim), &o.org_id, channel_id.as_str(), "eu", &o.zone)
        .unwrap()
        .with_base_url(sim.url())
        .unwrap()
        .with_authority(sim.url())
        .unwrap()
}

pub(crate) struct Setup {
    pub(crate) opts: Options,
    pub(crate) webhook: Box<dyn FnOnce(WebhookConfig) -> WebhookConfig + Send>,
    pub(crate) headers: HeaderNames,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            opts: fast(),
            webhook: Box::new(|w| w),
            headers: HeaderNames::Current,
        }
    }
}

/// Options with quick webhook retries (the real 10 s timeout is kept unless a test changes
/// it).
pub(crate) fn fast() -> Options {
    let mut o = Options::default();
    o.webhook_retry_delay = std::time::Duration::from_millis(10);
    o
}

pub(crate) async fn harness() -> Harness {
    harness_with(Setup::default()).await
}

pub(crate) async fn harness_with(setup: Setup) -> Harness {
    let sim = MessagingApiSim::start(setup.opts).await.unwrap();
    let o = sim.options().clone();

    // The webhook server first: its URL goes into the channel record.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook_url = format!(
        "http://{}/hooks/omnichannel",
        listener.local_addr().unwrap()
    );

    let dataverse = dataverse(&sim);
    let channel = CustomChannel::new_for_loopback(
        "byoc test channel",
        &o.client_id,
        &o.tenant_id,
        &webhook_url,
    )
    .unwrap();
    let channel_id = dataverse.create(&channel).await.unwrap();

    let config = messaging_config(&sim, &channel_id).with_header_names(setup.headers);
    let client = MessagingApiClient::with_transport(config, transport());
    let webhook = (setup.webhook)(
        WebhookConfig::with_authority(&o.tenant_id, &o.client_id, sim.url()).unwrap(),
    );
    let adapter = Arc::new(MessagingApiAdapter::new(
        client.clone(),
        webhook,
        transport(),
    ));

    let received = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let answer_late = Arc::new(Mutex::new(None));
    let webhook_faults = Faults::new();
    let router = axum::Router::new().fallback(hook).with_state(Hook {
        adapter: adapter.clone(),
        received: received.clone(),
        refused: refused.clone(),
        answer_late: answer_late.clone(),
    });
    let router = webhook_faults.layer(router);
    tokio::spawn(async move { axum::serve(listener, router).await });

    Harness {
        sim,
        adapter,
        client,
        dataverse,
        channel_id,
        webhook_url,
        webhook_faults,
        received,
        refused,
        answer_late,
    }
}

impl Harness {
    pub(crate) fn received(&self) -> Vec<Activity> {
        self.received.lock().unwrap().clone()
    }

    pub(crate) fn refused(&self) -> Vec<u16> {
        self.refused.lock().unwrap().clone()
    }

    /// Starts a conversation for `customer`.
    pub(crate) async fn start(&self, customer: &str) -> String {
        use byoc_messaging_api::render::{CreateConversation, CustomerContext};
        let c = self
            .client
            .create_conversation(
                &CreateConversation::new().with_customer(CustomerContext::new(customer)),
            )
            .await
            .unwrap();
        assert!(c.is_new);
        c.conversation_id
    }
}
