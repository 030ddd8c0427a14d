//! Keras' cropping layers — [`Cropping1D`], [`Cropping2D`], [`Cropping3D`]
//! and [`CenterCrop`] — as one [`Layer`]: each says which axes it cuts and
//! how, and one rule turns that into output shapes, kept index ranges and
//! a zero-copy crop of an `ndarray` view. The rule that a crop must leave
//! something along every cropped dimension lives here, and only here.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use ndarray::{ArrayView, ArrayView3, ArrayView4, ArrayView5, Axis, Dimension, Slice};

use crate::data_format::DataFormat;
use crate::spec::{CropSpec, Cropping, Sides, SpecError, canonical_sides, keras_sides};

mod hint;
#[cfg(any(feature = "python", test))]
mod window;

pub use hint::FormatOrigin;
pub(crate) use hint::{format_hint, looks_like_other, refused_in_format};
#[cfg(feature = "python")]
pub(crate) use window::Window;

/// A shape whose dimensions may be unknown (`None`), printed as Keras
/// prints shapes: `(None, 24, 20, 3)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<Option<usize>>);

impl Shape {
    /// A shape whose dimensions are all known.
    pub fn known(dims: impl AsRef<[usize]>) -> Self {
        Shape(dims.as_ref().iter().copied().map(Some).collect())
    }

    /// A shape of `rank` unknown dimensions.
    pub fn unknown(rank: usize) -> Self {
        Shape(vec![None; rank])
    }

    /// The dimensions, if all are known.
    pub fn dims(&self) -> Option<Vec<usize>> {
        self.0.iter().copied().collect()
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, dim) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match dim {
                Some(n) => write!(f, "{n}")?,
                None => f.write_str("None")?,
            }
        }
        if self.0.len() == 1 {
            f.write_str(",")?;
        }
        f.write_str(")")
    }
}

/// The four layer classes, named as Keras names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerClass {
    Cropping1D,
    Cropping2D,
    Cropping3D,
    CenterCrop,
}

impl LayerClass {
    pub const ALL: [LayerClass; 4] = [
        LayerClass::Cropping1D,
        LayerClass::Cropping2D,
        LayerClass::Cropping3D,
        LayerClass::CenterCrop,
    ];

    /// The Keras class name.
    pub fn name(self) -> &'static str {
        match self {
            LayerClass::Cropping1D => "Cropping1D",
            LayerClass::Cropping2D => "Cropping2D",
            LayerClass::Cropping3D => "Cropping3D",
            LayerClass::CenterCrop => "CenterCrop",
        }
    }

    /// The name Keras gives the first layer of the class.
    pub fn default_name(self) -> &'static str {
        match self {
            LayerClass::Cropping1D => "cropping1d",
            LayerClass::Cropping2D => "cropping2d",
            LayerClass::Cropping3D => "cropping3d",
            LayerClass::CenterCrop => "center_crop",
        }
    }

    /// The rank of the tensors the layer takes.
    pub fn rank(self) -> usize {
        match self {
            LayerClass::Cropping1D => 3,
            LayerClass::Cropping2D | LayerClass::CenterCrop => 4,
            LayerClass::Cropping3D => 5,
        }
    }

    /// The cropping layer for tensors of a rank: 3 → `Cropping1D`, 4 →
    /// `Cropping2D`, 5 → `Cropping3D`.
    pub fn for_rank(rank: usize) -> Option<LayerClass> {
        match rank {
            3 => Some(LayerClass::Cropping1D),
            4 => Some(LayerClass::Cropping2D),
            5 => Some(LayerClass::Cropping3D),
            _ => None,
        }
    }

    /// What the layer's input looks like, for messages.
    fn layout(self) -> &'static str {
        match self {
            LayerClass::Cropping1D => "(batch, steps, features)",
            LayerClass::Cropping2D | LayerClass::CenterCrop => {
                "(batch, rows, cols, channels) or (batch, channels, rows, cols)"
            }
            LayerClass::Cropping3D => {
                "(batch, dim1, dim2, dim3, channels) or (batch, channels, dim1, dim2, dim3)"
            }
        }
    }
}

impl fmt::Display for LayerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is none of the four class names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer {0:?}; expected Cropping1D, Cropping2D, Cropping3D or CenterCrop")]
pub struct UnknownLayer(pub String);

impl FromStr for LayerClass {
    type Err = UnknownLayer;

    /// The exact Keras class name, as in a model's JSON.
    fn from_str(s: &str) -> Result<Self, UnknownLayer> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownLayer(s.to_owned()))
    }
}

/// How a layer cuts one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// Remove this much at each end; something must be left.
    Sides(Sides),
    /// Keep `target` entries, starting at `(len - target) / 2`.
    Centre(usize),
}

/// Why a cut cannot be made on an axis of a given length.
enum Refusal {
    LeavesNothing,
    TooSmall,
}

impl Cut {
    /// The index range the cut keeps of an axis of `len` entries.
    fn kept(self, len: usize) -> Result<Range<usize>, Refusal> {
        match self {
            Cut::Sides(s) => match s.total() {
                Some(total) if total < len => Ok(s.begin..len - s.end),
                _ => Err(Refusal::LeavesNothing),
            },
            Cut::Centre(target) if target <= len => {
                let start = (len - target) / 2;
                Ok(start..start + target)
            }
            Cut::Centre(_) => Err(Refusal::TooSmall),
        }
    }
}

/// An input the layer cannot crop, as Keras' `compute_output_shape`
/// refuses it (and, for [`CenterCrop`], where Keras would resize instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct CropError {
    pub layer: Layer,
    pub shape: Shape,
    pub problem: CropProblem,
}

/// What is wrong with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CropProblem {
    /// The layer takes tensors of another rank.
    Rank,
    /// The crop removes every entry along `axis`.
    LeavesNothing { axis: usize },
    /// The input is smaller than the target along `axis`.
    TooSmall { axis: usize },
}

impl CropError {
    fn message(&self) -> String {
        let class = self.layer.class();
        let shape = &self.shape;
        let len = |axis: usize| shape.0.get(axis).copied().flatten().unwrap_or(0);
        match self.problem {
            CropProblem::Rank => format!(
                "the array has shape {shape}; {class} needs a {}D array, {}",
                class.rank(),
                class.layout()
            ),
            CropProblem::LeavesNothing { axis } => {
                let index = self.layer.cut_axes().iter().position(|&a| a == axis);
                let names = self.layer.axis_names();
                let name = index
                    .and_then(|i| names.get(i))
                    .copied()
                    .unwrap_or("entries");
                let removed = index
                    .and_then(|i| self.layer.sides().get(i).copied())
                    .map_or(usize::MAX, |s| s.total().unwrap_or(usize::MAX));
                format!(
                    "cropping {} removes {removed} of the {} {name} of shape {shape} ({}); {}",
                    self.layer.cropping_keras(),
                    len(axis),
                    self.layer.described(),
                    self.layer.rule()
                )
            }
            CropProblem::TooSmall { .. } => {
                let [rows, cols] = self.layer.cut_axes()[..] else {
                    return String::new();
                };
                let (h, w) = match self.layer {
                    Layer::CenterCrop(c) => (c.height, c.width),
                    _ => (0, 0),
                };
                format!(
                    "CenterCrop to {h}×{w} needs at least {h} rows and {w} columns, but shape \
                     {shape} ({}) has {} rows and {} columns; Keras would resize it, rcrop only crops",
                    self.layer.described(),
                    len(rows),
                    len(cols)
                )
            }
        }
    }
}

/// The Keras `Cropping1D` layer: removes steps at the start and end of
/// axis 1 of `(batch, steps, features)`. It has no data format.
///
/// ```
/// use ndarray::Array3;
/// use rcrop::{Cropping1D, Shape, Sides};
/// let layer = Cropping1D::new(Sides::new(1, 2));
/// let out = layer.compute_output_shape(&Shape(vec![None, Some(10), Some(4)])).unwrap();
/// assert_eq!(out.to_string(), "(None, 7, 4)");
/// let x = Array3::from_shape_fn((2, 10, 4), |(b, s, f)| b * 100 + s * 10 + f);
/// let y = layer.call(x.view()).unwrap();
/// assert_eq!(y.shape(), &[2, 7, 4]);
/// assert_eq!(y[[1, 0, 3]], x[[1, 1, 3]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cropping1D {
    pub cropping: Sides,
}

/// The Keras `Cropping2D` layer: a [`Cropping`] and a [`DataFormat`].
///
/// ```
/// use ndarray::Array4;
/// use rcrop::{Cropping, Cropping2D, DataFormat, Shape};
/// let layer = Cropping2D::new("2,2:4,4".parse().unwrap(), DataFormat::ChannelsLast);
/// let out = layer.compute_output_shape(&Shape(vec![None, Some(28), Some(28), Some(3)])).unwrap();
/// assert_eq!(out.to_string(), "(None, 24, 20, 3)");
/// let x = Array4::from_shape_fn((2, 28, 28, 3), |(b, r, c, ch)| b + r + c + ch);
/// let y = layer.call(x.view()).unwrap();
/// assert_eq!(y.shape(), &[2, 24, 20, 3]);
/// assert_eq!(y[[0, 0, 0, 0]], x[[0, 2, 4, 0]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cropping2D {
    pub cropping: Cropping,
    pub data_format: DataFormat,
}

/// The Keras `Cropping3D` layer: one pair of [`Sides`] for each of the three
/// spatial dimensions of `(batch, d1, d2, d3, channels)` (channels_last)
/// or `(batch, channels, d1, d2, d3)` (channels_first).
///
/// ```
/// use ndarray::Array5;
/// use rcrop::{Cropping3D, DataFormat, Shape, Sides};
/// let cropping = "1,2:0,1:2".parse::<rcrop::CropSpec>().unwrap().sides_3d().unwrap();
/// assert_eq!(cropping[2], Sides::new(2, 2));
/// let layer = Cropping3D::new(cropping, DataFormat::ChannelsFirst);
/// let x = Array5::from_shape_fn((1, 2, 6, 5, 7), |(_, c, d, r, w)| c * 1000 + d * 100 + r * 10 + w);
/// let y = layer.call(x.view()).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 3, 4, 3]);
/// assert_eq!(y[[0, 1, 0, 0, 0]], x[[0, 1, 1, 0, 2]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cropping3D {
    pub cropping: [Sides; 3],
    pub data_format: DataFormat,
}

/// The Keras `CenterCrop` layer: the central `height × width` window of
/// every image, starting at `(dim - target) // 2`, so an odd leftover goes
/// to the bottom or right. Where an input is smaller than the target
/// Keras resizes it; rcrop refuses it.
///
/// ```
/// use ndarray::Array4;
/// use rcrop::{CenterCrop, DataFormat};
/// let layer = CenterCrop::new(2, 3, DataFormat::ChannelsLast);
/// let x = Array4::from_shape_fn((1, 5, 6, 1), |(_, r, c, _)| r * 10 + c);
/// let y = layer.call(x.view()).unwrap();
/// assert_eq!(y.shape(), &[1, 2, 3, 1]);
/// assert_eq!(y[[0, 0, 0, 0]], 11);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CenterCrop {
    pub height: usize,
    pub width: usize,
    pub data_format: DataFormat,
}

/// Any of the four layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Cropping1D(Cropping1D),
    Cropping2D(Cropping2D),
    Cropping3D(Cropping3D),
    CenterCrop(CenterCrop),
}

macro_rules! typed_layer {
    ($t:ident, $view:ident) => {
        impl From<$t> for Layer {
            fn from(layer: $t) -> Layer {
                Layer::$t(layer)
            }
        }

        impl $t {
            /// The output shape for an input shape, as Keras'
            /// `compute_output_shape`; see [`Layer::compute_output_shape`].
            pub fn compute_output_shape(&self, input: &Shape) -> Result<Shape, CropError> {
                Layer::from(*self).compute_output_shape(input)
            }

            /// The index range kept along each axis of a known input shape.
            pub fn kept_ranges(&self, input: &[usize]) -> Result<Vec<Range<usize>>, CropError> {
                Layer::from(*self).kept_ranges(input)
            }

            /// Crops an array view without copying: the result borrows `input`.
            pub fn call<'a, A>(&self, input: $view<'a, A>) -> Result<$view<'a, A>, CropError> {
                Layer::from(*self).call(input)
            }
        }
    };
}

typed_layer!(Cropping1D, ArrayView3);
typed_layer!(Cropping2D, ArrayView4);
typed_layer!(Cropping3D, ArrayView5);
typed_layer!(CenterCrop, ArrayView4);

impl Cropping1D {
    pub fn new(cropping: Sides) -> Self {
        Self { cropping }
    }
}

impl Cropping2D {
    pub fn new(cropping: Cropping, data_format: DataFormat) -> Self {
        Self {
            cropping,
            data_format,
        }
    }
}

impl Cropping3D {
    pub fn new(cropping: [Sides; 3], data_format: DataFormat) -> Self {
        Self {
            cropping,
            data_format,
        }
    }
}

impl CenterCrop {
    pub fn new(height: usize, width: usize, data_format: DataFormat) -> Self {
        Self {
            height,
            width,
            data_format,
        }
    }
}

/// The spatial axes of a rank-`rank` tensor in a data format: `spatial`
/// axes after the batch, before or after the channels.
fn spatial_axes(format: DataFormat, rank: usize, spatial: usize) -> Vec<usize> {
    let first = rank
        - spatial
        - match format {
            DataFormat::ChannelsLast => 1,
            DataFormat::ChannelsFirst => 0,
        };
    (first..first + spatial).collect()
}

impl Layer {
    /// The layer of `class` that a `--crop` value makes, read as Keras reads
    /// `cropping=` for that class; `CenterCrop` takes no `cropping`.
    pub fn from_spec(
        class: LayerClass,
        spec: &CropSpec,
        data_format: DataFormat,
    ) -> Result<Layer, SpecError> {
        Ok(match class {
            LayerClass::Cropping1D => Cropping1D::new(spec.sides_1d()?).into(),
            LayerClass::Cropping2D => Cropping2D::new(spec.to_2d()?, data_format).into(),
            LayerClass::Cropping3D => Cropping3D::new(spec.sides_3d()?, data_format).into(),
            LayerClass::CenterCrop => {
                return Err(SpecError::new(
                    "CenterCrop takes no cropping; give its size with --center-crop H,W",
                ));
            }
        })
    }

    pub fn class(&self) -> LayerClass {
        match self {
            Layer::Cropping1D(_) => LayerClass::Cropping1D,
            Layer::Cropping2D(_) => LayerClass::Cropping2D,
            Layer::Cropping3D(_) => LayerClass::Cropping3D,
            Layer::CenterCrop(_) => LayerClass::CenterCrop,
        }
    }

    /// The data format, for the layers that have one.
    pub fn data_format(&self) -> Option<DataFormat> {
        match self {
            Layer::Cropping1D(_) => None,
            Layer::Cropping2D(l) => Some(l.data_format),
            Layer::Cropping3D(l) => Some(l.data_format),
            Layer::CenterCrop(l) => Some(l.data_format),
        }
    }

    /// The same layer in another data format (`Cropping1D` has none).
    pub fn with_data_format(mut self, format: DataFormat) -> Layer {
        match &mut self {
            Layer::Cropping1D(_) => {}
            Layer::Cropping2D(l) => l.data_format = format,
            Layer::Cropping3D(l) => l.data_format = format,
            Layer::CenterCrop(l) => l.data_format = format,
        }
        self
    }

    /// The axes the layer cuts, in order, for its own rank.
    fn cut_axes(&self) -> Vec<usize> {
        let rank = self.class().rank();
        match self {
            Layer::Cropping1D(_) => vec![1],
            Layer::Cropping2D(l) => spatial_axes(l.data_format, rank, 2),
            Layer::Cropping3D(l) => spatial_axes(l.data_format, rank, 3),
            Layer::CenterCrop(l) => spatial_axes(l.data_format, rank, 2),
        }
    }

    /// How each cut axis is cut, in the order of [`Layer::cut_axes`].
    fn cuts(&self) -> Vec<Cut> {
        match self {
            Layer::CenterCrop(l) => vec![Cut::Centre(l.height), Cut::Centre(l.width)],
            _ => self.sides().into_iter().map(Cut::Sides).collect(),
        }
    }

    /// The cropping of each cut axis (none for `CenterCrop`).
    pub(crate) fn sides(&self) -> Vec<Sides> {
        match self {
            Layer::Cropping1D(l) => vec![l.cropping],
            Layer::Cropping2D(l) => l.cropping.sides().to_vec(),
            Layer::Cropping3D(l) => l.cropping.to_vec(),
            Layer::CenterCrop(_) => Vec::new(),
        }
    }

    /// Names of what each cut axis holds, for messages.
    fn axis_names(&self) -> &'static [&'static str] {
        match self {
            Layer::Cropping1D(_) => &["steps"],
            Layer::Cropping3D(_) => &[
                "entries along dim1",
                "entries along dim2",
                "entries along dim3",
            ],
            _ => &["rows", "columns"],
        }
    }

    /// What a crop must leave, for messages, in rcrop's words and Keras'.
    fn rule(&self) -> &'static str {
        match self {
            Layer::Cropping1D(_) => {
                "a crop must leave at least one step (Keras: \"`cropping` parameter of \
                 `Cropping1D` layer must be smaller than the input length\")"
            }
            Layer::Cropping3D(_) => {
                "a crop must leave at least one entry along dim1, dim2 and dim3 (Keras: \
                 \"Values in `cropping` argument should be smaller than the corresponding \
                 spatial dimension of the input\")"
            }
            _ => {
                "a crop must leave at least one row and one column (Keras: \"Values in \
                 `cropping` argument should be smaller than the corresponding spatial \
                 dimension of the input\")"
            }
        }
    }

    /// The class, with the data format if it has one: `Cropping2D, channels_last`.
    fn described(&self) -> String {
        match self.data_format() {
            Some(format) => format!("{}, {format}", self.class()),
            None => self.class().to_string(),
        }
    }

    /// The cropping as Keras prints the layer's `cropping` attribute, or
    /// `(height, width)` for `CenterCrop`.
    pub fn cropping_keras(&self) -> String {
        match self {
            Layer::Cropping1D(l) => l.cropping.to_string(),
            Layer::CenterCrop(l) => format!("({}, {})", l.height, l.width),
            _ => keras_sides(&self.sides()),
        }
    }

    /// The cropping in rcrop's canonical spec form (`B,E`, `T,B:L,R`,
    /// `A,B:C,D:E,F`), or `H,W` for `CenterCrop`.
    pub fn cropping_spec(&self) -> String {
        match self {
            Layer::CenterCrop(l) => format!("{},{}", l.height, l.width),
            _ => canonical_sides(&self.sides()),
        }
    }

    /// The output shape for an input shape, as Keras' `compute_output_shape`:
    /// unknown dimensions stay unknown (a `CenterCrop` makes them its
    /// target); a crop that leaves nothing along a cropped dimension of known
    /// length, an input of another rank, and an input smaller than a
    /// `CenterCrop` target are errors.
    pub fn compute_output_shape(&self, input: &Shape) -> Result<Shape, CropError> {
        let fail = |problem| CropError {
            layer: *self,
            shape: input.clone(),
            problem,
        };
        if input.rank() != self.class().rank() {
            return Err(fail(CropProblem::Rank));
        }
        let mut out = input.clone();
        for (axis, cut) in self.cut_axes().into_iter().zip(self.cuts()) {
            out.0[axis] = match (input.0[axis], cut) {
                (None, Cut::Centre(target)) => Some(target),
                (None, Cut::Sides(_)) => None,
                (Some(len), cut) => match cut.kept(len) {
                    Ok(kept) => Some(kept.len()),
                    Err(Refusal::LeavesNothing) => {
                        return Err(fail(CropProblem::LeavesNothing { axis }));
                    }
                    Err(Refusal::TooSmall) => return Err(fail(CropProblem::TooSmall { axis })),
                },
            };
        }
        Ok(out)
    }

    /// The index range kept along each axis of a known input shape.
    pub fn kept_ranges(&self, input: &[usize]) -> Result<Vec<Range<usize>>, CropError> {
        self.compute_output_shape(&Shape::known(input))?;
        let mut ranges: Vec<Range<usize>> = input.iter().map(|&n| 0..n).collect();
        for (axis, cut) in self.cut_axes().into_iter().zip(self.cuts()) {
            if let Ok(kept) = cut.kept(input[axis]) {
                ranges[axis] = kept;
            }
        }
        Ok(ranges)
    }

    /// Crops an array view of any dimensionality without copying: the
    /// result borrows `input`. A view of another rank than the layer takes
    /// is refused.
    pub fn call<'a, A, D: Dimension>(
        &self,
        input: ArrayView<'a, A, D>,
    ) -> Result<ArrayView<'a, A, D>, CropError> {
        let ranges = self.kept_ranges(input.shape())?;
        let mut view = input;
        for (axis, kept) in ranges.into_iter().enumerate() {
            view.slice_axis_inplace(Axis(axis), Slice::from(kept));
        }
        Ok(view)
    }
}

/// What a Keras config says of a layer besides its crop: the keys every
/// Keras 3 layer's `get_config()` writes, as `from_config` reads them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerKeys {
    pub name: String,
    pub trainable: bool,
    /// The name of the layer's `DTypePolicy`: a dtype (`float32`, `uint8`)
    /// or a mixed policy (`mixed_float16`).
    pub dtype: String,
    /// The activity regularizer as Keras 3 serializes it, when there is one.
    pub activity_regularizer: Option<serde_json::Value>,
}

impl LayerKeys {
    /// What Keras 3 gives the first layer of `class` made without them.
    pub fn default_for(class: LayerClass) -> Self {
        LayerKeys {
            name: class.default_name().to_owned(),
            trainable: true,
            dtype: "float32".to_owned(),
            activity_regularizer: None,
        }
    }
}

/// Which layer crops each input: one given layer, one a Keras config gave
/// (with what else it says of the layer), or the cropping layer that fits
/// the input's rank (`--crop` without `--layer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerChoice {
    Fixed(Layer),
    Configured {
        layer: Layer,
        keys: LayerKeys,
    },
    ByRank {
        spec: CropSpec,
        data_format: DataFormat,
    },
}

impl From<Layer> for LayerChoice {
    fn from(layer: Layer) -> Self {
        LayerChoice::Fixed(layer)
    }
}

impl From<Cropping2D> for LayerChoice {
    fn from(layer: Cropping2D) -> Self {
        LayerChoice::Fixed(layer.into())
    }
}

/// Why no layer fits an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    /// The layer of the input's rank refuses the crop spec.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// No cropping layer takes the input's rank.
    #[error(
        "the array has shape {0}; expected a 3D array (Cropping1D), 4D (Cropping2D) or 5D (Cropping3D)"
    )]
    Rank(Shape),
}

impl LayerChoice {
    /// The layer for an input of this shape. A fixed layer is returned as
    /// it is: its own rank check refuses a shape that does not fit it.
    pub fn for_shape(&self, shape: &Shape) -> Result<Layer, ChoiceError> {
        match self {
            LayerChoice::Fixed(layer) | LayerChoice::Configured { layer, .. } => Ok(*layer),
            LayerChoice::ByRank { spec, data_format } => {
                let class = LayerClass::for_rank(shape.rank())
                    .ok_or_else(|| ChoiceError::Rank(shape.clone()))?;
                Ok(Layer::from_spec(class, spec, *data_format)?)
            }
        }
    }

    /// What a Keras config said of the layer besides its crop, if the
    /// layer came from one.
    pub fn keys(&self) -> Option<&LayerKeys> {
        match self {
            LayerChoice::Configured { keys, .. } => Some(keys),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAST: DataFormat = DataFormat::ChannelsLast;
    const FIRST: DataFormat = DataFormat::ChannelsFirst;

    fn layer(class: LayerClass, spec: &str, format: DataFormat) -> Layer {
        Layer::from_spec(class, &spec.parse().unwrap(), format).unwrap()
    }

    fn shape(dims: &[usize]) -> Shape {
        Shape::known(dims)
    }

    #[test]
    fn output_shapes_follow_keras_for_every_layer_and_format() {
        use LayerClass::*;
        let cases: [(Layer, &[usize], &[usize]); 7] = [
            (
                layer(Cropping2D, "2,2:4,4", LAST),
                &[2, 28, 28, 3],
                &[2, 24, 20, 3],
            ),
            (
                layer(Cropping2D, "1,2:3,4", FIRST),
                &[2, 3, 10, 10],
                &[2, 3, 7, 3],
            ),
            (layer(Cropping1D, "2,4", LAST), &[2, 10, 3], &[2, 4, 3]),
            (
                layer(Cropping3D, "1,2,3", LAST),
                &[2, 5, 6, 7, 3],
                &[2, 3, 2, 1, 3],
            ),
            (
                layer(Cropping3D, "0,1:2,0:1", FIRST),
                &[2, 3, 5, 6, 7],
                &[2, 3, 4, 4, 5],
            ),
            (
                super::CenterCrop::new(3, 4, LAST).into(),
                &[2, 8, 9, 1],
                &[2, 3, 4, 1],
            ),
            (
                super::CenterCrop::new(3, 4, FIRST).into(),
                &[2, 1, 8, 9],
                &[2, 1, 3, 4],
            ),
        ];
        for (layer, input, output) in cases {
            assert_eq!(
                layer.compute_output_shape(&shape(input)).unwrap(),
                shape(output),
                "{layer:?}"
            );
        }
    }

    #[test]
    fn unknown_dimensions_stay_unknown_but_a_centre_crop_sets_them() {
        let l = layer(LayerClass::Cropping2D, "2,2:4,4", LAST);
        let out = l
            .compute_output_shape(&Shape(vec![None, Some(28), None, Some(3)]))
            .unwrap();
        assert_eq!(out.to_string(), "(None, 24, None, 3)");
        let c = Layer::from(CenterCrop::new(5, 6, FIRST));
        assert_eq!(
            c.compute_output_shape(&Shape::unknown(4))
                .unwrap()
                .to_string(),
            "(None, None, 5, 6)"
        );
    }

    #[test]
    fn a_crop_must_leave_something_along_every_cropped_dimension() {
        let l = layer(LayerClass::Cropping2D, "3,3:0,0", LAST);
        let err = l.compute_output_shape(&shape(&[1, 6, 9, 1])).unwrap_err();
        assert_eq!(err.problem, CropProblem::LeavesNothing { axis: 1 });
        assert_eq!(
            err.to_string(),
            "cropping ((3, 3), (0, 0)) removes 6 of the 6 rows of shape (1, 6, 9, 1) \
             (Cropping2D, channels_last); a crop must leave at least one row and one column \
             (Keras: \"Values in `cropping` argument should be smaller than the corresponding \
             spatial dimension of the input\")"
        );
        let l = layer(LayerClass::Cropping1D, "2", LAST);
        let err = l.compute_output_shape(&shape(&[1, 4, 2])).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "cropping (2, 2) removes 4 of the 4 steps of shape (1, 4, 2) (Cropping1D);"
            ),
            "{err}"
        );
        let l = layer(LayerClass::Cropping3D, "0,0:1,2:0", FIRST);
        let err = l
            .compute_output_shape(&shape(&[1, 1, 4, 3, 4]))
            .unwrap_err();
        assert_eq!(err.problem, CropProblem::LeavesNothing { axis: 3 });
        assert!(
            err.to_string()
                .contains("removes 3 of the 3 entries along dim2"),
            "{err}"
        );
        let zero = layer(LayerClass::Cropping2D, "0", LAST);
        assert!(zero.compute_output_shape(&shape(&[1, 0, 4, 1])).is_err());
        assert!(zero.compute_output_shape(&shape(&[0, 1, 1, 0])).is_ok());
    }

    #[test]
    fn ranks_and_small_inputs_are_refused_naming_the_layer() {
        let l = layer(LayerClass::Cropping3D, "1", LAST);
        let err = l.compute_output_shape(&shape(&[1, 4, 4, 1])).unwrap_err();
        assert_eq!(err.problem, CropProblem::Rank);
        assert!(
            err.to_string()
                .contains("(1, 4, 4, 1); Cropping3D needs a 5D array")
        );
        let c = Layer::from(CenterCrop::new(5, 7, LAST));
        let err = c.compute_output_shape(&shape(&[1, 4, 9, 3])).unwrap_err();
        assert_eq!(err.problem, CropProblem::TooSmall { axis: 1 });
        assert!(
            err.to_string().contains("has 4 rows and 9 columns"),
            "{err}"
        );
    }

    #[test]
    fn crops_too_large_to_add_are_refused_not_overflowed() {
        let huge = Cropping::from_groups((usize::MAX, 1), (0, 0));
        let l = Cropping2D::new(huge, LAST);
        let err = l.compute_output_shape(&shape(&[1, 5, 5, 1])).unwrap_err();
        assert!(err.to_string().contains(&format!("removes {}", usize::MAX)));
    }

    #[test]
    fn centre_offsets_put_an_odd_leftover_at_the_end() {
        let c = Layer::from(CenterCrop::new(2, 3, LAST));
        assert_eq!(
            c.kept_ranges(&[1, 5, 6, 1]).unwrap(),
            [0..1, 1..3, 1..4, 0..1]
        );
        assert_eq!(
            c.kept_ranges(&[1, 2, 3, 1]).unwrap(),
            [0..1, 0..2, 0..3, 0..1]
        );
    }

    #[test]
    fn call_is_a_view_of_the_input() {
        let x = ndarray::Array4::from_shape_fn((1, 3, 5, 7), |(_, r, c, ch)| r * 100 + c * 10 + ch);
        let y = Cropping2D::new("1,0:1,2".parse().unwrap(), FIRST)
            .call(x.view())
            .unwrap();
        assert_eq!(y.shape(), &[1, 3, 4, 4]);
        assert_eq!(y[[0, 2, 3, 3]], x[[0, 2, 4, 4]]);
        assert_eq!(y.as_ptr(), &x[[0, 0, 1, 1]] as *const usize);
    }

    #[test]
    fn by_rank_the_spec_means_what_keras_says_for_that_layer() {
        let choice = LayerChoice::ByRank {
            spec: "1,2".parse().unwrap(),
            data_format: LAST,
        };
        let one = choice.for_shape(&Shape::unknown(3)).unwrap();
        assert_eq!(one, Cropping1D::new(Sides::new(1, 2)).into());
        let two = choice.for_shape(&Shape::unknown(4)).unwrap();
        assert_eq!(
            two,
            Cropping2D::new(Cropping::from_groups((1, 1), (2, 2)), LAST).into()
        );
        assert!(matches!(
            choice.for_shape(&Shape::unknown(5)),
            Err(ChoiceError::Spec(_))
        ));
        assert!(matches!(
            choice.for_shape(&Shape::unknown(2)),
            Err(ChoiceError::Rank(_))
        ));
    }
}
