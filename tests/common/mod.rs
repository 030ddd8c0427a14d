//! Helpers shared by the integration tests: the binary in a hermetic
//! environment, fixture paths, and hand-made `.npy` files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `rcrop` binary with a Keras config folder of its own (empty unless a
/// test writes a `keras.json` into it), so the user's `~/.keras` never leaks in.
pub struct Rcrop {
    pub keras_home: tempfile::TempDir,
}

impl Rcrop {
    pub fn new() -> Self {
        Self {
            keras_home: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same, as a standard command, for tests that wire its standard
    /// streams or signal it themselves.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("rcrop"));
        cmd.env("KERAS_HOME", self.keras_home.path());
        cmd
    }

    /// The binary with no `KERAS_HOME` and `home` as the home folder, so
    /// that the Keras config is looked for where Keras looks without it.
    pub fn cmd_with_home(home: &Path) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("rcrop"));
        cmd.env_remove("KERAS_HOME").env("HOME", home);
        cmd
    }

    /// Runs rcrop on `input` into `output`; returns the exit code and stderr.
    pub fn run(&self, args: &[&str], input: &Path, output: &Path) -> (Option<i32>, String) {
        let out = self
            .cmd()
            .args(args)
            .arg(input)
            .arg(output)
            .output()
            .expect("run rcrop");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// [`Rcrop::run`] as a check among many: `Err` names the arguments, the
    /// exit code and stderr when the run did not succeed.
    pub fn succeeds(&self, args: &[&str], input: &Path, output: &Path) -> Result<(), String> {
        match self.run(args, input, output) {
            (Some(0), _) => Ok(()),
            (code, stderr) => Err(format!("{args:?} exit {code:?}: {stderr}")),
        }
    }

    /// [`Rcrop::run`], which must succeed; returns stderr.
    pub fn run_ok(&self, args: &[&str], input: &Path, output: &Path) -> String {
        let (code, stderr) = self.run(args, input, output);
        assert_eq!(code, Some(0), "{args:?} {}: {stderr}", input.display());
        stderr
    }

    /// [`Rcrop::run`], which must fail with exit 1 and an `error:` message,
    /// leaving no output; returns stderr.
    pub fn run_fails(&self, args: &[&str], input: &Path, output: &Path) -> String {
        let (code, stderr) = self.run(args, input, output);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!output.exists(), "a failed run left {}", output.display());
        stderr
    }

    pub fn write_keras_json(&self, text: &str) {
        std::fs::write(self.keras_home.path().join("keras.json"), text).expect("write keras.json");
    }
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// One line of a fixtures `cases.tsv` manifest.
pub struct Case {
    pub name: String,
    pub input: PathBuf,
    pub crop: String,
    pub format: String,
    /// `None` when the reference raises an error.
    pub expected: Option<PathBuf>,
}

pub fn cases(manifest: &str) -> Vec<Case> {
    let path = fixture(manifest);
    let dir = path.parent().expect("manifest folder").to_path_buf();
    let text = std::fs::read_to_string(&path).expect("read manifest");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("name\tinput\tcrop\tformat\texpected"));
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "bad manifest line {line:?}");
            Case {
                name: f[0].into(),
                input: dir.join(f[1]),
                crop: f[2].into(),
                format: f[3].into(),
                expected: (f[4] != "error").then(|| dir.join(f[4])),
            }
        })
        .collect()
}

/// A `.npy` file written by hand: version 1.0 with the given header text
/// (padded as NumPy pads it) followed by `data`.
pub fn npy_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A C-order `|u1` array of the given shape holding 0, 1, 2, ... (mod 256).
pub fn u8_npy(shape: [usize; 4]) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let header = format!(
        "{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, {}, {}, {}), }}",
        shape[0], shape[1], shape[2], shape[3]
    );
    npy_bytes(&header, &data)
}

/// Names of the files in a folder, sorted, to show that nothing was left behind.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Writes an image made in memory to `path` (format from the extension).
pub fn save_image(image: &image::DynamicImage, path: &Path) {
    image.save(path).expect("save test image");
}

/// Decodes an image file as rcrop's own decoder sees it.
pub fn load_image(path: &Path) -> image::DynamicImage {
    image::ImageReader::open(path)
        .expect("open image")
        .with_guessed_format()
        .expect("guess format")
        .decode()
        .expect("decode image")
}

/// An RGB8 image whose every pixel differs: `(x, y)` holds `[x, y, x ^ y]`.
pub fn gradient_rgb8(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([x as u8, y as u8, (x ^ y) as u8])
    }))
}

/// A small PNG file whose header claims `width × height` RGB pixels: a
/// decompression bomb's header with a token of data.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr),
        (b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01".to_vec()),
        (b"IEND", Vec::new()),
    ] {
        let mut body = kind.to_vec();
        body.extend_from_slice(&data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    out
}

/// CRC-32 as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether two files hold the same bytes; `Err` gives both sizes and the
/// start of each (a `.npy` header, say).
pub fn same_file(found: &Path, expected: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (found_bytes, expected_bytes) = (read(found)?, read(expected)?);
    if found_bytes == expected_bytes {
        return Ok(());
    }
    let head = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(80)]).into_owned();
    Err(format!(
        "{} differs from {}: {} bytes, starting {:?}; expected {} bytes, starting {:?}",
        found.display(),
        expected.display(),
        found_bytes.len(),
        head(&found_bytes),
        expected_bytes.len(),
        head(&expected_bytes)
    ))
}

/// Runs `check` on every item and fails with every failure listed, each
/// under the item's name.
pub fn assert_every<T>(
    items: &[T],
    name: impl Fn(&T) -> &str,
    check: impl Fn(&T) -> Result<(), String>,
) {
    let failures: Vec<String> = items
        .iter()
        .filter_map(|item| check(item).err().map(|e| format!("{}: {e}", name(item))))
        .collect();
    assert_no_failures(&failures);
}

/// Fails with every collected failure listed, one a line.
pub fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
