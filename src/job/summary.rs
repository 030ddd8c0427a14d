//! What a job reports: the shapes and dtype it saw and made, where the
//! result went, and what the user should know.

use image::ImageFormat;

use super::MemberSummary;
use crate::kind::FileKind;
use crate::layer::Shape;
use crate::npy::Dtype;
use crate::output::Output;
use crate::tensor::SampleType;

/// What a finished job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub input_shape: Shape,
    pub output_shape: Shape,
    /// The dtype as NumPy spells it (`dtype.str`), e.g. `<f4`, or for a
    /// structured dtype its `dtype.descr`; empty when unknown.
    pub dtype: String,
    /// Where the result went: a path, `stdout`, or a pattern for one image a sample.
    pub output: String,
    /// Whether the output existed already and was left alone (`--no-clobber`).
    pub skipped: bool,
    /// Things the user should know that did not stop the job.
    pub warnings: Vec<String>,
    /// For a `.npz` archive, what became of each member, in archive order.
    pub members: Vec<MemberSummary>,
    /// How a JPEG output was written; `None` for other outputs, and for a
    /// dry run.
    pub jpeg: Option<JpegWrite>,
}

/// How a JPEG output was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JpegWrite {
    /// The kept blocks of the input JPEG copied as they are, on its block
    /// grid: not a pixel changed.
    Lossless,
    /// Pixels encoded afresh, at the JPEG quality asked for: decoded from
    /// the input (a JPEG cut off its block grid, or any other input).
    Reencoded,
}

impl JpegWrite {
    /// The name reports give it: `lossless` or `reencoded`.
    pub fn as_str(self) -> &'static str {
        match self {
            JpegWrite::Lossless => "lossless",
            JpegWrite::Reencoded => "reencoded",
        }
    }
}

impl Summary {
    /// A job that wrote (or, planned, would write) `output`, with nothing
    /// more to tell.
    pub(crate) fn new(
        input_shape: Shape,
        output_shape: Shape,
        dtype: String,
        output: &impl ToString,
    ) -> Self {
        Summary {
            input_shape,
            output_shape,
            dtype,
            output: output.to_string(),
            skipped: false,
            warnings: Vec::new(),
            members: Vec::new(),
            jpeg: None,
        }
    }

    /// A job that wrote `output`, with the warning it gave, if any.
    pub(crate) fn written(
        input_shape: Shape,
        output_shape: Shape,
        dtype: String,
        output: &Output,
        warning: Option<String>,
    ) -> Self {
        Summary {
            warnings: warning
                .map(|w| format!("{output}: {w}"))
                .into_iter()
                .collect(),
            ..Summary::new(input_shape, output_shape, dtype, output)
        }
    }

    /// The summary of a run that wrote `to`: a JPEG not copied losslessly
    /// was encoded afresh.
    pub(crate) fn wrote(self, to: FileKind) -> Self {
        let encoded = to == FileKind::Image(ImageFormat::Jpeg) && !self.skipped;
        Summary {
            jpeg: self.jpeg.or(encoded.then_some(JpegWrite::Reencoded)),
            ..self
        }
    }

    /// A job that left an existing output alone.
    pub(crate) fn skipped(output: &Output) -> Self {
        Summary {
            skipped: true,
            ..Summary::new(Shape::unknown(4), Shape::unknown(4), String::new(), output)
        }
    }
}

/// The dtype of an image's samples as NumPy spells it (`dtype.str`), e.g. `|u1`.
pub(crate) fn sample_dtype(sample: SampleType) -> String {
    sample.descr().to_string()
}

/// The dtype of an array as NumPy spells it: `dtype.str` for a plain
/// dtype, e.g. `<f4`; for a structured one, whose `dtype.str` (`|V8`) says
/// nothing of its fields, `dtype.descr` as Python prints it, e.g.
/// `[('a', '<f4'), ('b', '<i4')]`.
pub(crate) fn array_dtype(dtype: &Dtype) -> String {
    dtype
        .type_str()
        .unwrap_or_else(|| dtype.descr().to_string())
}
