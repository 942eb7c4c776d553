//! What each command does, once its arguments are parsed: listings written
//! item by item as the stream yields them, `check`, `sign`, `sandbox` and `demo`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use shiheng::operations::ListWecomEmployees;
use shiheng::paginate::{CursorOperation, CursorRequest, Items, PageNumberOperation};
use shiheng::sandbox::{Sandbox, SandboxConfig};
use shiheng::sign::{Clock, Md5Signer, SignInput, Signer, SystemClock};
use shiheng::{Client, Config};

use super::{
    Credentials, CursorArgs, DemoArgs, EmployeesArgs, Failure, OutputArgs, SandboxArgs, SignArgs,
};
use crate::output::{ItemWriter, Row};

/// `shiheng employees`: one page, or with `--all` every page from `--page`.
pub async fn employees(client: &Client, args: &EmployeesArgs) -> Result<(), Failure> {
    let request = client
        .list_wecom_employees()
        .page(args.page)
        .page_size(args.page_size)
        .concurrency(usize::from(args.concurrency));
    if args.all {
        return write_listing(request.stream(), &args.output, "employees").await;
    }
    let page = request.send().await?;
    let (pages, total) = (page.pages, page.total);
    let items = <ListWecomEmployees as PageNumberOperation>::into_items(page);
    write_page(items, &args.output)?;
    eprintln!(
        "page {} of {} ({} employees in total)",
        args.page,
        text_or_unknown(pages),
        text_or_unknown(total)
    );
    Ok(())
}

/// `shiheng customers` and `shiheng group-chats`: one page from
/// `--start-id`, or with `--all` every page from there.
pub async fn cursor_listing<Op>(
    request: CursorRequest<Op>,
    args: &CursorArgs,
) -> Result<(), Failure>
where
    Op: CursorOperation,
    Op::Item: Row,
{
    let request = request.start_id(args.start_id).page_size(args.page_size);
    if args.all {
        return write_listing(request.stream(), &args.output, "items").await;
    }
    let page = request.send().await?;
    let next = Op::next_cursor(&page);
    write_page(Op::into_items(page), &args.output)?;
    match next {
        Some(next) => eprintln!("more after this page: --start-id {next}"),
        None => eprintln!("this was the last page"),
    }
    Ok(())
}

fn text_or_unknown(value: Option<i64>) -> String {
    value.map_or_else(|| "unknown".to_string(), |v| v.to_string())
}

fn open_output(output: &OutputArgs) -> Result<Box<dyn Write>, Failure> {
    Ok(match &output.output {
        Some(path) => {
            let file = File::create(path).map_err(|e| {
                Failure::Output(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
            })?;
            Box::new(BufWriter::new(file))
        }
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

fn write_page<T: Row>(items: Vec<T>, output: &OutputArgs) -> Result<(), Failure> {
    let mut writer = ItemWriter::new::<T>(output.format, open_output(output)?);
    for item in &items {
        writer.write(item)?;
    }
    writer.finish::<T>()?;
    Ok(())
}

/// Writes a listing as it arrives: nothing is collected, so memory stays flat
/// however many items there are.
async fn write_listing<T: Row>(
    mut items: Items<T>,
    output: &OutputArgs,
    noun: &str,
) -> Result<(), Failure> {
    let mut writer = ItemWriter::new::<T>(output.format, open_output(output)?);
    let bar = progress_bar();
    let outcome = loop {
        // Flush whenever the next item is not ready yet: what has arrived is
        // visible while the next page is on its way, and writes stay batched.
        let next = match items.next().now_or_never() {
            Some(next) => next,
            None => match writer.flush() {
                Ok(()) => items.next().await,
                Err(e) => break Err(Failure::from(e)),
            },
        };
        match next {
            None => break Ok(()),
            Some(Err(e)) => break Err(Failure::from(e)),
            Some(Ok(item)) => {
                if let Err(e) = writer.write(&item) {
                    break Err(Failure::from(e));
                }
                track(&bar, &items);
            }
        }
    };
    bar.finish_and_clear();
    // What arrived before a failure is still written out.
    let finished = writer.finish::<T>();
    outcome?;
    finished?;
    let summary = items.summary();
    eprintln!(
        "{} {noun} in {} pages ({} duplicates dropped)",
        summary.items, summary.pages, summary.duplicates_dropped
    );
    if summary.totals_disagree() {
        eprintln!(
            "warning: the data changed during the listing (total {} at the start, {} at the end): items may be missing; list again",
            text_or_unknown(summary.first_total),
            text_or_unknown(summary.last_total)
        );
    }
    Ok(())
}

/// A progress bar on stderr when a person is watching it; hidden otherwise,
/// so logs and pipes get no control characters. It starts as a spinner and
/// becomes a bar once the listing reports its total (page-number listings).
fn progress_bar() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} items, {per_sec}, {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn track<T>(bar: &ProgressBar, items: &Items<T>) {
    bar.inc(1);
    if bar.length().is_none()
        && !bar.is_hidden()
        && let Some(total) = items.summary().last_total
    {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} items, {per_sec}, eta {eta}")
        {
            bar.set_style(style);
        }
    }
}

/// `shiheng check`: one line per difference between the live answers and
/// the spec, one per operation skipped or failed, then a summary naming the
/// spec's version and hash. Exit 1 on drift; a failure of every operation is
/// the first failure's exit code (3, 4, ...).
pub async fn check(client: &Client) -> Result<(), Failure> {
    let report = shiheng::drift::check(client).await?;
    let mut out = io::stdout().lock();
    for drift in &report.drifts {
        writeln!(out, "{drift}")?;
    }
    for operation in &report.operations {
        match &operation.outcome {
            shiheng::drift::CheckOutcome::Skipped { reason } => {
                writeln!(out, "skipped {}: {reason}", operation.operation)?;
            }
            shiheng::drift::CheckOutcome::Failed { error } => {
                writeln!(out, "failed {}: {error}", operation.operation)?;
            }
            _ => {}
        }
    }
    let checked: Vec<&str> = report
        .checked()
        .iter()
        .map(|o| o.operation.as_str())
        .collect();
    let against = format!(
        "spec {} (sha256 {})",
        report.spec_version,
        &report.spec_sha256[..report.spec_sha256.len().min(12)]
    );
    if report.has_drift() {
        writeln!(
            out,
            "drift: {} differences from {against} in {} operations ({}): edit spec/ and regenerate",
            report.drifts.len(),
            checked.len(),
            checked.join(", ")
        )?;
        out.flush()?;
        return Err(Failure::Drift(report.drifts.len()));
    }
    writeln!(
        out,
        "no drift: {} operations ({}) answer as {against} says",
        checked.len(),
        checked.join(", ")
    )?;
    Ok(())
}

/// `shiheng sign`: what an integrator compares with their own code when the
/// platform answers "invalid sign".
pub fn sign(credentials: &Credentials, args: &SignArgs) -> Result<(), Failure> {
    let params: Option<Value> = match &args.param_content {
        Some(text) => Some(
            serde_json::from_str(text)
                .map_err(|e| Failure::Usage(format!("--param-content is not JSON: {e}")))?,
        ),
        None => None,
    };
    let timestamp = args.timestamp.unwrap_or_else(|| SystemClock.now_millis());
    let signature = Md5Signer::new().sign(
        &SignInput {
            app_id: &credentials.app_id,
            timestamp,
            version: &credentials.api_version,
            param_content: params.as_ref(),
        },
        &credentials.secret,
    );
    let mut envelope = json!({
        "appId": credentials.app_id,
        "sign": signature.sign,
        "version": credentials.api_version,
        "timestamp": timestamp,
    });
    if let Some(params) = params {
        envelope["paramContent"] = params;
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

/// `shiheng sandbox`: serves until Ctrl-C.
pub async fn sandbox(
    app_id: Option<&str>,
    api_version: &str,
    args: &SandboxArgs,
) -> Result<(), Failure> {
    let mut config = SandboxConfig {
        app_id: app_id.unwrap_or("demo-app").to_string(),
        app_secret: args.app_secret.clone(),
        api_version: api_version.to_string(),
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        faults: args.faults,
        slow_fault_delay: Duration::from_millis(args.slow_fault_ms),
        drift: args.drift,
        ..SandboxConfig::default()
    };
    for (operation_id, count) in &args.item_counts {
        config = config.with_item_count(operation_id.clone(), *count);
    }
    if let Some(dir) = &args.data {
        config = config
            .with_data_dir(dir)
            .map_err(|e| Failure::Usage(format!("--data: {e}")))?;
    }
    let app_id = config.app_id.clone();
    let sandbox = Sandbox::bind(config, args.listen).await.map_err(|e| {
        // Bad data or an unknown operation, not a port problem.
        if e.kind() == io::ErrorKind::InvalidInput {
            Failure::Usage(e.to_string())
        } else {
            Failure::Usage(format!("cannot listen on {}: {e}", args.listen))
        }
    })?;
    // A closed stdout (a supervisor that read the URL and went away) must
    // not stop the server: the banner is best effort.
    let url = sandbox.url();
    let banner = format!(
        "shiheng sandbox listening on {url}\n  export SHIHENG_BASE_URL={url}\n  export SHIHENG_APP_ID={app_id}\n  export SHIHENG_APP_SECRET={}\nPress Ctrl-C to stop.\n",
        // The sandbox's own secret, chosen on this command line: printing it
        // is the point. The tool never prints a secret it signs with.
        args.app_secret
    );
    let mut out = io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    drop(out);
    if let Err(e) = stop_signal().await {
        eprintln!("shiheng: cannot wait for Ctrl-C or SIGTERM ({e}); stopping");
    }
    let (served, faults) = (sandbox.requests(), sandbox.faults_injected());
    sandbox.shutdown().await;
    eprintln!("sandbox stopped after {served} requests; injected {faults}");
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (what supervisors and
/// `docker stop` send), so both stop the sandbox with its summary.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// `shiheng demo`: every employee of an embedded sandbox, through the real
/// signed client over HTTP, then a summary.
pub async fn demo(args: &DemoArgs) -> Result<(), Failure> {
    let config = SandboxConfig {
        latency: Duration::from_millis(args.latency_ms),
        ..SandboxConfig::default()
    }
    .with_item_count(
        shiheng::operations::LIST_WECOM_EMPLOYEES.operation_id,
        args.employees,
    );
    let (app_id, secret) = (config.app_id.clone(), config.app_secret.clone());
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| Failure::Usage(format!("cannot start the embedded sandbox: {e}")))?;
    println!(
        "shiheng demo: embedded sandbox at {} (appId {app_id}); listing every employee through the signed client",
        sandbox.url()
    );
    let outcome = demo_listing(&sandbox, Config::new(sandbox.url(), app_id, secret), args).await;
    sandbox.shutdown().await;
    outcome
}

async fn demo_listing(sandbox: &Sandbox, config: Config, args: &DemoArgs) -> Result<(), Failure> {
    let client = Client::new(config)?;
    let started = Instant::now();
    let bar = progress_bar();
    let mut items = client
        .list_wecom_employees()
        .concurrency(usize::from(args.concurrency))
        .stream();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut largest_id = None;
    while let Some(item) = items.next().await {
        let item = item?;
        let status = item
            .status
            .map_or_else(|| "null".to_string(), |s| s.to_string());
        *statuses.entry(status).or_default() += 1;
        largest_id = largest_id.max(item.id);
        track(&bar, &items);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let summary = items.summary();
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
    println!(
        "employees:  {} (the platform reports {})",
        summary.items,
        text_or_unknown(summary.last_total)
    );
    println!(
        "pages:      {} of {} items, {} at once",
        summary.pages,
        <ListWecomEmployees as PageNumberOperation>::PAGE_SIZE.max,
        args.concurrency
    );
    println!("requests:   {} served by the sandbox", sandbox.requests());
    println!("time:       {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    println!("duplicates: {} dropped", summary.duplicates_dropped);
    if !statuses.is_empty() {
        println!("statuses:   {}", statuses.join(", "));
    }
    if let Some(id) = largest_id {
        println!("largest id: {id} (above 2^53 = 9007199254740992: kept exact)");
    }
    Ok(())
}
