//! The commands of operations without pagination: `--param-content` read
//! (JSON, or `@file.json`), checked against the spec's params schema before
//! anything is sent, the operation called once, and its `result` printed as
//! JSON.

use std::path::PathBuf;

use serde_json::Value;
use shiheng::Client;
use shiheng::operation::OperationSpec;

use crate::Failure;
use crate::output::Sink;
use crate::signals::Signals;
use crate::text;

/// The `paramContent` to send: `--param-content` parsed and checked against
/// the operation's params schema; a usage error (exit 2) names what differs.
pub fn params(op: &OperationSpec, given: Option<&str>) -> Result<Option<Value>, Failure> {
    let Some(given) = given else {
        if op.params_required {
            return Err(Failure::Usage(format!(
                "{} needs --param-content (a JSON object: {})",
                op.cli_command,
                op.params_schema.unwrap_or("see the spec")
            )));
        }
        return Ok(None);
    };
    read_params(op, given, "--param-content", |value| value).map(Some)
}

/// `given` (JSON, or `@file`) read as `op`'s `paramContent` for the option
/// `flag`, passed through `complete` (which may add what the command adds
/// itself), and checked against the operation's params schema; every
/// problem is a usage error of one line naming `flag`.
pub fn read_params(
    op: &OperationSpec,
    given: &str,
    flag: &str,
    complete: impl FnOnce(Value) -> Value,
) -> Result<Value, Failure> {
    let Some(schema) = op.params_schema else {
        return Err(Failure::Usage(format!(
            "{} takes no {flag}",
            op.cli_command
        )));
    };
    let text = match given.strip_prefix('@') {
        Some(path) => crate::files::read_input(std::path::Path::new(path))
            .map_err(|e| Failure::Usage(format!("{flag} file {path}: {e}")))?,
        None => given.to_string(),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("{flag} is not JSON: {e}")))?;
    sendable_exactly(&text, &value)
        .map_err(|e| Failure::Usage(e.replace("--param-content", flag)))?;
    let value = complete(value);
    let differences = shiheng_spec::drift::compare(op.operation_id, schema, &value);
    if !differences.is_empty() {
        let listed: Vec<String> = differences
            .iter()
            .map(|d| {
                let at = if d.path.is_empty() {
                    "(the whole value)"
                } else {
                    &d.path
                };
                format!("{at}: {}", d.detail)
            })
            .collect();
        return Err(Failure::Usage(format!(
            "{flag} does not match the spec's {schema}: {}",
            listed.join("; ")
        )));
    }
    Ok(value)
}

/// The client sends `paramContent` as a [`Value`], which holds an integer
/// beyond 64 bits as a double: such a parameter (or a repeated key) is
/// refused rather than sent and signed with other digits than given.
fn sendable_exactly(text: &str, value: &Value) -> Result<(), String> {
    let given = shiheng::sign::canonical_json_text(text)
        .map_err(|e| format!("--param-content is not JSON: {e}"))?;
    if shiheng::sign::canonical_json_text(&value.to_string()).ok() != Some(given) {
        return Err(
            "--param-content holds a number the client cannot send exactly (an integer \
             beyond 64 bits): refused rather than sent with other digits"
                .into(),
        );
    }
    Ok(())
}

/// Calls `op` once and writes its `result` as JSON.
pub async fn run(
    client: &Client,
    op: &'static OperationSpec,
    params: Option<Value>,
    output: Option<PathBuf>,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let sink = Sink::open(output.as_deref(), signals).await?;
    let reply = tokio::select! {
        biased;
        signal = signals.wait() => {
            sink.abandon();
            eprintln!("shiheng: interrupted by {signal} before the answer arrived; nothing was written");
            return Err(Failure::Interrupted);
        }
        reply = shiheng::dynamic::of(op).call(client, params) => reply,
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            sink.abandon();
            return Err(e.into());
        }
    };
    let mut json = serde_json::to_vec_pretty(&reply.payload)
        .map_err(|e| Failure::Output(std::io::Error::other(e)))?;
    json.push(b'\n');
    let mut sink = sink;
    sink.write_all(&json)?;
    sink.commit()?;
    eprintln!(
        "{}: done (traceId {}, HTTP {})",
        op.operation_id,
        text::inert(
            reply.trace_id.as_deref().unwrap_or("unknown"),
            text::TEXT_CAP
        ),
        reply.status
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_the_client_cannot_send_exactly_are_refused() {
        let check = |text: &str| sendable_exactly(text, &serde_json::from_str(text).unwrap());
        assert!(check(r#"{"a":9223372036854775807,"b":-0,"c":"x"}"#).is_ok());
        assert!(check(r#"{"a":18446744073709551615}"#).is_ok());
        let refused = check(r#"{"a":18446744073709551616}"#).unwrap_err();
        assert!(refused.contains("beyond 64 bits"), "{refused}");
        assert!(check(r#"{"a":1,"a":2}"#).unwrap_err().contains("repeated"));
    }
}
