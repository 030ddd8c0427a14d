//! Tar shards (`fixtures/tar/`, from Python's tarfile and GNU tar): members
//! cropped as Pillow and NumPy crop them, the others copied under their
//! headers, the same bytes from a file or a pipe, and hostile archives
//! refused with nothing written.

use std::path::Path;

use crate::util::{Rcrop, fixture, read_npy, same_file};

const SHARDS: [&str; 3] = ["shard_pax.tar", "shard_gnu.tar", "shard_v7.tar"];
const SIZE: std::ops::Range<usize> = 124..136;
const CHECKSUM: std::ops::Range<usize> = 148..156;

/// A header block and the data after it, as they are in the file.
struct Record {
    header: Vec<u8>,
    data: Vec<u8>,
}

impl Record {
    fn name(&self) -> String {
        let field = &self.header[..100];
        let end = field.iter().position(|&b| b == 0).unwrap_or(100);
        String::from_utf8_lossy(&field[..end]).into_owned()
    }
}

/// Every record of an archive up to its first zero block, and the length
/// of what follows from there.
fn records(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut at = 0;
    let mut found = Vec::new();
    while bytes[at..at + 512].iter().any(|&b| b != 0) {
        let header = &bytes[at..at + 512];
        let field = String::from_utf8_lossy(&header[SIZE]).into_owned();
        let size = usize::from_str_radix(field.trim_matches(['\0', ' ']), 8).unwrap();
        let data = bytes[at + 512..at + 512 + size].to_vec();
        found.push(Record {
            header: header.to_vec(),
            data,
        });
        at += 512 + size.div_ceil(512) * 512;
    }
    (found, bytes.len() - at)
}

/// Runs rcrop, which must fail with exit 1 and write nothing, saying `said`.
fn refused(rcrop: &Rcrop, args: &[&str], input: &Path, output: &Path, said: &str) {
    let stderr = rcrop.run_fails(args, input, output);
    assert!(stderr.contains(said), "{}: {stderr}", input.display());
}

/// A header claiming `size` bytes of data, its checksum made again.
fn resized(header: &[u8], size: u64) -> Vec<u8> {
    let mut header = header.to_vec();
    header[SIZE].copy_from_slice(format!("{size:011o}\0").as_bytes());
    header[CHECKSUM].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[CHECKSUM].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    header
}

/// A header with its size and checksum fields blanked, for comparison.
fn blanked(header: &[u8]) -> Vec<u8> {
    let mut header = header.to_vec();
    header[SIZE].fill(0);
    header[CHECKSUM].fill(0);
    header
}

/// Compares a cropped member (written to a file of its name) with the
/// expected array: a `.npy` byte for byte, a `.npz` archive's `x` and an
/// image as rcrop's `--crop 0` gives them as a `.npy`.
fn check_member(rcrop: &Rcrop, dir: &Path, record: &Record) -> Result<(), String> {
    let name = record.name();
    let file = dir.join(&name);
    std::fs::write(&file, &record.data).unwrap();
    if name.ends_with(".npy") {
        return same_file(&file, &fixture("tar/expected").join(&name));
    }
    let npy = dir.join(format!("{name}.npy"));
    if name.ends_with(".npz") {
        rcrop.succeeds(&["--crop", "0", "--key", "x"], &file, &npy)?;
        return same_file(&npy, &fixture("tar/expected").join(format!("{name}.x.npy")));
    }
    let expected = fixture("tar/expected").join(format!("{name}.npy"));
    rcrop.succeeds(&["--crop", "0"], &file, &npy)?;
    let ((found_header, found), (expected_header, wanted)) = (read_npy(&npy), read_npy(&expected));
    if found_header.shape != expected_header.shape || found != wanted {
        return Err(format!(
            "{name}: {found_header:?} differs from {expected_header:?}"
        ));
    }
    Ok(())
}

#[test]
fn shard_members_are_cropped_as_pillow_and_numpy_crop_them_and_the_rest_copied_under_their_headers()
{
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for shard in SHARDS {
        let input = fixture("tar").join(shard);
        let output = dir.path().join(shard);
        rcrop.run_ok(&["--crop", "8"], &input, &output);
        let (before, before_end) = records(&std::fs::read(&input).unwrap());
        let (after, after_end) = records(&std::fs::read(&output).unwrap());
        assert_eq!(before.len(), after.len(), "{shard}");
        assert_eq!(before_end, after_end, "{shard}: the end blocks");
        let mut cropped = 0;
        for (old, new) in before.iter().zip(&after) {
            let name = old.name();
            let croppable = [".jpg", ".png", "0.npy", "1.npy", ".npz"]
                .iter()
                .any(|ext| name.ends_with(ext));
            if !croppable {
                assert_eq!(old.header, new.header, "{shard}: {name}");
                assert_eq!(old.data, new.data, "{shard}: {name}");
                continue;
            }
            cropped += 1;
            assert_eq!(
                blanked(&old.header),
                blanked(&new.header),
                "{shard}: {name}"
            );
            check_member(&rcrop, dir.path(), new).unwrap_or_else(|e| panic!("{shard}: {e}"));
        }
        assert_eq!(cropped, 8, "{shard}");
    }
}

#[test]
fn a_shard_piped_through_standard_streams_comes_out_as_from_its_file() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for shard in SHARDS {
        let input = fixture("tar").join(shard);
        let output = dir.path().join(shard);
        rcrop.run_ok(&["--crop", "8"], &input, &output);
        let piped = rcrop
            .cmd()
            .args(["--crop", "8", "-", "-"])
            .write_stdin(std::fs::read(&input).unwrap())
            .output()
            .unwrap();
        assert!(piped.status.success(), "{shard}");
        assert!(piped.stdout == std::fs::read(&output).unwrap(), "{shard}");
    }
}

#[test]
fn members_of_extensions_not_listed_are_copied_byte_for_byte() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for shard in SHARDS {
        let input = fixture("tar").join(shard);
        let copy = dir.path().join("copy.tar");
        rcrop.run_ok(&["--crop", "8", "--members", "tif"], &input, &copy);
        same_file(&copy, &input).unwrap();
        let jpegs = dir.path().join("jpegs.tar");
        rcrop.run_ok(&["--crop", "8", "--members", "JPG"], &input, &jpegs);
        let (before, _) = records(&std::fs::read(&input).unwrap());
        let (after, _) = records(&std::fs::read(&jpegs).unwrap());
        for (old, new) in before.iter().zip(&after) {
            let name = old.name();
            assert_eq!(old.data == new.data, !name.ends_with(".jpg"), "{name}");
        }
    }
    let text = fixture("tar").join(SHARDS[0]);
    let (code, stderr) = rcrop.run(
        &["-c", "8", "--members", "json"],
        &text,
        &dir.path().join("o.tar"),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--members json"), "{stderr}");
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.tar");
    for (name, said) in [
        ("hardlink", "\"000000.jpg\" is a hard link"),
        ("symlink", "\"000000.png\" is a symbolic link"),
        ("chardev", "\"000000.npy\" is a device"),
        ("fifo", "\"000000.cls\" is a FIFO"),
        ("absolute", "\"/etc/x.json\" is named to escape"),
        ("dotdot", "\"../x.json\" is named to escape"),
        ("pax_dotdot", "/../../../x.json\" is named to escape"),
    ] {
        let input = fixture("tar").join(format!("hostile_{name}.tar"));
        refused(&rcrop, &["--crop", "8"], &input, &output, said);
        let piped = rcrop
            .cmd()
            .args(["--crop", "8", "-", "-"])
            .write_stdin(std::fs::read(&input).unwrap())
            .output()
            .unwrap();
        assert_eq!(piped.status.code(), Some(1), "{name}");
        assert!(piped.stdout.is_empty(), "{name}: something was written");
    }
}

#[test]
fn truncated_archives_and_sizes_that_lie_are_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("tar/shard_gnu.tar")).unwrap();
    let (records, end) = records(&bytes);
    let data_end = bytes.len() - end;
    let input = dir.path().join("bad.tar");
    let output = dir.path().join("out.tar");
    for (cut, said) in [
        (1000, "truncated tar archive"),
        (1100, "in the middle of a header"),
        (data_end, "without the zero blocks"),
        (data_end - 3, "truncated tar archive"),
    ] {
        std::fs::write(&input, &bytes[..cut]).unwrap();
        refused(&rcrop, &["--crop", "8"], &input, &output, said);
    }
    // The first member, 2 bytes, claims 1 GiB; then its checksum breaks.
    assert_eq!(records[0].name(), "000000.cls");
    let mut lying = bytes.clone();
    lying[..512].copy_from_slice(&resized(&bytes[..512], 1 << 30));
    std::fs::write(&input, &lying).unwrap();
    refused(
        &rcrop,
        &["--crop", "8"],
        &input,
        &output,
        "\"000000.cls\" ends after",
    );
    lying[CHECKSUM.start] ^= 1;
    std::fs::write(&input, &lying).unwrap();
    refused(
        &rcrop,
        &["--crop", "8"],
        &input,
        &output,
        "fails its checksum",
    );
    let mut trailing = bytes;
    *trailing.last_mut().unwrap() = 1;
    std::fs::write(&input, &trailing).unwrap();
    refused(
        &rcrop,
        &["--crop", "8"],
        &input,
        &output,
        "data after its end",
    );
}

#[test]
fn a_member_that_cannot_be_cropped_fails_the_shard_naming_both() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("tar/shard_pax.tar");
    let output = dir.path().join("out.tar");
    // An image member over the limit is refused before it is read.
    let mut header = std::fs::read(fixture("tar/shard_v7.tar")).unwrap()[..512].to_vec();
    header[..100].fill(0);
    header[..7].copy_from_slice(b"big.png");
    let big = dir.path().join("big.tar");
    std::fs::write(&big, [resized(&header, 3 << 20), vec![0; 1024]].concat()).unwrap();
    refused(
        &rcrop,
        &["--crop", "8", "--image-limit-mib", "2"],
        &big,
        &output,
        "big.tar (member big.png): the file is over the image limit of 2 MiB",
    );
    refused(
        &rcrop,
        &["--crop", "20"],
        &input,
        &output,
        "shard_pax.tar (member 000000.jpg): ",
    );
    let mut bytes = std::fs::read(&input).unwrap();
    let (records, _) = records(&bytes);
    let png = records
        .iter()
        .position(|r| r.name() == "000000.png")
        .unwrap();
    let at = records[..png]
        .iter()
        .map(|r| 512 + r.data.len().div_ceil(512) * 512)
        .sum::<usize>()
        + 512;
    bytes[at + 40..at + 80].fill(0xAB);
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    refused(
        &rcrop,
        &["--crop", "8"],
        &damaged,
        &output,
        "damaged.tar (member 000000.png): ",
    );
}

#[test]
fn dry_runs_and_reports_list_the_members() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("tar/shard_v7.tar");
    let output = dir.path().join("out.tar");
    let args = ["--crop", "8", "--dry-run"];
    let out = rcrop
        .cmd()
        .args(args)
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(!output.exists());
    assert!(listed.contains("  000000.json: copied\n"), "{listed}");
    assert!(
        listed.contains("  000001.png: (1, 32, 40, 3) -> (1, 16, 24, 3) '|u1' cropped"),
        "{listed}"
    );
    let out = rcrop
        .cmd()
        .args(["--crop", "8", "--report", "json"])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    let first = out.stdout.split(|&b| b == b'\n').next().unwrap();
    let record: serde_json::Value = serde_json::from_slice(first).unwrap();
    let members = record["members"].as_array().unwrap();
    assert_eq!(members.len(), 16);
    assert_eq!(members[0]["name"], "000000.cls");
    assert_eq!(members[0]["action"], "copied");
    assert_eq!(members[0]["dtype"], serde_json::Value::Null);
    assert_eq!(members[4]["name"], "000000.npy");
    assert_eq!(
        members[4]["output_shape"],
        serde_json::json!([1, 16, 24, 3])
    );
}

#[test]
fn check_compares_a_shard_with_the_one_already_written() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("tar/shard_gnu.tar");
    let output = dir.path().join("out.tar");
    rcrop.run_ok(&["--crop", "8"], &input, &output);
    rcrop.run_ok(&["--crop", "8", "--check"], &input, &output);
    let (code, stderr) = rcrop.run(&["--crop", "4", "--check"], &input, &output);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("differs from what rcrop writes"),
        "{stderr}"
    );
}

#[test]
fn a_shard_becomes_a_shard_and_nothing_else_does() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let shard = fixture("tar/shard_pax.tar");
    refused(
        &rcrop,
        &["--crop", "8"],
        &shard,
        &dir.path().join("out.npy"),
        "only a tar archive becomes a tar archive",
    );
    let image = dir.path().join("a.png");
    crate::util::save_image(&crate::util::gradient_rgb8(8, 8), &image);
    refused(
        &rcrop,
        &["--crop", "1"],
        &image,
        &dir.path().join("out.tar"),
        "only a tar archive becomes a tar archive",
    );
}
