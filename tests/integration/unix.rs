//! rcrop as a Unix tool in scripts and pipelines: a reader that closes the
//! pipe, signals that end a batch as they would end any program (and one
//! inherited as ignored that stays so), no data on a terminal, and the help,
//! completions and man page a shell user expects.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};

use crate::util::{Rcrop, listing, npy_bytes, u8_npy};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Standard output a pipe whose reader is already gone.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_closed_pipe_ends_text_output_quietly_with_success() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let mut many = Vec::new();
    for i in 0..300 {
        let path = dir.path().join(format!("in{i:03}.npy"));
        std::fs::write(&path, u8_npy([1, 4, 4, 3])).unwrap();
        many.push(path.to_str().unwrap().to_owned());
    }
    let out_dir = dir.path().join("o");
    let dry_run: Vec<&str> = [
        "-c",
        "1",
        "--dry-run",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]
    .into_iter()
    .chain(many.iter().map(String::as_str))
    .collect();
    let runs: [&[&str]; 5] = [
        &["--print-config", "--crop", "2"],
        &["--input-shape", "None,28,28,3", "--crop", "2"],
        &["--generate", "man"],
        &["--generate", "complete-bash"],
        &dry_run,
    ];
    for args in runs {
        let out = rcrop
            .std_cmd()
            .args(args)
            .stdout(closed_pipe())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{:?}: {}",
            &args[..2],
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{:?}", &args[..2]);
    }
    assert!(!out_dir.exists());
}

#[test]
fn text_that_cannot_be_written_is_an_error_not_a_panic() {
    let full = File::options().write(true).open("/dev/full");
    let Ok(full) = full else {
        return;
    };
    let out = Rcrop::new()
        .std_cmd()
        .args(["--print-config", "--crop", "2"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: standard output: "), "{stderr}");
}

/// A batch of a small `.npy` and one read from a FIFO that is fed half of
/// its data and then held, so that the run stands still with the first
/// output in place and the second one's temporary file open.
struct HeldBatch {
    dir: tempfile::TempDir,
    child: Child,
    fifo: File,
    rest: Vec<u8>,
}

impl HeldBatch {
    fn start(rcrop: &Rcrop, prepare: impl FnOnce(&mut Command)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.npy"), u8_npy([2, 6, 6, 3])).unwrap();
        let fifo_path = dir.path().join("fifo.npy");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo_path, rustix::fs::Mode::RWXU).unwrap();
        let mut cmd = rcrop.std_cmd();
        cmd.current_dir(dir.path())
            .args(["-c", "1", "-j", "2", "--out-dir", "o", "a.npy", "fifo.npy"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        prepare(&mut cmd);
        let child = cmd.spawn().unwrap();
        // Opening the writing end waits for rcrop to open the reading end.
        let mut fifo = File::options().write(true).open(&fifo_path).unwrap();
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (8, 100, 100, 10), }";
        let all = npy_bytes(header, &[7; 800_000]);
        let (first, rest) = all.split_at(all.len() / 2);
        fifo.write_all(first).unwrap();
        fifo.flush().unwrap();
        let batch = HeldBatch {
            dir,
            child,
            fifo,
            rest: rest.to_vec(),
        };
        batch.wait_for(|names| names.contains(&"a.npy".to_owned()) && names.len() == 2);
        batch
    }

    fn out_dir(&self) -> PathBuf {
        self.dir.path().join("o")
    }

    /// Waits until the output folder's listing satisfies `ready`.
    fn wait_for(&self, ready: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        // The folder is made once the batch has started.
        let seen = || {
            let dir = self.out_dir();
            if dir.is_dir() {
                listing(&dir)
            } else {
                Vec::new()
            }
        };
        while !ready(&seen()) && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let names = listing(&self.out_dir());
        assert!(ready(&names), "the batch did not get there: {names:?}");
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill only sends a signal to the child started here.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

#[test]
fn a_signal_ends_a_batch_by_that_signal_leaving_only_complete_outputs() {
    let rcrop = Rcrop::new();
    let expected = {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.npy"), u8_npy([2, 6, 6, 3])).unwrap();
        let out = rcrop
            .std_cmd()
            .current_dir(dir.path())
            .args(["-c", "1", "a.npy", "b.npy"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read(dir.path().join("b.npy")).unwrap()
    };
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let batch = HeldBatch::start(&rcrop, |_| {});
        let out_dir = batch.out_dir();
        batch.signal(signal);
        let out = batch.child.wait_with_output().unwrap();
        drop(batch.fifo);
        assert_eq!(out.status.signal(), Some(signal), "{}", text(&out.stderr));
        assert_eq!(listing(&out_dir), ["a.npy"], "signal {signal}");
        let written = std::fs::read(out_dir.join("a.npy")).unwrap();
        assert!(
            written == expected,
            "signal {signal}: a.npy is not complete"
        );
    }
}

#[test]
fn a_hangup_ignored_by_the_parent_stays_ignored() {
    let rcrop = Rcrop::new();
    let ignore_hangups = |cmd: &mut Command| {
        // SAFETY: signal is async-signal-safe, as pre_exec requires.
        unsafe {
            cmd.pre_exec(|| {
                if libc::signal(libc::SIGHUP, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    };
    let mut batch = HeldBatch::start(&rcrop, ignore_hangups);
    let out_dir = batch.out_dir();
    batch.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    batch.fifo.write_all(&batch.rest).unwrap();
    drop(batch.fifo);
    let out = batch.child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(listing(&out_dir), ["a.npy", "fifo.npy"]);
}

/// A pseudo-terminal, as a child's standard output.
fn terminal() -> (rustix::fd::OwnedFd, Stdio) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&controller).unwrap();
    unlockpt(&controller).unwrap();
    let name = ptsname(&controller, Vec::new()).unwrap();
    let path = PathBuf::from(name.to_str().unwrap());
    let user = File::options().read(true).write(true).open(path).unwrap();
    (controller, Stdio::from(user))
}

#[test]
fn binary_output_to_a_terminal_is_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    std::fs::write(&input, u8_npy([1, 4, 4, 3])).unwrap();
    let input = input.to_str().unwrap();
    let runs: [(&[&str], &str); 2] = [
        (&["-c", "1", input, "-"], "the cropped"),
        (
            &["-c", "1", "--stack", "-o", "-", input],
            "the stacked batch",
        ),
    ];
    for (args, what) in runs {
        let (_controller, stdout) = terminal();
        let out = rcrop.std_cmd().args(args).stdout(stdout).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(what)
                && stderr.contains(
                    "would go to standard output, which is a terminal; \
                     redirect standard output or give a file"
                ),
            "{stderr}"
        );
    }
    // Text is for terminals: a dry run to one is fine.
    let (_controller, stdout) = terminal();
    let out = rcrop
        .std_cmd()
        .args(["-c", "1", "--dry-run", input, "-"])
        .stdout(stdout)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn short_help_is_a_line_a_flag_under_headings_and_long_help_has_exit_statuses() {
    let rcrop = Rcrop::new();
    let short = text(&rcrop.output(&["-h"]).stdout);
    for heading in [
        "Crop:",
        "Inputs:",
        "Outputs:",
        "Images:",
        "Batch:",
        "Information:",
    ] {
        assert!(
            short.lines().any(|l| l == heading),
            "-h lacks {heading}:\n{short}"
        );
    }
    let continued: Vec<&str> = short
        .lines()
        .filter(|l| l.starts_with("          "))
        .collect();
    assert!(continued.is_empty(), "-h wraps: {continued:?}");
    let long = text(&rcrop.output(&["--help"]).stdout);
    assert!(long.lines().count() > 2 * short.lines().count());
    for needle in ["Exit status:", "  0: ", "  1: ", "  2: ", "130", "SIGTERM"] {
        assert!(long.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn completions_offer_every_enumeration_and_folders_for_out_dir() {
    let rcrop = Rcrop::new();
    let bash = text(&rcrop.output(&["--generate", "complete-bash"]).stdout);
    let offered = [
        ("--format", "channels_last"),
        ("--to", "png"),
        ("--layer", "Cropping3D"),
        ("--color-mode", "grayscale"),
        ("--png-compression", "best"),
        ("--report", "json"),
        ("--generate", "complete-fish"),
        ("--order", "keep"),
    ];
    for (flag, value) in offered {
        let mut lines = bash.lines().skip_while(|l| l.trim() != format!("{flag})"));
        let values = lines
            .nth(1)
            .unwrap_or_else(|| panic!("no {flag} in:\n{bash}"));
        assert!(
            values.contains("compgen -W \"") && values.contains(value),
            "{flag}: {values}"
        );
    }
    let zsh = text(&rcrop.output(&["--generate", "complete-zsh"]).stdout);
    let folder = zsh.lines().find(|l| l.contains("--out-dir=")).unwrap();
    assert!(folder.ends_with(":_files -/' \\"), "{folder}");
    for flag in ["--crop=", "--center-crop=", "--input-shape=", "--jobs="] {
        let line = zsh.lines().find(|l| l.contains(flag)).unwrap();
        assert!(!line.contains("_files"), "{line}");
    }
}

#[test]
fn the_man_page_has_examples_and_exit_statuses() {
    let out = Rcrop::new().output(&["--generate", "man"]);
    let page = text(&out.stdout);
    for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\""] {
        assert!(page.contains(section), "no {section} in:\n{page}");
    }
    assert!(!page.contains("EXTRA"), "{page}");
    assert!(page.contains("130, 143, 129"), "{page}");
}

#[test]
fn negative_numbers_are_judged_as_values() {
    let rcrop = Rcrop::new();
    let runs: [&[&str]; 4] = [
        &["--center-crop", "-5,5", "a.npy", "b.npy"],
        &["--crop", "-1", "a.npy", "b.npy"],
        &["--crop", "1", "--quality", "-5", "a.jpg", "b.jpg"],
        &["--crop", "1", "--input-shape", "-1,28,28,3"],
    ];
    for args in runs {
        let out = rcrop.output(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("error: invalid value '-") && !stderr.contains("unexpected"),
            "{stderr}"
        );
    }
}

#[test]
fn threads_is_jobs_and_verbose_names_each_output_written() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.npy"), u8_npy([1, 4, 4, 3])).unwrap();
    std::fs::write(dir.path().join("b.npy"), u8_npy([2, 4, 4, 3])).unwrap();
    let out = rcrop
        .std_cmd()
        .current_dir(dir.path())
        .args(["-c", "1", "--threads", "2", "-v", "--to", "png"])
        .args(["--out-dir", "o", "a.npy", "b.npy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stderr).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "a.npy[0] -> o/a_0.png: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'",
            "b.npy[0] -> o/b_0.png: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'",
            "b.npy[1] -> o/b_1.png: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'",
        ]
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn a_dry_run_names_every_output_with_the_shapes() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.npy"), u8_npy([1, 4, 4, 3])).unwrap();
    std::fs::write(dir.path().join("b.npy"), u8_npy([2, 4, 4, 3])).unwrap();
    let dry_run = |args: &[&str]| {
        let out = rcrop
            .std_cmd()
            .current_dir(dir.path())
            .args(["-c", "1", "--dry-run"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The first line says which data format is in force, and why.
    let single = dry_run(&["a.npy", "b.npy"]);
    let (format, lines) = single.split_once('\n').unwrap();
    assert!(
        format.starts_with(
            "data format: channels_last (Keras' default, as no --format is given and "
        ) && format.ends_with("keras.json sets no other)"),
        "{format}"
    );
    assert_eq!(
        lines,
        "a.npy -> b.npy: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'\n"
    );
    assert_eq!(
        dry_run(&[
            "-f",
            "channels_last",
            "--to",
            "png",
            "--out-dir",
            "o",
            "b.npy"
        ]),
        "data format: channels_last (given by --format)\n\
         b.npy[0] -> o/b_0.png: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'\n\
         b.npy[1] -> o/b_1.png: (1, 4, 4, 3) -> (1, 2, 2, 3) '|u1'\n"
    );
    assert_eq!(listing(dir.path()), ["a.npy", "b.npy"]);
}
