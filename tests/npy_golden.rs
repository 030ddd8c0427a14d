//! Every case in fixtures/npy/cases.tsv, produced by Keras 3 and NumPy:
//! rcrop's output must equal `numpy.save` of the Keras result byte for byte,
//! and where Keras raises, rcrop must fail with exit 1 and write nothing.

mod common;

use common::{Rcrop, assert_no_failures, cases};

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
