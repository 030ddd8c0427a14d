//! `--check`, for golden files: an output compared with the file already at
//! its path instead of replacing it. The first difference is said as what
//! the files hold: a `.npy` header field or element, an image's size or
//! pixel (both decoded by rcrop's own decoders), else a byte.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use image::ImageFormat;

use super::{Fault, Options};
use crate::error::Problem;
use crate::input::PREFIX_LEN;
use crate::kind::FileKind;
use crate::npy::Header;
use crate::output::{CommitError, Difference, Staged};
use crate::raster;
use crate::tensor::Tensor;

/// Commits an output; a difference is described, images decoded within
/// the image limit.
pub(super) fn commit(out: Staged, options: &Options) -> Result<(), Fault> {
    out.commit().map_err(|e| match e {
        CommitError::Write(e) => Fault::write(e),
        CommitError::Differs(difference) => {
            Fault::Output(Problem::Differs(describe(&difference, options.image_limit)))
        }
    })
}

/// The first difference between the file at the output's path and the
/// output: in what they hold where both are of a kind rcrop reads, else
/// in their bytes.
fn describe(d: &Difference, limit: u64) -> String {
    let kinds = [d.target.as_path(), d.written()].map(|path| kind(path, &d.target));
    let found = match kinds {
        [Some(FileKind::Npy), Some(FileKind::Npy)] => npy(d),
        [Some(FileKind::Image(a)), Some(FileKind::Image(b))] if a == b => image(d, a, limit),
        [Some(a), Some(b)] if a != b => Ok(Some(format!("the file holds {a}, the output {b}"))),
        _ => Ok(None),
    };
    match found {
        Ok(Some(text)) => text,
        Ok(None) | Err(_) => bytes(d),
    }
}

/// What a file holds, from its first bytes (and the output's name, for
/// formats without a signature).
fn kind(path: &Path, named: &Path) -> Option<FileKind> {
    let mut prefix = Vec::new();
    File::open(path)
        .and_then(|f| f.take(PREFIX_LEN).read_to_end(&mut prefix))
        .ok()?;
    FileKind::sniff_named(&prefix, Some(named))
}

/// The first differing byte, and both lengths where they differ.
fn bytes(d: &Difference) -> String {
    let byte = |path: &Path| -> Option<u8> {
        let mut file = File::open(path).ok()?;
        file.seek(SeekFrom::Start(d.offset)).ok()?;
        let mut b = [0];
        file.read_exact(&mut b).ok().map(|()| b[0])
    };
    let shown = |b: Option<u8>| b.map_or("its end".to_string(), |b| format!("{b:#04x}"));
    let len = |path: &Path| fs::metadata(path).map_or(0, |m| m.len());
    let (expected, written) = (len(&d.target), len(d.written()));
    let lengths = if expected == written {
        String::new()
    } else {
        format!(" (the file is {expected} bytes, the output {written})")
    };
    format!(
        "first at byte {}: {} in the file, {} in the output{lengths}",
        d.offset,
        shown(byte(&d.target)),
        shown(byte(d.written())),
    )
}

/// A header field, or the first differing element with both values.
fn npy(d: &Difference) -> io::Result<Option<String>> {
    let open = |path: &Path| File::open(path).map(BufReader::new);
    let (mut file, mut out) = (open(&d.target)?, open(d.written())?);
    let (Ok((expected, header_len)), Ok((written, _))) =
        (Header::read(&mut file), Header::read(&mut out))
    else {
        return Ok(None);
    };
    let field = |name: &str, a: String, b: String| {
        Ok(Some(format!(
            "the header's {name} is {a} in the file, {b} in the output"
        )))
    };
    if expected.dtype != written.dtype {
        let descr = |h: &Header| h.dtype.descr().to_string();
        return field("descr", descr(&expected), descr(&written));
    }
    if expected.fortran_order != written.fortran_order {
        let order = |h: &Header| if h.fortran_order { "True" } else { "False" }.to_string();
        return field("fortran_order", order(&expected), order(&written));
    }
    if expected.shape != written.shape {
        return field("shape", expected.shape_repr(), written.shape_repr());
    }
    let itemsize = expected.dtype.itemsize() as u64;
    let count: u64 = expected.shape.iter().map(|&n| n as u64).product();
    let Some(index) = d
        .offset
        .checked_sub(header_len)
        .map(|at| at / itemsize.max(1))
    else {
        return Ok(Some(format!(
            "the headers hold the same fields, but differ at byte {}",
            d.offset
        )));
    };
    if index >= count {
        return Ok(None);
    }
    let element = |file: &mut BufReader<File>| -> io::Result<Vec<u8>> {
        file.seek(SeekFrom::Start(header_len + index * itemsize))?;
        let mut value = vec![0; itemsize as usize];
        file.read_exact(&mut value)?;
        Ok(value)
    };
    let (a, b) = (element(&mut file)?, element(&mut out)?);
    let type_str = expected.dtype.type_str();
    Ok(Some(format!(
        "element {} is {} in the file, {} in the output",
        unravel(index, &expected.shape, expected.fortran_order),
        value(type_str.as_deref(), &a),
        value(type_str.as_deref(), &b),
    )))
}

/// The index of element `flat` in an array of `shape`, as NumPy writes it.
fn unravel(mut flat: u64, shape: &[usize], fortran_order: bool) -> String {
    let mut index = vec![0; shape.len()];
    let axes: Vec<usize> = match fortran_order {
        true => (0..shape.len()).collect(),
        false => (0..shape.len()).rev().collect(),
    };
    for axis in axes {
        let len = shape[axis].max(1) as u64;
        index[axis] = flat % len;
        flat /= len;
    }
    let parts: Vec<String> = index.iter().map(u64::to_string).collect();
    match parts.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", parts.join(", ")),
    }
}

/// The size and samples of two images of `format`, decoded, or the first
/// differing pixel with both values.
fn image(d: &Difference, format: ImageFormat, limit: u64) -> io::Result<Option<String>> {
    let decode = |path: &Path| -> io::Result<Option<Tensor>> {
        if fs::metadata(path)?.len() > limit {
            return Ok(None);
        }
        Ok(raster::decode(&fs::read(path)?, format, limit)
            .ok()
            .map(|decoded| decoded.tensor))
    };
    let (Some(expected), Some(written)) = (decode(&d.target)?, decode(d.written())?) else {
        return Ok(None);
    };
    let differs = |what: &str, a: String, b: String| {
        Ok(Some(format!("{what} {a} in the file, {b} in the output")))
    };
    let size = |t: &Tensor| format!("{}×{} pixels", t.width(), t.height());
    if (expected.width(), expected.height()) != (written.width(), written.height()) {
        return differs("is", size(&expected), size(&written));
    }
    if expected.channels() != written.channels() {
        let channels = |t: &Tensor| format!("{} channels", t.channels());
        return differs("has", channels(&expected), channels(&written));
    }
    if expected.sample_type() != written.sample_type() {
        let samples = |t: &Tensor| format!("{} samples", t.sample_type().name());
        return differs("holds", samples(&expected), samples(&written));
    }
    let sample = expected.sample_type();
    let pixel_len = expected.channels() * sample.itemsize();
    let pixels = expected
        .as_le_bytes()
        .chunks(pixel_len.max(1))
        .zip(written.as_le_bytes().chunks(pixel_len.max(1)));
    let Some((at, (a, b))) = pixels.enumerate().find(|(_, (a, b))| a != b) else {
        return Ok(Some(format!(
            "the pixels are the same, but the encoded files differ from byte {}",
            d.offset
        )));
    };
    let shown = |p: &[u8]| {
        let samples: Vec<String> = p
            .chunks(sample.itemsize())
            .map(|s| value(Some(sample.descr()), s))
            .collect();
        format!("({})", samples.join(", "))
    };
    let (x, y) = (at % expected.width(), at / expected.width());
    differs(&format!("pixel (x {x}, y {y}) is"), shown(a), shown(b))
}

/// One element's value, as NumPy prints it, for the plain types; else its
/// bytes in hexadecimal.
fn value(type_str: Option<&str>, bytes: &[u8]) -> String {
    let hex = || {
        let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{digits}")
    };
    let Some((big, kind, size)) = type_str.and_then(scalar) else {
        return hex();
    };
    if size != bytes.len() {
        return hex();
    }
    let little = |part: &[u8]| {
        let mut part = part.to_vec();
        if big {
            part.reverse();
        }
        part
    };
    let shown = match kind {
        'c' => {
            let (re, im) = bytes.split_at(size / 2);
            number('f', &little(re))
                .zip(number('f', &little(im)))
                .map(|(re, im)| match im.strip_prefix('-') {
                    Some(minus) => format!("({re}-{minus}j)"),
                    None => format!("({re}+{im}j)"),
                })
        }
        _ => number(kind, &little(bytes)),
    };
    shown.unwrap_or_else(hex)
}

/// A type string as its byte order (big-endian or not), kind and size.
fn scalar(type_str: &str) -> Option<(bool, char, usize)> {
    let mut chars = type_str.chars();
    let order = chars.next()?;
    let kind = chars.next()?;
    Some((order == '>', kind, chars.as_str().parse().ok()?))
}

/// A number of `kind` from its little-endian bytes.
fn number(kind: char, le: &[u8]) -> Option<String> {
    let mut word = [0; 8];
    word.get_mut(..le.len())?.copy_from_slice(le);
    let bits = u64::from_le_bytes(word);
    let shift = 64 - 8 * le.len() as u32;
    Some(match (kind, le.len()) {
        ('b', 1) => if bits == 0 { "False" } else { "True" }.to_string(),
        ('u', 1..=8) => bits.to_string(),
        ('i', 1..=8) => (((bits << shift) as i64) >> shift).to_string(),
        ('f', 2) => format!("{:?}", half(bits as u16)),
        ('f', 4) => format!("{:?}", f32::from_bits(bits as u32)),
        ('f', 8) => format!("{:?}", f64::from_bits(bits)),
        _ => return None,
    })
}

/// An IEEE half-precision number.
fn half(bits: u16) -> f32 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let fraction = f32::from(bits & 0x3ff);
    let magnitude = match (bits >> 10) & 0x1f {
        0 => fraction * 2f32.powi(-24),
        31 if fraction == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        exponent => (1.0 + fraction / 1024.0) * 2f32.powi(i32::from(exponent) - 15),
    };
    sign * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_as_numpy_prints_them() {
        assert_eq!(value(Some("<i2"), &(-3i16).to_le_bytes()), "-3");
        assert_eq!(value(Some(">u2"), &[1, 0]), "256");
        assert_eq!(value(Some("<f4"), &1.5f32.to_le_bytes()), "1.5");
        assert_eq!(value(Some("<f2"), &[0x00, 0x3c]), "1.0");
        assert_eq!(value(Some("|b1"), &[1]), "True");
        let complex = [1f32.to_le_bytes(), (-2f32).to_le_bytes()].concat();
        assert_eq!(value(Some("<c8"), &complex), "(1.0-2.0j)");
        assert_eq!(value(None, &[0xab, 0x01]), "0xab01");
    }

    #[test]
    fn indices_follow_the_memory_order() {
        assert_eq!(unravel(5, &[2, 3], false), "(1, 2)");
        assert_eq!(unravel(5, &[2, 3], true), "(1, 2)");
        assert_eq!(unravel(1, &[2, 3], false), "(0, 1)");
        assert_eq!(unravel(1, &[2, 3], true), "(1, 0)");
        assert_eq!(unravel(4, &[7], false), "(4,)");
    }
}
