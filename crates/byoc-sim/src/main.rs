//! `byoc-sim <telesign|directline|connector|messaging-api|salesforce> --port P [credentials]`:
//! one simulator standalone; `byoc-sim all`: every one at once behind one CA. Prints
//! `listening on http(s)://127.0.0.1:P` first, and the CA file beside it with TLS.
//! `byoc-sim agent <omnichannel|salesforce> --sim URL ...` plays a running simulator's agent.

use std::process::ExitCode;

const USAGE: &str = "usage: byoc-sim <telesign|directline|connector|messaging-api|salesforce> --port P [--tls|--tls-dir DIR] [options]\n       byoc-sim all [--plaintext] [--tls-dir DIR] [ports]\n       byoc-sim agent <omnichannel|salesforce> --sim URL <action>\n       byoc-sim <simulator|all|agent> --help";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(which) = args.first().cloned() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match which.as_str() {
        "telesign" => byoc_sim::telesign::run_cli(args).await,
        "directline" | "connector" => byoc_sim::directline::run_cli(args).await,
        "messaging-api" => byoc_sim::messaging_api::run_cli(args).await,
        "salesforce" => byoc_sim::salesforce::run_cli(args).await,
        "all" => byoc_sim::run_all_cli(args).await,
        "agent" => byoc_sim::run_agent_cli(args).await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown simulator `{other}`\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("byoc-sim {which}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
