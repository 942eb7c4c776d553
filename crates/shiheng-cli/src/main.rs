//! `shiheng`: the command-line tool of the Shiheng Open Platform client.
//! This file owns the process: parsing (the command line itself is built
//! from the operation table in `cli`), the credentials (the secret only from
//! the environment or a file, never a flag), the runtime, and the mapping
//! from outcomes to exit codes and the one error line. `listing` and `call`
//! run the spec's operations, `commands` the built-in ones; `spec import`
//! and `spec diff` are the spec tooling's (`shiheng_spec::import`,
//! `shiheng_spec::diff`).

mod call;
mod cli;
mod commands;
mod files;
mod listing;
mod logging;
mod output;
mod progress;
mod signals;
mod table;
mod text;

use std::process::ExitCode;

use secrecy::SecretString;
use shiheng::{ErrorKind, config};
use shiheng_spec::import;

use cli::{Connection, Invocation};

/// Why the tool stopped; each maps to one exit code.
#[derive(Debug)]
pub enum Failure {
    /// A bad argument or a missing setting, found before anything was sent.
    Usage(String),
    /// What the client returned.
    Platform(shiheng::Error),
    /// The output could not be written.
    Output(std::io::Error),
    /// `check` found differences, or `spec diff` something breaking
    /// (already printed).
    Drift(String),
    /// `check --require-all` could not check an operation, or `check` could
    /// check none and the platform reported no error (already printed).
    NotChecked(String),
    /// An item the spec does not describe exactly: with `--strict`, or one
    /// that a csv or table could not hold.
    Undescribed(String),
    /// SIGINT or SIGTERM (the summary is already printed).
    Interrupted,
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Output(_) | Failure::Drift(_) => 1,
            Failure::Undescribed(_) => 5,
            Failure::NotChecked(_) => 6,
            Failure::Interrupted => 130,
            Failure::Platform(e) => match e.kind() {
                ErrorKind::Api => 3,
                ErrorKind::Decode | ErrorKind::UndecodableItem => 5,
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
            Failure::Usage(message)
            | Failure::Drift(message)
            | Failure::NotChecked(message)
            | Failure::Undescribed(message) => f.write_str(message),
            Failure::Platform(e) => f.write_str(&error_line(e)),
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
            Failure::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// An error of the client as one inert line. A business error is rebuilt
/// from its parts so that each platform string is capped on its own: a huge
/// `msg` cannot push the `traceId` off the line.
pub fn error_line(error: &shiheng::Error) -> String {
    if let shiheng::Error::Api {
        operation,
        code,
        msg,
        trace_id,
        status,
    } = error
    {
        let cap = |t: &str| text::inert(t, text::TEXT_CAP).into_owned();
        return format!(
            "{operation}: the platform answered code {}{} (traceId {}, HTTP {})",
            cap(code),
            msg.as_deref()
                .map(|m| format!(" \"{}\"", cap(m)))
                .unwrap_or_default(),
            trace_id.as_deref().map_or_else(|| "unknown".into(), cap),
            status.map_or_else(|| "unknown".into(), |s| s.to_string()),
        );
    }
    text::line(&error.to_string()).into_owned()
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

impl Connection {
    fn credentials(&self) -> Result<Credentials, Failure> {
        let app_id = self.app_id.clone().ok_or_else(|| {
            Failure::Usage("no appId: pass --app-id or set SHIHENG_APP_ID".into())
        })?;
        let secret = match &self.app_secret_file {
            Some(path) => files::read_secret(path).map_err(Failure::Usage)?,
            None => match std::env::var(config::ENV_APP_SECRET) {
                Ok(secret) => secret,
                Err(std::env::VarError::NotPresent) => String::new(),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Failure::Usage(format!(
                        "{} is set but is not UTF-8 text",
                        config::ENV_APP_SECRET
                    )));
                }
            },
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
        let base_url = self.base_url.clone().ok_or_else(|| {
            Failure::Usage("no base URL: pass --base-url or set SHIHENG_BASE_URL".into())
        })?;
        let credentials = self.credentials()?;
        let mut config = shiheng::Config::new(base_url, credentials.app_id, credentials.secret)
            .with_api_version(credentials.api_version);
        if let Some(timeout) = self.timeout {
            config = config.with_timeout(timeout);
        }
        shiheng::Client::new(config).map_err(|e| Failure::Usage(error_line(&e)))
    }
}

async fn run(invocation: Invocation) -> Result<(), Failure> {
    // The settings, the secret (which may come from a FIFO whose writer is
    // slow) and the parameters are read before the signal handlers are
    // installed: until then Ctrl-C and SIGTERM end the process at once.
    let mut client = None;
    let mut credentials = None;
    let mut params = None;
    let mut check_options = None;
    match &invocation {
        Invocation::List { connection, .. } => {
            client = Some(connection.client()?);
        }
        Invocation::Check {
            connection,
            params,
            spec,
            write_spec,
            pages,
            concurrency,
            ..
        } => {
            check_options = Some(commands::check_setup(
                params,
                spec.as_deref(),
                write_spec.as_deref(),
                *pages,
                *concurrency,
            )?);
            client = Some(connection.client()?);
        }
        Invocation::Call {
            op,
            connection,
            param_content,
            ..
        } => {
            params = call::params(op, param_content.as_deref())?;
            client = Some(connection.client()?);
        }
        Invocation::Sign(args) => credentials = Some(args.connection.credentials()?),
        _ => {}
    }
    // Installed before anything is sent, so a signal during a request
    // reaches the command instead of killing the process.
    let mut signals = signals::Signals::install()?;
    let client = || client.as_ref().expect("read above");
    match invocation {
        Invocation::List { op, args, .. } => listing::run(client(), op, args, &mut signals).await,
        Invocation::Call { op, output, .. } => {
            call::run(client(), op, params, output, &mut signals).await
        }
        Invocation::Check { require_all, .. } => {
            let options = check_options.as_ref().expect("read above");
            commands::check(client(), options, require_all).await
        }
        Invocation::Sign(args) => commands::sign(credentials.as_ref().expect("read above"), &args),
        Invocation::Sandbox(args) => commands::sandbox(&args, &mut signals).await,
        Invocation::Demo(args) => commands::demo(&args, &mut signals).await,
        // `spec diff` has printed its report; exit 1 (something breaking)
        // needs no further line.
        Invocation::Spec(args) => match import::run(&args).map_err(Failure::Usage)? {
            0 => Ok(()),
            _ => Err(Failure::Drift(String::new())),
        },
    }
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = cli::command_for(cli::operation_named(&args)).get_matches_from(args);
    logging::init(cli::verbosity(&matches));
    let outcome = cli::parse(&matches).and_then(|invocation| {
        // Client commands decode and write every item in sequence: one
        // thread does it with less overhead. The sandbox (and the demo,
        // which embeds one) serve connections on every core.
        let mut builder = if invocation.is_client() {
            tokio::runtime::Builder::new_current_thread()
        } else {
            tokio::runtime::Builder::new_multi_thread()
        };
        let runtime = builder.enable_all().build().map_err(Failure::Output)?;
        runtime.block_on(run(invocation))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`) is not an error of ours.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        // The differences, or the summary, are already on stderr or stdout.
        Err(failure @ (Failure::Drift(_) | Failure::NotChecked(_) | Failure::Interrupted)) => {
            ExitCode::from(failure.exit_code())
        }
        Err(failure) => {
            eprintln!("shiheng: error: {}", text::line(&failure.to_string()));
            ExitCode::from(failure.exit_code())
        }
    }
}
