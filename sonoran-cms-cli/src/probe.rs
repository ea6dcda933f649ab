//! `sonoran-cms probe`: calls the API's read-only operations with a real key,
//! through the client's own runtime (limiter, deadline), with ids found in
//! earlier answers, and reads every answer with the client's own generated
//! types (`sonoran_cms::testing::ignored_members`): what they cannot read and
//! every member they ignore, by JSON path. What it knows of each operation
//! (safety, documented statuses, maps keyed by data, groups of alternative
//! inputs) comes from the client's operation table, so the probe and the
//! client cannot disagree. The report holds shapes only (type names, hashes),
//! never a value the API sent, unless asked.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use sonoran_cms::Operation;
use sonoran_cms::testing::{BoxFuture, Transport, json_type, value_at};

use crate::JsonPrinter;
use crate::generated::{Cli, CliCommand};

/// The longest `Retry-After` the probe waits for after a 429 before it gives
/// the operation up; and how many times it waits for one operation.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);
const RETRIES_AFTER_429: usize = 2;

/// What the probe is asked to do.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The most requests it may send (the rate budget it is given).
    pub budget: usize,
    /// Report the values seen (ids, names, text) beside their shapes.
    pub include_values: bool,
    /// Only these operations (by operationId or Rust name), when given.
    pub only: Option<Vec<String>>,
    /// Where the JSON report is written.
    pub report: PathBuf,
}

/// One answer the transport saw.
#[derive(Debug, Clone)]
struct Recorded {
    status: u16,
    /// `Retry-After` in seconds, when the answer carried one.
    retry_after: Option<u64>,
    body: bytes::Bytes,
}

/// Sends through reqwest and keeps each answer's status and body.
#[derive(Debug, Clone)]
struct RecordingTransport {
    http: sonoran_cms::reqwest::Client,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl Transport for RecordingTransport {
    fn execute(
        &self,
        request: sonoran_cms::reqwest::Request,
    ) -> BoxFuture<'_, sonoran_cms::reqwest::Result<sonoran_cms::reqwest::Response>> {
        Box::pin(async move {
            let response = self.http.execute(request).await?;
            let status = response.status();
            let version = response.version();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            let retry_after = headers
                .get(http::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok());
            self.recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Recorded {
                    status: status.as_u16(),
                    retry_after,
                    body: body.clone(),
                });
            let mut rebuilt = http::Response::new(sonoran_cms::reqwest::Body::from(body));
            *rebuilt.status_mut() = status;
            *rebuilt.version_mut() = version;
            *rebuilt.headers_mut() = headers;
            Ok(sonoran_cms::reqwest::Response::from(rebuilt))
        })
    }
}

/// One difference between an answer and its type, before counting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    /// The JSON path's shape (`data.servers[].region`; list positions as `[]`,
    /// members of maps keyed by data as `{key}`).
    path: String,
    /// What kind of difference.
    kind: &'static str,
    /// What was seen: a type name or a hash (a value only with `--include-values`).
    seen: String,
}

/// Says what a report may show of values and names.
struct Redactor {
    include_values: bool,
    /// This run's key for hashing values (never written anywhere).
    run_key: String,
}

impl Redactor {
    /// What a report may say of `value`: a hash keyed for this run (equal
    /// values share it within one report; no dictionary of likely values
    /// recovers it), or with `--include-values` the value itself.
    fn shown(&self, value: &str) -> String {
        if self.include_values {
            value.to_owned()
        } else {
            let digest = sha1_smol::Sha1::from(format!("{}{value}", self.run_key))
                .digest()
                .to_string();
            format!("hash:{}", &digest[..12])
        }
    }

    /// `shape` with every member name that looks like data (a Discord id, a
    /// UUID, a name with spaces) as a keyed hash: a map keyed by data where
    /// the type has a closed object shows members whose names are ids.
    fn path(&self, shape: &str) -> String {
        if self.include_values {
            return shape.to_owned();
        }
        shape
            .split('.')
            .map(|segment| {
                let name = segment.trim_end_matches("[]");
                let items = &segment[name.len()..];
                if name.is_empty() || name == "{key}" || looks_like_a_member_name(name) {
                    segment.to_owned()
                } else {
                    format!("{{{}}}{items}", self.shown(name))
                }
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Whether `name` reads as a member name an API chose (`serverId`,
/// `clock_ins`), not as data: ASCII letters, digits and `_`, starting with a
/// letter or `_`, with no run of four digits, at most 48 characters.
fn looks_like_a_member_name(name: &str) -> bool {
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    let mut digits_in_a_row = 0;
    let mut long_number = false;
    for character in name.chars() {
        digits_in_a_row = if character.is_ascii_digit() {
            digits_in_a_row + 1
        } else {
            0
        };
        long_number |= digits_in_a_row >= 4;
    }
    starts_well
        && !long_number
        && name.len() <= 48
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_')
}

/// The JSON type serde names in "invalid type: string \"x\", expected ..."
/// (`string`, `integer`, `number`, `boolean`, `object`, `array`, `null`).
fn json_type_in(message: &str) -> &'static str {
    let rest = message.trim_start_matches("invalid type: ");
    [
        ("string", "string"),
        ("integer", "integer"),
        ("floating point", "number"),
        ("boolean", "boolean"),
        ("map", "object"),
        ("sequence", "array"),
        ("null", "null"),
        ("unit", "null"),
    ]
    .iter()
    .find(|(serde_name, _)| rest.starts_with(serde_name))
    .map_or("a value", |(_, json)| json)
}

/// What serde expected, from a message's `, expected ...` (type names only:
/// never a value).
fn expected_in(message: &str) -> &str {
    message
        .rsplit_once(", expected ")
        .map_or("", |(_, expected)| expected)
}

/// The name between the first pair of backticks of `message`.
fn quoted(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// The difference a decode failure of `operation`'s answer `body` is, with
/// its path as a shape and nothing the API sent unless values are shown.
fn decode_difference(
    operation: Operation,
    failure: &sonoran_cms::error::DecodeFailure,
    body: &Value,
    redactor: &Redactor,
) -> Difference {
    let shape = |path: &str| redactor.path(&sonoran_cms::testing::path_shape(operation, path));
    let below = |name: &str| {
        if failure.path == "." {
            name.to_owned()
        } else {
            format!("{}.{name}", failure.path)
        }
    };
    // Inside a value of several forms, the closest form's own message.
    let (message, form) = match failure.message.split_once("; the closest, `") {
        Some((_, rest)) => match rest.split_once("`: ") {
            Some((form, message)) => (message, Some(form)),
            None => (failure.message.as_str(), None),
        },
        None => (failure.message.as_str(), None),
    };
    let in_form = |seen: String| match form {
        Some(form) => format!("{seen} (the closest form, `{form}`)"),
        None => seen,
    };
    if let Some(name) = message
        .strip_prefix("missing field ")
        .and_then(|_| quoted(message))
    {
        return Difference {
            path: shape(&below(name)),
            kind: "a required member absent",
            seen: in_form("absent".to_owned()),
        };
    }
    if let Some(name) = message
        .strip_prefix("unknown field ")
        .and_then(|_| quoted(message))
    {
        let path = below(name);
        let seen = value_at(body, &path).map_or("a value", json_type);
        return Difference {
            path: shape(&path),
            kind: "a member the type does not know",
            seen: in_form(seen.to_owned()),
        };
    }
    if message.starts_with("invalid type: null") {
        return Difference {
            path: shape(&failure.path),
            kind: "null where the type says no",
            seen: in_form("null".to_owned()),
        };
    }
    if message.starts_with("invalid type: ") {
        return Difference {
            path: shape(&failure.path),
            kind: "a value of another type",
            seen: in_form(format!(
                "{} (the type says {})",
                json_type_in(message),
                expected_in(message)
            )),
        };
    }
    if message.starts_with("unknown variant ") {
        let value = quoted(message).unwrap_or_default();
        return Difference {
            path: shape(&failure.path),
            kind: "a value the type does not list",
            seen: in_form(redactor.shown(&Value::String(value.to_owned()).to_string())),
        };
    }
    if form.is_some()
        || failure
            .message
            .starts_with("data did not match any variant")
    {
        return Difference {
            path: shape(&failure.path),
            kind: "a form no variant fits",
            seen: in_form(
                value_at(body, &failure.path)
                    .map_or("a value", json_type)
                    .to_owned(),
            ),
        };
    }
    Difference {
        path: shape(&failure.path),
        kind: "a value the type does not accept",
        seen: if redactor.include_values {
            failure.message.clone()
        } else {
            expected_in(message).to_owned()
        },
    }
}

/// Every difference between `body`, a success answer of `operation`, and the
/// operation's generated type: what it cannot read (serde stops at the first
/// value that does not fit) or, when it reads the body, each member it ignores.
fn differences(operation: Operation, body: &[u8], redactor: &Redactor) -> Vec<Difference> {
    match sonoran_cms::testing::ignored_members(operation, body) {
        None => Vec::new(),
        Some(Ok(ignored)) => ignored
            .into_iter()
            .map(|member| Difference {
                path: redactor.path(&member.shape),
                kind: "a member the type does not know",
                seen: member.json_type.to_owned(),
            })
            .collect(),
        Some(Err(failure)) => match serde_json::from_slice::<Value>(body) {
            Ok(value) => vec![decode_difference(operation, &failure, &value, redactor)],
            Err(_) => vec![Difference {
                path: String::new(),
                kind: "a body that is not JSON",
                seen: format!("{} bytes", body.len()),
            }],
        },
    }
}

/// Values found in earlier answers, by the parameter name they can fill.
#[derive(Debug, Default)]
struct Discovered {
    values: BTreeMap<String, Vec<String>>,
}

impl Discovered {
    /// Keeps the scalars of `value`: each member under its own name, an `id`
    /// in a list under `things` also as `thingId`, and `accId` as `accountId`.
    fn harvest(&mut self, value: &Value, list: Option<&str>) {
        match value {
            Value::Object(members) => {
                for (name, member) in members {
                    if let Some(text) = scalar(member) {
                        self.keep(name, &text);
                        if name == "accId" {
                            self.keep("accountId", &text);
                        }
                        if let (Some(list), "id") = (list, name.as_str()) {
                            let singular = list.strip_suffix('s').unwrap_or(list);
                            self.keep(&format!("{singular}Id"), &text);
                        }
                    }
                    let inner_list = member.is_array().then_some(name.as_str());
                    self.harvest(member, inner_list);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.harvest(item, list);
                }
            }
            _ => {}
        }
    }

    /// Keeps the `id` of each item `body` (an answer of `operation`) lists
    /// under the name of each path placeholder it fills: items answered at
    /// `/forms` fill `{templateId}` of `/forms/{templateId}`, items answered
    /// at `/forms/{templateId}/submissions` fill `{submissionId}` of
    /// `/forms/submissions/{submissionId}`: the placeholder that follows the
    /// answer's last literal segment.
    fn harvest_item_ids(&mut self, operation: Operation, body: &Value) {
        let Some(listed) = operation
            .path()
            .rsplit('/')
            .find(|segment| !segment.starts_with('{'))
        else {
            return;
        };
        let mut names: Vec<&str> = Vec::new();
        for other in Operation::ALL {
            let segments: Vec<&str> = other.path().split('/').collect();
            for pair in segments.windows(2) {
                if pair[0] == listed
                    && let Some(name) = pair[1]
                        .strip_prefix('{')
                        .and_then(|rest| rest.strip_suffix('}'))
                    && !names.contains(&name)
                {
                    names.push(name);
                }
            }
        }
        let data = &body["data"];
        let lists = std::iter::once(data).chain(
            data.as_object()
                .into_iter()
                .flat_map(|members| members.values()),
        );
        // An item's id is its `id`, or the member the spec says tells items
        // of the operation's pages apart (a submission's `formId`).
        let identity = operation.item_identity().unwrap_or("id");
        let ids: Vec<String> = lists
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|item| scalar(&item["id"]).or_else(|| scalar(&item[identity])))
            .collect();
        for name in names {
            for id in &ids {
                self.keep(name, id);
            }
        }
    }

    fn keep(&mut self, name: &str, text: &str) {
        let values = self.values.entry(name.to_owned()).or_default();
        if values.len() < 3 && !values.iter().any(|known| known == text) {
            values.push(text.to_owned());
        }
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// What one operation's calls gave.
#[derive(Debug, Default)]
struct OperationReport {
    calls: usize,
    /// Every answer's status, documented or not.
    statuses: BTreeMap<String, usize>,
    differences: BTreeMap<Difference, usize>,
    /// Why a call got no answer, when it did not (no value in it).
    unanswered: Option<&'static str>,
}

/// What ended a call that got no answer, by kind only (an error's message may
/// hold an id from the path).
fn unanswered(error: anyhow::Error) -> &'static str {
    let Ok(error) = error.downcast::<sonoran_cms::OperationError>() else {
        return "its arguments were refused";
    };
    match sonoran_cms::Error::from(error) {
        sonoran_cms::Error::InvalidRequest { .. } => {
            "refused before sending (an input the client refuses)"
        }
        sonoran_cms::Error::Timeout { .. } => "no answer before the deadline (a slow API)",
        sonoran_cms::Error::RateLimited { .. } => {
            "no rate-limit slot before the deadline (the client's own throttling)"
        }
        sonoran_cms::Error::Connect { .. } => "no connection (the base URL, DNS or TLS)",
        sonoran_cms::Error::RateLimiterUnavailable { .. } => {
            "the shared rate limiter could not be asked"
        }
        _ => "the transport failed before an answer",
    }
}

/// Why the probe stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Unauthorized,
    BudgetSpent,
}

/// The whole run's report, and whether the API fits the types.
pub struct ProbeOutcome {
    /// The Markdown summary (deterministic: the same answers give the same text).
    pub markdown: String,
    /// The JSON report.
    pub json: Value,
    /// How the run ended: the exit status's meaning.
    pub verdict: Verdict,
}

/// How a probe run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every answer checked fits its type (exit 0).
    Fits,
    /// An answer differs from its type, or no operation answered at all, so
    /// nothing could be checked (exit 1).
    Differs,
    /// The key was refused (401): nothing after it was checked (exit 2).
    KeyRefused,
}

/// The operations `only` names (by operationId or Rust name), or every
/// read-only one; an unknown name is an error that suggests the closest.
fn chosen_operations(only: Option<&[String]>) -> anyhow::Result<Vec<Operation>> {
    let Some(only) = only else {
        return Ok(Operation::ALL
            .iter()
            .copied()
            .filter(|operation| operation.is_safe())
            .collect());
    };
    let mut chosen = Vec::new();
    let mut unknown = Vec::new();
    for name in only {
        match name.parse::<Operation>() {
            Ok(operation) if operation.is_safe() => chosen.push(operation),
            Ok(operation) => unknown.push(format!(
                "`{name}` changes data on the server ({} {}): the probe calls read-only operations only",
                operation.method(),
                operation.path()
            )),
            Err(error) => unknown.push(error.to_string()),
        }
    }
    if !unknown.is_empty() {
        anyhow::bail!(
            "--operations: {} (give operationIds such as getServers, or Rust names such as get_servers)",
            unknown.join("; ")
        );
    }
    Ok(chosen)
}

/// The API's name of a command-line argument (`server-id` is `serverId`).
fn api_name(argument: &clap::Arg) -> String {
    heck::ToLowerCamelCase::to_lower_camel_case(argument.get_id().as_str())
}

/// The command-line arguments to call `operation` with values found so far,
/// or why it cannot be called yet: every required input from an earlier
/// answer (or, for a value set, its first known value), one field of each
/// required group of alternative inputs, and for a body that must name an
/// account, the first account found.
fn arguments_for(
    operation: Operation,
    command: &clap::Command,
    discovered: &Discovered,
) -> Result<Vec<String>, String> {
    let mut arguments = vec!["probe".to_owned()];
    let mut push = |argument: &clap::Arg, value: &str| {
        arguments.push(format!("--{}", argument.get_id()));
        arguments.push(value.to_owned());
    };
    for argument in command
        .get_arguments()
        .filter(|argument| argument.is_required_set())
    {
        let name = api_name(argument);
        let known = argument
            .get_possible_values()
            .into_iter()
            .find(|value| !value.is_hide_set())
            .map(|value| value.get_name().to_owned());
        match discovered.first(&name).map(str::to_owned).or(known) {
            Some(value) => push(argument, &value),
            None => return Err(format!("no value for `{name}` in earlier answers")),
        }
    }
    // An optional id found in an earlier answer narrows the call as a user
    // would (getCurrentSession of server 1); fields of a group of
    // alternatives are chosen below, one at most.
    let in_a_group = |name: &str| {
        operation
            .one_of_groups()
            .iter()
            .any(|group| group.fields.contains(&name))
    };
    for argument in command
        .get_arguments()
        .filter(|argument| !argument.is_required_set())
    {
        let name = api_name(argument);
        if name.ends_with("Id")
            && !in_a_group(&name)
            && let Some(value) = discovered.first(&name)
        {
            push(argument, value);
        }
    }
    for group in operation
        .one_of_groups()
        .iter()
        .filter(|group| group.required)
    {
        let found = group.fields.iter().find_map(|field| {
            let argument = command
                .get_arguments()
                .find(|argument| api_name(argument) == *field)?;
            discovered.first(field).map(|value| (argument, value))
        });
        match found {
            Some((argument, value)) => push(argument, value),
            None => {
                return Err(format!(
                    "no value for its {} ({}) in earlier answers",
                    group.group,
                    group.fields.join(", ")
                ));
            }
        }
    }
    Ok(arguments)
}

/// Runs the probe with a client built from `builder`.
///
/// # Errors
///
/// The client cannot be built, or `--operations` names an operation the
/// client does not have or one that changes data.
pub async fn run(
    builder: sonoran_cms::ClientBuilder,
    options: &ProbeOptions,
) -> anyhow::Result<ProbeOutcome> {
    let operations = chosen_operations(options.only.as_deref())?;
    // With `rustls-ring`, the provider the client would install is needed by
    // the probe's own HTTP client first.
    #[cfg(feature = "rustls-ring")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let http = sonoran_cms::reqwest::Client::builder()
        .redirect(sonoran_cms::reqwest::redirect::Policy::none())
        .build()?;
    // No retries: each call is one request, so the budget counts requests
    // exactly, and each answer is what the API said, not a later attempt's.
    // A 429 is waited for here, by its `Retry-After`.
    let client = builder
        .retry_policy(sonoran_cms::RetryPolicy::none())
        .transport(RecordingTransport {
            http,
            recorded: Arc::clone(&recorded),
        })
        .build()?;
    let redactor = Redactor {
        include_values: options.include_values,
        run_key: format!("{:?}{}", std::time::SystemTime::now(), std::process::id()),
    };
    // Each operation with its command; operations that need nothing first:
    // their answers give the ids the others need.
    let mut ordered: Vec<(Operation, CliCommand, clap::Command)> = Vec::new();
    let mut skipped: BTreeMap<String, String> = BTreeMap::new();
    for operation in operations {
        match CliCommand::iter().find(|command| command.operation_id() == operation.as_str()) {
            Some(command) => {
                ordered.push((operation, command, Cli::<JsonPrinter>::get_command(command)));
            }
            None => {
                skipped.insert(
                    operation.operation_id().to_owned(),
                    "the command line has no such operation".to_owned(),
                );
            }
        }
    }
    ordered.sort_by_key(|(operation, _, command)| {
        command
            .get_arguments()
            .filter(|argument| argument.is_required_set())
            .count()
            + operation
                .one_of_groups()
                .iter()
                .filter(|group| group.required)
                .count()
    });

    let mut discovered = Discovered::default();
    let mut reports: BTreeMap<String, OperationReport> = BTreeMap::new();
    let mut stop = None;
    let mut calls = 0;
    // An operation whose inputs no answer has given yet waits for the next
    // pass (a submission's id comes from a template's submissions, whose
    // template id comes from the templates); passes end when one calls nothing.
    let mut pending = ordered;
    'passes: loop {
        let mut waiting = Vec::new();
        let before_pass = pending.len();
        for (operation, command, clap_command) in pending {
            let operation_id = operation.operation_id();
            if calls >= options.budget {
                stop = Some(Stop::BudgetSpent);
                break 'passes;
            }
            let arguments = match arguments_for(operation, &clap_command, &discovered) {
                Ok(arguments) => arguments,
                Err(why) => {
                    skipped.insert(operation_id.to_owned(), why);
                    waiting.push((operation, command, clap_command));
                    continue;
                }
            };
            skipped.remove(operation_id);
            let Ok(matches) = clap_command.clone().try_get_matches_from(&arguments) else {
                skipped.insert(
                    operation_id.to_owned(),
                    "its arguments could not be formed from the values found".to_owned(),
                );
                continue;
            };
            let report = reports.entry(operation_id.to_owned()).or_default();
            for attempt in 0..=RETRIES_AFTER_429 {
                let before = recorded
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len();
                // Decode failures and API errors are read from the recorded
                // answers; a call that got no answer is reported by what ended it.
                let outcome = Cli::new(client.clone(), JsonPrinter { quiet: true })
                    .execute(command, &matches)
                    .await;
                let answers: Vec<Recorded> =
                    recorded.lock().unwrap_or_else(PoisonError::into_inner)[before..].to_vec();
                if let (Err(error), true) = (outcome, answers.is_empty()) {
                    report.unanswered = Some(unanswered(error));
                }
                let mut wait = None;
                for answer in &answers {
                    calls += 1;
                    report.calls += 1;
                    *report
                        .statuses
                        .entry(answer.status.to_string())
                        .or_default() += 1;
                    match answer.status {
                        401 => stop = Some(Stop::Unauthorized),
                        429 => wait = answer.retry_after.map(Duration::from_secs),
                        _ => {}
                    }
                    if !operation.documents_status(answer.status) {
                        *report
                            .differences
                            .entry(Difference {
                                path: String::new(),
                                kind: "a status the docs do not name",
                                seen: answer.status.to_string(),
                            })
                            .or_default() += 1;
                    }
                    if (200..300).contains(&answer.status) && operation.has_success_body() {
                        for difference in differences(operation, &answer.body, &redactor) {
                            *report.differences.entry(difference).or_default() += 1;
                        }
                        if let Ok(body) = serde_json::from_slice::<Value>(&answer.body) {
                            discovered.harvest(&body, None);
                            discovered.harvest_item_ids(operation, &body);
                        }
                    }
                }
                // A 429 is the API's own limit, documented: waited for within the
                // budget, never a difference.
                match wait {
                    Some(wait)
                        if stop.is_none()
                            && attempt < RETRIES_AFTER_429
                            && calls < options.budget
                            && wait <= LONGEST_RETRY_AFTER =>
                    {
                        tokio::time::sleep(wait).await;
                    }
                    _ => break,
                }
            }
            if stop.is_some() {
                break 'passes;
            }
        }
        if waiting.is_empty() || waiting.len() == before_pass {
            break;
        }
        pending = waiting;
    }
    Ok(outcome(&reports, &skipped, stop, calls, options))
}

/// `text` as one Markdown table cell: a `|` or a line break would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The Markdown and JSON reports of a run.
fn outcome(
    reports: &BTreeMap<String, OperationReport>,
    skipped: &BTreeMap<String, String>,
    stop: Option<Stop>,
    calls: usize,
    options: &ProbeOptions,
) -> ProbeOutcome {
    let stopped = match stop {
        Some(Stop::Unauthorized) => "at the first 401 (the key was refused)",
        Some(Stop::BudgetSpent) => "when the rate budget was spent",
        None => "after every read-only operation it could call",
    };
    let differs = reports
        .values()
        .any(|report| !report.differences.is_empty());
    let answered = reports.values().any(|report| report.calls > 0);
    let verdict = match stop {
        Some(Stop::Unauthorized) => Verdict::KeyRefused,
        _ if differs || !answered => Verdict::Differs,
        _ => Verdict::Fits,
    };
    let mut markdown = String::from("# sonoran-cms probe report\n\n");
    if options.include_values {
        markdown.push_str(
            "> **Not redacted**: this report was made with `--include-values` and holds values the API sent (ids, names, text). Do not paste it in public.\n\n",
        );
    } else {
        markdown.push_str(
            "> Redacted: this report holds shapes only (JSON paths, type names and hashes), never a value the API sent: no ids, names, Discord ids, keys or free text.\n\n",
        );
    }
    markdown.push_str(&format!(
        "sonoran-cms {} (answers read with its own types): {calls} calls; stopped {stopped}. {}\n\n",
        env!("CARGO_PKG_VERSION"),
        match verdict {
            Verdict::KeyRefused => "**The key was refused (401): nothing after it was checked.**",
            Verdict::Differs if !differs => "**No operation answered: nothing was checked.**",
            Verdict::Differs => "**The API differs from the types.**",
            Verdict::Fits => "Every answer fits its type.",
        }
    ));
    markdown
        .push_str("| operation | calls | statuses | differences |\n| --- | --- | --- | --- |\n");
    for (operation, report) in reports {
        let statuses: Vec<String> = report
            .statuses
            .iter()
            .map(|(status, count)| format!("{status} ×{count}"))
            .collect();
        let differences = match report.unanswered {
            Some(why) => format!("no answer: {why}"),
            None => report.differences.len().to_string(),
        };
        markdown.push_str(&format!(
            "| {operation} | {} | {} | {differences} |\n",
            report.calls,
            statuses.join(", ")
        ));
    }
    for (operation, report) in reports
        .iter()
        .filter(|(_, report)| !report.differences.is_empty())
    {
        markdown.push_str(&format!(
            "\n## {operation}\n\n| path | difference | seen | times |\n| --- | --- | --- | --- |\n"
        ));
        for (difference, count) in &report.differences {
            let path = if difference.path.is_empty() {
                "(the answer)".to_owned()
            } else {
                format!("`{}`", difference.path)
            };
            markdown.push_str(&format!(
                "| {} | {} | {} | {count} |\n",
                cell(&path),
                difference.kind,
                cell(&difference.seen)
            ));
        }
    }
    if !skipped.is_empty() {
        markdown.push_str("\n## Not called\n\n");
        for (operation, reason) in skipped {
            markdown.push_str(&format!("- {operation}: {reason}\n"));
        }
    }
    let json = json!({
        "tool": "sonoran-cms probe",
        "redacted": !options.include_values,
        "crate_version": env!("CARGO_PKG_VERSION"),
        "date": chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "calls": calls,
        "stopped": match stop {
            Some(Stop::Unauthorized) => json!("unauthorized"),
            Some(Stop::BudgetSpent) => json!("budget"),
            None => Value::Null,
        },
        "operations": reports.iter().map(|(operation, report)| json!({
            "operation": operation,
            "calls": report.calls,
            "statuses": report.statuses,
            "unanswered": report.unanswered,
            "differences": report.differences.iter().map(|(difference, count)| json!({
                "path": difference.path,
                "kind": difference.kind,
                "seen": difference.seen,
                "count": count,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "skipped": skipped,
    });
    ProbeOutcome {
        markdown,
        json,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(include_values: bool) -> Redactor {
        Redactor {
            include_values,
            run_key: "test run".to_owned(),
        }
    }

    #[test]
    fn a_member_the_types_do_not_name_is_reported_and_one_they_name_is_not() {
        // `description` is a member of the client's server type (the probe's
        // old copy of the spec had lost it); `region` is not.
        let body = json!({"success": true, "data": {"servers": [
            {"id": 1, "name": "Main", "description": "Our server", "region": "eu-hidden"}
        ]}});
        let found = differences(
            Operation::GetServers,
            body.to_string().as_bytes(),
            &redactor(false),
        );
        assert_eq!(
            found,
            [Difference {
                path: "data.servers[].region".to_owned(),
                kind: "a member the type does not know",
                seen: "string".to_owned(),
            }]
        );
    }

    #[test]
    fn names_that_are_data_are_hashed_unless_values_are_asked_for() {
        let shape = "data.123456789012345678.name";
        let redacted = redactor(false).path(shape);
        assert!(redacted.starts_with("data.{hash:") && redacted.ends_with("}.name"));
        assert!(!redacted.contains("123456789012345678"), "{redacted}");
        assert_eq!(redactor(true).path(shape), shape);
        assert_eq!(
            redactor(false).path("data.items[].clockIns[].{key}"),
            "data.items[].clockIns[].{key}"
        );
        for data in [
            "d5663516-ee35-11e9",
            "Jane Doe",
            "steam:1100001",
            "user2024",
        ] {
            assert!(!looks_like_a_member_name(data), "{data}");
        }
        for name in ["serverId", "clock_ins", "v2", "accId"] {
            assert!(looks_like_a_member_name(name), "{name}");
        }
    }

    #[test]
    fn a_value_that_does_not_fit_is_reported_by_kind_without_the_value() {
        let body =
            json!({"success": true, "data": {"servers": [{"id": "Sekrit", "name": "Main"}]}});
        let found = differences(
            Operation::GetServers,
            body.to_string().as_bytes(),
            &redactor(false),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "data.servers[].id");
        assert_eq!(found[0].kind, "a value of another type");
        assert!(
            found[0].seen.starts_with("string (the type says"),
            "{found:?}"
        );
        assert!(!format!("{found:?}").contains("Sekrit"));
        let missing = json!({"success": true, "data": {"servers": [{"name": "Main"}]}});
        let found = differences(
            Operation::GetServers,
            missing.to_string().as_bytes(),
            &redactor(false),
        );
        assert_eq!(
            (found[0].path.as_str(), found[0].kind),
            ("data.servers[].id", "a required member absent")
        );
    }

    #[test]
    fn ids_are_found_in_earlier_answers_by_name_and_by_list() {
        let mut discovered = Discovered::default();
        discovered.harvest(
            &json!({"data": {"servers": [{"id": 3}], "items": [{"accId": "a-1"}]}}),
            None,
        );
        assert_eq!(discovered.first("serverId"), Some("3"));
        assert_eq!(discovered.first("accountId"), Some("a-1"));
    }

    #[test]
    fn inputs_come_from_found_ids_value_sets_and_groups_of_alternatives() {
        let command_of = |operation: Operation| {
            let command = CliCommand::iter()
                .find(|command| command.operation_id() == operation.as_str())
                .expect("a command");
            Cli::<JsonPrinter>::get_command(command)
        };
        let mut discovered = Discovered::default();
        discovered.harvest(
            &json!({"data": {"accId": "8d2f0c4e-1111-4222-8333-444455556666", "discord": "123456789012345678"}}),
            None,
        );
        // `type` is a value set: its first known value serves.
        let latest = arguments_for(
            Operation::GetLatestActivity,
            &command_of(Operation::GetLatestActivity),
            &discovered,
        )
        .expect("every input has a value");
        assert!(
            latest.windows(2).any(|pair| pair[0] == "--type"),
            "{latest:?}"
        );
        // The account identity group takes the first field with a value.
        let search = arguments_for(
            Operation::SearchAccounts,
            &command_of(Operation::SearchAccounts),
            &discovered,
        )
        .expect("an identity was found");
        assert_eq!(search.len(), 3, "one field of the group: {search:?}");
        assert_eq!(search[2], "8d2f0c4e-1111-4222-8333-444455556666");
        assert!(
            arguments_for(
                Operation::SearchAccounts,
                &command_of(Operation::SearchAccounts),
                &Discovered::default()
            )
            .is_err_and(|why| why.contains("account identity"))
        );
    }
}
