//! OpenEXR, read with the `exr` crate for any set of channels, and written
//! with the `image` crate's encoder (float32 RGB or RGBA).
//!
//! An OpenEXR part holds named channels; a name with dots is a channel of a
//! layer (`diffuse.R` is channel `R` of layer `diffuse`). rcrop reads the
//! first part, and in it the channels without a layer name when there are
//! any color channels among them (as OpenEXR's RGBA interface does, which
//! also makes a multi-view file's default view its own); else the first
//! layer, in the header's (alphabetical) channel order, that holds a color
//! channel. Of that layer:
//!
//! - `R`, `G` or `B` → RGB, a channel the file lacks filled with 0 as the
//!   RGBA interface fills it; with `A`, RGBA;
//! - else `Y` (luminance alone), else `G` → gray; with `A`, gray + alpha;
//! - `RY` or `BY` (luminance/chroma: `Y` at every pixel, `RY` and `BY` at
//!   every second pixel of every second row) → RGB, with `A` RGBA, as
//!   OpenEXR's RGBA interface converts it ([`yca`]), read block by block
//!   with the `exr` crate's pieces ([`sampled`]), whose image reader
//!   refuses subsampled channels.
//!
//! The tensor covers the data window — the pixels the file stores — and
//! not the display window. Samples become `float32` (half exactly), or
//! stay `uint32` when every channel taken is `uint32`.

use std::io::Cursor;

use ::exr::image::{AnyChannel, FlatSamples};
use ::exr::math::Vec2;
use ::exr::meta::MetaData;
use ::exr::meta::attribute::SampleType as Stored;
use ::exr::meta::header::Header;
use ::exr::prelude::{ReadChannels, ReadLayers};
use half::f16;
use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

mod sampled;
mod yca;

const NAME: &str = "OpenEXR";

/// A whole OpenEXR file's first part, its data window.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let (header, picked) = inspect(bytes, limit)?;
    if picked.luma_chroma {
        return Ok((luma_chroma(bytes, &header, &picked.names)?, None).into());
    }
    let (w, h) = (header.layer_size.width(), header.layer_size.height());
    let image = ::exr::prelude::read()
        .no_deep_data()
        .largest_resolution_level()
        .all_channels()
        .first_valid_layer()
        .all_attributes()
        .from_buffered(Cursor::new(bytes))
        .map_err(refused)?;
    let channels = &image.layer_data.channel_data.list;
    let find = |name: &Option<String>| {
        name.as_ref()
            .and_then(|n| channels.iter().find(|c| c.name.to_string() == *n))
    };
    let taken: Vec<Option<&AnyChannel<FlatSamples>>> = picked.names.iter().map(find).collect();
    let wrong_size = || RasterError::NotAnImage("the decoded image has the wrong size".into());
    let tensor = if picked.sample == SampleType::U32 {
        let columns = taken.iter().map(|c| c.and_then(|c| u32s(&c.sample_data)));
        Tensor::from_elements(h, w, taken.len(), &interleave(columns.collect(), w * h))
    } else {
        let columns = taken.iter().map(|c| c.map(|c| f32s(&c.sample_data)));
        Tensor::from_elements(h, w, taken.len(), &interleave(columns.collect(), w * h))
    };
    Ok((tensor.ok_or_else(wrong_size)?, None).into())
}

/// Height, width, channels and sample type, from the header alone.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let (header, picked) = inspect(bytes, limit)?;
    let size = header.layer_size;
    Ok((
        size.height(),
        size.width(),
        picked.names.len(),
        picked.sample,
    ))
}

/// Float32 RGB or RGBA, by the `image` crate's encoder.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::OpenExr)
}

/// The first part's header and the channels taken from it, refusing a
/// file whose first part would pass `limit` bytes decoded (its samples as
/// stored and the tensor made of them).
fn inspect(bytes: &[u8], limit: u64) -> Result<(Header, Picked), RasterError> {
    let meta = MetaData::read_from_buffered(Cursor::new(bytes), false).map_err(refused)?;
    check_chunks(&meta.headers, bytes.len())?;
    let header = meta
        .headers
        .into_iter()
        .next()
        .ok_or_else(|| damaged("the file has no part".into()))?;
    let list = &header.channels.list;
    let names: Vec<String> = list.iter().map(|c| c.name.to_string()).collect();
    let picked = pick(&names).map_err(RasterError::NotAnImage)?;
    let all_u32 = picked.names.iter().flatten().all(|n| {
        list.iter()
            .any(|c| c.name.to_string() == *n && c.sample_type == Stored::U32)
    });
    let picked = Picked {
        sample: if all_u32 && !picked.luma_chroma {
            SampleType::U32
        } else {
            SampleType::F32
        },
        ..picked
    };
    let stored: u128 = list
        .iter()
        .map(|c| c.sample_type.bytes_per_sample() as u128)
        .sum();
    let area = header.layer_size.area() as u128;
    RasterError::check_limit(
        NAME,
        area * (stored + 4 * picked.names.len() as u128),
        limit,
    )?;
    Ok((header, picked))
}

/// Every chunk of pixels takes at least 16 bytes (its offset in the
/// table, its position and its size): a header claiming more chunks than
/// the file can hold is refused before anything of its size is allocated.
fn check_chunks(headers: &[Header], file_len: usize) -> Result<(), RasterError> {
    let chunks: u128 = headers.iter().map(|h| h.chunk_count as u128).sum();
    if chunks * 16 > file_len as u128 {
        return Err(damaged(format!(
            "its headers claim {chunks} chunks of pixels, at least {} bytes; the file has {file_len}",
            chunks * 16
        )));
    }
    Ok(())
}

/// The channels that make the tensor, in its channel order: a full name,
/// or `None` for a channel filled with 0.
#[derive(Debug, PartialEq)]
struct Picked {
    names: Vec<Option<String>>,
    sample: SampleType,
    luma_chroma: bool,
}

/// The channels taken from a part's channel names, by the rule in the
/// module's documentation; the reason when there are none to take.
fn pick(names: &[String]) -> Result<Picked, String> {
    const COLOR: [&str; 6] = ["R", "G", "B", "Y", "RY", "BY"];
    let split = |name: &str| match name.rfind('.') {
        Some(dot) => (name[..=dot].to_string(), name[dot + 1..].to_string()),
        None => (String::new(), name.to_string()),
    };
    let colored = |prefix: &str| {
        names
            .iter()
            .map(|n| split(n))
            .any(|(p, base)| p == prefix && COLOR.contains(&base.as_str()))
    };
    let prefix = if colored("") {
        String::new()
    } else {
        names
            .iter()
            .map(|n| split(n).0)
            .find(|p| colored(p))
            .ok_or_else(|| {
                format!(
                    "the OpenEXR image has no color channel (R, G, B or Y, alone or in a \
                     layer); it has {}",
                    names.join(", ")
                )
            })?
    };
    let has = |base: &str| names.iter().any(|n| *n == format!("{prefix}{base}"));
    let full = |base: &str| has(base).then(|| format!("{prefix}{base}"));
    let luma_chroma = has("RY") || has("BY");
    let mut picked: Vec<Option<String>> = if luma_chroma {
        ["Y", "RY", "BY"]
            .map(|c| Some(format!("{prefix}{c}")))
            .into()
    } else if has("R") || has("B") {
        vec![full("R"), full("G"), full("B")]
    } else if has("Y") {
        vec![full("Y")]
    } else {
        vec![full("G")]
    };
    if has("A") {
        picked.push(full("A"));
    }
    Ok(Picked {
        names: picked,
        sample: SampleType::F32,
        luma_chroma,
    })
}

/// A luminance/chroma part (`names`: its Y, RY, BY and, if it has one, A)
/// as RGB or RGBA. As OpenEXR's RGBA interface, it takes `Y` and `A` at
/// every pixel and `RY`, `BY` sampled 2 by 2, and a missing `Y` as 0.5,
/// a missing `RY` or `BY` as 0.
fn luma_chroma(
    bytes: &[u8],
    header: &Header,
    names: &[Option<String>],
) -> Result<Tensor, RasterError> {
    let names: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
    for (name, every) in names.iter().zip([1, 2, 2, 1]) {
        let channel = header
            .channels
            .list
            .iter()
            .find(|c| c.name.to_string() == *name);
        match channel.map(|c| c.sampling) {
            Some(Vec2(x, y)) if (x, y) != (every, every) => {
                return Err(RasterError::NotAnImage(format!(
                    "the OpenEXR image's channel {name} is sampled every {x} by {y} pixels; \
                     OpenEXR's RGBA interface reads luminance/chroma with Y and A at every \
                     pixel and RY, BY every 2 by 2"
                )));
            }
            _ => {}
        }
    }
    let mut planes = sampled::read(bytes, &names)?;
    let (w, h) = (header.layer_size.width(), header.layer_size.height());
    let mut fill = |i: usize, value: f32, area: usize| {
        planes[i]
            .take()
            .unwrap_or_else(|| vec![f16::from_f32(value); area])
    };
    let yca = yca::Planes {
        width: w,
        height: h,
        y: fill(0, 0.5, w * h),
        ry: fill(1, 0.0, w * h / 4),
        by: fill(2, 0.0, w * h / 4),
        a: planes.get_mut(3).and_then(Option::take),
    };
    let chromaticities = header
        .shared_attributes
        .chromaticities
        .map(|c| yca::Chromaticities {
            red: [c.red.x(), c.red.y()],
            green: [c.green.x(), c.green.y()],
            blue: [c.blue.x(), c.blue.y()],
            white: [c.white.x(), c.white.y()],
        })
        .unwrap_or_default();
    let yw = yca::luminance_weights(&chromaticities).ok_or_else(|| {
        damaged("its chromaticities are degenerate (white at y 0, or primaries on a line)".into())
    })?;
    let rgb = yca::to_rgb(&yca, yw);
    Tensor::from_elements(h, w, names.len(), &rgb)
        .ok_or_else(|| RasterError::NotAnImage("the decoded image has the wrong size".into()))
}

/// The samples of channels one after another, pixel by pixel; a missing
/// channel is 0.
fn interleave<T: Copy + Default>(columns: Vec<Option<Vec<T>>>, pixels: usize) -> Vec<T> {
    let mut out = vec![T::default(); pixels * columns.len()];
    for (c, column) in columns.iter().enumerate() {
        if let Some(column) = column {
            for (to, &v) in out.iter_mut().skip(c).step_by(columns.len()).zip(column) {
                *to = v;
            }
        }
    }
    out
}

/// A channel's samples as float32, half exactly.
fn f32s(samples: &FlatSamples) -> Vec<f32> {
    match samples {
        FlatSamples::F16(v) => v.iter().map(|h| h.to_f32()).collect(),
        FlatSamples::F32(v) => v.clone(),
        FlatSamples::U32(v) => v.iter().map(|&u| u as f32).collect(),
    }
}

/// A channel's samples as uint32, if they are stored so.
fn u32s(samples: &FlatSamples) -> Option<Vec<u32>> {
    match samples {
        FlatSamples::U32(v) => Some(v.clone()),
        _ => None,
    }
}

fn damaged(why: String) -> RasterError {
    RasterError::Damaged { format: NAME, why }
}

/// The `exr` crate's error: a file it does not support, or a damaged one.
fn refused(error: ::exr::error::Error) -> RasterError {
    match error {
        ::exr::error::Error::NotSupported(what) => RasterError::NotAnImage(format!(
            "the OpenEXR image uses a feature the exr crate does not read: {what}"
        )),
        other => damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn picked(list: &[&str]) -> Vec<Option<String>> {
        pick(&names(list)).unwrap().names
    }

    fn some(list: &[&str]) -> Vec<Option<String>> {
        list.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn unnamed_channels_come_before_layers() {
        assert_eq!(
            picked(&["A", "B", "G", "R", "left.B", "left.G", "left.R"]),
            some(&["R", "G", "B", "A"])
        );
    }

    #[test]
    fn without_unnamed_color_the_first_layer_with_color_is_taken() {
        assert_eq!(
            picked(&[
                "A",
                "Z",
                "a.b.Z",
                "diffuse.B",
                "diffuse.G",
                "diffuse.R",
                "spec.R"
            ]),
            some(&["diffuse.R", "diffuse.G", "diffuse.B"])
        );
    }

    #[test]
    fn missing_rgb_channels_are_zero_and_lone_y_or_g_is_gray() {
        assert_eq!(
            picked(&["G", "R"]),
            vec![Some("R".into()), Some("G".into()), None]
        );
        assert_eq!(picked(&["A", "Y"]), some(&["Y", "A"]));
        assert_eq!(picked(&["G"]), some(&["G"]));
        assert_eq!(picked(&["G", "Y"]), some(&["Y"]));
    }

    #[test]
    fn chroma_takes_luminance_chroma_and_alpha_before_rgb() {
        let yca = pick(&names(&["A", "B", "BY", "G", "R", "RY", "Y"])).unwrap();
        assert!(yca.luma_chroma);
        assert_eq!(yca.names, some(&["Y", "RY", "BY", "A"]));
        let layer = pick(&names(&["left.RY", "left.Y"])).unwrap();
        assert_eq!(layer.names, some(&["left.Y", "left.RY", "left.BY"]));
    }

    #[test]
    fn colorless_parts_are_refused_naming_what_is_there() {
        let none = pick(&names(&["A", "Z"])).unwrap_err();
        assert!(none.ends_with("it has A, Z"), "{none}");
    }

    #[test]
    fn interleaving_fills_a_missing_channel_with_zero() {
        let out = interleave(vec![Some(vec![1, 2]), None, Some(vec![5, 6])], 2);
        assert_eq!(out, [1, 0, 5, 2, 0, 6]);
    }
}
