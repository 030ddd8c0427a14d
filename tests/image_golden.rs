//! Every case in fixtures/images/cases.tsv, whose expected tensors were
//! made with Pillow and NumPy: rcrop's `.npy` output must equal them byte
//! for byte, and the cropped image must survive image → `.npy` → image
//! unchanged (but JPEG, whose re-encoding is lossy).

mod common;

use std::path::Path;

use common::{Case, Rcrop, assert_every, cases};

/// Compares two `.npy` files: headers exactly, data exactly.
fn same_npy(found: &[u8], expected: &[u8]) -> Result<(), String> {
    if found.len() != expected.len() {
        return Err(format!(
            "{} bytes, expected {}",
            found.len(),
            expected.len()
        ));
    }
    let header_len = 10 + usize::from(u16::from_le_bytes([expected[8], expected[9]]));
    if found[..header_len] != expected[..header_len] {
        return Err(format!(
            "header {:?}",
            String::from_utf8_lossy(&found[..header_len])
        ));
    }
    let worst = found[header_len..]
        .iter()
        .zip(&expected[header_len..])
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    if worst > 0 {
        return Err(format!("a sample differs by {worst}"));
    }
    Ok(())
}

fn check(rcrop: &Rcrop, case: &Case, dir: &Path) -> Result<(), String> {
    let out = dir.join(format!("{}.npy", case.name));
    let Some(expected_path) = &case.expected else {
        return match rcrop.succeeds(
            &["--crop", &case.crop, "--format", &case.format],
            &case.input,
            &out,
        ) {
            Ok(()) => Err("expected an error".into()),
            Err(_) if out.exists() => Err("a failed run left its output".into()),
            Err(_) => Ok(()),
        };
    };
    rcrop.succeeds(
        &["--crop", &case.crop, "--format", &case.format],
        &case.input,
        &out,
    )?;
    let expected = std::fs::read(expected_path).map_err(|e| e.to_string())?;
    same_npy(&std::fs::read(&out).map_err(|e| e.to_string())?, &expected)?;
    if case.name.starts_with("jpeg_") {
        return Ok(());
    }
    // The cropped image in the input's own format, then back to a tensor.
    let ext = case
        .input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("png");
    let image = dir.join(format!("{}.{ext}", case.name));
    let back = dir.join(format!("{}_back.npy", case.name));
    rcrop.succeeds(
        &["--crop", &case.crop, "--format", &case.format],
        &case.input,
        &image,
    )?;
    rcrop.succeeds(&["--crop", "0", "--format", &case.format], &image, &back)?;
    same_npy(&std::fs::read(&back).map_err(|e| e.to_string())?, &expected)
        .map_err(|e| format!("image round trip: {e}"))?;
    // The expected tensor as a PNG, then back.
    let png = dir.join(format!("{}_from_npy.png", case.name));
    let again = dir.join(format!("{}_again.npy", case.name));
    rcrop.succeeds(
        &["--crop", "0", "--format", &case.format],
        expected_path,
        &png,
    )?;
    rcrop.succeeds(&["--crop", "0", "--format", &case.format], &png, &again)?;
    same_npy(
        &std::fs::read(&again).map_err(|e| e.to_string())?,
        &expected,
    )
    .map_err(|e| format!(".npy round trip: {e}"))
}

#[test]
fn every_image_golden_case_matches_and_round_trips() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all = cases("images/cases.tsv");
    assert!(all.len() >= 50, "only {} cases in the manifest", all.len());
    assert_every(&all, |c| &c.name, |case| check(&rcrop, case, dir.path()));
}
