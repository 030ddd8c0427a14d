//! Keras configs and model JSONs made by Keras 3 and Keras 2
//! (fixtures/config/cases.tsv): rcrop must find the same layer, crop and
//! data format; and --print-config must print what Keras' get_config() does
//! (fixtures/config/print.tsv). Keras 2's Cropping1D, Cropping3D, CenterCrop
//! and Cropping2D, from their configs and a model, applied to data
//! (fixtures/config/keras2_apply.tsv), must give the Keras 2 layer's output
//! byte for byte.

mod common;

use common::{Rcrop, assert_no_failures, fixture};

fn table(path: &str, header: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture(path)).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_keras_config_and_model_gives_the_keras_layer() {
    let rcrop = Rcrop::new();
    let cases = table("config/cases.tsv", "name\tfile\tlayer\tcropping\tformat");
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let [name, file, layer, cropping, format] = case.as_slice() else {
            panic!("bad line {case:?}")
        };
        let mut cmd = rcrop.cmd();
        cmd.arg("--config")
            .arg(fixture(&format!("config/{file}")))
            .arg("--print-config");
        if layer != "-" {
            cmd.args(["--layer", layer]);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if cropping == "error" {
            if out.status.code() != Some(1) || !stderr.contains(file.as_str()) {
                failures.push(format!(
                    "{name}: expected exit 1 naming {file}, got {:?} {stderr}",
                    out.status
                ));
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{name}: {stderr}"));
            continue;
        }
        let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found: rcrop::Cropping = config["cropping"].to_string().parse().unwrap();
        let expected_format = if format == "default" {
            "channels_last"
        } else {
            format.as_str()
        };
        if found.to_string() != *cropping || config["data_format"] != expected_format {
            failures.push(format!(
                "{name}: got {found} {}, expected {cropping} {expected_format}",
                config["data_format"]
            ));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn print_config_is_what_keras_get_config_prints() {
    let rcrop = Rcrop::new();
    let cases = table("config/print.tsv", "name\tcrop\tformat\tfile");
    assert!(cases.len() >= 10);
    for case in &cases {
        let [name, crop, format, file] = case.as_slice() else {
            panic!("bad line {case:?}")
        };
        let out = rcrop
            .cmd()
            .args(["--print-config", "--crop", crop, "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        let golden = std::fs::read_to_string(fixture(&format!("config/{file}"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            golden.trim_end(),
            "{name}"
        );
    }
}

#[test]
fn keras2_layers_applied_from_their_config_give_the_keras2_output() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let cases = table(
        "config/keras2_apply.tsv",
        "name\tfile\tlayer\tinput\texpected",
    );
    assert!(cases.len() >= 10, "only {} cases", cases.len());
    let mut failures = Vec::new();
    // Every Keras 2 file fixes its data format (Keras 2's CenterCrop has
    // none and is channels_last), so keras.json must not change the result.
    for keras_json in [None, Some(r#"{"image_data_format": "channels_first"}"#)] {
        if let Some(text) = keras_json {
            rcrop.write_keras_json(text);
        }
        for case in &cases {
            let [name, file, layer, input, expected] = case.as_slice() else {
                panic!("bad line {case:?}")
            };
            let name = format!("{name} (keras.json {keras_json:?})");
            let out = tmp.path().join(format!("{}.npy", case[0]));
            let _ = std::fs::remove_file(&out);
            let mut cmd = rcrop.cmd();
            cmd.arg("--config").arg(fixture(&format!("config/{file}")));
            if layer != "-" {
                cmd.args(["--layer", layer]);
            }
            let got = cmd
                .arg(fixture(&format!("config/{input}")))
                .arg(&out)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&got.stderr);
            if expected == "error" {
                if got.status.code() != Some(1) || !stderr.contains(file.as_str()) || out.exists() {
                    failures.push(format!(
                        "{name}: expected exit 1 naming {file} and no output, got {:?} {stderr}",
                        got.status
                    ));
                }
                continue;
            }
            if !got.status.success() {
                failures.push(format!("{name}: {stderr}"));
                continue;
            }
            let want = std::fs::read(fixture(&format!("config/{expected}"))).unwrap();
            if std::fs::read(&out).ok() != Some(want) {
                failures.push(format!("{name}: output differs from {expected}"));
            }
        }
    }
    assert_no_failures(&failures);
}
