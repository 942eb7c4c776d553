//! One call of any operation, through its generated method, and the one
//! classifier that turns an answer into a typed result or an [`Error`]:
//! an envelope whose `code` is not "0" is [`Error::Api`] whatever the HTTP
//! status, `code` "0" without a `result` is [`Error::Decode`], anything
//! else that is not an envelope is [`Error::Http`] (non-2xx) or
//! [`Error::Decode`], each with the status. Typed calls, listing pages,
//! [`Client::call_raw`] and the drift checker all end in `classify`.
//!
//! [`CallRequest`] is the typed call of an operation without pagination;
//! the paginators (`crate::paginate`) use `exchange` and `classify`
//! with their own page seed. [`CallOptions`] are every builder's per-call
//! settings.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::client::Client;
use crate::error::{self, EnvelopeHead, Error, Reply, TransportKind, snippet};
use crate::operation::{Operation, OperationSpec, Sent};
use crate::record::{FieldSeed, Observed, observe};
use crate::retry::retry_after;
use crate::sign::{Clock, SystemClock};
pub use crate::transport::CallOptions;
use crate::transport::{self, CallContext, Refusal};
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::{HeaderName, HeaderValue};

/// What came back: the HTTP status, the answer (for its headers, which are
/// not copied unless a reply asks for them) and the whole body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) response: ResponseValue<ByteStream>,
    pub(crate) body: Bytes,
}

impl Answer {
    /// What a generated method returned, read whole: the body, which the
    /// transport already holds in memory (one chunk: no copy), or the
    /// refusal it carries.
    async fn read(operation: &'static str, sent: Sent) -> Result<Self, Error> {
        let mut response = match sent {
            Ok(response) | Err(progenitor_client::Error::ErrorResponse(response)) => response,
            Err(error) => return Err(from_generated(operation, error)),
        };
        let chunks = response.by_ref().try_collect().await;
        let body = transport::joined(chunks.map_err(|e| transport_error(operation, e))?);
        Ok(Answer {
            status: response.status().as_u16(),
            response,
            body,
        })
    }
}

/// Sends `op` with `param_content` through its generated method and reads
/// the whole answer; the body is not interpreted here.
pub(crate) async fn exchange(
    client: &Client,
    op: &'static OperationSpec,
    param_content: Option<Value>,
    options: Option<Arc<CallOptions>>,
) -> Result<Answer, Error> {
    let context = CallContext {
        operation: op.operation_id,
        idempotent: op.idempotent,
        options,
    };
    let sent = (op.send)(client.generated(), envelope(param_content));
    Answer::read(op.operation_id, transport::CALL.scope(context, sent).await).await
}

/// A request envelope with `param_content`, unsigned: the transport fills
/// the rest.
fn envelope(param_content: Option<Value>) -> Value {
    Value::Object(Map::from_iter(
        param_content.map(|params| ("paramContent".to_owned(), params)),
    ))
}

/// Why a success's body is not JSON, naming what the body is when that is
/// the reason: compressed without being asked, or behind a byte-order mark.
fn why_undecodable(answer: &Answer, error: &serde_json::Error) -> String {
    let encoding = answer
        .response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if let Some(encoding) = encoding {
        return format!(
            "the body is encoded as `{}` (Content-Encoding), which the client did not ask for \
             and does not decode",
            snippet(encoding.as_bytes())
        );
    }
    if answer.body.starts_with(&[0x1f, 0x8b]) {
        return "the body is gzip-compressed, without a Content-Encoding header".into();
    }
    if answer.body.starts_with(b"\xEF\xBB\xBF") {
        return "the body starts with a UTF-8 byte-order mark, which JSON does not allow".into();
    }
    error.to_string()
}

/// A transport failure, or the refusal the transport put in the body.
fn transport_error(operation: &'static str, source: reqwest::Error) -> Error {
    if let Some(refusal) = Refusal::in_chain(&source) {
        return refusal.into_error(operation);
    }
    let kind = if source.is_timeout() {
        TransportKind::Timeout
    } else if source.is_connect() {
        TransportKind::Connect
    } else if source.is_body() || source.is_decode() {
        TransportKind::Body
    } else {
        TransportKind::Other
    };
    Error::Transport {
        operation,
        kind,
        source,
    }
}

/// What a generated method returned instead of an answer.
fn from_generated(operation: &'static str, error: progenitor_client::Error<ByteStream>) -> Error {
    use progenitor_client::Error as G;
    let unread = |status: reqwest::StatusCode| Error::Http {
        operation,
        status: status.as_u16(),
        snippet: "(body not read)".into(),
        retry_after: None,
    };
    match error {
        G::CommunicationError(e) | G::InvalidUpgrade(e) | G::ResponseBodyError(e) => {
            transport_error(operation, e)
        }
        G::ErrorResponse(value) => unread(value.status()),
        G::UnexpectedResponse(response) => unread(response.status()),
        G::InvalidResponsePayload(body, e) => Error::Decode {
            operation,
            status: None,
            what: e.to_string(),
            snippet: snippet(&body),
            trace_id: None,
        },
        G::InvalidRequest(message) | G::Custom(message) => {
            Error::invalid_argument(operation, message)
        }
    }
}

/// A generated method's error (`client.generated().list_wecom_employees(&body).await`) as this
/// crate's [`Error`], so `?` works; a refusal of the transport keeps its
/// kind. Its answers are unread byte streams: [`Client`]'s own methods
/// classify them.
impl From<progenitor_client::Error<ByteStream>> for Error {
    fn from(error: progenitor_client::Error<ByteStream>) -> Self {
        from_generated("(generated call)", error)
    }
}

/// Decodes an envelope in one pass, into its head (`code`, `msg`,
/// `traceId` by the decoding rule) and its `result` (by `seed`, `None` when
/// absent or null); anything else is ignored.
struct EnvelopeVisitor<S> {
    schema: &'static str,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for EnvelopeVisitor<S> {
    type Value = (EnvelopeHead, Option<S::Value>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response envelope (an object with code, msg, traceId, result)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut head = EnvelopeHead::default();
        let mut result = None;
        // A key the envelope repeats makes it ambiguous (parsers differ on
        // which one wins): refused, whichever key it is.
        let twice = |name| de::Error::custom(format_args!("the envelope has `{name}` twice"));
        let mut seen = [false; 3];
        while let Some(key) = map.next_key::<EnvelopeKey>()? {
            let (field, name) = match key {
                EnvelopeKey::Code => (&mut head.code, "code"),
                EnvelopeKey::Msg => (&mut head.msg, "msg"),
                EnvelopeKey::TraceId => (&mut head.trace_id, "traceId"),
                EnvelopeKey::Result => {
                    let seed = seed.take().ok_or_else(|| twice("result"))?;
                    result = map.next_value_seed(OptionSeed(seed))?;
                    continue;
                }
                EnvelopeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if std::mem::replace(&mut seen[key as usize], true) {
                return Err(twice(name));
            }
            *field = map.next_value_seed(FieldSeed::<String>::new(self.schema, name, &[]))?;
        }
        Ok((head, result))
    }
}

/// The envelope's fields by name; any other is skipped.
#[derive(serde::Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "camelCase")]
enum EnvelopeKey {
    Code,
    Msg,
    TraceId,
    Result,
    #[serde(other)]
    Other,
}

/// `null` as `None`, anything else through the inner seed.
pub(crate) struct OptionSeed<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionSeed<S> {
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

/// The one classifier: `answer` as its `result` decoded by `seed` (with
/// the decoding rule's notes) or an [`Error`], by the rules in this
/// module's header. `schema` is the envelope's, for the notes.
pub(crate) fn classify<'a, S>(
    operation: &'static str,
    schema: &'static str,
    answer: &'a Answer,
    seed: S,
) -> (Result<Reply<S::Value>, Error>, Vec<Observed>)
where
    S: DeserializeSeed<'a>,
{
    let envelope = EnvelopeVisitor { schema, seed };
    let (parsed, observed) = observe(|| {
        let mut de = serde_json::Deserializer::from_slice(&answer.body);
        de.deserialize_map(envelope)
            .and_then(|value| de.end().map(|()| value))
    });
    let (head, result, why) = match parsed {
        Ok((head, result)) => (head, result, None),
        // Not the envelope the spec says: its head read leniently.
        Err(e) => (
            EnvelopeHead::read(&answer.body).unwrap_or_default(),
            None,
            Some(why_undecodable(answer, &e)),
        ),
    };
    // The rest is decided once, for every result type, by `settle_head`.
    let reply = match (settle_head(operation, answer, head, why), result) {
        (Ok(trace_id), Some(payload)) => Ok(Reply {
            payload,
            trace_id,
            status: answer.status,
            // Copied only for a reply that gives them out (`call_typed`).
            headers: reqwest::header::HeaderMap::new(),
        }),
        (Ok(trace_id), None) => {
            let what =
                "code \"0\" without a `result`: the answer says it succeeded but carries nothing";
            Err(undecodable(operation, answer, what.into(), trace_id))
        }
        (Err(error), _) => Err(error),
    };
    (reply, observed)
}

fn undecodable(
    operation: &'static str,
    answer: &Answer,
    what: String,
    trace_id: Option<String>,
) -> Error {
    Error::Decode {
        operation,
        status: Some(answer.status),
        what,
        snippet: snippet(&answer.body),
        trace_id,
    }
}

/// The envelope's head and why it is not the envelope the spec says (if it
/// is not), as the `traceId` of a success or the [`Error`] they say: a
/// `code` other than "0" is a business error, else a non-2xx status an
/// HTTP error, else anything amiss a decode error.
fn settle_head(
    operation: &'static str,
    answer: &Answer,
    head: EnvelopeHead,
    why: Option<String>,
) -> Result<Option<String>, Error> {
    let status = answer.status;
    let what = match (head.code, why) {
        (Some(code), _) if code != error::SUCCESS_CODE => {
            return Err(Error::Api {
                operation,
                code,
                msg: head.msg,
                trace_id: head.trace_id,
                status: Some(status),
            });
        }
        _ if !(200..300).contains(&status) => {
            return Err(Error::Http {
                operation,
                status,
                snippet: snippet(&answer.body),
                retry_after: retry_after(answer.response.headers(), SystemClock.now_millis()),
            });
        }
        (_, Some(why)) => why,
        (None, None) => "the envelope has no `code`".into(),
        (Some(_), None) => return Ok(head.trace_id),
    };
    Err(undecodable(operation, answer, what, head.trace_id))
}

/// Calls `Op` once and returns its typed `result`.
pub(crate) async fn call_typed<Op: Operation>(
    client: &Client,
    param_content: Option<Value>,
    options: Option<Arc<CallOptions>>,
) -> Result<Reply<Op::Result>, Error> {
    let answer = exchange(client, Op::SPEC, param_content, options).await?;
    reply_of(client, Op::SPEC, &answer, PhantomData::<Op::Result>)
}

/// `answer` to `op` classified with `seed`, as a reply with its headers;
/// the decoding rule's notes go to the client's drift warnings.
fn reply_of<'a, S: DeserializeSeed<'a>>(
    client: &Client,
    op: &OperationSpec,
    answer: &'a Answer,
    seed: S,
) -> Result<Reply<S::Value>, Error> {
    let (reply, observed) = classify(op.operation_id, op.response_schema, answer, seed);
    client.note_drift(op.operation_id, &observed);
    reply.map(|reply| Reply {
        headers: answer.response.headers().clone(),
        ..reply
    })
}

/// Decodes an operation's `result` by the decoding rule and writes it as
/// JSON: the one piece of a call chosen at run time that is compiled per
/// operation ([`crate::dynamic`]).
pub(crate) type ResultJson = fn(&str) -> serde_json::Result<Value>;

/// Calls `op` once and returns its `result`, decoded by `decode`, as JSON:
/// the envelope classified as every call's is, its `result` handed over as
/// text, so the code compiled per operation is `decode` alone.
pub(crate) async fn call_json(
    client: &Client,
    op: &'static OperationSpec,
    decode: ResultJson,
    param_content: Option<Value>,
) -> Result<Reply<Value>, Error> {
    let answer = exchange(client, op, param_content, None).await?;
    let reply = reply_of(client, op, &answer, PhantomData::<&RawValue>)?;
    let (payload, observed) = observe(|| decode(reply.payload.get()));
    client.note_drift(op.operation_id, &observed);
    let payload = payload.map_err(|e| {
        let what = format!("`result`: {e}");
        undecodable(op.operation_id, &answer, what, reply.trace_id.clone())
    })?;
    Ok(Reply {
        payload,
        trace_id: reply.trace_id,
        status: reply.status,
        headers: reply.headers,
    })
}

impl Client {
    /// The typed `result` of what a generated method of `Op` returned
    /// (`client.generated().list_wecom_employees(&body).await`),
    /// classified as every call of the client is: the way back to typed
    /// results and [`Error`]s after using a generated builder directly.
    pub async fn classify<Op: Operation>(&self, sent: Sent) -> Result<Reply<Op::Result>, Error> {
        let answer = Answer::read(Op::SPEC.operation_id, sent).await?;
        reply_of(self, Op::SPEC, &answer, PhantomData::<Op::Result>)
    }

    /// Sends one signed request envelope to `path` (e.g. `/wecom/employee/page`)
    /// with `param_content` (none when `None`) and returns the answer as JSON,
    /// undecoded: unknown fields and unexpected types are kept, as the platform
    /// sent them. The way to call an endpoint the spec does not have yet: it is
    /// the one request not built by a generated method, and goes through the
    /// same transport (signing, rate limit, size limit, redirects as
    /// configured, tracing; retries as the operation named `operation` in the
    /// spec allows, or as for a call that may not be repeated) and the same
    /// classifier. Errors name `operation`. An envelope whose `code` is not
    /// "0" is [`Error::Api`]; a non-JSON answer is [`Error::Http`] (non-2xx) or
    /// [`Error::Decode`].
    pub async fn call_raw(
        &self,
        operation: &'static str,
        path: &str,
        param_content: Option<&Value>,
    ) -> Result<RawReply, Error> {
        use progenitor_client::ClientInfo;
        let raw = self.generated();
        let request = raw
            .client()
            .post(format!("{}{path}", self.base_url()))
            .json(&envelope(param_content.cloned()))
            .build()
            .map_err(|e| transport_error(operation, e))?;
        let spec = OperationSpec::by_id(operation);
        let context = CallContext {
            operation,
            idempotent: spec.is_some_and(|op| op.idempotent),
            options: None,
        };
        let sent = raw.inner().execute(raw.client(), request, operation);
        let sent = transport::CALL.scope(context, sent).await;
        let sent = sent
            .map(ResponseValue::stream)
            .map_err(progenitor_client::Error::CommunicationError);
        let answer = Answer::read(operation, sent).await?;
        whole(operation, spec.map_or("", |op| op.response_schema), &answer)
    }
}

/// A classified answer's whole body as JSON: a business error, an HTTP
/// error or a transport failure is an error; an answer that is JSON but
/// not the envelope the spec says is returned as it came (what the spec
/// does not say is for the caller, the drift checker, to report).
pub(crate) fn whole(
    operation: &'static str,
    schema: &'static str,
    answer: &Answer,
) -> Result<RawReply, Error> {
    let seed = PhantomData::<Option<Box<RawValue>>>;
    if let Err(error) = classify(operation, schema, answer, seed).0
        && !matches!(error, Error::Decode { .. })
    {
        return Err(error);
    }
    let body = serde_json::from_slice(&answer.body)
        .map_err(|e| undecodable(operation, answer, e.to_string(), None))?;
    Ok(RawReply {
        status: answer.status,
        body,
    })
}

/// An answer of [`Client::call_raw`]: the HTTP status and the body as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawReply {
    /// The HTTP status.
    pub status: u16,
    /// The body, as the platform sent it.
    pub body: Value,
}

/// The per-call settings of a request builder, with a header that did not
/// parse kept to be reported when the call is sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerCall {
    pub(crate) options: CallOptions,
    invalid: Option<String>,
}

impl PerCall {
    pub(crate) fn header(&mut self, name: &str, value: &str) {
        let parsed = HeaderName::from_bytes(name.as_bytes());
        if let (Ok(name), Ok(value)) = (parsed, HeaderValue::from_str(value)) {
            self.options.headers.insert(name, value);
        } else {
            self.invalid = Some(format!("header {name:?} is not a valid HTTP header"));
        }
    }

    /// The options to send with, or the reason they cannot be.
    pub(crate) fn resolve(
        &self,
        operation: &'static str,
    ) -> Result<Option<Arc<CallOptions>>, Error> {
        if let Some(invalid) = &self.invalid {
            return Err(Error::invalid_argument(operation, invalid.clone()));
        }
        if let Some(policy) = &self.options.retry {
            policy
                .validate()
                .map_err(|e| Error::invalid_argument(operation, format!("retry policy: {e}")))?;
        }
        if self.options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_argument(operation, "a timeout of zero"));
        }
        Ok((self.options != CallOptions::default()).then(|| Arc::new(self.options.clone())))
    }
}

/// The per-call methods every request builder has.
macro_rules! per_call_methods {
    () => {
        /// The timeout of each attempt of this call alone (the client's
        /// otherwise).
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.per_call.options.timeout = Some(timeout);
            self
        }

        /// Adds a header to every attempt of this call alone (retries
        /// included). A name or value that is not valid HTTP makes the call
        /// fail with [`Error::InvalidArgument`](crate::Error::InvalidArgument)
        /// before anything is sent.
        pub fn header(mut self, name: &str, value: &str) -> Self {
            self.per_call.header(name, value);
            self
        }

        /// The retry policy of this call alone (the client's otherwise).
        pub fn retry_policy(mut self, policy: crate::RetryPolicy) -> Self {
            self.per_call.options.retry = Some(policy);
            self
        }
    };
}
pub(crate) use per_call_methods;

/// A call of an operation without pagination: set its `paramContent` with
/// [`params`](Self::params) (typed) or [`param_content`](Self::param_content)
/// (JSON), then [`send`](Self::send).
#[must_use = "a request does nothing until sent"]
pub struct CallRequest<Op> {
    client: Client,
    param_content: Result<Option<Value>, String>,
    per_call: PerCall,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: Operation> CallRequest<Op> {
    /// A call with no `paramContent`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            param_content: Ok(None),
            per_call: PerCall::default(),
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

    /// The call's `paramContent` as JSON (read as the spec's parameters type).
    pub fn param_content(mut self, params: Value) -> Self {
        self.param_content = Ok(Some(params));
        self
    }

    per_call_methods!();

    /// Sends the call and returns the envelope's `result`.
    pub async fn send(self) -> Result<Op::Result, Error> {
        self.send_with_reply().await.map(|reply| reply.payload)
    }

    /// Like [`send`](Self::send), with the answer's `traceId`, status and
    /// headers.
    pub async fn send_with_reply(self) -> Result<Reply<Op::Result>, Error> {
        let operation = Op::SPEC.operation_id;
        let params = self
            .param_content
            .map_err(|e| Error::invalid_argument(operation, e))?;
        let options = self.per_call.resolve(operation)?;
        if params.is_none() && Op::SPEC.params_required {
            return Err(Error::invalid_argument(
                operation,
                "this operation requires paramContent",
            ));
        }
        let span =
            tracing::debug_span!("shiheng.call", operation, trace_id = tracing::field::Empty);
        async move {
            let reply = call_typed::<Op>(&self.client, params, options).await;
            error::record_outcome(&reply);
            reply
        }
        .instrument(span)
        .await
    }
}
