//! PNM files read and written as Pillow reads and writes them.

use super::read::{decode, read_failed, source};
use super::write::{encode, sink};
use crate::raster::EncodeOptions;
use std::io::{self, BufRead};
use std::ops::Range;

use crate::raster::RasterError;
use crate::raster::rows::{RowsInfo, StreamError, Window};
use crate::tensor::{SampleType, Tensor};

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
    let mut source = source(Box::new(input), u64::MAX)?;
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
    let info = source(Box::new(file), u64::MAX).unwrap().info().clone();
    let all = window(0..info.height, 0..info.width);
    (info, read(file, &all).unwrap())
}

fn error(file: &[u8]) -> String {
    let info = match source(Box::new(file), u64::MAX) {
        Ok(source) => source.info().clone(),
        Err(e) => return e.to_string(),
    };
    let all = window(0..info.height, 0..info.width);
    read(file, &all).unwrap_err().to_string()
}

#[test]
fn a_window_reads_every_row_below_it_too() {
    let mut file = b"P6\n5 9\n255\n".to_vec();
    file.extend((0..5 * 9 * 3).map(|i| i as u8));
    let rows = 2..6;
    let input = |limit| FailsAfter {
        data: file.clone(),
        at: 0,
        limit,
    };
    let got = read(input(file.len()), &window(rows.clone(), 1..4)).unwrap();
    let want: Vec<u8> = rows
        .flat_map(|y| (y * 15 + 3..y * 15 + 12).map(|i| i as u8))
        .collect();
    assert_eq!(got, want);
    let err = read(input(file.len() - 1), &window(2..6, 1..4)).unwrap_err();
    assert!(err.to_string().contains("read past byte"), "{err}");
}

#[test]
fn a_plain_window_checks_every_sample_below_it() {
    let file = b"P2 3 4 9\n1 2 3\n4 5 6\n7 8 9\n0 0 0\n".to_vec();
    let got = read(&file[..], &window(1..3, 1..3)).unwrap();
    assert_eq!(got, [142, 170, 227, 255]);
    let err = read(
        &b"P2 3 4 9\n1 2 3\n4 5 6\n7 8 9\n0 0 10\n"[..],
        &window(1..3, 1..3),
    );
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("row 3 holds the sample 10"),
        "a sample below the window is checked"
    );
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
    let info = source(Box::new(&file[..]), u64::MAX)
        .unwrap()
        .info()
        .clone();
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
        encode(&gray, None, EncodeOptions::default()).unwrap(),
        b"P5\n3 2\n255\n\x01\x02\x03\x04\x05\x06"
    );
    let rgb16 = Tensor::from_le_bytes(1, 1, 3, SampleType::U16, vec![1, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(
        encode(&rgb16, None, EncodeOptions::default()).unwrap(),
        b"P6\n1 1\n65535\n\x02\x01\x04\x03\x06\x05"
    );
    let rgba = Tensor::from_le_bytes(1, 1, 4, SampleType::U8, vec![0; 4]).unwrap();
    let err = encode(&rgba, None, EncodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PNM cannot hold 8-bit RGBA; it holds 8- or 16-bit gray or RGB"),
        "{err}"
    );
    // What is written reads back the same, through the streaming source.
    let back = decoded(&encode(&rgb16, None, EncodeOptions::default()).unwrap()).1;
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
        let whole = decode(&file, 1 << 20).unwrap().tensor;
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
    let mut sink = sink(Box::new(&mut out), &info, EncodeOptions::default()).unwrap();
    assert!(sink.write_row(&[1, 2, 3]).is_err());
    sink.write_row(&[1, 2]).unwrap();
    assert!(sink.finish().is_err());
}
