//! Two public test suites, in fixtures/suites/ (goldens by
//! fixtures/gen/generate_suites.py): GNOME gdk-pixbuf's GIF test suite and
//! jpeg-decoder's reference JPEGs. Each file decodes to Pillow's pixels
//! exactly, a file Pillow refuses is refused (exit 1, nothing written), and
//! so is one that rcrop refuses by a documented rule, saying why. The files
//! the manifest lists as differing are not checked: each says how.

use crate::util::{Rcrop, assert_every, fixture, same_file, table};

#[test]
fn every_suite_file_decodes_as_pillow_decodes_it_or_is_refused_saying_why() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let rows = table("suites/cases.tsv", &["name", "input", "expected"]);
    assert!(rows.len() >= 100, "only {} files", rows.len());
    assert_every(
        &rows,
        |row| &row[0],
        |row| {
            let out = dir.path().join(format!("{}.npy", row[0]));
            let input = fixture(&format!("suites/{}", row[1]));
            let done = rcrop.succeeds(&["--crop", "0"], &input, &out);
            let why = row[2]
                .strip_prefix("refused")
                .map(|w| w.trim_start_matches(": "));
            match (why, done) {
                (Some(_), Ok(())) => Err("expected a refusal; rcrop read it".into()),
                (Some(_), Err(_)) if out.exists() => Err("a failed run left its output".into()),
                (Some(why), Err(e)) if !e.contains(why) => Err(format!("not saying {why:?}: {e}")),
                (Some(_), Err(_)) => Ok(()),
                (None, Err(e)) => Err(e),
                (None, Ok(())) => same_file(&out, &fixture(&format!("suites/{}", row[2]))),
            }
        },
    );
}
