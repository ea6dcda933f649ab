//! Importing the published API docs: every endpoint page's OpenAPI block merged into
//! one OpenAPI 3.0.3 document, with what each page's tables and text say and its
//! block leaves out (body properties and required flags, query and path parameters,
//! the response example, the rate limit). Same docs in, same bytes out.
//!
//! A docs checkout is a folder of section folders (`sessions/`, `accounts/`, ...)
//! of endpoint pages, plus `rate-limits.md`. Where a page's table and its OpenAPI
//! block disagree, the table wins and the disagreement is reported; a page that
//! cannot be read is an error naming the page and the reason, and nothing is written.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::CodegenError;
use crate::operations::RATE_LIMIT_EXTENSION;

/// The host every page's URL starts with.
const API_HOST: &str = "https://api.sonorancms.com";
/// Pages that describe the API as a whole rather than one endpoint.
const NOT_ENDPOINT_PAGES: [&str; 3] = ["README.md", "libraries.md", "rate-limits.md"];

/// One docs page, by its path relative to the docs folder (`sessions/cancel-session.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsPage {
    /// Path relative to the docs folder, with `/` separators.
    pub relative_path: String,
    /// The page's Markdown.
    pub text: String,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedDocs {
    /// The merged OpenAPI document.
    pub spec: Value,
    /// How many endpoint pages were read.
    pub pages: usize,
    /// How many operations the document holds.
    pub operations: usize,
    /// Every place where a page contradicts itself or `rate-limits.md`, one line each.
    pub disagreements: Vec<String>,
    /// The schemas derived from the docs' examples, as an Overlay on `spec`.
    pub derived: Value,
}

/// Reads every page below `docs_folder` (sorted, so the result is deterministic).
pub fn read_docs_folder(docs_folder: &Path) -> Result<Vec<DocsPage>, CodegenError> {
    let mut pages = Vec::new();
    collect_pages(docs_folder, docs_folder, &mut pages)?;
    pages.sort_by(|left, right| left.relative_path.cmp(&right.relative_path));
    Ok(pages)
}

fn collect_pages(
    root: &Path,
    folder: &Path,
    pages: &mut Vec<DocsPage>,
) -> Result<(), CodegenError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| CodegenError::Io {
            path,
            action: "read",
            source,
        }
    };
    for entry in std::fs::read_dir(folder).map_err(io_error(folder))? {
        let path = entry.map_err(io_error(folder))?.path();
        if path.is_dir() {
            collect_pages(root, &path, pages)?;
        } else if path.extension().is_some_and(|extension| extension == "md") {
            let relative_path = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|component| component.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            pages.push(DocsPage {
                relative_path,
                text,
            });
        }
    }
    Ok(())
}

/// Merges the pages into one OpenAPI document.
pub fn import(pages: &[DocsPage]) -> Result<ImportedDocs, CodegenError> {
    let page_error = |page: &DocsPage, reason: String| CodegenError::DocsPage {
        page: page.relative_path.clone(),
        reason,
    };
    let listed_limits = match pages
        .iter()
        .find(|page| page.relative_path == "rate-limits.md")
    {
        Some(page) => listed_rate_limits(&page.text).map_err(|reason| page_error(page, reason))?,
        None => BTreeMap::new(),
    };

    let mut disagreements = Vec::new();
    let mut paths = Map::new();
    let mut tags = Vec::new();
    let mut operation_ids = BTreeMap::new();
    let mut info = None;
    let mut endpoint_pages = 0;
    for page in pages {
        let file_name = page.relative_path.rsplit('/').next().unwrap_or_default();
        let Some((section, _)) = page.relative_path.rsplit_once('/') else {
            continue;
        };
        if NOT_ENDPOINT_PAGES.contains(&file_name) {
            continue;
        }
        endpoint_pages += 1;
        let parsed = parse_page(page).map_err(|reason| page_error(page, reason))?;
        let mut notes = Vec::new();
        let listed_limit = listed_limits.get(&page.relative_path).copied();
        let operation = merged_operation(&parsed, section, listed_limit, &mut notes)
            .map_err(|reason| page_error(page, reason))?;
        disagreements.extend(
            notes
                .into_iter()
                .map(|note| format!("{}: {note}", page.relative_path)),
        );

        let operation_id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(first) = operation_ids.insert(operation_id.clone(), page.relative_path.clone())
        {
            return Err(page_error(
                page,
                format!("operationId `{operation_id}` is already used by {first}"),
            ));
        }
        if !tags.iter().any(|tag: &Value| tag["name"] == section) {
            tags.push(json!({"name": section}));
        }
        info.get_or_insert_with(|| parsed.block["info"]["version"].clone());
        let path_item = paths
            .entry(parsed.path_template.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let method = parsed.method.to_ascii_lowercase();
        if path_item.get(&method).is_some() {
            return Err(page_error(
                page,
                format!(
                    "{} {} is already described by another page",
                    parsed.method, parsed.path_template
                ),
            ));
        }
        path_item[&method] = operation;
    }

    let operations = operation_ids.len();
    let spec = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Sonoran CMS v2",
            "version": info.unwrap_or_else(|| json!("1.0.0")),
            "description": "The Sonoran CMS v2 API, merged from its published endpoint pages.",
        },
        "servers": [{"url": API_HOST}],
        "tags": tags,
        "paths": paths,
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    });
    let derived = crate::derive::derived_overlay(&spec);
    Ok(ImportedDocs {
        spec,
        pages: endpoint_pages,
        operations,
        disagreements,
        derived,
    })
}

/// What one endpoint page says.
#[derive(Debug, Clone, PartialEq)]
struct ParsedPage {
    method: String,
    /// The path as the OpenAPI block templates it (`/v2/x/{id}`).
    path_template: String,
    rate_limit: Option<u32>,
    table: Option<Table>,
    block: Value,
    response_example: Option<Value>,
    /// The JSON body of the page's cURL example, if it sends one.
    request_example: Option<Value>,
    /// The query parameters of the page's cURL example URL, by name.
    query_example: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
struct Table {
    /// `Request Body` or `Query Parameters`.
    heading: String,
    rows: Vec<TableRow>,
}

#[derive(Debug, Clone, PartialEq)]
struct TableRow {
    name: String,
    schema: Value,
    required: bool,
}

fn parse_page(page: &DocsPage) -> Result<ParsedPage, String> {
    // Some pages escape the table pipes (`\|`); they mean the same.
    let text = page.text.replace("\\|", "|");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();

    let endpoint_line = lines
        .iter()
        .find(|line| line.starts_with("<mark"))
        .ok_or("no method and URL line (`<mark ...>`METHOD`</mark> `URL``)")?;
    let quoted: Vec<&str> = endpoint_line.split('`').skip(1).step_by(2).collect();
    let [method, url, ..] = quoted.as_slice() else {
        return Err(format!(
            "the method and URL line `{endpoint_line}` does not quote both"
        ));
    };
    let concrete_path = url
        .strip_prefix(API_HOST)
        .ok_or_else(|| format!("the URL `{url}` is not on {API_HOST}"))?;

    let rate_limit = lines
        .iter()
        .find(|line| line.contains("**Rate limit:**"))
        .map(|line| parse_rate_limit(line))
        .transpose()?;

    let table = ["Request Body", "Query Parameters"]
        .into_iter()
        .find_map(|heading| section_lines(&lines, heading).map(|section| (heading, section)))
        .map(|(heading, section)| parse_table(heading, &section))
        .transpose()?;

    let block_text = fenced_block_after(&lines, "{% tab title=\"OpenAPI\" %}", "yaml")
        .ok_or("no OpenAPI tab with a ```yaml block")?;
    let block: Value = serde_yaml::from_str(&block_text)
        .map_err(|error| format!("the OpenAPI block is not YAML: {error}"))?;
    let block_paths = block["paths"]
        .as_object()
        .ok_or("the OpenAPI block has no `paths`")?;
    let [(path_template, path_item)] = block_paths.iter().collect::<Vec<_>>()[..] else {
        return Err(format!(
            "the OpenAPI block describes {} paths, not one",
            block_paths.len()
        ));
    };
    let block_methods: Vec<&String> = path_item
        .as_object()
        .map(|item| item.keys().collect())
        .unwrap_or_default();
    if block_methods != [&method.to_ascii_lowercase()] {
        return Err(format!(
            "the page says {method} but the OpenAPI block describes {block_methods:?}"
        ));
    }
    if !template_matches(path_template, concrete_path) {
        return Err(format!(
            "the page's URL path `{concrete_path}` does not fit the block's path `{path_template}`"
        ));
    }

    let response_example = section_lines(&lines, "Response")
        .and_then(|section| fenced_block_after(&section, "", "json"))
        .map(|json_text| {
            serde_json::from_str(&json_text)
                .map_err(|error| format!("the Response section's JSON is not valid: {error}"))
        })
        .transpose()?;

    let request_example = lines
        .iter()
        .find_map(|line| line.trim().strip_prefix("--data '"))
        .map(|data| {
            let json_text = data.trim_end().strip_suffix('\'').unwrap_or(data);
            serde_json::from_str(json_text)
                .map_err(|error| format!("the cURL example's --data is not JSON: {error}"))
        })
        .transpose()?;

    let query_example = lines
        .iter()
        .find_map(|line| line.trim().strip_prefix("--url \""))
        .and_then(|url| url.split('"').next())
        .and_then(|url| url.split_once('?'))
        .map(|(_, query)| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(name, value)| (name.to_owned(), query_value(value)))
                .collect()
        })
        .unwrap_or_default();

    Ok(ParsedPage {
        method: method.to_ascii_uppercase(),
        path_template: path_template.clone(),
        rate_limit,
        table,
        block,
        response_example,
        request_example,
        query_example,
    })
}

/// A query-string value as the JSON value it stands for: `25` a number, `true` a
/// boolean, anything else text.
fn query_value(text: &str) -> Value {
    if let Ok(number) = text.parse::<i64>() {
        json!(number)
    } else if let Ok(flag) = text.parse::<bool>() {
        json!(flag)
    } else {
        json!(text)
    }
}

/// `> **Rate limit:** `9 requests per minute`` → 9.
fn parse_rate_limit(line: &str) -> Result<u32, String> {
    let quoted = line.split('`').nth(1).unwrap_or_default();
    quoted
        .strip_suffix(" requests per minute")
        .or_else(|| quoted.strip_suffix(" requests/min"))
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| format!("the rate limit `{quoted}` is not `N requests per minute`"))
}

/// The lines under `## <heading>` up to the next `## `, if the page has that section.
fn section_lines<'a>(lines: &[&'a str], heading: &str) -> Option<Vec<&'a str>> {
    let title = format!("## {heading}");
    let start = lines.iter().position(|line| line.trim() == title)?;
    Some(
        lines[start + 1..]
            .iter()
            .take_while(|line| !line.starts_with("## "))
            .copied()
            .collect(),
    )
}

/// The text of the first ```<language> fence after the line `marker` (or anywhere,
/// when `marker` is empty).
fn fenced_block_after(lines: &[&str], marker: &str, language: &str) -> Option<String> {
    let start = if marker.is_empty() {
        0
    } else {
        lines.iter().position(|line| line.trim() == marker)? + 1
    };
    let opening = format!("```{language}");
    let fence = start
        + lines[start..]
            .iter()
            .position(|line| line.trim() == opening)?;
    let body: Vec<&str> = lines[fence + 1..]
        .iter()
        .take_while(|line| line.trim() != "```")
        .copied()
        .collect();
    Some(body.join("\n"))
}

fn parse_table(heading: &str, section: &[&str]) -> Result<Table, String> {
    let rows = section
        .iter()
        .filter(|line| line.trim_start().starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [name, type_name, required, ..] = cells.as_slice() else {
                return Err(format!("the {heading} row `{line}` has fewer than 3 cells"));
            };
            let name = name.trim_matches('`').to_owned();
            let required = match *required {
                "Yes" => true,
                "No" => false,
                other => return Err(format!("`{name}`: Required is `{other}`, not Yes or No")),
            };
            Ok(TableRow {
                schema: table_type_schema(type_name)
                    .ok_or_else(|| format!("`{name}`: unknown type `{type_name}`"))?,
                name,
                required,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Err(format!("the {heading} section has no rows"));
    }
    Ok(Table {
        heading: heading.to_owned(),
        rows,
    })
}

/// The schema a table's Type cell stands for.
fn table_type_schema(type_name: &str) -> Option<Value> {
    Some(match type_name {
        "string" => json!({"type": "string"}),
        "string (uuid)" => json!({"type": "string", "format": "uuid"}),
        "number" => json!({"type": "number"}),
        "integer" => json!({"type": "integer"}),
        "boolean" => json!({"type": "boolean"}),
        "array" => json!({"type": "array"}),
        "object" => json!({"type": "object"}),
        _ => return None,
    })
}

/// `/v2/accounts/{accountId}` fits `/v2/accounts/0000-...`.
fn template_matches(template: &str, concrete: &str) -> bool {
    let template_segments: Vec<&str> = template.split('/').collect();
    let concrete_segments: Vec<&str> = concrete.split('/').collect();
    template_segments.len() == concrete_segments.len()
        && template_segments
            .iter()
            .zip(&concrete_segments)
            .all(|(template, concrete)| {
                (template.starts_with('{') && template.ends_with('}')) || template == concrete
            })
}

/// The block's operation, completed by the page's table, response example and rate
/// limit. Disagreements are pushed to `notes`.
fn merged_operation(
    page: &ParsedPage,
    section: &str,
    listed_limit: Option<u32>,
    notes: &mut Vec<String>,
) -> Result<Value, String> {
    let method = page.method.to_ascii_lowercase();
    let mut operation = page.block["paths"][&page.path_template][&method].clone();
    let operation_object = operation
        .as_object_mut()
        .ok_or("the block's operation is not an object")?;
    if operation_object
        .get("operationId")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("the OpenAPI block's operation has no operationId".to_owned());
    }
    operation_object.insert("tags".to_owned(), json!([section]));

    if let Some(table) = &page.table {
        match table.heading.as_str() {
            "Query Parameters" => merge_query_parameters(operation_object, table, notes),
            _ => merge_request_body(operation_object, table, notes)?,
        }
    }
    add_missing_path_parameters(operation_object, &page.path_template, notes);
    for parameter in operation_object
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        if parameter["in"] == "query"
            && let Some(example) = page.query_example.get(&name)
        {
            parameter["example"] = example.clone();
        }
    }
    if let Some(example) = &page.request_example
        && let Some(media) = operation_object
            .get_mut("requestBody")
            .and_then(|body| body.pointer_mut("/content/application~1json"))
    {
        media["example"] = example.clone();
    }

    if let Some(example) = &page.response_example {
        merge_response_example(operation_object, example, notes);
    }

    let requests = match (page.rate_limit, listed_limit) {
        (Some(on_page), Some(listed)) if on_page != listed => {
            notes.push(format!(
                "the page says {on_page} requests/min, rate-limits.md says {listed}; the page wins"
            ));
            Some(on_page)
        }
        (Some(on_page), _) => Some(on_page),
        (None, Some(listed)) => {
            notes.push(format!(
                "the page gives no rate limit; rate-limits.md says {listed}"
            ));
            Some(listed)
        }
        (None, None) => None,
    };
    if let Some(requests) = requests {
        operation_object.insert(
            RATE_LIMIT_EXTENSION.to_owned(),
            json!({"requests": requests, "window-seconds": 60, "scope": "credential"}),
        );
    }
    Ok(operation)
}

fn merge_query_parameters(
    operation: &mut Map<String, Value>,
    table: &Table,
    notes: &mut Vec<String>,
) {
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    let Some(parameters) = parameters.as_array_mut() else {
        return;
    };
    for row in &table.rows {
        let from_table = json!({
            "name": row.name,
            "in": "query",
            "required": row.required,
            "schema": row.schema,
        });
        match parameters
            .iter_mut()
            .find(|parameter| parameter["name"] == row.name.as_str() && parameter["in"] == "query")
        {
            Some(existing) => {
                let block_required = existing["required"].as_bool().unwrap_or(false);
                let block_schema = existing["schema"].clone();
                if block_required != row.required || !schema_agrees(&block_schema, &row.schema) {
                    notes.push(format!(
                        "query parameter `{}`: the table says {} {}, the OpenAPI block says {} {}; the table wins",
                        row.name,
                        required_word(row.required),
                        schema_words(&row.schema),
                        required_word(block_required),
                        schema_words(&block_schema),
                    ));
                    existing["required"] = json!(row.required);
                    existing["schema"] = row.schema.clone();
                }
            }
            None => {
                notes.push(format!(
                    "query parameter `{}` is in the table but not in the OpenAPI block",
                    row.name
                ));
                parameters.push(from_table);
            }
        }
    }
}

fn merge_request_body(
    operation: &mut Map<String, Value>,
    table: &Table,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    if operation
        .get("requestBody")
        .and_then(|body| body.pointer("/content/application~1json/schema"))
        .is_none()
    {
        notes.push("the Request Body table lists fields, but the OpenAPI block declares no JSON body; the table wins".to_owned());
        operation.insert(
            "requestBody".to_owned(),
            json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}),
        );
    }
    let schema = operation
        .get_mut("requestBody")
        .and_then(|body| body.pointer_mut("/content/application~1json/schema"))
        .ok_or("the block's request body cannot hold a schema")?;
    let schema = schema
        .as_object_mut()
        .ok_or("the block's request body schema is not an object")?;
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    let properties = properties
        .as_object_mut()
        .ok_or("the block's body `properties` is not an object")?;
    let mut required = Vec::new();
    for row in &table.rows {
        match properties.get(&row.name) {
            Some(existing) if !schema_agrees(existing, &row.schema) => {
                notes.push(format!(
                    "body field `{}`: the table says {}, the OpenAPI block says {}; the table wins",
                    row.name,
                    schema_words(&row.schema),
                    schema_words(existing)
                ));
                properties.insert(row.name.clone(), row.schema.clone());
            }
            Some(_) => {}
            None => {
                properties.insert(row.name.clone(), row.schema.clone());
            }
        }
        if row.required {
            required.push(json!(row.name));
        }
    }
    if !required.is_empty() {
        schema.insert("required".to_owned(), Value::Array(required));
    }
    Ok(())
}

/// Path parameters the template names but the block does not declare.
fn add_missing_path_parameters(
    operation: &mut Map<String, Value>,
    template: &str,
    notes: &mut Vec<String>,
) {
    let names: Vec<&str> = template
        .split('/')
        .filter_map(|segment| {
            segment
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
        })
        .collect();
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    let Some(parameters) = parameters.as_array_mut() else {
        return;
    };
    for name in names {
        if !parameters
            .iter()
            .any(|parameter| parameter["name"] == name && parameter["in"] == "path")
        {
            notes.push(format!(
                "path parameter `{name}` is in the path but not declared by the OpenAPI block"
            ));
            parameters.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
    }
    if parameters.is_empty() {
        operation.remove("parameters");
    }
}

/// The Response section's example goes on the first 2XX response, unless the
/// block already carries the same one there.
fn merge_response_example(
    operation: &mut Map<String, Value>,
    example: &Value,
    notes: &mut Vec<String>,
) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some((status, response)) = responses
        .iter_mut()
        .find(|(status, _)| status.starts_with('2'))
    else {
        return;
    };
    let Some(media) = response.pointer_mut("/content/application~1json") else {
        notes.push(format!(
            "the Response section shows JSON, but the block's {status} has no JSON content"
        ));
        return;
    };
    match media.get("example") {
        Some(existing) if existing == example => {}
        Some(_) => notes.push(format!(
            "the {status} example in the OpenAPI block differs from the Response section's; the Response section wins"
        )),
        None => {}
    }
    media["example"] = example.clone();
}

fn schema_agrees(block: &Value, table: &Value) -> bool {
    block.get("type") == table.get("type")
        && (table.get("format").is_none() || block.get("format") == table.get("format"))
}

fn required_word(required: bool) -> &'static str {
    if required {
        "a required"
    } else {
        "an optional"
    }
}

fn schema_words(schema: &Value) -> String {
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some(type_name), Some(format)) => format!("{type_name} ({format})"),
        (Some(type_name), None) => type_name.to_owned(),
        _ => "untyped".to_owned(),
    }
}

/// `rate-limits.md`: `| [Name](section/page.md) | `13 requests/min` |` rows, keyed by link.
fn listed_rate_limits(text: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut limits = BTreeMap::new();
    for line in text
        .lines()
        .filter(|line| line.trim_start().starts_with("| ["))
    {
        let link = line
            .split_once("](")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(link, _)| link.to_owned())
            .ok_or_else(|| format!("the row `{line}` has no link"))?;
        let requests = parse_rate_limit(line)?;
        limits.insert(link, requests);
    }
    Ok(limits)
}
