//! The first part of a scan-line OpenEXR file whose channels may be
//! subsampled (sampled at every n-th pixel of every m-th row, as the chroma
//! of luminance/chroma images is), read block by block.
//!
//! The `exr` crate's image reader refuses subsampling, but its pieces do
//! not: its header reader, its chunk reader, and its decompressors, which
//! lay out a block's rows as the file does (each row holds the channels
//! sampled on it). Only the size they expect of a block counts every
//! channel at every pixel, so a block goes to them by the size its sampling
//! gives: uncompressed, RLE and ZIP blocks, bytes whatever their channels,
//! as one row of bytes; PIZ, PXR24 and DWA blocks with the bytes a pixel
//! takes on average; B44 blocks, whose decompressor ignores sampling, a
//! channel at a time. That size also decides, as OpenEXR does, whether a
//! block was stored uncompressed (a block the size of its samples is).

use std::io::Cursor;

use ::exr::block::chunk::{Chunk, CompressedBlock};
use ::exr::compression::Compression;
use ::exr::math::Vec2;
use ::exr::meta::attribute::{ChannelDescription, IntegerBounds, SampleType as Stored};
use ::exr::meta::header::Header;
use ::exr::meta::{BlockDescription, MetaData};
use half::f16;

use super::{damaged, refused};
use crate::raster::RasterError;

/// A channel's samples as half, as OpenEXR's RGBA interface converts them,
/// at the channel's own sampling, row after row; `None` for a channel the
/// part lacks.
pub(super) type Plane = Option<Vec<f16>>;

/// The channels of the first part named by `names` (full names).
pub(super) fn read(bytes: &[u8], names: &[&str]) -> Result<Vec<Plane>, RasterError> {
    let mut cursor = Cursor::new(bytes);
    let meta = MetaData::read_from_buffered(&mut cursor, false).map_err(refused)?;
    let header = meta
        .headers
        .first()
        .ok_or_else(|| damaged("the file has no part".into()))?;
    if header.deep || header.blocks != BlockDescription::ScanLines {
        return Err(RasterError::NotAnImage(
            "the OpenEXR image has subsampled channels in tiles or deep data, which OpenEXR \
             does not allow"
                .into(),
        ));
    }
    let list = &header.channels.list;
    for channel in list {
        check_sampling(header, channel)?;
    }
    let found: Vec<Option<usize>> = names
        .iter()
        .map(|n| list.iter().position(|c| c.name.to_string() == *n))
        .collect();
    let mut planes: Vec<Plane> = found
        .iter()
        .map(|i| i.map(|i| vec![f16::ZERO; samples(header, &list[i]).area()]))
        .collect();
    let tables: u64 = meta.headers.iter().map(|h| h.chunk_count as u64 * 8).sum();
    cursor.set_position(cursor.position() + tables);
    let lines = header.compression.scan_lines_per_block();
    let mut seen = vec![false; header.layer_size.height().div_ceil(lines)];
    for _ in 0..meta.headers.iter().map(|h| h.chunk_count).sum::<usize>() {
        let chunk = Chunk::read(&mut cursor, &meta).map_err(refused)?;
        let CompressedBlock::ScanLine(block) = chunk.compressed_block else {
            continue;
        };
        if chunk.layer_index != 0 {
            continue;
        }
        let top = block_top(header, block.y_coordinate, lines, &mut seen)?;
        let rows = lines.min(header.layer_size.height() - top);
        let data = decompress(header, block.compressed_pixels_le, top, rows)?;
        scatter(header, &data, top, rows, &found, &mut planes)?;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(damaged(format!(
            "the file has no block of pixels for row {} of the data window",
            missing * lines
        )));
    }
    Ok(planes)
}

/// OpenEXR's rule: a channel's sampling divides the data window's origin and
/// size.
fn check_sampling(header: &Header, channel: &ChannelDescription) -> Result<(), RasterError> {
    let Vec2(sx, sy) = channel.sampling;
    let Vec2(x, y) = header.own_attributes.layer_position;
    let Vec2(w, h) = header.layer_size;
    let divides = |s: usize, v: i64| s > 0 && v % s as i64 == 0;
    if divides(sx, x.into())
        && divides(sy, y.into())
        && divides(sx, w as i64)
        && divides(sy, h as i64)
    {
        return Ok(());
    }
    Err(damaged(format!(
        "channel {} is sampled every {sx} by {sy} pixels, which does not divide the data \
         window at ({x}, {y}) of {w} by {h} pixels",
        channel.name
    )))
}

/// How many samples of `channel` the data window holds, across and down.
fn samples(header: &Header, channel: &ChannelDescription) -> Vec2<usize> {
    header.layer_size / channel.sampling
}

/// The top row of a block in the data window, checked: on the block grid,
/// inside the window, and not seen before.
fn block_top(
    header: &Header,
    y: i32,
    lines: usize,
    seen: &mut [bool],
) -> Result<usize, RasterError> {
    let top = i64::from(y) - i64::from(header.own_attributes.layer_position.y());
    let index = (top >= 0 && top % lines as i64 == 0)
        .then_some(top as usize / lines)
        .filter(|&i| i < seen.len());
    match index {
        Some(i) if !seen[i] => {
            seen[i] = true;
            Ok(top as usize)
        }
        Some(_) => Err(damaged(format!(
            "the file has two blocks of pixels at row {y}"
        ))),
        None => Err(damaged(format!(
            "a block of pixels starts at row {y}, not a row where a block of the data window \
             starts"
        ))),
    }
}

/// Whether `channel` has samples on row `row` of the data window.
fn on_row(header: &Header, channel: &ChannelDescription, row: usize) -> bool {
    let y = i64::from(header.own_attributes.layer_position.y()) + row as i64;
    y.rem_euclid(channel.sampling.y() as i64) == 0
}

/// A block's samples, little-endian as stored, decompressed.
fn decompress(
    header: &Header,
    data: Vec<u8>,
    top: usize,
    rows: usize,
) -> Result<Vec<u8>, RasterError> {
    let width = header.layer_size.width();
    let size: usize = (top..top + rows)
        .flat_map(|row| {
            header
                .channels
                .list
                .iter()
                .filter(move |c| on_row(header, c, row))
        })
        .map(|c| width / c.sampling.x() * c.sample_type.bytes_per_sample())
        .sum();
    match header.compression {
        Compression::Uncompressed | Compression::RLE | Compression::ZIP1 | Compression::ZIP16 => {
            as_bytes(header, data, size)
        }
        Compression::B44 | Compression::B44A if data.len() < size => {
            b44_by_channel(header, data, top, rows)
        }
        compression => {
            let pixels = width * rows;
            if !size.is_multiple_of(pixels) {
                return Err(RasterError::NotAnImage(format!(
                    "the OpenEXR image's channels are sampled in a way the exr crate cannot \
                     decompress in {compression} ({size} bytes in a block of {pixels} pixels)"
                )));
            }
            let mut sized = header.clone();
            sized.channels.bytes_per_pixel = size / pixels;
            let section = IntegerBounds {
                position: Vec2(0, top as i32),
                size: Vec2(width, rows),
            };
            compression
                .decompress_image_section_from_le(&sized, data, section, false)
                .map_err(refused)
        }
    }
}

/// Uncompressed, RLE and ZIP blocks are bytes whatever their channels: the
/// block goes to the crate as one row of `size` bytes of half samples.
fn as_bytes(header: &Header, data: Vec<u8>, size: usize) -> Result<Vec<u8>, RasterError> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let mut bytes = header.clone();
    bytes.layer_size = Vec2(size / 2, 1);
    bytes.channels.list.truncate(1);
    for channel in bytes.channels.list.iter_mut() {
        channel.sample_type = Stored::F16;
        channel.sampling = Vec2(1, 1);
    }
    bytes.channels.bytes_per_pixel = 2;
    let section = IntegerBounds {
        position: Vec2(0, 0),
        size: bytes.layer_size,
    };
    header
        .compression
        .decompress_image_section_from_le(&bytes, data, section, false)
        .map_err(refused)
}

/// B44 compresses each channel on its own, in blocks of 4 by 4 of its own
/// samples, which the `exr` crate's decompressor counts without the
/// channel's sampling: each channel's run of blocks is found (a block takes
/// 3 bytes when flat, else 14; samples not half are stored as they are) and
/// decompressed as a channel sampled at every pixel, then the rows are laid
/// out as the file lays them out.
fn b44_by_channel(
    header: &Header,
    data: Vec<u8>,
    top: usize,
    rows: usize,
) -> Result<Vec<u8>, RasterError> {
    let mut rest = data.as_slice();
    let mut decoded = Vec::new();
    for channel in &header.channels.list {
        let across = header.layer_size.width() / channel.sampling.x();
        let down = (top..top + rows)
            .filter(|&r| on_row(header, channel, r))
            .count();
        let size = across * down * channel.sample_type.bytes_per_sample();
        let run = match channel.sample_type {
            Stored::F16 => b44_run(rest, across.div_ceil(4) * down.div_ceil(4))?,
            _ => size,
        };
        if run > rest.len() {
            return Err(damaged(format!(
                "a B44 block of pixels ends early, at row {top} of the data window"
            )));
        }
        let (mine, after) = rest.split_at(run);
        rest = after;
        decoded.push(b44_channel(header, channel, mine, across, down)?);
    }
    let mut out = Vec::with_capacity(decoded.iter().map(Vec::len).sum());
    let mut taken = vec![0; decoded.len()];
    for row in top..top + rows {
        for ((channel, samples), at) in header.channels.list.iter().zip(&decoded).zip(&mut taken) {
            if on_row(header, channel, row) {
                let line = header.layer_size.width() / channel.sampling.x()
                    * channel.sample_type.bytes_per_sample();
                out.extend_from_slice(&samples[*at..*at + line]);
                *at += line;
            }
        }
    }
    Ok(out)
}

/// The bytes `blocks` B44 blocks take at the start of `data`.
fn b44_run(data: &[u8], blocks: usize) -> Result<usize, RasterError> {
    let mut at = 0;
    for _ in 0..blocks {
        let flag = data
            .get(at + 2)
            .ok_or_else(|| damaged("a B44 block of pixels ends in the middle of a block".into()))?;
        at += if *flag >= 13 << 2 { 3 } else { 14 };
    }
    Ok(at)
}

/// One channel's samples of a B44 block, `across` by `down`, decompressed by
/// the `exr` crate as a block of a one-channel image.
fn b44_channel(
    header: &Header,
    channel: &ChannelDescription,
    run: &[u8],
    across: usize,
    down: usize,
) -> Result<Vec<u8>, RasterError> {
    if across * down == 0 {
        return Ok(Vec::new());
    }
    let mut alone = header.clone();
    alone.channels.list.retain(|c| c.name == channel.name);
    alone
        .channels
        .list
        .iter_mut()
        .for_each(|c| c.sampling = Vec2(1, 1));
    alone.channels.bytes_per_pixel = channel.sample_type.bytes_per_sample();
    let mut run = run.to_vec();
    if run.len() == across * down * alone.channels.bytes_per_pixel
        && channel.sample_type == Stored::F16
    {
        // The crate takes a run the size of the samples for samples stored
        // as they are; B44 blocks of that size are still B44 (the block as
        // a whole was smaller than its samples), and a byte more is ignored.
        run.push(0);
    }
    let section = IntegerBounds {
        position: Vec2(0, 0),
        size: Vec2(across, down),
    };
    header
        .compression
        .decompress_image_section_from_le(&alone, run, section, false)
        .map_err(refused)
}

/// The samples of a decompressed block into the planes asked for, each at
/// its own sampling, converted to half as OpenEXR converts float and uint
/// samples for a half frame buffer.
fn scatter(
    header: &Header,
    data: &[u8],
    top: usize,
    rows: usize,
    found: &[Option<usize>],
    planes: &mut [Plane],
) -> Result<(), RasterError> {
    let list = &header.channels.list;
    let mut rest = data;
    for row in top..top + rows {
        for (index, channel) in list.iter().enumerate() {
            if !on_row(header, channel, row) {
                continue;
            }
            let across = header.layer_size.width() / channel.sampling.x();
            let size = across * channel.sample_type.bytes_per_sample();
            if size > rest.len() {
                return Err(damaged("a block of pixels decompressed short".into()));
            }
            let (line, after) = rest.split_at(size);
            rest = after;
            let wanted = found.iter().position(|f| *f == Some(index));
            if let Some(Some(plane)) = wanted.map(|w| &mut planes[w]) {
                let start = row / channel.sampling.y() * across;
                let to = &mut plane[start..start + across];
                halves(channel.sample_type, line, to);
            }
        }
    }
    Ok(())
}

/// Samples stored as `stored` into half: OpenEXR's `floatToHalf` and
/// `uintToHalf` (beyond the largest half, infinity).
fn halves(stored: Stored, line: &[u8], to: &mut [f16]) {
    match stored {
        Stored::F16 => {
            for (h, b) in to.iter_mut().zip(line.chunks_exact(2)) {
                *h = f16::from_bits(u16::from_ne_bytes([b[0], b[1]]));
            }
        }
        Stored::F32 => {
            for (h, b) in to.iter_mut().zip(line.chunks_exact(4)) {
                let f = f32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                *h = match f {
                    f if f.is_finite() && f > f16::MAX.to_f32() => f16::INFINITY,
                    f if f.is_finite() && f < f16::MIN.to_f32() => f16::NEG_INFINITY,
                    f => f16::from_f32(f),
                };
            }
        }
        Stored::U32 => {
            for (h, b) in to.iter_mut().zip(line.chunks_exact(4)) {
                let u = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                *h = if u > 65504 {
                    f16::INFINITY
                } else {
                    f16::from_f32(u as f32)
                };
            }
        }
    }
}
