//! `.npz` archives: every case in fixtures/npz/cases.tsv (NumPy's archives
//! and the members Keras and NumPy give) must come out member for member,
//! in the same order and compression; hostile archives are refused with
//! nothing written.

use std::io::Read;
use std::path::Path;

use crate::util::{Rcrop, fixture, listing, npy_bytes, table, u8_npy};
use zip::{CompressionMethod, ZipArchive};

struct NpzCase {
    name: String,
    input: String,
    crop: String,
    format: String,
    keys: Vec<String>,
    /// (member name, golden file)
    members: Vec<(String, String)>,
}

fn npz_cases() -> Vec<NpzCase> {
    table(
        "npz/cases.tsv",
        &["name", "input", "crop", "format", "keys", "members"],
    )
    .into_iter()
    .map(|f| NpzCase {
        name: f[0].clone(),
        input: f[1].clone(),
        crop: f[2].clone(),
        format: f[3].clone(),
        keys: match f[4].as_str() {
            "-" => Vec::new(),
            keys => keys.split(',').map(String::from).collect(),
        },
        members: f[5]
            .split(' ')
            .map(|m| {
                let (name, golden) = m.split_once('=').unwrap();
                (name.to_string(), golden.to_string())
            })
            .collect(),
    })
    .collect()
}

/// Names, compression methods and bytes of an archive's members, in order.
fn members(path: &Path) -> Vec<(String, CompressionMethod, Vec<u8>)> {
    let mut zip = ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (file.name().unwrap().into_owned(), file.compression(), bytes)
        })
        .collect()
}

fn key_args(keys: &[String]) -> Vec<String> {
    keys.iter()
        .flat_map(|k| ["--key".to_string(), k.clone()])
        .collect()
}

#[test]
fn every_npz_case_keeps_names_order_and_compression_and_matches_numpy() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let all = npz_cases();
    assert!(all.len() >= 5);
    for case in all {
        let input = fixture(&format!("npz/{}", case.input));
        let output = dir.path().join(format!("{}.npz", case.name));
        let mut args = vec![
            "--crop".to_string(),
            case.crop.clone(),
            "--format".into(),
            case.format.clone(),
        ];
        args.extend(key_args(&case.keys));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rcrop.run_ok(&args, &input, &output);
        let before = members(&input);
        let after = members(&output);
        assert_eq!(after.len(), case.members.len(), "{}", case.name);
        for ((name, method, bytes), ((golden_name, golden), (in_name, in_method, _))) in
            after.iter().zip(case.members.iter().zip(&before))
        {
            assert_eq!((name, name), (golden_name, in_name), "{}: order", case.name);
            assert_eq!(method, in_method, "{}: {name} compression", case.name);
            let expected = std::fs::read(fixture(&format!("npz/{golden}"))).unwrap();
            assert!(
                bytes == &expected,
                "{}: member {name} differs from {golden}",
                case.name
            );
        }
    }
}

#[test]
fn one_key_and_a_npy_output_extracts_that_member_cropped() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.npy");
    rcrop.run_ok(
        &["-c", "2", "-f", "channels_first", "--key", "x"],
        &fixture("npz/deflated.npz"),
        &out,
    );
    let expected = std::fs::read(fixture("npz/deflated_cf_key_x__x.npy")).unwrap();
    assert!(std::fs::read(&out).unwrap() == expected);
}

#[test]
fn hostile_archives_are_refused_with_nothing_written() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for (file, says) in [
        ("bad_central_directory.npz", "not a readable zip archive"),
        ("duplicate_names.npz", "two members of one name"),
        ("crc_mismatch.npz", "checksum"),
        (
            "member_not_npy_name.npz",
            "\"readme.txt\" is not a .npy file",
        ),
        ("member_not_npy_data.npz", "is not a .npy array"),
        ("encrypted.npz", "is encrypted"),
        (
            "inflates_past_size.npz",
            "declares 128 bytes, but its .npy header describes",
        ),
        ("header_claims_more.npz", "declares"),
        (
            "inflates_past_header.npz",
            "larger than its declared uncompressed size",
        ),
        ("truncated.npz", "not a readable zip archive"),
    ] {
        let out = dir.path().join(format!("out_{file}"));
        let stderr = rcrop.run_fails(&["-c", "1"], &fixture(&format!("npz/{file}")), &out);
        assert!(
            stderr.contains(file) && stderr.contains(says),
            "{file}: {stderr}"
        );
    }
    assert!(
        listing(dir.path()).is_empty(),
        "left {:?}",
        listing(dir.path())
    );
}

#[test]
fn a_member_inflating_past_its_declared_size_stops_there() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("npz/inflates_past_header.npz");
    let bytes = std::fs::read(&input).unwrap();
    let mut zip = ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let file = zip.by_index_raw(0).unwrap();
    assert_eq!(file.size(), 200);
    assert!(file.compressed_size() < 100_000);
    drop(file);
    let out = dir.path().join("out.npz");
    let start = std::time::Instant::now();
    let stderr = Rcrop::new().run_fails(&["-c", "1"], &input, &out);
    assert!(stderr.contains("member \"x.npy\" is damaged"), "{stderr}");
    // Inflating all 64 MiB would take longer than stopping at 200 bytes.
    assert!(start.elapsed().as_secs() < 20);
}

#[test]
fn dry_run_and_report_list_the_members_and_write_nothing() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npz");
    let run = rcrop
        .cmd()
        .args(["-c", "2", "--dry-run"])
        .arg(fixture("npz/stored.npz"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("x.npy: (2, 8, 9, 6) -> (2, 4, 5, 6) '<f4' cropped, stored"),
        "{text}"
    );
    assert!(
        text.contains("labels.npy: (2,) -> (2,) '<i8' copied, stored"),
        "{text}"
    );
    assert!(!out.exists());
    let run = rcrop
        .cmd()
        .args(["-c", "2", "--report", "json", "--out-dir"])
        .arg(dir.path())
        .arg(fixture("npz/stored.npz"))
        .arg(fixture("npz/deflated.npz"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|record| record["record"] == "input")
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        // An archive has no shape of its own: its members have theirs.
        assert!(line["input_shape"].is_null(), "{line}");
        let members = line["members"].as_array().unwrap();
        assert_eq!(members.len(), 7, "{line}");
        assert_eq!(members[0]["name"], "x.npy");
        assert_eq!(members[0]["dtype"], "<f4");
        assert_eq!(members[0]["action"], "cropped");
        assert_eq!(members[0]["output_shape"], serde_json::json!([2, 4, 5, 6]));
        assert_eq!(members[1]["action"], "copied");
    }
    assert_eq!(lines[1]["members"][0]["compression"], "deflated");
    assert_eq!(listing(dir.path()), ["deflated.npz", "stored.npz"]);
}

#[test]
fn keys_and_outputs_an_archive_cannot_become_are_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let npz = fixture("npz/stored.npz");
    let stderr = rcrop.run_fails(
        &["-c", "1", "--key", "nope"],
        &npz,
        &dir.path().join("a.npz"),
    );
    assert!(stderr.contains("no member \"nope\""), "{stderr}");
    let stderr = rcrop.run_fails(
        &["-c", "1", "--key", "labels"],
        &npz,
        &dir.path().join("b.npz"),
    );
    assert!(
        stderr.contains("labels.npy") && stderr.contains("4D"),
        "{stderr}"
    );
    let stderr = rcrop.run_fails(&["-c", "1"], &npz, &dir.path().join("c.png"));
    assert!(stderr.contains("--key"), "{stderr}");
    let stderr = rcrop.run_fails(&["-c", "4"], &npz, &dir.path().join("d.npz"));
    assert!(
        stderr.contains("member x.npy") && stderr.contains("at least one row"),
        "{stderr}"
    );
    let stderr = rcrop.run_fails(&["-c", "1"], &npz, &dir.path().join("e.npy"));
    assert!(stderr.contains("exactly one --key"), "{stderr}");
    let npy = dir.path().join("in.npy");
    std::fs::write(&npy, u8_npy([1, 4, 4, 1])).unwrap();
    let stderr = rcrop.run_fails(&["-c", "1", "--key", "x"], &npy, &dir.path().join("f.npy"));
    assert!(stderr.contains("--key names members"), "{stderr}");
    let stderr = rcrop.run_fails(&["-c", "1"], &npy, &dir.path().join("g.npz"));
    assert!(stderr.contains("only a .npz archive"), "{stderr}");
    assert_eq!(listing(dir.path()), ["in.npy"]);
}

/// A stored member of 4 GiB and more, in and out: ZIP64 sizes both ways.
/// Writes about 9 GB to the temporary folder, so it is left out of the
/// default run: `cargo test --release --test integration -- --ignored`.
#[test]
#[ignore]
fn members_over_4_gib_are_written_with_zip64() {
    use std::io::{BufReader, BufWriter, Write};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.npz");
    let cols: usize = (1 << 31) + 64;
    let header =
        format!("{{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, {cols}, 1), }}");
    let npy_head = npy_bytes(&header, &[]);
    let pattern: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    let total = 2 * cols;
    {
        let file = BufWriter::new(std::fs::File::create(&input).unwrap());
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .large_file(true);
        zip.start_file("big.npy", options).unwrap();
        zip.write_all(&npy_head).unwrap();
        let mut left = total;
        while left > 0 {
            let n = left.min(pattern.len());
            zip.write_all(&pattern[..n]).unwrap();
            left -= n;
        }
        zip.start_file("labels.npy", options).unwrap();
        let labels = "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }";
        zip.write_all(&npy_bytes(labels, &[7, 9])).unwrap();
        zip.finish().unwrap();
    }
    let output = dir.path().join("out.npz");
    Rcrop::new().run_ok(&["-c", "0,0:1,0", "-f", "channels_last"], &input, &output);
    std::fs::remove_file(&input).unwrap();
    let mut zip = ZipArchive::new(BufReader::new(std::fs::File::open(&output).unwrap())).unwrap();
    let out_cols = cols - 1;
    let mut member = zip.by_index(0).unwrap();
    assert_eq!(member.compression(), CompressionMethod::Stored);
    let out_head = npy_bytes(
        &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, {out_cols}, 1), }}"),
        &[],
    );
    assert_eq!(member.size(), (out_head.len() + 2 * out_cols) as u64);
    assert!(member.size() > u64::from(u32::MAX));
    let mut head = vec![0; out_head.len()];
    member.read_exact(&mut head).unwrap();
    assert_eq!(head, out_head);
    // Output row r holds input bytes r * cols + 1 .. (r + 1) * cols, and
    // input byte p is pattern[p % len]: compare a slice of the pattern
    // repeated twice, one read at a time within a row.
    let period = pattern.len();
    let twice = [pattern.as_slice(), pattern.as_slice()].concat();
    let mut buf = vec![0; period];
    for r in 0..2 {
        let mut j = 0;
        while j < out_cols {
            let want = (out_cols - j).min(period);
            let n = member.read(&mut buf[..want]).unwrap();
            assert!(n > 0, "the member ends in row {r} at {j}");
            let start = (r * cols + 1 + j) % period;
            assert!(
                buf[..n] == twice[start..start + n],
                "row {r} differs near {j}"
            );
            j += n;
        }
    }
    let mut rest = Vec::new();
    member.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    drop(member);
    assert_eq!(zip.by_index(1).unwrap().name().unwrap(), "labels.npy");
}
