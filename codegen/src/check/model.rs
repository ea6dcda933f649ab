//! The spec's `x-sonoran-*` operation extensions, read once into one typed
//! model that every generator and the report use: each operation's rate limit
//! (`x-sonoran-rate-limit`), safety and idempotency (`x-sonoran-safe`,
//! `x-sonoran-idempotent`, defaulting from the method), groups of alternative
//! fields (`x-sonoran-one-of`) and paging (`x-sonoran-paging`), with every
//! finding the readers make for lint.

use openapiv3::OpenAPI;

use crate::error::LintFinding;
use crate::naming::rust_snake_name;
use crate::one_of::OneOfGroup;
use crate::paging::Paged;
use crate::rate_limits::OperationRateLimit;

/// What the extensions say of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationModel {
    /// Its operationId (`cancelSession`).
    pub operation_id: String,
    /// The Rust name progenitor gives it (`cancel_session`).
    pub rust_name: String,
    /// Its HTTP method, upper case.
    pub method: String,
    /// Its path template.
    pub path: String,
    /// The docs' group it is listed in: its first OpenAPI tag (`accounts`,
    /// `servers`), empty when it has none.
    pub group: String,
    /// Its documented rate limit (`None` only where lint reports it missing or
    /// malformed).
    pub rate_limit: Option<OperationRateLimit>,
    /// It changes nothing on the server.
    pub safe: bool,
    /// Repeating it has the effect and answer of running it once.
    pub idempotent: bool,
    /// Its groups of alternative fields.
    pub one_of: Vec<OneOfGroup>,
    /// How it pages, if it does.
    pub paging: Option<Paged>,
}

/// Every operation's extensions, sorted by Rust name, and what is wrong with
/// them.
#[derive(Debug, Clone, Default)]
pub struct SpecModel {
    /// Every operation that has an operationId.
    pub operations: Vec<OperationModel>,
    /// Each malformed or missing extension, by operation and JSON pointer.
    pub findings: Vec<LintFinding>,
}

impl SpecModel {
    /// The operation with this Rust name.
    pub fn operation(&self, rust_name: &str) -> Option<&OperationModel> {
        self.operations
            .iter()
            .find(|operation| operation.rust_name == rust_name)
    }

    /// Every group of every operation.
    pub fn groups(&self) -> Vec<OneOfGroup> {
        self.operations
            .iter()
            .flat_map(|operation| operation.one_of.iter().cloned())
            .collect()
    }

    /// Every paged operation.
    pub fn paged(&self) -> Vec<Paged> {
        self.operations
            .iter()
            .filter_map(|operation| operation.paging.clone())
            .collect()
    }
}

/// Reads every operation's extensions from `spec`, once.
pub fn read(spec: &OpenAPI) -> SpecModel {
    let (limits, mut findings) = crate::rate_limits::read(spec);
    let (semantics, semantics_findings) = crate::rate_limits::semantics(spec);
    let (groups, group_findings) = crate::one_of::read(spec);
    let (paged, paging_findings) = crate::paging::paged(spec);
    findings.extend(semantics_findings);
    findings.extend(group_findings);
    findings.extend(paging_findings);
    let mut operations: Vec<OperationModel> = crate::operations::with_ids(spec)
        .into_iter()
        .map(|operation| {
            let rust_name = rust_snake_name(operation.operation_id);
            let semantics = semantics
                .iter()
                .find(|semantics| semantics.rust_name == rust_name);
            OperationModel {
                operation_id: operation.operation_id.to_owned(),
                method: operation.method.to_uppercase(),
                path: operation.path.to_owned(),
                group: operation
                    .operation
                    .tags
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                rate_limit: limits
                    .iter()
                    .find(|limit| limit.rust_name == rust_name)
                    .cloned(),
                safe: semantics.is_some_and(|semantics| semantics.safe),
                idempotent: semantics.is_some_and(|semantics| semantics.idempotent),
                one_of: groups
                    .iter()
                    .filter(|group| group.rust_name == rust_name)
                    .cloned()
                    .collect(),
                paging: paged
                    .iter()
                    .find(|paged| paged.operation_id == operation.operation_id)
                    .cloned(),
                rust_name,
            }
        })
        .collect();
    operations.sort_by(|left, right| left.rust_name.cmp(&right.rust_name));
    SpecModel {
        operations,
        findings,
    }
}
