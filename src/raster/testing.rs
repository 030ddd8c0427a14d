//! What the codecs' tests share: the fixture files of a format, and a
//! window cut from a whole decode to compare with the rows read.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::rows::Window;

/// A window of `rows` and `cols`.
pub(super) fn window(rows: Range<usize>, cols: Range<usize>) -> Window {
    Window { rows, cols }
}

/// The window of an image of `width` pixels of `pixel` bytes.
pub(super) fn crop(whole: &[u8], width: usize, pixel: usize, window: &Window) -> Vec<u8> {
    let line = width * pixel;
    window
        .rows
        .clone()
        .flat_map(|y| {
            &whole[y * line + window.cols.start * pixel..y * line + window.cols.end * pixel]
        })
        .copied()
        .collect()
}

/// Every file under `fixtures/` with one of `extensions` (any case).
pub(super) fn fixtures(extensions: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, extensions, out);
            } else if path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    walk(&root, extensions, &mut out);
    out
}
