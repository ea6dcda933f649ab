//! Where the pipeline's inputs and outputs live, relative to the workspace
//! root: a leaf every stage may name (the contract pages name the generated
//! client's file in their errors).

/// The spec exactly as the docs publish it.
pub const DOCS_SPEC_PATH: &str = "openapi/sonoran-cms-v2.docs.yaml";
/// The OpenAPI Overlay of schemas derived from the docs' examples (written by
/// `cargo xtask import-docs`).
pub const DERIVED_PATH: &str = "openapi/derived.overlay.yaml";
/// The folder of OpenAPI Overlays that correct the docs from evidence (what the
/// production clients send and read, the v1 docs, the first v2 docs revision):
/// one file per API group, applied in file-name order after the derived schemas.
pub const EVIDENCE_DIR: &str = "openapi/evidence";
/// The OpenAPI Overlay that adds what the docs leave out.
pub const ENRICHMENT_PATH: &str = "openapi/enrichment.overlay.yaml";
/// The docs spec with the enrichment applied (generated, checked in).
pub const ENRICHED_SPEC_PATH: &str = "openapi/sonoran-cms-v2.enriched.yaml";
/// The progenitor client (generated, checked in).
pub const GENERATED_CLIENT_PATH: &str = "sonoran-cms/src/generated.rs";
/// The `Operation` enum and the one table of what the spec says of each
/// operation: rate limit, safety and idempotency, groups of alternative fields,
/// body checks and decoders, paging (generated, checked in).
pub const GENERATED_OPERATIONS_PATH: &str = "sonoran-cms/src/generated_operations.rs";
/// The identity setters of the operations that name an account (generated,
/// checked in).
pub const GENERATED_ONE_OF_PATH: &str = "sonoran-cms/src/generated_one_of.rs";
/// Each builder's `send` and `IntoFuture` with the client's error, and
/// `.items(..)` of each paged operation (generated, checked in).
pub const GENERATED_CALLS_PATH: &str = "sonoran-cms/src/generated_calls.rs";
/// `FromStr` for every open value set (generated, checked in).
pub const GENERATED_VALUE_SETS_PATH: &str = "sonoran-cms/src/generated_value_sets.rs";
/// The typed `httpmock` extension, one `MockServer` method per operation
/// (generated, checked in).
pub const GENERATED_HTTPMOCK_PATH: &str = "sonoran-cms-httpmock/src/generated.rs";
/// The clap command line, one subcommand per operation (generated, checked in).
pub const GENERATED_CLI_PATH: &str = "sonoran-cms-cli/src/generated.rs";
