//! `.npy` in and out. Every case in fixtures/npy/cases.tsv, produced by
//! Keras 3 and NumPy: rcrop's output must equal `numpy.save` of the Keras
//! result byte for byte, and where Keras raises, rcrop must fail with exit 1
//! and write nothing. Every case in fixtures/numpy/cases.tsv, built by
//! `fixtures/gen/generate_numpy.py` from NumPy's own `.npy` format tests and
//! Keras' own Cropping2D tests: for each `--order`, rcrop's output must
//! equal the bytes `numpy.save` writes of the Keras result (C), of it in the
//! input's order (keep) or of it in Fortran order (F); and where Keras
//! raises or `numpy.load` refuses the file, rcrop must fail with exit 1, say
//! why, and write nothing.

use std::path::{Path, PathBuf};

use crate::util::{Rcrop, assert_no_failures, cases, fixture, read_npy, table};
#[test]
fn every_keras_golden_case_matches_byte_for_byte() {
    let rcrop = Rcrop::new();
    let out_dir = tempfile::tempdir().unwrap();
    let all = cases("npy/cases.tsv");
    assert!(all.len() >= 40, "only {} cases in the manifest", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let out = out_dir.path().join(format!("{}.npy", case.name));
        let result = rcrop
            .cmd()
            .args(["--crop", &case.crop, "--format", &case.format])
            .arg(&case.input)
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        match &case.expected {
            Some(expected) => {
                let ok = result.status.success()
                    && std::fs::read(&out).ok() == Some(std::fs::read(expected).unwrap());
                if !ok {
                    failures.push(format!("{}: {:?} {stderr}", case.name, result.status));
                }
            }
            None => {
                let ok = result.status.code() == Some(1)
                    && !out.exists()
                    && stderr.starts_with("error: ")
                    && stderr.contains("a crop must leave at least one row and one column");
                if !ok {
                    failures.push(format!(
                        "{}: expected an error, got {:?} {stderr}",
                        case.name, result.status
                    ));
                }
            }
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn golden_cases_also_match_through_stdin_and_stdout() {
    let rcrop = Rcrop::new();
    for case in cases("npy/cases.tsv")
        .iter()
        .filter(|c| c.expected.is_some())
        .step_by(5)
    {
        let expected = std::fs::read(case.expected.as_ref().unwrap()).unwrap();
        rcrop
            .cmd()
            .args(["-c", &case.crop, "-f", &case.format, "-", "-"])
            .pipe_stdin(&case.input)
            .unwrap()
            .assert()
            .success()
            .stdout(expected);
    }
}

/// One line of fixtures/numpy/cases.tsv.
struct UpstreamCase {
    name: String,
    input: PathBuf,
    crop: String,
    format: String,
    order: String,
    /// `None` when Keras raises or NumPy refuses the file.
    expected: Option<PathBuf>,
}

fn upstream_cases() -> Vec<UpstreamCase> {
    let dir = fixture("numpy");
    table(
        "numpy/cases.tsv",
        &["name", "input", "crop", "format", "order", "expected"],
    )
    .into_iter()
    .map(|f| UpstreamCase {
        name: f[0].clone(),
        input: dir.join(&f[1]),
        crop: f[2].clone(),
        format: f[3].clone(),
        order: f[4].clone(),
        expected: (f[5] != "error").then(|| dir.join(&f[5])),
    })
    .collect()
}

fn run(rcrop: &Rcrop, case: &UpstreamCase, out: &Path) -> Option<String> {
    let result = rcrop
        .cmd()
        .args(["--crop", &case.crop, "--format", &case.format])
        .args(["--order", &case.order])
        .arg(&case.input)
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    let ok = match &case.expected {
        Some(expected) => {
            result.status.success()
                && std::fs::read(out).ok() == Some(std::fs::read(expected).unwrap())
        }
        None => {
            result.status.code() == Some(1)
                && !out.exists()
                && stderr.starts_with("error: ")
                && stderr.contains(&case.input.file_name().unwrap().to_string_lossy()[..])
        }
    };
    (!ok).then(|| format!("{}: {:?} {stderr}", case.name, result.status))
}

#[test]
fn every_upstream_case_matches_numpy_save_of_the_keras_result() {
    let rcrop = Rcrop::new();
    let out_dir = tempfile::tempdir().unwrap();
    let all = upstream_cases();
    assert!(
        all.len() >= 1000,
        "only {} cases in the manifest",
        all.len()
    );
    let refusals = all.iter().filter(|c| c.expected.is_none()).count();
    assert!(refusals >= 30, "only {refusals} refusals");
    let failures: Vec<String> = all
        .iter()
        .filter_map(|case| {
            run(
                &rcrop,
                case,
                &out_dir.path().join(format!("{}.npy", case.name)),
            )
        })
        .collect();
    assert_no_failures(&failures);
}

#[test]
fn every_order_is_covered_for_c_and_fortran_inputs() {
    let all = upstream_cases();
    for order in ["keep", "C", "F"] {
        for input in ["_c.npy", "_f.npy"] {
            let n = all
                .iter()
                .filter(|c| c.order == order && c.expected.is_some())
                .filter(|c| c.input.to_string_lossy().ends_with(input))
                .count();
            assert!(n >= 100, "{n} cases of --order {order} on *{input}");
        }
    }
}

#[test]
fn a_change_of_order_on_a_pipe_is_refused_saying_why() {
    let rcrop = Rcrop::new();
    let fortran = fixture("numpy/keras_cl_f.npy");
    let result = rcrop
        .cmd()
        .args(["--crop", "1", "--order", "C", "-", "-"])
        .pipe_stdin(&fortran)
        .unwrap()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(result.stdout.is_empty());
    assert!(
        stderr.starts_with("error: stdin: is a Fortran-ordered array")
            && stderr.contains("standard input and pipes"),
        "{stderr}"
    );
    // Keeping the order streams, on a pipe too.
    rcrop
        .cmd()
        .args(["--crop", "1", "-", "-"])
        .pipe_stdin(&fortran)
        .unwrap()
        .assert()
        .success();
}

/// A change of order to standard output that is a file (`> out.npy`)
/// writes each box at its place, from where the file stood: the bytes are
/// those of a file output, after anything already there, and the file's
/// position ends past them; a file appended to (`>> out.npy`) is written
/// front to back, to the same bytes.
#[test]
fn a_change_of_order_to_standard_output_that_is_a_file_writes_the_file_output() {
    use std::io::{Seek, Write};
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let fortran = fixture("numpy/keras_cl_f.npy");
    let expected = dir.path().join("expected.npy");
    rcrop.run_ok(&["--crop", "1", "--order", "C"], &fortran, &expected);
    let expected = std::fs::read(expected).unwrap();
    for append in [false, true] {
        let path = dir.path().join(format!("stdout-{append}.npy"));
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .open(&path)
            .unwrap();
        out.write_all(b"before").unwrap();
        let status = rcrop
            .std_cmd()
            .args(["--crop", "1", "--order", "C"])
            .arg(&fortran)
            .arg("-")
            .stdout(out.try_clone().unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "append {append}");
        let written = std::fs::read(&path).unwrap();
        assert_eq!(&written[..6], b"before");
        assert!(written[6..] == expected[..], "append {append}");
        // The position is shared with the process that wrote.
        let end = out.stream_position().unwrap();
        assert_eq!(end, written.len() as u64, "append {append}");
    }
}

#[test]
fn order_f_is_refused_with_stack() {
    let rcrop = Rcrop::new();
    let out = tempfile::tempdir().unwrap();
    let input = fixture("numpy/keras_cl_c.npy");
    let result = rcrop
        .cmd()
        .args(["--crop", "1", "--order", "F", "--stack", "-o"])
        .arg(out.path().join("s.npy"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(!out.path().join("s.npy").exists());
}

/// An image going to `.npy` with `--order F` holds the same tensor as with
/// `--order C`, laid out in Fortran order.
#[test]
fn an_image_to_npy_in_fortran_order_is_the_c_tensor_transposed() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let image = fixture("images/gray16.png");
    let read = |order: &str| {
        let out = dir.path().join(format!("{order}.npy"));
        rcrop.run_ok(&["--crop", "1,0:2,1", "--order", order], &image, &out);
        read_npy(&out)
    };
    let (c, c_data) = read("C");
    let (f, f_data) = read("F");
    assert!(!c.fortran_order && f.fortran_order);
    assert_eq!(
        (c.shape.clone(), c.dtype.clone()),
        (f.shape.clone(), f.dtype.clone())
    );
    let item = c.dtype.itemsize();
    let shape = &c.shape;
    let n: usize = shape.iter().product();
    assert!(n > 1 && shape.iter().filter(|&&d| d > 1).count() > 1);
    for flat in 0..n {
        // The C-order flat index to a multi-index, then its Fortran offset.
        let mut rest = flat;
        let mut index = vec![0; shape.len()];
        for k in (0..shape.len()).rev() {
            index[k] = rest % shape[k];
            rest /= shape[k];
        }
        let mut f_flat = 0;
        for k in (0..shape.len()).rev() {
            f_flat = f_flat * shape[k] + index[k];
        }
        assert_eq!(
            c_data[flat * item..(flat + 1) * item],
            f_data[f_flat * item..(f_flat + 1) * item],
            "element {index:?}"
        );
    }
}
