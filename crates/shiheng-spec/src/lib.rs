//! Tooling for the Shiheng Open Platform's OpenAPI description
//! (`spec/shiheng-open.yaml`, the contract the `shiheng` SDK is generated
//! from). It works on the spec as a document and uses nothing of the SDK.
//!
//! - [`import`]: a platform documentation page as published (field tables
//!   and a sample) to the spec's path and schemas, printed or merged into
//!   the spec file. `shiheng spec import` in the CLI and the `shiheng-spec
//!   import` binary run it; docs/spec-import.md describes the whole.
//! - [`files`]: replacing the user's files without destroying them (mode,
//!   owner and read-only kept; devices and FIFOs never replaced), shared
//!   with the CLI's `--output`.

#![warn(missing_docs)]

pub mod files;
pub mod import;
