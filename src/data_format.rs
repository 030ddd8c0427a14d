//! [`DataFormat`]: where the channels sit in a 4D tensor, and the Keras
//! default read from `keras.json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The ordering of the dimensions of a 4D tensor, as Keras names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DataFormat {
    /// `(batch, rows, cols, channels)`.
    #[default]
    ChannelsLast,
    /// `(batch, channels, rows, cols)`.
    ChannelsFirst,
}

impl DataFormat {
    /// The Keras name: `channels_last` or `channels_first`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::ChannelsLast => "channels_last",
            DataFormat::ChannelsFirst => "channels_first",
        }
    }

    /// The axes of rows and columns in a 4D shape.
    pub fn spatial_axes(self) -> (usize, usize) {
        match self {
            DataFormat::ChannelsLast => (1, 2),
            DataFormat::ChannelsFirst => (2, 3),
        }
    }

    /// The axis of channels in a 4D shape.
    pub fn channel_axis(self) -> usize {
        match self {
            DataFormat::ChannelsLast => 3,
            DataFormat::ChannelsFirst => 1,
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data format name other than the two Keras knows (case-sensitive, as in Keras).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data format {0:?}; expected \"channels_last\" or \"channels_first\"")]
pub struct UnknownDataFormat(pub String);

impl FromStr for DataFormat {
    type Err = UnknownDataFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "channels_last" => Ok(DataFormat::ChannelsLast),
            "channels_first" => Ok(DataFormat::ChannelsFirst),
            other => Err(UnknownDataFormat(other.to_owned())),
        }
    }
}

/// Why the `keras.json` default could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KerasConfigError {
    #[error("{path}: cannot read the Keras config: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: image_data_format is {found}; expected \"channels_last\" or \"channels_first\""
    )]
    BadValue { path: PathBuf, found: String },
}

/// The default data format, found as Keras finds it, and any warning to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerasDefault {
    pub format: DataFormat,
    /// Set when a `keras.json` exists but is not valid JSON, and was ignored.
    pub warning: Option<String>,
    /// The `keras.json` whose `image_data_format` gave the format; `None`
    /// when Keras' own default applies.
    pub file: Option<PathBuf>,
}

/// The folder Keras keeps its config in: `$KERAS_HOME` if set, else
/// `~/.keras`, or `/tmp/.keras` when the home folder is not writable.
pub fn keras_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KERAS_HOME") {
        return PathBuf::from(dir);
    }
    let home = std::env::home_dir().filter(|h| is_writable(h));
    home.unwrap_or_else(|| PathBuf::from("/tmp")).join(".keras")
}

#[cfg(unix)]
fn is_writable(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(not(unix))]
fn is_writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// Reads `image_data_format` from `keras.json` in [`keras_dir`], as Keras
/// does at import: no file or no key gives `channels_last`; a file that is
/// not valid JSON is ignored (with a warning); a value other than the two
/// known ones is an error. The file is never created.
pub fn keras_default() -> Result<KerasDefault, KerasConfigError> {
    keras_default_in(&keras_dir())
}

/// [`keras_default`] for a given config folder.
pub fn keras_default_in(dir: &Path) -> Result<KerasDefault, KerasConfigError> {
    let path = dir.join("keras.json");
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(KerasDefault {
                format: DataFormat::default(),
                warning: None,
                file: None,
            });
        }
        Err(source) => return Err(KerasConfigError::Read { path, source }),
    };
    let config: serde_json::Value = match serde_json::from_slice(&text) {
        Ok(value) => value,
        Err(e) => {
            return Ok(KerasDefault {
                format: DataFormat::default(),
                warning: Some(format!(
                    "{}: ignoring the Keras config, as Keras does: it is not valid JSON ({e})",
                    path.display()
                )),
                file: None,
            });
        }
    };
    let format = match config.get("image_data_format") {
        None => {
            return Ok(KerasDefault {
                format: DataFormat::default(),
                warning: None,
                file: None,
            });
        }
        Some(serde_json::Value::String(s)) => {
            s.parse().map_err(|_| KerasConfigError::BadValue {
                path: path.clone(),
                found: format!("{s:?}"),
            })?
        }
        Some(other) => {
            return Err(KerasConfigError::BadValue {
                path,
                found: other.to_string(),
            });
        }
    };
    Ok(KerasDefault {
        format,
        warning: None,
        file: Some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_config(text: &str) -> Result<KerasDefault, KerasConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keras.json"), text).unwrap();
        keras_default_in(dir.path())
    }

    #[test]
    fn missing_file_or_key_means_channels_last() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            keras_default_in(dir.path()).unwrap().format,
            DataFormat::ChannelsLast
        );
        assert_eq!(
            with_config(r#"{"backend": "jax"}"#).unwrap().format,
            DataFormat::ChannelsLast
        );
    }

    #[test]
    fn the_configured_format_is_used() {
        let found = with_config(r#"{"image_data_format": "channels_first"}"#).unwrap();
        assert_eq!(found.format, DataFormat::ChannelsFirst);
        assert_eq!(found.warning, None);
        assert!(found.file.is_some_and(|f| f.ends_with("keras.json")));
        let no_key = with_config(r#"{"backend": "jax"}"#).unwrap();
        assert_eq!(no_key.file, None, "no key: Keras' own default");
    }

    #[test]
    fn invalid_json_is_ignored_with_a_warning_naming_the_file() {
        let found = with_config("{not json").unwrap();
        assert_eq!(found.format, DataFormat::ChannelsLast);
        let warning = found.warning.unwrap();
        assert!(warning.contains("keras.json"), "{warning}");
        assert!(warning.contains("not valid JSON"), "{warning}");
    }

    #[test]
    fn an_unknown_value_is_an_error_naming_file_and_value() {
        for (text, shown) in [
            (
                r#"{"image_data_format": "Channels_First"}"#,
                "\"Channels_First\"",
            ),
            (r#"{"image_data_format": 3}"#, "3"),
        ] {
            let err = with_config(text).unwrap_err().to_string();
            assert!(err.contains("keras.json"), "{err}");
            assert!(err.contains(shown), "{err}");
        }
    }
}
