//! Bad input and faults: each gets exit 1 and a message naming the file,
//! what was found and what was expected; none leaves a partial output or
//! changes an existing one. And the inputs the fuzzers found
//! (fuzz/regressions/), run through the binary: each must end, within
//! seconds, in a success or a clean error (exit 1 or 2 with an `error:`
//! message), never a panic or a hang.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::{OLD, Rcrop, listing, npy_bytes, u8_npy};

fn header(descr: &str, shape: &str) -> String {
    format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}")
}

#[test]
fn a_lying_header_fails_at_once_without_allocating() {
    let input = npy_bytes(&header("'<f4'", "(1000000, 1000000, 1000, 1)"), &[0; 72]);
    let start = Instant::now();
    let stderr = Rcrop::new().fails_cleanly(&input, &["-c", "1"]);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        stderr.contains("4000000000000000 bytes of data"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the file holds 72 bytes after the header"),
        "{stderr}"
    );
}

#[test]
fn a_stream_that_ends_early_leaves_no_output() {
    let input = npy_bytes(&header("'<f4'", "(1000000, 1000000, 1000, 1)"), &[0; 72]);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.npy");
    std::fs::write(&out_path, OLD).unwrap();
    let out = Rcrop::new()
        .cmd()
        .args(["-c", "1", "-"])
        .arg(&out_path)
        .write_stdin(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: stdin: the data ends after 72 bytes"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out_path).unwrap(), OLD);
    assert_eq!(listing(dir.path()), ["out.npy"]);
}

#[test]
fn a_file_cut_in_the_middle_of_its_data_is_refused() {
    let mut input = u8_npy([2, 4, 4, 3]);
    input.truncate(input.len() - 10);
    let stderr = Rcrop::new().fails_cleanly(&input, &["-c", "1"]);
    assert!(
        stderr.contains("96 bytes of data, but the file holds 86"),
        "{stderr}"
    );
}

#[test]
fn bytes_after_the_data_are_refused() {
    let mut input = u8_npy([1, 4, 4, 1]);
    input.extend_from_slice(b"junk");
    let stderr = Rcrop::new().fails_cleanly(&input, &["-c", "1"]);
    assert!(
        stderr.contains("16 bytes of data, but the file holds 20"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Rcrop::new()
        .cmd()
        .args(["-c", "1", "-"])
        .arg(dir.path().join("o.npy"))
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("more bytes follow the 16 bytes of data")
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_header_over_numpys_limit_is_refused() {
    let long_descr = format!(
        "[{}]",
        (0..800)
            .map(|i| format!("('f{i}', '<u1')"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let stderr = Rcrop::new().fails_cleanly(
        &npy_bytes(&header(&long_descr, "(1, 2, 2, 1)"), &[0; 3200]),
        &["-c", "0"],
    );
    assert!(stderr.contains("max_header_size"), "{stderr}");
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&u32::MAX.to_le_bytes());
    let stderr = Rcrop::new().fails_cleanly(&v2, &["-c", "0"]);
    assert!(stderr.contains("4294967295 characters long"), "{stderr}");
}

#[test]
fn object_arrays_are_refused_without_unpickling() {
    let stderr = Rcrop::new().fails_cleanly(
        &npy_bytes(&header("'|O'", "(1, 2, 2, 1)"), b"\x80\x04"),
        &["-c", "0"],
    );
    assert!(stderr.contains("'|O' holds Python objects"), "{stderr}");
}

#[test]
fn an_array_no_cropping_layer_takes_is_refused_with_its_shape() {
    let stderr = Rcrop::new().fails_cleanly(
        &npy_bytes(&header("'|u1'", "(3, 4)"), &[0; 12]),
        &["-c", "0"],
    );
    assert!(
        stderr.contains(
            "the array has shape (3, 4); expected a 3D array (Cropping1D), 4D (Cropping2D) or 5D (Cropping3D)"
        ),
        "{stderr}"
    );
    let stderr = Rcrop::new().fails_cleanly(
        &npy_bytes(&header("'|u1'", "(1, 3, 4)"), &[0; 12]),
        &["-c", "0", "--layer", "Cropping2D"],
    );
    assert!(
        stderr.contains("the array has shape (1, 3, 4); Cropping2D needs a 4D array"),
        "{stderr}"
    );
}

#[test]
fn malformed_headers_are_named_and_explained() {
    let cases: [(Vec<u8>, &str); 6] = [
        (b"P7\n2 2\n255\n".to_vec(), "not a .npy file"),
        (
            b"\x93NUMPY\x04\x00\x10\x00".to_vec(),
            "unsupported .npy format version 4.0",
        ),
        (
            b"\x93NUMPY\x01\x00\x40\x00{'descr'".to_vec(),
            "the file ends inside the .npy header",
        ),
        (
            npy_bytes("{'descr': '<f4', 'shape': (1, 1, 1, 1), }", &[0; 4]),
            "expected a dict with the keys",
        ),
        (
            npy_bytes(&header("'<f3'", "(1, 1, 1, 1)"), &[0; 3]),
            "'<f3' is not supported",
        ),
        (
            npy_bytes(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1) ",
                &[0; 4],
            ),
            "cannot parse",
        ),
    ];
    for (input, needle) in cases {
        let stderr = Rcrop::new().fails_cleanly(&input, &["-c", "0"]);
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}

#[test]
fn a_crop_that_leaves_nothing_names_input_shape_and_spec() {
    let stderr = Rcrop::new().fails_cleanly(
        &u8_npy([1, 4, 6, 1]),
        &["-c", "2,2:0,0", "-f", "channels_last"],
    );
    assert!(
        stderr.contains(
            "in.npy: cropping ((2, 2), (0, 0)) removes 4 of the 4 rows of shape (1, 4, 6, 1)"
        ),
        "{stderr}"
    );
}

#[test]
fn missing_and_directory_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    for (input, needle) in [
        (dir.path().join("nope.npy"), "nope.npy: cannot open"),
        (dir.path().to_path_buf(), "is a directory"),
    ] {
        let (code, stderr) = Rcrop::new().run(&["-c", "1"], &input, &out);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn unwritable_outputs_are_named_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    std::fs::write(&input, u8_npy([1, 4, 4, 1])).unwrap();
    let cases = [
        (
            dir.path().join("missing/out.npy"),
            "out.npy: cannot create a temporary file beside it",
        ),
        (dir.path().to_path_buf(), "is a directory; expected a file"),
    ];
    for (output, needle) in cases {
        let (code, stderr) = Rcrop::new().run(&["-c", "1"], &input, &output);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    assert_eq!(listing(dir.path()), ["in.npy"]);
}

#[test]
fn output_over_its_own_input_is_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.npy");
    let original = u8_npy([1, 4, 4, 1]);
    std::fs::write(&path, &original).unwrap();
    let same = |spec: &str| {
        Rcrop::new()
            .cmd()
            .args(["-c", spec])
            .arg(&path)
            .arg(&path)
            .output()
            .unwrap()
    };
    assert_eq!(same("2").status.code(), Some(1));
    assert_eq!(std::fs::read(&path).unwrap(), original);
    assert!(same("1").status.success());
    let cropped = std::fs::read(&path).unwrap();
    assert_eq!(&cropped[cropped.len() - 4..], &[5, 6, 9, 10]);
    assert_eq!(listing(dir.path()), ["data.npy"]);
}

#[cfg(unix)]
#[test]
fn a_replaced_output_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let output = dir.path().join("out.npy");
    std::fs::write(&input, u8_npy([1, 4, 4, 1])).unwrap();
    std::fs::write(&output, OLD).unwrap();
    std::fs::set_permissions(&output, std::fs::Permissions::from_mode(0o640)).unwrap();
    Rcrop::new()
        .cmd()
        .args(["-c", "1"])
        .arg(&input)
        .arg(&output)
        .assert()
        .success();
    let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_ne!(std::fs::read(&output).unwrap(), OLD);
}

#[cfg(unix)]
#[test]
fn a_full_device_on_stdout_is_a_write_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    std::fs::write(&input, u8_npy([1, 4, 4, 1])).unwrap();
    let out = Rcrop::new()
        .std_cmd()
        .args(["-c", "1", "-", "-"])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: stdout: cannot write"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_signal_mid_write_leaves_the_old_output_and_no_temporary_file() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let out_path = dir.path().join("out.npy");
        std::fs::write(&out_path, OLD).unwrap();
        let rcrop = Rcrop::new();
        let mut child = rcrop
            .std_cmd()
            .args(["-c", "1", "-"])
            .arg(&out_path)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1000, 100, 100, 10), }";
        stdin.write_all(&npy_bytes(header, &[7; 1 << 20])).unwrap();
        stdin.flush().unwrap();
        // Wait until the temporary output exists, then interrupt.
        let start = Instant::now();
        while listing(dir.path()).len() < 2 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(listing(dir.path()).len(), 2, "no temporary file appeared");
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        drop(stdin);
        let number = if signal == "INT" { 2 } else { 15 };
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(number),
            "{signal}"
        );
        assert_eq!(listing(dir.path()), ["out.npy"], "{signal}");
        assert_eq!(std::fs::read(&out_path).unwrap(), OLD, "{signal}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn an_output_folder_that_cannot_be_written_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    std::fs::write(&input, u8_npy([1, 4, 4, 1])).unwrap();
    // /proc refuses new files even to root; a read-only folder refuses them to others.
    let mut targets = vec![std::path::PathBuf::from("/proc/self/out.npy")];
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !is_root {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        targets.push(locked.join("out.npy"));
    }
    for target in targets {
        let (code, stderr) = Rcrop::new().run(&["-c", "1"], &input, &target);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("out.npy: cannot create a temporary file beside it"),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_read_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.npy");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, u8_npy([1, 4, 4, 1])))
    };
    let out_path = dir.path().join("out.npy");
    let out = Rcrop::new()
        .cmd()
        .args(["-c", "1"])
        .arg(&fifo)
        .arg(&out_path)
        .output()
        .unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cropped = std::fs::read(&out_path).unwrap();
    assert_eq!(&cropped[cropped.len() - 4..], &[5, 6, 9, 10]);
}

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
