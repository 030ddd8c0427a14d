//! ICO entries as Keras' `load_img` (Pillow) reads them, in
//! fixtures/icoentries/ (goldens by fixtures/gen/generate_icoentries.py): a
//! PNG entry of every color type mapped as a PNG file is, a directory whose
//! size fields disagree with the image trusting the image, and a BMP entry's
//! AND mask where Pillow takes it (none for 32 bits per pixel).

use crate::util::{Rcrop, assert_every, fixture, same_file};

#[test]
fn an_ico_entry_is_read_as_pillow_reads_it() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        // PNG entries of Pillow's modes L, LA, I;16, RGB, RGBA and P.
        "pillow_l",
        "pillow_la",
        "pillow_i16",
        "pillow_rgb",
        "pillow_rgba",
        "pillow_p",
        // Gray and RGB PNG entries other tools wrote.
        "png_l8",
        "png_rgb8",
        // A palette PNG entry whose directory gives 500 bits per pixel.
        "lenient-bpp",
        // A BMP entry of 16 by 16 pixels that the directory calls 16 by 32.
        "hopper_unexpected",
        // A 4-bit BMP entry whose directory gives a length shorter than its
        // pixels: Pillow reads the mask's rows that end where that length does.
        "Bad_smile-incorrect-image-length",
        // 32-bit BMP entries, whose alpha is their fourth byte whatever the
        // mask says, or however much of the mask is there.
        "bmp-32bpp-conflicting-and-mask",
        "truncated_mask_32bpp",
        "bmp_v5_with_icc",
    ];
    assert_every(
        &names,
        |name| name,
        |name| {
            let out = dir.path().join(format!("{name}.npy"));
            let input = fixture(&format!("icoentries/{name}.ico"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            same_file(&out, &fixture(&format!("icoentries/{name}.npy")))
        },
    );
}

#[test]
fn an_ico_entry_crops_as_its_png_would() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let input = fixture("icoentries/pillow_i16.ico");
    rcrop.run_ok(&["--crop", "2,3"], &input, &out);
    let image = image::open(&out).unwrap();
    assert_eq!(image.color(), image::ColorType::L16);
    assert_eq!((image.width(), image.height()), (18, 16));
}
