//! Shrinks the JSON schemas schemars generates before they are listed.
//!
//! Every `tools/list` is read by the model on every turn, so its bytes are
//! a cost. Input schemas keep what a caller needs (names, types, enums,
//! descriptions, required) with `$ref`s to enums inlined and JSON-Schema
//! noise removed. Output schemas keep their top level only: the property
//! names and JSON types, which is what clients validate and agents read.

use serde_json::{Map, Value};

type Object = Map<String, Value>;

fn resolve<'a>(defs: Option<&'a Object>, r: &str) -> Option<&'a Value> {
    defs?.get(r.strip_prefix("#/$defs/")?)
}

/// A property's schema with `$ref` / `anyOf[$ref, null]` / `[T, "null"]`
/// folded into a plain schema. Optionality is carried by `required`.
fn fold(prop: &Value, defs: Option<&Object>) -> Value {
    let Value::Object(p) = prop else {
        return prop.clone();
    };
    let mut out = Object::new();
    let inner = p
        .get("$ref")
        .and_then(Value::as_str)
        .or_else(|| {
            p.get("anyOf")?
                .as_array()?
                .iter()
                .find_map(|alt| alt.get("$ref")?.as_str())
        })
        .and_then(|r| resolve(defs, r));
    if let Some(Value::Object(def)) = inner {
        for (k, v) in def {
            if k != "description" && k != "title" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in p {
        match k.as_str() {
            "$ref" | "anyOf" | "format" | "title" => {}
            "type" => {
                let t = match v {
                    Value::Array(ts) => {
                        let non_null: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
                        match non_null.as_slice() {
                            [one] => (*one).clone(),
                            _ => v.clone(),
                        }
                    }
                    other => other.clone(),
                };
                out.insert(k.clone(), t);
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The input schema, inlined and without noise.
pub fn compact_input(schema: &Object) -> Object {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut out = Object::new();
    for (k, v) in schema {
        match k.as_str() {
            "$schema" | "$defs" | "title" | "description" => {}
            "properties" => {
                let props = v
                    .as_object()
                    .map(|ps| {
                        ps.iter()
                            .map(|(n, p)| (n.clone(), fold(p, defs)))
                            .collect::<Object>()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// The output schema's top level: property names and JSON types.
pub fn shallow_output(schema: &Object) -> Object {
    let mut out = Object::new();
    out.insert("type".into(), "object".into());
    let mut props = Object::new();
    if let Some(ps) = schema.get("properties").and_then(Value::as_object) {
        for (name, p) in ps {
            props.insert(name.clone(), Value::Object(json_type(p)));
        }
    }
    out.insert("properties".into(), Value::Object(props));
    if let Some(r) = schema.get("required") {
        out.insert("required".into(), r.clone());
    }
    out
}

fn json_type(p: &Value) -> Object {
    let mut t = Object::new();
    let ty = if let Some(ty) = p.get("type") {
        Some(ty.clone())
    } else if p.get("$ref").is_some() {
        Some("object".into())
    } else if let Some(alts) = p.get("anyOf").and_then(Value::as_array) {
        let nullable = alts
            .iter()
            .any(|a| a.get("type") == Some(&Value::from("null")));
        let base = alts.iter().find_map(|a| {
            if a.get("$ref").is_some() {
                Some(Value::from("object"))
            } else {
                a.get("type").cloned().filter(|t| t != "null")
            }
        });
        match (base, nullable) {
            (Some(b), true) => Some(Value::Array(vec![b, "null".into()])),
            (Some(b), false) => Some(b),
            (None, _) => None,
        }
    } else {
        None // `true` / `{}`: any JSON value (e.g. Zoho's raw record)
    };
    if let Some(ty) = ty {
        t.insert("type".into(), ty);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inlines_enum_refs_and_drops_noise() {
        let s = json!({
            "$schema": "x", "$defs": {"D": {"enum": ["a", "b"], "type": "string", "description": "d"}},
            "type": "object", "additionalProperties": false,
            "properties": {
                "d": {"anyOf": [{"$ref": "#/$defs/D"}, {"type": "null"}], "description": "pick"},
                "n": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
                "r": {"$ref": "#/$defs/D"}
            },
            "required": ["r"]
        });
        let out = Value::Object(compact_input(s.as_object().unwrap()));
        assert_eq!(
            out,
            json!({"type": "object", "additionalProperties": false, "required": ["r"], "properties": {
                "d": {"enum": ["a", "b"], "type": "string", "description": "pick"},
                "n": {"type": "integer", "minimum": 0},
                "r": {"enum": ["a", "b"], "type": "string"}
            }})
        );
    }

    #[test]
    fn output_keeps_top_level_names_and_types() {
        let s = json!({"$defs": {}, "type": "object", "required": ["a"], "properties": {
            "a": {"type": "integer", "format": "uint"}, "b": {"items": {"$ref": "#/$defs/X"}, "type": "array"},
            "c": {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]}, "d": true, "e": {"$ref": "#/$defs/X"}
        }});
        let out = Value::Object(shallow_output(s.as_object().unwrap()));
        assert_eq!(
            out,
            json!({"type": "object", "required": ["a"], "properties": {
                "a": {"type": "integer"}, "b": {"type": "array"}, "c": {"type": ["object", "null"]}, "d": {}, "e": {"type": "object"}
            }})
        );
    }
}
