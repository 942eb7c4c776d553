//! The built-in commands: `check`, `sign`, `sandbox` and `demo`. Each reads
//! the operation table rather than naming an endpoint.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Value, json};
use shiheng::operation::OperationSpec;
use shiheng::paginate::ListingOptions;
use shiheng::record::DynRecord;
use shiheng::record::{Cell, Field};
use shiheng::sign::{Clock, Md5Signer, SystemClock};
use shiheng::{Client, Config, ErrorKind};
use shiheng_sandbox::{Sandbox, SandboxConfig};
use shiheng_spec::drift::{CheckOptions, CheckOutcome};

use crate::cli::{DemoArgs, SandboxArgs, SignArgs, command_name};
use crate::listing::{Tally, drift_lines, elapsed, summary_line};
use crate::progress::Progress;
use crate::signals::Signals;
use crate::{Credentials, Failure, call, text};

/// 2^53: the largest integer a JSON parser that reads numbers as doubles
/// (JavaScript's) keeps exact.
const TWO_POW_53: i64 = 9_007_199_254_740_992;

/// The `--params OPERATION=JSON` of `check`, each read (JSON or `@file`),
/// completed as the check sends it and checked against the operation's
/// params schema. OPERATION is an operationId or a command name; an unknown
/// one, one given twice, or params that are not JSON or not what the spec
/// describes are a usage error (exit 2) of one line.
pub fn check_options(given: &[String]) -> Result<CheckOptions, Failure> {
    let mut options = CheckOptions::new();
    for given in given {
        let Some((name, json)) = given.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--params {}: not OPERATION=JSON",
                text::inert(given, 80)
            )));
        };
        let name = name.trim();
        let Some(op) = OperationSpec::all()
            .iter()
            .copied()
            .find(|op| op.operation_id == name || command_name(op) == name)
        else {
            let known: Vec<&str> = OperationSpec::all()
                .iter()
                .map(|op| op.operation_id)
                .collect();
            return Err(Failure::Usage(format!(
                "--params: {} is not an operation of the spec (one of {}, or its command)",
                text::inert(name, 80),
                known.join(", ")
            )));
        };
        if options.params.contains_key(op.operation_id) {
            return Err(Failure::Usage(format!(
                "--params {} is given twice",
                op.operation_id
            )));
        }
        let flag = format!("--params {name}");
        let value = call::read_params(op, json, &flag, |value| {
            shiheng_spec::drift::complete_first_page(op, value)
        })?;
        options = options.with_params(op.operation_id, value);
    }
    Ok(options)
}

/// The spec file `--write-spec` amends when `--spec` is not given.
pub const SPEC_FILE: &str = "spec/shiheng-open.yaml";

/// What `check` runs with: its options, and the spec file it compares with
/// and amends.
pub struct CheckSetup {
    /// The params, the spec and the pages.
    pub options: CheckOptions,
    /// `--spec` (or, for `--write-spec` without it, [`SPEC_FILE`]) and its text.
    pub source: Option<(PathBuf, String)>,
    /// `--write-spec`.
    pub write_spec: Option<PathBuf>,
}

/// Reads what `check` needs before anything is sent: the `--params`
/// ([`check_options`]), the spec file to compare with (`--spec`, or
/// [`SPEC_FILE`] when `--write-spec` is given without it: the patch is
/// made from the document the answers were compared with), and the pages.
/// A spec that cannot be read or parsed is a usage error.
pub fn check_setup(
    params: &[String],
    spec: Option<&Path>,
    write_spec: Option<&Path>,
    pages: usize,
    concurrency: Option<usize>,
) -> Result<CheckSetup, Failure> {
    let mut options = check_options(params)?.with_pages(pages);
    if let Some(concurrency) = concurrency {
        options = options.with_concurrency(concurrency);
    }
    let path = match (spec, write_spec) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(_)) => {
            let path = PathBuf::from(SPEC_FILE);
            if !path.is_file() {
                return Err(Failure::Usage(format!(
                    "--write-spec needs the spec file to amend: give --spec FILE \
                     ({SPEC_FILE} is not in this directory)"
                )));
            }
            Some(path)
        }
        (None, None) => None,
    };
    let source = match path {
        Some(path) => {
            let text = crate::files::read_input(&path)
                .map_err(|e| Failure::Usage(format!("--spec {}: {e}", path.display())))?;
            let doc = shiheng_spec::patch::parse(&text).map_err(|e| {
                Failure::Usage(format!(
                    "--spec {}: {}",
                    path.display(),
                    text::inert(&e, 200)
                ))
            })?;
            if !doc.is_object() || doc.get("paths").is_none() {
                return Err(Failure::Usage(format!(
                    "--spec {}: not an OpenAPI document (no `paths`)",
                    path.display()
                )));
            }
            // Compared in the form the build gives it (inline schemas named
            // after their operation, chains followed, allOf merged).
            let mut doc = doc;
            shiheng_spec::normalize::normalize(&mut doc).map_err(|e| {
                Failure::Usage(format!("--spec {}: {}: {}", path.display(), e.at, e.what))
            })?;
            options = options.with_spec(doc);
            Some((path, text))
        }
        None => None,
    };
    Ok(CheckSetup {
        options,
        source,
        write_spec: write_spec.map(Path::to_path_buf),
    })
}

/// Why `check` could not check an operation, on one line.
fn not_checked_reason(op: &OperationSpec, outcome: &CheckOutcome) -> String {
    let hint = format!(
        "give its paramContent with --params {}=JSON",
        command_name(op)
    );
    match outcome {
        CheckOutcome::Skipped { reason } => format!("{reason}; {hint}"),
        CheckOutcome::Refused {
            error,
            params,
            given,
        } => {
            let sent = params
                .as_ref()
                .map_or_else(|| "no paramContent".to_string(), Value::to_string);
            if *given {
                format!(
                    "{} to the params given with --params ({sent})",
                    crate::error_line(error)
                )
            } else {
                format!(
                    "{} to the params invented from the spec ({sent}); {hint}",
                    crate::error_line(error)
                )
            }
        }
        CheckOutcome::Failed { error } => crate::error_line(error),
        _ => "not checked".to_string(),
    }
}

/// `shiheng check`: one line per difference between the live answers and
/// the spec, one per operation that could not be checked (`not checked:`
/// and the reason), then a summary naming the operations checked and the
/// spec's version and hash. Exit 1 on drift; an operation not checked is
/// not drift: exit 6 for it only with `require_all`, or when none could be
/// checked and the platform reported no error (when it did, the library
/// returns that error: exit 3 or 4).
pub async fn check(client: &Client, setup: &CheckSetup, require_all: bool) -> Result<(), Failure> {
    // Over hundreds of operations a person sees how far it got; the bar
    // is gone before the report prints.
    let progress = Progress::counting(OperationSpec::all().len(), "operations checked");
    let options = match progress.bar() {
        Some(bar) => setup.options.clone().with_progress(move |_| bar.inc(1)),
        None => setup.options.clone(),
    };
    let report = shiheng_spec::drift::check_with(client, &options).await;
    progress.clear();
    let report = report?;
    let mut out = io::stdout().lock();
    let mut checked = Vec::new();
    let mut not_checked = 0u64;
    for o in &report.operations {
        if o.outcome.is_checked() {
            checked.push(o.operation.as_str());
            continue;
        }
        not_checked += 1;
        let reason = match OperationSpec::all()
            .iter()
            .find(|op| op.operation_id == o.operation)
        {
            Some(op) => not_checked_reason(op, &o.outcome),
            None => "not in the operation table".to_string(),
        };
        writeln!(
            out,
            "{}",
            text::line(&format!(
                "{} (POST {}): not checked: {reason}",
                o.operation, o.path
            ))
        )?;
    }
    for drift in &report.drifts {
        writeln!(out, "{}", text::line(&drift.to_string()))?;
    }
    let against = match (&setup.source, report.spec_sha256) {
        (Some((path, _)), _) => format!(
            "{} (spec {})",
            text::inert(&path.display().to_string(), 200),
            text::inert(&report.spec_version, 80)
        ),
        (None, Some(sha)) => format!(
            "spec {} (sha256 {})",
            report.spec_version,
            &sha[..sha.len().min(12)]
        ),
        (None, None) => format!("spec {}", report.spec_version),
    };
    if let (Some(target), Some((path, original))) = (&setup.write_spec, &setup.source) {
        write_spec(&mut out, &report, path, original, target)?;
    }
    let operations = format!(
        "{} ({})",
        text::count(checked.len() as u64, "operation", "operations"),
        checked.join(", ")
    );
    let unchecked = if not_checked > 0 {
        format!(
            "; {} not checked (above)",
            text::count(not_checked, "operation", "operations")
        )
    } else {
        String::new()
    };
    if report.has_drift() {
        writeln!(
            out,
            "drift: {} from {against} in {operations}: edit spec/ and regenerate{unchecked}",
            text::count(report.drifts.len() as u64, "difference", "differences"),
        )?;
        out.flush()?;
        return Err(Failure::Drift("drift".into()));
    }
    if checked.is_empty() {
        writeln!(
            out,
            "nothing checked against {against}{unchecked}: give params with --params OPERATION=JSON"
        )?;
        out.flush()?;
        return Err(Failure::NotChecked("nothing checked".into()));
    }
    writeln!(
        out,
        "no drift: {operations} answer as {against} says{unchecked}"
    )?;
    if require_all && not_checked > 0 {
        out.flush()?;
        return Err(Failure::NotChecked("not every operation checked".into()));
    }
    Ok(())
}

/// `--write-spec`: the spec at `path` amended with the answers of `report`,
/// written to `target` (safely: through a partial file renamed over it),
/// then one line per change and per difference left for a person.
fn write_spec(
    out: &mut impl Write,
    report: &shiheng_spec::drift::DriftReport,
    path: &Path,
    original: &str,
    target: &Path,
) -> Result<(), Failure> {
    let answers = shiheng_spec::patch::answers(report);
    let patch = shiheng_spec::patch::amend(original, &answers, &shiheng_spec::patch::today())
        .map_err(|e| Failure::Usage(format!("--write-spec: {e}")))?;
    shiheng_spec::files::replace(
        target,
        patch.text.as_bytes(),
        ".partial",
        shiheng_spec::files::NEW_SOURCE_MODE,
    )
    .map_err(Failure::Output)?;
    let shown = text::inert(&target.display().to_string(), 200).into_owned();
    if patch.changed() {
        writeln!(
            out,
            "wrote {shown}: {} amended with {} from the answers; see what it changes with `shiheng spec diff {} {shown}`",
            text::inert(&path.display().to_string(), 200),
            text::count(patch.changes.len() as u64, "change", "changes"),
            text::inert(&path.display().to_string(), 200),
        )?;
    } else {
        writeln!(
            out,
            "wrote {shown}: {} unchanged (nothing in the answers to add)",
            text::inert(&path.display().to_string(), 200)
        )?;
    }
    for change in &patch.changes {
        writeln!(out, "{}", text::line(&format!("  + {change}")))?;
    }
    for left in &patch.left {
        writeln!(
            out,
            "{}",
            text::line(&format!("  left for a person: {left}"))
        )?;
    }
    Ok(())
}

/// `shiheng sign`: what an integrator compares with their own code when the
/// platform answers "invalid sign".
/// `--param-content` as JSON or `@file.json` is read as text and signed
/// from that text ([`Md5Signer::sign_json_text`]), and the envelope printed
/// holds it in canonical form: a number is never rewritten
/// (`18446744073709551616` stays, `-0` is `0` as the rule says).
pub fn sign(credentials: &Credentials, args: &SignArgs) -> Result<(), Failure> {
    let text = match args.param_content.as_deref() {
        Some(given) => Some(match given.strip_prefix('@') {
            Some(path) => crate::files::read_input(Path::new(path))
                .map_err(|e| Failure::Usage(format!("--param-content file {path}: {e}")))?,
            None => given.to_string(),
        }),
        None => None,
    };
    let timestamp = args.timestamp.unwrap_or_else(|| SystemClock.now_millis());
    let signature = Md5Signer::new()
        .sign_json_text(
            &credentials.app_id,
            timestamp,
            &credentials.api_version,
            text.as_deref(),
            &credentials.secret,
        )
        .map_err(|e| Failure::Usage(format!("--param-content is not JSON: {e}")))?;
    let canonical = text
        .as_deref()
        .map(shiheng::sign::canonical_json_text)
        .transpose()
        .map_err(|e| Failure::Usage(format!("--param-content is not JSON: {e}")))?;
    let mut envelope = json!({
        "appId": credentials.app_id,
        "sign": signature.sign,
        "version": credentials.api_version,
        "timestamp": timestamp,
    })
    .to_string();
    if let Some(canonical) = canonical {
        // Spliced in as text: a Value would turn a 20-digit integer into a double.
        envelope.pop();
        envelope.push_str(",\"paramContent\":");
        envelope.push_str(&canonical);
        envelope.push('}');
    }
    let mut out = io::stdout().lock();
    writeln!(out, "string to sign: {}****", signature.string_to_sign)?;
    writeln!(
        out,
        "                (**** is the app secret, appended with no separator)"
    )?;
    writeln!(out, "sign: {}", signature.sign)?;
    writeln!(out, "envelope: {envelope}")?;
    Ok(())
}

/// `shiheng sandbox`: serves until SIGINT or SIGTERM, then prints what it served.
pub async fn sandbox(args: &SandboxArgs, signals: &mut Signals) -> Result<(), Failure> {
    // Every request would fail with these: refused before listening.
    for (flag, value) in [
        ("--app-id (SHIHENG_SANDBOX_APP_ID)", &args.app_id),
        (
            "--api-version (SHIHENG_SANDBOX_API_VERSION)",
            &args.api_version,
        ),
    ] {
        if value.trim().is_empty() {
            return Err(Failure::Usage(format!("{flag} must not be empty")));
        }
    }
    let mut config = SandboxConfig::default()
        .with_credentials(&args.app_id, &args.app_secret)
        .with_api_version(&args.api_version)
        .with_seed(args.seed)
        .with_latency(args.latency)
        .with_faults(args.fail_rate, args.faults)
        .with_slow_fault_delay(args.slow_fault)
        .with_drift(args.drift);
    for (operation_id, count) in &args.item_counts {
        config = config.with_item_count(*operation_id, *count);
    }
    if let Some(dir) = &args.data {
        config = config
            .with_data_dir(dir)
            .map_err(|e| Failure::Usage(format!("--data: {e}")))?;
    }
    let sandbox = Sandbox::bind(config, args.listen).await.map_err(|e| {
        // Bad data or an unknown operation, not a port problem.
        if e.kind() == io::ErrorKind::InvalidInput {
            Failure::Usage(e.to_string())
        } else {
            Failure::Usage(format!("cannot listen on {}: {e}", args.listen))
        }
    })?;
    let url = sandbox.url();
    let served: Vec<&str> = OperationSpec::all()
        .iter()
        .map(|op| command_name(op))
        .collect();
    // Every value here is the sandbox's own (its flags or SHIHENG_SANDBOX_*
    // variables), so the lines can be pasted as they are. Printing the
    // sandbox's secret is the point; the tool never prints a secret it signs with.
    let banner = format!(
        "shiheng sandbox listening on {url}\n  export SHIHENG_BASE_URL={url}\n  export SHIHENG_APP_ID={}\n  export SHIHENG_APP_SECRET={}\nserving: {}\nPress Ctrl-C to stop.\n",
        args.app_id,
        args.app_secret,
        served.join(", ")
    );
    // A closed stdout (a supervisor that read the URL and went away) must
    // not stop the server: the banner is best effort.
    let mut out = io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    drop(out);
    let signal = signals.wait().await;
    let (served, faults) = (sandbox.requests(), sandbox.faults_injected());
    sandbox.shutdown().await;
    eprintln!("sandbox stopped by {signal} after {served} requests; injected {faults}");
    Ok(())
}

/// `shiheng demo`: every paginated operation of an embedded sandbox, listed
/// through the real signed client over HTTP, with a summary of each.
pub async fn demo(args: &DemoArgs, signals: &mut Signals) -> Result<(), Failure> {
    let config = SandboxConfig::default().with_latency(args.latency);
    let (app_id, secret) = (config.app_id.clone(), config.app_secret.clone());
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| Failure::Usage(format!("cannot start the embedded sandbox: {e}")))?;
    println!(
        "shiheng demo: embedded sandbox at {} (appId {app_id}); listing every paginated operation through the signed client",
        sandbox.url()
    );
    let outcome = match Client::new(Config::new(sandbox.url(), app_id, secret)) {
        Ok(client) => demo_listings(&sandbox, &client, args, signals).await,
        Err(e) => Err(e.into()),
    };
    sandbox.shutdown().await;
    outcome
}

async fn demo_listings(
    sandbox: &Sandbox,
    client: &Client,
    args: &DemoArgs,
    signals: &mut Signals,
) -> Result<(), Failure> {
    for op in OperationSpec::all() {
        let Some(pagination) = &op.pagination else {
            continue;
        };
        let concurrency = match crate::cli::concurrency_of(pagination.style) {
            Some(_) => args.concurrency,
            None => 1,
        };
        let options = ListingOptions::new().concurrency(concurrency);
        let Some(mut items) = shiheng::dynamic::of(op).list(client, options) else {
            continue;
        };
        let (requests_before, started) = (sandbox.requests(), Instant::now());
        let mut tally =
            Distribution::new(shiheng::dynamic::of(op).item_fields(), pagination.item_id);
        let progress = Progress::new();
        loop {
            let next = tokio::select! {
                biased;
                signal = signals.wait() => {
                    progress.clear();
                    eprintln!("shiheng: interrupted by {signal}");
                    return Err(Failure::Interrupted);
                }
                next = items.next() => next,
            };
            match next {
                None => break,
                Some(Ok(item)) => tally.add(&*item),
                Some(Err(e)) if e.kind() == ErrorKind::UndecodableItem => {
                    progress.warn(&crate::error_line(&e));
                }
                Some(Err(e)) => {
                    progress.clear();
                    return Err(e.into());
                }
            }
            progress.item(items.summary_ref());
        }
        progress.clear();
        let items_listed = items.summary_ref().items;
        let summary = Tally::from(items.summary_ref());
        let reported = summary
            .reported_total()
            .map(|t| format!("; the platform reports {t} items"))
            .unwrap_or_default();
        println!(
            "{} ({}): {}",
            command_name(op),
            op.operation_id,
            summary_line(items_listed, &summary, true)
        );
        println!(
            "  requests: {} served by the sandbox in {}{reported}",
            sandbox.requests() - requests_before,
            elapsed(started.elapsed())
        );
        tally.print();
        for line in drift_lines(&summary) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The values of an operation's fields that have documented values, and
/// its largest id.
struct Distribution {
    fields: Vec<(&'static Field, BTreeMap<String, u64>)>,
    id_field: &'static str,
    largest_id: Option<i64>,
}

impl Distribution {
    fn new(fields: &'static [Field], id_field: &'static str) -> Self {
        Self {
            fields: fields
                .iter()
                .filter(|f| !f.known.is_empty())
                .map(|f| (f, BTreeMap::new()))
                .collect(),
            id_field,
            largest_id: None,
        }
    }

    fn add(&mut self, item: &dyn DynRecord) {
        for (field, counts) in &mut self.fields {
            // The known values are JSON text (`6`, `"1"`): so is the key.
            let key = match item.get(field.name) {
                None => "null".to_string(),
                Some(Cell::Text(text)) => Value::from(text.as_ref()).to_string(),
                Some(cell) => cell.to_string(),
            };
            *counts.entry(key).or_default() += 1;
        }
        let id = item.get(self.id_field).and_then(|c| c.as_i64());
        self.largest_id = self.largest_id.max(id);
    }

    fn print(&self) {
        for (field, counts) in &self.fields {
            // Documented values first, in the spec's order; then the others.
            let mut shown: Vec<String> = field
                .known
                .iter()
                .filter_map(|k| counts.get(*k).map(|n| format!("{k} ×{n}")))
                .collect();
            // Absent or null is no value, not an undocumented one.
            shown.extend(
                counts
                    .iter()
                    .filter(|(k, _)| k.as_str() == "null")
                    .map(|(_, n)| format!("null ×{n}")),
            );
            shown.extend(
                counts
                    .iter()
                    .filter(|(k, _)| k.as_str() != "null" && !field.known.contains(&k.as_str()))
                    .map(|(k, n)| format!("{} ×{n} (not in the spec)", text::inert(k, 40))),
            );
            println!("  {}: {}", field.name, shown.join(", "));
        }
        if let Some(id) = self.largest_id {
            let note = if id > TWO_POW_53 {
                "above 2^53 = 9007199254740992: kept exact"
            } else {
                "within 2^53"
            };
            println!("  largest {}: {id} ({note})", self.id_field);
        }
    }
}
