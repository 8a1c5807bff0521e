//! `byoc-sim all`: every simulator at once, on free ports (or given ones), behind one local
//! CA, with one table of URLs and credentials, so a Bot Framework, TeleSign, Omnichannel or
//! Salesforce integration in any language can be developed and tested offline.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use crate::directline::{self, DirectLineSim};
use crate::messaging_api::{self, MessagingApiSim};
use crate::salesforce::{SalesforceSim, SimConfig};
use crate::telesign::{TelesignSim, TelesignSimOptions};
use crate::tls::LocalCa;

const POINTING: &str = "\
Pointing the official SDKs at it (trust the CA file it prints; nothing else changes):
  Node.js:  NODE_EXTRA_CA_CERTS=<CA file>
  Python:   REQUESTS_CA_BUNDLE=<CA file> SSL_CERT_FILE=<CA file>
  gRPC:     GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=<CA file>
  Java/.NET: import the CA file into the trust store the runtime uses.

  botframework-directlinejs: new DirectLine({ domain: <Direct Line URL>, secret })
  botbuilder (JS, Python, .NET) bot: ToChannelFromBotLoginUrl = <login URL>,
    ToBotFromChannelOpenIdMetadataUrl = <OpenID metadata URL>, ValidateAuthority = false,
    app id and password as printed; start with --bot-url <the bot's messaging endpoint> to
    have Direct Line user messages relayed to it (else the built-in echo bot answers).
  MSAL: authority <login URL> (or <Messaging API URL>/<tenant>), knownAuthorities = [host].
  TeleSign SDKs: rest_endpoint = <TeleSign URL>, customer id and API key as printed.
  Salesforce: login URL and instance URL = <Salesforce URL> (JWT bearer: aud = that URL or
    the --salesforce-audience), Pub/Sub API = <Pub/Sub URL>, SOAP login
    <Salesforce URL>/services/Soap/u/62.0 with the username and password.";

/// `byoc-sim all` options.
#[derive(Parser, Debug)]
#[command(
    name = "byoc-sim all",
    about = "Every simulator at once (TeleSign, Bot Framework / Direct Line, Messaging API, Salesforce), one CA",
    after_help = POINTING
)]
struct Cli {
    /// Serve plaintext HTTP instead of TLS (TLS is the default here: MSAL and gRPC call
    /// credentials need it).
    #[arg(long, conflicts_with = "tls_dir")]
    plaintext: bool,
    /// Keep the local CA in this directory (reused by later runs); default: a new CA in a
    /// temporary directory.
    #[arg(long, value_name = "DIR")]
    tls_dir: Option<PathBuf>,
    /// TeleSign port (0: any).
    #[arg(long, default_value_t = 0)]
    telesign_port: u16,
    /// Bot Framework / Direct Line port (0: any).
    #[arg(long, default_value_t = 0)]
    directline_port: u16,
    /// A bot messaging endpoint the Direct Line simulator relays user activities to
    /// (default: its built-in echo bot).
    #[arg(long)]
    bot_url: Option<String>,
    /// Messaging API port (0: any).
    #[arg(long, default_value_t = 0)]
    messaging_api_port: u16,
    /// Salesforce REST port (0: any).
    #[arg(long, default_value_t = 0)]
    salesforce_port: u16,
    /// Salesforce Pub/Sub gRPC port (0: any).
    #[arg(long, default_value_t = 0)]
    salesforce_grpc_port: u16,
    /// A JWT `aud` the Salesforce token endpoint accepts besides its own URL.
    #[arg(long)]
    salesforce_audience: Option<String>,
}

/// Every simulator, started together.
#[derive(Debug)]
pub struct AllSims {
    /// The CA all of them serve under (`None` for plaintext).
    pub ca: Option<Arc<LocalCa>>,
    /// TeleSign.
    pub telesign: TelesignSim,
    /// Bot Framework token authority, connector and Direct Line.
    pub directline: DirectLineSim,
    /// Messaging API, Entra and Dataverse.
    pub messaging_api: MessagingApiSim,
    /// Salesforce token endpoint, Interaction Service and Pub/Sub.
    pub salesforce: SalesforceSim,
}

impl AllSims {
    /// Starts every simulator with its built-in test credentials on free ports, all
    /// serving TLS with `ca` (or plaintext with `None`).
    ///
    /// # Errors
    /// When a port cannot be bound.
    pub async fn start(ca: Option<Arc<LocalCa>>) -> anyhow::Result<Self> {
        Self::start_with(ca, &Ports::default(), None, None).await
    }

    async fn start_with(
        ca: Option<Arc<LocalCa>>,
        ports: &Ports,
        bot_url: Option<String>,
        audience: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut ts = TelesignSimOptions::default()
            .with_bind(std::net::SocketAddr::from(([127, 0, 0, 1], ports.telesign)));
        let mut dl = directline::Options {
            port: ports.directline,
            bot_url,
            ..directline::Options::default()
        };
        let mut ma = messaging_api::Options::default();
        let mut sf = SimConfig {
            audience,
            ..SimConfig::default()
        };
        if let Some(ca) = &ca {
            ts = ts.with_tls(ca.clone());
            dl = dl.with_tls(ca.clone());
            ma = ma.with_tls(ca.clone());
            sf = sf.with_tls(ca.clone());
        }
        Ok(Self {
            telesign: TelesignSim::start(ts).await?,
            directline: DirectLineSim::start(dl).await?,
            messaging_api: MessagingApiSim::start_on(ma, ports.messaging_api).await?,
            salesforce: SalesforceSim::start_on(sf, ports.salesforce, ports.salesforce_grpc)
                .await?,
            ca,
        })
    }

    /// The table `byoc-sim all` prints: one row per URL or credential.
    #[must_use]
    pub fn table(&self) -> Vec<(&'static str, &'static str, String)> {
        let ts = &self.telesign;
        let dl = &self.directline;
        let dlo = dl.options();
        let ma = &self.messaging_api;
        let mao = ma.options();
        let sf = &self.salesforce;
        let sfc = sf.config();
        let mut rows = vec![
            ("TeleSign", "REST endpoint", ts.url().to_owned()),
            ("", "customer id", ts.customer_id().to_owned()),
            ("", "API key", ts.api_key().to_owned()),
            ("Bot Framework", "Direct Line URL", dl.directline_url()),
            ("", "Direct Line secret", dlo.secrets.join(", ")),
            ("", "OpenID metadata URL", dl.openid_metadata_url()),
            (
                "",
                "login URL (authority)",
                format!("{}/botframework.com", dl.url()),
            ),
            ("", "connector (serviceUrl)", dl.service_url()),
            ("", "bot app id", dlo.bot_app_id.clone()),
            ("", "bot app password", dlo.bot_app_password.clone()),
            (
                "Messaging API",
                "base URL, Entra, Dataverse",
                ma.url().to_owned(),
            ),
            ("", "tenant id", mao.tenant_id.clone()),
            ("", "client id", mao.client_id.clone()),
            ("", "client secret", mao.client_secret.clone()),
            ("", "organization id", mao.org_id.clone()),
            ("", "messaging scope", ma.messaging_scope()),
            ("Salesforce", "login and instance URL", sf.url().to_owned()),
            ("", "Pub/Sub API", sf.pubsub_url().to_owned()),
            ("", "JWT audience", sf.audience().to_owned()),
            ("", "consumer key", sfc.consumer_key.clone()),
            (
                "",
                "JWT signing key",
                "the built-in test key, printed by `byoc-sim salesforce`".to_owned(),
            ),
            ("", "username", sfc.username.clone()),
            ("", "password (SOAP login)", sfc.password.clone()),
            ("", "org id", sfc.org_id.clone()),
            (
                "",
                "authorization context",
                sfc.authorization_context.clone(),
            ),
            ("", "channel address", sfc.channel_address.clone()),
            ("", "topic", format!("/event/{}", sfc.platform_event)),
        ];
        if let Some(ca) = &self.ca {
            rows.insert(
                0,
                (
                    "all",
                    "CA certificate (trust this)",
                    ca.ca_file().display().to_string(),
                ),
            );
        }
        rows
    }
}

/// The ports to listen on (0: any free one).
#[derive(Debug, Default, Clone, Copy)]
struct Ports {
    telesign: u16,
    directline: u16,
    messaging_api: u16,
    salesforce: u16,
    salesforce_grpc: u16,
}

/// Runs `byoc-sim all` (`args[0]` is the subcommand name): prints `listening on` lines, the
/// CA file, then the table, and serves until interrupted.
///
/// # Errors
/// Bad arguments, a port in use, an unusable CA directory.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(args)?;
    let ca = match (&cli.tls_dir, cli.plaintext) {
        (Some(dir), _) => Some(LocalCa::in_dir(dir)?),
        (None, false) => Some(LocalCa::generate()?),
        (None, true) => None,
    };
    let ports = Ports {
        telesign: cli.telesign_port,
        directline: cli.directline_port,
        messaging_api: cli.messaging_api_port,
        salesforce: cli.salesforce_port,
        salesforce_grpc: cli.salesforce_grpc_port,
    };
    let all = AllSims::start_with(ca, &ports, cli.bot_url, cli.salesforce_audience).await?;
    for url in [
        all.telesign.url(),
        all.directline.url(),
        all.messaging_api.url(),
        all.salesforce.url(),
        all.salesforce.pubsub_url(),
    ] {
        println!("listening on {url}");
    }
    crate::tls::print_ca(all.ca.as_ref());
    println!();
    let width = all
        .table()
        .iter()
        .map(|(_, what, _)| what.len())
        .max()
        .unwrap_or(0);
    for (sim, what, value) in all.table() {
        println!("{sim:<14} {what:<width$}  {value}");
    }
    println!("\n{POINTING}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_simulator_serves_tls_under_the_one_ca() {
        let ca = LocalCa::generate().unwrap();
        let all = AllSims::start(Some(ca.clone())).await.unwrap();
        let table = all.table();
        assert_eq!(table[0].2, ca.ca_file().display().to_string());
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
            .build()
            .unwrap();
        let tenant = &all.messaging_api.options().tenant_id;
        for url in [
            format!(
                "{}/v1/.well-known/openidconfiguration",
                all.directline.url()
            ),
            format!(
                "{}/{tenant}/v2.0/.well-known/openid-configuration",
                all.messaging_api.url()
            ),
            format!("{}/.well-known/openid-configuration", all.salesforce.url()),
        ] {
            assert!(url.starts_with("https://"), "{url}");
            assert_eq!(
                client.get(&url).send().await.unwrap().status(),
                200,
                "{url}"
            );
        }
        // TeleSign answers (401 without credentials) over TLS too.
        let r = client
            .get(format!("{}/v1/messaging/x", all.telesign.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            table
                .iter()
                .any(|(_, what, v)| *what == "Pub/Sub API" && v.starts_with("https://"))
        );
    }
}
