//! Inputs the fuzzers found (fuzz/regressions/), run through the binary:
//! each must end, within seconds, in a success or a clean error (exit 1 or
//! 2 with an `error:` message), never a panic or a hang.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Rcrop;

fn regressions(prefix: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {prefix} regressions");
    found
}

fn ends_cleanly(cmd: &mut assert_cmd::Command, what: &str) {
    let out = cmd.timeout(Duration::from_secs(20)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{what}: ended with {:?} {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    if code != Some(0) {
        assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    }
}

#[test]
fn fuzzed_specs_end_cleanly() {
    let rcrop = Rcrop::new();
    for path in regressions("spec-") {
        let spec = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        ends_cleanly(
            rcrop
                .cmd()
                .args(["--crop", &spec, "--input-shape", "1,5,5,1"]),
            &spec,
        );
    }
}

#[test]
fn fuzzed_npy_files_end_cleanly() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for path in regressions("npy_stream-") {
        // Five control bytes (the crop, byte % 16, and I/O caps), then the file.
        let bytes = std::fs::read(&path).unwrap();
        let crop = format!(
            "{},{}:{},{}",
            bytes[0] % 16,
            bytes[1] % 16,
            bytes[2] % 16,
            bytes[3] % 16
        );
        let input = dir.path().join("in.npy");
        std::fs::write(&input, &bytes[5..]).unwrap();
        for format in ["channels_last", "channels_first"] {
            let what = format!("{} {crop} {format}", path.display());
            ends_cleanly(
                rcrop
                    .cmd()
                    .args(["-c", &crop, "-f", format])
                    .arg(&input)
                    .arg(dir.path().join("out.npy")),
                &what,
            );
            ends_cleanly(
                rcrop
                    .cmd()
                    .args(["-c", &crop, "-f", format, "-", "-"])
                    .write_stdin(bytes[5..].to_vec()),
                &what,
            );
        }
    }
}

#[test]
fn fuzzed_images_end_cleanly() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for path in regressions("image-") {
        let what = path.display().to_string();
        ends_cleanly(
            rcrop
                .cmd()
                .args(["-c", "1", "--to", "png"])
                .arg(&path)
                .arg(dir.path().join("out.png")),
            &what,
        );
    }
}

/// Inputs a decode-only target found that made a codec panic: each is now
/// refused by rcrop's own checks, before the codec runs.
#[test]
fn fuzzed_image_decodes_are_refused_before_the_codec_fails() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for path in regressions("decode-") {
        let out = dir.path().join("out.npy");
        let stderr = rcrop.run_fails(&["-c", "0"], &path, &out);
        assert!(stderr.contains(&*path.to_string_lossy()), "{stderr}");
        assert!(
            !stderr.contains("codec failed"),
            "{}: {stderr}",
            path.display()
        );
    }
}
