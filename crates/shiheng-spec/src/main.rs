//! `shiheng-spec`: the spec tooling on its own, as `shiheng spec` runs it in
//! the CLI (`shiheng-spec import PAGE --path P --operation-id ID [--write]`,
//! `shiheng-spec diff OLD NEW`).
//! The YAML (without --write) goes to stdout, the report to stderr; a
//! refused import is one error line and exit 2, as in the CLI.

use std::process::ExitCode;

use clap::Parser;
use shiheng_spec::import::{self, SpecArgs};

/// Work on the spec: import an endpoint from the platform's page, or say
/// what changed between two versions of it.
#[derive(Debug, Parser)]
#[command(name = "shiheng-spec", version)]
struct Cli {
    #[command(flatten)]
    spec: SpecArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match import::run(&cli.spec) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("shiheng-spec: error: {message}");
            ExitCode::from(2)
        }
    }
}
