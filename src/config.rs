//! Keras layer configs: the JSON of `get_config()` of the four cropping
//! layers, read from a config file or found inside a whole model's JSON,
//! and written back as Keras 3 writes it.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::data_format::DataFormat;
use crate::layer::{CenterCrop, Layer, LayerChoice, LayerClass, LayerKeys};
use crate::spec::CropSpec;

/// A layer as a Keras config describes it: the layer, the data format the
/// config gives (`None` for a `null` or missing one, which
/// means the `keras.json` default; `layer` then holds `channels_last`). A
/// `CenterCrop` config without a `data_format` key is Keras 2's, whose
/// `CenterCrop` always crops axes -3 and -2: `channels_last`), and the
/// name, dtype policy and other keys every Keras layer has.
///
/// ```
/// use rcrop::{Cropping2D, DataFormat, Layer, find_layer, to_python_json};
/// let layer = Layer::from(Cropping2D::new("2:4,5".parse().unwrap(), DataFormat::ChannelsFirst));
/// let text = to_python_json(&layer.get_config());
/// assert!(text.ends_with(r#""cropping": [[2, 2], [4, 5]], "data_format": "channels_first"}"#));
/// let back = find_layer(&text, None).unwrap();
/// assert_eq!(back.keys.name, "cropping2d");
/// assert_eq!(back.resolve(DataFormat::ChannelsLast), layer);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerConfig {
    pub layer: Layer,
    pub data_format: Option<DataFormat>,
    pub keys: LayerKeys,
}

impl LayerConfig {
    /// The layer, a missing data format taken as `default`.
    pub fn resolve(&self, default: DataFormat) -> Layer {
        match self.data_format {
            Some(_) => self.layer,
            None => self.layer.with_data_format(default),
        }
    }

    /// The layer, a missing data format taken as `default`, with what the
    /// config says of it besides its crop: `get_config()` of the layer
    /// Keras' `from_config` makes of the config.
    pub fn choice(self, default: DataFormat) -> LayerChoice {
        LayerChoice::Configured {
            layer: self.resolve(default),
            keys: self.keys,
        }
    }
}

/// A dtype policy as Keras 3's `get_config` writes it.
fn dtype_policy(name: &str) -> Value {
    json!({
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": name},
        "registered_name": null
    })
}

impl Layer {
    /// The layer's config as Keras 3's `get_config()` gives it, under the
    /// name Keras gives the first layer of its class (`cropping2d`,
    /// `center_crop`...), keys in Keras' order.
    pub fn get_config(&self) -> Value {
        self.get_config_as(&LayerKeys::default_for(self.class()))
    }

    /// The layer's config as Keras 3's `get_config()` gives it for a layer
    /// with these name, dtype policy and other keys.
    pub fn get_config_as(&self, keys: &LayerKeys) -> Value {
        let mut config = Map::new();
        config.insert("name".into(), keys.name.as_str().into());
        config.insert("trainable".into(), keys.trainable.into());
        config.insert("dtype".into(), dtype_policy(&keys.dtype));
        if let Some(regularizer) = &keys.activity_regularizer {
            config.insert("activity_regularizer".into(), regularizer.clone());
        }
        let format = self.data_format().map(|f| Value::from(f.as_str()));
        match self {
            Layer::CenterCrop(c) => {
                config.insert("data_format".into(), format.unwrap_or_default());
                config.insert("height".into(), c.height.into());
                config.insert("width".into(), c.width.into());
            }
            Layer::Cropping1D(c) => {
                config.insert("cropping".into(), json!([c.cropping.begin, c.cropping.end]));
            }
            _ => {
                let sides: Vec<Value> = self
                    .sides()
                    .iter()
                    .map(|s| json!([s.begin, s.end]))
                    .collect();
                config.insert("cropping".into(), sides.into());
                config.insert("data_format".into(), format.unwrap_or_default());
            }
        }
        Value::Object(config)
    }
}

/// A JSON `cropping` value read as the Python value it holds.
fn crop_spec(value: &Value) -> Result<CropSpec, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(CropSpec::Int)
            .ok_or_else(|| format!("cropping holds {n}; expected non-negative integers")),
        Value::Array(items) => items
            .iter()
            .map(crop_spec)
            .collect::<Result<_, _>>()
            .map(CropSpec::Tuple),
        other => Err(format!(
            "cropping holds {other}; expected integers and lists"
        )),
    }
}

/// A `CenterCrop` size: a positive integer.
fn size(config: &Value, key: &str) -> Result<usize, String> {
    let value = config.get(key).ok_or_else(|| format!("no {key:?}"))?;
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{key} is {value}; expected a positive integer"))
}

/// The layer a config of a known class describes. A missing `cropping`
/// is Keras' default for the class.
fn read_config(class: LayerClass, config: &Value) -> Result<LayerConfig, String> {
    let data_format = match config.get("data_format") {
        // Keras 2's CenterCrop has no data_format: it is channels_last.
        None if class == LayerClass::CenterCrop => Some(DataFormat::ChannelsLast),
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.parse::<DataFormat>().map_err(|e| e.to_string())?),
        Some(other) => return Err(format!("data_format is {other}; expected a string or null")),
    };
    let format = data_format.unwrap_or_default();
    let layer = match class {
        LayerClass::CenterCrop => {
            CenterCrop::new(size(config, "height")?, size(config, "width")?, format).into()
        }
        _ => {
            let spec = match config.get("cropping") {
                Some(value) => crop_spec(value)?,
                None if class == LayerClass::Cropping2D => CropSpec::Int(0),
                None => CropSpec::Int(1),
            };
            Layer::from_spec(class, &spec, format).map_err(|e| e.to_string())?
        }
    };
    let data_format = data_format.filter(|_| class != LayerClass::Cropping1D);
    Ok(LayerConfig {
        layer,
        data_format,
        keys: keys_of(config, class)?,
    })
}

/// The keys every Keras layer has, read as Keras 3's `from_config` reads
/// them, refused where it refuses them. Keys Keras 2 wrote that Keras 3
/// drops (`batch_input_shape`) are dropped.
fn keys_of(config: &Value, class: LayerClass) -> Result<LayerKeys, String> {
    let name = match config.get("name") {
        None | Some(Value::Null) => class.default_name().to_owned(),
        Some(Value::String(name)) if !name.contains('/') => name.clone(),
        Some(other) => return Err(format!("name is {other}; expected a string without '/'")),
    };
    let trainable = match config.get("trainable") {
        None => true,
        Some(Value::Bool(trainable)) => *trainable,
        Some(other) => return Err(format!("trainable is {other}; expected true or false")),
    };
    let activity_regularizer = match config.get("activity_regularizer") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(map)) if map.contains_key("module") => Some(value.clone()),
        Some(other) => {
            return Err(format!(
                "activity_regularizer is {other}; expected null or a regularizer as Keras 3 \
                 writes it ({{\"module\": ..., \"class_name\": ..., \"config\": ...}})"
            ));
        }
    };
    Ok(LayerKeys {
        name,
        trainable,
        dtype: dtype_of(config.get("dtype"))?,
        activity_regularizer,
    })
}

/// The names Keras 3 takes as a layer's dtype policy: its dtypes (but
/// `int8` and the `float8` ones, which it reads as quantization modes),
/// `int`, and the two mixed policies.
const DTYPE_POLICIES: [&str; 18] = [
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int16",
    "int32",
    "int64",
    "int",
    "bool",
    "string",
    "complex64",
    "complex128",
    "mixed_float16",
    "mixed_bfloat16",
];

/// The name of the dtype policy a config's `dtype` gives; none is Keras'
/// default, `float32`.
fn dtype_of(value: Option<&Value>) -> Result<String, String> {
    let value = value.unwrap_or(&Value::Null);
    match policy_name(value) {
        Ok(None) => Ok("float32".to_owned()),
        Ok(Some(name)) if DTYPE_POLICIES.contains(&name) => Ok(name.to_owned()),
        _ => Err(format!(
            "dtype is {value}; expected null, a dtype policy's name ({}) or its config",
            DTYPE_POLICIES.join(", ")
        )),
    }
}

/// The policy name a `dtype` value holds (`None` for none): the name
/// itself, or the config of Keras 3's `DTypePolicy`, its older
/// `FloatDTypePolicy` or Keras 2's `Policy`. `Err` for anything else.
fn policy_name(value: &Value) -> Result<Option<&str>, ()> {
    let policy = match value {
        Value::Null => return Ok(None),
        Value::String(name) => return Ok(Some(name)),
        Value::Object(policy) => policy,
        _ => return Err(()),
    };
    let class = policy.get("class_name").and_then(Value::as_str);
    if !class.is_some_and(|c| ["DTypePolicy", "FloatDTypePolicy", "Policy"].contains(&c)) {
        return Err(());
    }
    match policy.get("config") {
        None => Ok(None),
        Some(Value::Object(config)) if config.keys().all(|k| k == "name") => {
            match config.get("name") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(name)) => Ok(Some(name)),
                Some(_) => Err(()),
            }
        }
        Some(_) => Err(()),
    }
}

fn name_of(config: &Value, class: LayerClass) -> String {
    config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(class.default_name())
        .to_owned()
}

/// The class of a bare `get_config()`, which does not name it, from the
/// keys Keras 3 writes for each: `height` and `width` for `CenterCrop`; a
/// `cropping` of three entries for `Cropping3D`; `Cropping1D` has no
/// `data_format`; the rest is `Cropping2D`.
fn infer_class(config: &Value) -> Option<LayerClass> {
    if config.get("height").is_some() || config.get("width").is_some() {
        return Some(LayerClass::CenterCrop);
    }
    let cropping = config.get("cropping")?;
    if cropping.as_array().is_some_and(|items| items.len() == 3) {
        return Some(LayerClass::Cropping3D);
    }
    if config.get("data_format").is_none() {
        return Some(LayerClass::Cropping1D);
    }
    Some(LayerClass::Cropping2D)
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

/// Why no single cropping layer could be taken from a JSON document.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("the {class} config {name:?} is not valid: {reason}")]
    Invalid {
        class: LayerClass,
        name: String,
        reason: String,
    },
    #[error(
        "holds no cropping layer; expected the config of a Cropping1D, Cropping2D, Cropping3D or \
         CenterCrop layer, or a model with one"
    )]
    NoLayer,
    #[error("holds several cropping layers ({}); choose one with --layer NAME", .0.join(", "))]
    Several(Vec<String>),
    #[error("holds no cropping layer named {wanted:?}; it holds {}", .found.join(", "))]
    NotFound { wanted: String, found: Vec<String> },
}

/// The cropping layer config in a JSON document: the document itself if it
/// is a layer's `get_config()`, else a layer of a model (Keras 2 or 3
/// layout, nested models included). `wanted` picks the layer of that name;
/// if none has it and it is a class name (`Cropping3D`), the only layer of
/// that class, and a bare config is read as that class. Without `wanted`,
/// the document must hold one cropping layer.
pub fn find_layer(text: &str, wanted: Option<&str>) -> Result<LayerConfig, ConfigError> {
    let root: Value = serde_json::from_str(text).map_err(ConfigError::Json)?;
    let wanted_class = wanted.and_then(|w| w.parse::<LayerClass>().ok());
    let mut found: Vec<(Option<LayerClass>, &Value)> = Vec::new();
    if root.get("class_name").is_none() && infer_class(&root).is_some() {
        found.push((None, &root));
    } else {
        collect_layers(&root, &mut found);
    }
    let class_of = |(class, config): &(Option<LayerClass>, &Value)| {
        class.or(wanted_class).or_else(|| infer_class(config))
    };
    let names: Vec<String> = found
        .iter()
        .map(|entry| {
            let class = class_of(entry).unwrap_or(LayerClass::Cropping2D);
            name_of(entry.1, class)
        })
        .collect();
    let indices: Vec<usize> = match wanted {
        None => (0..found.len()).collect(),
        Some(w) => {
            let by_name: Vec<usize> = (0..found.len()).filter(|&i| names[i] == w).collect();
            match wanted_class {
                Some(class) if by_name.is_empty() => (0..found.len())
                    .filter(|&i| class_of(&found[i]) == Some(class))
                    .collect(),
                _ => by_name,
            }
        }
    };
    let index = match (indices.as_slice(), wanted) {
        (_, _) if found.is_empty() => return Err(ConfigError::NoLayer),
        ([one], _) => *one,
        ([], Some(w)) => {
            return Err(ConfigError::NotFound {
                wanted: w.to_owned(),
                found: names,
            });
        }
        (several, _) => {
            return Err(ConfigError::Several(
                several.iter().map(|&i| names[i].clone()).collect(),
            ));
        }
    };
    let entry = &found[index];
    let class = class_of(entry).unwrap_or(LayerClass::Cropping2D);
    read_config(class, entry.1).map_err(|reason| ConfigError::Invalid {
        class,
        name: names[index].clone(),
        reason,
    })
}

/// Every `{"class_name": <one of the four>, "config": {...}}` in a JSON
/// tree, in document order.
fn collect_layers<'a>(value: &'a Value, found: &mut Vec<(Option<LayerClass>, &'a Value)>) {
    match value {
        Value::Object(map) => {
            let class = map
                .get("class_name")
                .and_then(Value::as_str)
                .and_then(|c| c.parse::<LayerClass>().ok());
            if let (Some(class), Some(config)) = (class, map.get("config")) {
                found.push((Some(class), config));
                return;
            }
            map.values().for_each(|v| collect_layers(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_layers(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Cropping1D, Cropping2D, Cropping3D};
    use crate::spec::{Cropping, Sides};

    const MODEL: &str = r#"{"class_name": "Functional", "config": {"layers": [
        {"class_name": "Cropping2D", "config": {"name": "small", "cropping": 1, "data_format": null}},
        {"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Cropping2D", "config": {"name": "big", "cropping": [2, [3, 4]], "data_format": "channels_first"}},
            {"class_name": "Cropping3D", "config": {"name": "vol", "cropping": [1, 2, [3, 4]], "data_format": "channels_last"}}
        ]}}
    ]}}"#;

    #[test]
    fn a_layer_is_found_by_name_in_a_nested_model() {
        let big = find_layer(MODEL, Some("big")).unwrap();
        let crop = Cropping::from_groups((2, 2), (3, 4));
        assert_eq!(
            big.layer,
            Cropping2D::new(crop, DataFormat::ChannelsFirst).into()
        );
        assert_eq!(big.data_format, Some(DataFormat::ChannelsFirst));
        let small = find_layer(MODEL, Some("small")).unwrap();
        assert_eq!(small.data_format, None);
        let vol = find_layer(MODEL, Some("Cropping3D")).unwrap();
        let sides = [Sides::new(1, 1), Sides::new(2, 2), Sides::new(3, 4)];
        assert_eq!(
            vol.layer,
            Cropping3D::new(sides, DataFormat::ChannelsLast).into()
        );
    }

    #[test]
    fn a_bare_config_is_read_as_the_class_keras_writes_it_for() {
        let one = find_layer(r#"{"name": "s", "cropping": [2, 4]}"#, None).unwrap();
        assert_eq!(one.layer, Cropping1D::new(Sides::new(2, 4)).into());
        let centre = find_layer(
            r#"{"name": "c", "data_format": "channels_first", "height": 3, "width": 5}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            centre.layer,
            CenterCrop::new(3, 5, DataFormat::ChannelsFirst).into()
        );
        let forced = find_layer(
            r#"{"cropping": 2, "data_format": null}"#,
            Some("Cropping3D"),
        )
        .unwrap();
        assert_eq!(forced.layer.class(), LayerClass::Cropping3D);
    }

    #[test]
    fn a_keras2_center_crop_without_data_format_is_channels_last() {
        let keras2 =
            r#"{"name": "c", "trainable": true, "dtype": "float32", "height": 4, "width": 7}"#;
        let centre = find_layer(keras2, None).unwrap();
        assert_eq!(centre.data_format, Some(DataFormat::ChannelsLast));
        assert_eq!(
            centre.resolve(DataFormat::ChannelsFirst),
            CenterCrop::new(4, 7, DataFormat::ChannelsLast).into()
        );
        // A null data_format is still the keras.json default.
        let null = r#"{"name": "c", "data_format": null, "height": 4, "width": 7}"#;
        let centre = find_layer(null, None).unwrap();
        assert_eq!(centre.data_format, None);
        assert_eq!(
            centre.resolve(DataFormat::ChannelsFirst),
            CenterCrop::new(4, 7, DataFormat::ChannelsFirst).into()
        );
        // The same in a Keras 2 model, found by class.
        let model = format!(
            r#"{{"class_name": "Functional", "config": {{"layers": [{{"class_name": "CenterCrop", "config": {keras2}}}]}}, "keras_version": "2.21.0"}}"#
        );
        let centre = find_layer(&model, Some("CenterCrop")).unwrap();
        assert_eq!(centre.data_format, Some(DataFormat::ChannelsLast));
    }

    #[test]
    fn a_config_keeps_its_name_dtype_policy_and_trainable_flag() {
        let keras2 = r#"{"name": "pre", "trainable": false, "batch_input_shape": [null, 4, 4, 1],
            "dtype": {"class_name": "Policy", "config": {"name": "mixed_float16"}}, "cropping": 1,
            "data_format": "channels_last"}"#;
        let keys = find_layer(keras2, None).unwrap().keys;
        assert_eq!(keys.name, "pre");
        assert!(!keys.trainable);
        assert_eq!(keys.dtype, "mixed_float16");
        let refused = find_layer(r#"{"cropping": 1, "data_format": null, "dtype": 4}"#, None)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("dtype is 4; expected null, a dtype policy's name (float16"));
    }

    #[test]
    fn every_printed_config_reads_back_to_its_layer() {
        let first = DataFormat::ChannelsFirst;
        let sides = [Sides::new(1, 0), Sides::new(0, 2), Sides::new(3, 3)];
        let layers: [Layer; 4] = [
            Cropping1D::new(Sides::new(2, 0)).into(),
            Cropping2D::new(Cropping::from_groups((1, 2), (0, 3)), first).into(),
            Cropping3D::new(sides, first).into(),
            CenterCrop::new(7, 2, first).into(),
        ];
        for layer in layers {
            let text = to_python_json(&layer.get_config());
            let found = find_layer(&text, None).unwrap();
            assert_eq!(found.keys, LayerKeys::default_for(layer.class()));
            assert_eq!(found.resolve(DataFormat::ChannelsLast), layer, "{text}");
        }
    }

    #[test]
    fn ambiguous_missing_and_invalid_layers_are_explained() {
        assert_eq!(
            find_layer(MODEL, None).unwrap_err().to_string(),
            "holds several cropping layers (small, big, vol); choose one with --layer NAME"
        );
        assert_eq!(
            find_layer(MODEL, Some("Cropping2D"))
                .unwrap_err()
                .to_string(),
            "holds several cropping layers (small, big); choose one with --layer NAME"
        );
        assert!(
            find_layer(MODEL, Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("named \"nope\"; it holds small, big, vol")
        );
        assert!(matches!(
            find_layer(r#"{"layers": []}"#, None),
            Err(ConfigError::NoLayer)
        ));
        assert!(matches!(find_layer("{", None), Err(ConfigError::Json(_))));
        let bad = find_layer(r#"{"cropping": [1, 2, 3, 4], "data_format": null}"#, None)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("Cropping2D refuses cropping=(1, 2, 3, 4)"),
            "{bad}"
        );
        let bad = find_layer(r#"{"cropping": 1, "data_format": "NCHW"}"#, None)
            .unwrap_err()
            .to_string();
        assert!(bad.contains("\"NCHW\""), "{bad}");
        let bad = find_layer(r#"{"height": 0, "width": 2}"#, None)
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("height is 0; expected a positive integer"),
            "{bad}"
        );
    }
}
