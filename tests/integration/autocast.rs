//! `--autocast`: outputs in the dtype Keras' layer gives, bit for bit what
//! `numpy.save` writes of the layer's result (fixtures/autocast/, made by
//! Keras 3).

use std::path::Path;

use crate::util::{Rcrop, assert_every, fixture, read_npy, same_file, table};

#[test]
fn autocast_outputs_are_what_numpy_saves_of_the_keras_result() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let cases = table("autocast/cases.tsv", &["name", "input", "args", "expected"]);
    assert!(cases.len() >= 19, "only {} cases", cases.len());
    assert_every(
        &cases,
        |c| &c[0],
        |case| {
            let [name, input, args, expected] = case.as_slice() else {
                return Err(format!("a row of four columns, found {case:?}"));
            };
            let out = tmp.path().join(format!("{name}.npy"));
            let mut argv: Vec<String> = args.split(' ').map(str::to_owned).collect();
            if let Some(config) = argv.iter_mut().skip_while(|a| *a != "--config").nth(1) {
                *config = fixture(config).display().to_string();
            }
            argv.extend(["--autocast", "--order", "C"].map(str::to_owned));
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            rcrop.succeeds(&argv, &fixture(input), &out)?;
            same_file(&out, &fixture(expected))
        },
    );
}

#[test]
fn without_autocast_the_input_dtype_is_kept() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("kept.npy");
    let input = fixture("autocast/f64_cropping2d_in.npy");
    rcrop.run_ok(&["--crop", "1,2:2,1"], &input, &out);
    assert_eq!(read_npy(&out).0.dtype.type_str().as_deref(), Some("<f8"));
}

#[test]
fn an_archive_casts_the_members_it_crops() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let npz = tmp.path().join("in.npz");
    let members = ["f64_cropping2d", "i32_kept"];
    write_stored_npz(
        &npz,
        &members.map(|m| fixture(&format!("autocast/{m}_in.npy"))),
    );
    let out = tmp.path().join("out.npz");
    rcrop.run_ok(&["--crop", "1,2:2,1", "--autocast"], &npz, &out);
    for member in members {
        let extracted = tmp.path().join(format!("{member}.npy"));
        let args = ["--crop", "0", "--key", member];
        rcrop.run_ok(&args, &out, &extracted);
        same_file(
            &extracted,
            &fixture(&format!("autocast/{member}_expected.npy")),
        )
        .unwrap();
    }
}

#[test]
fn the_report_gives_the_dtype_written() {
    let rcrop = Rcrop::new();
    let input = fixture("autocast/f64_cropping2d_in.npy");
    let out = rcrop
        .cmd()
        .args(["--crop", "1", "--autocast", "--dry-run", "--report", "json"])
        .arg(&input)
        .arg("-")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains(r#""dtype":"<f4""#), "{report}");
}

#[test]
fn what_keras_cannot_cast_is_refused() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let complex = tmp.path().join("complex.npy");
    std::fs::write(
        &complex,
        crate::util::npy_bytes(
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 4, 4, 1), }",
            &[0; 128],
        ),
    )
    .unwrap();
    let out = tmp.path().join("out.npy");
    let err = rcrop.run_fails(&["--center-crop", "2,2", "--autocast"], &complex, &out);
    assert!(err.contains("complex.npy: --autocast: CenterCrop casts its input to float32, and an array of dtype <c8 has no such cast"), "{err}");
    assert!(!out.exists());
    // The cropping layers leave a complex array as it is.
    rcrop.run_ok(&["--crop", "1", "--autocast"], &complex, &out);

    let config = tmp.path().join("layer.json");
    std::fs::write(
        &config,
        r#"{"cropping": 1, "data_format": null, "dtype": "int32"}"#,
    )
    .unwrap();
    let config = config.display().to_string();
    let (code, err) = rcrop.run(&["--config", &config, "--autocast"], &complex, &out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("dtype policy `int32` computes in a dtype rcrop does not cast to"),
        "{err}"
    );
}

/// An `.npz` of `members`, stored, as `numpy.savez` writes one.
fn write_stored_npz(path: &Path, members: &[std::path::PathBuf]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for member in members {
        let stem = member.file_stem().unwrap().to_str().unwrap();
        let key = stem.trim_end_matches("_in");
        zip.start_file(format!("{key}.npy"), options).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(member).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_stack_of_images_is_cast_as_each_image_is() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("batch.npy");
    let image = fixture("images/rgb8.png");
    rcrop
        .cmd()
        .args(["--crop", "1,2:2,1", "--autocast", "--stack", "-o"])
        .arg(&out)
        .args([&image, &image])
        .assert()
        .success();
    let (header, data) = read_npy(&out);
    let (expected, one) = read_npy(&fixture("autocast/png_cropping2d_expected.npy"));
    assert_eq!(header.dtype, expected.dtype);
    assert_eq!(header.shape[0], 2);
    assert_eq!(data, [one.clone(), one].concat());
}

#[test]
fn a_shard_casts_its_array_members() {
    let rcrop = Rcrop::new();
    let tmp = tempfile::tempdir().unwrap();
    let shard = tmp.path().join("shard.tar");
    let member = std::fs::read(fixture("autocast/f64_cropping2d_in.npy")).unwrap();
    std::fs::write(&shard, one_member_tar("000000.npy", &member)).unwrap();
    let out = tmp.path().join("out.tar");
    rcrop.run_ok(&["--crop", "1,2:2,1", "--autocast"], &shard, &out);
    let written = std::fs::read(&out).unwrap();
    let size = std::str::from_utf8(&written[124..135]).unwrap();
    let size = usize::from_str_radix(size.trim_matches(['\0', ' ']), 8).unwrap();
    let expected = std::fs::read(fixture("autocast/f64_cropping2d_expected.npy")).unwrap();
    assert_eq!(&written[512..512 + size], expected.as_slice());
}

/// A ustar archive of one regular file.
fn one_member_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}
