//! `shiheng`: the command-line tool of the Shiheng Open Platform client.
//! This file owns the command line (clap), the credentials (the secret only
//! from the environment or a file, never a flag) and the mapping from errors
//! to exit codes; `commands` runs the commands and `output` writes items.

mod commands;
mod import;
mod logging;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use shiheng::operations::{ListWecomCustomers, ListWecomEmployees, ListWecomGroupChats};
use shiheng::paginate::{CursorOperation, PageNumberOperation};
use shiheng::{ErrorKind, config};

use output::Format;

/// The help heading of the options every command accepts.
const GLOBAL: &str = "Global options";

/// `shiheng --version`: the crate's version, and the contract it speaks.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (spec ",
    env!("SHIHENG_SPEC_VERSION"),
    ", sha256 ",
    env!("SHIHENG_SPEC_SHA256"),
    ")"
);

const EXIT_CODES: &str = "\
Exit codes:
  0  success (`check`: the answers match the spec)
  1  the output could not be written, or `check` found drift
  2  usage: a bad argument or missing setting (nothing was sent)
  3  the platform's business error (code, msg and traceId on stderr)
  4  transport or HTTP error, or a listing that stopped making progress
  5  the platform's answer could not be decoded

The app secret is read from SHIHENG_APP_SECRET or from --app-secret-file,
never from a flag value (it would show in `ps`).";

/// Read and list a restaurant chain's WeCom data on the Shiheng Open Platform
/// (食亨开放平台), sign envelopes by hand, or run a local sandbox.
#[derive(Debug, Parser)]
#[command(name = "shiheng", version = VERSION, after_help = EXIT_CODES)]
struct Cli {
    /// The platform's base URL.
    // hide_env_values: a base URL may carry credentials; --help must not show it.
    #[arg(long, global = true, env = config::ENV_BASE_URL, hide_env_values = true, value_name = "URL", help_heading = GLOBAL)]
    base_url: Option<String>,
    /// The application's appId (for `sandbox`: the one app it accepts).
    #[arg(long, global = true, env = config::ENV_APP_ID, hide_env_values = true, value_name = "ID", help_heading = GLOBAL)]
    app_id: Option<String>,
    /// The API version sent in every envelope.
    #[arg(
        long,
        global = true,
        env = config::ENV_API_VERSION,
        default_value = config::DEFAULT_API_VERSION,
        value_name = "VERSION",
        help_heading = GLOBAL
    )]
    api_version: String,
    /// A file holding the app secret (a trailing newline is ignored);
    /// otherwise SHIHENG_APP_SECRET is read.
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    app_secret_file: Option<PathBuf>,
    /// Diagnostics on stderr: -v the client's debug events, -vv its trace
    /// events, -vvv everything (RUST_LOG, when set, decides instead).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List WeCom employees (page-number pagination).
    Employees(EmployeesArgs),
    /// List WeCom customers (cursor pagination).
    Customers(CursorArgs),
    /// List WeCom customer group chats (cursor pagination).
    GroupChats(CursorArgs),
    /// Print the string to sign (secret masked) and the sign of an envelope;
    /// sends nothing.
    Sign(SignArgs),
    /// Call each operation once and report, field by field, where the answers
    /// differ from the spec this tool was built from (exit 1 when they do).
    Check,
    /// Serve every operation of the spec locally until Ctrl-C.
    Sandbox(SandboxArgs),
    /// List every employee of an embedded sandbox through the real client.
    Demo(DemoArgs),
    /// Work on the spec: import an endpoint from the platform's page.
    Spec(import::SpecArgs),
}

#[derive(Debug, Args)]
struct EmployeesArgs {
    /// The page to fetch (or, with --all, to start from).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(
        <ListWecomEmployees as PageNumberOperation>::PAGE.min..=<ListWecomEmployees as PageNumberOperation>::PAGE.max
    ))]
    page: u32,
    /// Items per page (default: the most the platform allows).
    #[arg(long, default_value_t = <ListWecomEmployees as PageNumberOperation>::PAGE_SIZE.max as u32,
        value_parser = clap::value_parser!(u32).range(
        <ListWecomEmployees as PageNumberOperation>::PAGE_SIZE.min..=<ListWecomEmployees as PageNumberOperation>::PAGE_SIZE.max
    ))]
    page_size: u32,
    /// Every page from --page to the end, not just one.
    #[arg(long)]
    all: bool,
    /// Pages fetched at once with --all.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct CursorArgs {
    /// Return items whose id is greater than this.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(
        <ListWecomCustomers as CursorOperation>::CURSOR.min..=<ListWecomCustomers as CursorOperation>::CURSOR.max
    ))]
    start_id: i64,
    /// Items per page (default: the most the platform allows).
    #[arg(long, default_value_t = <ListWecomCustomers as CursorOperation>::PAGE_SIZE.max as u32,
        value_parser = clap::value_parser!(u32).range(
        <ListWecomCustomers as CursorOperation>::PAGE_SIZE.min..=<ListWecomCustomers as CursorOperation>::PAGE_SIZE.max
    ))]
    page_size: u32,
    /// Every page from --start-id to the end, not just one.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    output: OutputArgs,
}

// Customers and group chats share `CursorArgs`, so their bounds must agree;
// checked at compile time so a spec change cannot slip past the parser.
const _: () = {
    let (a, b) = (
        <ListWecomCustomers as CursorOperation>::PAGE_SIZE,
        <ListWecomGroupChats as CursorOperation>::PAGE_SIZE,
    );
    let (c, d) = (
        <ListWecomCustomers as CursorOperation>::CURSOR,
        <ListWecomGroupChats as CursorOperation>::CURSOR,
    );
    assert!(a.min == b.min && a.max == b.max && c.min == d.min && c.max == d.max);
};

#[derive(Debug, Args)]
struct OutputArgs {
    /// How items are written.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write items to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SignArgs {
    /// The envelope's paramContent, as JSON; without it, an envelope with none.
    #[arg(long, value_name = "JSON")]
    param_content: Option<String>,
    /// The envelope's timestamp in epoch milliseconds (default: now).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i64).range(0..))]
    timestamp: Option<i64>,
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: std::net::SocketAddr,
    /// Items generated for a paginated operation, as OPERATION_ID=N
    /// (repeatable; e.g. listWecomEmployees=1000). Others get their default.
    #[arg(long = "items", value_name = "OPERATION=N", value_parser = parse_item_count)]
    item_counts: Vec<(String, usize)>,
    /// Serve the data in DIR instead of generated data: DIR/<operationId>.json
    /// holds a JSON array of items, or {"result": …} for an operation without
    /// pagination; checked against the spec before serving.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Seed of the generated data and of injected failures.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Delay added before every answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Share of requests that fail (0.0 to 1.0), each with one of --faults.
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = parse_rate)]
    fail_rate: f64,
    /// Kinds of failure injected, comma-separated: 503 (gateway page), drop
    /// (connection closed without an answer), slow (answer held back), or all.
    #[arg(long, default_value = "503", value_name = "KINDS")]
    faults: shiheng::sandbox::FaultKinds,
    /// How long a slow fault holds its answer back, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    slow_fault_ms: u64,
    /// The secret of the one app the sandbox accepts (a sandbox secret
    /// protects nothing, so a flag is fine here).
    #[arg(long, default_value = "demo-secret", value_name = "S")]
    app_secret: String,
    /// Answer with planted differences from the spec (an unknown field, an
    /// unknown status value, a mistyped field, a missing required field), to
    /// test `shiheng check` and other drift checkers.
    #[arg(long)]
    drift: bool,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Number of employees in the embedded sandbox.
    #[arg(long, default_value_t = 464)]
    employees: usize,
    /// Delay the sandbox adds to every answer, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Pages fetched at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
}

fn parse_item_count(text: &str) -> Result<(String, usize), String> {
    let (operation, count) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not OPERATION_ID=N"))?;
    let count = count
        .trim()
        .parse::<usize>()
        .map_err(|_| format!("{count:?} is not a number of items"))?;
    Ok((operation.trim().to_string(), count))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?} is not a rate between 0.0 and 1.0")),
    }
}

/// Why the tool stopped; each maps to one exit code.
#[derive(Debug)]
pub enum Failure {
    /// A bad argument or a missing setting, found before anything was sent.
    Usage(String),
    /// What the client returned.
    Platform(shiheng::Error),
    /// The output could not be written.
    Output(std::io::Error),
    /// `check` found this many differences (already printed).
    Drift(usize),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Output(_) | Failure::Drift(_) => 1,
            Failure::Platform(e) => match e.kind() {
                ErrorKind::Api => 3,
                ErrorKind::Decode => 5,
                ErrorKind::InvalidArgument | ErrorKind::Config => 2,
                // Http, Transport, Timeout, ResponseTooLarge, Pagination and
                // whatever later versions add: the exchange failed.
                _ => 4,
            },
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(message) => f.write_str(message),
            Failure::Platform(e) => write!(f, "{e}"),
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
            Failure::Drift(n) => write!(f, "{n} differences from the spec"),
        }
    }
}

impl From<shiheng::Error> for Failure {
    fn from(e: shiheng::Error) -> Self {
        Failure::Platform(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

/// The credentials a command that signs needs.
pub struct Credentials {
    app_id: String,
    secret: SecretString,
    api_version: String,
}

impl Cli {
    fn credentials(&self) -> Result<Credentials, Failure> {
        let app_id = self
            .app_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                Failure::Usage("no appId: pass --app-id or set SHIHENG_APP_ID".into())
            })?;
        let secret = match &self.app_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::Usage(format!(
                        "cannot read --app-secret-file {}: {e}",
                        path.display()
                    ))
                })?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                text.strip_suffix('\r').unwrap_or(text).to_string()
            }
            None => std::env::var(config::ENV_APP_SECRET).unwrap_or_default(),
        };
        if secret.is_empty() {
            return Err(Failure::Usage(
                "no app secret: set SHIHENG_APP_SECRET or pass --app-secret-file PATH".into(),
            ));
        }
        Ok(Credentials {
            app_id,
            secret: SecretString::from(secret),
            api_version: self.api_version.clone(),
        })
    }

    fn client(&self) -> Result<shiheng::Client, Failure> {
        let base_url = self
            .base_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| {
                Failure::Usage("no base URL: pass --base-url or set SHIHENG_BASE_URL".into())
            })?;
        let credentials = self.credentials()?;
        let config = shiheng::Config::new(base_url, credentials.app_id, credentials.secret)
            .with_api_version(credentials.api_version);
        shiheng::Client::new(config).map_err(|e| Failure::Usage(e.to_string()))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let outcome = match &cli.command {
        Command::Employees(args) => match cli.client() {
            Ok(client) => commands::employees(&client, args).await,
            Err(e) => Err(e),
        },
        Command::Customers(args) => match cli.client() {
            Ok(client) => {
                commands::cursor_listing::<ListWecomCustomers>(client.list_wecom_customers(), args)
                    .await
            }
            Err(e) => Err(e),
        },
        Command::GroupChats(args) => match cli.client() {
            Ok(client) => {
                commands::cursor_listing::<ListWecomGroupChats>(
                    client.list_wecom_group_chats(),
                    args,
                )
                .await
            }
            Err(e) => Err(e),
        },
        Command::Sign(args) => match cli.credentials() {
            Ok(credentials) => commands::sign(&credentials, args),
            Err(e) => Err(e),
        },
        Command::Check => match cli.client() {
            Ok(client) => commands::check(&client).await,
            Err(e) => Err(e),
        },
        Command::Sandbox(args) => {
            commands::sandbox(cli.app_id.as_deref(), &cli.api_version, args).await
        }
        Command::Demo(args) => commands::demo(args).await,
        Command::Spec(args) => import::run(args).map_err(Failure::Usage),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`) is not an error of ours.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        // The differences and the summary are already on stdout.
        Err(failure @ Failure::Drift(_)) => ExitCode::from(failure.exit_code()),
        Err(failure) => {
            let line = failure.to_string().replace(['\n', '\r'], " ");
            eprintln!("shiheng: error: {line}");
            ExitCode::from(failure.exit_code())
        }
    }
}
