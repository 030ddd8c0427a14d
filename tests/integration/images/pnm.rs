//! PNM (P1–P6): every case of fixtures/pnm/cases.tsv — files written by
//! Pillow, netpbm, Pillow's own test suite and the generator — decodes
//! value for value as Pillow and Keras' `load_img` give it, crops written
//! as PNM are byte for byte Pillow's save of the Keras crop, the color
//! modes of fixtures/pnm/modes.tsv give Keras' tensors, and files Pillow
//! refuses are refused: exit 1, the file named, nothing written.

use std::path::{Path, PathBuf};

use crate::util::{Case, Rcrop, assert_every, cases, fixture, same_file, table, u8_npy};

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "npy")
}

fn check(rcrop: &Rcrop, case: &Case, dir: &Path) -> Result<(), String> {
    let args = ["--crop", &case.crop, "--format", &case.format];
    let Some(expected) = &case.expected else {
        let out = dir.join(format!("{}.npy", case.name));
        let (code, stderr) = rcrop.run(&args, &case.input, &out);
        let file = case.input.file_name().unwrap_or_default().to_string_lossy();
        return match code {
            Some(1) if stderr.starts_with("error: ") && stderr.contains(&*file) => {
                match out.exists() {
                    true => Err(format!("a refused file left {}", out.display())),
                    false => Ok(()),
                }
            }
            _ => Err(format!("exit {code:?}, expected 1 naming {file}: {stderr}")),
        };
    };
    let ext = expected.extension().unwrap_or_default().to_string_lossy();
    let out = dir.join(format!("{}.{ext}", case.name));
    rcrop.succeeds(&args, &case.input, &out)?;
    same_file(&out, expected)?;
    if is_npy(expected) {
        // The streaming and whole-image paths agree: the crop written as
        // PNM decodes to the same tensor.
        let image = dir.join(format!("{}.pnm", case.name));
        let back = dir.join(format!("{}_back.npy", case.name));
        rcrop.succeeds(&args, &case.input, &image)?;
        rcrop.succeeds(&["--crop", "0", "--format", &case.format], &image, &back)?;
        same_file(&back, expected).map_err(|e| format!("PNM round trip: {e}"))?;
    }
    Ok(())
}

#[test]
fn every_pnm_case_matches_pillow_and_keras() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all = cases("pnm/cases.tsv");
    let count = |f: &dyn Fn(&Case) -> bool| all.iter().filter(|c| f(c)).count();
    assert!(count(&|c| c.expected.as_deref().is_some_and(is_npy)) >= 50);
    assert!(count(&|c| c.expected.as_deref().is_some_and(|e| !is_npy(e))) >= 8);
    assert!(count(&|c| c.expected.is_none()) >= 15);
    assert_every(&all, |c| &c.name, |case| check(&rcrop, case, dir.path()));
}

struct ModeCase {
    name: String,
    input: PathBuf,
    mode: String,
    expected: Option<PathBuf>,
}

fn mode_cases() -> Vec<ModeCase> {
    let dir = fixture("pnm");
    table("pnm/modes.tsv", &["name", "input", "mode", "expected"])
        .into_iter()
        .map(|f| ModeCase {
            name: f[0].clone(),
            input: dir.join(&f[1]),
            mode: f[2].clone(),
            expected: (f[3] != "error").then(|| dir.join(&f[3])),
        })
        .collect()
}

#[test]
fn color_modes_give_keras_load_img_tensors() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all = mode_cases();
    assert!(all.len() >= 50, "only {} mode cases", all.len());
    assert_every(
        &all,
        |c| &c.name,
        |case| {
            let out = dir.path().join(format!("{}.npy", case.name));
            let args = ["-c", "0", "-f", "channels_last", "--color-mode", &case.mode];
            match &case.expected {
                Some(expected) => {
                    rcrop.succeeds(&args, &case.input, &out)?;
                    same_file(&out, expected)
                }
                None => match rcrop.run(&args, &case.input, &out) {
                    (Some(1), stderr) if stderr.contains("--color-mode") => Ok(()),
                    (code, stderr) => Err(format!("exit {code:?}: {stderr}")),
                },
            }
        },
    );
}

#[test]
fn pnm_names_and_kinds() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let rgba = dir.path().join("rgba.npy");
    std::fs::write(&rgba, u8_npy([1, 4, 5, 4])).unwrap();
    let stderr = rcrop.run_fails(
        &["-c", "1", "-f", "channels_last"],
        &rgba,
        &dir.path().join("a.ppm"),
    );
    assert!(
        stderr.contains("PNM cannot hold 8-bit RGBA; it holds 8- or 16-bit gray or RGB"),
        "{stderr}"
    );
    // Every PNM extension writes PNM: gray as P5, whatever the name says.
    let gray = fixture("pnm/gray8_pillow.pgm");
    for ext in ["pbm", "pgm", "ppm", "pnm"] {
        let out = dir.path().join(format!("out.{ext}"));
        rcrop.run_ok(&["-c", "0"], &gray, &out);
        same_file(&out, &gray).unwrap();
    }
    // `--to pnm` and standard output.
    let out = rcrop
        .cmd()
        .args(["-c", "0", "--to", "ppm"])
        .arg(&gray)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(&gray).unwrap());
    // PAM is not written.
    let (code, stderr) = rcrop.run(&["-c", "0"], &gray, &dir.path().join("out.pam"));
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn an_icc_profile_is_dropped_with_a_warning() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let icc = fixture("images/icc.png");
    let out = dir.path().join("icc.ppm");
    let stderr = rcrop.run_ok(&["-c", "1"], &icc, &out);
    assert!(
        stderr.contains("PNM cannot carry an ICC profile; the input's profile was dropped"),
        "{stderr}"
    );
    assert!(std::fs::read(&out).unwrap().starts_with(b"P6\n"));
}

#[test]
fn a_cut_is_refused_whatever_the_crop() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let whole = fixture("pnm/rgb8_pillow.ppm");
    let mut bytes = std::fs::read(&whole).unwrap();
    bytes.truncate(bytes.len() - 5);
    let cut = dir.path().join("cut.ppm");
    std::fs::write(&cut, &bytes).unwrap();
    // Keeping the last row, or cropping it away.
    for crop in ["1,0:1,1", "1", "0,9:0,0"] {
        let stderr = rcrop.run_fails(&["-c", crop], &cut, &dir.path().join("a.npy"));
        assert!(
            stderr.contains("cut.ppm")
                && stderr.contains("the pixel data ends after 9 of its 10 rows"),
            "{crop}: {stderr}"
        );
    }
}
