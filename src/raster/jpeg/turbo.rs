//! The TurboJPEG API of libjpeg-turbo, held safely: an instance and a
//! buffer freed when dropped, and what a JPEG's headers say.

use std::ffi::CStr;
use std::os::raw::{c_int, c_uchar};
use std::ptr;

use turbojpeg_sys as tj;

use crate::raster::{RasterError, Window};

/// One TurboJPEG instance, destroyed when dropped.
pub(super) struct Handle(pub(super) tj::tjhandle);

impl Handle {
    /// A compressor, decompressor or transformer that stops on warnings.
    pub(super) fn new(kind: tj::TJINIT) -> Result<Self, String> {
        // SAFETY: tj3Init has no preconditions; a null handle is checked.
        let handle = unsafe { tj::tj3Init(kind as c_int) };
        if handle.is_null() {
            return Err("libjpeg-turbo could not start".into());
        }
        let handle = Self(handle);
        handle.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 1)?;
        Ok(handle)
    }

    pub(super) fn set(&self, param: tj::TJPARAM, value: c_int) -> Result<(), String> {
        // SAFETY: the handle is live; unknown parameters are refused by the library.
        self.check(unsafe { tj::tj3Set(self.0, param as c_int, value) })
    }

    pub(super) fn get(&self, param: tj::TJPARAM) -> c_int {
        // SAFETY: the handle is live.
        unsafe { tj::tj3Get(self.0, param as c_int) }
    }

    /// `Ok` for a zero status, else the library's message for it.
    pub(super) fn check(&self, status: c_int) -> Result<(), String> {
        if status == 0 {
            return Ok(());
        }
        // SAFETY: the handle is live; the message is a NUL-terminated string
        // the handle owns, copied before the handle is used again.
        let message = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) };
        let message = message.to_string_lossy();
        // TurboJPEG's own checks start with the function's name: drop it.
        let message = match message.split_once("(): ") {
            Some((function, rest)) if function.starts_with("tj") => rest,
            _ => &message,
        };
        Err(message.to_string())
    }

    /// Decodes only `region` of the image whose headers were read (it
    /// starts on the block grid and lies inside the image), or all of it
    /// for `None`. Refused for the JPEGs libjpeg-turbo cannot decode in
    /// part (lossless ones, or a sampling it has no block grid for).
    pub(super) fn set_cropping_region(&self, region: Option<&Window>) -> Result<(), String> {
        let side = |n: usize| c_int::try_from(n).map_err(|_| format!("{n} pixels is too many"));
        let region = match region {
            None => tj::tjregion {
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            },
            Some(r) => tj::tjregion {
                x: side(r.cols.start)?,
                y: side(r.rows.start)?,
                w: side(r.cols.len())?,
                h: side(r.rows.len())?,
            },
        };
        // SAFETY: the handle is live; the library checks the region.
        self.check(unsafe { tj::tj3SetCroppingRegion(self.0, region) })
    }

    /// Reads the headers of `bytes`: width, height, and what they hold.
    pub(super) fn read_header(&self, bytes: &[u8]) -> Result<JpegHeader, String> {
        // SAFETY: the pointer and length describe `bytes`.
        self.check(unsafe {
            tj::tj3DecompressHeader(self.0, bytes.as_ptr(), bytes.len() as tj::size_t)
        })?;
        let dimension = |param| usize::try_from(self.get(param)).unwrap_or(0);
        Ok(JpegHeader {
            width: dimension(tj::TJPARAM_TJPARAM_JPEGWIDTH),
            height: dimension(tj::TJPARAM_TJPARAM_JPEGHEIGHT),
            color_space: self.get(tj::TJPARAM_TJPARAM_COLORSPACE),
            subsampling: self.get(tj::TJPARAM_TJPARAM_SUBSAMP),
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

/// A buffer the library allocated, freed when dropped.
pub(super) struct TjBuffer {
    pub(super) data: *mut c_uchar,
    pub(super) len: tj::size_t,
}

impl TjBuffer {
    pub(super) fn empty() -> Self {
        Self {
            data: ptr::null_mut(),
            len: 0,
        }
    }

    pub(super) fn to_vec(&self) -> Vec<u8> {
        if self.data.is_null() {
            return Vec::new();
        }
        // SAFETY: the library wrote `len` bytes at `data`.
        unsafe { std::slice::from_raw_parts(self.data, self.len as usize) }.to_vec()
    }
}

impl Drop for TjBuffer {
    fn drop(&mut self) {
        // SAFETY: `data` is null or came from the library's allocator.
        unsafe { tj::tj3Free(self.data.cast()) }
    }
}

/// What a JPEG's headers say.
pub(super) struct JpegHeader {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) color_space: c_int,
    pub(super) subsampling: c_int,
}

impl JpegHeader {
    /// The pixel format rcrop decodes to, and its channel count.
    pub(super) fn pixel_format(&self) -> (tj::TJPF, usize) {
        match self.color_space as tj::TJCS {
            tj::TJCS_TJCS_GRAY => (tj::TJPF_TJPF_GRAY, 1),
            tj::TJCS_TJCS_CMYK | tj::TJCS_TJCS_YCCK => (tj::TJPF_TJPF_CMYK, 4),
            _ => (tj::TJPF_TJPF_RGB, 3),
        }
    }

    /// The size of the block grid (width, height) in pixels: the MCU, 8×8
    /// for gray and 4:4:4, 16×16 for 4:2:0 and so on.
    pub(super) fn mcu(&self) -> Option<(usize, usize)> {
        Some(match self.subsampling as tj::TJSAMP {
            tj::TJSAMP_TJSAMP_444 | tj::TJSAMP_TJSAMP_GRAY => (8, 8),
            tj::TJSAMP_TJSAMP_422 => (16, 8),
            tj::TJSAMP_TJSAMP_420 => (16, 16),
            tj::TJSAMP_TJSAMP_440 => (8, 16),
            tj::TJSAMP_TJSAMP_411 => (32, 8),
            tj::TJSAMP_TJSAMP_441 => (8, 32),
            _ => return None,
        })
    }
}

pub(super) fn damaged(why: String) -> RasterError {
    RasterError::Damaged {
        format: "JPEG",
        why,
    }
}
