//! The one way to run rcrop and inspect what it did: the binary in a
//! hermetic environment ([`Rcrop`]), fixture paths and their golden
//! manifests, hand-made `.npy` files and images, and comparisons that list
//! every failure at once.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `rcrop` binary with a Keras config folder of its own (empty unless a
/// test writes a `keras.json` into it), so the user's `~/.keras` never leaks in.
pub struct Rcrop {
    keras_home: tempfile::TempDir,
}

/// What an older output holds before a run that must leave it alone.
pub const OLD: &[u8] = b"the previous output";

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
        cmd.env("KERAS_HOME", self.keras_home.path())
            .env_remove("CI");
        default_signals(&mut cmd);
        cmd
    }

    /// Runs rcrop with `args`, its standard output and error captured.
    pub fn output(&self, args: &[&str]) -> std::process::Output {
        self.std_cmd().args(args).output().expect("run rcrop")
    }

    /// The binary with no `KERAS_HOME` and `home` as the home folder, so
    /// that the Keras config is looked for where Keras looks without it.
    pub fn cmd_with_home(home: &Path) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("rcrop"));
        cmd.env_remove("KERAS_HOME").env("HOME", home);
        cmd
    }

    pub fn write_keras_json(&self, text: &str) {
        std::fs::write(self.keras_home.path().join("keras.json"), text).expect("write keras.json");
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
        assert_refused(args, code, &stderr);
        assert!(!output.exists(), "a failed run left {}", output.display());
        stderr
    }

    /// Runs rcrop on `input` bytes (as a file, `in.npy`) into a folder
    /// holding an older output, and checks it fails with exit 1 and a
    /// message naming the input, leaving the folder as it was. Returns stderr.
    pub fn fails_cleanly(&self, input: &[u8], args: &[&str]) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let in_path = dir.path().join("in.npy");
        let out_path = dir.path().join("out.npy");
        std::fs::write(&in_path, input).expect("write the input");
        std::fs::write(&out_path, OLD).expect("write the old output");
        let (code, stderr) = self.run(args, &in_path, &out_path);
        assert_refused(args, code, &stderr);
        assert!(
            stderr.contains("in.npy"),
            "the message names the input: {stderr}"
        );
        assert_eq!(
            std::fs::read(&out_path).expect("read the old output"),
            OLD,
            "the old output changed"
        );
        assert_eq!(
            std::fs::read(&in_path).expect("read the input"),
            input,
            "the input changed"
        );
        assert_eq!(
            listing(dir.path()),
            ["in.npy", "out.npy"],
            "a file was left behind"
        );
        stderr
    }

    /// Runs rcrop with `args` alone, which must succeed; returns stdout.
    pub fn stdout_of(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run rcrop");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Crops a (1, 6, 8, 2) uint8 array from stdin to stdout with `args`,
    /// which must succeed; returns the output's shape as its header writes
    /// it, e.g. `(1, 4, 6, 2)`.
    pub fn shape_after(&self, args: &[&str]) -> String {
        let out = self
            .cmd()
            .args(args)
            .args(["-", "-"])
            .write_stdin(u8_npy([1, 6, 8, 2]))
            .output()
            .expect("run rcrop");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout[10..80]).into_owned();
        let start = text.find("'shape': ").expect("a shape in the header") + 9;
        let end = start + text[start..].find(')').expect("the shape's end") + 1;
        text[start..end].to_string()
    }
}

/// Checks that a run was refused as bad input is: exit 1 and an `error:`
/// message.
fn assert_refused(args: &[&str], code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(1), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

/// Gives the child the default action of the signals the tests send, as
/// from an interactive shell: a test run started in the background by a
/// shell without job control inherits them ignored, and rcrop keeps an
/// ignored signal ignored, as it must. A test may ignore one again after.
#[cfg(unix)]
fn default_signals(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP] {
                if libc::signal(signal, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn default_signals(_: &mut std::process::Command) {}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// The rows of a golden manifest, a fixtures `.tsv` file whose first line
/// must be `columns`, tab-separated; every row must have one field per column.
pub fn table(manifest: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture(manifest)).expect("read the manifest");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(columns.join("\t").as_str()),
        "{manifest}"
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            assert_eq!(
                fields.len(),
                columns.len(),
                "bad manifest line {line:?} in {manifest}"
            );
            fields
        })
        .collect()
}

/// One line of a fixtures `cases.tsv` manifest of crops.
pub struct Case {
    pub name: String,
    pub input: PathBuf,
    pub crop: String,
    pub format: String,
    /// `None` when the reference raises an error.
    pub expected: Option<PathBuf>,
}

pub fn cases(manifest: &str) -> Vec<Case> {
    let dir = fixture(manifest)
        .parent()
        .expect("manifest folder")
        .to_path_buf();
    table(manifest, &["name", "input", "crop", "format", "expected"])
        .into_iter()
        .map(|f| Case {
            name: f[0].clone(),
            input: dir.join(&f[1]),
            crop: f[2].clone(),
            format: f[3].clone(),
            expected: (f[4] != "error").then(|| dir.join(&f[4])),
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

/// The header and the data of a `.npy` file, read as rcrop reads them.
pub fn read_npy(path: &Path) -> (rcrop::npy::Header, Vec<u8>) {
    let bytes = std::fs::read(path).expect("read .npy");
    let mut reader = bytes.as_slice();
    let (header, _) = rcrop::npy::Header::read(&mut reader).expect("a .npy header");
    (header, reader.to_vec())
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
