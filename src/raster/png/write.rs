//! PNG written a row at a time, on every core, no larger than libpng
//! writes it.
//!
//! Each row is filtered as libpng filters rows of 8 bits or more: of the five
//! filters, the one whose bytes, read as signed, have the smallest sum of
//! absolute values. The filtered rows are cut into blocks of a fixed number
//! of rows and each block is deflated on the rayon pool, as pigz does: a raw
//! deflate stream primed with the 32 KiB of filtered data before it as its
//! dictionary and ended on a byte boundary (the last block ends the stream),
//! the blocks joined in order under one zlib header and the Adler-32 of all
//! the filtered data. Each block is deflated the smaller of two ways where
//! trying both is cheap (see [`deflate_best`]). Block boundaries depend on
//! the image alone, so the bytes written do not depend on the number of
//! threads. At most two blocks a thread are in flight, so memory stays a few
//! MiB whatever the image size, and the caller's thread keeps decoding while
//! earlier blocks compress.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};

use image::ImageFormat;
use image::error::EncodingError;
use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Status, Strategy};

use crate::raster::rows::{self, RowSink, RowsInfo};
use crate::raster::{EncodeOptions, PngCompression, RasterError, formats};
use crate::tensor::{SampleType, Tensor};

/// The filtered bytes one block holds, about: large enough that the
/// dictionary and the flush at its end cost nothing measurable, small enough
/// that an image of a few MiB still spreads over the cores.
const BLOCK_BYTES: usize = 512 << 10;

/// Deflate's window: the filtered data before a block that primes it.
const WINDOW: usize = 32 << 10;

/// The most bytes one IDAT chunk may hold.
const MAX_CHUNK: usize = i32::MAX as usize;

/// A PNG encoder taking rows top to bottom, at the options' compression.
pub(in crate::raster) fn sink<'a>(
    out: Box<dyn Write + Send + 'a>,
    info: &RowsInfo,
    options: EncodeOptions,
) -> Result<Box<dyn RowSink + 'a>, RasterError> {
    let (bit_depth, swap) = match info.sample {
        SampleType::U8 => (8, false),
        SampleType::U16 => (16, true),
        _ => return Err(cannot_hold(info)),
    };
    let color_type = match info.channels {
        1 => 0,
        2 => 4,
        3 => 2,
        4 => 6,
        _ => return Err(cannot_hold(info)),
    };
    let (Some(width), Some(height)) = (png_size(info.width), png_size(info.height)) else {
        return Err(RasterError::Encode {
            format: "PNG",
            source: image::ImageError::Encoding(EncodingError::new(
                ImageFormat::Png.into(),
                format!(
                    "a PNG is 1 to {MAX_CHUNK} pixels wide and high; this image is {} by {}",
                    info.width, info.height
                ),
            )),
        });
    };
    let mut head = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([bit_depth, color_type, 0, 0, 0]);
    push_chunk(&mut head, b"IHDR", &ihdr);
    if let Some(profile) = &info.icc {
        push_chunk(&mut head, b"iCCP", &iccp(profile)?);
    }
    let layout = PngLayout {
        row_len: info.row_len(),
        bpp: info.pixel_len(),
        swap,
    };
    let filtered_row = layout.row_len + 1;
    let rows_per_block = (BLOCK_BYTES / filtered_row).max(1);
    Ok(Box::new(PngSink {
        out,
        head: Some(head),
        layout,
        effort: Effort::of(options.png_compression),
        rows_per_block,
        lead_max: WINDOW.div_ceil(filtered_row) + 1,
        height: info.height,
        rows_in: 0,
        block: Vec::new(),
        lead: 0,
        pending: VecDeque::new(),
        in_flight: 2 * rayon::current_num_threads(),
        adler: 1,
        written: 0,
    }))
}

fn cannot_hold(info: &RowsInfo) -> RasterError {
    let holds = formats::row(ImageFormat::Png).holds.text;
    let layout = match info.channels {
        1 => "gray".to_string(),
        2 => "gray+alpha".into(),
        3 => "RGB".into(),
        4 => "RGBA".into(),
        n => format!("{n} channels"),
    };
    RasterError::CannotHold {
        format: "PNG",
        found: format!("{} {layout}", info.sample.name()),
        holds,
    }
}

/// A width or height as PNG stores it: 1 to 2^31 - 1.
fn png_size(n: usize) -> Option<u32> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n >= 1 && n as usize <= MAX_CHUNK)
}

/// The `iCCP` chunk's data: the profile's name (`_`, as the `png` crate
/// names it), its compression method and the profile, zlib-compressed.
fn iccp(profile: &[u8]) -> Result<Vec<u8>, RasterError> {
    let mut data = vec![0; zlib_rs::compress_bound(profile.len())];
    let (packed, rc) = zlib_rs::compress_slice(&mut data, profile, DeflateConfig::new(6));
    if rc != zlib_rs::ReturnCode::Ok {
        return Err(RasterError::Encode {
            format: "PNG",
            source: image::ImageError::Encoding(EncodingError::new(
                ImageFormat::Png.into(),
                format!("cannot compress the ICC profile ({rc:?})"),
            )),
        });
    }
    let mut chunk = b"_\0\0".to_vec();
    chunk.extend_from_slice(packed);
    Ok(chunk)
}

/// Appends a chunk: its length, type, data and CRC.
fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let crc = zlib_rs::crc32::crc32(zlib_rs::crc32::crc32(0, kind), data);
    out.extend(crc.to_be_bytes());
}

/// Writes a chunk whose data is `parts` joined.
fn write_chunk(out: &mut impl Write, kind: &[u8; 4], parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len)
        .ok()
        .filter(|&n| n as usize <= MAX_CHUNK)
        .ok_or_else(|| io::Error::other("a compressed PNG block passes the chunk limit"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(kind)?;
    let mut crc = zlib_rs::crc32::crc32(0, kind);
    for part in parts {
        out.write_all(part)?;
        crc = zlib_rs::crc32::crc32(crc, part);
    }
    out.write_all(&crc.to_be_bytes())
}

/// The zlib header for `level` with a 32 KiB window, as zlib writes it.
fn zlib_header(level: i32) -> [u8; 2] {
    let flevel = match level {
        ..2 => 0,
        2..6 => 1,
        6 => 2,
        _ => 3,
    };
    let header = (0x78u16 << 8) | (flevel << 6);
    (header + 31 - header % 31).to_be_bytes()
}

/// How a row's bytes lie.
#[derive(Clone, Copy)]
struct PngLayout {
    row_len: usize,
    /// Bytes per pixel, the distance of the Sub filter.
    bpp: usize,
    /// 16-bit samples, which come little-endian and go big-endian.
    swap: bool,
}

struct PngSink<W> {
    out: W,
    /// The signature and the chunks before IDAT, until they are written.
    head: Option<Vec<u8>>,
    layout: PngLayout,
    effort: Effort,
    rows_per_block: usize,
    /// Rows kept before a block: those whose filtered bytes fill the
    /// dictionary, and the one above them that filtering them needs.
    lead_max: usize,
    height: usize,
    rows_in: usize,
    /// The rows of the block being gathered, after `lead` rows of the one
    /// before, big-endian.
    block: Vec<u8>,
    lead: usize,
    pending: VecDeque<Pending>,
    in_flight: usize,
    /// The Adler-32 of the filtered data written so far.
    adler: u32,
    /// Blocks written so far.
    written: usize,
}

impl<W: Write> RowSink for PngSink<W> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        let PngLayout { row_len, swap, .. } = self.layout;
        if row.len() != row_len || self.rows_in == self.height {
            return Err(io::Error::other(format!(
                "the PNG encoder was given row {} of {} bytes; it takes {} rows of {row_len} bytes",
                self.rows_in + 1,
                row.len(),
                self.height
            )));
        }
        if let Some(head) = self.head.take() {
            self.out.write_all(&head)?;
        }
        if self.block.is_empty() {
            self.block
                .reserve_exact((self.lead + self.rows_per_block) * row_len);
        }
        if swap {
            let at = self.block.len();
            self.block.resize(at + row_len, 0);
            for (to, from) in self.block[at..]
                .chunks_exact_mut(2)
                .zip(row.chunks_exact(2))
            {
                to[0] = from[1];
                to[1] = from[0];
            }
        } else {
            self.block.extend_from_slice(row);
        }
        self.rows_in += 1;
        let rows = self.block.len() / row_len - self.lead;
        if rows == self.rows_per_block || self.rows_in == self.height {
            self.dispatch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if self.rows_in != self.height {
            return Err(io::Error::other(format!(
                "the PNG encoder was given {} rows of {}",
                self.rows_in, self.height
            )));
        }
        while !self.pending.is_empty() {
            self.write_front()?;
        }
        write_chunk(&mut self.out, b"IEND", &[])?;
        self.out.flush()
    }
}

impl<W: Write> PngSink<W> {
    /// Hands the gathered block to the pool, and writes what has finished.
    fn dispatch(&mut self) -> io::Result<()> {
        let row_len = self.layout.row_len;
        let rows = self.block.len() / row_len;
        let first_row = self.rows_in - (rows - self.lead);
        let next_lead = self.rows_in.min(self.lead_max);
        let mut next = Vec::new();
        if self.rows_in < self.height {
            next.reserve_exact((next_lead + self.rows_per_block) * row_len);
            next.extend_from_slice(&self.block[(rows - next_lead) * row_len..]);
        }
        let job = Block {
            rows: std::mem::replace(&mut self.block, next),
            layout: self.layout,
            lead: self.lead,
            // Once the dictionary's rows are all below the image's first,
            // the row above them comes too.
            above: first_row >= self.lead_max,
            last: self.rows_in == self.height,
            effort: self.effort,
        };
        self.lead = next_lead;
        let slot = Arc::new(Mutex::new(Some(job)));
        let (send, receive) = mpsc::sync_channel(1);
        let task = Arc::clone(&slot);
        rayon::spawn(move || run_claimed(&task, &send));
        self.pending.push_back(Pending { slot, receive });
        while let Some(front) = self.pending.front() {
            match front.receive.try_recv() {
                Ok(done) => {
                    self.pending.pop_front();
                    self.write_block(done)?;
                }
                Err(TryRecvError::Empty) if self.pending.len() >= self.in_flight => {
                    self.write_front()?;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.write_front()?,
            }
        }
        Ok(())
    }

    /// Writes the oldest block, compressing it here if no thread of the pool
    /// has taken it yet, else waiting for the thread that has.
    fn write_front(&mut self) -> io::Result<()> {
        let Some(front) = self.pending.pop_front() else {
            return Ok(());
        };
        let done = match claim(&front.slot) {
            Some(job) => job.compress(),
            None => front
                .receive
                .recv()
                .unwrap_or_else(|_| Err(io::Error::other("a PNG compression thread failed"))),
        };
        self.write_block(done)
    }

    fn write_block(&mut self, done: io::Result<Compressed>) -> io::Result<()> {
        let done = done?;
        self.adler = zlib_rs::adler32::adler32_combine(self.adler, done.adler, done.filtered);
        let header = zlib_header(self.effort.level);
        let start: &[u8] = if self.written == 0 { &header } else { &[] };
        let adler = self.adler.to_be_bytes();
        let end: &[u8] = if done.last { &adler } else { &[] };
        self.written += 1;
        write_chunk(&mut self.out, b"IDAT", &[start, &done.bytes, end])
    }
}

/// A block handed to the pool, and where its result comes back.
struct Pending {
    slot: Arc<Mutex<Option<Block>>>,
    receive: Receiver<io::Result<Compressed>>,
}

/// Takes the block out of its slot, if no one has taken it yet.
fn claim(slot: &Mutex<Option<Block>>) -> Option<Block> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A pool thread's work: compress the block unless the writer took it.
fn run_claimed(slot: &Mutex<Option<Block>>, send: &SyncSender<io::Result<Compressed>>) {
    if let Some(job) = claim(slot) {
        let done = panic::catch_unwind(AssertUnwindSafe(|| job.compress()))
            .unwrap_or_else(|_| Err(io::Error::other("PNG compression failed")));
        // The writer may be gone after an error of its own; nothing waits.
        let _ = send.send(done);
    }
}

/// Rows to filter and deflate: `lead` rows before the block's own, which
/// prime the dictionary, the first of them only the row above the others
/// when `above`.
struct Block {
    rows: Vec<u8>,
    layout: PngLayout,
    lead: usize,
    above: bool,
    last: bool,
    effort: Effort,
}

/// A block deflated: its bytes, and the Adler-32 and length of its filtered
/// data.
struct Compressed {
    bytes: Vec<u8>,
    adler: u32,
    filtered: u64,
    last: bool,
}

impl Block {
    fn compress(self) -> io::Result<Compressed> {
        let PngLayout { row_len, bpp, .. } = self.layout;
        let skip = usize::from(self.above);
        let count = self.rows.len() / row_len;
        let mut filtered = vec![0; (count - skip) * (row_len + 1)];
        let zeros = vec![0; if self.above { 0 } else { row_len }];
        let mut filter = Filter::new(row_len);
        for (i, out) in (skip..count).zip(filtered.chunks_exact_mut(row_len + 1)) {
            let row = &self.rows[i * row_len..][..row_len];
            let above = match i {
                0 => &zeros[..],
                _ => &self.rows[(i - 1) * row_len..][..row_len],
            };
            filter.apply(row, above, bpp, out);
        }
        let (dictionary, data) = filtered.split_at((self.lead - skip) * (row_len + 1));
        let dictionary = &dictionary[dictionary.len().saturating_sub(WINDOW)..];
        let bytes = deflate_best(self.effort, dictionary, data, self.last)?;
        Ok(Compressed {
            bytes,
            adler: zlib_rs::adler32::adler32(1, data),
            filtered: data.len() as u64,
            last: self.last,
        })
    }
}

/// How hard a block is deflated.
#[derive(Clone, Copy)]
struct Effort {
    /// The zlib level of the matcher.
    level: i32,
    /// Whether a noisy block has the matcher tried on its first bytes.
    probe: bool,
}

impl Effort {
    fn of(compression: PngCompression) -> Self {
        match compression {
            PngCompression::Fast => Effort {
                level: 2,
                probe: false,
            },
            PngCompression::Default => Effort {
                level: 6,
                probe: true,
            },
            PngCompression::Best => Effort {
                level: 9,
                probe: true,
            },
        }
    }

    fn config(self, strategy: Strategy) -> DeflateConfig {
        DeflateConfig {
            level: self.level,
            // A raw stream: the blocks are joined under one zlib header.
            window_bits: -15,
            // Twice zlib's default buffer of symbols: fewer deflate blocks,
            // each with its own code tables, as ImageMagick sets it.
            mem_level: 9,
            strategy,
            ..DeflateConfig::default()
        }
    }
}

/// The filtered bytes of a noisy block on which the matcher is tried.
const SAMPLE: usize = 16 << 10;

/// A block deflated the smaller of two ways, when trying both is cheap:
/// with runs of one byte alone (zlib's `Z_RLE`), or with zlib's matcher.
/// Runs cost little to find. Matches cost little on a block that compresses
/// well, as drawings do; on noisy rows, as a photograph's, they are rare,
/// searching for them takes most of the time, and runs do as well or better.
/// So a block that runs shrink below a quarter has both tried; another only
/// if the matcher does better than runs on its first bytes.
fn deflate_best(effort: Effort, dictionary: &[u8], data: &[u8], last: bool) -> io::Result<Vec<u8>> {
    let (matches, runs) = (
        effort.config(Strategy::Default),
        effort.config(Strategy::Rle),
    );
    let mut best = Vec::new();
    deflate(runs, dictionary, data, last, &mut best)?;
    let try_matches = best.len() * 4 < data.len()
        || effort.probe && {
            let sample = &data[..data.len().min(SAMPLE)];
            let mut out = Vec::new();
            deflate(matches, dictionary, sample, false, &mut out)?;
            let with_matches = out.len();
            deflate(runs, dictionary, sample, false, &mut out)?;
            with_matches < out.len()
        };
    if try_matches {
        let mut other = Vec::new();
        deflate(matches, dictionary, data, last, &mut other)?;
        if other.len() < best.len() {
            best = other;
        }
    }
    Ok(best)
}

thread_local! {
    /// The deflate states this thread has used, kept between blocks: making
    /// one allocates and clears some 300 KiB.
    static STREAMS: RefCell<Vec<(DeflateConfig, Deflate)>> = const { RefCell::new(Vec::new()) };
}

/// A deflate state for `config`, ready for a new stream.
fn take_stream(config: DeflateConfig) -> Deflate {
    let kept = STREAMS.with_borrow_mut(|kept| {
        let at = kept.iter().position(|(c, _)| *c == config)?;
        Some(kept.swap_remove(at).1)
    });
    match kept {
        Some(mut stream) => {
            stream.reset();
            stream
        }
        None => Deflate::new_with_config(config),
    }
}

fn keep_stream(config: DeflateConfig, stream: Deflate) {
    STREAMS.with_borrow_mut(|kept| kept.push((config, stream)));
}

/// `data` as a raw deflate stream primed with `dictionary`, ended on a byte
/// boundary or, when `last`, ending the stream, into `out`.
fn deflate(
    config: DeflateConfig,
    dictionary: &[u8],
    data: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let fail = |e: zlib_rs::DeflateError| io::Error::other(format!("deflate: {}", e.as_str()));
    let mut stream = take_stream(config);
    if !dictionary.is_empty() {
        stream.set_dictionary(dictionary).map_err(fail)?;
    }
    let flush = if last {
        DeflateFlush::Finish
    } else {
        DeflateFlush::SyncFlush
    };
    out.clear();
    out.resize(zlib_rs::compress_bound(data.len()) + 16, 0);
    loop {
        let (read, wrote) = (stream.total_in() as usize, stream.total_out() as usize);
        if wrote == out.len() {
            out.resize(out.len() * 2, 0);
        }
        let status = stream
            .compress(&data[read..], &mut out[wrote..], flush)
            .map_err(fail)?;
        let done = match status {
            Status::StreamEnd => true,
            _ if last => false,
            // A sync flush is complete once it leaves output space unused.
            _ => {
                stream.total_in() as usize == data.len()
                    && (stream.total_out() as usize) < out.len()
            }
        };
        if done {
            out.truncate(stream.total_out() as usize);
            keep_stream(config, stream);
            return Ok(());
        }
    }
}

/// libpng's choice of filter for a row of 8 bits or more: the one whose
/// filtered bytes, read as signed, have the least sum of absolute values,
/// the lower filter type on a tie.
struct Filter {
    /// Sub, Up, Average and Paeth's output for the row.
    tries: [Vec<u8>; 4],
}

impl Filter {
    fn new(row_len: usize) -> Self {
        Self {
            tries: std::array::from_fn(|_| vec![0; row_len]),
        }
    }

    /// Writes the filter type and the filtered `row` into `out`.
    fn apply(&mut self, row: &[u8], above: &[u8], bpp: usize, out: &mut [u8]) {
        let [sub, up, avg, paeth] = &mut self.tries;
        let n = row.len();
        let head = bpp.min(n);
        for i in 0..head {
            let (x, b) = (row[i], above[i]);
            sub[i] = x;
            up[i] = x.wrapping_sub(b);
            avg[i] = x.wrapping_sub(b >> 1);
            paeth[i] = x.wrapping_sub(b);
        }
        let pixels = row[head..]
            .iter()
            .zip(&row[..n - head])
            .zip(above[head..].iter().zip(&above[..n - head]));
        let outs = sub[head..]
            .iter_mut()
            .zip(&mut up[head..])
            .zip(avg[head..].iter_mut().zip(&mut paeth[head..]));
        for (((&x, &a), (&b, &c)), ((s, u), (v, p))) in pixels.zip(outs) {
            *s = x.wrapping_sub(a);
            *u = x.wrapping_sub(b);
            *v = x.wrapping_sub(((u16::from(a) + u16::from(b)) >> 1) as u8);
            *p = x.wrapping_sub(paeth_predictor(a, b, c));
        }
        let sums = [
            sum_abs(row),
            sum_abs(sub),
            sum_abs(up),
            sum_abs(avg),
            sum_abs(paeth),
        ];
        let best = (0..5).min_by_key(|&k| (sums[k], k)).unwrap_or(0);
        out[0] = best as u8;
        out[1..].copy_from_slice(match best {
            0 => row,
            k => &self.tries[k - 1],
        });
    }
}

/// The Paeth predictor of the PNG specification: of the left, upper and
/// upper-left bytes, the one nearest `left + up - upper_left`.
#[inline(always)]
fn paeth_predictor(a: u8, b: u8, c: u8) -> u8 {
    let (a16, b16, c16) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (b16 - c16).abs();
    let pb = (a16 - c16).abs();
    let pc = (a16 + b16 - 2 * c16).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// The sum of the bytes' absolute values, read as signed.
fn sum_abs(bytes: &[u8]) -> u64 {
    // Sums of at most 2^16 bytes of at most 128 each fit a u32, which
    // vectorizes better than a u64.
    bytes
        .chunks(1 << 16)
        .map(|chunk| {
            chunk
                .iter()
                .map(|&v| u32::from((v as i8).unsigned_abs()))
                .sum::<u32>()
        })
        .map(u64::from)
        .sum()
}

/// A whole image through the row encoder, so that a whole image and one
/// streamed a row at a time give the same bytes.
pub(in crate::raster) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    options: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    let info = RowsInfo::of(tensor, icc.map(<[u8]>::to_vec));
    let mut out = Vec::new();
    let rows = sink(Box::new(&mut out), &info, options)?;
    rows::write_tensor(rows, tensor).map_err(|e| RasterError::Encode {
        format: "PNG",
        source: image::ImageError::IoError(e),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// Options asking for `compression`.
    fn effort(compression: PngCompression) -> EncodeOptions {
        EncodeOptions {
            png_compression: compression,
            ..EncodeOptions::default()
        }
    }

    /// A small seeded generator (xorshift64*), for pixels and sizes.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn info(width: usize, height: usize, channels: usize, sample: SampleType) -> RowsInfo {
        RowsInfo {
            width,
            height,
            channels,
            sample,
            icc: None,
        }
    }

    /// Little-endian samples in bands of rows: noise, a gradient, one flat
    /// color, so that every filter and both ways of deflating are used.
    fn pixels(info: &RowsInfo, rng: &mut Rng) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(info.row_len() * info.height);
        for y in 0..info.height {
            for x in 0..info.width * info.channels {
                let sample = match (y / 7) % 3 {
                    0 => rng.next() as u16,
                    1 => (x * 37 + y * 11) as u16,
                    _ => 0x4d7f,
                };
                match info.sample {
                    SampleType::U8 => bytes.push(sample as u8),
                    _ => bytes.extend(sample.to_le_bytes()),
                }
            }
        }
        bytes
    }

    fn encode(info: &RowsInfo, pixels: &[u8], compression: PngCompression) -> Vec<u8> {
        let mut out = Vec::new();
        let mut sink = sink(Box::new(&mut out), info, effort(compression)).unwrap();
        for row in pixels.chunks_exact(info.row_len()) {
            sink.write_row(row).unwrap();
        }
        sink.finish().unwrap();
        out
    }

    /// The image as the `png` crate decodes it: its header, ICC profile and
    /// samples, 16-bit ones turned little-endian again.
    fn decode(png: &[u8]) -> (RowsInfo, Vec<u8>) {
        let mut decoder = ::png::Decoder::new(Cursor::new(png));
        decoder.set_transformations(::png::Transformations::IDENTITY);
        let mut reader = decoder.read_info().unwrap();
        let mut samples = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut samples).unwrap();
        samples.truncate(frame.buffer_size());
        let sample = match frame.bit_depth {
            ::png::BitDepth::Eight => SampleType::U8,
            ::png::BitDepth::Sixteen => {
                for pair in samples.chunks_exact_mut(2) {
                    pair.swap(0, 1);
                }
                SampleType::U16
            }
            other => panic!("bit depth {other:?}"),
        };
        let info = RowsInfo {
            width: frame.width as usize,
            height: frame.height as usize,
            channels: frame.color_type.samples(),
            sample,
            icc: reader.info().icc_profile.as_ref().map(|p| p.to_vec()),
        };
        (info, samples)
    }

    /// The chunks of a PNG, each type with its data, checking each CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], &[u8])> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let mut found = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[at + 4..at + 8].try_into().unwrap();
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(
                crc,
                zlib_rs::crc32::crc32(zlib_rs::crc32::crc32(0, &kind), data)
            );
            found.push((kind, data));
            at += 12 + len;
        }
        found
    }

    #[test]
    fn every_color_type_and_bit_depth_round_trips_through_the_png_decoder() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let profile: Vec<u8> = (0..3000).map(|i| (i * 7 % 251) as u8).collect();
        for sample in [SampleType::U8, SampleType::U16] {
            for channels in 1..=4 {
                let sizes = [
                    (1, 1),
                    (1 + rng.below(40), 1),
                    (1, 1 + rng.below(40)),
                    (1 + rng.below(300), 1 + rng.below(300)),
                ];
                for (k, (width, height)) in sizes.into_iter().enumerate() {
                    let mut info = info(width, height, channels, sample);
                    if k % 2 == 1 {
                        info.icc = Some(profile.clone());
                    }
                    let pixels = pixels(&info, &mut rng);
                    for compression in [PngCompression::Fast, PngCompression::Default] {
                        let png = encode(&info, &pixels, compression);
                        let (back, samples) = decode(&png);
                        assert_eq!(back, info, "{info:?}");
                        assert!(samples == pixels, "{info:?} {compression:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_large_image_round_trips_at_every_effort() {
        let info = info(500, 300, 4, SampleType::U16);
        let pixels = pixels(&info, &mut Rng(7));
        for compression in [
            PngCompression::Fast,
            PngCompression::Default,
            PngCompression::Best,
        ] {
            let png = encode(&info, &pixels, compression);
            let idat = chunks(&png).iter().filter(|(k, _)| k == b"IDAT").count();
            assert!(idat >= 3, "{idat} blocks");
            assert!(decode(&png).1 == pixels, "{compression:?}");
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_number_of_threads() {
        let info = info(700, 500, 3, SampleType::U8);
        let pixels = pixels(&info, &mut Rng(11));
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| encode(&info, &pixels, PngCompression::Default))
        };
        let one = on(1);
        assert!(chunks(&one).iter().filter(|(k, _)| k == b"IDAT").count() >= 3);
        assert!(one == on(4));
        assert!(one == encode(&info, &pixels, PngCompression::Default));
    }

    /// The filter libpng picks for a row, written plainly from the PNG
    /// specification's definitions: the least sum of the filtered bytes
    /// read as signed magnitudes, the lowest type on a tie.
    fn libpng_filter(row: &[u8], above: &[u8], bpp: usize) -> Vec<u8> {
        let predict = |kind: u8, i: usize| -> i32 {
            let a = if i >= bpp { i32::from(row[i - bpp]) } else { 0 };
            let b = i32::from(above[i]);
            let c = if i >= bpp {
                i32::from(above[i - bpp])
            } else {
                0
            };
            match kind {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                _ => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
            }
        };
        let mut best: Option<(u64, Vec<u8>)> = None;
        for kind in 0..5u8 {
            let mut filtered = vec![kind];
            filtered.extend((0..row.len()).map(|i| (i32::from(row[i]) - predict(kind, i)) as u8));
            let sum = filtered[1..]
                .iter()
                .map(|&v| {
                    if v < 128 {
                        u64::from(v)
                    } else {
                        256 - u64::from(v)
                    }
                })
                .sum();
            if best.as_ref().is_none_or(|(least, _)| sum < *least) {
                best = Some((sum, filtered));
            }
        }
        best.unwrap().1
    }

    #[test]
    fn each_row_is_filtered_as_libpng_chooses_and_the_stream_checks_out() {
        let mut rng = Rng(3);
        for (width, height, channels, sample) in [
            (333, 200, 3, SampleType::U8),
            (150, 90, 2, SampleType::U16),
            (6000, 30, 4, SampleType::U8),
            (1, 40, 1, SampleType::U8),
        ] {
            let info = info(width, height, channels, sample);
            let pixels = pixels(&info, &mut rng);
            let png = encode(&info, &pixels, PngCompression::Default);
            let idat: Vec<u8> = chunks(&png)
                .iter()
                .filter(|(k, _)| k == b"IDAT")
                .flat_map(|(_, d)| d.iter().copied())
                .collect();
            assert_eq!(&idat[..2], &[0x78, 0x9c]);
            let row_len = info.row_len();
            let mut filtered = vec![0; height * (row_len + 1)];
            // Inflating checks the zlib header and the Adler-32 at the end.
            let (inflated, rc) =
                zlib_rs::decompress_slice(&mut filtered, &idat, zlib_rs::InflateConfig::default());
            assert_eq!(rc, zlib_rs::ReturnCode::Ok);
            assert_eq!(inflated.len(), height * (row_len + 1));
            let mut big_endian = pixels.clone();
            if sample == SampleType::U16 {
                for pair in big_endian.chunks_exact_mut(2) {
                    pair.swap(0, 1);
                }
            }
            let zeros = vec![0; row_len];
            for (y, got) in filtered.chunks_exact(row_len + 1).enumerate() {
                let row = &big_endian[y * row_len..][..row_len];
                let above = if y == 0 {
                    &zeros[..]
                } else {
                    &big_endian[(y - 1) * row_len..][..row_len]
                };
                assert!(
                    got == libpng_filter(row, above, info.pixel_len()),
                    "{info:?} row {y} filter {}",
                    got[0]
                );
            }
        }
    }

    #[test]
    fn the_icc_profile_is_stored_as_the_png_crate_stores_it() {
        let profile: Vec<u8> = (0..5000).map(|i| (i * i % 253) as u8).collect();
        let mut info = info(3, 2, 3, SampleType::U8);
        info.icc = Some(profile.clone());
        let ours = encode(&info, &[9; 18], PngCompression::Default);
        let mut theirs = Vec::new();
        let mut png_info = ::png::Info::with_size(3, 2);
        png_info.icc_profile = Some(profile.into());
        let mut encoder = ::png::Encoder::with_info(&mut theirs, png_info).unwrap();
        encoder.set_color(::png::ColorType::Rgb);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&[9; 18])
            .unwrap();
        let iccp = |png: &[u8]| -> Vec<u8> {
            chunks(png)
                .into_iter()
                .find(|(k, _)| k == b"iCCP")
                .unwrap()
                .1
                .to_vec()
        };
        assert_eq!(iccp(&ours), iccp(&theirs));
        let kinds: Vec<_> = chunks(&ours).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [*b"IHDR", *b"iCCP", *b"IDAT", *b"IEND"]);
    }

    /// A writer that fails once `room` bytes have been written.
    struct Failing {
        room: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_is_an_error_not_a_panic() {
        let info = info(400, 500, 3, SampleType::U8);
        let pixels = pixels(&info, &mut Rng(5));
        let whole = encode(&info, &pixels, PngCompression::Default).len();
        for room in [0, 7, 40, whole / 2, whole - 1] {
            let mut sink = sink(
                Box::new(Failing { room }),
                &info,
                effort(PngCompression::Default),
            )
            .unwrap();
            let written = pixels
                .chunks_exact(info.row_len())
                .try_for_each(|row| sink.write_row(row));
            let err = written.and_then(|()| sink.finish()).unwrap_err();
            assert_eq!(err.to_string(), "disk full", "room {room}");
        }
    }

    #[test]
    fn a_wrong_row_or_row_count_is_an_error() {
        let info = info(4, 2, 1, SampleType::U8);
        let mut out = Vec::new();
        let mut one_short =
            sink(Box::new(&mut out), &info, effort(PngCompression::Default)).unwrap();
        assert!(one_short.write_row(&[1, 2, 3]).is_err());
        one_short.write_row(&[1, 2, 3, 4]).unwrap();
        assert!(one_short.finish().is_err());
        let mut one_over =
            sink(Box::new(Vec::new()), &info, effort(PngCompression::Default)).unwrap();
        one_over.write_row(&[1; 4]).unwrap();
        one_over.write_row(&[2; 4]).unwrap();
        assert!(one_over.write_row(&[3; 4]).is_err());
    }

    #[test]
    fn what_png_cannot_hold_is_refused_before_writing() {
        let float = info(2, 2, 3, SampleType::F32);
        let err = sink(
            Box::new(Vec::new()),
            &float,
            effort(PngCompression::Default),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "PNG cannot hold float32 RGB; it holds 8- or 16-bit gray, gray+alpha, RGB or RGBA"
        );
        for (width, height) in [(0, 5), (5, 0), (1 << 31, 1)] {
            let err = sink(
                Box::new(Vec::new()),
                &info(width, height, 1, SampleType::U8),
                effort(PngCompression::Default),
            )
            .err()
            .unwrap();
            assert!(err.to_string().contains("1 to 2147483647 pixels"), "{err}");
        }
    }
}
