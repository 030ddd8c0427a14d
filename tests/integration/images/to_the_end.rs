//! Inputs read front to back are checked to their end whatever the crop: a
//! PNG damaged below the kept rows (a bad CRC, a bad zlib checksum, a
//! missing `IEND`, a cut) is exit 1 with nothing written, for every crop,
//! from a file and from a pipe, as a whole decode refuses it.

use std::path::Path;

use crate::util::{Rcrop, fixture, gradient_rgb8, save_image};

/// Crops keeping the top rows only, the middle, the bottom rows, and all.
const CROPS: [&str; 4] = ["0,12:0,0", "1,2:3,4", "9,0:1,1", "0"];

/// Outputs written a row at a time and whole.
const OUTPUTS: [&str; 3] = ["npy", "png", "jpg"];

/// A 24 × 16 RGB PNG written by the `image` crate: its chunks before the
/// image data, and its zlib stream.
fn png_parts(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let path = dir.join("one.png");
    save_image(&gradient_rgb8(24, 16), &path);
    let bytes = std::fs::read(&path).unwrap();
    let (mut head, mut data) = (bytes[..8].to_vec(), Vec::new());
    let mut at = 8;
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        match &bytes[at + 4..at + 8] {
            b"IDAT" => data.extend_from_slice(&bytes[at + 8..at + 8 + len]),
            b"IEND" => {}
            _ => head.extend_from_slice(&bytes[at..at + 12 + len]),
        }
        at += 12 + len;
    }
    (head, data)
}

/// The PNG of `head` and `data`, its image data split over three IDAT
/// chunks so that damage can lie in the last alone, with or without IEND.
fn assemble(head: &[u8], data: &[u8], iend: bool) -> Vec<u8> {
    let mut png = head.to_vec();
    let third = data.len() / 3;
    for part in [&data[..third], &data[third..2 * third], &data[2 * third..]] {
        png.extend(super::chunk(b"IDAT", part));
    }
    if iend {
        png.extend(super::chunk(b"IEND", &[]));
    }
    png
}

/// The good PNG, then the PNG damaged in each way a read stopping at the
/// crop's last row would miss.
fn good_and_damaged(dir: &Path) -> (Vec<u8>, Vec<(&'static str, Vec<u8>)>) {
    let (head, data) = png_parts(dir);
    let good = assemble(&head, &data, true);
    let no_iend = assemble(&head, &data, false);
    let mut crc = good.clone();
    crc[no_iend.len() - 1] ^= 1;
    // The zlib checksum (the stream's last 4 bytes) wrong, the CRCs right.
    let mut adler = data.clone();
    *adler.last_mut().unwrap() ^= 1;
    let damaged = vec![
        ("crc.png", crc),
        ("adler.png", assemble(&head, &adler, true)),
        ("no_iend.png", no_iend.clone()),
        ("cut.png", no_iend[..no_iend.len() - 20].to_vec()),
    ];
    (good, damaged)
}

#[test]
fn a_png_damaged_below_the_crop_is_refused_for_every_crop_and_output() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let (good, damaged) = good_and_damaged(dir.path());
    let good_path = dir.path().join("good.png");
    std::fs::write(&good_path, &good).unwrap();
    let mut inputs = vec![(
        "truncated_end_chunk.png".to_string(),
        fixture("pillow/truncated_end_chunk.png"),
    )];
    for (name, bytes) in damaged {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        inputs.push((name.to_string(), path));
    }
    for crop in CROPS {
        for ext in OUTPUTS {
            let out = dir.path().join(format!("out.{ext}"));
            rcrop.run_ok(&["-c", crop], &good_path, &out);
            std::fs::remove_file(&out).unwrap();
            for (name, input) in &inputs {
                let stderr = rcrop.run_fails(&["-c", crop], input, &out);
                assert!(
                    stderr.contains(&format!("{name}: cannot decode the PNG image")),
                    "{crop} {ext}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn a_png_damaged_below_the_crop_is_refused_from_a_pipe() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let (_, damaged) = good_and_damaged(dir.path());
    for (name, bytes) in damaged {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let out = dir.path().join("out.png");
        let piped = rcrop
            .cmd()
            .args(["-c", "0,12:0,0", "-"])
            .arg(&out)
            .pipe_stdin(&input)
            .unwrap()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&piped.stderr);
        assert_eq!(piped.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains("cannot decode the PNG image"),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}");
    }
}

#[test]
fn an_interlaced_png_decoded_whole_is_checked_to_its_end() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("pngsuite/ibasn2c08.png")).unwrap();
    let iend = good.len() - 12;
    let mut crc = good.clone();
    crc[iend - 1] ^= 1;
    for (name, bytes) in [("crc.png", crc), ("no_iend.png", good[..iend].to_vec())] {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let stderr = rcrop.run_fails(&["-c", "0,20:0,0"], &input, &dir.path().join("out.npy"));
        assert!(
            stderr.contains(&format!("{name}: cannot decode the PNG image")),
            "{stderr}"
        );
    }
}
