//! Batches: --out-dir, -r, --files-from, --stack and the split back, -j,
//! --keep-going, --no-clobber and --report json.

use std::path::{Path, PathBuf};

use crate::report::records;
use crate::util::{Rcrop, gradient_rgb8, listing, load_image, npy_bytes, save_image, u8_npy};
use image::GenericImageView;

/// Every file under `dir`, relative path and bytes, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// A folder of inputs: two images, a .npy, and (optionally) a damaged file.
fn inputs(with_bad: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    save_image(&gradient_rgb8(12, 10), &dir.path().join("a.png"));
    save_image(&gradient_rgb8(9, 9), &dir.path().join("b.png"));
    std::fs::write(dir.path().join("c.npy"), u8_npy([2, 6, 6, 3])).unwrap();
    if with_bad {
        std::fs::write(dir.path().join("bad.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
    }
    dir
}

fn names(dir: &Path, files: &[&str]) -> Vec<PathBuf> {
    files.iter().map(|f| dir.join(f)).collect()
}

#[test]
fn out_dir_writes_each_input_under_its_name() {
    let rcrop = Rcrop::new();
    let src = inputs(false);
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("new/folder");
    let result = rcrop
        .cmd()
        .args(["-c", "1", "--out-dir"])
        .arg(&out_dir)
        .args(names(src.path(), &["a.png", "b.png", "c.npy"]))
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        result.stderr.is_empty(),
        "no progress bar or chatter when not on a terminal"
    );
    assert_eq!(listing(&out_dir), ["a.png", "b.png", "c.npy"]);
    assert_eq!(load_image(&out_dir.join("a.png")).dimensions(), (10, 8));
    // --to changes the extension.
    let npy_dir = out.path().join("as_npy");
    rcrop
        .cmd()
        .args(["-c", "1", "--to", "npy", "--out-dir"])
        .arg(&npy_dir)
        .args(names(src.path(), &["a.png", "b.png"]))
        .assert()
        .success();
    assert_eq!(listing(&npy_dir), ["a.npy", "b.npy"]);
}

#[test]
fn without_keep_going_the_first_failure_stops_the_batch() {
    let rcrop = Rcrop::new();
    let src = inputs(true);
    let out = tempfile::tempdir().unwrap();
    let result = rcrop
        .cmd()
        .args(["-c", "1", "-j", "1", "--out-dir"])
        .arg(out.path())
        .args(names(src.path(), &["bad.png", "a.png", "b.png", "c.npy"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bad.png: cannot decode the PNG image"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 4 inputs failed; 3 not run"),
        "{stderr}"
    );
    // What was written is complete, and nothing else is there.
    assert!(
        listing(out.path())
            .iter()
            .all(|name| !name.starts_with(".rcrop-"))
    );
}

#[test]
fn keep_going_crops_the_rest_and_counts_the_failures() {
    let rcrop = Rcrop::new();
    let src = inputs(true);
    let out = tempfile::tempdir().unwrap();
    let result = rcrop
        .cmd()
        .args(["-c", "1", "--keep-going", "--out-dir"])
        .arg(out.path())
        .args(names(
            src.path(),
            &["a.png", "bad.png", "missing.png", "b.png", "c.npy"],
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.png: cannot decode"), "{stderr}");
    assert!(stderr.contains("missing.png: cannot open"), "{stderr}");
    assert!(stderr.contains("error: 2 of 5 inputs failed"), "{stderr}");
    // c.npy has a batch of 2: to .npy it stays one file.
    assert_eq!(listing(out.path()), ["a.png", "b.png", "c.npy"]);
}

#[test]
fn the_thread_count_does_not_change_the_outputs() {
    let rcrop = Rcrop::new();
    let src = inputs(false);
    std::fs::create_dir(src.path().join("sub")).unwrap();
    save_image(&gradient_rgb8(20, 14), &src.path().join("sub/d.png"));
    std::fs::write(src.path().join("sub/notes.txt"), "not an input").unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut trees = Vec::new();
    for jobs in ["1", "2"] {
        let dir = out.path().join(jobs);
        rcrop
            .cmd()
            .args(["-c", "2", "-r", "-j", jobs, "--to", "webp", "--out-dir"])
            .arg(&dir)
            .arg(src.path())
            .assert()
            .success();
        trees.push(tree(&dir));
    }
    let files: Vec<_> = trees[0].iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(
        files,
        ["a.webp", "b.webp", "c_0.webp", "c_1.webp", "sub/d.webp"].map(PathBuf::from)
    );
    assert_eq!(trees[0], trees[1]);
}

#[test]
fn files_from_takes_odd_names_and_nul_separators() {
    let rcrop = Rcrop::new();
    let src = tempfile::tempdir().unwrap();
    let mut odd = vec!["with space.png".to_string(), "line\nbreak.png".to_string()];
    save_image(&gradient_rgb8(6, 6), &src.path().join(&odd[0]));
    save_image(&gradient_rgb8(6, 6), &src.path().join(&odd[1]));
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"latin\xe9.png");
        save_image(&gradient_rgb8(6, 6), &src.path().join(raw));
        odd.push(String::new());
    }
    let mut list = Vec::new();
    for entry in std::fs::read_dir(src.path()).unwrap() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            list.extend_from_slice(entry.unwrap().path().as_os_str().as_bytes());
        }
        #[cfg(not(unix))]
        list.extend_from_slice(entry.unwrap().path().to_string_lossy().as_bytes());
        list.push(0);
    }
    let out = tempfile::tempdir().unwrap();
    rcrop
        .cmd()
        .args(["-c", "1", "--files-from", "-", "-0", "--out-dir"])
        .arg(out.path())
        .write_stdin(list)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        std::fs::read_dir(src.path()).unwrap().count()
    );
    assert!(out.path().join("line\nbreak.png").exists());
    // One name a line from a file.
    let list_file = src.path().join("list.txt");
    std::fs::write(
        &list_file,
        format!("{}\n\n", src.path().join("with space.png").display()),
    )
    .unwrap();
    let out2 = tempfile::tempdir().unwrap();
    rcrop
        .cmd()
        .args(["-c", "1", "--files-from"])
        .arg(&list_file)
        .arg("--out-dir")
        .arg(out2.path())
        .assert()
        .success();
    assert_eq!(listing(out2.path()), ["with space.png"]);
}

#[test]
fn stack_builds_one_batch_and_out_dir_splits_it_back() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let images: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("img{i}.png")))
        .collect();
    for (i, path) in images.iter().enumerate() {
        let image = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(7, 5, |x, y| {
            image::Rgb([x as u8, y as u8, i as u8])
        }));
        save_image(&image, path);
    }
    let batch = dir.path().join("batch.npy");
    rcrop
        .cmd()
        .args(["-c", "1,0:2,1", "-f", "channels_first", "--stack", "-o"])
        .arg(&batch)
        .args(&images)
        .assert()
        .success();
    let bytes = std::fs::read(&batch).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("'shape': (3, 3, 4, 4), }"));
    let frames = dir.path().join("frames");
    rcrop
        .cmd()
        .args([
            "-c",
            "0",
            "-f",
            "channels_first",
            "--to",
            "png",
            "--out-dir",
        ])
        .arg(&frames)
        .arg(&batch)
        .assert()
        .success();
    assert_eq!(
        listing(&frames),
        ["batch_0.png", "batch_1.png", "batch_2.png"]
    );
    for (i, path) in images.iter().enumerate() {
        let original = load_image(path).crop_imm(2, 1, 4, 4);
        let frame = load_image(&frames.join(format!("batch_{i}.png")));
        assert_eq!(frame.as_bytes(), original.as_bytes(), "sample {i}");
    }
}

#[test]
fn a_stack_of_different_shapes_names_both_files_and_writes_nothing() {
    let rcrop = Rcrop::new();
    let src = inputs(false);
    let batch = src.path().join("batch.npy");
    let result = rcrop
        .cmd()
        .args(["-c", "1", "--stack", "-o"])
        .arg(&batch)
        .args(names(src.path(), &["a.png", "b.png"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("b.png: is (1, 7, 7, 3) '|u1' after cropping, but"),
        "{stderr}"
    );
    assert!(stderr.contains("a.png is (1, 8, 10, 3) '|u1'"), "{stderr}");
    assert!(!batch.exists());
}

#[test]
fn split_indices_are_zero_padded_in_batch_order() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..12 * 4).map(|i| (i / 4) as u8).collect();
    let input = dir.path().join("many.npy");
    std::fs::write(
        &input,
        npy_bytes(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (12, 2, 2, 1), }",
            &data,
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    rcrop
        .cmd()
        .args(["-c", "0", "-f", "channels_last", "--to", "png", "--out-dir"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let names = listing(&out);
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], "many_00.png");
    assert_eq!(names[11], "many_11.png");
    assert_eq!(
        load_image(&out.join("many_07.png")).as_bytes(),
        &[7, 7, 7, 7]
    );
}

#[test]
fn no_clobber_leaves_existing_outputs_alone() {
    let rcrop = Rcrop::new();
    let src = inputs(false);
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("a.png"), b"keep me").unwrap();
    let result = rcrop
        .cmd()
        .args(["-c", "1", "-n", "--report", "json", "--out-dir"])
        .arg(out.path())
        .args(names(src.path(), &["a.png", "b.png"]))
        .output()
        .unwrap();
    assert!(result.status.success());
    assert_eq!(std::fs::read(out.path().join("a.png")).unwrap(), b"keep me");
    assert!(out.path().join("b.png").exists());
    let (lines, summary) = records(&result.stdout);
    assert_eq!(lines[0]["status"], "skipped");
    assert_eq!(lines[1]["status"], "ok");
    assert_eq!(
        (&summary["skipped"], &summary["written"]),
        (&1.into(), &1.into())
    );
}

#[test]
fn the_json_report_accounts_for_every_input_in_order() {
    let rcrop = Rcrop::new();
    let src = inputs(true);
    let out = tempfile::tempdir().unwrap();
    let result = rcrop
        .cmd()
        .args([
            "-c",
            "1",
            "-f",
            "channels_last",
            "--keep-going",
            "--report",
            "json",
            "--out-dir",
        ])
        .arg(out.path())
        .args(names(src.path(), &["a.png", "bad.png", "c.npy"]))
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let (lines, _) = records(&result.stdout);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["input"],
        src.path().join("a.png").display().to_string()
    );
    assert_eq!(
        lines[0]["output"],
        out.path().join("a.png").display().to_string()
    );
    assert_eq!(lines[0]["input_shape"], serde_json::json!([1, 10, 12, 3]));
    assert_eq!(lines[0]["output_shape"], serde_json::json!([1, 8, 10, 3]));
    assert_eq!(lines[0]["dtype"], "|u1");
    assert_eq!(lines[0]["status"], "ok");
    assert!(lines[0]["error"].is_null());
    assert_eq!(lines[1]["status"], "failed");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("bad.png: cannot decode")
    );
    assert_eq!(lines[2]["input_shape"], serde_json::json!([2, 6, 6, 3]));
    assert_eq!(lines[2]["output_shape"], serde_json::json!([2, 4, 4, 3]));
}

#[test]
fn batch_usage_errors_exit_2() {
    let rcrop = Rcrop::new();
    let src = inputs(false);
    let out = tempfile::tempdir().unwrap();
    let cases: [(Vec<String>, &str); 4] = [
        (
            vec!["a.png".into(), "b.png".into(), "c.npy".into()],
            "for many inputs use --out-dir",
        ),
        (
            vec![
                "--out-dir".into(),
                out.path().display().to_string(),
                src.path().display().to_string(),
            ],
            "is a directory; expected a file, or -r",
        ),
        (
            vec![
                "--out-dir".into(),
                out.path().display().to_string(),
                "--to".into(),
                "npy".into(),
                "a.png".into(),
                "a.npy".into(),
            ],
            "would both write",
        ),
        (vec!["--stack".into(), "a.png".into()], "--output"),
    ];
    for (args, needle) in cases {
        let result = rcrop
            .cmd()
            .current_dir(src.path())
            .args(["-c", "1"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn a_batch_split_into_images_that_collides_with_another_input_is_refused_before_running() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.npy"), u8_npy([2, 4, 4, 3])).unwrap();
    save_image(&gradient_rgb8(4, 4), &dir.path().join("a_0.png"));
    let out = dir.path().join("o");
    let result = rcrop
        .cmd()
        .current_dir(dir.path())
        .args([
            "-c",
            "1",
            "--to",
            "png",
            "--out-dir",
            "o",
            "a.npy",
            "a_0.png",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a.npy and a_0.png would both write o/a_0.png"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written: {:?}", listing(&out));
}

#[test]
fn the_run_the_dry_run_and_the_report_name_outputs_alike() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("batch.npy"), u8_npy([2, 4, 4, 3])).unwrap();
    save_image(&gradient_rgb8(6, 5), &dir.path().join("pic.PNG"));
    save_image(&gradient_rgb8(6, 5), &dir.path().join("shot.bmp"));
    let run = |extra: &[&str]| {
        let result = rcrop
            .cmd()
            .current_dir(dir.path())
            .args([
                "-c",
                "1",
                "--to",
                "png",
                "--out-dir",
                "o",
                "--report",
                "json",
            ])
            .args(extra)
            .args(["batch.npy", "pic.PNG", "shot.bmp"])
            .output()
            .unwrap();
        assert!(result.status.success(), "{result:?}");
        let (lines, _) = records(&result.stdout);
        lines
            .iter()
            .map(|record| record["output"].clone())
            .collect::<Vec<_>>()
    };
    let expected = ["o/batch_*.png", "o/pic.PNG", "o/shot.png"].map(serde_json::Value::from);
    assert_eq!(run(&["--dry-run"]), expected);
    assert!(!dir.path().join("o").exists());
    assert_eq!(run(&[]), expected);
    assert_eq!(
        listing(&dir.path().join("o")),
        ["batch_0.png", "batch_1.png", "pic.PNG", "shot.png"]
    );
}
