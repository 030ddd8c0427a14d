//! TIFF written a strip at a time: uncompressed strips of about 1 MB (the
//! `tiff` crate's own choice), each written as soon as its rows have come,
//! with the ICC profile in its tag. A whole image is written the same way,
//! so both give the same bytes. Gray, RGB and RGBA are written as such;
//! any other number of bands, or bands RGB cannot be (signed integers), as
//! one chunky page of gray with the other bands as extra samples, as
//! tifffile and GDAL write multi-band stacks.

use std::io::{self, Cursor, Seek, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use image::ImageFormat;
use tiff::TiffError;
use tiff::encoder::{TiffEncoder, colortype};
use tiff::tags::{ExtraSamples, Tag};

use crate::raster::rows::{RowSink, RowsInfo, WriteSeek};
use crate::raster::{EncodeOptions, RasterError, formats, guard};
use crate::tensor::{SampleType, Tensor};

/// Rows pass to the writer's thread in batches of about this many bytes.
const BATCH: usize = 256 << 10;

/// Batches that may wait for the writer's thread.
const QUEUED: usize = 4;

/// Writes a tensor TIFF holds as a TIFF, with its ICC profile.
pub(in crate::raster) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    let info = RowsInfo::of(tensor, None);
    let mut out = Cursor::new(Vec::new());
    let mut rows = tensor
        .as_le_bytes()
        .chunks(info.row_len().max(1) * 64)
        .map(<[u8]>::to_vec);
    write(&mut out, &info, icc, &mut || rows.next())?;
    Ok(out.into_inner())
}

/// A TIFF encoder taking the rows of an image like `info` (which TIFF
/// holds) into `out`, with `info`'s ICC profile. The `tiff` crate's strip
/// encoder borrows the file encoder, so it cannot wait between two rows
/// given here: [`write`] runs on a thread of its own, pulling the rows as
/// they come.
pub(in crate::raster) fn sink(
    out: Box<dyn WriteSeek>,
    info: &RowsInfo,
    _: EncodeOptions,
) -> Result<Box<dyn RowSink>, RasterError> {
    crate::raster::check_holds(ImageFormat::Tiff, info)?;
    let (send, rows) = mpsc::sync_channel(QUEUED);
    let writing = info.clone();
    let writer = thread::spawn(move || write_pulled(out, &writing, &rows));
    Ok(Box::new(TiffSink {
        send: Some(send),
        writer: Some(writer),
        batch: Vec::new(),
    }))
}

/// [`write`] fed from `rows`, its panics turned into errors, then flushed.
fn write_pulled(
    mut out: Box<dyn WriteSeek>,
    info: &RowsInfo,
    rows: &Receiver<Vec<u8>>,
) -> Result<(), RasterError> {
    let name = formats::row(ImageFormat::Tiff).name;
    guard::guarded(name, || {
        write(&mut out, info, info.icc.as_deref(), &mut || {
            rows.recv().ok()
        })
    })?;
    out.flush().map_err(|e| RasterError::Tiff {
        why: format!("cannot encode: {e}"),
    })
}

/// The rows given, in batches, to the writer's thread.
struct TiffSink {
    send: Option<SyncSender<Vec<u8>>>,
    writer: Option<JoinHandle<Result<(), RasterError>>>,
    batch: Vec<u8>,
}

impl TiffSink {
    /// Passes the rows gathered on; if the writer has stopped, its error.
    fn pass(&mut self) -> io::Result<()> {
        let batch = std::mem::take(&mut self.batch);
        let sent = self.send.as_ref().map(|send| send.send(batch).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        self.join()?;
        Err(io::Error::other("the TIFF writer stopped"))
    }

    /// Waits for the writer's thread, once the rows have been passed on.
    fn join(&mut self) -> io::Result<()> {
        self.send = None;
        match self.writer.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(io::Error::other(e)),
            Some(Err(_)) => Err(io::Error::other("the TIFF writer panicked")),
        }
    }
}

impl RowSink for TiffSink {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        self.batch.extend_from_slice(row);
        if self.batch.len() >= BATCH {
            self.pass()?;
        }
        Ok(())
    }

    fn write_rows(&mut self, rows: Vec<u8>, _: usize) -> io::Result<()> {
        if self.batch.is_empty() {
            self.batch = rows;
            return self.pass();
        }
        self.write_row(&rows)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.pass()?;
        }
        self.join()
    }
}

impl Drop for TiffSink {
    /// A sink dropped unfinished stops the writer before its file goes.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Writes an image like `info` (which TIFF holds) to `out`, pulling its
/// rows from `next`: little-endian samples, any whole number of rows a call,
/// `None` once there are none. Fails if they end before the image does.
fn write<W: Write + Seek>(
    out: W,
    info: &RowsInfo,
    icc: Option<&[u8]>,
    next: &mut dyn FnMut() -> Option<Vec<u8>>,
) -> Result<(), RasterError> {
    let fail = |e: TiffError| RasterError::Tiff {
        why: format!("cannot encode: {e}"),
    };
    let mut encoder = TiffEncoder::new(out).map_err(fail)?;
    let (w, h) = (info.width as u32, info.height as u32);
    let extra = extra_samples(info.channels);
    macro_rules! strips {
        ($color:ty, $t:ty) => {{
            let image = encoder.new_image::<$color>(w, h).map_err(fail)?;
            strips!(@write image, $t)
        }};
        ($color:ty, $t:ty, bands) => {{
            let mut image = encoder.new_image::<$color>(w, h).map_err(fail)?;
            if !extra.is_empty() {
                image.extra_samples(&extra).map_err(fail)?;
                let rows = 1_000_000u64.div_ceil(info.row_len() as u64);
                image.rows_per_strip(rows as u32).map_err(fail)?;
            }
            strips!(@write image, $t)
        }};
        (@write $image:ident, $t:ty) => {{
            let mut image = $image;
            if let Some(profile) = icc {
                image
                    .encoder()
                    .write_tag(Tag::IccProfile, profile)
                    .map_err(fail)?;
            }
            let size = std::mem::size_of::<$t>();
            // The rows come in batches; `pending` holds them from `start`
            // until a strip is whole, and is written from in place where
            // its samples are already the host's.
            let (mut pending, mut start): (Vec<u8>, usize) = (Vec::new(), 0);
            let mut strip: Vec<$t> = Vec::new();
            loop {
                let want = image.next_strip_sample_count() as usize * size;
                if want == 0 {
                    break;
                }
                while pending.len() - start < want {
                    let Some(rows) = next() else {
                        return Err(RasterError::Tiff {
                            why: "cannot encode: the image's rows ended early".into(),
                        });
                    };
                    if start == pending.len() {
                        (pending, start) = (rows, 0);
                    } else {
                        pending.drain(..start);
                        start = 0;
                        pending.extend_from_slice(&rows);
                    }
                }
                let bytes = &pending[start..start + want];
                start += want;
                match bytemuck::try_cast_slice::<u8, $t>(bytes) {
                    Ok(samples) if cfg!(target_endian = "little") => {
                        image.write_strip(samples).map_err(fail)?
                    }
                    _ => {
                        strip.clear();
                        strip.extend(bytes.chunks_exact(size).map(|b| {
                            <$t>::from_le_bytes(b.try_into().expect("one sample"))
                        }));
                        image.write_strip(&strip).map_err(fail)?;
                    }
                }
            }
            image.finish().map_err(fail)?;
        }};
    }
    use SampleType as S;
    match (info.sample, info.channels) {
        (S::U8, 3) => strips!(colortype::RGB8, u8),
        (S::U16, 3) => strips!(colortype::RGB16, u16),
        (S::U32, 3) => strips!(colortype::RGB32, u32),
        (S::U64, 3) => strips!(colortype::RGB64, u64),
        (S::F32, 3) => strips!(colortype::RGB32Float, f32),
        (S::F64, 3) => strips!(colortype::RGB64Float, f64),
        (S::U8, 4) => strips!(colortype::RGBA8, u8),
        (S::U16, 4) => strips!(colortype::RGBA16, u16),
        (S::U32, 4) => strips!(colortype::RGBA32, u32),
        (S::U64, 4) => strips!(colortype::RGBA64, u64),
        (S::F32, 4) => strips!(colortype::RGBA32Float, f32),
        (S::F64, 4) => strips!(colortype::RGBA64Float, f64),
        (S::U8, _) => strips!(colortype::Gray8, u8, bands),
        (S::U16, _) => strips!(colortype::Gray16, u16, bands),
        (S::U32, _) => strips!(colortype::Gray32, u32, bands),
        (S::U64, _) => strips!(colortype::Gray64, u64, bands),
        (S::I8, _) => strips!(colortype::GrayI8, i8, bands),
        (S::I16, _) => strips!(colortype::GrayI16, i16, bands),
        (S::I32, _) => strips!(colortype::GrayI32, i32, bands),
        (S::I64, _) => strips!(colortype::GrayI64, i64, bands),
        (S::F32, _) => strips!(colortype::Gray32Float, f32, bands),
        (S::F64, _) => strips!(colortype::Gray64Float, f64, bands),
        _ => {
            return Err(RasterError::CannotHold {
                format: "TIFF",
                found: format!("{} {}-channel", info.sample.name(), info.channels),
                holds: formats::row(ImageFormat::Tiff).holds.text,
            });
        }
    }
    Ok(())
}

/// The samples past the first of a gray image of `channels` bands: an
/// alpha for two (gray+alpha, as Pillow writes it), else unspecified (the
/// bands of a stack, as tifffile and GDAL write them).
fn extra_samples(channels: usize) -> Vec<ExtraSamples> {
    let kind = match channels {
        2 => ExtraSamples::UnassociatedAlpha,
        _ => ExtraSamples::Unspecified,
    };
    vec![kind; channels.saturating_sub(1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strips written as rows come equal the `tiff` crate's own
    /// whole-image writer, whatever rows a call brings.
    #[test]
    fn strips_from_rows_equal_the_whole_image_writer() {
        let (w, h) = (700u32, 1300u32);
        let samples: Vec<u16> = (0..w * h * 3)
            .map(|i| (u64::from(i) * 7919 % 65536) as u16)
            .collect();
        let mut whole = Cursor::new(Vec::new());
        TiffEncoder::new(&mut whole)
            .unwrap()
            .write_image::<colortype::RGB16>(w, h, &samples)
            .unwrap();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let info = RowsInfo {
            width: w as usize,
            height: h as usize,
            channels: 3,
            sample: SampleType::U16,
            icc: None,
        };
        let line = info.row_len();
        for rows_a_call in [1, 7, 1300] {
            let mut chunks = bytes.chunks(line * rows_a_call).map(<[u8]>::to_vec);
            let mut out = Cursor::new(Vec::new());
            write(&mut out, &info, None, &mut || chunks.next()).unwrap();
            assert!(
                out.get_ref() == whole.get_ref(),
                "{rows_a_call} rows a call"
            );
        }
        let mut short = bytes.chunks(line * 100).take(3).map(<[u8]>::to_vec);
        let err = write(Cursor::new(Vec::new()), &info, None, &mut || short.next()).unwrap_err();
        assert!(err.to_string().contains("rows ended early"), "{err}");
    }

    /// The rows given to the sink make the file the whole encoder makes,
    /// ICC profile and all, of every number of bands.
    #[test]
    fn the_row_sink_writes_what_the_whole_encoder_writes() {
        for channels in [4, 13] {
            sink_equals_encode(channels);
        }
    }

    fn sink_equals_encode(channels: usize) {
        let (w, h) = (300usize, 901usize);
        let bytes: Vec<u8> = (0..w * h * channels)
            .map(|i| (i * 31 % 253) as u8)
            .collect();
        let tensor = Tensor::from_le_bytes(h, w, channels, SampleType::U8, bytes).unwrap();
        let icc = vec![3u8; 41];
        let whole = encode(&tensor, Some(&icc), EncodeOptions::default()).unwrap();
        let mut file = tempfile::tempfile().unwrap();
        let info = RowsInfo::of(&tensor, Some(icc));
        let mut rows = sink(
            Box::new(file.try_clone().unwrap()),
            &info,
            EncodeOptions::default(),
        )
        .unwrap();
        for row in tensor.as_le_bytes().chunks_exact(info.row_len()) {
            rows.write_row(row).unwrap();
        }
        rows.finish().unwrap();
        let mut written = Vec::new();
        io::Seek::rewind(&mut file).unwrap();
        io::Read::read_to_end(&mut file, &mut written).unwrap();
        assert!(written == whole);
        let short = sink(
            Box::new(tempfile::tempfile().unwrap()),
            &info,
            EncodeOptions::default(),
        )
        .unwrap();
        let err = short.finish().unwrap_err();
        assert!(err.to_string().contains("rows ended early"), "{err}");
    }

    /// Bands past RGB(A) (or signed ones) are one chunky page of gray with
    /// the rest as extra samples — alpha for a second, unspecified for
    /// more, as Pillow and tifffile write them — in strips of about 1 MB,
    /// and read back as written, of every sample type.
    #[test]
    fn any_number_of_bands_is_one_chunky_gray_page_with_extra_samples() {
        use tiff::decoder::Decoder;
        for (channels, sample) in [
            (2, SampleType::U8),
            (3, SampleType::I16),
            (4, SampleType::I8),
            (5, SampleType::F64),
            (13, SampleType::U16),
            (200, SampleType::I64),
        ] {
            let (w, h) = (257usize, 31usize);
            let len = w * h * channels * sample.itemsize();
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let tensor = Tensor::from_le_bytes(h, w, channels, sample, bytes).unwrap();
            let file = encode(&tensor, None, EncodeOptions::default()).unwrap();
            let back = crate::raster::tiff::decode(&file, u64::MAX).unwrap();
            assert!(back.tensor == tensor, "{channels} {sample:?}");
            let mut tags = Decoder::new(Cursor::new(&file)).unwrap();
            let mut tag = |t: Tag| tags.get_tag_u32_vec(t).unwrap();
            assert_eq!(tag(Tag::PhotometricInterpretation), [1]);
            assert_eq!(tag(Tag::SamplesPerPixel), [channels as u32]);
            let alpha = if channels == 2 { 2 } else { 0 };
            assert_eq!(tag(Tag::ExtraSamples), vec![alpha; channels - 1]);
            let bits = 8 * sample.itemsize() as u32;
            assert_eq!(tag(Tag::BitsPerSample), vec![bits; channels]);
            let row = (w * channels * sample.itemsize()) as u32;
            assert_eq!(tag(Tag::RowsPerStrip), [1_000_000u32.div_ceil(row)]);
        }
    }
}
