//! Tooling for the Shiheng Open Platform's OpenAPI description
//! (`spec/shiheng-open.yaml`, the contract the `shiheng` SDK is generated
//! from): what works on the spec, as a document or as the SDK embeds it,
//! and that a service does not need at run time.
//!
//! - [`schema`]: the SDK's embedded spec at run time (parsed once), the
//!   helpers that follow it, and the one walker of a JSON value against a
//!   schema; its findings are the drift checker's differences and the
//!   sandbox's (`shiheng-sandbox`) 40004 refusals.
//! - [`drift`]: live answers compared with the spec; `compare` for one
//!   value, `check` for every operation of the SDK's table against a
//!   platform (`shiheng check` in the CLI).
//! - [`import`] (feature `import`, on by default): a platform documentation
//!   page as published (field tables and a sample) to the spec's path and
//!   schemas, printed or merged into the spec file. `shiheng spec import`
//!   in the CLI and the `shiheng-spec import` binary run it;
//!   docs/spec-import.md describes the whole. It reads the spec file and
//!   uses nothing of the SDK.
//! - [`diff`] (feature `import`): what changed between two versions of the
//!   spec, change by change, and for whom it breaks (Rust callers of this
//!   SDK, the wire, other languages' generated clients), with a semver
//!   check of `info.version`. `shiheng spec diff OLD NEW` runs it;
//!   docs/spec-diff.md describes it.
//! - [`normalize`]: the build's normalisation pass (the SDK's
//!   `build/normalize.rs`, shared as source): inline request, params,
//!   response and result schemas hoisted to named components, `$ref` chains
//!   followed, `allOf` of objects merged. The embedded spec is already
//!   normalised; a spec read from a file needs this before the walker and
//!   the operation table's schema names apply to it.
//! - [`patch`] (feature `import`): the answers a drift check compared, turned
//!   into a copy of the spec file amended with what they showed (new
//!   fields, known values, nullability, wire forms; only additions and
//!   widenings), comments and order kept. `shiheng check --write-spec FILE`
//!   runs it; docs/spec-changes.md walks through the whole loop.
//! - [`dates`]: calendar dates from day counts (a patch's "observed on",
//!   the CLI's UTC times), one implementation.
//! - [`files`]: replacing the user's files without destroying them (mode,
//!   owner and read-only kept; devices and FIFOs never replaced), shared
//!   with the CLI's `--output`.

#![warn(missing_docs)]

pub mod dates;
#[cfg(feature = "import")]
pub mod diff;
pub mod drift;
pub mod files;
#[cfg(feature = "import")]
pub mod import;
#[path = "../../../build/normalize.rs"]
pub mod normalize;
#[cfg(feature = "import")]
pub mod patch;
pub mod schema;
