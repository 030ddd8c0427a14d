//! PNM — PBM, PGM and PPM, plain (`P1`–`P3`) and raw (`P4`–`P6`) — read
//! and written a row at a time. Headers and samples are read as Pillow reads
//! them, so the pixels are those Keras' `load_img` gives: a bitmap becomes
//! 8-bit gray of 0 (black) and 255 (white), a maximum value other than 255
//! or 65535 scales the samples to 0–255 (up to 255) or 0–65535 (above),
//! rounding halves to even as Python does, and a sample above the maximum
//! value is the top of the range in a raw file and refused in a plain one.
//! Above 255, samples are 16-bit (Pillow's PGM reader gives the same values
//! in 32-bit mode `I`; its PPM reader cuts RGB to 8 bits, which rcrop
//! does not). Written files are `P5` or `P6` at 255 or 65535, as Pillow
//! writes them.

use std::io::{self, BufRead, Write};
use std::ops::Range;

use super::RasterError;
use super::rows::{RowFn, RowSink, RowSource, RowsInfo, StreamError, Window};
use crate::tensor::{SampleType, Tensor};

/// The format's name in messages.
pub(super) const NAME: &str = "PNM";
/// What a PNM file written by rcrop holds.
pub(super) const HOLDS: &str = "8- or 16-bit gray or RGB";

/// The bytes Pillow takes for whitespace in a PNM file (Python's).
const WHITESPACE: &[u8] = b" \t\n\x0b\x0c\r";
/// Pillow refuses header fields and plain samples longer than this.
const MAX_TOKEN: usize = 10;

fn damaged(why: impl Into<String>) -> RasterError {
    RasterError::Damaged {
        format: NAME,
        why: why.into(),
    }
}

fn read_failed(e: io::Error) -> RasterError {
    damaged(format!("reading it failed: {e}"))
}

/// Bytes as they appear in a message: text where printable, escapes elsewhere.
fn shown(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// The bytes buffered from `input`, empty at the end of the file.
fn fill(input: &mut dyn BufRead) -> Result<&[u8], RasterError> {
    loop {
        match input.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_failed(e)),
        }
    }
    input.fill_buf().map_err(read_failed)
}

fn next_byte(input: &mut dyn BufRead) -> Result<Option<u8>, RasterError> {
    let Some(&byte) = fill(input)?.first() else {
        return Ok(None);
    };
    input.consume(1);
    Ok(Some(byte))
}

/// The next byte outside comments: a `#` runs to the next CR or LF, which
/// goes with it, and the bytes on either side join (Pillow's reading, in
/// the header and in plain data alike).
fn next_content_byte(input: &mut dyn BufRead) -> Result<Option<u8>, RasterError> {
    loop {
        match next_byte(input)? {
            Some(b'#') => loop {
                if let None | Some(b'\r' | b'\n') = next_byte(input)? {
                    break;
                }
            },
            other => return Ok(other),
        }
    }
}

/// A header field or plain sample of at most [`MAX_TOKEN`] bytes.
struct Token {
    bytes: [u8; MAX_TOKEN + 1],
    len: usize,
}

impl Token {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The token's value as Python's `int()` reads it, which Pillow uses:
    /// decimal digits with an optional sign and single underscores between
    /// digits.
    fn value(&self) -> Option<i64> {
        let bytes = self.as_bytes();
        let (negative, digits) = match bytes.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, bytes),
        };
        if digits.first() == Some(&b'_') || digits.last() == Some(&b'_') {
            return None;
        }
        let mut value: i64 = 0;
        let mut any = false;
        let mut after_underscore = false;
        for &b in digits {
            match b {
                b'0'..=b'9' => {
                    value = value * 10 + i64::from(b - b'0');
                    any = true;
                    after_underscore = false;
                }
                b'_' if !after_underscore => after_underscore = true,
                _ => return None,
            }
        }
        any.then_some(if negative { -value } else { value })
    }
}

/// The next whitespace-separated token, `None` at the end of the file.
/// A token too long for Pillow is an error naming `what` it would be.
fn token(input: &mut dyn BufRead, what: &dyn Fn() -> String) -> Result<Option<Token>, RasterError> {
    let mut token = Token {
        bytes: [0; MAX_TOKEN + 1],
        len: 0,
    };
    while token.len <= MAX_TOKEN {
        match next_content_byte(input)? {
            None => break,
            Some(b) if WHITESPACE.contains(&b) => {
                if token.len > 0 {
                    break;
                }
            }
            Some(b) => {
                token.bytes[token.len] = b;
                token.len += 1;
            }
        }
    }
    if token.len > MAX_TOKEN {
        return Err(damaged(format!(
            "its {} begins {}, longer than the {MAX_TOKEN} bytes Pillow reads",
            what(),
            shown(token.as_bytes())
        )));
    }
    Ok((token.len > 0).then_some(token))
}

/// A number of the header, as Pillow reads it.
fn header_number(input: &mut dyn BufRead, what: &str) -> Result<i64, RasterError> {
    let name = || what.to_string();
    let token = token(input, &name)?
        .ok_or_else(|| damaged(format!("the header ends before its {what}")))?;
    token.value().ok_or_else(|| {
        damaged(format!(
            "its {what} is {}, where a decimal number was expected",
            shown(token.as_bytes())
        ))
    })
}

fn dimension(input: &mut dyn BufRead, what: &str) -> Result<usize, RasterError> {
    let n = header_number(input, what)?;
    match usize::try_from(n) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(damaged(format!("its {what} is {n}; expected at least 1"))),
    }
}

/// The magic number: up to 6 bytes before whitespace, as Pillow reads it.
fn magic(input: &mut dyn BufRead) -> Result<Vec<u8>, RasterError> {
    let mut magic = Vec::new();
    while magic.len() < 6 {
        match next_byte(input)? {
            None => break,
            Some(b) if WHITESPACE.contains(&b) => break,
            Some(b) => magic.push(b),
        }
    }
    Ok(magic)
}

/// What the magic number says the pixels are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bitmap,
    Gray,
    Rgb,
}

/// A PNM header, read up to the single whitespace byte before the pixels.
#[derive(Debug)]
struct Header {
    kind: Kind,
    plain: bool,
    width: usize,
    height: usize,
    /// 1 for a bitmap.
    maxval: u16,
}

impl Header {
    fn read(input: &mut dyn BufRead) -> Result<Self, RasterError> {
        let magic = magic(input)?;
        let (kind, plain) = match magic.as_slice() {
            b"P1" => (Kind::Bitmap, true),
            b"P2" => (Kind::Gray, true),
            b"P3" => (Kind::Rgb, true),
            b"P4" => (Kind::Bitmap, false),
            b"P5" => (Kind::Gray, false),
            b"P6" => (Kind::Rgb, false),
            _ => {
                return Err(damaged(format!(
                    "it begins with {}, where P1 to P6 and whitespace were expected",
                    shown(&magic)
                )));
            }
        };
        let width = dimension(input, "width")?;
        let height = dimension(input, "height")?;
        let maxval = match kind {
            Kind::Bitmap => 1,
            _ => {
                let m = header_number(input, "maximum value")?;
                u16::try_from(m).ok().filter(|&m| m > 0).ok_or_else(|| {
                    damaged(format!("its maximum value is {m}; expected 1 to 65535"))
                })?
            }
        };
        Ok(Header {
            kind,
            plain,
            width,
            height,
            maxval,
        })
    }

    fn channels(&self) -> usize {
        if self.kind == Kind::Rgb { 3 } else { 1 }
    }

    fn sample(&self) -> SampleType {
        if self.maxval > 255 {
            SampleType::U16
        } else {
            SampleType::U8
        }
    }

    /// The bytes of one row in a raw file.
    fn raw_row_len(&self) -> Result<usize, RasterError> {
        let len = match self.kind {
            Kind::Bitmap => Some(self.width.div_ceil(8)),
            _ => self
                .width
                .checked_mul(self.channels())
                .and_then(|n| n.checked_mul(if self.maxval > 255 { 2 } else { 1 })),
        };
        len.ok_or_else(|| damaged(format!("its width of {} is too large", self.width)))
    }
}

/// Samples in the file to samples decoded: Pillow's
/// `round(value / maxval * top)`, with top 255 or 65535.
struct Scale {
    maxval: u16,
    top: u16,
    /// The value of each sample up to `maxval`, unless it is the sample itself.
    table: Option<Vec<u16>>,
}

impl Scale {
    fn new(maxval: u16) -> Self {
        let top = if maxval > 255 { u16::MAX } else { 255 };
        let table = (maxval != top).then(|| {
            let (m, t) = (f64::from(maxval), f64::from(top));
            (0..=maxval)
                .map(|v| (f64::from(v) / m * t).round_ties_even() as u16)
                .collect()
        });
        Scale { maxval, top, table }
    }

    /// A sample of a raw file: above `maxval`, the top of the range.
    fn raw(&self, v: u16) -> u16 {
        match &self.table {
            None => v,
            Some(_) if v > self.maxval => self.top,
            Some(table) => table[usize::from(v)],
        }
    }
}

/// A PNM file being read, from the row after the last one read.
struct Source<R> {
    input: R,
    header: Header,
    info: RowsInfo,
    scale: Scale,
    /// Rows read (or skipped) so far.
    next_row: usize,
    /// One row as the file holds it (raw files).
    raw: Vec<u8>,
    /// One row of the window, decoded.
    row: Vec<u8>,
}

/// Reads the header of a PNM file; its rows are read when asked for.
pub(super) fn source<'a, R: BufRead + Send + 'a>(
    input: R,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    Ok(Box::new(Source::new(input)?))
}

impl<R: BufRead + Send> Source<R> {
    fn new(mut input: R) -> Result<Self, RasterError> {
        let header = Header::read(&mut input)?;
        let info = RowsInfo {
            width: header.width,
            height: header.height,
            channels: header.channels(),
            sample: header.sample(),
            icc: None,
        };
        Ok(Source {
            input,
            scale: Scale::new(header.maxval),
            header,
            info,
            next_row: 0,
            raw: Vec::new(),
            row: Vec::new(),
        })
    }

    fn ended(&self) -> RasterError {
        damaged(format!(
            "the pixel data ends after {} of its {} rows",
            self.next_row, self.header.height
        ))
    }

    /// Reads the next row, keeping the columns `cols` (none when skipping).
    fn next(&mut self, cols: Range<usize>) -> Result<(), RasterError> {
        self.row.clear();
        match (self.header.plain, self.header.kind) {
            (false, _) if cols.is_empty() => {
                let len = self.header.raw_row_len()?;
                if skip(&mut self.input, len)? < len {
                    return Err(self.ended());
                }
            }
            (false, kind) => {
                let len = self.header.raw_row_len()?;
                if !read_up_to(&mut self.input, len, &mut self.raw)? {
                    return Err(self.ended());
                }
                self.decode_raw(kind, cols);
            }
            (true, Kind::Bitmap) => self.plain_bits(cols)?,
            (true, _) => self.plain_samples(cols)?,
        }
        self.next_row += 1;
        Ok(())
    }

    /// The window's columns of the raw row just read.
    fn decode_raw(&mut self, kind: Kind, cols: Range<usize>) {
        let (raw, row, scale) = (&self.raw, &mut self.row, &self.scale);
        let c = self.info.channels;
        match (kind, self.info.sample) {
            (Kind::Bitmap, _) => row.extend(cols.map(|x| bit_pixel(raw[x / 8] << (x % 8)))),
            (_, SampleType::U8) => {
                let samples = &raw[cols.start * c..cols.end * c];
                if scale.table.is_none() {
                    row.extend_from_slice(samples);
                } else {
                    row.extend(samples.iter().map(|&v| scale.raw(u16::from(v)) as u8));
                }
            }
            _ => {
                let samples = &raw[cols.start * c * 2..cols.end * c * 2];
                row.resize(samples.len(), 0);
                let pairs = row.chunks_exact_mut(2).zip(samples.chunks_exact(2));
                if scale.table.is_none() {
                    for (to, from) in pairs {
                        to.copy_from_slice(&[from[1], from[0]]);
                    }
                } else {
                    for (to, from) in pairs {
                        let v = scale.raw(u16::from_be_bytes([from[0], from[1]]));
                        to.copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
    }

    /// A row of a plain bitmap: one `0` (white) or `1` (black) a pixel,
    /// whitespace between them optional.
    fn plain_bits(&mut self, cols: Range<usize>) -> Result<(), RasterError> {
        for x in 0..self.header.width {
            let b = loop {
                match next_content_byte(&mut self.input)? {
                    None => return Err(self.ended()),
                    Some(b) if WHITESPACE.contains(&b) => continue,
                    Some(b) => break b,
                }
            };
            let pixel = match b {
                b'0' => 255,
                b'1' => 0,
                _ => {
                    return Err(damaged(format!(
                        "row {} holds {}, where a P1 pixel, 0 or 1, was expected",
                        self.next_row,
                        shown(&[b])
                    )));
                }
            };
            if cols.contains(&x) {
                self.row.push(pixel);
            }
        }
        Ok(())
    }

    /// A row of plain samples: decimal numbers up to the maximum value.
    fn plain_samples(&mut self, cols: Range<usize>) -> Result<(), RasterError> {
        let c = self.info.channels;
        let maxval = self.header.maxval;
        let row = self.next_row;
        let what = || format!("sample in row {row}");
        for i in 0..self.header.width.saturating_mul(c) {
            let token = token(&mut self.input, &what)?.ok_or_else(|| self.ended())?;
            let v = match token.value() {
                Some(v) if (0..=i64::from(maxval)).contains(&v) => v as u16,
                Some(v) => {
                    return Err(damaged(format!(
                        "row {row} holds the sample {v}, outside 0 to its maximum value {maxval}"
                    )));
                }
                None => {
                    return Err(damaged(format!(
                        "row {row} holds {}, where a decimal sample was expected",
                        shown(token.as_bytes())
                    )));
                }
            };
            if cols.contains(&(i / c)) {
                let v = self.scale.raw(v);
                match self.info.sample {
                    SampleType::U8 => self.row.push(v as u8),
                    _ => self.row.extend_from_slice(&v.to_le_bytes()),
                }
            }
        }
        Ok(())
    }
}

/// A pixel of a raw bitmap from the top bit of `byte`: 1 is black.
fn bit_pixel(byte: u8) -> u8 {
    if byte & 0x80 != 0 { 0 } else { 255 }
}

/// Reads `len` bytes into `out`, which grows only as bytes arrive (a header
/// may claim rows the file does not hold); false if the file ends first.
fn read_up_to(input: &mut dyn BufRead, len: usize, out: &mut Vec<u8>) -> Result<bool, RasterError> {
    if out.len() == len {
        // The size of a row already read: fill it in place.
        return match input.read_exact(out) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(read_failed(e)),
        };
    }
    out.clear();
    while out.len() < len {
        let buf = fill(input)?;
        if buf.is_empty() {
            return Ok(false);
        }
        let n = buf.len().min(len - out.len());
        out.extend_from_slice(&buf[..n]);
        input.consume(n);
    }
    Ok(true)
}

/// Skips up to `len` bytes; returns how many there were.
fn skip(input: &mut dyn BufRead, len: usize) -> Result<usize, RasterError> {
    let mut done = 0;
    while done < len {
        let n = fill(input)?.len().min(len - done);
        if n == 0 {
            break;
        }
        input.consume(n);
        done += n;
    }
    Ok(done)
}

impl<R: BufRead + Send> RowSource for Source<R> {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        let (rows, cols) = (&window.rows, &window.cols);
        if rows.start < self.next_row
            || rows.start > rows.end
            || rows.end > self.info.height
            || cols.start > cols.end
            || cols.end > self.info.width
        {
            return Err(damaged(format!(
                "rows {rows:?} and columns {cols:?} were asked for, past row {} of a {}×{} image",
                self.next_row, self.info.width, self.info.height
            ))
            .into());
        }
        while self.next_row < rows.start {
            self.next(0..0)?;
        }
        for _ in rows.clone() {
            self.next(cols.clone())?;
            row(&self.row)?;
        }
        Ok(())
    }
}

/// A PNM file being written: `P5` for gray, `P6` for RGB.
struct Sink<W> {
    out: W,
    /// The header, until the first row goes out.
    header: Option<Vec<u8>>,
    row_len: usize,
    rows_left: usize,
    wide: bool,
    /// A row of 16-bit samples turned big-endian.
    buf: Vec<u8>,
}

/// A writer of `info`'s rows as a raw PNM file, with Pillow's header
/// (`P6\n<width> <height>\n255\n`); refuses what PNM cannot hold.
pub(super) fn sink<'a, W: Write + 'a>(
    out: W,
    info: &RowsInfo,
) -> Result<Box<dyn RowSink + 'a>, RasterError> {
    let magic = match info.channels {
        1 => "P5",
        3 => "P6",
        _ => "",
    };
    let maxval = match info.sample {
        SampleType::U8 => 255,
        SampleType::U16 => 65535,
        _ => 0,
    };
    if magic.is_empty() || maxval == 0 {
        // An empty tensor only lends its description.
        let found = Tensor::from_le_bytes(0, 0, info.channels, info.sample, Vec::new())
            .map_or_else(|| "these pixels".to_string(), |t| t.describe());
        return Err(RasterError::CannotHold {
            format: NAME,
            found,
            holds: HOLDS,
        });
    }
    let header = format!("{magic}\n{} {}\n{maxval}\n", info.width, info.height);
    Ok(Box::new(Sink {
        out,
        header: Some(header.into_bytes()),
        row_len: info.row_len(),
        rows_left: info.height,
        wide: maxval > 255,
        buf: Vec::new(),
    }))
}

impl<W: Write> Sink<W> {
    fn write_header(&mut self) -> io::Result<()> {
        match self.header.take() {
            Some(header) => self.out.write_all(&header),
            None => Ok(()),
        }
    }
}

impl<W: Write> RowSink for Sink<W> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        if row.len() != self.row_len || self.rows_left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a PNM row of {} bytes after the last row, or not of the {} bytes expected",
                    row.len(),
                    self.row_len
                ),
            ));
        }
        self.write_header()?;
        self.rows_left -= 1;
        if !self.wide {
            return self.out.write_all(row);
        }
        self.buf.resize(row.len(), 0);
        for (to, from) in self.buf.chunks_exact_mut(2).zip(row.chunks_exact(2)) {
            to.copy_from_slice(&[from[1], from[0]]);
        }
        self.out.write_all(&self.buf)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if self.rows_left > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a PNM image finished {} rows short", self.rows_left),
            ));
        }
        self.write_header()?;
        self.out.flush()
    }
}

fn check_limit(info: &RowsInfo, limit: u64) -> Result<(), RasterError> {
    let size = info.width as u128 * info.height as u128 * info.pixel_len() as u128;
    if size > u128::from(limit) {
        return Err(RasterError::Limit {
            format: NAME,
            limit_mib: limit >> 20,
        });
    }
    Ok(())
}

/// The whole image as a tensor, within `limit` bytes, through [`source`]:
/// the same pixels as a crop read a row at a time.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Tensor, RasterError> {
    let mut source = source(bytes)?;
    let info = source.info().clone();
    check_limit(&info, limit)?;
    let size = info.height * info.row_len();
    // A raw bitmap's byte is 8 pixels; nothing grows more from the file.
    let mut data = Vec::with_capacity(size.min(bytes.len().saturating_mul(8)));
    let whole = Window {
        rows: 0..info.height,
        cols: 0..info.width,
    };
    source
        .read_window(&whole, &mut |row| {
            data.extend_from_slice(row);
            Ok(())
        })
        .map_err(|e| match e {
            StreamError::Input(e) => e,
            StreamError::Output(e) => read_failed(e),
        })?;
    Tensor::from_le_bytes(info.height, info.width, info.channels, info.sample, data)
        .ok_or_else(|| damaged("its rows hold fewer samples than its size"))
}

/// Height, width, channels and sample type from the header alone.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let source = source(bytes)?;
    let info = source.info();
    check_limit(info, limit)?;
    Ok((info.height, info.width, info.channels, info.sample))
}

/// The tensor as a raw PNM file, through [`sink`].
pub(super) fn encode(tensor: &Tensor) -> Result<Vec<u8>, RasterError> {
    let info = RowsInfo {
        width: tensor.width(),
        height: tensor.height(),
        channels: tensor.channels(),
        sample: tensor.sample_type(),
        icc: None,
    };
    let mut out = Vec::new();
    let mut sink = sink(&mut out, &info)?;
    let failed = |e: io::Error| damaged(format!("writing it failed: {e}"));
    for row in tensor.as_le_bytes().chunks_exact(info.row_len().max(1)) {
        sink.write_row(row).map_err(failed)?;
    }
    sink.finish().map_err(failed)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that fails any read past its first `limit` bytes.
    struct FailsAfter {
        data: Vec<u8>,
        at: usize,
        limit: usize,
    }

    impl io::Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = io::Read::read(&mut self.fill_buf()?, buf)?;
            self.consume(n);
            Ok(n)
        }
    }

    impl BufRead for FailsAfter {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            if self.at >= self.limit {
                return Err(io::Error::other(format!("read past byte {}", self.limit)));
            }
            Ok(&self.data[self.at..self.limit.min(self.data.len())])
        }

        fn consume(&mut self, n: usize) {
            self.at += n;
        }
    }

    fn window(rows: Range<usize>, cols: Range<usize>) -> Window {
        Window { rows, cols }
    }

    /// The rows of `window` read from `input`, one after another.
    fn read(input: impl BufRead + Send, window: &Window) -> Result<Vec<u8>, RasterError> {
        let mut source = source(input)?;
        let mut out = Vec::new();
        source
            .read_window(window, &mut |row| {
                out.extend_from_slice(row);
                Ok(())
            })
            .map_err(|e| match e {
                StreamError::Input(e) => e,
                StreamError::Output(e) => read_failed(e),
            })?;
        Ok(out)
    }

    fn decoded(file: &[u8]) -> (RowsInfo, Vec<u8>) {
        let info = source(file).unwrap().info().clone();
        let all = window(0..info.height, 0..info.width);
        (info, read(file, &all).unwrap())
    }

    fn error(file: &[u8]) -> String {
        let info = match source(file) {
            Ok(source) => source.info().clone(),
            Err(e) => return e.to_string(),
        };
        let all = window(0..info.height, 0..info.width);
        read(file, &all).unwrap_err().to_string()
    }

    #[test]
    fn a_window_reads_no_further_than_its_last_row() {
        let mut file = b"P6\n5 9\n255\n".to_vec();
        let header = file.len();
        file.extend((0..5 * 9 * 3).map(|i| i as u8));
        let rows = 2..6;
        let end = header + rows.end * 15;
        let input = |limit| FailsAfter {
            data: file.clone(),
            at: 0,
            limit,
        };
        let got = read(input(end), &window(rows.clone(), 1..4)).unwrap();
        let want: Vec<u8> = rows
            .flat_map(|y| (y * 15 + 3..y * 15 + 12).map(|i| i as u8))
            .collect();
        assert_eq!(got, want);
        let err = read(input(end - 1), &window(2..6, 1..4)).unwrap_err();
        assert!(err.to_string().contains("read past byte"), "{err}");
    }

    #[test]
    fn a_plain_window_reads_no_further_than_its_last_row() {
        let file = b"P2 3 4 9\n1 2 3\n4 5 6\n7 8 9\n0 0 0\n".to_vec();
        let end = file.len() - 6;
        let input = FailsAfter {
            data: file.clone(),
            at: 0,
            limit: end,
        };
        let got = read(input, &window(1..3, 1..3)).unwrap();
        assert_eq!(got, [142, 170, 227, 255]);
    }

    #[test]
    fn samples_scale_as_pillow_scales_them() {
        // Pillow's own cases: maxval 4, 257 and 17.
        let (info, got) = decoded(b"P2 3 1 4 0 2 4");
        assert_eq!((info.sample, got), (SampleType::U8, vec![0, 128, 255]));
        let (info, got) = decoded(b"P5 3 1 257 \x00\x00\x00\x80\x01\x01");
        let want: Vec<u8> = [0u16, 32640, 65535]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!((info.sample, got), (SampleType::U16, want));
        let (info, got) = decoded(b"P6 3 1 17 \x00\x01\x02\x08\x09\x0a\x0f\x10\x11");
        assert_eq!(info.channels, 3);
        assert_eq!(got, [0, 15, 30, 120, 135, 150, 225, 240, 255]);
        // Raw samples above the maximum value are its top.
        assert_eq!(decoded(b"P5 2 1 15 \x07\x14").1, [119, 255]);
        // 16-bit samples at 65535 are kept as they are, little-endian.
        assert_eq!(decoded(b"P5 1 1 65535 \x12\x34").1, [0x34, 0x12]);
    }

    #[test]
    fn bitmaps_are_black_0_and_white_255() {
        // 10 pixels: 1 is black; the padding bits are ignored.
        let (info, got) = decoded(b"P4\n10 1\n\xa5\x7f");
        assert_eq!((info.channels, info.sample), (1, SampleType::U8));
        assert_eq!(got, [0, 255, 0, 255, 255, 0, 255, 0, 255, 0]);
        assert_eq!(decoded(b"P1 4 1\n10 0\n1").1, [0, 255, 255, 0]);
    }

    #[test]
    fn comments_and_whitespace_are_read_as_pillow_reads_them() {
        // Pillow's test: comments anywhere in the header, CR ends one.
        let file = b"P6 #comment\n#comment\r12#comment\r8\n128 #comment\n255\n";
        let info = source(&file[..]).unwrap().info().clone();
        assert_eq!((info.width, info.height), (128, 128));
        // Every whitespace byte separates; `int()` takes a sign and underscores.
        let (info, _) = decoded(b"P5\t+1_0\x0b\x0c2\r255\n01234567890123456789");
        assert_eq!((info.width, info.height), (10, 2));
        // In plain data a comment's bytes vanish, joining what is on either side.
        assert_eq!(decoded(b"P2 2 1 255\n1#x\n2 3").1, [12, 3]);
        assert_eq!(decoded(b"P1 3 1 0#c\r1 # 0\n0").1, [255, 0, 255]);
    }

    #[test]
    fn what_pillow_refuses_is_refused_and_named() {
        for (file, says) in [
            (&b"P6"[..], "the header ends before its width"),
            (b"P6\nTEST", "its width is \"TEST\", where a decimal number"),
            (
                b"P6\n 01234567890",
                "begins \"01234567890\", longer than the 10 bytes",
            ),
            (b"P6\n3 1 0", "its maximum value is 0; expected 1 to 65535"),
            (
                b"P6\n3 1 65536",
                "its maximum value is 65536; expected 1 to 65535",
            ),
            (b"P5 0 3 255 ", "its width is 0; expected at least 1"),
            (b"P5 3 -1 255 ", "its height is -1; expected at least 1"),
            (b"P7\n", "begins with \"P7\", where P1 to P6"),
            (b"P5 3 1 4", "the pixel data ends after 0 of its 1 rows"),
            (
                b"P2 1 2 255 255",
                "the pixel data ends after 1 of its 2 rows",
            ),
            (b"P1\n128 128\n1009", "row 0 holds \"9\", where a P1 pixel"),
            (
                b"P3\n128 128\n255\n100A",
                "row 0 holds \"100A\", where a decimal sample",
            ),
            (
                b"P3\n128 128\n255\n-1",
                "the sample -1, outside 0 to its maximum value 255",
            ),
            (
                b"P3\n128 128\n255\n256",
                "the sample 256, outside 0 to its maximum value 255",
            ),
            (
                b"P3\n128 128\n255\n012345678910 0",
                "sample in row 0 begins \"01234567891\"",
            ),
        ] {
            let err = error(file);
            assert!(err.contains(says), "{file:?}: {err}");
        }
    }

    #[test]
    fn a_truncated_file_is_refused_wherever_it_is_cut() {
        let mut file = b"P6\n4 3\n65535\n".to_vec();
        file.extend((0..4 * 3 * 6).map(|i| i as u8));
        // Every cut fails (`error` panics on a file that reads).
        for cut in 0..file.len() {
            assert!(!error(&file[..cut]).is_empty(), "cut at {cut}");
        }
        let err = error(&file[..file.len() - 1]);
        assert!(err.contains("ends after 2 of its 3 rows"), "{err}");
    }

    #[test]
    fn a_huge_claimed_size_fails_at_the_first_missing_row_without_allocating_it() {
        // 100000 × 100000 RGB would be 30 GB; a row alone 300 kB.
        let file = b"P6\n100000 100000\n255\n\x01\x02\x03";
        let err = error(file);
        assert!(err.contains("ends after 0 of its 100000 rows"), "{err}");
        // A row wider than memory fails from what the file holds.
        let file = b"P5\n9999999999 1\n65535\n\x01\x02";
        assert!(error(file).contains("ends after 0 of its 1 rows"));
        // The whole-image path refuses it from the header, under its limit.
        let err = decode(b"P6\n100000 100000\n255\n\x01", 1 << 30).unwrap_err();
        assert!(matches!(err, RasterError::Limit { .. }), "{err}");
    }

    #[test]
    fn written_files_have_pillows_header_and_big_endian_16_bit_samples() {
        let gray = Tensor::from_le_bytes(2, 3, 1, SampleType::U8, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(
            encode(&gray).unwrap(),
            b"P5\n3 2\n255\n\x01\x02\x03\x04\x05\x06"
        );
        let rgb16 =
            Tensor::from_le_bytes(1, 1, 3, SampleType::U16, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(
            encode(&rgb16).unwrap(),
            b"P6\n1 1\n65535\n\x02\x01\x04\x03\x06\x05"
        );
        let rgba = Tensor::from_le_bytes(1, 1, 4, SampleType::U8, vec![0; 4]).unwrap();
        let err = encode(&rgba).unwrap_err().to_string();
        assert!(
            err.contains("PNM cannot hold 8-bit RGBA; it holds 8- or 16-bit gray or RGB"),
            "{err}"
        );
        // What is written reads back the same, through the streaming source.
        let back = decoded(&encode(&rgb16).unwrap()).1;
        assert_eq!(back, rgb16.as_le_bytes());
    }

    /// A file of every kind, its samples from `next`.
    fn file_of(
        magic: u8,
        width: usize,
        height: usize,
        maxval: u32,
        next: &mut dyn FnMut() -> u32,
    ) -> Vec<u8> {
        let channels = if matches!(magic, b'3' | b'6') { 3 } else { 1 };
        let mut out = format!("P{}\n{width} {height}\n", magic as char).into_bytes();
        let bitmap = magic == b'1' || magic == b'4';
        if !bitmap {
            out.extend_from_slice(format!("{maxval}\n").as_bytes());
        }
        for _ in 0..height {
            match magic {
                b'4' => out.extend((0..width.div_ceil(8)).map(|_| next() as u8)),
                b'1' => out.extend((0..width).map(|_| b'0' + (next() % 2) as u8)),
                b'2' | b'3' => {
                    for _ in 0..width * channels {
                        out.extend_from_slice(format!("{} ", next() % (maxval + 1)).as_bytes());
                    }
                }
                _ if maxval > 255 => {
                    out.extend((0..width * channels).flat_map(|_| (next() as u16).to_be_bytes()))
                }
                _ => out.extend((0..width * channels).map(|_| next() as u8)),
            }
        }
        out
    }

    #[test]
    fn a_window_read_a_row_at_a_time_is_the_whole_image_cropped() {
        let mut state = 0x2545_f491_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for round in 0..120 {
            let magic = b"123456"[round % 6];
            let maxval = [1, 15, 255, 256, 1000, 65535][(round / 6) % 6];
            let (width, height) = (1 + next() as usize % 19, 1 + next() as usize % 9);
            let file = file_of(magic, width, height, maxval, &mut next);
            let whole = decode(&file, 1 << 20).unwrap();
            let top = next() as usize % height;
            let bottom = top + 1 + next() as usize % (height - top);
            let left = next() as usize % width;
            let right = left + 1 + next() as usize % (width - left);
            let got = read(&file[..], &window(top..bottom, left..right)).unwrap();
            let pixel = whole.channels() * whole.sample_type().itemsize();
            let want: Vec<u8> = whole
                .as_le_bytes()
                .chunks_exact(width * pixel)
                .skip(top)
                .take(bottom - top)
                .flat_map(|row| &row[left * pixel..right * pixel])
                .copied()
                .collect();
            assert_eq!(
                got, want,
                "P{} {width}x{height} maxval {maxval}",
                magic as char
            );
        }
    }

    #[test]
    fn a_sink_refuses_rows_of_the_wrong_size_or_number() {
        let info = RowsInfo {
            width: 2,
            height: 2,
            channels: 1,
            sample: SampleType::U8,
            icc: None,
        };
        let mut out = Vec::new();
        let mut sink = sink(&mut out, &info).unwrap();
        assert!(sink.write_row(&[1, 2, 3]).is_err());
        sink.write_row(&[1, 2]).unwrap();
        assert!(sink.finish().is_err());
    }
}
