//! The command line, built at run time from the operation table: one
//! subcommand per operation of the spec (named by its `x-cli-command` or its
//! kebab-case operationId, described by its summary, with options derived
//! from its pagination and request schema), then the built-in commands.
//! Owns parsing the matches into an [`Invocation`]; nothing here names an
//! endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{EnumValueParser, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches, value_parser};
use shiheng::config;
use shiheng::operation::{OperationSpec, PaginationStyle};
use shiheng::paginate::DEFAULT_CONCURRENCY;
use shiheng::record::Field;

use crate::Failure;
use crate::output::Format;

/// `shiheng --version`: the crate's version, and the contract it speaks
/// (the SDK's [`shiheng::SPEC_VERSION`] on one line, and its SHA-256).
fn version() -> String {
    let spec_version: String = shiheng::SPEC_VERSION
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{} (spec {spec_version}, sha256 {})",
        env!("CARGO_PKG_VERSION"),
        shiheng::SPEC_SHA256
    )
}

const EXIT_CODES: &str = "\
Exit codes:
  0    success: every item written (`check`: no drift in what could be checked)
  1    the output could not be written, `check` found drift, or `spec diff` found a breaking change
  2    usage: a bad argument or missing setting (nothing was sent); a spec `spec diff` cannot read
  3    the platform's business error (code, msg and traceId on stderr)
  4    transport or HTTP error, a deadline, or a listing that stopped making progress
  5    an answer or an item could not be decoded (or, with --strict, needed the decoding rule)
  6    `check --require-all`: an operation could not be checked (or, without it,
       none could and the platform reported no error)
  130  interrupted (Ctrl-C or SIGTERM): what was written is kept, the summary printed

Commands that call the platform read --base-url (SHIHENG_BASE_URL), --app-id
(SHIHENG_APP_ID) and --api-version (SHIHENG_API_VERSION); the app secret
comes from SHIHENG_APP_SECRET or --app-secret-file, never from a flag value
(it would show in `ps`). RUST_LOG or -v/-vv/-vvv log the client's requests
on stderr; the secret is never logged.";

/// The built-in commands, which an operation's command may not shadow.
const BUILTINS: &[&str] = &["check", "sign", "sandbox", "demo", "spec", "help"];

/// Option names a listing uses itself; a pagination field whose kebab-case
/// name is one of these gets a `param-` prefix.
const LISTING_OPTIONS: &[&str] = &[
    "all",
    "page-size",
    "concurrency",
    "max-pages",
    "deadline",
    "timeout",
    "format",
    "output",
    "columns",
    "strict",
    "base-url",
    "app-id",
    "api-version",
    "app-secret-file",
    "verbose",
    "help",
];

const CONNECTION: &str = "Connection";
const LISTING: &str = "Listing";
const OUTPUT: &str = "Output";

/// What the command line asks for.
pub enum Invocation {
    /// A paginated operation: one page, or with `--all` every item.
    List {
        /// The operation.
        op: &'static OperationSpec,
        /// How to reach the platform.
        connection: Connection,
        /// The listing's options.
        args: ListArgs,
    },
    /// An operation without pagination, called once.
    Call {
        /// The operation.
        op: &'static OperationSpec,
        /// How to reach the platform.
        connection: Connection,
        /// `--param-content`, as given (JSON or `@file`).
        param_content: Option<String>,
        /// `--output`.
        output: Option<PathBuf>,
    },
    /// `shiheng check`.
    Check {
        /// How to reach the platform.
        connection: Connection,
        /// Each `--params OPERATION=JSON`, as given.
        params: Vec<String>,
        /// `--require-all`.
        require_all: bool,
        /// `--spec`: the spec file to compare with instead of the embedded one.
        spec: Option<PathBuf>,
        /// `--write-spec`: where to write the spec amended with the answers.
        write_spec: Option<PathBuf>,
        /// `--pages` (`--all`: the most there is): pages per paginated operation.
        pages: usize,
        /// `--concurrency`: operations checked at once.
        concurrency: Option<usize>,
    },
    /// `shiheng sign`.
    Sign(SignArgs),
    /// `shiheng sandbox`.
    Sandbox(SandboxArgs),
    /// `shiheng demo`.
    Demo(DemoArgs),
    /// `shiheng spec ...` (`spec import`).
    Spec(shiheng_spec::import::SpecArgs),
}

impl Invocation {
    /// Whether the command talks to the platform as a client (and runs best
    /// on one thread: decoding and writing are one sequence per item).
    pub fn is_client(&self) -> bool {
        matches!(
            self,
            Invocation::List { .. } | Invocation::Call { .. } | Invocation::Check { .. }
        )
    }
}

/// The settings a command that calls the platform needs.
pub struct Connection {
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--app-id`.
    pub app_id: Option<String>,
    /// `--api-version`.
    pub api_version: String,
    /// `--app-secret-file`.
    pub app_secret_file: Option<PathBuf>,
    /// `--timeout`: each HTTP request's.
    pub timeout: Option<Duration>,
}

/// A listing's options.
pub struct ListArgs {
    /// `--all`.
    pub all: bool,
    /// The page number or cursor to start from.
    pub start: i64,
    /// `--page-size`.
    pub page_size: u32,
    /// `--concurrency`, where the style allows it.
    pub concurrency: Option<usize>,
    /// `--max-pages`.
    pub max_pages: Option<u32>,
    /// `--deadline`.
    pub deadline: Option<Duration>,
    /// `--format`.
    pub format: Format,
    /// `--output`.
    pub output: Option<PathBuf>,
    /// `--columns`, resolved to the schema's fields.
    pub columns: Option<Vec<&'static Field>>,
    /// `--strict`.
    pub strict: bool,
    /// The position option's name (`--page-num`, `--start-id`), for messages.
    pub position_flag: String,
}

/// `shiheng sign`'s options.
pub struct SignArgs {
    /// The appId and version to sign with, and where the secret is.
    pub connection: Connection,
    /// `--param-content`.
    pub param_content: Option<String>,
    /// `--timestamp`.
    pub timestamp: Option<i64>,
}

/// `shiheng sandbox`'s options.
pub struct SandboxArgs {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--app-id`: the one app the sandbox accepts.
    pub app_id: String,
    /// `--app-secret`: that app's secret.
    pub app_secret: String,
    /// `--api-version`.
    pub api_version: String,
    /// `--seed`.
    pub seed: u64,
    /// `--latency-ms`.
    pub latency: Duration,
    /// `--fail-rate`.
    pub fail_rate: f64,
    /// `--faults`.
    pub faults: shiheng_sandbox::FaultKinds,
    /// `--slow-fault-ms`.
    pub slow_fault: Duration,
    /// `--drift`.
    pub drift: bool,
    /// `--items`: operationId and number of generated items.
    pub item_counts: Vec<(&'static str, usize)>,
    /// `--data`.
    pub data: Option<PathBuf>,
}

/// `shiheng demo`'s options.
pub struct DemoArgs {
    /// `--latency-ms`.
    pub latency: Duration,
    /// `--concurrency`.
    pub concurrency: usize,
}

/// `pageNum` → `page-num`, `start_id` → `start-id`.
pub fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_uppercase() {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else if c == '_' {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}

/// The subcommand name of `op`: its table name, unless a built-in has it.
pub fn command_name(op: &OperationSpec) -> &'static str {
    if BUILTINS.contains(&op.cli_command) {
        op.operation_id
    } else {
        op.cli_command
    }
}

/// The name of a listing's position option (`page-num`, `start-id`).
fn position_option(field: &str) -> String {
    let name = kebab(field);
    if LISTING_OPTIONS.contains(&name.as_str()) {
        format!("param-{name}")
    } else {
        name
    }
}

/// The operation command `args` names (the first argument after the global
/// flags), if it is one: its command line alone is built then, so that
/// running one command of a spec of hundreds does not build hundreds.
pub fn operation_named(args: &[std::ffi::OsString]) -> Option<&'static str> {
    let first = args
        .iter()
        .skip(1)
        .filter_map(|arg| arg.to_str())
        .find(|arg| !arg.starts_with('-'))?;
    OperationSpec::all()
        .iter()
        .map(|op| command_name(op))
        .find(|name| *name == first)
}

/// The whole command line: every operation, or only `only` among them
/// (the built-in commands always; see [`operation_named`]).
pub fn command_for(only: Option<&str>) -> Command {
    let mut cmd = Command::new("shiheng")
        .version(version())
        .about(
            "Read and list a restaurant chain's WeCom data on the Shiheng Open Platform \
             (食亨开放平台), sign envelopes by hand, or run a local sandbox.\n\
             Every operation of the spec this tool was built from is a command.",
        )
        .after_help(EXIT_CODES)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(verbose_arg(
            "Log on stderr what the command does (-v debug, -vv trace, -vvv everything); \
             RUST_LOG overrides. Also after the commands that log: those that call the \
             platform, demo and sandbox",
        ));
    for op in OperationSpec::all() {
        if only.is_none_or(|name| name == command_name(op)) {
            cmd = cmd.subcommand(operation_command(op));
        }
    }
    cmd.subcommand(
        Command::new("check")
            .about(
                "Call every operation once and report, field by field, where the answers \
                 differ from the spec this tool was built from (exit 1 when they do)",
            )
            .long_about(
                "Call every operation once and report, field by field, where the answers \
                 differ from the spec this tool was built from.\n\
                 An operation that could not be checked is listed as `not checked` with the \
                 reason: no params could be invented from the spec, the platform refused the \
                 params sent (its code, msg and traceId), or the exchange failed. Give its \
                 paramContent with --params. It is not drift.\n\
                 Exit 0: no drift in what was checked; 1: drift; 3 or 4 (the first \
                 failure's): no operation could be checked; 6: with --require-all, an \
                 operation could not be checked (or none could and the platform reported \
                 no error).\n\
                 --write-spec FILE writes a copy of the spec amended with what the answers \
                 showed (new fields, known values, nullability, other wire forms; only \
                 additions and widenings, each described as observed on this date), even \
                 when drift was found: exit 1 still means drift was found. Try it with \
                 `shiheng check --spec FILE`, see what it changes with `shiheng spec diff`, \
                 then move it into spec/ and rebuild.",
            )
            .arg(
                Arg::new("params")
                    .long("params")
                    .value_name("OPERATION=JSON")
                    .action(ArgAction::Append)
                    .help(
                        "The paramContent to call OPERATION (its operationId or command) \
                         with, as JSON or @file.json, instead of one invented from the spec \
                         (repeatable; checked against the spec's params schema)",
                    ),
            )
            .arg(
                Arg::new("require_all")
                    .long("require-all")
                    .action(ArgAction::SetTrue)
                    .help("Exit 6 when an operation could not be checked (drift still exits 1)"),
            )
            .arg(
                Arg::new("spec")
                    .long("spec")
                    .value_name("FILE")
                    .value_parser(value_parser!(PathBuf))
                    .help(
                        "Compare with this spec file (YAML or JSON) instead of the one this \
                         tool was built from; nothing is rebuilt. The operations called are \
                         still this tool's, each compared with the 200 schema FILE gives its \
                         path",
                    ),
            )
            .arg(
                Arg::new("write_spec")
                    .long("write-spec")
                    .value_name("FILE")
                    .value_parser(value_parser!(PathBuf))
                    .help(
                        "Write the spec (--spec, else spec/shiheng-open.yaml, which is then \
                         what is checked) amended with what the answers showed to FILE, \
                         comments and order kept; written even when drift is found (exit 1 \
                         still means drift). The input is replaced only when FILE is its path",
                    ),
            )
            .arg(
                Arg::new("pages")
                    .long("pages")
                    .value_name("N")
                    .value_parser(value_parser!(u64).range(1..))
                    .conflicts_with("all_pages")
                    .help(
                        "Look at up to N pages of each paginated operation, following its \
                         pagination (default 1)",
                    ),
            )
            .arg(
                Arg::new("all_pages")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help(format!(
                        "Look at every page of each paginated operation (at most {})",
                        shiheng_spec::drift::MAX_PAGES
                    )),
            )
            .arg(
                Arg::new("check_concurrency")
                    .long("concurrency")
                    .value_name("N")
                    .value_parser(value_parser!(u64).range(1..=64))
                    .help(format!(
                        "Check up to N operations at once (default {}); the report keeps \
                         the spec's order",
                        shiheng_spec::drift::DEFAULT_CONCURRENCY
                    )),
            )
            .args(connection_args(true)),
    )
    .subcommand(sign_command())
    .subcommand(sandbox_command())
    .subcommand(demo_command())
    .subcommand(
        shiheng_spec::import::SpecArgs::augment_args(
            Command::new("spec").subcommand_required(true),
        )
        .about("Work on the spec: import an endpoint from the platform's page; diff two versions"),
    )
}

fn operation_command(op: &'static OperationSpec) -> Command {
    let cmd = Command::new(command_name(op))
        .about(op.summary)
        .args(connection_args(true));
    match &op.pagination {
        Some(pagination) => {
            let (style, position_help, default_start) = match pagination.style {
                PaginationStyle::PageNumber { .. } => (
                    "page-number pagination",
                    "The page to fetch (with --all: the first page to list)",
                    pagination.position().bounds.min.max(1),
                ),
                _ => (
                    "cursor pagination",
                    "The cursor to fetch from: items after it (with --all: the listing's start)",
                    pagination.position().bounds.min.max(0),
                ),
            };
            let position = pagination.position();
            let mut position_arg = Arg::new("position")
                .long(position_option(position.name))
                .value_name("N")
                .help(format!(
                    "{position_help} ({} to {}: the spec's bounds)",
                    position.bounds.min, position.bounds.max
                ))
                .default_value(default_start.to_string())
                .value_parser(value_parser!(i64).range(position.bounds.min..=position.bounds.max))
                .help_heading(LISTING);
            if matches!(pagination.style, PaginationStyle::PageNumber { .. })
                && position_option(position.name) != "page"
            {
                position_arg = position_arg.visible_alias("page");
            }
            let size = pagination.page_size.bounds;
            let (size_min, size_max) = (size.min.max(1), size.max.min(i64::from(u32::MAX)));
            let names: Vec<&'static str> = shiheng::dynamic::of(op)
                .item_fields()
                .iter()
                .map(|f| f.name)
                .collect();
            let mut cmd = cmd
                .long_about(format!(
                    "{}\n\n{} (POST {}), {style}: one page, or every item with --all. \
                     Items are {} records.",
                    op.summary, op.operation_id, op.path, pagination.item_schema
                ))
                .arg(
                    Arg::new("all")
                        .long("all")
                        .action(ArgAction::SetTrue)
                        .help("Every item from the start position to the end, not one page")
                        .help_heading(LISTING),
                )
                .arg(position_arg)
                .arg(
                    Arg::new("page_size")
                        .long("page-size")
                        .value_name("N")
                        .help(format!(
                            "Items per page ({size_min} to {size_max}: the spec's bounds)"
                        ))
                        .default_value(size_max.to_string())
                        .value_parser(value_parser!(u32).range(size_min..=size_max))
                        .help_heading(LISTING),
                );
            if let Some((help, default)) = concurrency_of(pagination.style) {
                cmd = cmd.arg(
                    Arg::new("concurrency")
                        .long("concurrency")
                        .value_name("N")
                        .help(help)
                        .default_value(default.to_string())
                        .value_parser(value_parser!(u16).range(1..=64))
                        .help_heading(LISTING),
                );
            }
            cmd.arg(
                Arg::new("max_pages")
                    .long("max-pages")
                    .value_name("N")
                    .requires("all")
                    .help("With --all: stop with an error after this many pages")
                    .value_parser(value_parser!(u32).range(1..))
                    .help_heading(LISTING),
            )
            .arg(
                Arg::new("deadline")
                    .long("deadline")
                    .value_name("DURATION")
                    .requires("all")
                    .help("With --all: stop with an error after this long (e.g. 30s, 5m, 1h30m)")
                    .value_parser(parse_duration)
                    .help_heading(LISTING),
            )
            .arg(
                Arg::new("format")
                    .long("format")
                    .value_name("FORMAT")
                    .help("How items are written")
                    .default_value("table")
                    .value_parser(EnumValueParser::<Format>::new())
                    .help_heading(OUTPUT),
            )
            .arg(output_arg())
            .arg(
                Arg::new("columns")
                    .long("columns")
                    .value_name("A,B,...")
                    .value_delimiter(',')
                    .action(ArgAction::Append)
                    .help(format!(
                        "The fields table and csv show, in this order (default: table, the first \
                         that fit; csv, all). Fields: {}",
                        names.join(", ")
                    ))
                    .value_parser(PossibleValuesParser::new(names))
                    .hide_possible_values(true)
                    .help_heading(OUTPUT),
            )
            .arg(
                Arg::new("strict")
                    .long("strict")
                    .action(ArgAction::SetTrue)
                    .help(
                        "Stop with exit 5 at the first item the spec does not describe exactly \
                         (a coerced value or an undecodable item)",
                    )
                    .help_heading(OUTPUT),
            )
        }
        None => {
            let mut cmd = cmd.long_about(format!(
                "{}\n\n{} (POST {}): called once; its result is printed as JSON.",
                op.summary, op.operation_id, op.path
            ));
            if let Some(schema) = op.params_schema {
                cmd = cmd.arg(
                    Arg::new("param_content")
                        .long("param-content")
                        .value_name("JSON|@FILE")
                        .required(op.params_required)
                        .help(format!(
                            "The call's paramContent ({schema}), as JSON or @file.json; checked \
                             against the spec before sending"
                        )),
                );
            }
            cmd.arg(output_arg())
        }
    }
}

/// What `--concurrency` does for a pagination style and its default, where
/// the style allows more than one request at a time: page-number listings
/// fetch pages ahead; cursor listings whose cursor is a monotone key
/// (`cursorKey`) can be scanned in partitions. Other cursors go one by one.
pub fn concurrency_of(style: PaginationStyle) -> Option<(&'static str, usize)> {
    match style {
        PaginationStyle::PageNumber { .. } => {
            Some(("Pages fetched at once with --all", DEFAULT_CONCURRENCY))
        }
        PaginationStyle::Cursor { key: Some(_), .. } => Some((
            "Requests at once with --all: above 1, a partitioned scan of the cursor's key \
             space (the same items in the same order as one by one)",
            1,
        )),
        _ => None,
    }
}

fn output_arg() -> Arg {
    Arg::new("output")
        .long("output")
        .value_name("PATH")
        .value_parser(value_parser!(PathBuf))
        .help(
            "Write to this file instead of stdout: written beside it as PATH.partial (the \
             file's mode kept; 0600 for a new file) and renamed over PATH only on success; a \
             read-only file is refused; a device or FIFO is written straight",
        )
        .help_heading(OUTPUT)
}

/// `-v`, `-vv`, `-vvv`: offered by the commands that have something to log
/// (not `sign` or `spec import`, which run no client and no server).
fn verbose_arg(help: &'static str) -> Arg {
    Arg::new("verbose")
        .short('v')
        .long("verbose")
        .action(ArgAction::Count)
        .help(help)
}

const CLIENT_VERBOSE: &str = "Log the client's activity on stderr (-v debug, -vv trace, -vvv \
                              everything); RUST_LOG overrides";

/// How many `-v` the command line holds, before and after the subcommand.
pub fn verbosity(matches: &ArgMatches) -> u8 {
    let count = |m: &ArgMatches| m.try_get_one::<u8>("verbose").ok().flatten().copied();
    let root = count(matches).unwrap_or(0);
    let sub = matches
        .subcommand()
        .and_then(|(_, sub)| count(sub))
        .unwrap_or(0);
    root.saturating_add(sub)
}

/// The options that say how to reach the platform; `with_url` false for
/// `sign`, which sends nothing.
fn connection_args(with_url: bool) -> Vec<Arg> {
    let mut args = Vec::new();
    if with_url {
        args.push(
            Arg::new("base_url")
                .long("base-url")
                .value_name("URL")
                .env(config::ENV_BASE_URL)
                .hide_env_values(true)
                .help("The platform's base URL")
                .help_heading(CONNECTION),
        );
        args.push(
            Arg::new("timeout")
                .long("timeout")
                .value_name("DURATION")
                .help(
                    "Each HTTP request's timeout, from sending to the answer's last byte \
                     (e.g. 5s, 500ms; default 30s); a request that times out is retried as \
                     the retry policy says",
                )
                .value_parser(parse_duration)
                .help_heading(CONNECTION),
        );
        args.push(verbose_arg(CLIENT_VERBOSE));
    }
    args.extend([
        Arg::new("app_id")
            .long("app-id")
            .value_name("ID")
            .env(config::ENV_APP_ID)
            .hide_env_values(true)
            .help("The application's appId")
            .help_heading(CONNECTION),
        Arg::new("api_version")
            .long("api-version")
            .value_name("VERSION")
            .env(config::ENV_API_VERSION)
            .hide_env_values(true)
            .default_value(config::DEFAULT_API_VERSION)
            .help("The API version sent in every envelope")
            .help_heading(CONNECTION),
        Arg::new("app_secret_file")
            .long("app-secret-file")
            .value_name("PATH")
            .value_parser(value_parser!(PathBuf))
            .help(
                "A file holding the app secret (a trailing newline is ignored); otherwise \
                 SHIHENG_APP_SECRET is read",
            )
            .help_heading(CONNECTION),
    ]);
    args
}

fn sign_command() -> Command {
    Command::new("sign")
        .about(
            "Print the string to sign (secret masked) and the sign of an envelope; sends nothing",
        )
        .args(connection_args(false))
        .arg(
            Arg::new("param_content")
                .long("param-content")
                .value_name("JSON|@FILE")
                .help(
                    "The envelope's paramContent, as JSON or @file.json (signed from its text: \
                     integers keep every digit); without it, an envelope with none",
                ),
        )
        .arg(
            Arg::new("timestamp")
                .long("timestamp")
                .value_name("MS")
                .help("The envelope's timestamp in epoch milliseconds (default: now)")
                .value_parser(value_parser!(i64).range(0..)),
        )
}

fn sandbox_command() -> Command {
    Command::new("sandbox")
        .about("Serve every operation of the spec locally until Ctrl-C or SIGTERM")
        .arg(verbose_arg(
            "Log the sandbox's activity on stderr (-v: refused requests, closed \
             connections; -vv trace, -vvv everything); RUST_LOG overrides",
        ))
        .arg(
            Arg::new("listen")
                .long("listen")
                .value_name("ADDR")
                .default_value("127.0.0.1:8080")
                .value_parser(value_parser!(SocketAddr))
                .help("Address to listen on"),
        )
        .arg(
            Arg::new("app_id")
                .long("app-id")
                .value_name("ID")
                .env("SHIHENG_SANDBOX_APP_ID")
                .hide_env_values(true)
                .default_value("demo-app")
                .help("The one appId the sandbox accepts"),
        )
        .arg(
            Arg::new("app_secret")
                .long("app-secret")
                .value_name("SECRET")
                .env("SHIHENG_SANDBOX_APP_SECRET")
                .hide_env_values(true)
                .default_value("demo-secret")
                .help(
                    "That app's secret (a sandbox secret protects nothing, so a flag is fine \
                     here; the client's SHIHENG_APP_SECRET is never read)",
                ),
        )
        .arg(
            Arg::new("api_version")
                .long("api-version")
                .value_name("VERSION")
                .env("SHIHENG_SANDBOX_API_VERSION")
                .hide_env_values(true)
                .default_value(config::DEFAULT_API_VERSION)
                .help("The API version the sandbox accepts"),
        )
        .arg(
            Arg::new("seed")
                .long("seed")
                .value_name("N")
                .default_value("42")
                .value_parser(value_parser!(u64))
                .help("Seed of the generated data and of injected failures"),
        )
        .arg(
            Arg::new("items")
                .long("items")
                .value_name("OPERATION=N")
                .action(ArgAction::Append)
                .value_parser(parse_item_count)
                .help(
                    "Items generated for a paginated operation, named by its command or \
                     operationId (repeatable; e.g. employees=100000)",
                ),
        )
        .arg(
            Arg::new("data")
                .long("data")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Serve the data in DIR instead of generated data (DIR/<operationId>.json), \
                     checked against the spec before serving",
                ),
        )
        .arg(latency_arg(
            "Delay added before every answer, in milliseconds",
        ))
        .arg(
            Arg::new("fail_rate")
                .long("fail-rate")
                .value_name("F")
                .default_value("0.0")
                .value_parser(parse_rate)
                .help("Share of requests that fail (0.0 to 1.0), each with one of --faults"),
        )
        .arg(
            Arg::new("faults")
                .long("faults")
                .value_name("KINDS")
                .default_value("503")
                .value_parser(|text: &str| text.parse::<shiheng_sandbox::FaultKinds>())
                .help(
                    "Kinds of failure injected, comma-separated: 503 (gateway page), drop \
                     (connection closed without an answer), slow (answer held back), or all",
                ),
        )
        .arg(
            Arg::new("slow_fault_ms")
                .long("slow-fault-ms")
                .value_name("MS")
                .default_value("2000")
                .value_parser(value_parser!(u64))
                .help("How long a slow fault holds its answer back, in milliseconds"),
        )
        .arg(
            Arg::new("drift")
                .long("drift")
                .action(ArgAction::SetTrue)
                .help(
                    "Answer with planted differences from the spec, to test `shiheng check` \
                     and other drift checkers",
                ),
        )
}

fn demo_command() -> Command {
    Command::new("demo")
        .about(
            "List every paginated operation of an embedded sandbox through the real signed \
             client, with a summary of each",
        )
        .arg(verbose_arg(CLIENT_VERBOSE))
        .arg(latency_arg(
            "Delay the sandbox adds to every answer, in milliseconds",
        ))
        .arg(
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .default_value(DEFAULT_CONCURRENCY.to_string())
                .value_parser(value_parser!(u16).range(1..=64))
                .help("Pages fetched at once, where the operation's pagination allows"),
        )
}

fn latency_arg(help: &'static str) -> Arg {
    Arg::new("latency_ms")
        .long("latency-ms")
        .value_name("MS")
        .default_value("0")
        .value_parser(value_parser!(u64))
        .help(help)
}

/// `employees=1000` or `listWecomEmployees=1000`: the operationId and the count.
fn parse_item_count(text: &str) -> Result<(&'static str, usize), String> {
    let (name, count) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not OPERATION=N"))?;
    let name = name.trim();
    let op = OperationSpec::all()
        .iter()
        .find(|op| op.operation_id == name || command_name(op) == name)
        .filter(|op| op.pagination.is_some())
        .ok_or_else(|| format!("{name:?} is not a paginated operation of the spec"))?;
    let max = shiheng_sandbox::MAX_ITEM_COUNT;
    let count = count
        .trim()
        .parse::<u128>()
        .map_err(|_| format!("{count:?} is not a number of items"))?;
    match usize::try_from(count) {
        Ok(count) if count <= max => Ok((op.operation_id, count)),
        _ => Err(format!(
            "{count} items is more than the sandbox generates ({max} at most, about 760 MB)"
        )),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?} is not a rate between 0.0 and 1.0")),
    }
}

/// `30s`, `5m`, `1h30m`, `500ms`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 30s, 5m, 1h30m or 500ms");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return (seconds > 0)
            .then(|| Duration::from_secs(seconds))
            .ok_or_else(bad);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(bad());
    }
    Ok(total)
}

/// The parsed command line.
pub fn parse(matches: &ArgMatches) -> Result<Invocation, Failure> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(Failure::Usage("no command given; see --help".into()));
    };
    match name {
        "check" => {
            return Ok(Invocation::Check {
                connection: connection(sub),
                params: sub
                    .get_many::<String>("params")
                    .map(|given| given.cloned().collect())
                    .unwrap_or_default(),
                require_all: sub.get_flag("require_all"),
                spec: sub.get_one::<PathBuf>("spec").cloned(),
                write_spec: sub.get_one::<PathBuf>("write_spec").cloned(),
                pages: if sub.get_flag("all_pages") {
                    shiheng_spec::drift::MAX_PAGES
                } else {
                    sub.get_one::<u64>("pages").map_or(1, |&n| {
                        usize::try_from(n).map_or(shiheng_spec::drift::MAX_PAGES, |n| {
                            n.min(shiheng_spec::drift::MAX_PAGES)
                        })
                    })
                },
                concurrency: sub
                    .get_one::<u64>("check_concurrency")
                    .and_then(|&n| usize::try_from(n).ok()),
            });
        }
        "sign" => {
            return Ok(Invocation::Sign(SignArgs {
                connection: connection(sub),
                param_content: sub.get_one::<String>("param_content").cloned(),
                timestamp: sub.get_one::<i64>("timestamp").copied(),
            }));
        }
        "sandbox" => return Ok(Invocation::Sandbox(sandbox_args(sub))),
        "spec" => {
            return shiheng_spec::import::SpecArgs::from_arg_matches(sub)
                .map(Invocation::Spec)
                .map_err(|e| Failure::Usage(e.to_string()));
        }
        "demo" => {
            return Ok(Invocation::Demo(DemoArgs {
                latency: Duration::from_millis(*sub.get_one::<u64>("latency_ms").unwrap_or(&0)),
                concurrency: usize::from(*sub.get_one::<u16>("concurrency").unwrap_or(&4)),
            }));
        }
        _ => {}
    }
    let Some(op) = OperationSpec::all()
        .iter()
        .copied()
        .find(|op| command_name(op) == name)
    else {
        return Err(Failure::Usage(format!("unknown command {name}")));
    };
    let connection = connection(sub);
    let output = sub.get_one::<PathBuf>("output").cloned();
    let Some(pagination) = &op.pagination else {
        return Ok(Invocation::Call {
            op,
            connection,
            param_content: sub.get_one::<String>("param_content").cloned(),
            output,
        });
    };
    let columns = sub.get_many::<String>("columns").map(|names| {
        let fields = shiheng::dynamic::of(op).item_fields();
        names
            .filter_map(|name| fields.iter().find(|f| f.name == name.as_str()))
            .collect()
    });
    Ok(Invocation::List {
        op,
        connection,
        args: ListArgs {
            all: sub.get_flag("all"),
            start: *sub.get_one::<i64>("position").unwrap_or(&0),
            page_size: *sub.get_one::<u32>("page_size").unwrap_or(&1),
            concurrency: sub
                .try_get_one::<u16>("concurrency")
                .ok()
                .flatten()
                .map(|c| usize::from(*c)),
            max_pages: sub.get_one::<u32>("max_pages").copied(),
            deadline: sub.get_one::<Duration>("deadline").copied(),
            format: *sub.get_one::<Format>("format").unwrap_or(&Format::Table),
            output,
            columns,
            strict: sub.get_flag("strict"),
            position_flag: format!("--{}", position_option(pagination.position().name)),
        },
    })
}

fn connection(sub: &ArgMatches) -> Connection {
    let text = |id: &str| {
        sub.try_get_one::<String>(id)
            .ok()
            .flatten()
            .filter(|v| !v.trim().is_empty())
            .cloned()
    };
    Connection {
        base_url: text("base_url"),
        app_id: text("app_id"),
        api_version: text("api_version").unwrap_or_else(|| config::DEFAULT_API_VERSION.into()),
        app_secret_file: sub.get_one::<PathBuf>("app_secret_file").cloned(),
        timeout: sub
            .try_get_one::<Duration>("timeout")
            .ok()
            .flatten()
            .copied(),
    }
}

fn sandbox_args(sub: &ArgMatches) -> SandboxArgs {
    let text = |id: &str| sub.get_one::<String>(id).cloned().unwrap_or_default();
    let millis = |id: &str| Duration::from_millis(*sub.get_one::<u64>(id).unwrap_or(&0));
    SandboxArgs {
        listen: *sub
            .get_one::<SocketAddr>("listen")
            .unwrap_or(&SocketAddr::from(([127, 0, 0, 1], 8080))),
        app_id: text("app_id"),
        app_secret: text("app_secret"),
        api_version: text("api_version"),
        seed: *sub.get_one::<u64>("seed").unwrap_or(&42),
        latency: millis("latency_ms"),
        fail_rate: *sub.get_one::<f64>("fail_rate").unwrap_or(&0.0),
        faults: sub
            .get_one::<shiheng_sandbox::FaultKinds>("faults")
            .copied()
            .unwrap_or_default(),
        slow_fault: millis("slow_fault_ms"),
        drift: sub.get_flag("drift"),
        item_counts: sub
            .get_many::<(&'static str, usize)>("items")
            .map(|counts| counts.copied().collect())
            .unwrap_or_default(),
        data: sub.get_one::<PathBuf>("data").cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command_for(None).debug_assert();
    }

    #[test]
    fn one_operation_command_builds_only_its_own_and_parses_alike() {
        for op in OperationSpec::all() {
            let name = command_name(op);
            let args: Vec<std::ffi::OsString> = ["shiheng", "-v", name, "--help"]
                .iter()
                .map(Into::into)
                .collect();
            assert_eq!(operation_named(&args), Some(name));
            let only = command_for(Some(name));
            only.clone().debug_assert();
            let operations: Vec<_> = only
                .get_subcommands()
                .filter(|sub| {
                    OperationSpec::all()
                        .iter()
                        .any(|o| command_name(o) == sub.get_name())
                })
                .map(|sub| sub.get_name().to_string())
                .collect();
            assert_eq!(operations, [name]);
            // The same arguments parse to the same operation either way.
            let argv = ["shiheng", name];
            let parsed = |cmd: Command| match parse(&cmd.try_get_matches_from(argv).unwrap()) {
                Ok(Invocation::List { op, .. } | Invocation::Call { op, .. }) => op.operation_id,
                _ => "",
            };
            assert_eq!(parsed(only), op.operation_id);
            assert_eq!(parsed(command_for(None)), op.operation_id);
        }
        let not_an_operation: Vec<std::ffi::OsString> = ["shiheng", "check", "--all"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(operation_named(&not_an_operation), None);
        assert_eq!(operation_named(&["shiheng".into()]), None);
    }

    #[test]
    fn names_become_kebab_case() {
        assert_eq!(kebab("pageNum"), "page-num");
        assert_eq!(kebab("startId"), "start-id");
        assert_eq!(kebab("start_id"), "start-id");
        assert_eq!(kebab("cursor"), "cursor");
        assert_eq!(position_option("pageSize"), "param-page-size");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        for bad in ["", "0", "0s", "5x", "s", "-1s", "1.5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
