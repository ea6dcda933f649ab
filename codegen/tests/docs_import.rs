//! The docs importer on pages this project wrote in the docs' layout
//! (`tests/fixtures/docs/`): what it merges, what it reports, and how it refuses.

use std::path::PathBuf;

use codegen::docs_import::{DocsPage, ImportedDocs, import, read_docs_folder};
use serde_json::{Value, json};

fn fixture_pages() -> Vec<DocsPage> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs");
    read_docs_folder(&folder).expect("the fixtures are readable")
}

fn imported() -> ImportedDocs {
    import(&fixture_pages()).expect("the fixtures import")
}

fn operation<'a>(spec: &'a Value, path: &str, method: &str) -> &'a Value {
    &spec["paths"][path][method]
}

#[test]
fn every_endpoint_page_becomes_one_operation() {
    let imported = imported();
    assert_eq!(
        imported.pages, 2,
        "README.md and rate-limits.md are not endpoint pages"
    );
    assert_eq!(imported.operations, 2);
    assert_eq!(imported.spec["openapi"], "3.0.3");
    assert_eq!(imported.spec["tags"], json!([{"name": "widgets"}]));
    assert_eq!(
        operation(&imported.spec, "/v2/widgets/{widgetId}", "get")["tags"],
        json!(["widgets"])
    );
    assert_eq!(
        imported.spec["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
}

#[test]
fn the_query_table_wins_over_the_block_and_the_disagreement_is_reported() {
    let imported = imported();
    let parameters = &operation(&imported.spec, "/v2/widgets/{widgetId}", "get")["parameters"];
    assert_eq!(
        parameters[0],
        json!({"name": "shelfId", "in": "query", "schema": {"type": "number"}, "required": true, "example": 3})
    );
    assert_eq!(
        parameters[1],
        json!({"name": "colour", "in": "query", "required": false, "schema": {"type": "string"}, "example": "red"})
    );
    assert!(imported.disagreements.contains(
        &"widgets/get-widget.md: query parameter `shelfId`: the table says a required number, the OpenAPI block \
          says an optional string; the table wins"
            .to_owned()
    ));
    assert!(imported.disagreements.contains(
        &"widgets/get-widget.md: query parameter `colour` is in the table but not in the OpenAPI block".to_owned()
    ));
}

#[test]
fn path_parameters_come_from_the_path() {
    let imported = imported();
    let parameters = &operation(&imported.spec, "/v2/widgets/{widgetId}", "get")["parameters"];
    assert_eq!(
        parameters[2],
        json!({"name": "widgetId", "in": "path", "required": true, "schema": {"type": "string"}})
    );
}

#[test]
fn the_body_table_gives_properties_and_required_flags() {
    let imported = imported();
    let schema = &operation(&imported.spec, "/v2/widgets", "post")["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        schema,
        &json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "ownerId": {"type": "string", "format": "uuid"}},
            "required": ["name"]
        })
    );
}

#[test]
fn the_response_example_and_the_rate_limit_are_carried() {
    let imported = imported();
    let get = operation(&imported.spec, "/v2/widgets/{widgetId}", "get");
    assert_eq!(
        get["responses"]["200"]["content"]["application/json"]["example"]["data"]["name"],
        json!("Sprocket")
    );
    assert_eq!(
        get["x-sonoran-rate-limit"],
        json!({"requests": 10, "window-seconds": 60, "scope": "credential"})
    );
    assert!(imported.disagreements.contains(
        &"widgets/get-widget.md: the page says 10 requests/min, rate-limits.md says 12; the page wins".to_owned()
    ));
    let post = operation(&imported.spec, "/v2/widgets", "post");
    assert_eq!(post["x-sonoran-rate-limit"]["requests"], 6);
}

#[test]
fn the_same_docs_give_the_same_bytes() {
    let first = codegen::pipeline::docs_spec_file(&imported().spec).expect("serializes");
    let second = codegen::pipeline::docs_spec_file(&imported().spec).expect("serializes");
    assert_eq!(first, second);
    assert!(
        first
            .contents
            .starts_with("# The Sonoran CMS v2 API as its published docs describe it")
    );
}

#[track_caller]
fn check_refused(change: impl FnOnce(&mut Vec<DocsPage>), expected: &str) {
    let mut pages = fixture_pages();
    change(&mut pages);
    let error = import(&pages).expect_err("the import must refuse");
    assert_eq!(error.to_string(), expected);
}

fn page_text<'a>(pages: &'a mut [DocsPage], relative_path: &str) -> &'a mut String {
    &mut pages
        .iter_mut()
        .find(|page| page.relative_path == relative_path)
        .expect("the fixture page exists")
        .text
}

#[test]
fn a_page_without_an_openapi_block_is_named_with_the_reason() {
    check_refused(
        |pages| {
            *page_text(pages, "widgets/create-widget.md") =
                page_text(pages, "widgets/create-widget.md").replace("```yaml", "```yml")
        },
        "docs page widgets/create-widget.md: no OpenAPI tab with a ```yaml block",
    );
}

#[test]
fn a_page_whose_url_and_block_disagree_is_refused() {
    check_refused(
        |pages| {
            let text = page_text(pages, "widgets/get-widget.md");
            *text = text.replace(
                "`https://api.sonorancms.com/v2/widgets/7`",
                "`https://api.sonorancms.com/v2/gadgets/7`",
            );
        },
        "docs page widgets/get-widget.md: the page's URL path `/v2/gadgets/7` does not fit the block's path \
         `/v2/widgets/{widgetId}`",
    );
}

#[test]
fn a_duplicate_operation_id_is_refused() {
    check_refused(
        |pages| {
            let text = page_text(pages, "widgets/create-widget.md");
            *text = text.replace(
                "operationId: \"createWidget\"",
                "operationId: \"getWidget\"",
            );
        },
        "docs page widgets/get-widget.md: operationId `getWidget` is already used by widgets/create-widget.md",
    );
}

#[test]
fn an_unknown_table_type_is_refused() {
    check_refused(
        |pages| {
            let text = page_text(pages, "widgets/create-widget.md");
            *text = text.replace("| `name` | string |", "| `name` | text |");
        },
        "docs page widgets/create-widget.md: `name`: unknown type `text`",
    );
}

/// The derived overlay's action whose description starts with `start`.
fn derived_action<'a>(imported: &'a ImportedDocs, start: &str) -> &'a Value {
    imported.derived["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|action| {
            action["description"]
                .as_str()
                .is_some_and(|text| text.starts_with(start))
        })
        .unwrap_or_else(|| panic!("no derived action starting `{start}`"))
}

#[test]
fn examples_narrow_the_tables_types_in_the_derived_overlay() {
    let imported = imported();
    let shelf = derived_action(&imported, "The getWidget query parameter `shelfId`");
    assert_eq!(
        shelf["target"],
        "$.paths['/v2/widgets/{widgetId}'].get.parameters[?@.name == 'shelfId' && @.in == 'query']"
    );
    assert_eq!(
        shelf["update"],
        json!({"schema": {"type": "integer", "minimum": 1}})
    );

    let schemas = &derived_action(
        &imported,
        "Schemas derived from the docs' tables and examples",
    )["update"]["schemas"];
    assert_eq!(
        schemas["CreateWidgetRequest"],
        json!({"type": "object",
               "properties": {"name": {"type": "string"}, "ownerId": {"type": "string", "format": "uuid"}},
               "required": ["name"]})
    );
    // A response is read tolerantly: only the envelope's `success` and `data` are
    // required, an id may be 0, and an object keyed by timestamps is a map of its
    // entries merged.
    assert_eq!(
        schemas["GetWidgetResponse"],
        json!({"type": "object",
               "properties": {"success": {"type": "boolean", "description": "Whether the API did what was asked: `true` in every success answer (one that says `false` is an error)."},
                              "data": {"type": "object",
                                       "description": "What the operation answers (the envelope's `data`).",
                                       "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                                      "history": {"type": "object",
                                                                  "additionalProperties": {"type": "object", "properties": {
                                                                      "by": {"type": "string", "format": "uuid", "nullable": true},
                                                                      "note": {"type": "string"}}},
                                                                  "x-keyed-by": "timestamp"}}}},
               "required": ["success", "data"]})
    );
}

/// The imported spec with its derived overlay applied.
fn with_derived_overlay(imported: &ImportedDocs) -> Value {
    codegen::enrich::apply_overlay(
        &imported.spec,
        None,
        "derived.overlay.yaml",
        &imported.derived,
    )
    .expect("every derived action applies")
}

#[test]
fn the_documented_success_status_stands_for_every_2xx() {
    let typed = with_derived_overlay(&imported());
    let responses = &typed["paths"]["/v2/widgets/{widgetId}"]["get"]["responses"];
    assert!(responses.get("200").is_none(), "{responses}");
    assert_eq!(responses["2XX"]["x-documented-status"], "200");
    assert_eq!(
        responses["2XX"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/GetWidgetResponse"})
    );
}

#[test]
fn the_derived_overlay_applies_to_the_imported_spec_and_lints_clean() {
    let typed = with_derived_overlay(&imported());
    let body = &typed["paths"]["/v2/widgets"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        body,
        &json!({"$ref": "#/components/schemas/CreateWidgetRequest"})
    );
    let spec = codegen::load::openapi("fixture.yaml", &typed).expect("typed");
    let findings: Vec<String> = codegen::lint::lint(&typed, &spec)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(findings, Vec::<String>::new());
}
