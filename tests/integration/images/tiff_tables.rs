//! TIFF whose strip or tile tables hold more or fewer entries than the
//! page needs, in fixtures/tifftables/ (made by
//! fixtures/gen/generate_tifftables.py from tifffile's and tiffcp's
//! files): read as libtiff reads them, the entries past those needed
//! ignored, and the strips or tiles missing from a short table refused
//! only where a crop of a file needs them.

use crate::util::{Rcrop, assert_every, fixture, same_file};

/// Files whose tables are longer than needed, each with libtiff's decode.
const LONGER: [&str; 6] = [
    "strips_extra_gray8",
    "strips_extra_lzw_rgb16",
    "one_strip_two_entries",
    "bigtiff_one_strip_extra",
    "tiles_extra_u16",
    "tiles_extra_planar_rgb8",
];

fn tables(name: &str) -> std::path::PathBuf {
    fixture(&format!("tifftables/{name}"))
}

#[test]
fn entries_past_those_the_page_needs_are_ignored_as_libtiff_ignores_them() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    assert_every(
        &LONGER,
        |name| name,
        |name| {
            let (whole, window, want) = (
                dir.path().join(format!("{name}.npy")),
                dir.path().join(format!("{name}.window.npy")),
                dir.path().join(format!("{name}.want.npy")),
            );
            let input = tables(&format!("{name}.tif"));
            let golden = tables(&format!("{name}.npy"));
            rcrop.succeeds(&["-c", "0", "-f", "channels_last"], &input, &whole)?;
            same_file(&whole, &golden)?;
            let args = ["-c", "2,1:1,3", "-f", "channels_last"];
            rcrop.succeeds(&args, &input, &window)?;
            rcrop.succeeds(&args, &golden, &want)?;
            same_file(&window, &want)
        },
    );
}

#[test]
fn a_short_table_gives_the_strips_and_tiles_it_lists_and_refuses_the_rest() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    for (name, what, listed, needed, below) in [
        ("strips_missing_gray8", "strip", 5, 7, "5"),
        ("tiles_missing_u16", "tile", 6, 9, "5"),
    ] {
        let input = tables(&format!("{name}.tif"));
        let stderr = rcrop.run_fails(&["-c", "0"], &input, &dir.path().join("out.npy"));
        let said = format!(
            "its {what} {listed} is missing: its tables list {listed} of the {needed} {what}s"
        );
        assert!(stderr.contains(&said), "{name}: {stderr}");
        let top = dir.path().join(format!("{name}_top.npy"));
        let args = [&format!("0,{below}:0,0"), "-f", "channels_last"];
        rcrop.run_ok(&["-c", args[0], args[1], args[2]], &input, &top);
        same_file(&top, &tables(&format!("{name}_top.npy"))).unwrap();
        let piped = rcrop
            .cmd()
            .args(["-c", args[0], args[1], args[2], "--to", "npy", "-", "-"])
            .pipe_stdin(&input)
            .unwrap()
            .output()
            .unwrap();
        // From a pipe the whole page is decoded, as every image read whole is.
        assert_eq!(piped.status.code(), Some(1), "{name} piped");
        assert!(String::from_utf8_lossy(&piped.stderr).contains(&said));
    }
}

#[test]
fn offsets_and_byte_counts_of_different_lengths_are_refused() {
    let rcrop = Rcrop::new();
    let dir = tempfile::tempdir().unwrap();
    let stderr = rcrop.run_fails(
        &["-c", "0"],
        &tables("offsets_counts_differ.tif"),
        &dir.path().join("out.npy"),
    );
    assert!(
        stderr.contains("it gives 7 strip offsets for 8 byte counts"),
        "{stderr}"
    );
}
