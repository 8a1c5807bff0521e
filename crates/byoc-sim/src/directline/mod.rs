//! Simulator: directline (being built).

/// Runs this simulator from the command line (`args[0]` is the subcommand name).
///
/// # Errors
/// Always, until this simulator is built.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    anyhow::bail!("the {} simulator is not built yet ({} args)", "directline", args.len())
}
