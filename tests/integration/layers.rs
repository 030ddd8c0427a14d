//! The layers and their handles: every case of fixtures/layers/cases.tsv
//! (Cropping1D, Cropping3D, CenterCrop and the layer that follows the rank,
//! made by Keras 3), --input-shape, --dry-run, --print-config, --config and
//! --layer. Keras configs and model JSONs made by Keras 3 and Keras 2
//! (fixtures/config/cases.tsv): rcrop must find the same layer, crop and
//! data format; and --print-config must print what Keras' get_config() does
//! (fixtures/config/print.tsv). Keras 2's Cropping1D, Cropping3D, CenterCrop
//! and Cropping2D, from their configs and a model, applied to data
//! (fixtures/config/keras2_apply.tsv), must give the Keras 2 layer's output
//! byte for byte.

use std::path::Path;
use std::process::Output;

use crate::util::{Rcrop, assert_no_failures, fixture, listing, table, u8_npy};
/// Runs rcrop with `args`, the inputs, and (unless the args print) an
/// output `out`: `--stack -o OUT` for a stack, else OUT after the inputs.
fn run_case(rcrop: &Rcrop, args: &[String], inputs: &[&str], out: &Path) -> Output {
    let dir = fixture("layers");
    let mut cmd = rcrop.cmd();
    // Config files are named relative to the fixtures.
    cmd.current_dir(&dir).args(args);
    cmd.args(inputs.iter().map(|i| dir.join(i)));
    if !inputs.is_empty() {
        if args.iter().any(|a| a == "--stack") {
            cmd.arg("-o");
        }
        cmd.arg(out);
    }
    cmd.output().unwrap()
}

/// One golden case; `None` when it holds.
fn check_case(rcrop: &Rcrop, tmp: &Path, case: &[String]) -> Option<String> {
    let [name, args, inputs, expected] = case else {
        return Some(format!("bad manifest line {case:?}"));
    };
    let args: Vec<String> = serde_json::from_str(args).unwrap();
    let inputs: Vec<&str> = inputs.split(' ').filter(|i| *i != "-").collect();
    let out = tmp.join(format!("{name}.npy"));
    let got = run_case(rcrop, &args, &inputs, &out);
    let stderr = String::from_utf8_lossy(&got.stderr);
    let dir = fixture("layers");
    let (kind, value) = expected.split_once(':').unwrap();
    let problem = match kind {
        "exit" => {
            let code: i32 = value.parse().unwrap();
            // A bad input is named; a spec no layer takes is wrong for every input.
            let names_input = code == 2 || inputs.first().is_none_or(|i| stderr.contains(i));
            (got.status.code() != Some(code) || out.exists() || !names_input).then(|| {
                format!(
                    "expected exit {code} naming the input, got {:?}: {stderr}",
                    got.status
                )
            })
        }
        _ if !got.status.success() => Some(format!("failed: {stderr}")),
        "out" => {
            let want = std::fs::read(dir.join(value)).unwrap();
            (std::fs::read(&out).ok() != Some(want)).then(|| "output differs".to_owned())
        }
        "stdout" => {
            let want = std::fs::read_to_string(dir.join(value)).unwrap();
            let printed = String::from_utf8_lossy(&got.stdout);
            (printed.trim_end() != want.trim_end()).then(|| format!("printed {printed}"))
        }
        "same" => {
            let same_args: Vec<String> = serde_json::from_str(value).unwrap();
            let reference = tmp.join(format!("{name}_reference.npy"));
            let made = run_case(rcrop, &same_args, &inputs, &reference);
            let (a, b) = (std::fs::read(&out).ok(), std::fs::read(&reference).ok());
            (!made.status.success() || a.is_none() || a != b)
                .then(|| "differs from the same region cropped with --crop".to_owned())
        }
        other => Some(format!("unknown expectation {other}")),
    };
    problem.map(|p| format!("{name} {args:?}: {p}"))
}

#[test]
fn every_keras_layer_case_matches_byte_for_byte() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let cases = table("layers/cases.tsv", &["name", "args", "inputs", "expected"]);
    assert!(cases.len() >= 90, "only {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(&rcrop, tmp.path(), case))
        .collect();
    assert_no_failures(&failures);
}

#[test]
fn input_shape_prints_the_keras_output_shape() {
    let rcrop = Rcrop::new();
    let cases = [
        (
            &["--crop", "2,2:4,4", "--input-shape", "None,28,28,3"][..],
            "(None, 24, 20, 3)\n",
        ),
        (
            &[
                "--crop",
                "1",
                "-f",
                "channels_first",
                "--input-shape",
                "(8, 3, None, 10)",
            ],
            "(8, 3, None, 8)\n",
        ),
        (
            &["--crop", "0", "--input-shape", "None, None, None, None"],
            "(None, None, None, None)\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(rcrop.stdout_of(args), expected, "{args:?}");
    }
}

#[test]
fn input_shape_errors_are_those_of_a_real_run() {
    let rcrop = Rcrop::new();
    let out = rcrop
        .cmd()
        .args(["-c", "2,2:0,0", "--input-shape", "None,4,28,3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("removes 4 of the 4 rows of shape (None, 4, 28, 3)"),
        "{stderr}"
    );
    for bad in ["1,2", "None,x,3,3", "1,2,3,4,5,6"] {
        let out = rcrop
            .cmd()
            .args(["-c", "1", "--input-shape", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn dry_run_prints_shapes_and_writes_nothing() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let stdout = rcrop.stdout_of(&[
        "-c",
        "1",
        "-f",
        "channels_last",
        "--dry-run",
        "--out-dir",
        out_dir.to_str().unwrap(),
        fixture("images/rgb8.png").to_str().unwrap(),
        fixture("npy/demo_f4_c.npy").to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("rgb8.png: (1, 17, 24, 3) -> (1, 15, 22, 3) '|u1'\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("demo_f4_c.npy: (2, 8, 8, 3) -> (2, 6, 6, 3) '<f4'\n"),
        "{stdout}"
    );
    assert!(!out_dir.exists());
    // A crop that leaves nothing fails as a real run would, and writes nothing.
    let input = dir.path().join("small.npy");
    std::fs::write(&input, u8_npy([1, 2, 5, 1])).unwrap();
    let out = rcrop
        .cmd()
        .args(["-c", "1", "-f", "channels_last", "--dry-run"])
        .arg(&input)
        .arg(dir.path().join("o.npy"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("small.npy: cropping ((1, 1), (1, 1)) removes 2 of the 2 rows")
    );
    assert_eq!(listing(dir.path()), ["small.npy"]);
}

#[test]
fn print_config_round_trips_through_config() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let text = rcrop.stdout_of(&["-c", "2:4,5", "-f", "channels_first", "--print-config"]);
    assert_eq!(
        text,
        "{\"name\": \"cropping2d\", \"trainable\": true, \"dtype\": {\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \
         \"config\": {\"name\": \"float32\"}, \"registered_name\": null}, \"cropping\": [[2, 2], [4, 5]], \"data_format\": \"channels_first\"}\n"
    );
    let config = dir.path().join("layer.json");
    std::fs::write(&config, &text).unwrap();
    let path = config.to_str().unwrap();
    assert_eq!(rcrop.stdout_of(&["--config", path, "--print-config"]), text);
    assert_eq!(
        rcrop.stdout_of(&["--config", path, "--input-shape", "1,3,10,10"]),
        "(1, 3, 6, 1)\n"
    );
    // Flags that agree are fine; flags that contradict are a usage error.
    assert_eq!(
        rcrop.stdout_of(&[
            "--config",
            path,
            "-c",
            "((2,2),(4,5))",
            "-f",
            "channels_first",
            "--input-shape",
            "1,3,10,10"
        ]),
        "(1, 3, 6, 1)\n"
    );
    for (flag, value, needle) in [
        ("-c", "2", "--crop 2,2:2,2 contradicts cropping2d"),
        ("-f", "channels_last", "--format channels_last contradicts"),
    ] {
        let out = rcrop
            .cmd()
            .args(["--config", path, flag, value, "--input-shape", "1,3,10,10"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle));
    }
}

#[test]
fn a_null_data_format_means_the_keras_json_default() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("layer.json");
    std::fs::write(
        &config,
        r#"{"name": "c", "cropping": [[1, 0], [0, 1]], "data_format": null}"#,
    )
    .unwrap();
    let path = config.to_str().unwrap();
    assert_eq!(
        rcrop.stdout_of(&["--config", path, "--input-shape", "1,6,8,2"]),
        "(1, 5, 7, 2)\n"
    );
    rcrop.write_keras_json(r#"{"image_data_format": "channels_first"}"#);
    assert_eq!(
        rcrop.stdout_of(&["--config", path, "--input-shape", "1,6,8,2"]),
        "(1, 6, 7, 1)\n"
    );
    assert_eq!(
        rcrop.stdout_of(&[
            "--config",
            path,
            "-f",
            "channels_last",
            "--input-shape",
            "1,6,8,2"
        ]),
        "(1, 5, 7, 2)\n"
    );
}

#[test]
fn bad_configs_name_the_file_and_the_problem() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let model = r#"{"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Cropping2D", "config": {"name": "a", "cropping": 1}},
        {"class_name": "Cropping2D", "config": {"name": "b", "cropping": 2}}]}}"#;
    let cases = [
        (
            model,
            None,
            "holds several cropping layers (a, b); choose one with --layer NAME",
        ),
        (
            model,
            Some("c"),
            "holds no cropping layer named \"c\"; it holds a, b",
        ),
        (
            r#"{"class_name": "Sequential", "config": {"layers": []}}"#,
            None,
            "holds no cropping layer",
        ),
        ("{not json", None, "not valid JSON"),
        (r#"{"cropping": [1, -2]}"#, None, "is not valid"),
        (
            r#"{"cropping": [1, 2, 3, 4], "data_format": null}"#,
            None,
            "Cropping2D refuses cropping=(1, 2, 3, 4)",
        ),
    ];
    for (text, layer, needle) in cases {
        let config = dir.path().join("model.json");
        std::fs::write(&config, text).unwrap();
        let mut cmd = rcrop.cmd();
        cmd.arg("--config")
            .arg(&config)
            .args(["--input-shape", "1,9,9,1"]);
        if let Some(name) = layer {
            cmd.args(["--layer", name]);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("model.json: ") && stderr.contains(needle),
            "{needle}: {stderr}"
        );
    }
    let config = dir.path().join("model.json");
    std::fs::write(&config, model).unwrap();
    let out = rcrop
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["--layer", "b", "--input-shape", "1,9,9,1"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "(1, 5, 5, 1)\n");
}

#[test]
fn contradictory_layer_flags_are_usage_errors() {
    let rcrop = Rcrop::new();
    let png = fixture("layers/rgb_9x12.png");
    let cases: [(&[&str], &str); 7] = [
        (
            &["--center-crop", "3,3", "--crop", "1"],
            "cannot be used with",
        ),
        (&["--center-crop", "0,3"], "a target of 0"),
        (&["--center-crop", "3"], "expected H,W"),
        (
            &["--layer", "Cropping4D", "--crop", "1"],
            "unknown layer \"Cropping4D\"",
        ),
        (&["--layer", "CenterCrop", "--crop", "1"], "needs its size"),
        (
            &["--layer", "Cropping2D", "--center-crop", "2,2"],
            "not --layer Cropping2D",
        ),
        (
            &["--layer", "Cropping1D", "-c", "1", "-f", "channels_last"],
            "no data format",
        ),
    ];
    for (args, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.npy");
        let got = rcrop.cmd().args(args).arg(&png).arg(&out).output().unwrap();
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn a_spec_one_rank_refuses_fails_a_batch_with_exit_2() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let got = rcrop
        .cmd()
        .args(["--crop", "1,2,3", "--keep-going", "--out-dir"])
        .arg(dir.path())
        .arg(fixture("layers/vol_u1.npy"))
        .arg(fixture("layers/img_u1.npy"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert_eq!(got.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("img_u1.npy: Cropping2D refuses cropping=(1, 2, 3)"),
        "{stderr}"
    );
    assert_eq!(listing(dir.path()), ["vol_u1.npy"]);
}

#[test]
fn a_dry_run_shows_each_image_centred_on_its_own() {
    let rcrop = Rcrop::new();
    let stdout = rcrop.stdout_of(&[
        "--center-crop",
        "4,5",
        "--dry-run",
        "--out-dir",
        "unused",
        fixture("layers/rgb_9x12.png").to_str().unwrap(),
        fixture("layers/rgb_10x13.png").to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("rgb_9x12.png: (1, 9, 12, 3) -> (1, 4, 5, 3)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rgb_10x13.png: (1, 10, 13, 3) -> (1, 4, 5, 3)"),
        "{stdout}"
    );
}

/// `--config DIR/FILE [--layer LAYER] --print-config`: the JSON printed;
/// `None` where the config is to be `refused` and is (exit 1, naming the
/// file); else what went wrong.
fn print_config(
    rcrop: &Rcrop,
    dir: &str,
    file: &str,
    layer: &str,
    refused: bool,
) -> Result<Option<serde_json::Value>, String> {
    let mut cmd = rcrop.cmd();
    cmd.arg("--config")
        .arg(fixture(&format!("{dir}/{file}")))
        .arg("--print-config");
    if layer != "-" {
        cmd.args(["--layer", layer]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match (refused, out.status.code()) {
        (true, Some(1)) if stderr.contains(file) => Ok(None),
        (true, _) => Err(format!(
            "expected exit 1 naming {file}, got {:?} {stderr}",
            out.status
        )),
        (false, Some(0)) => serde_json::from_slice(&out.stdout)
            .map(Some)
            .map_err(|e| format!("printed no JSON ({e})")),
        (false, _) => Err(stderr.into_owned()),
    }
}

#[test]
fn every_keras_config_and_model_gives_the_keras_layer() {
    let rcrop = Rcrop::new();
    let cases = table(
        "config/cases.tsv",
        &["name", "file", "layer", "cropping", "format"],
    );
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let [name, file, layer, cropping, format] = case.as_slice() else {
            panic!("bad line {case:?}")
        };
        let config = match print_config(&rcrop, "config", file, layer, cropping == "error") {
            Ok(Some(config)) => config,
            Ok(None) => continue,
            Err(why) => {
                failures.push(format!("{name}: {why}"));
                continue;
            }
        };
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
    let cases = table("config/print.tsv", &["name", "crop", "format", "file"]);
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
        &["name", "file", "layer", "input", "expected"],
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

#[test]
fn print_config_of_a_config_is_what_keras_from_config_get_config_gives() {
    let rcrop = Rcrop::new();
    let cases = table(
        "kerasview/cases.tsv",
        &["name", "file", "layer", "expected"],
    );
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let [name, file, layer, expected] = case.as_slice() else {
            panic!("bad line {case:?}")
        };
        let got = match print_config(&rcrop, "kerasview", file, layer, expected == "error") {
            Ok(Some(got)) => got,
            Ok(None) => continue,
            Err(why) => {
                failures.push(format!("{name}: {why}"));
                continue;
            }
        };
        let golden = std::fs::read(fixture(&format!("kerasview/{expected}"))).unwrap();
        let want: serde_json::Value = serde_json::from_slice(&golden).unwrap();
        if got != want {
            failures.push(format!("{name}: printed {got}, Keras gives {want}"));
        }
    }
    assert_no_failures(&failures);
}

#[test]
fn a_configured_layer_crops_only_the_archive_members_of_its_rank_as_the_flags_do() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("trim.json");
    std::fs::write(
        &config,
        r#"{"name": "trim", "dtype": "uint8", "cropping": [[1, 0], [0, 1]], "data_format": "channels_last"}"#,
    )
    .unwrap();
    let input = fixture("npz/stored.npz");
    let by_config = dir.path().join("config.npz");
    let by_flags = dir.path().join("flags.npz");
    let config_args = ["--config", config.to_str().unwrap()];
    rcrop.run_ok(&config_args, &input, &by_config);
    let flag_args = [
        "--layer",
        "Cropping2D",
        "--crop",
        "1,0:0,1",
        "-f",
        "channels_last",
    ];
    rcrop.run_ok(&flag_args, &input, &by_flags);
    assert_eq!(
        std::fs::read(&by_config).unwrap(),
        std::fs::read(&by_flags).unwrap()
    );
}
