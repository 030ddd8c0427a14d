//! PNM read a row at a time, as Pillow reads it (see the module above).

use std::io::{self, BufRead};
use std::ops::Range;

use crate::raster::Decoded;
use crate::raster::RasterError;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window, read_whole};
use crate::tensor::SampleType;

/// The format's name in messages.
pub(super) const NAME: &str = "PNM";

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

pub(super) fn read_failed(e: io::Error) -> RasterError {
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
struct PnmHeader {
    kind: Kind,
    plain: bool,
    width: usize,
    height: usize,
    /// 1 for a bitmap.
    maxval: u16,
}

impl PnmHeader {
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
        Ok(PnmHeader {
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
struct PnmSource<R> {
    input: R,
    header: PnmHeader,
    info: RowsInfo,
    scale: Scale,
    /// Rows read (or skipped) so far.
    next_row: usize,
    /// One row as the file holds it (raw files).
    raw: Vec<u8>,
    /// One row of the window, decoded.
    row: Vec<u8>,
}

/// Reads the header of a PNM file; its rows are read when asked for, a
/// few at a time whatever the image limit.
pub(in crate::raster) fn source<'a>(
    input: Box<dyn BufRead + Send + 'a>,
    _limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    Ok(Box::new(PnmSource::new(input)?))
}

/// PNM's magic number, `P1` to `P6`, then whitespace (or the end of the
/// file). The `image` crate takes any `P1`..`P7`; rcrop reads `P1`..`P6`.
pub(in crate::raster) fn is_pnm(prefix: &[u8]) -> bool {
    match prefix {
        [b'P', b'1'..=b'6'] => true,
        [b'P', b'1'..=b'6', next, ..] => WHITESPACE.contains(next),
        _ => false,
    }
}

impl<R: BufRead + Send> PnmSource<R> {
    fn new(mut input: R) -> Result<Self, RasterError> {
        let header = PnmHeader::read(&mut input)?;
        let info = RowsInfo {
            width: header.width,
            height: header.height,
            channels: header.channels(),
            sample: header.sample(),
            icc: None,
        };
        Ok(PnmSource {
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

impl<R: BufRead + Send> RowSource for PnmSource<R> {
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
        // The rows below the window are read and checked too: a file cut
        // below the crop fails it, as it fails a whole decode.
        while self.next_row < self.info.height {
            self.next(0..0)?;
        }
        Ok(())
    }
}

fn check_limit(info: &RowsInfo, limit: u64) -> Result<(), RasterError> {
    let size = info.width as u128 * info.height as u128 * info.pixel_len() as u128;
    RasterError::check_limit(NAME, size, limit)
}

/// The whole image as a tensor, within `limit` bytes, through [`source`]:
/// the same pixels as a crop read a row at a time.
pub(in crate::raster) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let mut source = source(Box::new(bytes), limit)?;
    let info = source.info().clone();
    check_limit(&info, limit)?;
    let size = info.height * info.row_len();
    // A raw bitmap's byte is 8 pixels; nothing grows more from the file.
    let capacity = size.min(bytes.len().saturating_mul(8));
    Ok((read_whole(source.as_mut(), NAME, capacity)?, None).into())
}

/// Height, width, channels and sample type from the header alone.
pub(in crate::raster) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let source = source(Box::new(bytes), limit)?;
    let info = source.info();
    check_limit(info, limit)?;
    Ok((info.height, info.width, info.channels, info.sample))
}
