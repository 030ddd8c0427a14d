//! The bytes of contiguous NumPy arrays, for rcrop to read and write with
//! the GIL released.

use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::Bound;

/// The data of `array`, which holds `len` bytes.
fn data(array: &Bound<'_, PyUntypedArray>) -> *mut u8 {
    // SAFETY: `as_array_ptr` points at the live array object `array` holds.
    unsafe { (*array.as_array_ptr()).data }.cast()
}

/// The bytes of `array`, to read.
///
/// # Safety
/// `array` is contiguous and holds `len` bytes, and nothing writes to them
/// while the slice lives.
pub unsafe fn bytes<'a>(array: &'a Bound<'_, PyUntypedArray>, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(data(array), len) }
}

/// The bytes of `array`, to write.
///
/// # Safety
/// `array` is contiguous, holds `len` bytes and outlives the slice, and
/// nothing else reads or writes them while the slice lives.
pub unsafe fn bytes_mut<'a>(array: &Bound<'_, PyUntypedArray>, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts_mut(data(array), len) }
}
