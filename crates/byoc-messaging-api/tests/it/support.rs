//! A simulator, a webhook server hosting the adapter, and a registered channel.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use byoc_axum::{Received, SinkError, webhook};
use byoc_core::{Activity, Secret};
use byoc_http::{HttpTransport, ReqwestTransport};
use byoc_messaging_api::{
    CreateConversation, CustomChannel, CustomerContext, DataverseClient, DataverseConfig, EntraApp,
    Guid, HeaderNames, MessagingApiAdapter, MessagingApiClient, MessagingApiConfig,
};
use byoc_sim::fault::Faults;
use byoc_sim::messaging_api::{MessagingApiSim, Options};
use url::Url;

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

/// Records the status of every refused webhook call.
async fn record_refusals(
    axum::extract::State(refused): axum::extract::State<Arc<Mutex<Vec<u16>>>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if !response.status().is_success() {
        refused.lock().unwrap().push(response.status().as_u16());
    }
    response
}

pub(crate) fn sim_url(sim: &MessagingApiSim) -> Url {
    Url::parse(sim.url()).unwrap()
}

pub(crate) fn app(sim: &MessagingApiSim) -> EntraApp {
    let o = sim.options();
    EntraApp::new(
        &o.tenant_id,
        &o.client_id,
        Secret::new(o.client_secret.as_str()),
    )
    .unwrap()
}

pub(crate) fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(ReqwestTransport::new().unwrap())
}

pub(crate) fn dataverse(sim: &MessagingApiSim) -> DataverseClient {
    let cfg = DataverseConfig::new(app(sim), sim_url(sim))
        .unwrap()
        .with_authority(sim_url(sim))
        .unwrap();
    DataverseClient::new(cfg).unwrap()
}

pub(crate) fn messaging_config(sim: &MessagingApiSim, channel_id: &Guid) -> MessagingApiConfig {
    let o = sim.options();
    MessagingApiConfig::new(app(sim), &o.org_id, channel_id.as_str(), "eu", &o.zone)
        .unwrap()
        .with_base_url(sim_url(sim))
        .unwrap()
        .with_authority(sim_url(sim))
        .unwrap()
}

pub(crate) struct Setup {
    pub(crate) opts: Options,
    pub(crate) config: Box<dyn FnOnce(MessagingApiConfig) -> MessagingApiConfig + Send>,
    pub(crate) headers: HeaderNames,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            opts: fast(),
            config: Box::new(|c| c),
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

    let config =
        (setup.config)(messaging_config(&sim, &channel_id).with_header_names(setup.headers));
    let adapter = Arc::new(MessagingApiAdapter::new(config).unwrap());
    let client = adapter.client().clone();

    let received: Arc<Mutex<Vec<Activity>>> = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let answer_late = Arc::new(Mutex::new(None));
    let webhook_faults = Faults::new();
    let sink = {
        let received = received.clone();
        let answer_late = answer_late.clone();
        move |r: Received| {
            let received = received.clone();
            let answer_late = answer_late.clone();
            async move {
                received.lock().unwrap().extend(r.activities);
                let late = answer_late.lock().unwrap().take();
                if let Some(d) = late {
                    tokio::time::sleep(d).await;
                }
                Ok::<(), SinkError>(())
            }
        }
    };
    // Every path goes to the webhook: the adapter itself refuses paths that are not
    // `.../v3/conversations/{id}/activities`.
    let router = axum::Router::new()
        .fallback_service(webhook::<_, _, ()>(adapter.clone(), sink))
        .layer(middleware::from_fn_with_state(
            refused.clone(),
            record_refusals,
        ));
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
