//! Header fields other readers ignore, read as Pillow reads them, in
//! fixtures/oddheaders/ (goldens by fixtures/gen/generate_oddheaders.py):
//! a BMP planes count other than 1, GIF extensions of unknown label, and a
//! 32-bit TGA whose descriptor gives a count of alpha bits other than 8.

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// Each fixture, cropped by nothing, must equal Pillow's decode.
fn reads_as_pillow(names: &[&str], ext: &str) {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        names,
        |name| name,
        |name| {
            let out = dir.path().join(format!("{name}.npy"));
            let input = fixture(&format!("oddheaders/{name}.{ext}"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            same_file(&out, &fixture(&format!("oddheaders/{name}.npy")))
        },
    );
}

#[test]
fn a_bmp_planes_count_other_than_one_is_ignored_as_pillow_ignores_it() {
    reads_as_pillow(&["bmp_planes0", "bmp_planes30000"], "bmp");
}

#[test]
fn a_gif_extension_of_unknown_label_is_skipped_as_pillow_skips_it() {
    reads_as_pillow(&["gif_unknown_ext", "gif_unknown_ext_after_gce"], "gif");
}

#[test]
fn a_32_bit_tga_has_its_fourth_byte_as_alpha_whatever_its_alpha_bits_say() {
    reads_as_pillow(&["tga32_alpha4", "tga32_alpha4_rle"], "tga");
}
