//! One short test per lint rule: a valid spec, one change, and the exact finding
//! (operation, JSON pointer, message) lint must report for it.

use serde_json::{Value, json};

const OPERATION: &str = "/paths/~1v2~1servers~1{serverId}/delete";

/// A small spec that lint accepts and progenitor generates: one operation with a
/// path parameter, a typed body, a 204 and a shared error schema.
fn valid_spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/v2/servers/{serverId}": {"delete": {
            "operationId": "cancelThing",
            "x-sonoran-rate-limit": {"requests": 9, "window-seconds": 60, "scope": "credential"},
            "parameters": [{"name": "serverId", "in": "path", "required": true,
                            "schema": {"type": "integer", "minimum": 1}}],
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Body"}}}},
            "responses": {
                "204": {"description": "done"},
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}
            }
        }}},
        "components": {
            "schemas": {
                "Body": {"type": "object", "required": ["accId"],
                         "properties": {"accId": {"type": "string", "format": "uuid"}}},
                "Problem": {"type": "object", "properties": {"title": {"type": "string"}}}
            },
            "responses": {"Error": {"description": "error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}}
        }
    })
}

fn findings(spec: &Value) -> Vec<String> {
    let typed =
        codegen::load::openapi("spec.yaml", spec).expect("the changed spec is still OpenAPI");
    codegen::lint::lint(spec, &typed)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[track_caller]
fn check(change: impl FnOnce(&mut Value), expected: &str) {
    let mut spec = valid_spec();
    change(&mut spec);
    let found = findings(&spec);
    assert!(
        found.iter().any(|finding| finding == expected),
        "expected:\n  {expected}\nfound:\n  {}",
        found.join("\n  ")
    );
}

/// Lint finds nothing in `spec`, and progenitor generates it.
#[track_caller]
fn assert_accepted_and_generates(spec: &Value) {
    assert_eq!(findings(spec), Vec::<String>::new());
    let typed = codegen::load::openapi("spec.yaml", spec).expect("typed");
    let value_sets = codegen::value_sets::read(spec);
    codegen::generate::client_source("spec.yaml", &typed, &value_sets, "// test\n")
        .expect("progenitor generates it");
}

fn operation(spec: &mut Value) -> &mut Value {
    &mut spec["paths"]["/v2/servers/{serverId}"]["delete"]
}

#[test]
fn the_valid_spec_passes_and_generates() {
    assert_accepted_and_generates(&valid_spec());
}

#[test]
fn lint_errors_name_the_file_and_list_every_finding() {
    let mut spec = valid_spec();
    operation(&mut spec)
        .as_object_mut()
        .expect("object")
        .remove("operationId");
    spec["openapi"] = json!("3.1.0");
    let typed = codegen::load::openapi("spec.yaml", &spec).expect("typed");
    let error = codegen::lint::check("openapi/x.yaml", &spec, &typed).expect_err("two findings");
    assert_eq!(
        error.to_string(),
        format!(
            "openapi/x.yaml: 2 problem(s) would give users an untyped or broken client:\n  \
             - at /openapi: the spec says OpenAPI `3.1.0`; progenitor reads only 3.0.x\n  \
             - at {OPERATION}: the operation has no operationId; progenitor names the client method after it"
        )
    );
}

#[test]
fn a_body_without_properties_is_untyped() {
    check(
        |spec| spec["components"]["schemas"]["Body"] = json!({"type": "object"}),
        "operation `cancelThing` at /components/schemas/Body: the request body schema has no properties, \
         so users would get an untyped map; describe its fields in the enrichment",
    );
    check(
        |spec| {
            operation(spec)["requestBody"]["content"]["application/json"]["schema"] =
                json!({"type": "object"})
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/requestBody/content/application~1json/schema: the request body \
             schema has no properties, so users would get an untyped map; describe its fields in the enrichment"
        ),
    );
}

#[test]
fn an_id_typed_as_number_is_refused() {
    check(
        |spec| {
            spec["components"]["schemas"]["Body"]["properties"]["serverId"] =
                json!({"type": "number"})
        },
        "at /components/schemas/Body/properties/serverId: `serverId` is an id but has `type: number`, which would \
         make it an `f64`; give it `type: integer` (with `minimum: 1`) or `type: string`",
    );
    check(
        |spec| operation(spec)["parameters"][0]["schema"] = json!({"type": "number"}),
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/0/schema: `serverId` is an id but has `type: number`, \
             which would make it an `f64`; give it `type: integer` (with `minimum: 1`) or `type: string`"
        ),
    );
}

#[test]
fn a_missing_operation_id_is_refused() {
    check(
        |spec| {
            operation(spec)
                .as_object_mut()
                .expect("object")
                .remove("operationId");
        },
        &format!(
            "at {OPERATION}: the operation has no operationId; progenitor names the client method after it"
        ),
    );
}

#[test]
fn a_duplicate_operation_id_is_refused() {
    check(
        |spec| {
            let copy = operation(spec).clone();
            spec["paths"]["/v2/servers/{serverId}"]["patch"] = copy;
        },
        &format!(
            "operation `cancelThing` at /paths/~1v2~1servers~1{{serverId}}/patch/operationId: the same operationId \
             is already used at {OPERATION}"
        ),
    );
}

#[test]
fn operation_ids_that_make_the_same_method_are_refused() {
    check(
        |spec| {
            let mut copy = operation(spec).clone();
            copy["operationId"] = json!("cancel_thing");
            spec["paths"]["/v2/servers/{serverId}"]["patch"] = copy;
        },
        "operation `cancel_thing` at /paths/~1v2~1servers~1{serverId}/patch/operationId: operationIds `cancelThing` \
         and `cancel_thing` both become the method `cancel_thing`",
    );
}

#[test]
fn an_operation_id_that_is_not_an_identifier_is_refused() {
    check(
        |spec| operation(spec)["operationId"] = json!("9 lives"),
        &format!(
            "operation `9 lives` at {OPERATION}/operationId: an operationId must start with a letter and hold only \
             letters, digits and `_`"
        ),
    );
}

#[test]
fn error_responses_of_mixed_shapes_are_refused() {
    check(
        |spec| operation(spec)["responses"]["429"] = json!({"description": "slow down"}),
        &format!(
            "operation `cancelThing` at {OPERATION}/responses: error responses have different shapes (429 → no body; \
             401, 404 → JSON #/components/schemas/Problem); progenitor needs one shape, so share one schema"
        ),
    );
}

#[test]
fn a_non_json_error_body_is_untyped() {
    check(
        |spec| {
            operation(spec)["responses"]["500"] = json!({"description": "oops", "content": {"text/plain": {"schema": {"type": "string"}}}});
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/responses/500: an error response with a non-JSON body would be \
             an untyped byte stream"
        ),
    );
}

#[test]
fn several_request_media_types_are_refused() {
    check(
        |spec| {
            operation(spec)["requestBody"]["content"]["text/plain"] =
                json!({"schema": {"type": "string"}});
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/requestBody/content: the request body has 2 media types; \
             progenitor panics on more than one"
        ),
    );
}

#[test]
fn a_json_response_without_a_schema_is_refused() {
    check(
        |spec| {
            operation(spec)["responses"]["200"] =
                json!({"description": "ok", "content": {"application/json": {}}})
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/responses/200/content/application~1json: a JSON response without \
             a schema makes progenitor panic"
        ),
    );
}

#[test]
fn an_encoding_on_a_json_body_is_refused() {
    check(
        |spec| {
            operation(spec)["requestBody"]["content"]["application/json"]["encoding"] =
                json!({"accId": {"contentType": "text/plain"}});
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/requestBody/content/application~1json/encoding: `encoding` on a \
             JSON media type makes progenitor panic"
        ),
    );
}

#[test]
fn an_optional_path_parameter_is_refused() {
    check(
        |spec| operation(spec)["parameters"][0]["required"] = json!(false),
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/0: a path parameter must be `required: true` \
             (progenitor asserts it)"
        ),
    );
}

#[test]
fn path_parameters_and_the_template_must_agree() {
    check(
        |spec| operation(spec)["parameters"][0]["name"] = json!("server"),
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/0: path parameter `server` does not appear in the \
             path; progenitor panics"
        ),
    );
    check(
        |spec| operation(spec)["parameters"] = json!([]),
        &format!(
            "operation `cancelThing` at {OPERATION}: the path has `{{serverId}}` but no path parameter of that name"
        ),
    );
}

#[test]
fn a_path_item_reference_is_refused() {
    check(
        |spec| spec["paths"]["/v2/other"] = json!({"$ref": "#/paths/~1v2~1servers~1{serverId}"}),
        "at /paths/~1v2~1other: a path item given by `$ref` makes progenitor panic; inline it",
    );
}

#[test]
fn a_status_that_is_not_http_is_refused() {
    check(
        |spec| operation(spec)["responses"]["600"] = json!({"description": "?"}),
        &format!(
            "operation `cancelThing` at {OPERATION}/responses/600: `600` is not an HTTP status (100 to 599 or 1XX to 5XX)"
        ),
    );
}

#[test]
fn a_missing_success_response_is_untyped() {
    check(
        |spec| {
            operation(spec)["responses"]
                .as_object_mut()
                .expect("object")
                .remove("204");
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/responses: no 2XX response is declared, so the result would be untyped"
        ),
    );
}

#[test]
fn a_schema_reference_outside_the_schemas_is_refused() {
    check(
        |spec| {
            spec["components"]["schemas"]["Body"]["properties"]["accId"] =
                json!({"$ref": "#/components/responses/Error"})
        },
        "at /components/schemas/Body/properties/accId/$ref: a schema `$ref` must name one of #/components/schemas, \
         not `#/components/responses/Error`",
    );
}

#[test]
fn a_dangling_reference_is_refused() {
    check(
        |spec| {
            operation(spec)["responses"]["404"] = json!({"$ref": "#/components/responses/Missing"})
        },
        &format!(
            "at {OPERATION}/responses/404/$ref: `#/components/responses/Missing` points to nothing in this document"
        ),
    );
}

#[test]
fn an_unknown_schema_type_is_refused() {
    check(
        |spec| {
            spec["components"]["schemas"]["Problem"]["properties"]["title"] =
                json!({"type": "text"})
        },
        "at /components/schemas/Problem/properties/title/type: `text` is not a JSON Schema type (one of boolean, \
         object, array, number, string, integer)",
    );
}

#[test]
fn a_schema_without_a_single_type_is_refused() {
    check(
        |spec| {
            spec["components"]["schemas"]["Problem"]["properties"]["title"] =
                json!({"format": "uuid", "description": "no type"});
        },
        "at /components/schemas/Problem/properties/title: this schema has no `type`, so it would be an untyped \
         JSON value (and progenitor panics on some such schemas); give it one, or record in `x-untyped-reason` why it \
         stays open",
    );
    check(
        |spec| {
            spec["components"]["schemas"]["Problem"]["properties"]["title"] =
                json!({"type": "string", "exclusiveMinimum": true, "items": {}});
        },
        "at /components/schemas/Problem/properties/title: this `type: string` schema also has keywords of another \
         type, so it cannot be typed",
    );
}

#[test]
fn cookie_parameters_are_refused() {
    check(
        |spec| {
            let parameters = operation(spec)["parameters"].as_array_mut().expect("array");
            parameters
                .push(json!({"name": "session", "in": "cookie", "schema": {"type": "string"}}));
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/1: cookie parameters are not supported"
        ),
    );
}

#[test]
fn an_openapi_3_1_spec_is_refused() {
    check(
        |spec| spec["openapi"] = json!("3.1.0"),
        "at /openapi: the spec says OpenAPI `3.1.0`; progenitor reads only 3.0.x",
    );
}

#[test]
fn every_operation_needs_a_valid_rate_limit() {
    check(
        |spec| {
            operation(spec)
                .as_object_mut()
                .expect("object")
                .remove("x-sonoran-rate-limit");
        },
        &format!(
            "operation `cancelThing` at {OPERATION}: no `x-sonoran-rate-limit`; every operation needs its documented \
             limit (`requests`, `window-seconds`, `scope: credential`)"
        ),
    );
    check(
        |spec| operation(spec)["x-sonoran-rate-limit"]["requests"] = json!(0),
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-rate-limit/requests: `requests` must be a whole number \
             from 1 to 100000"
        ),
    );
    check(
        |spec| operation(spec)["x-sonoran-rate-limit"]["scope"] = json!("ip"),
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-rate-limit/scope: `scope` must be `credential` (the API \
             limits each API key, not each IP)"
        ),
    );
}

#[test]
fn an_untyped_success_body_is_refused() {
    check(
        |spec| {
            operation(spec)["responses"]["200"] = json!({"description": "ok", "content": {"application/json": {
                "schema": {"type": "object"}}}});
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/responses/200/content/application~1json/schema: the success body \
             schema has no properties, so users would get an untyped map; derive it from the docs' example or \
             describe it in the enrichment"
        ),
    );
}

#[test]
fn a_structured_parameter_is_refused() {
    // progenitor asserts on an object parameter; found by `never_panics`.
    check(
        |spec| {
            let parameters = operation(spec)["parameters"].as_array_mut().expect("array");
            parameters.push(json!({"name": "filter", "in": "query",
                                   "schema": {"$ref": "#/components/schemas/Body"}}));
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/1/schema: a query parameter must be a string, \
             integer, number or boolean (or a list of them); progenitor cannot send a structured value there \
             (and panics on an object)"
        ),
    );
    // A list cannot fill a path segment.
    check(
        |spec| {
            operation(spec)["parameters"][0]["schema"] =
                json!({"type": "array", "items": {"type": "integer"}});
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/0/schema: a path parameter must be a string, \
             integer, number or boolean; progenitor cannot send a structured value there (and panics on an object)"
        ),
    );
    // A query list must list scalars.
    check(
        |spec| {
            let parameters = operation(spec)["parameters"].as_array_mut().expect("array");
            parameters.push(json!({"name": "filter", "in": "query",
                                   "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Body"}}}));
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/parameters/1/schema: a query parameter that is a list must \
             list strings, integers, numbers or booleans"
        ),
    );
}

#[test]
fn a_query_list_of_scalars_is_accepted_and_generates() {
    let mut spec = valid_spec();
    let parameters = operation(&mut spec)["parameters"]
        .as_array_mut()
        .expect("array");
    parameters.push(json!({"name": "tags", "in": "query",
                           "schema": {"type": "array", "items": {"type": "string"}}}));
    assert_accepted_and_generates(&spec);
}

#[test]
fn a_default_that_does_not_fit_its_schema_is_refused() {
    const BODY: &str = "/components/schemas/Body/properties";
    let with_property = |name: &'static str, schema: Value| {
        move |spec: &mut Value| {
            spec["components"]["schemas"]["Body"]["properties"][name] = schema;
        }
    };
    // typify panics rendering it; found by `never_panics`.
    check(
        with_property("note", json!({"type": "string", "default": []})),
        &format!("at {BODY}/note/default: the `default` [] is not a value this schema allows"),
    );
    // It would not compile: the type is a `NonZeroU64`.
    check(
        with_property(
            "count",
            json!({"type": "integer", "minimum": 1, "default": 0}),
        ),
        &format!("at {BODY}/count/default: the `default` 0 is not a value this schema allows"),
    );
    check(
        with_property(
            "mode",
            json!({"type": "string", "enum": ["a", "b"], "default": "c"}),
        ),
        &format!("at {BODY}/mode/default: the `default` \"c\" is not a value this schema allows"),
    );
    // It would compile into an `unwrap` that panics in users' programs.
    check(
        with_property(
            "owner",
            json!({"type": "string", "format": "uuid", "default": "not a uuid"}),
        ),
        &format!(
            "at {BODY}/owner/default: a `default` on a string with a `format`, `pattern` or length bound \
             is not supported (typify would unwrap it at run time)"
        ),
    );
    check(
        with_property(
            "tags",
            json!({"type": "array", "items": {"type": "string"}, "default": []}),
        ),
        &format!(
            "at {BODY}/tags/default: a `default` is only supported on a boolean, integer, number or plain \
             string schema"
        ),
    );
}

#[test]
fn defaults_that_fit_are_accepted_and_generate() {
    let mut spec = valid_spec();
    let properties = &mut spec["components"]["schemas"]["Body"]["properties"];
    properties["count"] = json!({"type": "integer", "minimum": 1, "default": 5});
    properties["note"] = json!({"type": "string", "default": "none"});
    properties["ratio"] = json!({"type": "number", "maximum": 1, "default": 0.5});
    properties["force"] = json!({"type": "boolean", "default": true});
    assert_accepted_and_generates(&spec);
}

#[test]
fn a_schema_that_contains_itself_is_refused() {
    // typify recursed until the stack overflowed; found by `never_panics`.
    check(
        |spec| {
            spec["components"]["schemas"]["Problem"] = json!({"allOf": [
                {"$ref": "#/components/schemas/Problem"}, {"type": "object"}]});
        },
        "at /components/schemas/Problem: this schema contains itself through `allOf`, `oneOf`, `anyOf`, \
         `not` or `$ref` (Problem → Problem) with no property or list in between, so no value fits it and \
         typify recurses forever",
    );
    check(
        |spec| {
            let schemas = &mut spec["components"]["schemas"];
            schemas["Outer"] = json!({"oneOf": [{"type": "string"},
                                                {"anyOf": [{"$ref": "#/components/schemas/Inner"}]}]});
            schemas["Inner"] = json!({"$ref": "#/components/schemas/Outer"});
        },
        "at /components/schemas/Outer: this schema contains itself through `allOf`, `oneOf`, `anyOf`, \
         `not` or `$ref` (Outer → Inner → Outer) with no property or list in between, so no value fits it \
         and typify recurses forever",
    );
}

#[test]
fn a_recursive_type_through_a_field_is_accepted_and_generates() {
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Problem"]["properties"]["cause"] =
        json!({"$ref": "#/components/schemas/Problem"});
    spec["components"]["schemas"]["Problem"]["properties"]["related"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Problem"}});
    assert_accepted_and_generates(&spec);
}

#[test]
fn a_property_named_like_data_is_refused() {
    for (key, kind) in [
        ("2026-04-15T00:00:00.000Z", "timestamp"),
        ("2026-04-15", "timestamp"),
        ("8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11", "uuid"),
        ("123456789012345678", "numeric id"),
    ] {
        check(
            |spec| {
                spec["components"]["schemas"]["Problem"]["properties"][key] =
                    json!({"type": "string"})
            },
            &format!(
                "at /components/schemas/Problem/properties/{key}: the property name `{key}` looks like data \
                 (a {kind}), so it is one entry of a map keyed by {kind}s, not a field: give the object \
                 `additionalProperties` with the entries' schema instead"
            ),
        );
    }
    // The same entries as a map are what the rule asks for.
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Problem"]["properties"]["history"] = json!({
        "type": "object", "additionalProperties": {"type": "string"}, "x-keyed-by": "timestamp"
    });
    assert_accepted_and_generates(&spec);
}

#[test]
fn a_one_of_group_must_name_fields_the_operation_has() {
    let group = |fields: Value| json!([{"group": "account identity", "in": "body", "fields": fields, "required": true}]);
    check(
        |spec| operation(spec)["x-sonoran-one-of"] = group(json!(["accId", "apiId"])),
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-one-of/0/fields: `apiId` is not a property of the body"
        ),
    );
    check(
        |spec| {
            operation(spec)["x-sonoran-one-of"] =
                json!([{"group": "g", "in": "header", "fields": ["a", "b"]}])
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-one-of/0/in: `in` must be `body` or `query`, not `header`"
        ),
    );
    check(
        |spec| {
            spec["components"]["schemas"]["Body"]["properties"]["apiId"] =
                json!({"type": "string"});
            let mut groups = group(json!(["accId", "apiId"]));
            groups[0]["account-identity"] = json!({"accId": "accId", "apiId": "apiId"});
            operation(spec)["x-sonoran-one-of"] = groups;
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-one-of/0/account-identity: `account-identity` must map \
             every AccountIdentity kind; `username` is missing"
        ),
    );
    // A well-formed group is accepted and generates.
    let mut spec = valid_spec();
    spec["components"]["schemas"]["Body"]["properties"]["apiId"] = json!({"type": "string"});
    operation(&mut spec)["x-sonoran-one-of"] = group(json!(["accId", "apiId"]));
    assert_accepted_and_generates(&spec);
}

#[test]
fn an_open_value_set_is_a_scalar_query_parameter() {
    // Known values, or any other text: still one text on the wire.
    let mut spec = valid_spec();
    spec["components"]["schemas"]["KnownKind"] = json!({"type": "string", "enum": ["a", "b"]});
    spec["components"]["schemas"]["Kind"] = json!({"oneOf": [{"$ref": "#/components/schemas/KnownKind"}, {"title": "Other", "type": "string"}]});
    operation(&mut spec)["parameters"]
        .as_array_mut()
        .expect("parameters")
        .push(
            json!({"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/Kind"}}),
        );
    assert_accepted_and_generates(&spec);
    // Any other set of forms has no `FromStr` for the command line: refused,
    // whether it includes an object or only scalars.
    for other_form in [
        json!({"$ref": "#/components/schemas/Detail"}),
        json!({"type": "integer"}),
    ] {
        spec["components"]["schemas"]["Detail"] =
            json!({"type": "object", "properties": {"a": {"type": "string"}}});
        spec["components"]["schemas"]["Kind"]["oneOf"][1] = other_form;
        assert!(
            findings(&spec).iter().any(|finding| finding
                .contains("a query parameter with several forms must be an open value set")),
            "{:?}",
            findings(&spec)
        );
    }
}

#[test]
fn an_inline_object_alternative_is_refused() {
    check(
        |spec| {
            spec["components"]["schemas"]["Problem"]["properties"]["detail"] = json!({"oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {"text": {"type": "string"}}}
            ]})
        },
        "at /components/schemas/Problem/properties/detail/oneOf/1: an alternative of a `oneOf` that is an object \
         with fields must be a `$ref` to a component, so it has a named type",
    );
}

#[test]
fn safety_and_idempotency_are_booleans_and_agree() {
    for key in ["x-sonoran-safe", "x-sonoran-idempotent"] {
        check(
            |spec| operation(spec)[key] = json!("no"),
            &format!("operation `cancelThing` at {OPERATION}/{key}: `{key}` must be true or false"),
        );
    }
    check(
        |spec| {
            operation(spec)["x-sonoran-safe"] = json!(true);
            operation(spec)["x-sonoran-idempotent"] = json!(false);
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-idempotent: a safe operation (`x-sonoran-safe`) is \
             idempotent: it cannot be `x-sonoran-idempotent: false`"
        ),
    );
    check(
        |spec| operation(spec)["x-sonoran-retry-after-sending"] = json!(false),
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-retry-after-sending: `x-sonoran-retry-after-sending` \
             is replaced by `x-sonoran-idempotent`: an operation not repeated once it may have run is \
             `x-sonoran-idempotent: false`"
        ),
    );
    let semantics = |spec: &Value| {
        let typed = codegen::load::openapi("spec.yaml", spec).expect("typed");
        let table = codegen::rate_limits::semantics(&typed).0;
        (table[0].safe, table[0].idempotent)
    };
    let mut spec = valid_spec();
    assert_eq!(
        semantics(&spec),
        (false, true),
        "a DELETE: idempotent by its method"
    );
    operation(&mut spec)["x-sonoran-idempotent"] = json!(false);
    assert_accepted_and_generates(&spec);
    assert_eq!(semantics(&spec), (false, false));
    operation(&mut spec)["x-sonoran-idempotent"] = json!(true);
    operation(&mut spec)["x-sonoran-safe"] = json!(true);
    assert_accepted_and_generates(&spec);
    assert_eq!(semantics(&spec), (true, true));
}

#[test]
fn a_paging_extension_must_name_query_parameters_a_component_and_the_largest_page() {
    check(
        |spec| {
            operation(spec)["x-sonoran-paging"] = json!({"offset": "skip", "size": "take", "items": ["/data"],
                "item": "Body", "max-size": 100})
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-paging: `offset` and `size` must be query parameters \
             of the operation ()"
        ),
    );
    check(
        |spec| operation(spec)["x-sonoran-paging"] = json!({"offset": "skip", "max-size": 100}),
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-paging: needs `offset`, `size`, `items`, `item` and \
             `max-size` (and may name an `identity`)"
        ),
    );
    check(
        |spec| {
            operation(spec)["parameters"] = json!([
                {"name": "serverId", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
                {"name": "skip", "in": "query", "schema": {"type": "integer"}},
                {"name": "take", "in": "query", "schema": {"type": "integer"}}
            ]);
            operation(spec)["x-sonoran-paging"] = json!({"offset": "skip", "size": "take", "items": ["/data"],
                "item": "Body", "max-size": 100, "identity": "noSuchMember"})
        },
        &format!(
            "operation `cancelThing` at {OPERATION}/x-sonoran-paging: `identity` must name a member of `Body`, not \
             `noSuchMember`"
        ),
    );
    for max_size in [json!(null), json!(0), json!("100"), json!(10_001)] {
        check(
            |spec| {
                operation(spec)["x-sonoran-paging"] = json!({"offset": "skip", "size": "take",
                    "items": ["/data"], "item": "Body", "max-size": max_size})
            },
            &format!(
                "operation `cancelThing` at {OPERATION}/x-sonoran-paging: `max-size` must be a whole number from 1 \
                 to 10000: the most items the API returns in one page"
            ),
        );
    }
}
