//! [`Cropping2D`]: the Keras layer itself — its output-shape rule, the check
//! that a crop leaves something, and the zero-copy crop of an array view.

use std::fmt;
use std::ops::Range;

use ndarray::{ArrayView4, s};

use crate::layout::DataFormat;
use crate::spec::Cropping;

/// A 4D shape whose dimensions may be unknown (`None`), printed as Keras
/// prints shapes: `(None, 24, 20, 3)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape(pub [Option<usize>; 4]);

impl Shape {
    /// A shape whose dimensions are all known.
    pub fn known(dims: [usize; 4]) -> Self {
        Shape(dims.map(Some))
    }

    /// The dimensions, if all are known.
    pub fn dims(&self) -> Option<[usize; 4]> {
        let [a, b, c, d] = self.0;
        Some([a?, b?, c?, d?])
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
        f.write_str(")")
    }
}

/// A crop that would leave no row or no column, which Keras refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cropping {} removes {} of the {} {} of shape {shape} ({format}); \
     a crop must leave at least one row and one column",
    cropping.to_keras(), self.removed(), self.available(), axis.name()
)]
pub struct CropError {
    pub shape: Shape,
    pub cropping: Cropping,
    pub format: DataFormat,
    pub axis: SpatialAxis,
}

/// Rows or columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpatialAxis {
    Rows,
    Columns,
}

impl SpatialAxis {
    fn name(self) -> &'static str {
        match self {
            SpatialAxis::Rows => "rows",
            SpatialAxis::Columns => "columns",
        }
    }
}

impl CropError {
    /// How many rows or columns the crop removes.
    pub fn removed(&self) -> usize {
        let c = self.cropping;
        match self.axis {
            SpatialAxis::Rows => c.top.saturating_add(c.bottom),
            SpatialAxis::Columns => c.left.saturating_add(c.right),
        }
    }

    /// How many rows or columns the input has.
    pub fn available(&self) -> usize {
        let (rows, cols) = self.format.spatial_axes();
        let axis = match self.axis {
            SpatialAxis::Rows => rows,
            SpatialAxis::Columns => cols,
        };
        self.shape.0[axis].unwrap_or(0)
    }
}

/// The Keras `Cropping2D` layer: a [`Cropping`] and a [`DataFormat`].
///
/// ```
/// use rcrop::{Cropping, Cropping2D, DataFormat, Shape};
/// let layer = Cropping2D::new("2,2:4,4".parse().unwrap(), DataFormat::ChannelsLast);
/// let out = layer.compute_output_shape(Shape([None, Some(28), Some(28), Some(3)])).unwrap();
/// assert_eq!(out.to_string(), "(None, 24, 20, 3)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cropping2D {
    pub cropping: Cropping,
    pub data_format: DataFormat,
}

impl Cropping2D {
    pub fn new(cropping: Cropping, data_format: DataFormat) -> Self {
        Self {
            cropping,
            data_format,
        }
    }

    /// The output shape for an input shape, as Keras' `compute_output_shape`:
    /// unknown dimensions stay unknown, and a crop that leaves no row or no
    /// column of a known dimension is an error.
    pub fn compute_output_shape(&self, input: Shape) -> Result<Shape, CropError> {
        let (rows, cols) = self.data_format.spatial_axes();
        let c = self.cropping;
        let mut out = input;
        let checks = [
            (rows, c.top.saturating_add(c.bottom), SpatialAxis::Rows),
            (cols, c.left.saturating_add(c.right), SpatialAxis::Columns),
        ];
        for (index, removed, axis) in checks {
            if let Some(available) = input.0[index] {
                if removed >= available {
                    return Err(CropError {
                        shape: input,
                        cropping: c,
                        format: self.data_format,
                        axis,
                    });
                }
                out.0[index] = Some(available - removed);
            }
        }
        Ok(out)
    }

    /// The index range kept along each axis of a known input shape.
    pub fn kept_ranges(&self, input: [usize; 4]) -> Result<[Range<usize>; 4], CropError> {
        self.compute_output_shape(Shape::known(input))?;
        let (rows, cols) = self.data_format.spatial_axes();
        let c = self.cropping;
        let mut ranges = input.map(|n| 0..n);
        ranges[rows] = c.top..input[rows] - c.bottom;
        ranges[cols] = c.left..input[cols] - c.right;
        Ok(ranges)
    }

    /// Crops an array view without copying: the result borrows `input`.
    ///
    /// ```
    /// use ndarray::Array4;
    /// use rcrop::{Cropping, Cropping2D, DataFormat};
    /// let x = Array4::from_shape_fn((2, 28, 28, 3), |(b, r, c, ch)| b + r + c + ch);
    /// let layer = Cropping2D::new(Cropping::from_groups((2, 2), (4, 4)), DataFormat::ChannelsLast);
    /// let y = layer.call(x.view()).unwrap();
    /// assert_eq!(y.shape(), &[2, 24, 20, 3]);
    /// assert_eq!(y[[0, 0, 0, 0]], x[[0, 2, 4, 0]]);
    /// ```
    pub fn call<'a, A>(&self, input: ArrayView4<'a, A>) -> Result<ArrayView4<'a, A>, CropError> {
        let dims = input.dim();
        let [b, r, c, ch] = self.kept_ranges([dims.0, dims.1, dims.2, dims.3])?;
        Ok(input.slice_move(s![b, r, c, ch]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(spec: &str, format: DataFormat) -> Cropping2D {
        Cropping2D::new(spec.parse().unwrap(), format)
    }

    #[test]
    fn output_shape_follows_keras_for_both_formats() {
        let last = layer("2,2:4,4", DataFormat::ChannelsLast);
        let out = last
            .compute_output_shape(Shape::known([2, 28, 28, 3]))
            .unwrap();
        assert_eq!(out, Shape::known([2, 24, 20, 3]));
        let first = layer("1,2:3,4", DataFormat::ChannelsFirst);
        let out = first
            .compute_output_shape(Shape::known([2, 3, 10, 10]))
            .unwrap();
        assert_eq!(out, Shape::known([2, 3, 7, 3]));
    }

    #[test]
    fn unknown_dimensions_stay_unknown() {
        let l = layer("2,2:4,4", DataFormat::ChannelsLast);
        let out = l
            .compute_output_shape(Shape([None, Some(28), None, Some(3)]))
            .unwrap();
        assert_eq!(out.to_string(), "(None, 24, None, 3)");
    }

    #[test]
    fn a_crop_must_leave_a_row_and_a_column() {
        let l = layer("3,3:0,0", DataFormat::ChannelsLast);
        let err = l
            .compute_output_shape(Shape::known([1, 6, 9, 1]))
            .unwrap_err();
        assert_eq!(err.axis, SpatialAxis::Rows);
        assert!(
            err.to_string()
                .contains("removes 6 of the 6 rows of shape (1, 6, 9, 1)")
        );
        let l = layer("0,0:4,5", DataFormat::ChannelsFirst);
        let err = l
            .compute_output_shape(Shape::known([1, 1, 6, 9]))
            .unwrap_err();
        assert_eq!(err.axis, SpatialAxis::Columns);
        let zero_rows = layer("0", DataFormat::ChannelsLast);
        assert!(
            zero_rows
                .compute_output_shape(Shape::known([1, 0, 4, 1]))
                .is_err()
        );
        assert!(
            zero_rows
                .compute_output_shape(Shape::known([0, 1, 1, 0]))
                .is_ok()
        );
    }

    #[test]
    fn crops_too_large_to_add_are_refused_not_overflowed() {
        let huge = Cropping::from_groups((usize::MAX, 1), (0, 0));
        let l = Cropping2D::new(huge, DataFormat::ChannelsLast);
        let err = l
            .compute_output_shape(Shape::known([1, 5, 5, 1]))
            .unwrap_err();
        assert_eq!(err.removed(), usize::MAX);
    }

    #[test]
    fn call_is_a_view_of_the_input() {
        let x = ndarray::Array4::from_shape_fn((1, 3, 5, 7), |(_, r, c, ch)| r * 100 + c * 10 + ch);
        let y = layer("1,0:1,2", DataFormat::ChannelsFirst)
            .call(x.view())
            .unwrap();
        assert_eq!(y.shape(), &[1, 3, 4, 4]);
        assert_eq!(y[[0, 2, 3, 3]], x[[0, 2, 4, 4]]);
        assert_eq!(y.as_ptr(), &x[[0, 0, 1, 1]] as *const usize);
    }
}
