//! rcrop applies Keras' cropping layers — `Cropping1D`, `Cropping2D`,
//! `Cropping3D` and `CenterCrop` — to files: NumPy `.npy` arrays of any
//! fixed-size dtype, cropped in one sequential pass with bounded memory, bit
//! for bit as Keras would crop them, and image files seen as tensors of
//! batch 1, in every format of the codec table ([`raster::formats`]).
//!
//! The pieces, in the order data flows through them:
//! - [`CropSpec`] reads a `cropping=` value as the Python value it is, and
//!   each layer reads it as Keras does ([`Cropping`] is `Cropping2D`'s);
//! - [`DataFormat`] and [`keras_default`] say where the channels are;
//! - [`Layer`] is any of [`Cropping1D`], [`Cropping2D`], [`Cropping3D`] and
//!   [`CenterCrop`]: output shapes, the one "leave something" rule, and a
//!   zero-copy crop of an `ndarray` view; [`LayerConfig`] is a Keras config
//!   of one, and [`LayerChoice`] picks the layer by an input's rank;
//! - [`npy`] reads and writes `.npy` headers and crops the data as a stream;
//! - [`npz`] reads `.npz` archives and rewrites them, member by member;
//! - [`raster`] turns image files into [`Tensor`]s and back;
//! - [`Job`] runs one crop from an [`Input`] to an [`Output`], writing files
//!   atomically; [`run_batch`] runs many, and [`Stack`] makes one batch of many.
//!
//! The formats know nothing of each other or of files and names: they work
//! on readers and writers and return their own errors, which the job turns
//! into an [`Error`] naming the file.
//!
//! ```
//! use rcrop::{Cropping, Cropping2D, DataFormat};
//! let layer = Cropping2D::new("2,3:4,5".parse()?, DataFormat::ChannelsLast);
//! assert_eq!(layer.cropping, Cropping { top: 2, bottom: 3, left: 4, right: 5 });
//! # Ok::<(), rcrop::SpecError>(())
//! ```

// The command line's modules name the crate as the binary did.
extern crate self as rcrop;

mod autocast;
mod batch;
#[doc(hidden)]
#[cfg(feature = "cli")]
pub mod cli;
mod config;
mod data_format;
mod error;
mod input;
mod job;
mod kind;
mod layer;
pub mod npy;
pub mod npz;
mod output;
#[cfg(feature = "python")]
mod python;
pub mod raster;
mod spec;
mod stack;
pub mod tar;
mod tensor;

pub use autocast::{Cast, CastError, Compute};
pub use batch::{
    Found, Outcome, Settings, Watch, find_inputs, parse_list, pool as thread_pool, run as run_batch,
};
pub use config::{ConfigError, LayerConfig, find_layer, to_python_json};
pub use data_format::{
    DataFormat, KerasConfigError, KerasDefault, UnknownDataFormat, keras_default, keras_default_in,
    keras_dir,
};
pub use error::{Error, Problem};
pub use input::Input;
pub use job::{Destination, Job, JpegWrite, MemberSummary, Options, Part, Summary};
pub use kind::{FileKind, UnknownKind};
pub use layer::{
    CenterCrop, ChoiceError, CropError, CropProblem, Cropping1D, Cropping2D, Cropping3D,
    FormatOrigin, Layer, LayerChoice, LayerClass, LayerKeys, Shape, UnknownLayer,
};
pub use output::{Commit, Output, abandon as abandon_outputs};
pub use spec::{CropSpec, Cropping, Sides, SpecError};
pub use stack::Stack;
pub use tensor::{ArrayLayout, ByteOrder, Element, SampleType, Tensor, TensorError};
