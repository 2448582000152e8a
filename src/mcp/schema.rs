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
            match k.as_str() {
                "description" | "title" | "additionalProperties" => {}
                "properties" => {
                    let props = v.as_object().map(|ps| {
                        ps.iter()
                            .map(|(n, p)| (n.clone(), fold(p, defs)))
                            .collect::<Object>()
                    });
                    out.insert(k.clone(), props.map_or_else(|| v.clone(), Value::Object));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    for (k, v) in p {
        match k.as_str() {
            "$ref" | "anyOf" | "format" | "title" => {}
            // An array of objects (a list of decisions): the item's `$ref`
            // is inlined too, or the listed schema would point at `$defs`
            // it no longer has.
            "items" => {
                out.insert(k.clone(), fold(v, defs));
            }
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
            // additionalProperties: the server refuses unknown arguments
            // itself, with a message; the listing need not repeat it.
            "$schema" | "$defs" | "title" | "description" | "additionalProperties" => {}
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

/// The output schema, two levels deep, small: `$ref`s inlined, descriptions,
/// titles, formats and bounds dropped, nullable `anyOf`s folded into a type
/// list. Items and nested objects keep their types, so a client validating
/// (or a model reading) the result knows its real shape.
/// `max_depth` levels are described in full (1: the result's fields and
/// their JSON types only); an optional object field (one that may be null)
/// gets its type only, since it is absent from most results.
pub fn compact_output_to(schema: &Object, max_depth: usize) -> Object {
    let defs = schema.get("$defs").and_then(Value::as_object);
    match shape(&Value::Object(schema.clone()), defs, 0, max_depth) {
        Value::Object(o) => o,
        _ => Object::new(),
    }
}

/// Keys that carry a value's shape; everything else is documentation or
/// validation detail the listing does not need.
const SHAPE_KEYS: &[&str] = &[
    "type",
    "properties",
    "items",
    "prefixItems",
    "required",
    "enum",
    "additionalProperties",
];

fn shape(v: &Value, defs: Option<&Object>, depth: usize, max: usize) -> Value {
    let Value::Object(p) = v else {
        // `true` (any value) stays as it is, and so does `false`.
        return v.clone();
    };
    if let Some(r) = p.get("$ref").and_then(Value::as_str)
        && let Some(def) = resolve(defs, r)
    {
        return shape(def, defs, depth, max);
    }
    if let Some(alts) = p.get("anyOf").and_then(Value::as_array) {
        let nullable = alts
            .iter()
            .any(|a| a.get("type") == Some(&Value::from("null")));
        let rest: Vec<Value> = alts
            .iter()
            .filter(|a| a.get("type") != Some(&Value::from("null")))
            .map(|a| shape(a, defs, depth, max))
            .collect();
        if let [one] = rest.as_slice()
            && let Value::Object(o) = one
        {
            let mut o = o.clone();
            if nullable && depth > 0 && o.get("type") == Some(&Value::from("object")) {
                o.retain(|k, _| k == "type");
            }
            if nullable && let Some(t) = o.get("type").cloned() {
                let mut types = match t {
                    Value::Array(ts) => ts,
                    t => vec![t],
                };
                types.push("null".into());
                o.insert("type".into(), Value::Array(types));
            }
            return Value::Object(o);
        }
        let mut o = Object::new();
        o.insert("anyOf".into(), Value::Array(rest));
        return Value::Object(o);
    }
    let mut out = Object::new();
    for (k, v) in p {
        if !SHAPE_KEYS.contains(&k.as_str()) {
            continue;
        }
        // Below the second level only the JSON type is kept: `tools/list`
        // is read on every turn, and two levels say what a result holds.
        if depth >= max && k != "type" {
            continue;
        }
        // Which fields are optional is detail a result reader can see.
        if k == "required" {
            continue;
        }
        let v = match k.as_str() {
            "properties" => Value::Object(
                v.as_object()
                    .map(|ps| {
                        ps.iter()
                            .map(|(n, s)| (n.clone(), shape(s, defs, depth + 1, max)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" => shape(v, defs, depth + 1, max),
            "prefixItems" => Value::Array(
                v.as_array()
                    .map(|xs| xs.iter().map(|x| shape(x, defs, depth + 1, max)).collect())
                    .unwrap_or_default(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
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
            json!({"type": "object", "required": ["r"], "properties": {
                "d": {"enum": ["a", "b"], "type": "string", "description": "pick"},
                "n": {"type": "integer", "minimum": 0},
                "r": {"enum": ["a", "b"], "type": "string"}
            }})
        );
    }

    #[test]
    fn inlines_the_object_items_of_an_array() {
        let s = json!({
            "$defs": {"I": {"type": "object", "description": "i", "additionalProperties": false,
                "properties": {"id": {"type": "string", "title": "Id"}}, "required": ["id"]}},
            "type": "object",
            "properties": {"xs": {"type": "array", "items": {"$ref": "#/$defs/I"}}}
        });
        let out = Value::Object(compact_input(s.as_object().unwrap()));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"xs": {"type": "array", "items": {
                "type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]
            }}}})
        );
    }

    #[test]
    fn output_keeps_nested_types_and_drops_documentation() {
        let s = json!({"$defs": {"X": {"type": "object", "description": "x", "properties": {"id": {"type": "string", "title": "Id"}, "deep": {"type": "object", "properties": {"z": {"type": "string"}}}}}},
            "type": "object", "required": ["a"], "properties": {
            "a": {"type": "integer", "format": "uint", "minimum": 0}, "b": {"items": {"$ref": "#/$defs/X"}, "type": "array"},
            "c": {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]}, "d": true
        }});
        let out = Value::Object(compact_output_to(s.as_object().unwrap(), 2));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "object"}},
                "c": {"type": ["object", "null"]}, "d": true
            }})
        );
    }
}
