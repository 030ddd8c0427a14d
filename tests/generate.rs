//! `--generate`: completion scripts that their shells parse, and a man page
//! that `man` renders with every flag of `--help` in it.

mod common;

use std::process::Command;

use common::Rcrop;

fn generate(kind: &str) -> String {
    let out = Rcrop::new()
        .cmd()
        .args(["--generate", kind])
        .output()
        .expect("run rcrop");
    assert!(
        out.status.success(),
        "--generate {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The long flags that `--help` lists, e.g. `--crop`.
fn long_flags() -> Vec<String> {
    let out = Rcrop::new()
        .cmd()
        .arg("--help")
        .output()
        .expect("run rcrop");
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
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
