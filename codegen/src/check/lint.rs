//! Lint: rejects, by operation and JSON pointer, whatever in the enriched spec would
//! give users an untyped or broken client, and every construct progenitor 0.15
//! panics on (so the generator only ever sees specs it can handle).
//!
//! Each rule is a method of `Linter` and says in its comment why it exists. The
//! panics it guards against are progenitor's `assert!`s and `todo!`s on: path items
//! given by `$ref`, optional path parameters, path parameters missing from the path
//! template (and the reverse), several request media types, JSON media types with
//! an `encoding` or without a schema, status codes outside 100..=599, success or
//! error responses of mixed shapes, parameters that are objects, and defaults that
//! do not fit their schema.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, AnySchema, Components, IntegerFormat, MediaType, OpenAPI, Operation,
    Parameter, ParameterSchemaOrContent, PathItem, PathStyle, QueryStyle, ReferenceOr, Response,
    Schema, SchemaKind, StatusCode, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::error::{CodegenError, LintFinding};
use crate::json_pointer::{child, from_tokens, unescape_token};
use crate::naming::{is_id_name, rust_snake_name};

/// The only request and response media type the Sonoran CMS API speaks for typed bodies.
const JSON_MEDIA_TYPE: &str = "application/json";

/// Lints the enriched spec: `value` is the document as JSON, `spec` the same
/// document typed. Returns every finding at once, in document order.
pub fn check(file: &str, value: &Value, spec: &OpenAPI) -> Result<(), CodegenError> {
    check_with_model(file, value, spec, &crate::model::read(spec))
}

/// [`check`], with the extensions already read into `model` (the pipeline
/// reads them once, for lint, the docs and every generator).
pub fn check_with_model(
    file: &str,
    value: &Value,
    spec: &OpenAPI,
    model: &crate::model::SpecModel,
) -> Result<(), CodegenError> {
    let findings = lint_with_model(value, spec, model);
    if findings.is_empty() {
        Ok(())
    } else {
        Err(CodegenError::Lint {
            file: file.to_owned(),
            findings,
        })
    }
}

/// Every finding for the document, in document order.
pub fn lint(value: &Value, spec: &OpenAPI) -> Vec<LintFinding> {
    lint_with_model(value, spec, &crate::model::read(spec))
}

fn lint_with_model(
    value: &Value,
    spec: &OpenAPI,
    model: &crate::model::SpecModel,
) -> Vec<LintFinding> {
    let mut linter = Linter {
        spec,
        findings: Vec::new(),
    };
    linter.openapi_version();
    linter.references(value, "");
    linter.paths();
    linter.component_schemas();
    // What the model's readers found wrong with the extensions.
    linter.findings.extend(model.findings.iter().cloned());
    linter.findings
}

struct Linter<'a> {
    spec: &'a OpenAPI,
    findings: Vec<LintFinding>,
}

/// How progenitor will represent one response body; two different ones in the
/// success (or the error) responses of one operation make it panic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ResponseShape {
    /// No content: `()`.
    Empty,
    /// An `application/json` body with this schema (a `$ref` or the inline schema's JSON).
    Json(String),
    /// Content that is not JSON: an untyped byte stream.
    Untyped,
}

impl std::fmt::Display for ResponseShape {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseShape::Empty => formatter.write_str("no body"),
            ResponseShape::Json(schema) => write!(formatter, "JSON {schema}"),
            ResponseShape::Untyped => formatter.write_str("a non-JSON body"),
        }
    }
}

impl<'a> Linter<'a> {
    fn report(&mut self, operation: Option<&str>, pointer: &str, message: impl Into<String>) {
        self.findings.push(LintFinding {
            operation: operation.map(str::to_owned),
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    /// progenitor only reads OpenAPI 3.0.x; a 3.1 document would be misread.
    fn openapi_version(&mut self) {
        if !self.spec.openapi.starts_with("3.0.") {
            let message = format!(
                "the spec says OpenAPI `{}`; progenitor reads only 3.0.x",
                self.spec.openapi
            );
            self.report(None, "/openapi", message);
        }
    }

    /// A `$ref` that points nowhere makes progenitor fail or typify panic; we only
    /// follow references inside this document, so external ones are refused too.
    fn references(&mut self, value: &Value, pointer: &str) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get("$ref") {
                    let here = child(pointer, "$ref");
                    match reference.as_str() {
                        Some(target) if target.starts_with("#/components/") => {
                            if !self.component_exists(target) {
                                self.report(
                                    None,
                                    &here,
                                    format!("`{target}` points to nothing in this document"),
                                );
                            }
                        }
                        Some(target) => self.report(
                            None,
                            &here,
                            format!("`{target}` is not a reference to one of this document's components (`#/components/...`)"),
                        ),
                        None => self.report(None, &here, "`$ref` must be a string"),
                    }
                }
                for (key, nested) in object {
                    self.references(nested, &child(pointer, key));
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.references(item, &child(pointer, &index.to_string()));
                }
            }
            _ => {}
        }
    }

    /// Whether a `#/components/<section>/<name>` reference names an existing
    /// component (the only places progenitor and typify follow references to).
    fn component_exists(&self, reference: &str) -> bool {
        let components = self.spec.components.as_ref();
        let exists = |section: &str, name: &str| -> bool {
            let Some(components) = components else {
                return false;
            };
            match section {
                "schemas" => components.schemas.contains_key(name),
                "responses" => components.responses.contains_key(name),
                "parameters" => components.parameters.contains_key(name),
                "requestBodies" => components.request_bodies.contains_key(name),
                "headers" => components.headers.contains_key(name),
                "securitySchemes" => components.security_schemes.contains_key(name),
                "examples" => components.examples.contains_key(name),
                "links" => components.links.contains_key(name),
                "callbacks" => components.callbacks.contains_key(name),
                _ => false,
            }
        };
        match reference
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((section, name)) if !name.contains('/') => exists(section, &unescape_token(name)),
            // Deeper references (into a schema's properties) are not understood by typify.
            _ => false,
        }
    }

    fn paths(&mut self) {
        let mut operation_ids: BTreeMap<String, String> = BTreeMap::new();
        let mut method_names: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (path, path_item) in &self.spec.paths.paths {
            let path_pointer = from_tokens(["paths", path.as_str()]);
            let path_item = match path_item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { .. } => {
                    self.report(
                        None,
                        &path_pointer,
                        "a path item given by `$ref` makes progenitor panic; inline it",
                    );
                    continue;
                }
            };
            let template_names = match path_template_names(path) {
                Ok(names) => names,
                Err(message) => {
                    self.report(None, &path_pointer, message);
                    continue;
                }
            };
            for (method, operation) in path_item.iter() {
                let operation_pointer = child(&path_pointer, method);
                let Some(name) = self.operation_id(
                    operation,
                    &operation_pointer,
                    &mut operation_ids,
                    &mut method_names,
                ) else {
                    continue;
                };
                self.operation(
                    &name,
                    path_item,
                    operation,
                    &operation_pointer,
                    &template_names,
                );
            }
        }
    }

    /// Every operation needs an operationId that is unique and makes a unique Rust
    /// method name: progenitor names methods and types after it.
    fn operation_id(
        &mut self,
        operation: &Operation,
        pointer: &str,
        seen_ids: &mut BTreeMap<String, String>,
        seen_method_names: &mut BTreeMap<String, (String, String)>,
    ) -> Option<String> {
        let id_pointer = child(pointer, "operationId");
        let Some(operation_id) = operation.operation_id.as_deref() else {
            self.report(
                None,
                pointer,
                "the operation has no operationId; progenitor names the client method after it",
            );
            return None;
        };
        if !is_identifier(operation_id) {
            self.report(
                Some(operation_id),
                &id_pointer,
                "an operationId must start with a letter and hold only letters, digits and `_`",
            );
            return None;
        }
        if let Some(first) = seen_ids.insert(operation_id.to_owned(), pointer.to_owned()) {
            self.report(
                Some(operation_id),
                &id_pointer,
                format!("the same operationId is already used at {first}"),
            );
            return None;
        }
        let method_name = rust_snake_name(operation_id);
        if let Some((other_id, _)) = seen_method_names.insert(
            method_name.clone(),
            (operation_id.to_owned(), pointer.to_owned()),
        ) {
            self.report(
                Some(operation_id),
                &id_pointer,
                format!("operationIds `{other_id}` and `{operation_id}` both become the method `{method_name}`"),
            );
        }
        Some(operation_id.to_owned())
    }

    fn operation(
        &mut self,
        name: &str,
        path_item: &PathItem,
        operation: &Operation,
        pointer: &str,
        template_names: &[String],
    ) {
        self.parameters(name, path_item, operation, pointer, template_names);
        self.request_body(name, operation, pointer);
        self.responses(name, operation, pointer);
    }

    /// Parameters must be ones progenitor can type: path parameters required and
    /// present in the template, query parameters in form style, no cookies, a
    /// schema (not `content`) each, and distinct Rust names.
    fn parameters(
        &mut self,
        name: &str,
        path_item: &PathItem,
        operation: &Operation,
        pointer: &str,
        template_names: &[String],
    ) {
        let components = self.spec.components.as_ref();
        let declared = path_item
            .parameters
            .iter()
            .enumerate()
            .map(|(index, parameter)| (from_tokens(["parameters", &index.to_string()]), parameter))
            .map(|(relative, parameter)| (format!("{}{relative}", parent(pointer)), parameter))
            .chain(
                operation
                    .parameters
                    .iter()
                    .enumerate()
                    .map(|(index, parameter)| {
                        (
                            child(&child(pointer, "parameters"), &index.to_string()),
                            parameter,
                        )
                    }),
            )
            .collect::<Vec<_>>();

        // Operation parameters override path-item ones of the same name and location.
        let mut effective: IndexMap<(String, &'static str), (String, &Parameter)> = IndexMap::new();
        for (parameter_pointer, parameter) in declared {
            let Some(parameter) =
                resolve(parameter, "parameters", components.map(|c| &c.parameters))
            else {
                self.report(
                    Some(name),
                    &parameter_pointer,
                    "this parameter `$ref` does not resolve to #/components/parameters/<name>",
                );
                continue;
            };
            let location = parameter_location(parameter);
            effective.insert(
                (parameter.parameter_data_ref().name.clone(), location),
                (parameter_pointer, parameter),
            );
        }

        let mut rust_names: BTreeMap<String, String> = BTreeMap::new();
        let mut path_parameter_names = BTreeSet::new();
        for ((api_name, _), (parameter_pointer, parameter)) in &effective {
            let data = parameter.parameter_data_ref();
            match parameter {
                Parameter::Path { style, .. } => {
                    path_parameter_names.insert(api_name.clone());
                    if !data.required {
                        self.report(
                            Some(name),
                            parameter_pointer,
                            "a path parameter must be `required: true` (progenitor asserts it)",
                        );
                    }
                    if !matches!(style, PathStyle::Simple) {
                        self.report(
                            Some(name),
                            parameter_pointer,
                            "only `simple` path parameters are supported",
                        );
                    }
                    if !template_names.contains(api_name) {
                        self.report(
                            Some(name),
                            parameter_pointer,
                            format!("path parameter `{api_name}` does not appear in the path; progenitor panics"),
                        );
                    }
                }
                Parameter::Query { style, .. } => {
                    if !matches!(style, QueryStyle::Form) {
                        self.report(
                            Some(name),
                            parameter_pointer,
                            "only `form` query parameters are supported",
                        );
                    }
                }
                Parameter::Header { .. } => {}
                Parameter::Cookie { .. } => {
                    self.report(
                        Some(name),
                        parameter_pointer,
                        "cookie parameters are not supported",
                    );
                }
            }
            self.parameter_schema(name, parameter, parameter_pointer);
            let rust_name = rust_snake_name(api_name);
            if let Some(other) = rust_names.insert(rust_name.clone(), api_name.clone()) {
                self.report(
                    Some(name),
                    parameter_pointer,
                    format!("parameters `{other}` and `{api_name}` both become the Rust name `{rust_name}`"),
                );
            } else if rust_name == "body" && operation.request_body.is_some() {
                self.report(
                    Some(name),
                    parameter_pointer,
                    "a parameter named `body` collides with the request body",
                );
            }
        }
        for template_name in template_names {
            if !path_parameter_names.contains(template_name) {
                self.report(
                    Some(name),
                    pointer,
                    format!(
                        "the path has `{{{template_name}}}` but no path parameter of that name"
                    ),
                );
            }
        }
    }

    fn parameter_schema(&mut self, name: &str, parameter: &Parameter, pointer: &str) {
        let data = parameter.parameter_data_ref();
        match &data.format {
            ParameterSchemaOrContent::Schema(schema) => {
                let schema_pointer = child(pointer, "schema");
                let components = self.spec.components.as_ref();
                if is_id_name(&data.name) && is_number(schema, components) {
                    self.report(Some(name), &schema_pointer, number_id_message(&data.name));
                }
                if let Some(problem) = parameter_shape_problem(parameter, schema, components) {
                    self.report(Some(name), &schema_pointer, problem);
                }
                self.schema(Some(name), schema, &schema_pointer);
            }
            ParameterSchemaOrContent::Content(_) => {
                self.report(
                    Some(name),
                    pointer,
                    "a parameter must have a `schema`, not `content`",
                );
            }
        }
    }

    /// A request body must be one `application/json` object with named properties;
    /// a bare `type: object` would reach users as an untyped map.
    fn request_body(&mut self, name: &str, operation: &Operation, pointer: &str) {
        let Some(body) = &operation.request_body else {
            return;
        };
        let body_pointer = child(pointer, "requestBody");
        let components = self.spec.components.as_ref();
        let Some(body) = resolve(body, "requestBodies", components.map(|c| &c.request_bodies))
        else {
            self.report(
                Some(name),
                &body_pointer,
                "this request body `$ref` does not resolve to #/components/requestBodies/<name>",
            );
            return;
        };
        let content_pointer = child(&body_pointer, "content");
        let media_types = body.content.keys().cloned().collect::<Vec<_>>();
        match media_types.as_slice() {
            [] => self.report(
                Some(name),
                &content_pointer,
                "the request body declares no media type, so progenitor would drop it",
            ),
            [media_type] if media_type == JSON_MEDIA_TYPE => {}
            [other] => self.report(
                Some(name),
                &content_pointer,
                format!("the request body is `{other}`; the client sends only `{JSON_MEDIA_TYPE}`"),
            ),
            _ => self.report(
                Some(name),
                &content_pointer,
                format!(
                    "the request body has {} media types; progenitor panics on more than one",
                    media_types.len()
                ),
            ),
        }
        let Some(media_type) = body.content.get(JSON_MEDIA_TYPE) else {
            return;
        };
        let media_pointer = child(&content_pointer, JSON_MEDIA_TYPE);
        self.media_type_encoding(name, media_type, &media_pointer);
        let Some(schema) = &media_type.schema else {
            self.report(
                Some(name),
                &media_pointer,
                "the JSON request body has no schema",
            );
            return;
        };
        let schema_pointer = child(&media_pointer, "schema");
        self.schema(Some(name), schema, &schema_pointer);
        let (resolved, resolved_pointer) = match schema {
            ReferenceOr::Item(schema) => (Some(schema), schema_pointer.clone()),
            ReferenceOr::Reference { reference } => (
                resolve(schema, "schemas", components.map(|c| &c.schemas)),
                reference.trim_start_matches('#').to_owned(),
            ),
        };
        let has_properties = matches!(
            resolved.map(|schema| &schema.schema_kind),
            Some(SchemaKind::Type(Type::Object(object))) if !object.properties.is_empty()
        );
        if !has_properties {
            self.report(
                Some(name),
                &resolved_pointer,
                "the request body schema has no properties, so users would get an untyped map; \
                 describe its fields in the enrichment",
            );
        }
    }

    /// progenitor `todo!`s on a JSON media type with an `encoding`.
    fn media_type_encoding(&mut self, name: &str, media_type: &MediaType, pointer: &str) {
        if !media_type.encoding.is_empty() {
            self.report(
                Some(name),
                &child(pointer, "encoding"),
                "`encoding` on a JSON media type makes progenitor panic",
            );
        }
    }

    /// Responses must give typed results: a declared success, JSON bodies with
    /// schemas, and one shape for all successes and one for all errors (progenitor
    /// asserts both).
    fn responses(&mut self, name: &str, operation: &Operation, pointer: &str) {
        let responses_pointer = child(pointer, "responses");
        let components = self.spec.components.as_ref();
        let mut success_shapes: BTreeMap<ResponseShape, Vec<String>> = BTreeMap::new();
        let mut error_shapes: BTreeMap<ResponseShape, Vec<String>> = BTreeMap::new();
        let entries = operation
            .responses
            .default
            .iter()
            .map(|response| ("default".to_owned(), None, response))
            .chain(
                operation
                    .responses
                    .responses
                    .iter()
                    .map(|(status, response)| (status.to_string(), Some(status), response)),
            );
        for (status_text, status, response) in entries {
            let response_pointer = child(&responses_pointer, &status_text);
            let class = match status {
                None => None,
                Some(StatusCode::Code(code)) if (100..=599).contains(code) => Some(code / 100),
                Some(StatusCode::Range(range)) if (1..=5).contains(range) => Some(*range),
                Some(_) => {
                    self.report(
                        Some(name),
                        &response_pointer,
                        format!("`{status_text}` is not an HTTP status (100 to 599 or 1XX to 5XX)"),
                    );
                    continue;
                }
            };
            let Some(response) = resolve(response, "responses", components.map(|c| &c.responses))
            else {
                self.report(
                    Some(name),
                    &response_pointer,
                    "this response `$ref` does not resolve to #/components/responses/<name>",
                );
                continue;
            };
            let Some(shape) = self.response_shape(name, response, &response_pointer) else {
                continue;
            };
            if matches!(class, Some(2) | None) || status == Some(&StatusCode::Code(101)) {
                if shape == ResponseShape::Untyped {
                    self.report(
                        Some(name),
                        &response_pointer,
                        "a success response with a non-JSON body would be an untyped byte stream",
                    );
                }
                self.success_body_typed(name, response, &response_pointer);
                success_shapes
                    .entry(shape.clone())
                    .or_default()
                    .push(status_text.clone());
            }
            if matches!(class, Some(4 | 5) | None) {
                if shape == ResponseShape::Untyped {
                    self.report(
                        Some(name),
                        &response_pointer,
                        "an error response with a non-JSON body would be an untyped byte stream",
                    );
                }
                error_shapes.entry(shape).or_default().push(status_text);
            }
        }
        if !operation
            .responses
            .responses
            .keys()
            .any(|status| matches!(status, StatusCode::Code(200..=299) | StatusCode::Range(2)))
        {
            self.report(
                Some(name),
                &responses_pointer,
                "no 2XX response is declared, so the result would be untyped",
            );
        }
        for (kind, shapes) in [("success", success_shapes), ("error", error_shapes)] {
            if shapes.len() > 1 {
                let listing = shapes
                    .iter()
                    .map(|(shape, statuses)| format!("{} → {shape}", statuses.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.report(
                    Some(name),
                    &responses_pointer,
                    format!("{kind} responses have different shapes ({listing}); progenitor needs one shape, so share one schema"),
                );
            }
        }
    }

    /// A success body whose schema is a bare `type: object` (no properties, no
    /// recorded reason) would reach users as an untyped map.
    fn success_body_typed(&mut self, name: &str, response: &Response, pointer: &str) {
        let components = self.spec.components.as_ref();
        let Some(schema) = response
            .content
            .get(JSON_MEDIA_TYPE)
            .and_then(|media| media.schema.as_ref())
        else {
            return;
        };
        let Some(resolved) = resolve(schema, "schemas", components.map(|c| &c.schemas)) else {
            return;
        };
        let bare_object = matches!(
            &resolved.schema_kind,
            SchemaKind::Type(Type::Object(object)) if object.properties.is_empty() && object.additional_properties.is_none()
        );
        let reason_recorded = resolved
            .schema_data
            .extensions
            .contains_key(crate::derive::UNTYPED_REASON);
        if bare_object && !reason_recorded {
            self.report(
                Some(name),
                &child(
                    &child(&child(pointer, "content"), JSON_MEDIA_TYPE),
                    "schema",
                ),
                "the success body schema has no properties, so users would get an untyped map; \
                 derive it from the docs' example or describe it in the enrichment",
            );
        }
    }

    fn response_shape(
        &mut self,
        name: &str,
        response: &Response,
        pointer: &str,
    ) -> Option<ResponseShape> {
        let json = response.content.iter().find(|(media_type, _)| {
            media_type.as_str() == JSON_MEDIA_TYPE || media_type.starts_with("application/json;")
        });
        let Some((media_type_name, media_type)) = json else {
            return Some(if response.content.is_empty() {
                ResponseShape::Empty
            } else {
                ResponseShape::Untyped
            });
        };
        let media_pointer = child(&child(pointer, "content"), media_type_name);
        self.media_type_encoding(name, media_type, &media_pointer);
        let Some(schema) = &media_type.schema else {
            self.report(
                Some(name),
                &media_pointer,
                "a JSON response without a schema makes progenitor panic",
            );
            return None;
        };
        self.schema(Some(name), schema, &child(&media_pointer, "schema"));
        Some(ResponseShape::Json(match schema {
            ReferenceOr::Reference { reference } => reference.clone(),
            ReferenceOr::Item(schema) => serde_json::to_string(schema).unwrap_or_default(),
        }))
    }

    fn component_schemas(&mut self) {
        let Some(components) = &self.spec.components else {
            return;
        };
        for (schema_name, schema) in &components.schemas {
            self.schema(
                None,
                schema,
                &from_tokens(["components", "schemas", schema_name]),
            );
        }
        self.schemas_containing_themselves(components);
    }

    /// A schema that is its own `allOf`, `oneOf`, `anyOf` or `not` member, or its
    /// own `$ref` target, with no field or list in between, describes no finite
    /// value, and typify recurses until the stack overflows (an abort that
    /// `catch_unwind` cannot stop). Recursion through a property or `items` is a
    /// recursive type, which typify boxes, and stays allowed.
    fn schemas_containing_themselves(&mut self, components: &Components) {
        let edges: BTreeMap<&str, Vec<String>> = components
            .schemas
            .iter()
            .map(|(name, schema)| {
                let mut targets = Vec::new();
                composition_targets(schema, &mut targets);
                (name.as_str(), targets)
            })
            .collect();
        for start in edges.keys() {
            if let Some(cycle) = composition_cycle(start, &edges) {
                self.report(
                    None,
                    &from_tokens(["components", "schemas", start]),
                    format!(
                        "this schema contains itself through `allOf`, `oneOf`, `anyOf`, `not` or `$ref` \
                         ({}) with no property or list in between, so no value fits it and typify \
                         recurses forever",
                        cycle.join(" → ")
                    ),
                );
            }
        }
    }

    /// Walks an inline schema tree (references are linted where they are defined).
    /// Ids must be integers or strings: `type: number` would make them `f64`.
    fn schema(&mut self, operation: Option<&str>, schema: &ReferenceOr<Schema>, pointer: &str) {
        match schema {
            ReferenceOr::Item(schema) => self.schema_item(operation, schema, pointer),
            ReferenceOr::Reference { reference } => {
                self.schema_reference(operation, reference, pointer)
            }
        }
    }

    fn boxed_schema(
        &mut self,
        operation: Option<&str>,
        schema: &ReferenceOr<Box<Schema>>,
        pointer: &str,
    ) {
        match schema {
            ReferenceOr::Item(schema) => self.schema_item(operation, schema, pointer),
            ReferenceOr::Reference { reference } => {
                self.schema_reference(operation, reference, pointer)
            }
        }
    }

    /// typify panics on a schema `$ref` that is not one of `#/components/schemas`.
    fn schema_reference(&mut self, operation: Option<&str>, reference: &str, pointer: &str) {
        let resolves = reference
            .strip_prefix("#/components/schemas/")
            .zip(self.spec.components.as_ref())
            .is_some_and(|(name, components)| {
                components.schemas.contains_key(&unescape_token(name))
            });
        if !resolves {
            self.report(
                operation,
                &child(pointer, "$ref"),
                format!("a schema `$ref` must name one of #/components/schemas, not `{reference}`"),
            );
        }
    }

    fn schema_item(&mut self, operation: Option<&str>, schema: &Schema, pointer: &str) {
        if let Some(problem) = default_problem(schema) {
            self.report(operation, &child(pointer, "default"), problem);
        }
        let mut properties = None;
        let mut additional_properties = None;
        let mut items = None;
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => {
                properties = Some(&object.properties);
                additional_properties = object.additional_properties.as_ref();
            }
            SchemaKind::Type(Type::Array(array)) => items = array.items.as_ref(),
            SchemaKind::Any(any) => {
                self.untyped_schema(operation, schema, any, pointer);
                properties = Some(&any.properties);
                additional_properties = any.additional_properties.as_ref();
                items = any.items.as_ref();
            }
            _ => {}
        }
        let Compositions {
            lists: combinations,
            negation,
        } = compositions(schema);

        if let Some(properties) = properties {
            let properties_pointer = child(pointer, "properties");
            for (property_name, property) in properties {
                let property_pointer = child(&properties_pointer, property_name);
                if let Some(kind) = crate::derive::data_key_kind(property_name) {
                    self.report(
                        operation,
                        &property_pointer,
                        format!(
                            "the property name `{property_name}` looks like data (a {kind}), so it is \
                             one entry of a map keyed by {kind}s, not a field: give the object \
                             `additionalProperties` with the entries' schema instead"
                        ),
                    );
                }
                if is_id_name(property_name)
                    && is_boxed_number(property, self.spec.components.as_ref())
                {
                    self.report(
                        operation,
                        &property_pointer,
                        number_id_message(property_name),
                    );
                }
                self.boxed_schema(operation, property, &property_pointer);
            }
        }
        if let Some(AdditionalProperties::Schema(additional)) = additional_properties {
            self.schema(
                operation,
                additional,
                &child(pointer, "additionalProperties"),
            );
        }
        if let Some(items) = items {
            self.boxed_schema(operation, items, &child(pointer, "items"));
        }
        for (keyword, list) in &combinations {
            if *keyword != "oneOf" {
                continue;
            }
            for (index, nested) in list.iter().enumerate() {
                // typify makes an inline object alternative a struct-like variant,
                // which has no type of its own: neither users nor the decode
                // error's "closest form" can name it.
                if let ReferenceOr::Item(Schema {
                    schema_kind: SchemaKind::Type(Type::Object(object)),
                    ..
                }) = nested
                    && !object.properties.is_empty()
                    && !is_tag_object(object)
                {
                    self.report(
                        operation,
                        &child(&child(pointer, keyword), &index.to_string()),
                        "an alternative of a `oneOf` that is an object with fields must be a `$ref` to a \
                         component, so it has a named type",
                    );
                }
            }
        }
        for (keyword, list) in combinations {
            for (index, nested) in list.iter().enumerate() {
                self.schema(
                    operation,
                    nested,
                    &child(&child(pointer, keyword), &index.to_string()),
                );
            }
        }
        if let Some(negation) = negation {
            self.schema(operation, negation, &child(pointer, "not"));
        }
    }

    /// openapiv3 reads a schema it cannot classify (no `type`, an unknown `type`,
    /// or keywords of several types together) as "any". Such a schema reaches users
    /// as an untyped `serde_json::Value` at best, and typify or progenitor `todo!`
    /// on many of them, so each one must be given a single, known `type`.
    fn untyped_schema(
        &mut self,
        operation: Option<&str>,
        whole: &Schema,
        schema: &AnySchema,
        pointer: &str,
    ) {
        // A deliberately open value: no keyword but the reason it is left open.
        let recorded_reason = whole
            .schema_data
            .extensions
            .get(crate::derive::UNTYPED_REASON)
            .and_then(Value::as_str)
            .is_some_and(|reason| !reason.trim().is_empty());
        if recorded_reason && *schema == AnySchema::default() {
            return;
        }
        const TYPES: [&str; 6] = ["boolean", "object", "array", "number", "string", "integer"];
        let message = match schema.typ.as_deref() {
            Some(type_name) if !TYPES.contains(&type_name) => {
                let message = format!("`{type_name}` is not a JSON Schema type (one of {})", TYPES.join(", "));
                self.report(operation, &child(pointer, "type"), message);
                return;
            }
            Some(type_name) => {
                format!("this `type: {type_name}` schema also has keywords of another type, so it cannot be typed")
            }
            None => "this schema has no `type`, so it would be an untyped JSON value (and progenitor panics on \
                     some such schemas); give it one, or record in `x-untyped-reason` why it stays open"
                .to_owned(),
        };
        self.report(operation, pointer, message);
    }
}

/// Follows a `$ref` (and references to references, a few levels deep) into the
/// component section it must point to; `None` when it does not resolve.
fn resolve<'s, T>(
    item: &'s ReferenceOr<T>,
    section: &str,
    components: Option<&'s IndexMap<String, ReferenceOr<T>>>,
) -> Option<&'s T> {
    let mut current = item;
    // Bounded so that a cycle of references cannot loop forever.
    for _ in 0..8 {
        match current {
            ReferenceOr::Item(item) => return Some(item),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix(&format!("#/components/{section}/"))?;
                current = components?.get(&unescape_token(name))?;
            }
        }
    }
    None
}

fn is_number(schema: &ReferenceOr<Schema>, components: Option<&Components>) -> bool {
    let resolved = resolve(schema, "schemas", components.map(|c| &c.schemas));
    resolved.is_some_and(schema_is_number)
}

fn is_boxed_number(schema: &ReferenceOr<Box<Schema>>, components: Option<&Components>) -> bool {
    resolve_boxed_schema(schema, components).is_some_and(schema_is_number)
}

/// [`resolve`] for the boxed schemas openapiv3 uses for properties and items.
fn resolve_boxed_schema<'s>(
    schema: &'s ReferenceOr<Box<Schema>>,
    components: Option<&'s Components>,
) -> Option<&'s Schema> {
    match schema {
        ReferenceOr::Item(schema) => Some(schema),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/schemas/")?;
            let target = components?.schemas.get(&unescape_token(name))?;
            resolve(target, "schemas", components.map(|c| &c.schemas))
        }
    }
}

/// A number, or an array of numbers (a list of ids).
fn schema_is_number(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Number(_)) => true,
        SchemaKind::Any(any) => any.typ.as_deref() == Some("number"),
        SchemaKind::Type(Type::Array(array)) => {
            matches!(&array.items, Some(ReferenceOr::Item(items)) if matches!(items.schema_kind, SchemaKind::Type(Type::Number(_))))
        }
        _ => false,
    }
}

fn number_id_message(name: &str) -> String {
    format!(
        "`{name}` is an id but has `type: number`, which would make it an `f64`; \
         give it `type: integer` (with `minimum: 1`) or `type: string`"
    )
}

fn parameter_location(parameter: &Parameter) -> &'static str {
    match parameter {
        Parameter::Query { .. } => "query",
        Parameter::Header { .. } => "header",
        Parameter::Path { .. } => "path",
        Parameter::Cookie { .. } => "cookie",
    }
}

/// A parameter travels as text, so its schema must be a scalar (a query parameter
/// may also be a list of scalars, sent as repeated keys). progenitor asserts on an
/// object parameter (its builder setter is only written for the body), and a list
/// in a path or header would not compile (`Vec` has no `Display`).
fn parameter_shape_problem(
    parameter: &Parameter,
    schema: &ReferenceOr<Schema>,
    components: Option<&Components>,
) -> Option<String> {
    let location = parameter_location(parameter);
    // A `$ref` that does not resolve is reported by the schema rules.
    let schema = resolve(schema, "schemas", components.map(|c| &c.schemas))?;
    let list_allowed = matches!(parameter, Parameter::Query { .. });
    match &schema.schema_kind {
        kind if is_scalar_kind(kind) => None,
        // An open value set (the known values, or any other text) is still one
        // scalar on the wire: typify makes it an untagged enum that serializes
        // as its text, and regen generates its `FromStr`, which the command line
        // parses arguments with. Any other set of forms has no `FromStr`.
        SchemaKind::OneOf { one_of } => match one_of.as_slice() {
            [ReferenceOr::Reference { .. }, ReferenceOr::Item(other)]
                if resolve(&one_of[0], "schemas", components.map(|c| &c.schemas)).is_some_and(
                    |known| {
                        matches!(&known.schema_kind,
                            SchemaKind::Type(Type::String(text)) if !text.enumeration.is_empty())
                    },
                ) && other.schema_data.title.as_deref() == Some("Other")
                    && matches!(other.schema_kind, SchemaKind::Type(Type::String(_))) =>
            {
                None
            }
            _ => Some(format!(
                "a {location} parameter with several forms must be an open value set (a `$ref` to a \
                 string enum, then a string titled `Other`): the command line reads it from text \
                 with the `FromStr` regen generates for that shape only"
            )),
        },
        SchemaKind::Type(Type::Array(array)) if list_allowed => {
            let items = array
                .items
                .as_ref()
                .and_then(|items| resolve_boxed_schema(items, components));
            match items {
                Some(items) if is_scalar_kind(&items.schema_kind) => None,
                _ => Some(format!(
                    "a {location} parameter that is a list must list strings, integers, numbers or booleans"
                )),
            }
        }
        _ => Some(format!(
            "a {location} parameter must be a string, integer, number or boolean{}; \
             progenitor cannot send a structured value there (and panics on an object)",
            if list_allowed {
                " (or a list of them)"
            } else {
                ""
            }
        )),
    }
}

/// typify renders a `default` into the generated code: one that does not fit the
/// schema makes it panic (a string schema with a list default), fail to compile
/// (0 for an integer with `minimum: 1`), or panic in users' programs (a default
/// UUID that does not parse, unwrapped when a field is missing). The docs give no
/// defaults, so only the plain kinds typify renders safely are allowed.
fn default_problem(schema: &Schema) -> Option<String> {
    let default = schema.schema_data.default.as_ref()?;
    let fits = match &schema.schema_kind {
        SchemaKind::Type(Type::Boolean(_)) => default.is_boolean(),
        SchemaKind::Type(Type::Integer(integer)) => default.as_i64().is_some_and(|value| {
            let int32 = matches!(
                integer.format,
                VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32)
            );
            in_bounds(
                value,
                integer.minimum,
                integer.exclusive_minimum,
                integer.maximum,
                integer.exclusive_maximum,
            ) && (!int32 || i32::try_from(value).is_ok())
                && (integer.enumeration.is_empty() || integer.enumeration.contains(&Some(value)))
        }),
        SchemaKind::Type(Type::Number(number)) => default.as_f64().is_some_and(|value| {
            in_bounds(
                value,
                number.minimum,
                number.exclusive_minimum,
                number.maximum,
                number.exclusive_maximum,
            ) && (number.enumeration.is_empty() || number.enumeration.contains(&Some(value)))
        }),
        SchemaKind::Type(Type::String(string)) => {
            let plain = string.format == VariantOrUnknownOrEmpty::Empty
                && string.pattern.is_none()
                && string.min_length.is_none()
                && string.max_length.is_none();
            if !plain {
                return Some(
                    "a `default` on a string with a `format`, `pattern` or length bound is not supported \
                     (typify would unwrap it at run time)"
                        .to_owned(),
                );
            }
            default.as_str().is_some_and(|value| {
                string.enumeration.is_empty()
                    || string
                        .enumeration
                        .iter()
                        .flatten()
                        .any(|allowed| allowed == value)
            })
        }
        _ => {
            return Some(
                "a `default` is only supported on a boolean, integer, number or plain string schema"
                    .to_owned(),
            );
        }
    };
    (!fits).then(|| format!("the `default` {default} is not a value this schema allows"))
}

fn in_bounds<T: PartialOrd>(
    value: T,
    minimum: Option<T>,
    exclusive_minimum: bool,
    maximum: Option<T>,
    exclusive_maximum: bool,
) -> bool {
    let above = minimum.is_none_or(|minimum| {
        if exclusive_minimum {
            value > minimum
        } else {
            value >= minimum
        }
    });
    let below = maximum.is_none_or(|maximum| {
        if exclusive_maximum {
            value < maximum
        } else {
            value <= maximum
        }
    });
    above && below
}

/// The component schemas `schema` refers to without a property or list in
/// between: its own `$ref`, and those of its `allOf`, `oneOf`, `anyOf` and `not`
/// members, followed through inline members.
fn composition_targets(schema: &ReferenceOr<Schema>, targets: &mut Vec<String>) {
    let schema = match schema {
        ReferenceOr::Reference { reference } => {
            if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                targets.push(unescape_token(name));
            }
            return;
        }
        ReferenceOr::Item(schema) => schema,
    };
    let Compositions { lists, negation } = compositions(schema);
    let members = lists.into_iter().flat_map(|(_, list)| list);
    for member in members.chain(negation) {
        composition_targets(member, targets);
    }
}

/// A schema's `oneOf`, `allOf` and `anyOf` lists (each with its keyword) and its
/// `not`, whether openapiv3 read it as one of those kinds or as "any".
/// An object of exactly one required field and nothing else: typify makes a
/// `oneOf` of such objects an externally tagged enum (`AccountIdentity`), whose
/// variants hold the field's type.
fn is_tag_object(object: &openapiv3::ObjectType) -> bool {
    object.properties.len() == 1
        && object.required.len() == 1
        && object.properties.contains_key(&object.required[0])
}

struct Compositions<'s> {
    lists: Vec<(&'static str, &'s Vec<ReferenceOr<Schema>>)>,
    negation: Option<&'s ReferenceOr<Schema>>,
}

fn compositions(schema: &Schema) -> Compositions<'_> {
    let (lists, negation) = match &schema.schema_kind {
        SchemaKind::OneOf { one_of } => (vec![("oneOf", one_of)], None),
        SchemaKind::AllOf { all_of } => (vec![("allOf", all_of)], None),
        SchemaKind::AnyOf { any_of } => (vec![("anyOf", any_of)], None),
        SchemaKind::Not { not } => (Vec::new(), Some(not.as_ref())),
        SchemaKind::Any(any) => (
            vec![
                ("oneOf", &any.one_of),
                ("allOf", &any.all_of),
                ("anyOf", &any.any_of),
            ],
            any.not.as_deref(),
        ),
        SchemaKind::Type(_) => (Vec::new(), None),
    };
    Compositions { lists, negation }
}

/// The shortest way back to `start` along `edges`, as a list of schema names
/// beginning and ending with `start`; `None` when there is none.
fn composition_cycle(start: &str, edges: &BTreeMap<&str, Vec<String>>) -> Option<Vec<String>> {
    // Breadth first, remembering how each schema was reached.
    let mut reached_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        for next in edges.get(current).into_iter().flatten() {
            if next == start {
                let mut path = vec![current.to_owned()];
                let mut step = current;
                while let Some(&previous) = reached_from.get(step) {
                    path.push(previous.to_owned());
                    step = previous;
                }
                path.reverse();
                path.push(start.to_owned());
                return Some(path);
            }
            if let Some((name, _)) = edges.get_key_value(next.as_str())
                && !reached_from.contains_key(name)
            {
                reached_from.insert(name, current);
                queue.push_back(name);
            }
        }
    }
    None
}

/// A string, integer, number or boolean schema.
fn is_scalar_kind(kind: &SchemaKind) -> bool {
    match kind {
        SchemaKind::Type(
            Type::String(_) | Type::Integer(_) | Type::Number(_) | Type::Boolean(_),
        ) => true,
        SchemaKind::Any(any) => {
            matches!(
                any.typ.as_deref(),
                Some("string" | "integer" | "number" | "boolean")
            )
        }
        _ => false,
    }
}

/// The `{name}` placeholders of a path template, or why the template is malformed.
fn path_template_names(path: &str) -> Result<Vec<String>, String> {
    if !path.starts_with('/') {
        return Err(format!("the path `{path}` must start with `/`"));
    }
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("the path `{path}` has a `}}` without a `{{`"));
        }
        let after_open = &rest[open + 1..];
        let close = after_open
            .find(['{', '}'])
            .filter(|&index| after_open[index..].starts_with('}'))
            .ok_or_else(|| format!("the path `{path}` has a `{{` without a matching `}}`"))?;
        let name = &after_open[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "the path `{path}` has a placeholder `{{{name}}}` that is not a plain name"
            ));
        }
        names.push(name.to_owned());
        rest = &after_open[close + 1..];
    }
    Ok(names)
}

fn is_identifier(text: &str) -> bool {
    let mut characters = text.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates_are_parsed_or_refused() {
        assert_eq!(
            path_template_names("/v2/servers/{serverId}/x/{b}"),
            Ok(vec!["serverId".to_owned(), "b".to_owned()])
        );
        assert!(path_template_names("/v2/{a").is_err());
        assert!(path_template_names("/v2/a}").is_err());
        assert!(path_template_names("/v2/{}").is_err());
        assert!(path_template_names("v2").is_err());
    }
}
