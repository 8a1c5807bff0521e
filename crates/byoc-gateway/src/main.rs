//! `byoc`: the gateway's command line (see the `byoc_gateway` crate docs).

fn main() -> std::process::ExitCode {
    byoc_gateway::cli_main()
}
