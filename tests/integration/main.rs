//! rcrop's integration tests: one binary that runs the real `rcrop` on real
//! files, its modules by topic. Every test has one home: a test of one image
//! format lives in the file under `images/` that names that format; a test
//! across formats lives with its feature (color modes, the real-world
//! corpus) or in `images/mod.rs`. Every module runs rcrop and inspects the
//! result through [`util`].
//!
//! proptest keeps the failing cases it has found in `tests/proptest-regressions/`,
//! a tree parallel to this folder (`properties.txt` for `properties.rs`), and
//! runs them again before any new case.

/// The one way to run rcrop and inspect the result.
mod util;

/// `.npy` in and out: Keras' goldens, NumPy's own cases, memory order.
mod arrays;
/// `--autocast`: Keras' output dtype, against Keras' own results.
mod autocast;
/// Many inputs: `--out-dir`, `-r`, `--files-from`, `--stack`, reports.
mod batch;
/// `--check` against golden files, and hints at the other data format.
mod check;
/// The command line: spec forms, data formats, `keras.json`, usage errors,
/// help, version, completions and the man page.
mod cli;
/// Bad input and faults, and the inputs the fuzzers found.
mod errors;
/// Images in and out, every format.
mod images;
/// The four Keras layers, their configs and `--print-config`.
mod layers;
/// `.npz` archives.
mod npz;
/// Properties of the library over random shapes, layers and specs.
mod properties;
/// `--report json` and what a batch says: records as inputs end, their
/// fields, and the same messages on every run.
mod report;
/// Tar shards: members cropped or copied, hostile archives refused.
mod tar;
/// rcrop in scripts and pipelines: closed pipes, signals, terminals, help,
/// completions and the man page.
#[cfg(unix)]
mod unix;
