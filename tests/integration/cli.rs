//! The command line: spec forms, data formats and the keras.json default,
//! usage errors, help and version; and `--generate`: completion scripts that
//! their shells parse, and a man page that `man` renders with every flag of
//! `--help` in it.

use std::process::Command;

use crate::util::{Rcrop, listing, u8_npy};
#[test]
fn every_spec_form_gives_the_keras_shape() {
    let rcrop = Rcrop::new();
    let cases = [
        ("2", "(1, 2, 4, 2)"),
        ("1,2", "(1, 4, 4, 2)"),
        ("1,2:3,0", "(1, 3, 5, 2)"),
        ("1:2,3", "(1, 4, 3, 2)"),
        ("((1,2),(3,0))", "(1, 3, 5, 2)"),
        ("( 1 , 2 )", "(1, 4, 4, 2)"),
        ("(1,(2,3))", "(1, 4, 3, 2)"),
        ("0", "(1, 6, 8, 2)"),
    ];
    for (spec, shape) in cases {
        assert_eq!(
            rcrop.shape_after(&["--crop", spec, "--format", "channels_last"]),
            shape,
            "{spec}"
        );
    }
}

#[test]
fn a_bad_spec_is_a_usage_error_showing_the_input_and_the_forms() {
    let rcrop = Rcrop::new();
    for spec in [
        "-1",
        "1.5",
        "1,2,3,4",
        "1:2:3:4",
        "",
        "2,",
        "()",
        "(1,2,3,4)",
        "((1,2,3),2)",
        "((1,2),(3,4)) x",
        "abc",
    ] {
        let out = rcrop
            .cmd()
            .args(["--crop", spec, "in.npy", "out.npy"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{spec:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{spec:?}: {stderr}");
        assert!(stderr.contains(&format!("{spec:?}")), "{spec:?}: {stderr}");
        assert!(stderr.contains("T,B:L,R"), "{spec:?}: {stderr}");
    }
}

#[test]
fn unknown_flags_missing_arguments_and_bad_formats_exit_2() {
    let rcrop = Rcrop::new();
    for args in [
        &["--crop", "1", "--bogus", "a", "b"][..],
        &["--crop", "1", "only-one"],
        &["a", "b"],
        &["--crop", "1", "--format", "Channels_Last", "a", "b"],
    ] {
        let out = rcrop.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
}

#[test]
fn channels_first_crops_the_last_two_axes() {
    let rcrop = Rcrop::new();
    // (1, 6, 8, 2) read as channels_first: 6 channels, 8 rows, 2 columns.
    assert_eq!(
        rcrop.shape_after(&["-c", "1,2:0,1", "-f", "channels_first"]),
        "(1, 6, 5, 1)"
    );
}

#[test]
fn the_default_format_comes_from_keras_json() {
    let rcrop = Rcrop::new();
    assert_eq!(rcrop.shape_after(&["-c", "1,0:0,1"]), "(1, 5, 7, 2)");
    rcrop.write_keras_json(r#"{"floatx": "float32", "image_data_format": "channels_first"}"#);
    assert_eq!(rcrop.shape_after(&["-c", "1,0:0,1"]), "(1, 6, 7, 1)");
    // The flag wins over the config.
    assert_eq!(
        rcrop.shape_after(&["-c", "1,0:0,1", "-f", "channels_last"]),
        "(1, 5, 7, 2)"
    );
}

#[test]
fn without_keras_home_the_config_is_read_from_home() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".keras")).unwrap();
    std::fs::write(
        home.path().join(".keras/keras.json"),
        r#"{"image_data_format": "channels_first"}"#,
    )
    .unwrap();
    let out = Rcrop::cmd_with_home(home.path())
        .args(["-c", "1,0:0,1", "-", "-"])
        .write_stdin(u8_npy([1, 6, 8, 2]))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("'shape': (1, 6, 7, 1)"));
}

#[test]
fn the_keras_config_is_never_created() {
    let home = tempfile::tempdir().unwrap();
    Rcrop::cmd_with_home(home.path())
        .args(["-c", "1", "-", "-"])
        .write_stdin(u8_npy([1, 6, 8, 2]))
        .assert()
        .success();
    assert!(listing(home.path()).is_empty());
}

#[test]
fn invalid_keras_json_is_ignored_with_a_warning() {
    let rcrop = Rcrop::new();
    rcrop.write_keras_json("{\"image_data_format\": \"channels_first\"");
    let out = rcrop
        .cmd()
        .args(["-c", "1,0:0,1", "-", "-"])
        .write_stdin(u8_npy([1, 6, 8, 2]))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("warning: "), "{stderr}");
    assert!(stderr.contains("keras.json"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("'shape': (1, 5, 7, 2)"));
}

#[test]
fn an_unknown_keras_json_format_is_an_error_naming_file_and_value() {
    let rcrop = Rcrop::new();
    rcrop.write_keras_json(r#"{"image_data_format": "channels_middle"}"#);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.npy");
    let out = rcrop
        .cmd()
        .args(["-c", "1", "-"])
        .arg(&out_path)
        .write_stdin(u8_npy([1, 6, 8, 2]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("keras.json") && stderr.contains("\"channels_middle\""),
        "{stderr}"
    );
    assert!(!out_path.exists());
    // An explicit --format does not need the config at all.
    rcrop
        .cmd()
        .args(["-c", "1", "-f", "channels_last", "-"])
        .arg(&out_path)
        .write_stdin(u8_npy([1, 6, 8, 2]))
        .assert()
        .success();
}

#[test]
fn help_shows_examples_and_exit_codes_and_version_prints() {
    let rcrop = Rcrop::new();
    let out = rcrop.cmd().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--crop",
        "--format",
        "channels_first",
        "Examples:",
        "Exit status",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
    let out = rcrop.cmd().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("rcrop {}", env!("CARGO_PKG_VERSION"))
    );
}

/// The text `--generate KIND` prints.
fn generate(kind: &str) -> String {
    Rcrop::new().stdout_of(&["--generate", kind])
}

/// The long flags that `--help` lists, e.g. `--crop`.
fn long_flags() -> Vec<String> {
    let help = Rcrop::new().stdout_of(&["--help"]);
    let mut flags: Vec<String> = help
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let start = line.find("--")?;
            let flag: String = line[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (line.starts_with('-') && flag.len() > 2).then_some(flag)
        })
        .collect();
    flags.sort();
    flags.dedup();
    assert!(flags.len() > 20, "too few flags found in --help: {flags:?}");
    flags
}

#[test]
fn bash_parses_the_bash_completion() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("rcrop.bash");
    let text = generate("complete-bash");
    assert!(
        text.contains("--crop") && text.contains("--generate"),
        "{text}"
    );
    std::fs::write(&script, text).unwrap();
    let status = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("run bash");
    assert!(status.success(), "bash -n rejected the completion script");
}

#[test]
fn every_shell_gets_a_script_naming_every_flag() {
    let flags = long_flags();
    for kind in [
        "complete-bash",
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
        "complete-elvish",
    ] {
        let text = generate(kind);
        for flag in &flags {
            let bare = flag.trim_start_matches('-');
            assert!(text.contains(bare), "{kind} lacks {flag}");
        }
    }
}

#[test]
fn man_renders_the_page_with_every_flag() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("rcrop.1");
    std::fs::write(&page, generate("man")).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("LC_ALL", "C")
        .env("MANWIDTH", "300")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("run man (the man-db package)");
    assert!(
        out.status.success(),
        "man -l failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NAME") && text.contains("rcrop"), "{text}");
    for flag in long_flags() {
        assert!(
            text.contains(&flag),
            "the rendered man page lacks {flag}:\n{text}"
        );
    }
}

#[test]
fn generate_takes_no_other_argument() {
    let out = Rcrop::new()
        .cmd()
        .args(["--generate", "man", "--crop", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Rcrop::new()
        .cmd()
        .args(["--generate", "complete-tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
