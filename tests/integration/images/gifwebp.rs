//! GIF and WebP as Keras' `load_img` (Pillow) sees them, in
//! fixtures/gifwebp/ (goldens by fixtures/gen/generate_gifwebp.py): GIF's
//! first frame on the canvas Pillow builds, an animated WebP's first frame
//! as libwebp composes it, and WebP files whose sizes disagree with their
//! data refused.

use crate::util::{Rcrop, assert_every, fixture, listing, same_file};

#[test]
fn a_gif_first_frame_lies_on_the_canvas_pillow_builds_in_every_color_mode() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "issue_1455_undersized",
        "issue_1455_oversized",
        "border_touching_layers",
        "oob",
    ];
    let modes = [
        (None, "rgba"),
        (Some("rgb"), "rgb"),
        (Some("grayscale"), "l"),
    ];
    let cases: Vec<(String, Option<&str>, &str)> = names
        .iter()
        .flat_map(|&name| {
            modes
                .iter()
                .map(move |&(mode, tag)| (format!("{name}_{tag}"), mode, name))
        })
        .collect();
    assert_every(
        &cases,
        |(case, _, _)| case,
        |(case, mode, name)| {
            let out = dir.path().join(format!("{case}.npy"));
            let mut args = vec!["--crop", "0"];
            args.extend(mode.iter().flat_map(|m| ["--color-mode", m]));
            rcrop.succeeds(&args, &fixture(&format!("gifwebp/gif/{name}.gif")), &out)?;
            same_file(&out, &fixture(&format!("gifwebp/gif/{case}.npy")))
        },
    );
}

#[test]
fn an_animated_webp_first_frame_equals_libwebps() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &["rgbrgb", "rgbrgb_thirdpartymetadata", "anim"],
        |name| name,
        |name| {
            let out = dir.path().join(format!("{name}.npy"));
            let input = fixture(&format!("gifwebp/webp/{name}.webp"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            same_file(&out, &fixture(&format!("gifwebp/webp/{name}.npy")))
        },
    );
}

#[test]
fn a_webp_whose_sizes_disagree_with_its_data_is_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "damaged_riff_size",
            "the RIFF header gives a size of 808464432 bytes, and 633 follow it",
        ),
        (
            "damaged_sizes_and_height",
            "the RIFF header gives a size of 808464432 bytes, and 633 follow it",
        ),
        (
            "damaged_frame_chunk",
            "the WebP image is damaged: a chunk at byte 1152 gives a size of",
        ),
    ];
    for (name, needle) in cases {
        let input = fixture(&format!("gifwebp/webp/{name}.webp"));
        for out in ["out.npy", "out.png"] {
            let stderr = rcrop.run_fails(&["--crop", "0"], &input, &dir.path().join(out));
            assert!(stderr.contains(&format!("{name}.webp: ")), "{stderr}");
            assert!(stderr.contains(needle), "{name}: {stderr}");
        }
    }
    assert!(listing(dir.path()).is_empty());
}
