//! OpenEXR of channel sets other than RGB and RGBA, in fixtures/exr/
//! (goldens by fixtures/gen/generate_exr.py, from the OpenEXR library's
//! read of each channel): a layer, the first part, gray, missing channels,
//! uint32, the data window; and what is refused (luminance/chroma, read
//! as RGB, is in exr_yc.rs).

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// Files whose whole tensor is their golden.
const WHOLE: [&str; 9] = [
    "layer",
    "layer_beside_unnamed",
    "multipart",
    "y",
    "ya",
    "g",
    "rg",
    "rgb_u32",
    "window",
];

#[test]
fn every_channel_set_decodes_as_the_openexr_library_reads_its_channels() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &WHOLE,
        |name| name,
        |name| {
            let out = dir.path().join(format!("{name}.npy"));
            let args = ["--crop", "0", "-f", "channels_last"];
            rcrop.succeeds(&args, &fixture(&format!("exr/{name}.exr")), &out)?;
            same_file(&out, &fixture(&format!("exr/{name}.npy")))
        },
    );
}

/// OpenEXR's own sample images: luminance alone, and a data window the
/// display window does not overlap (the tensor is the data window).
#[test]
fn openexr_sample_images_decode_to_their_data_window() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("GrayRampsHorizontal", "((390, 390), (390, 390))"),
        ("t09", "((140, 140), (190, 190))"),
    ];
    assert_every(
        &cases,
        |(name, _)| name,
        |(name, crop)| {
            let out = dir.path().join(format!("{name}.npy"));
            let args = ["--crop", crop, "-f", "channels_last"];
            rcrop.succeeds(&args, &fixture(&format!("exrpublic/{name}.exr")), &out)?;
            same_file(&out, &fixture(&format!("exr/{name}.npy")))
        },
    );
}

#[test]
fn the_header_gives_the_tensor_a_layer_gray_or_luminance_chroma_file_becomes() {
    let rcrop = Rcrop::new();
    for (name, shape) in [
        ("exr/layer", "(1, 6, 8, 4) -> (1, 4, 6, 4) '<f4'"),
        ("exr/ya", "(1, 6, 8, 2) -> (1, 4, 6, 2) '<f4'"),
        ("exr/rgb_u32", "(1, 6, 8, 3) -> (1, 4, 6, 3) '<u4'"),
        ("exryc/yc_zip", "(1, 34, 38, 3) -> (1, 32, 36, 3) '<f4'"),
        ("exryc/yca_window", "(1, 34, 38, 4) -> (1, 32, 36, 4) '<f4'"),
    ] {
        let text = rcrop.stdout_of(&[
            "--crop",
            "1",
            "-f",
            "channels_last",
            "--dry-run",
            fixture(&format!("{name}.exr")).to_str().unwrap(),
            "out.npy",
        ]);
        assert!(text.contains(shape), "{name}: {text}");
    }
}

#[test]
fn colorless_files_are_refused_saying_why() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no_color.npy");
    let stderr = rcrop.run_fails(&["--crop", "0"], &fixture("exr/no_color.exr"), &out);
    assert!(
        stderr.contains("no_color.exr: ")
            && stderr
                .contains("has no color channel (R, G, B or Y, alone or in a layer); it has Z"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// A header claiming 100000 by 100000 pixels in a file of a few hundred
/// bytes is refused at once, whatever the image limit.
#[test]
fn a_header_claiming_more_chunks_than_the_file_holds_allocates_nothing() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("exr/y.exr")).unwrap();
    for name in [&b"dataWindow\0box2i\0"[..], b"displayWindow\0box2i\0"] {
        let at = bytes.windows(name.len()).position(|w| w == name).unwrap() + name.len() + 4;
        let window: Vec<u8> = [0i32, 0, 99_999, 99_999]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        bytes[at..at + 16].copy_from_slice(&window);
    }
    let input = dir.path().join("bomb.exr");
    std::fs::write(&input, &bytes).unwrap();
    let start = std::time::Instant::now();
    let out = dir.path().join("out.npy");
    let stderr = rcrop.run_fails(
        &["--crop", "1", "--image-limit-mib", "1000000"],
        &input,
        &out,
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        stderr.contains("bomb.exr: the OpenEXR image is damaged: its headers claim 3125 chunks"),
        "{stderr}"
    );
}
