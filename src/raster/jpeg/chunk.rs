//! One strip or tile of a JPEG-compressed TIFF, decoded by libjpeg-turbo as
//! libtiff has libjpeg decode it: YCbCr converted to RGB (libtiff's
//! `JPEGCOLORMODE_RGB`, which Pillow and `tiff2rgba` ask for), every other
//! kind of data with its components as stored.

use std::os::raw::c_int;

use turbojpeg_sys as tj;

use super::turbo::Handle;

/// What the components of a TIFF's JPEG data are, which the TIFF says
/// (its PhotometricInterpretation) and the JPEG stream need not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChunkColor {
    /// YCbCr, converted to RGB with libjpeg's upsampling and arithmetic.
    YCbCrToRgb,
    /// Anything else: each component as stored.
    AsStored,
}

/// A decoded strip or tile: its size and its samples, components
/// interleaved.
pub struct Chunk {
    pub width: usize,
    pub height: usize,
    pub samples: Vec<u8>,
}

/// Decodes one strip or tile: `tables`, the TIFF's JPEGTables (a stream of
/// tables from SOI to EOI), if any, then `data`, the chunk's own stream
/// from its SOI, which must hold `components` components. Refuses a frame
/// of more than `limit` decoded bytes, and stops at libjpeg's warnings.
pub fn decode_chunk(
    tables: Option<&[u8]>,
    data: &[u8],
    components: usize,
    color: ChunkColor,
    limit: u64,
) -> Result<Chunk, String> {
    let stream = stream(tables, data, color)?;
    let handle = Handle::new(tj::TJINIT_TJINIT_DECOMPRESS)?;
    let header = handle.read_header(&stream)?;
    let (pixel_format, found) = header.pixel_format();
    if found != components {
        return Err(format!(
            "its JPEG data holds {found} components where the TIFF says {components}"
        ));
    }
    let (width, height) = (header.width, header.height);
    let len = (width as u64) * (height as u64) * components as u64;
    if len > limit {
        return Err(format!(
            "a {width}x{height} JPEG strip or tile is over the image limit"
        ));
    }
    let mut samples = vec![0u8; len as usize];
    // SAFETY: `samples` holds width × height pixels of `pixel_format`, rows
    // packed (pitch 0), as the headers just read describe the frame.
    let status = unsafe {
        tj::tj3Decompress8(
            handle.0,
            stream.as_ptr(),
            stream.len() as tj::size_t,
            samples.as_mut_ptr(),
            0,
            pixel_format as c_int,
        )
    };
    handle.check(status)?;
    Ok(Chunk {
        width,
        height,
        samples,
    })
}

/// The stream libjpeg reads: SOI, an Adobe segment saying how to take the
/// components (transform 1, YCbCr; 0, as stored — as libtiff sets
/// libjpeg's color space whatever the stream's markers say), the tables'
/// segments, then the chunk's after its SOI.
fn stream(tables: Option<&[u8]>, data: &[u8], color: ChunkColor) -> Result<Vec<u8>, String> {
    const SOI: [u8; 2] = [0xFF, 0xD8];
    let transform = match color {
        ChunkColor::YCbCrToRgb => 1,
        ChunkColor::AsStored => 0,
    };
    let adobe = [
        0xFF, 0xEE, 0, 14, b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, transform,
    ];
    let body = data
        .strip_prefix(&SOI)
        .ok_or("a JPEG strip or tile that does not start with SOI")?;
    let tables = match tables {
        Some(t) => t
            .strip_prefix(&SOI)
            .and_then(|t| t.strip_suffix(&[0xFF, 0xD9]))
            .ok_or("JPEGTables that are not a stream from SOI to EOI")?,
        None => &[],
    };
    let mut stream = Vec::with_capacity(SOI.len() + adobe.len() + tables.len() + body.len());
    stream.extend_from_slice(&SOI);
    stream.extend_from_slice(&adobe);
    stream.extend_from_slice(tables);
    stream.extend_from_slice(body);
    Ok(stream)
}
