//! `--report json` and what a batch says: a record for each input as it is
//! settled and a summary record, their fields, what a signal leaves, and
//! the same messages, in input order, on every run.

use serde_json::{Value, json};

use crate::util::{Rcrop, fixture, gradient_rgb8, npy_bytes, save_image};

/// The records of a `--report json` run: one an input, in input order,
/// then the summary.
pub fn records(stdout: &[u8]) -> (Vec<Value>, Value) {
    let mut all: Vec<Value> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = all.pop().expect("a summary record");
    assert_eq!(summary["record"], "summary", "{summary}");
    assert_eq!(summary["schema"], 1, "{summary}");
    for record in &all {
        assert_eq!(record["record"], "input", "{record}");
        assert_eq!(record["schema"], 1, "{record}");
    }
    (all, summary)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn records_give_numpy_dtypes_the_data_format_and_how_a_jpeg_was_written() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 4, 3), }";
    std::fs::write(dir.path().join("f.npy"), npy_bytes(header, &[0; 192])).unwrap();
    std::fs::copy(fixture("jpeg/cjpeg_rgb.jpg"), dir.path().join("pic.jpg")).unwrap();
    let run = |rcrop: &Rcrop, args: &[&str]| {
        let out = rcrop
            .std_cmd()
            .current_dir(dir.path())
            .args(["-c", "0", "-v", "--report", "json"])
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), records(&out.stdout), text(&out.stderr))
    };
    let args = ["-f", "channels_last", "--keep-going", "--out-dir", "o"];
    let (code, (lines, summary), stderr) = run(
        &rcrop,
        &[&args[..], &["pic.jpg", "f.npy", "none.npy"]].concat(),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(lines[0]["jpeg"], "lossless");
    assert_eq!(lines[1]["dtype"], "<f4", "NumPy's string, no quotes");
    assert!(lines[1]["jpeg"].is_null());
    for line in &lines {
        assert_eq!(line["data_format"], "channels_last");
        assert_eq!(line["data_format_from"], "flag");
    }
    assert!(
        stderr.contains("pic.jpg -> o/pic.jpg: (1, 45, 61, 3) -> (1, 45, 61, 3) '|u1' (lossless)"),
        "{stderr}"
    );
    assert!(stderr.contains("f.npy -> o/f.npy: (1, 4, 4, 3) -> (1, 4, 4, 3) '<f4'\n"));
    let failures = json!([{
        "input": "none.npy",
        "error": lines[2]["error"],
    }]);
    assert_eq!(summary["failures"], failures);
    let counts = ["inputs", "written", "skipped", "failed", "not_run"].map(|k| &summary[k]);
    assert_eq!(
        counts,
        [&json!(3), &json!(2), &json!(0), &json!(1), &json!(0)]
    );
    assert!(summary["seconds"].as_f64().is_some_and(|s| s >= 0.0));
    // A keras.json on the machine is named as the source of the format.
    rcrop.write_keras_json(r#"{"image_data_format": "channels_first"}"#);
    let (code, (lines, _), stderr) = run(&rcrop, &["--reencode", "-o", "re.jpg", "pic.jpg"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines[0]["jpeg"], "reencoded");
    assert_eq!(lines[0]["data_format"], "channels_first");
    assert_eq!(lines[0]["data_format_from"], "keras.json");
    assert!(stderr.contains("(re-encoded)"), "{stderr}");
    let (_, (lines, _), _) = run(&Rcrop::new(), &["-o", "g.npy", "f.npy"]);
    assert_eq!(lines[0]["data_format_from"], "default");
}

/// Eight inputs, three of them too small for `-c 3`, in this order.
fn mixed_batch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, size) in [10, 4, 10, 4, 10, 4, 10, 10].into_iter().enumerate() {
        save_image(
            &gradient_rgb8(size, size),
            &dir.path().join(format!("p{i}.png")),
        );
    }
    dir
}

#[test]
fn a_batch_says_the_same_in_input_order_on_every_run() {
    let rcrop = Rcrop::new();
    let dir = mixed_batch();
    let inputs: Vec<String> = (0..8).map(|i| format!("p{i}.png")).collect();
    let run = |keep_going: bool| {
        let mut cmd = rcrop.std_cmd();
        cmd.current_dir(dir.path())
            .args(["-c", "3", "-j", "4", "--report", "json", "--out-dir", "o"])
            .args(&inputs);
        if keep_going {
            cmd.arg("--keep-going");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let (lines, summary) = records(&out.stdout);
        let statuses: Vec<Value> = lines.iter().map(|l| l["status"].clone()).collect();
        let counts = ["written", "failed", "not_run"].map(|k| summary[k].clone());
        (text(&out.stderr), statuses, counts)
    };
    let failed = |i| format!("error: p{i}.png: ");
    for keep_going in [false, true] {
        let first = run(keep_going);
        let (stderr, statuses, counts) = &first;
        let errors: Vec<&str> = stderr.lines().collect();
        if keep_going {
            assert_eq!(errors.len(), 4, "{stderr}");
            for (line, i) in errors.iter().zip([1, 3, 5]) {
                assert!(line.starts_with(&failed(i)), "{stderr}");
            }
            assert_eq!(errors[3], "error: 3 of 8 inputs failed");
            assert_eq!(counts, &[json!(5), json!(3), json!(0)]);
        } else {
            // Every input before the first failure runs; every one after is not run.
            assert_eq!(errors.len(), 2, "{stderr}");
            assert!(errors[0].starts_with(&failed(1)), "{stderr}");
            assert_eq!(
                errors[1],
                "error: 1 of 8 inputs failed; 6 not run (--keep-going goes on after a failure)"
            );
            let expected = [json!("ok"), json!("failed")]
                .into_iter()
                .chain(std::iter::repeat_n(json!("not_run"), 6));
            assert_eq!(statuses, &expected.collect::<Vec<_>>());
            assert_eq!(counts, &[json!(1), json!(1), json!(6)]);
        }
        for _ in 0..19 {
            assert_eq!(run(keep_going), first, "--keep-going: {keep_going}");
        }
    }
}

/// A batch with an input that is a FIFO the test holds open, so that the
/// batch is still running while the test looks at it.
#[cfg(unix)]
mod held {
    use std::fs::File;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use crate::util::{Rcrop, listing, npy_bytes, u8_npy};

    struct Held {
        dir: tempfile::TempDir,
        child: Child,
        fifo: File,
    }

    impl Held {
        /// Starts `rcrop --report json` on `inputs` (`a.npy`, a file, and
        /// `fifo.npy`, half written and held open).
        fn start(rcrop: &Rcrop, inputs: [&str; 2]) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("a.npy"), u8_npy([2, 6, 6, 3])).unwrap();
            let fifo_path = dir.path().join("fifo.npy");
            rustix::fs::mkfifoat(rustix::fs::CWD, &fifo_path, rustix::fs::Mode::RWXU).unwrap();
            let child = rcrop
                .std_cmd()
                .current_dir(dir.path())
                .args(["-c", "1", "-j", "2", "--report", "json", "--out-dir", "o"])
                .args(inputs)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Opening the writing end waits for rcrop to open the reading end.
            let mut fifo = File::options().write(true).open(&fifo_path).unwrap();
            let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (8, 100, 100, 10), }";
            let all = npy_bytes(header, &[7; 800_000]);
            fifo.write_all(&all[..all.len() / 2]).unwrap();
            Held { dir, child, fifo }
        }

        fn outputs(&self) -> Vec<String> {
            let dir = self.dir.path().join("o");
            if dir.is_dir() {
                listing(&dir)
            } else {
                Vec::new()
            }
        }

        /// Ends the batch by SIGTERM; returns the records it printed, and
        /// its folder.
        fn terminate(mut self, stdout: impl Read) -> (Vec<Value>, tempfile::TempDir) {
            let pid = i32::try_from(self.child.id()).unwrap();
            // SAFETY: kill only sends a signal to the child started here.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
            let status = self.child.wait().unwrap();
            let mut stderr = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                e.read_to_string(&mut stderr).unwrap();
            }
            drop(self.fifo);
            assert_eq!(status.signal(), Some(libc::SIGTERM), "{stderr}");
            let lines: Vec<String> = BufReader::new(stdout).lines().map(Result::unwrap).collect();
            let records = lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
                .collect();
            (records, self.dir)
        }
    }

    #[test]
    fn a_record_is_printed_as_its_input_ends_while_the_batch_runs() {
        let rcrop = Rcrop::new();
        let mut held = Held::start(&rcrop, ["a.npy", "fifo.npy"]);
        let mut stdout = BufReader::new(held.child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut first = String::new();
            stdout.read_line(&mut first).unwrap();
            tx.send(first).unwrap();
            stdout
        });
        let first = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the first record, while the batch runs");
        assert!(
            held.child.try_wait().unwrap().is_none(),
            "the batch still runs"
        );
        let record: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(record["input"], "a.npy");
        assert_eq!(record["status"], "ok");
        let (rest, _) = held.terminate(reader.join().unwrap());
        assert!(rest.is_empty(), "nothing more: {rest:?}");
    }

    #[test]
    fn a_signal_leaves_a_record_for_every_output_on_disk() {
        let rcrop = Rcrop::new();
        // a.npy ends first but waits, in input order, for the FIFO.
        let mut held = Held::start(&rcrop, ["fifo.npy", "a.npy"]);
        let start = Instant::now();
        let a_written = |held: &Held| held.outputs().contains(&"a.npy".to_owned());
        while !a_written(&held) && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(a_written(&held), "{:?}", held.outputs());
        let stdout = held.child.stdout.take().unwrap();
        let (records, dir) = held.terminate(stdout);
        assert_eq!(listing(&dir.path().join("o")), ["a.npy"], "{records:?}");
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["input"], "a.npy");
        assert_eq!(records[0]["output"], "o/a.npy");
        assert_eq!(records[0]["status"], "ok");
    }
}
