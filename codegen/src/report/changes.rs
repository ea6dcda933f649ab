//! What a change of the enriched spec does to users of the crate: every change,
//! operation by operation, classified **breaking** or **additive** as a user of
//! the Rust client sees it, and the version bump the release needs.
//!
//! The report is read from the two specs (data), never from Rust text, and names
//! what changed by the Rust names beside the API's (`cancel_session`
//! (`cancelSession`), body field `acc_id` (`accId`)). The rules:
//!
//! - breaking: an operation, parameter, field, enum value or alternative removed;
//!   a type changed; a path, method or documented success status changed; an
//!   input made required, or a new required input; a body field made optional
//!   (its Rust type becomes an `Option`, although its builder setter stays); an
//!   output made optional or nullable, or made always sent (either changes its
//!   Rust type between `T` and `Option<T>`); a rate limit lowered or a retry
//!   rule changed (calls behave differently without a compile error);
//! - additive: a new operation, a new optional input, a parameter made optional
//!   (its setter is the same), a new output field, a new value accepted in a
//!   request, a new value or form in an answer, a rate limit raised.
//!
//! The additive rules hold because every generated struct and enum is
//! `#[non_exhaustive]` (`generate::public_api`): users build values through
//! builders and match with `_`, so a new field, variant or form compiles
//! everywhere. `cargo semver-checks` agrees (tests/tests/semver_agreement.rs).
//!
//! Descriptions and examples are not changes for users and are not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::error::CodegenError;
use crate::json_pointer::schema_component;
use crate::naming::rust_snake_name;
use crate::{load, operations};

/// What a change means for code that uses the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Code that compiled and worked may not compile, or may behave differently.
    Breaking,
    /// Something new that existing code is not affected by.
    Additive,
}

/// One change, in words a user of the crate reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Breaking or additive.
    pub impact: Impact,
    /// What changed, by the Rust names beside the API's.
    pub what: String,
    /// Additive for the build, yet code that compiled behaves differently (a
    /// new value in an answer's open value set: a `match` arm on
    /// `Other("that value")` stops firing).
    pub changes_behaviour: bool,
}

/// Every change between two enriched specs, per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeReport {
    /// The changes of each operation, by `rust_method (operationId)`, in order.
    pub operations: BTreeMap<String, Vec<Change>>,
}

/// The release a change needs, by Semantic Versioning (below 1.0, a breaking
/// change bumps the minor version and anything else the patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// Something breaks.
    Breaking,
    /// Something new, nothing broken.
    Additive,
    /// Nothing a user of the crate can tell.
    None,
}

impl ChangeReport {
    /// Whether nothing changed for users.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// How many changes have `impact`.
    pub fn count(&self, impact: Impact) -> usize {
        self.operations
            .values()
            .flatten()
            .filter(|change| change.impact == impact)
            .count()
    }

    /// The release the changes need.
    pub fn bump(&self) -> Bump {
        if self.count(Impact::Breaking) > 0 {
            Bump::Breaking
        } else if self.count(Impact::Additive) > 0 {
            Bump::Additive
        } else {
            Bump::None
        }
    }

    /// The report as Markdown (for a pull request's description and the
    /// changelog): a section per operation, then the summary line. `version` is
    /// the crate's version now, to name the next one.
    pub fn render(&self, version: &str) -> String {
        let mut text = String::new();
        for (operation, changes) in &self.operations {
            let _ = writeln!(text, "### {operation}\n");
            for change in changes {
                let label = match (change.impact, change.changes_behaviour) {
                    (Impact::Breaking, _) => "breaking",
                    (Impact::Additive, false) => "additive",
                    (Impact::Additive, true) => "additive, changes behaviour",
                };
                let _ = writeln!(text, "- **{label}**: {}", change.what);
            }
            text.push('\n');
        }
        text.push_str(&self.summary(version));
        text.push('\n');
        text
    }

    /// The release the changes need after `version`, with how it was chosen
    /// (`0.2.0 → 0.3.0: below 1.0 a breaking change bumps the minor version`).
    pub fn next_release(&self, version: &str) -> String {
        next_version(version, self.bump())
    }

    /// One line: how many changes of each kind, and which release they need.
    pub fn summary(&self, version: &str) -> String {
        let (breaking, additive) = (self.count(Impact::Breaking), self.count(Impact::Additive));
        match self.bump() {
            Bump::None => {
                "Summary: no change for users of the crate (the API surface and behaviour are the same); no release needed for the spec."
                    .to_owned()
            }
            bump => format!(
                "Summary: {breaking} breaking and {additive} additive changes in {} operations; the release needs a {} ({}).",
                self.operations.len(),
                match bump {
                    Bump::Breaking => "breaking bump",
                    _ => "non-breaking bump",
                },
                next_version(version, bump)
            ),
        }
    }
}

/// The next version after `version` for `bump`, with how it was chosen.
fn next_version(version: &str, bump: Bump) -> String {
    let parts: Vec<u64> = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|part| part.parse().unwrap_or(0))
        .collect();
    let [major, minor, patch] = [0, 1, 2].map(|index| parts.get(index).copied().unwrap_or(0));
    let next = match (bump, major) {
        (Bump::Breaking, 0) => format!("{major}.{}.0", minor + 1),
        (Bump::Breaking, _) => format!("{}.0.0", major + 1),
        (Bump::Additive, 0) => format!("{major}.{minor}.{}", patch + 1),
        (Bump::Additive, _) => format!("{major}.{}.0", minor + 1),
        (Bump::None, _) => version.to_owned(),
    };
    if major == 0 {
        format!("{version} → {next}: below 1.0 a breaking change bumps the minor version")
    } else {
        format!("{version} → {next}")
    }
}

/// One operation of a spec: where it is, its definition, and what its
/// extensions say (the model every generator reads).
struct OperationView<'a> {
    method: String,
    path: String,
    operation: &'a Value,
    model: Option<crate::model::OperationModel>,
}

/// The operations of `spec` by operationId, found by the walk the generated
/// tables share (`typed` is `spec` as typed OpenAPI).
fn operations<'a>(typed: &OpenAPI, spec: &'a Value) -> BTreeMap<String, OperationView<'a>> {
    let model = crate::model::read(typed);
    operations::with_ids(typed)
        .into_iter()
        .filter_map(|found| {
            Some((
                found.operation_id.to_owned(),
                OperationView {
                    method: found.method.to_uppercase(),
                    path: found.path.to_owned(),
                    operation: spec.pointer(&found.pointer())?,
                    model: model
                        .operation(&rust_snake_name(found.operation_id))
                        .cloned(),
                },
            ))
        })
        .collect()
}

/// Compares the enriched spec on disk (`old`, named `old_name` in errors) with
/// the one about to be written (`new`, `new_name`).
///
/// # Errors
///
/// When either is not an OpenAPI document, naming it and the JSON pointer.
pub fn compare(
    (old_name, old): (&str, &Value),
    (new_name, new): (&str, &Value),
) -> Result<ChangeReport, CodegenError> {
    let (old_typed, new_typed) = (load::openapi(old_name, old)?, load::openapi(new_name, new)?);
    let (old_operations, new_operations) =
        (operations(&old_typed, old), operations(&new_typed, new));
    let mut report = ChangeReport::default();
    let ids: BTreeSet<&String> = old_operations.keys().chain(new_operations.keys()).collect();
    for id in ids {
        let mut changes = Vec::new();
        match (old_operations.get(id), new_operations.get(id)) {
            (Some(before), None) => changes.push(Change {
                impact: Impact::Breaking,
                what: format!("operation removed (`{} {}`)", before.method, before.path),
                changes_behaviour: false,
            }),
            (None, Some(after)) => changes.push(Change {
                impact: Impact::Additive,
                what: format!("new operation (`{} {}`)", after.method, after.path),
                changes_behaviour: false,
            }),
            (Some(before), Some(after)) => {
                let mut comparison = Comparison {
                    old_spec: old,
                    new_spec: new,
                    changes: &mut changes,
                    visited: BTreeSet::new(),
                };
                comparison.operation(before, after);
            }
            (None, None) => {}
        }
        if !changes.is_empty() {
            changes.sort();
            changes.dedup();
            report
                .operations
                .insert(format!("`{}` ({id})", rust_snake_name(id)), changes);
        }
    }
    Ok(report)
}

/// Whether a schema is read by the client (an answer) or written by its users
/// (parameters and request bodies): the same change means different things.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Input,
    Output,
}

/// Where a change is, as users see it: the body, the answer or a parameter, and
/// the path of fields below it by their Rust names beside the API's
/// (`answer field `data.server_id` (`data.serverId`)`).
#[derive(Clone)]
struct Place {
    /// `body`, `answer`, or `query parameter` and the like.
    noun: String,
    /// Whether a path below the noun is a field (not for parameters).
    of_fields: bool,
    rust: String,
    api: String,
}

impl Place {
    fn root(noun: &str) -> Self {
        Self {
            noun: noun.to_owned(),
            of_fields: true,
            rust: String::new(),
            api: String::new(),
        }
    }

    fn parameter(location: &str, name: &str) -> Self {
        Self {
            noun: format!("{location} parameter"),
            of_fields: false,
            rust: rust_snake_name(name),
            api: name.to_owned(),
        }
    }

    /// The place of the member `name` of the object here.
    fn field(&self, name: &str) -> Self {
        let join = |path: &str, segment: &str| {
            if path.is_empty() {
                segment.to_owned()
            } else {
                format!("{path}.{segment}")
            }
        };
        Self {
            rust: join(&self.rust, &rust_snake_name(name)),
            api: join(&self.api, name),
            ..self.clone()
        }
    }

    /// The same place read one level down (`[]` for items, `{}` for map values,
    /// `(Form)` for one form of several).
    fn suffixed(&self, suffix: &str) -> Self {
        Self {
            rust: format!("{}{suffix}", self.rust),
            api: format!("{}{suffix}", self.api),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rust.is_empty() {
            return formatter.write_str(&self.noun);
        }
        let field = if self.of_fields { " field" } else { "" };
        write!(formatter, "{}{field} `{}`", self.noun, self.rust)?;
        if self.api != self.rust {
            write!(formatter, " (`{}`)", self.api)?;
        }
        Ok(())
    }
}

struct Comparison<'a, 'c> {
    old_spec: &'a Value,
    new_spec: &'a Value,
    changes: &'c mut Vec<Change>,
    /// Pairs of components being compared on the current path (recursive types).
    visited: BTreeSet<(String, String)>,
}

impl Comparison<'_, '_> {
    fn push(&mut self, impact: Impact, what: String) {
        self.changes.push(Change {
            impact,
            what,
            changes_behaviour: false,
        });
    }

    fn operation(&mut self, before: &OperationView<'_>, after: &OperationView<'_>) {
        if before.path != after.path {
            self.push(
                Impact::Breaking,
                format!("path changed from `{}` to `{}`", before.path, after.path),
            );
        }
        if before.method != after.method {
            self.push(
                Impact::Breaking,
                format!("method changed from {} to {}", before.method, after.method),
            );
        }
        let (old, new) = (before.operation, after.operation);
        let (old_status, new_status) = (documented_success(old), documented_success(new));
        if old_status != new_status {
            self.push(
                Impact::Breaking,
                format!(
                    "documented success status changed from {} to {}",
                    old_status.as_deref().unwrap_or("none"),
                    new_status.as_deref().unwrap_or("none")
                ),
            );
        }
        if let (Some(old_model), Some(new_model)) = (&before.model, &after.model) {
            self.extensions(old_model, new_model);
        }
        self.parameters(old, new);
        self.groups(old, new);
        let body = |operation: &Value| {
            operation
                .pointer("/requestBody/content/application~1json/schema")
                .cloned()
        };
        match (body(old), body(new)) {
            (Some(before), Some(after)) => {
                self.schema(&before, &after, &Place::root("body"), Side::Input);
            }
            (None, Some(_)) => self.push(Impact::Breaking, "now takes a request body".to_owned()),
            (Some(_), None) => self.push(Impact::Breaking, "request body removed".to_owned()),
            (None, None) => {}
        }
        match (success_schema(old), success_schema(new)) {
            (Some(before), Some(after)) => {
                self.schema(before, after, &Place::root("answer"), Side::Output);
            }
            (None, Some(_)) => self.push(Impact::Breaking, "now answers with a body".to_owned()),
            (Some(_), None) => self.push(Impact::Breaking, "answer body removed".to_owned()),
            (None, None) => {}
        }
    }

    /// What the operation's extensions (the model) say changed: its rate limit,
    /// safety and idempotency.
    fn extensions(
        &mut self,
        old_model: &crate::model::OperationModel,
        new_model: &crate::model::OperationModel,
    ) {
        self.rate_limit(old_model, new_model);
        let (old_safe, old_idempotent) = (old_model.safe, old_model.idempotent);
        let (new_safe, new_idempotent) = (new_model.safe, new_model.idempotent);
        if old_idempotent != new_idempotent {
            self.push(
                Impact::Breaking,
                if new_idempotent {
                    "retry rule changed: now repeated after a 5XX, timeout or reset (idempotent)"
                        .to_owned()
                } else {
                    "retry rule changed: no longer repeated once it may have run (not idempotent)"
                        .to_owned()
                },
            );
        }
        if old_safe != new_safe {
            self.push(
                Impact::Breaking,
                if new_safe {
                    "now safe (changes nothing): a failed call never may have taken effect"
                        .to_owned()
                } else {
                    "no longer safe: a failed call may have taken effect".to_owned()
                },
            );
        }
    }

    fn rate_limit(
        &mut self,
        old: &crate::model::OperationModel,
        new: &crate::model::OperationModel,
    ) {
        let limit = |operation: &crate::model::OperationModel| {
            let limit = operation.rate_limit.as_ref()?;
            Some((u64::from(limit.requests), u64::from(limit.window_seconds)))
        };
        let (Some((old_requests, old_window)), Some((new_requests, new_window))) =
            (limit(old), limit(new))
        else {
            if limit(old).is_some() != limit(new).is_some() {
                // One side has no usable limit (missing, or outside what lint
                // accepts): the client's behaviour changes either way.
                self.push(
                    Impact::Breaking,
                    "rate limit added or removed (or no longer a usable limit)".to_owned(),
                );
            }
            return;
        };
        // Compare requests per second without rounding: a/b < c/d ⇔ a·d < c·b.
        let (old_rate, new_rate) = (old_requests * new_window, new_requests * old_window);
        let what = format!(
            "rate limit changed from {old_requests} per {old_window} s to {new_requests} per {new_window} s"
        );
        match old_rate.cmp(&new_rate) {
            std::cmp::Ordering::Less => self.push(Impact::Additive, format!("{what} (raised)")),
            std::cmp::Ordering::Greater => self.push(
                Impact::Breaking,
                format!("{what} (lowered: a burst that went through now waits)"),
            ),
            std::cmp::Ordering::Equal
                if (old_requests, old_window) != (new_requests, new_window) =>
            {
                self.push(
                    Impact::Breaking,
                    format!(
                        "{what} (the same rate over another window: bursts are limited differently)"
                    ),
                );
            }
            std::cmp::Ordering::Equal => {}
        }
    }

    fn parameters(&mut self, old: &Value, new: &Value) {
        let index = |operation: &Value| -> BTreeMap<(String, String), Value> {
            operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|parameter| {
                    Some((
                        (
                            parameter["in"].as_str()?.to_owned(),
                            parameter["name"].as_str()?.to_owned(),
                        ),
                        parameter.clone(),
                    ))
                })
                .collect()
        };
        let (before, after) = (index(old), index(new));
        let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
        for key in keys {
            let (location, name) = key;
            let label = Place::parameter(location, name);
            let required = |parameter: &Value| parameter["required"] == Value::Bool(true);
            match (before.get(key), after.get(key)) {
                (Some(_), None) => self.push(Impact::Breaking, format!("{label} removed")),
                (None, Some(added)) if required(added) => {
                    self.push(Impact::Breaking, format!("new required {label}"));
                }
                (None, Some(_)) => self.push(Impact::Additive, format!("new optional {label}")),
                (Some(old_parameter), Some(new_parameter)) => {
                    match (required(old_parameter), required(new_parameter)) {
                        (false, true) => {
                            self.push(Impact::Breaking, format!("{label} is now required"));
                        }
                        (true, false) => {
                            self.push(Impact::Additive, format!("{label} is now optional"));
                        }
                        _ => {}
                    }
                    self.schema(
                        &old_parameter["schema"],
                        &new_parameter["schema"],
                        &label,
                        Side::Input,
                    );
                }
                (None, None) => {}
            }
        }
    }

    /// Groups of alternatives (`x-sonoran-one-of`): a group that becomes
    /// required refuses calls that were sent before.
    fn groups(&mut self, old: &Value, new: &Value) {
        let index = |operation: &Value| -> BTreeMap<String, bool> {
            operation["x-sonoran-one-of"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|group| {
                    Some((
                        group["group"].as_str()?.to_owned(),
                        group["required"] == Value::Bool(true),
                    ))
                })
                .collect()
        };
        let (before, after) = (index(old), index(new));
        for (group, required) in &after {
            let was_required = before.get(group).copied().unwrap_or(false);
            if *required && !was_required {
                self.push(
                    Impact::Breaking,
                    format!("the {group} is now required (a call that names none is refused)"),
                );
            } else if !*required && was_required {
                self.push(Impact::Additive, format!("the {group} is now optional"));
            }
        }
    }

    /// Compares two schemas at `place` (a parameter, `body`, `answer` or a field
    /// path below them).
    fn schema(&mut self, old: &Value, new: &Value, place: &Place, side: Side) {
        let (old_name, old) = resolve(self.old_spec, old);
        let (new_name, new) = resolve(self.new_spec, new);
        if let (Some(old_name), Some(new_name)) = (&old_name, &new_name) {
            let pair = (old_name.clone(), new_name.clone());
            if !self.visited.insert(pair.clone()) {
                return;
            }
            self.schema_resolved(old, new, place, side);
            self.visited.remove(&pair);
        } else {
            self.schema_resolved(old, new, place, side);
        }
    }

    fn schema_resolved(&mut self, old: &Value, new: &Value, place: &Place, side: Side) {
        let (old_kind, new_kind) = (kind(self.old_spec, old), kind(self.new_spec, new));
        if old_kind != new_kind {
            self.push(
                Impact::Breaking,
                format!("{place}: type changed from {old_kind} to {new_kind}"),
            );
            return;
        }
        let nullable = |schema: &Value| schema["nullable"] == Value::Bool(true);
        match (nullable(old), nullable(new), side) {
            (false, true, Side::Output) => self.push(
                Impact::Breaking,
                format!("{place}: may now be null (its Rust type becomes an `Option`)"),
            ),
            (true, false, Side::Output) => self.push(
                Impact::Breaking,
                format!("{place}: no longer null (its Rust type is no longer an `Option`)"),
            ),
            (false, true, Side::Input) => {
                self.push(
                    Impact::Additive,
                    format!("{place}: may now be sent as null"),
                );
            }
            (true, false, Side::Input) => {
                self.push(Impact::Breaking, format!("{place}: may no longer be null"));
            }
            _ => {}
        }
        self.enum_values(old, new, place, side);
        self.alternatives(old, new, place, side);
        if old.get("items").is_some() || new.get("items").is_some() {
            self.schema(&old["items"], &new["items"], &place.suffixed("[]"), side);
        }
        if let (Some(old_values), Some(new_values)) = (
            old.get("additionalProperties")
                .filter(|value| value.is_object()),
            new.get("additionalProperties")
                .filter(|value| value.is_object()),
        ) {
            self.schema(old_values, new_values, &place.suffixed("{}"), side);
        }
        self.properties(old, new, place, side);
    }

    fn enum_values(&mut self, old: &Value, new: &Value, place: &Place, side: Side) {
        let values = |schema: &Value| -> BTreeSet<String> {
            schema["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect()
        };
        let (before, after) = (values(old), values(new));
        for removed in before.difference(&after) {
            self.push(
                Impact::Breaking,
                format!("{place}: value {removed} removed"),
            );
        }
        for added in after.difference(&before) {
            match side {
                Side::Input => {
                    self.push(Impact::Additive, format!("{place}: value {added} accepted"));
                }
                Side::Output => self.changes.push(Change {
                    impact: Impact::Additive,
                    what: format!(
                        "{place}: new value {added} (a new variant of a non-exhaustive enum; additive for the \
                         build, but it changes behaviour: the text that read as `Other({added})` reads as the \
                         variant, so a `match` arm on `Other({added})` stops firing)"
                    ),
                    changes_behaviour: true,
                }),
            }
        }
    }

    fn alternatives(&mut self, old: &Value, new: &Value, place: &Place, side: Side) {
        let forms = |schema: &Value| -> BTreeMap<String, Value> {
            schema["oneOf"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(position, form)| (form_name(form, position), form.clone()))
                .collect()
        };
        let (before, after) = (forms(old), forms(new));
        for (name, form) in &before {
            match after.get(name) {
                None => self.push(Impact::Breaking, format!("{place}: form `{name}` removed")),
                Some(new_form) => {
                    self.schema(form, new_form, &place.suffixed(&format!("({name})")), side);
                }
            }
        }
        for name in after.keys().filter(|name| !before.contains_key(*name)) {
            match side {
                Side::Input => {
                    self.push(Impact::Additive, format!("{place}: form `{name}` accepted"));
                }
                Side::Output => self.push(
                    Impact::Additive,
                    format!("{place}: new form `{name}` (a new variant of a non-exhaustive enum)"),
                ),
            }
        }
    }

    fn properties(&mut self, old: &Value, new: &Value, place: &Place, side: Side) {
        let required = |schema: &Value| -> BTreeSet<String> {
            schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (old_required, new_required) = (required(old), required(new));
        let empty = serde_json::Map::new();
        let old_properties = old["properties"].as_object().unwrap_or(&empty);
        let new_properties = new["properties"].as_object().unwrap_or(&empty);
        let names: BTreeSet<&String> = old_properties.keys().chain(new_properties.keys()).collect();
        for name in names {
            let field = place.field(name);
            let (was_required, is_required) =
                (old_required.contains(name), new_required.contains(name));
            match (old_properties.get(name), new_properties.get(name)) {
                (Some(_), None) => self.push(Impact::Breaking, format!("{field} removed")),
                (None, Some(_)) => match (side, is_required) {
                    (Side::Input, true) => {
                        self.push(Impact::Breaking, format!("new required {field}"));
                    }
                    (Side::Input, false) => {
                        self.push(Impact::Additive, format!("new optional {field}"));
                    }
                    (Side::Output, _) => self.push(Impact::Additive, format!("new {field}")),
                },
                (Some(old_field), Some(new_field)) => {
                    match (side, was_required, is_required) {
                        (Side::Input, false, true) => {
                            self.push(Impact::Breaking, format!("{field} is now required"));
                        }
                        (Side::Input, true, false) => self.push(
                            Impact::Breaking,
                            format!(
                                "{field} is now optional (its Rust type becomes an `Option`; the builder's \
                                 setter is unchanged)"
                            ),
                        ),
                        (Side::Output, true, false) => self.push(
                            Impact::Breaking,
                            format!("{field} may now be absent (its Rust type becomes an `Option`)"),
                        ),
                        (Side::Output, false, true) => self.push(
                            Impact::Breaking,
                            format!("{field} is now always sent (its Rust type is no longer an `Option`)"),
                        ),
                        _ => {}
                    }
                    self.schema(old_field, new_field, &field, side);
                }
                (None, None) => {}
            }
        }
    }
}

/// The success status the docs name, where the spec answers `2XX`.
fn documented_success(operation: &Value) -> Option<String> {
    let responses = operation["responses"].as_object()?;
    let (status, response) = responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))?;
    Some(
        response
            .get("x-documented-status")
            .and_then(Value::as_str)
            .unwrap_or(status)
            .to_owned(),
    )
}

fn success_schema(operation: &Value) -> Option<&Value> {
    let responses = operation["responses"].as_object()?;
    let (_, response) = responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))?;
    response.pointer("/content/application~1json/schema")
}

/// Follows `$ref` (and a single `allOf` around one) to the schema, with the
/// component's name when there is one.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> (Option<String>, &'a Value) {
    let mut current = schema;
    let mut name = None;
    for _ in 0..32 {
        if let Some(reference) = current.get("$ref").and_then(Value::as_str) {
            let Some(component) = schema_component(reference) else {
                break;
            };
            let target = spec["components"]["schemas"].get(&component);
            name = Some(component);
            match target {
                Some(target) => current = target,
                None => break,
            }
        } else if let Some([single]) = current
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            current = single;
        } else {
            break;
        }
    }
    (name, current)
}

/// A schema's type as a user sees it, for "type changed from .. to ..".
fn kind(spec: &Value, schema: &Value) -> String {
    let format = schema["format"]
        .as_str()
        .map(|format| format!(" ({format})"));
    match schema["type"].as_str() {
        Some("array") => {
            let (_, items) = resolve(spec, &schema["items"]);
            format!("a list of {}", kind(spec, items))
        }
        Some("object") if schema.get("properties").is_none() => {
            match schema.get("additionalProperties") {
                Some(values) if values.is_object() => {
                    let (_, values) = resolve(spec, values);
                    format!("a map of {}", kind(spec, values))
                }
                _ => "an object".to_owned(),
            }
        }
        Some("object") => "an object".to_owned(),
        Some(other) => format!("{other}{}", format.unwrap_or_default()),
        None if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => {
            "one of several forms".to_owned()
        }
        None if schema.get("properties").is_some() => "an object".to_owned(),
        None => "any JSON".to_owned(),
    }
}

/// How an alternative of a `oneOf` is known across versions: its component,
/// else its title, else its place.
fn form_name(form: &Value, position: usize) -> String {
    form.get("$ref")
        .and_then(Value::as_str)
        .and_then(schema_component)
        .or_else(|| form.get("title").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| format!("#{}", position + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A spec with one operation, `setName`, over a body and an answer.
    fn spec() -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "test", "version": "1"},
            "paths": {"/v2/accounts/{accountId}/name": {"patch": {
                "operationId": "setName",
                "x-sonoran-rate-limit": {"requests": 22, "window-seconds": 60, "scope": "credential"},
                "parameters": [
                    {"name": "accountId", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}}
                ],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}},
                "responses": {"2XX": {"description": "OK", "x-documented-status": "200", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Answer"}}}}}
            }}},
            "components": {"schemas": {
                "Body": {"type": "object", "required": ["newName"], "properties": {
                    "newName": {"type": "string"},
                    "kind": {"type": "string", "enum": ["main", "alt"]}}},
                "Answer": {"type": "object", "required": ["success", "data"], "properties": {
                    "success": {"type": "boolean"},
                    "data": {"$ref": "#/components/schemas/Account"}}},
                "Account": {"type": "object", "required": ["accId"], "properties": {
                    "accId": {"type": "string", "format": "uuid"},
                    "accName": {"type": "string"},
                    "status": {"type": "string", "enum": ["active", "archived"]}}}
            }}
        })
    }

    fn changes_after(change: impl FnOnce(&mut Value)) -> Vec<Change> {
        let old = spec();
        let mut new = spec();
        change(&mut new);
        compare(("old", &old), ("new", &new))
            .expect("both are specs")
            .operations
            .into_values()
            .flatten()
            .collect()
    }

    #[test]
    fn the_same_spec_gives_an_empty_report_and_needs_no_release() {
        let report = compare(("old", &spec()), ("new", &spec())).expect("specs");
        assert!(report.is_empty());
        assert_eq!(report.bump(), Bump::None);
        assert!(report.render("0.1.0").starts_with("Summary: no change"));
    }

    #[test]
    fn descriptions_are_not_changes() {
        let changes = changes_after(|spec| {
            spec["components"]["schemas"]["Account"]["properties"]["accName"]["description"] =
                json!("new words");
        });
        assert!(changes.is_empty(), "{changes:#?}");
    }

    /// A named change to the spec, with the impact and text it must report.
    type Case = (
        &'static str,
        Box<dyn FnOnce(&mut Value)>,
        Impact,
        &'static str,
    );

    #[test]
    fn each_kind_of_change_is_classified() {
        let schemas = "/components/schemas";
        let operation = "/paths/~1v2~1accounts~1{accountId}~1name/patch";
        let cases: Vec<Case> = vec![
            (
                "a body field renamed",
                Box::new(move |spec: &mut Value| {
                    let body = spec
                        .pointer_mut(&format!("{schemas}/Body"))
                        .expect("the body");
                    let field = body["properties"]
                        .as_object_mut()
                        .expect("fields")
                        .remove("newName")
                        .expect("a field");
                    body["properties"]["name"] = field;
                    body["required"] = json!(["name"]);
                }),
                Impact::Breaking,
                "body field `new_name` (`newName`) removed",
            ),
            (
                "a field's type changed",
                Box::new(move |spec: &mut Value| {
                    *spec
                        .pointer_mut(&format!("{schemas}/Body/properties/newName"))
                        .expect("a field") = json!({"type": "integer"});
                }),
                Impact::Breaking,
                "body field `new_name` (`newName`): type changed from string to integer",
            ),
            (
                "an optional input added",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{schemas}/Body/properties"))
                        .expect("fields")["reason"] = json!({"type": "string"});
                }),
                Impact::Additive,
                "new optional body field `reason`",
            ),
            (
                "an output field added",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{schemas}/Account/properties"))
                        .expect("fields")["rank"] = json!({"type": "string"});
                }),
                Impact::Additive,
                "new answer field `data.rank`",
            ),
            (
                "an output made optional",
                Box::new(move |spec: &mut Value| {
                    *spec
                        .pointer_mut(&format!("{schemas}/Account/required"))
                        .expect("a list") = json!([]);
                }),
                Impact::Breaking,
                "answer field `data.acc_id` (`data.accId`) may now be absent",
            ),
            (
                "an output made nullable",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{schemas}/Account/properties/accName"))
                        .expect("a field")["nullable"] = json!(true);
                }),
                Impact::Breaking,
                "answer field `data.acc_name` (`data.accName`): may now be null",
            ),
            (
                "an optional input made required",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{operation}/parameters/1"))
                        .expect("a parameter")["required"] = json!(true);
                }),
                Impact::Breaking,
                "query parameter `dry_run` (`dryRun`) is now required",
            ),
            (
                "a required body field made optional",
                Box::new(move |spec: &mut Value| {
                    let required = spec
                        .pointer_mut(&format!("{schemas}/Body/required"))
                        .expect("a required list")
                        .as_array_mut()
                        .expect("a list");
                    required.retain(|name| name != "newName");
                }),
                Impact::Breaking,
                "is now optional (its Rust type becomes an `Option`",
            ),
            (
                "an enum value added to an answer",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{schemas}/Account/properties/status/enum"))
                        .expect("values")
                        .as_array_mut()
                        .expect("a list")
                        .push(json!("banned"));
                }),
                Impact::Additive,
                "new value \"banned\" (a new variant of a non-exhaustive enum",
            ),
            (
                "an enum value added to a request",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{schemas}/Body/properties/kind/enum"))
                        .expect("values")
                        .as_array_mut()
                        .expect("a list")
                        .push(json!("old"));
                }),
                Impact::Additive,
                "value \"old\" accepted",
            ),
            (
                "an enum value removed",
                Box::new(move |spec: &mut Value| {
                    *spec
                        .pointer_mut(&format!("{schemas}/Body/properties/kind/enum"))
                        .expect("values") = json!(["main"]);
                }),
                Impact::Breaking,
                "value \"alt\" removed",
            ),
            (
                "a rate limit lowered",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(operation).expect("the operation")["x-sonoran-rate-limit"]["requests"] =
                        json!(9);
                }),
                Impact::Breaking,
                "rate limit changed from 22 per 60 s to 9 per 60 s (lowered",
            ),
            (
                "a rate limit raised",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(operation).expect("the operation")["x-sonoran-rate-limit"]["requests"] =
                        json!(30);
                }),
                Impact::Additive,
                "(raised)",
            ),
            (
                "a retry rule changed",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(operation).expect("the operation")["x-sonoran-idempotent"] =
                        json!(true);
                }),
                Impact::Breaking,
                "now repeated after a 5XX, timeout or reset (idempotent)",
            ),
            (
                "the success status changed",
                Box::new(move |spec: &mut Value| {
                    spec.pointer_mut(&format!("{operation}/responses/2XX"))
                        .expect("a response")["x-documented-status"] = json!("204");
                }),
                Impact::Breaking,
                "documented success status changed from 200 to 204",
            ),
            (
                "the method changed",
                Box::new(|spec: &mut Value| {
                    let item = spec["paths"]["/v2/accounts/{accountId}/name"]
                        .as_object_mut()
                        .expect("an item");
                    let operation = item.remove("patch").expect("the operation");
                    item.insert("put".to_owned(), operation);
                }),
                Impact::Breaking,
                "method changed from PATCH to PUT",
            ),
            (
                "the path changed",
                Box::new(|spec: &mut Value| {
                    let paths = spec["paths"].as_object_mut().expect("paths");
                    let item = paths
                        .remove("/v2/accounts/{accountId}/name")
                        .expect("the item");
                    paths.insert("/v2/accounts/{accountId}/display-name".to_owned(), item);
                }),
                Impact::Breaking,
                "path changed from `/v2/accounts/{accountId}/name` to `/v2/accounts/{accountId}/display-name`",
            ),
            (
                "the operation removed",
                Box::new(|spec: &mut Value| {
                    spec["paths"] = json!({});
                }),
                Impact::Breaking,
                "operation removed (`PATCH /v2/accounts/{accountId}/name`)",
            ),
        ];
        for (case, change, impact, expected) in cases {
            let changes = changes_after(change);
            assert!(
                changes
                    .iter()
                    .any(|change| change.impact == impact && change.what.contains(expected)),
                "{case}: {impact:?} `{expected}` expected among {changes:#?}"
            );
            assert!(
                changes.iter().all(|change| change.impact == impact),
                "{case}: every change is {impact:?}: {changes:#?}"
            );
        }
    }

    #[test]
    fn a_new_operation_is_additive_and_the_summary_names_the_bump() {
        let mut old = spec();
        old["paths"] = json!({});
        let report = compare(("old", &old), ("new", &spec())).expect("specs");
        assert_eq!(report.bump(), Bump::Additive);
        let text = report.render("0.1.0");
        assert!(text.contains("### `set_name` (setName)"), "{text}");
        assert!(
            text.contains("- **additive**: new operation (`PATCH /v2/accounts/{accountId}/name`)"),
            "{text}"
        );
        assert!(text.contains("0.1.0 → 0.1.1"), "{text}");
        let breaking = compare(("old", &spec()), ("new", &old)).expect("specs");
        assert!(breaking.render("0.1.0").contains("0.1.0 → 0.2.0"));
        assert!(breaking.render("1.4.2").contains("1.4.2 → 2.0.0"));
    }
}
