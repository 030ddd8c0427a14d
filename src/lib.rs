//! rcrop applies the Keras `Cropping2D` layer to files: NumPy `.npy` batches
//! of any fixed-size dtype, cropped in one sequential pass with bounded
//! memory, bit for bit as Keras would crop them, and image files (PNG, JPEG,
//! TIFF, BMP, WebP, GIF) seen as tensors of batch 1.
//!
//! The pieces, in the order data flows through them:
//! - [`Cropping`] parses every `cropping=` form Keras accepts;
//! - [`DataFormat`] and [`layout::keras_default`] say where the channels are;
//! - [`Cropping2D`] is the layer: output shapes, the "leave one row" rule, and a
//!   zero-copy crop of an `ndarray` view;
//! - [`npy`] reads and writes `.npy` headers and crops the data as a stream;
//! - [`raster`] turns images into tensors and back, and [`FileKind`] tells
//!   which is which;
//! - [`Job`] runs one crop from an [`Input`] to an [`Output`], writing files
//!   atomically.
//!
//! ```
//! use rcrop::{Cropping, Cropping2D, DataFormat};
//! let layer = Cropping2D::new("2,3:4,5".parse()?, DataFormat::ChannelsLast);
//! assert_eq!(layer.cropping, Cropping { top: 2, bottom: 3, left: 4, right: 5 });
//! # Ok::<(), rcrop::SpecError>(())
//! ```

pub mod batch;
pub mod config;
pub mod error;
pub mod input;
pub mod job;
pub mod kind;
pub mod layer;
pub mod layout;
pub mod npy;
pub mod output;
pub mod raster;
pub mod spec;
pub mod stack;

pub use error::{Error, Problem};
pub use input::Input;
pub use job::{Destination, Job, Options, Summary};
pub use kind::FileKind;
pub use layer::{CropError, Cropping2D, Shape};
pub use layout::DataFormat;
pub use output::Output;
pub use spec::{Cropping, SpecError};
