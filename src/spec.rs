//! The spec at run time: the document `build.rs` embedded as JSON
//! ([`SPEC_JSON`]; `info.version` is [`crate::SPEC_VERSION`], the YAML
//! file's SHA-256 [`crate::SPEC_SHA256`]). Facts about operations come from
//! the operation table ([`crate::operation::OperationSpec`]). Reading the
//! document (following `$ref`s, walking a value against a schema, comparing
//! live answers with it) is the spec tooling's, crate `shiheng-spec`
//! (`shiheng_spec::schema`, `shiheng_spec::drift`): a service needs none of
//! it, so the SDK keeps only the text.

/// The spec this client was generated from, as JSON (`info.version` is
/// [`crate::SPEC_VERSION`], the file's SHA-256 [`crate::SPEC_SHA256`]).
pub const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/spec.json"));
