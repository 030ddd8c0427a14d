//! The layer a command line asks for: from `--crop`, `--center-crop`,
//! `--layer` and `--format`, or from a `--config` file checked against them.

use std::path::Path;

use rcrop::{
    CenterCrop, DataFormat, Error, FormatOrigin, Layer, LayerChoice, LayerClass, Problem,
    find_layer, keras_default, keras_dir,
};

use crate::cli::flags::Flags;
use crate::cli::print;

/// The data format a run follows, and where it came from: a `keras.json`
/// on a machine changes it silently, so reports say which one was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatInForce {
    pub format: DataFormat,
    pub origin: FormatOrigin,
}

/// The layer, or how to choose it, and the data format in force (none for
/// `Cropping1D`, which has no data format).
type Chosen = (LayerChoice, Option<FormatInForce>);

impl Flags {
    /// The layer, or how to choose it: from the flags, or from `--config`
    /// checked against them; and the data format it follows.
    pub(crate) fn layer_choice(&self) -> Result<Chosen, Error> {
        if let Some(path) = &self.config {
            return self.configured(path);
        }
        let class = match self.layer.as_deref() {
            None => None,
            Some(name) => Some(name.parse::<LayerClass>().map_err(|e| {
                Error::Usage(format!(
                    "--layer: {e} (a layer's name is for choosing one in --config FILE)"
                ))
            })?),
        };
        if let Some((height, width)) = self.center_crop {
            if let Some(class) = class.filter(|&c| c != LayerClass::CenterCrop) {
                return Err(Error::Usage(format!(
                    "--center-crop applies CenterCrop, not --layer {class}"
                )));
            }
            let format = self.data_format(self.format_flag())?;
            let layer = CenterCrop::new(height, width, format.format).into();
            return Ok((LayerChoice::Fixed(layer), Some(format)));
        }
        let Some((text, spec)) = self.crop.clone() else {
            return Err(Error::Usage(
                "the crop is missing: give --crop SPEC, --center-crop H,W or --config FILE".into(),
            ));
        };
        let usage = |e: rcrop::SpecError| Error::Usage(e.to_string());
        match class {
            Some(LayerClass::CenterCrop) => Err(Error::Usage(
                "--layer CenterCrop needs its size: --center-crop H,W".into(),
            )),
            Some(LayerClass::Cropping1D) => {
                self.refuse_format_for_1d()?;
                let layer = Layer::from_spec(LayerClass::Cropping1D, &spec, DataFormat::default());
                Ok((LayerChoice::Fixed(layer.map_err(usage)?), None))
            }
            Some(class) => {
                let format = self.data_format(self.format_flag())?;
                let layer = Layer::from_spec(class, &spec, format.format).map_err(usage)?;
                Ok((LayerChoice::Fixed(layer), Some(format)))
            }
            None => {
                let classes = [3, 4, 5].map(LayerClass::for_rank);
                let fits = classes
                    .into_iter()
                    .flatten()
                    .any(|c| Layer::from_spec(c, &spec, DataFormat::default()).is_ok());
                if !fits {
                    return Err(Error::Usage(format!(
                        "crop spec {text:?}: Cropping1D, Cropping2D and Cropping3D all refuse \
                         cropping={spec}, as Keras does; they take N, B,E (1D), H,W or T,B:L,R (2D), \
                         A,B,C or A1,A2:B1,B2:C1,C2 (3D)"
                    )));
                }
                let format = self.data_format(self.format_flag())?;
                let choice = LayerChoice::ByRank {
                    spec,
                    data_format: format.format,
                };
                Ok((choice, Some(format)))
            }
        }
    }

    /// `Cropping1D` has no data format: `--format` cannot apply to it.
    fn refuse_format_for_1d(&self) -> Result<(), Error> {
        match self.data_format_flag() {
            Some(format) => Err(Error::Usage(format!(
                "--format {format} does not apply to Cropping1D, which has no data format"
            ))),
            None => Ok(()),
        }
    }

    /// The layer a `--config` file holds, checked against the flags, and
    /// the data format it follows.
    fn configured(&self, path: &Path) -> Result<Chosen, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::file(path.display(), Problem::Read(e)))?;
        let config = find_layer(&text, self.layer.as_deref())
            .map_err(|e| Error::file(path.display(), Problem::Config(e)))?;
        let found = config.layer;
        let class = found.class();
        let contradiction = |flag: String, found: String| {
            Error::Usage(format!(
                "{flag} contradicts {} in {}: {found}",
                config.keys.name,
                path.display()
            ))
        };
        let what = || match class {
            LayerClass::CenterCrop => format!("CenterCrop {}", found.cropping_keras()),
            _ => format!("{class} cropping {}", found.cropping_keras()),
        };
        if let Some((_, spec)) = &self.crop {
            let given = Layer::from_spec(class, spec, DataFormat::default());
            let same = given
                .as_ref()
                .is_ok_and(|l| l.cropping_spec() == found.cropping_spec());
            if !same {
                let shown = given.map_or_else(|_| spec.to_string(), |l| l.cropping_spec());
                return Err(contradiction(format!("--crop {shown}"), what()));
            }
        }
        if let Some((height, width)) = self.center_crop {
            let given = CenterCrop::new(height, width, DataFormat::default());
            if Layer::from(given).cropping_spec() != found.cropping_spec()
                || class != LayerClass::CenterCrop
            {
                return Err(contradiction(
                    format!("--center-crop {height},{width}"),
                    what(),
                ));
            }
        }
        if class == LayerClass::Cropping1D {
            self.refuse_format_for_1d()?;
            return Ok((config.choice(DataFormat::default()), None));
        }
        if let (Some(flag), Some(configured)) = (self.data_format_flag(), config.data_format)
            && flag != configured
        {
            return Err(contradiction(
                format!("--format {flag}"),
                format!("data_format {configured}"),
            ));
        }
        let configured = config
            .data_format
            .map(|format| (format, FormatOrigin::Config(path.to_path_buf())));
        let format = self.data_format(configured.or(self.format_flag()))?;
        Ok((config.choice(format.format), Some(format)))
    }

    /// The data format given, or the Keras default; a warning about an
    /// ignored `keras.json` goes to standard error.
    fn data_format(
        &self,
        given: Option<(DataFormat, FormatOrigin)>,
    ) -> Result<FormatInForce, Error> {
        if let Some((format, origin)) = given {
            return Ok(FormatInForce { format, origin });
        }
        let found = keras_default()?;
        if let Some(warning) = found.warning.filter(|_| !self.quiet) {
            print::warning(&warning);
        }
        let origin = match found.file {
            Some(file) => FormatOrigin::KerasJson(file),
            None => FormatOrigin::Default(keras_dir().join("keras.json")),
        };
        Ok(FormatInForce {
            format: found.format,
            origin,
        })
    }

    /// `--format`, and that it came from the flag.
    fn format_flag(&self) -> Option<(DataFormat, FormatOrigin)> {
        self.data_format_flag()
            .map(|format| (format, FormatOrigin::Flag))
    }

    /// `--format`, as the library names data formats.
    fn data_format_flag(&self) -> Option<DataFormat> {
        self.format.map(DataFormat::from)
    }
}
