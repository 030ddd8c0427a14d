//! Public files other tools wrote, in fixtures/real/ (goldens by
//! fixtures/gen/generate_real.py): 16-bit BMPs read as Pillow reads them,
//! and TGA written as Pillow writes it, uncompressed.

use crate::util::{Rcrop, assert_every, fixture, load_image, same_file};

#[test]
fn sixteen_bit_bmps_with_an_alpha_mask_read_as_pillow_reads_them() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "V3_A1_R5_G5_B5",
        "V3_A1_R5_G5_B5_Top_Down",
        "V5_A1_R5_G5_B5",
        "rgba16-5551",
        "rgb16-565",
    ];
    assert_every(
        &names,
        |name| name,
        |name| {
            let input = fixture(&format!("real/bmp/{name}.bmp"));
            let expected = fixture(&format!("real/bmp/{name}_expected.npy"));
            let out = dir.path().join(format!("{name}.npy"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            same_file(&out, &expected)?;
            // Whole, from standard input, as well as a row at a time from the file.
            let piped = rcrop
                .cmd()
                .args(["--crop", "0", "--to", "npy", "-", "-"])
                .pipe_stdin(&input)
                .map_err(|e| e.to_string())?
                .output()
                .map_err(|e| e.to_string())?;
            let want = std::fs::read(&expected).map_err(|e| e.to_string())?;
            if piped.stdout != want {
                return Err("read whole from standard input: other pixels".into());
            }
            Ok(())
        },
    );
}

#[test]
fn tga_is_written_uncompressed_byte_for_byte_as_pillow_writes_it() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &["L", "LA", "RGB", "RGBA"],
        |mode| mode,
        |mode| {
            let input = fixture(&format!("real/tga/{mode}.png"));
            let out = dir.path().join(format!("{mode}.tga"));
            rcrop.succeeds(&["--crop", "0"], &input, &out)?;
            let bytes = std::fs::read(&out).map_err(|e| e.to_string())?;
            // Image type 2 (true color) or 3 (gray), not 10 or 11 (run-length).
            if !matches!(bytes.get(2), Some(2 | 3)) {
                return Err(format!("image type {:?}, not uncompressed", bytes.get(2)));
            }
            if load_image(&out).as_bytes() != load_image(&input).as_bytes() {
                return Err("the TGA decodes to other pixels".into());
            }
            same_file(&out, &fixture(&format!("real/tga/{mode}.tga")))
        },
    );
}
