//! Keras layer configs: the JSON of `Cropping2D.get_config()`, read from a
//! config file or found inside a whole model's JSON, and written back.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::layer::Cropping2D;
use crate::layout::DataFormat;
use crate::spec::Cropping;

/// `Cropping2D.get_config()` as Keras 3 writes it: `name`, `trainable`,
/// `dtype`, `cropping` (`[[top, bottom], [left, right]]`) and `data_format`.
/// Reading accepts every `cropping` form Keras does and a `null`
/// `data_format`, which means the `keras.json` default.
///
/// ```
/// use rcrop::LayerConfig;
/// use rcrop::{Cropping2D, DataFormat};
/// let layer = Cropping2D::new("2:4,5".parse().unwrap(), DataFormat::ChannelsFirst);
/// let text = serde_json::to_string(&layer.get_config()).unwrap();
/// assert!(text.contains(r#""cropping":[[2,2],[4,5]],"data_format":"channels_first""#));
/// let back: LayerConfig = serde_json::from_str(&text).unwrap();
/// assert_eq!(Cropping2D::from_config(&back, DataFormat::ChannelsLast), layer);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerConfig {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_trainable")]
    pub trainable: bool,
    #[serde(default = "default_dtype")]
    pub dtype: serde_json::Value,
    pub cropping: KerasCropping,
    #[serde(default)]
    pub data_format: Option<KerasDataFormat>,
}

fn default_name() -> String {
    "cropping2d".into()
}

fn default_trainable() -> bool {
    true
}

/// Keras 3's default dtype policy, as `get_config` writes it.
fn default_dtype() -> serde_json::Value {
    serde_json::json!({
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "registered_name": null
    })
}

/// A [`Cropping`] in a Keras config: written as `[[t, b], [l, r]]`, read
/// from an int, a pair, or a pair of pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KerasCropping(pub Cropping);

impl Serialize for KerasCropping {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        [[c.top, c.bottom], [c.left, c.right]].serialize(s)
    }
}

impl<'de> Deserialize<'de> for KerasCropping {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // JSON lists read as Python lists, which the spec grammar takes.
        let value = serde_json::Value::deserialize(d)?;
        value
            .to_string()
            .parse()
            .map(KerasCropping)
            .map_err(D::Error::custom)
    }
}

/// A [`DataFormat`] in a Keras config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KerasDataFormat(pub DataFormat);

impl Serialize for KerasDataFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for KerasDataFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(KerasDataFormat).map_err(D::Error::custom)
    }
}

impl Cropping2D {
    /// The layer's config as Keras 3's `get_config()` gives it, named `cropping2d`.
    pub fn get_config(&self) -> LayerConfig {
        LayerConfig {
            name: default_name(),
            trainable: true,
            dtype: default_dtype(),
            cropping: KerasCropping(self.cropping),
            data_format: Some(KerasDataFormat(self.data_format)),
        }
    }

    /// The layer a config describes; a `null` data format takes `default`.
    pub fn from_config(config: &LayerConfig, default: DataFormat) -> Self {
        let format = config.data_format.map_or(default, |f| f.0);
        Cropping2D::new(config.cropping.0, format)
    }
}

/// JSON as Python's `json.dumps` writes it by default (`", "` and `": "`
/// between items), so a config prints exactly as Keras users see it.
pub fn to_python_json(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => String::new(),
    }
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// Why no single Cropping2D config could be taken from a JSON document.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("the Cropping2D config {name:?} is not valid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("holds no Cropping2D layer; expected a Cropping2D config or a model with one")]
    NoLayer,
    #[error("holds several Cropping2D layers ({}); choose one with --layer NAME", .0.join(", "))]
    Several(Vec<String>),
    #[error("holds no Cropping2D layer named {wanted:?}; it holds {}", .found.join(", "))]
    NotFound { wanted: String, found: Vec<String> },
}

/// The Cropping2D config in a JSON document: the document itself if it is
/// a layer config, else the layer of a model (Keras 2 or 3 layout, nested
/// models included) named `name`, or its only Cropping2D layer.
pub fn find_layer(text: &str, name: Option<&str>) -> Result<LayerConfig, ConfigError> {
    let root: serde_json::Value = serde_json::from_str(text).map_err(ConfigError::Json)?;
    let mut found = Vec::new();
    if root.get("cropping").is_some() {
        found.push(&root);
    } else {
        collect_layers(&root, &mut found);
    }
    let name_of = |v: &serde_json::Value| {
        v.get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("cropping2d")
            .to_owned()
    };
    let names: Vec<String> = found.iter().map(|v| name_of(v)).collect();
    let chosen =
        match (name, found.as_slice()) {
            (_, []) => return Err(ConfigError::NoLayer),
            (Some(wanted), _) => found.iter().find(|v| name_of(v) == wanted).ok_or_else(|| {
                ConfigError::NotFound {
                    wanted: wanted.to_owned(),
                    found: names.clone(),
                }
            })?,
            (None, [one]) => one,
            (None, _) => return Err(ConfigError::Several(names)),
        };
    serde_json::from_value((*chosen).clone()).map_err(|e| ConfigError::Invalid {
        name: name_of(chosen),
        reason: e.to_string(),
    })
}

/// Every `{"class_name": "Cropping2D", "config": {...}}` in a JSON tree, in document order.
fn collect_layers<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a serde_json::Value>) {
    match value {
        serde_json::Value::Object(map) => {
            let is_crop = map.get("class_name").and_then(|c| c.as_str()) == Some("Cropping2D");
            if let (true, Some(config)) = (is_crop, map.get("config")) {
                found.push(config);
                return;
            }
            map.values().for_each(|v| collect_layers(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_layers(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"{"class_name": "Functional", "config": {"layers": [
        {"class_name": "Cropping2D", "config": {"name": "small", "cropping": 1, "data_format": null}},
        {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Cropping2D", "config": {"name": "big", "cropping": [2, [3, 4]], "data_format": "channels_first"}}
        ]}}
    ]}}"#;

    #[test]
    fn a_layer_is_found_by_name_in_a_nested_model() {
        let big = find_layer(MODEL, Some("big")).unwrap();
        assert_eq!(big.cropping.0, Cropping::from_groups((2, 2), (3, 4)));
        assert_eq!(
            big.data_format,
            Some(KerasDataFormat(DataFormat::ChannelsFirst))
        );
        let small = find_layer(MODEL, Some("small")).unwrap();
        assert_eq!(small.cropping.0, Cropping::uniform(1));
        assert_eq!(small.data_format, None);
    }

    #[test]
    fn ambiguous_missing_and_invalid_layers_are_explained() {
        assert_eq!(
            find_layer(MODEL, None).unwrap_err().to_string(),
            "holds several Cropping2D layers (small, big); choose one with --layer NAME"
        );
        assert!(
            find_layer(MODEL, Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("named \"nope\"; it holds small, big")
        );
        assert!(matches!(
            find_layer(r#"{"layers": []}"#, None),
            Err(ConfigError::NoLayer)
        ));
        assert!(matches!(find_layer("{", None), Err(ConfigError::Json(_))));
        let bad = find_layer(r#"{"cropping": [1, 2, 3]}"#, None)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("3 numbers")
                || bad.contains("where ')' was expected")
                || bad.contains("']'"),
            "{bad}"
        );
        let bad = find_layer(r#"{"cropping": 1, "data_format": "NCHW"}"#, None)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("\"NCHW\""), "{bad}");
    }
}
