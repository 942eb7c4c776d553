//! One call of any operation, generically: build the request envelope, send
//! it through the generated client's hooks (signing, retries, rate limit,
//! size limit, tracing), and decode the answer envelope in one pass. Owns the
//! mapping of an answer to a [`Reply`] or an [`Error`]: an envelope whose
//! `code` is not "0" is [`Error::Api`] whatever the HTTP status, `code` "0"
//! without a `result` is [`Error::Decode`], anything else that is not an
//! envelope is [`Error::Http`] or [`Error::Decode`] with the status.
//!
//! [`CallRequest`] is the typed call of an operation without pagination;
//! the paginators (`crate::paginate`) use `exchange` and `decode` with
//! their own page seed.

use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::client::Client;
use crate::error::{self, Error, Reply, snippet};
use crate::operation::{Operation, OperationSpec};
use crate::record::{FieldSeed, Observed, observe};

/// What came back: the HTTP status, `Retry-After` and the whole body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Bytes,
}

/// Sends one signed request envelope for `op` with `param_content`.
pub(crate) async fn exchange(
    client: &Client,
    op: &'static OperationSpec,
    param_content: Option<&Value>,
) -> Result<Answer, Error> {
    let operation = op.operation_id;
    let mut envelope = serde_json::Map::new();
    if let Some(params) = param_content {
        envelope.insert("paramContent".into(), params.clone());
    }
    let body = Value::Object(envelope).to_string();
    let raw = client.generated();
    let info = OperationInfo {
        operation_id: op.method,
    };
    let mut request = raw
        .client()
        .post(format!("{}{}", raw.baseurl(), op.path))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .build()
        .map_err(|e| error::transport(operation, e))?;
    if let Err(e) = raw.pre::<()>(&mut request, &info).await {
        return Err(error::from_progenitor(operation, e).await);
    }
    let response = raw
        .exec(request, &info)
        .await
        .map_err(|e| error::transport(operation, e))?;
    if let Some(hook) = crate::middleware::hook_error(&response, operation) {
        return Err(Error::from(progenitor_client::Error::<()>::Custom(
            hook.to_message(),
        )));
    }
    let status = response.status().as_u16();
    let retry_after = crate::middleware::retry_after_seconds(&response);
    let body = response
        .bytes()
        .await
        .map_err(|e| error::transport(operation, e))?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// The parts of an answer envelope, with `result` decoded by a seed.
pub(crate) struct Envelope<T> {
    pub(crate) code: Option<String>,
    pub(crate) msg: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) result: Option<T>,
}

/// Decodes an envelope (`code`, `msg`, `traceId` by the decoding rule;
/// `result` by `seed`; anything else ignored) in one pass.
pub(crate) struct EnvelopeSeed<S> {
    pub(crate) schema: &'static str,
    pub(crate) result: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for EnvelopeSeed<S> {
    type Value = Envelope<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(EnvelopeVisitor(self))
    }
}

struct EnvelopeVisitor<S>(EnvelopeSeed<S>);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for EnvelopeVisitor<S> {
    type Value = Envelope<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response envelope (an object with code, msg, traceId, result)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let schema = self.0.schema;
        let mut seed = Some(self.0.result);
        let mut out = Envelope {
            code: None,
            msg: None,
            trace_id: None,
            result: None,
        };
        while let Some(key) = map.next_key::<EnvelopeKey>()? {
            match key {
                EnvelopeKey::Code => {
                    out.code =
                        map.next_value_seed(FieldSeed::<String>::new(schema, "code", &[]))?;
                }
                EnvelopeKey::Msg => {
                    out.msg = map.next_value_seed(FieldSeed::<String>::new(schema, "msg", &[]))?;
                }
                EnvelopeKey::TraceId => {
                    out.trace_id =
                        map.next_value_seed(FieldSeed::<String>::new(schema, "traceId", &[]))?;
                }
                EnvelopeKey::Result => match seed.take() {
                    Some(seed) => out.result = map.next_value_seed(OptionSeed(seed))?,
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
                EnvelopeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

enum EnvelopeKey {
    Code,
    Msg,
    TraceId,
    Result,
    Other,
}

impl<'de> serde::Deserialize<'de> for EnvelopeKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = EnvelopeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvelopeKey, E> {
                Ok(match v {
                    "code" => EnvelopeKey::Code,
                    "msg" => EnvelopeKey::Msg,
                    "traceId" => EnvelopeKey::TraceId,
                    "result" => EnvelopeKey::Result,
                    _ => EnvelopeKey::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// `null` as `None`, anything else through the inner seed.
pub(crate) struct OptionSeed<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct OptionVisitor<S>(S);
        impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionVisitor<S> {
            type Value = Option<S::Value>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                self.0.deserialize(d).map(Some)
            }
        }
        d.deserialize_option(OptionVisitor(self.0))
    }
}

/// The typed `result` of a record type.
pub(crate) struct Typed<T>(PhantomData<fn() -> T>);

impl<T> Typed<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: serde::Deserialize<'de>> DeserializeSeed<'de> for Typed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// Decodes `answer` with `seed` for its `result`, collecting the decoding
/// rule's notes, and settles it into a [`Reply`] or an [`Error`].
pub(crate) fn decode<'a, S>(
    op: &'static OperationSpec,
    answer: &'a Answer,
    seed: S,
) -> (Result<Reply<S::Value>, Error>, Vec<Observed>)
where
    S: DeserializeSeed<'a>,
{
    let envelope = EnvelopeSeed {
        schema: op.response_schema,
        result: seed,
    };
    let (parsed, observed) = observe(|| {
        let mut de = serde_json::Deserializer::from_slice(&answer.body);
        envelope
            .deserialize(&mut de)
            .and_then(|value| de.end().map(|()| value))
    });
    (settle(op.operation_id, answer, parsed), observed)
}

/// An answer as a [`Reply`] or an [`Error`], by the rules in this module's header.
pub(crate) fn settle<T>(
    operation: &'static str,
    answer: &Answer,
    parsed: Result<Envelope<T>, serde_json::Error>,
) -> Result<Reply<T>, Error> {
    let status = answer.status;
    let success = (200..300).contains(&status);
    let envelope = match parsed {
        Ok(envelope) => envelope,
        Err(decode_error) => {
            return Err(error::undecodable(
                operation,
                status,
                answer.retry_after,
                &answer.body,
                &decode_error,
            ));
        }
    };
    match envelope.code.as_deref() {
        Some(error::SUCCESS_CODE) if success => {}
        Some(code) if code != error::SUCCESS_CODE => {
            return Err(Error::Api {
                operation,
                code: code.to_owned(),
                msg: envelope.msg,
                trace_id: envelope.trace_id,
                status: Some(status),
            });
        }
        _ if !success => {
            return Err(Error::Http {
                operation,
                status,
                snippet: snippet(&answer.body),
                retry_after: answer.retry_after,
            });
        }
        None => {
            return Err(Error::Decode {
                operation,
                status: Some(status),
                what: "the envelope has no `code`".into(),
                snippet: snippet(&answer.body),
                trace_id: envelope.trace_id,
            });
        }
        Some(_) => {}
    }
    match envelope.result {
        Some(payload) => Ok(Reply {
            payload,
            trace_id: envelope.trace_id,
            status,
        }),
        None => Err(Error::Decode {
            operation,
            status: Some(status),
            what: "code \"0\" without a `result`: the answer says it succeeded but carries nothing"
                .into(),
            snippet: snippet(&answer.body),
            trace_id: envelope.trace_id,
        }),
    }
}

/// Calls `Op` once and returns its typed `result`.
pub(crate) async fn call_typed<Op: Operation>(
    client: &Client,
    param_content: Option<Value>,
) -> Result<Reply<Op::Result>, Error> {
    let op = Op::SPEC;
    let answer = exchange(client, op, param_content.as_ref()).await?;
    let (reply, observed) = decode(op, &answer, Typed::<Op::Result>::new());
    client.note_drift(op.operation_id, &observed);
    reply
}

/// Calls `Op` once and returns its `result`, decoded by the rule, as JSON.
pub(crate) async fn call_json<Op: Operation>(
    client: &Client,
    param_content: Option<Value>,
) -> Result<Reply<Value>, Error> {
    let reply = call_typed::<Op>(client, param_content).await?;
    let payload = serde_json::to_value(&reply.payload).map_err(|e| {
        Error::invalid_argument(
            Op::SPEC.operation_id,
            format!("cannot render the result: {e}"),
        )
    })?;
    Ok(Reply {
        payload,
        trace_id: reply.trace_id,
        status: reply.status,
    })
}

/// A call of an operation without pagination: set its `paramContent` with
/// [`params`](Self::params) (typed) or [`param_content`](Self::param_content)
/// (JSON), then [`send`](Self::send).
#[must_use = "a request does nothing until sent"]
pub struct CallRequest<Op> {
    client: Client,
    param_content: Result<Option<Value>, String>,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: Operation> CallRequest<Op> {
    /// A call with no `paramContent`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            param_content: Ok(None),
            _op: PhantomData,
        }
    }

    /// The call's `paramContent`, typed.
    pub fn params(mut self, params: Op::Params) -> Self {
        self.param_content = serde_json::to_value(params)
            .map(Some)
            .map_err(|e| e.to_string());
        self
    }

    /// The call's `paramContent` as JSON (the platform checks it).
    pub fn param_content(mut self, params: Value) -> Self {
        self.param_content = Ok(Some(params));
        self
    }

    /// Sends the call and returns the envelope's `result`.
    pub async fn send(self) -> Result<Op::Result, Error> {
        self.send_with_reply().await.map(|reply| reply.payload)
    }

    /// Like [`send`](Self::send), with the answer's `traceId` and status.
    pub async fn send_with_reply(self) -> Result<Reply<Op::Result>, Error> {
        let params = self
            .param_content
            .map_err(|e| Error::invalid_argument(Op::SPEC.operation_id, e))?;
        if params.is_none() && Op::SPEC.params_required {
            return Err(Error::invalid_argument(
                Op::SPEC.operation_id,
                "this operation requires paramContent",
            ));
        }
        let span = tracing::debug_span!(
            "shiheng.call",
            operation = Op::SPEC.operation_id,
            trace_id = tracing::field::Empty,
        );
        tracing::Instrument::instrument(
            async move {
                let reply = call_typed::<Op>(&self.client, params).await;
                error::record_outcome(&reply);
                reply
            },
            span,
        )
        .await
    }
}

/// Why `body`, a 2xx answer of `Op`, would not decode into its typed result.
pub(crate) fn check_answer<Op: Operation>(status: u16, body: &Bytes) -> Option<Error> {
    let answer = Answer {
        status,
        retry_after: None,
        body: body.clone(),
    };
    match decode(Op::SPEC, &answer, Typed::<Op::Result>::new()).0 {
        Err(e @ Error::Decode { .. }) => Some(e),
        _ => None,
    }
}
