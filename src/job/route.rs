//! How an input is handled, decided once from what it holds, what the
//! output is to hold and where it goes: the run, the dry run and the
//! collision check all follow this decision.

use image::ImageFormat;

use super::{Destination, Job, sniff, sources};
use crate::error::{Error, Problem};
use crate::input::Source;
use crate::kind::FileKind;
use crate::npz::NpzError;

const JPEG: FileKind = FileKind::Image(ImageFormat::Jpeg);

/// The ways through a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// A `.npz` archive: its members cropped into a new archive, or one
    /// member cropped into a `.npy`.
    Archive { to: FileKind },
    /// A `.npy` batch into a folder, as one image a sample.
    Split { to: FileKind },
    /// `.npy` to `.npy`, in one pass over the data.
    NpyToNpy,
    /// JPEG to JPEG: the kept blocks copied as they are where the crop and
    /// the options allow, else decoded and encoded again.
    LosslessJpeg,
    /// Read a row at a time and written as the rows come: an image of
    /// `codec` whose format and input allow it, or (no codec) a `.npy`
    /// array of batch 1, held in memory where its layout does not allow it.
    Rows {
        codec: Option<ImageFormat>,
        to: FileKind,
    },
    /// An image decoded whole, then cropped and written.
    Whole { format: ImageFormat, to: FileKind },
    /// A tar archive: its members cropped or copied, one at a time, into
    /// a new archive.
    Tar,
}

impl Route {
    /// Whether the input is an array, or an archive of them, whose layout
    /// the user says (images are laid out by rcrop in the format in force).
    pub(super) fn reads_arrays(self) -> bool {
        matches!(
            self,
            Route::Archive { .. }
                | Route::Split { .. }
                | Route::NpyToNpy
                | Route::Rows { codec: None, .. }
        )
    }

    /// What the output holds.
    pub(super) fn output_kind(self) -> FileKind {
        match self {
            Route::Archive { to } | Route::Split { to } | Route::Rows { to, .. } => to,
            Route::Whole { to, .. } => to,
            Route::NpyToNpy => FileKind::Npy,
            Route::Tar => FileKind::Tar,
            Route::LosslessJpeg => JPEG,
        }
    }
}

impl Job {
    /// The route of the input `source` opened, with the refusals that come
    /// before any route: `--key` and a `.npz` output for anything but an archive.
    pub(super) fn route(&self, source: &mut Source) -> Result<Route, Error> {
        let kind = sniff(&self.input, source)?;
        let to = self.options.to.unwrap_or(kind);
        self.check_archive(kind, to)?;
        self.decide(kind, to, source)
    }

    /// The route from `kind` to `to`; an image's first bytes are read (and
    /// left in `source`) to tell whether it can be read a row at a time.
    pub(super) fn decide(
        &self,
        kind: FileKind,
        to: FileKind,
        source: &mut Source,
    ) -> Result<Route, Error> {
        let folder = matches!(self.destination, Destination::Folder { .. });
        Ok(match (kind, to) {
            (FileKind::Npz, to) => Route::Archive { to },
            (FileKind::Tar, _) => Route::Tar,
            (FileKind::Npy, FileKind::Image(_)) if folder => Route::Split { to },
            (FileKind::Npy, FileKind::Npy) => Route::NpyToNpy,
            (FileKind::Npy, to) => Route::Rows { codec: None, to },
            (JPEG, JPEG) => Route::LosslessJpeg,
            (FileKind::Image(format), to) if sources::streams(self, source, format)? => {
                Route::Rows {
                    codec: Some(format),
                    to,
                }
            }
            (FileKind::Image(format), to) => Route::Whole { format, to },
        })
    }

    /// `--key` and a `.npz` output are for `.npz` inputs only, `--members`
    /// for tar archives, which become tar archives.
    fn check_archive(&self, kind: FileKind, to: FileKind) -> Result<(), Error> {
        if (kind == FileKind::Tar) != (to == FileKind::Tar) {
            return Err(self.input_error(NpzError::Refused(format!(
                "only a tar archive becomes a tar archive, its members cropped; this input is \
                 {kind}, the output {to}"
            ))));
        }
        for ext in &self.options.members {
            if matches!(ext.to_ascii_lowercase().parse(), Err(_) | Ok(FileKind::Tar)) {
                return Err(Error::Usage(format!(
                    "--members {ext}: rcrop crops no member of that extension; expected npy, \
                     npz or an image's ({})",
                    crate::raster::formats::extension_list()
                )));
            }
        }
        if kind != FileKind::Tar && !self.options.members.is_empty() {
            return Err(self.input_error(NpzError::Refused(format!(
                "--members names the members of a tar archive; this input is {kind}"
            ))));
        }
        if kind == FileKind::Npz {
            return Ok(());
        }
        if !self.options.keys.is_empty() {
            return Err(self.input_error(NpzError::Refused(format!(
                "--key names members of a .npz archive; this input is {kind}"
            ))));
        }
        if to == FileKind::Npz {
            return Err(self.input_error(not_an_archive(kind, to)));
        }
        Ok(())
    }
}

/// The refusal to make an archive of something else.
pub(super) fn not_an_archive(kind: FileKind, to: FileKind) -> Problem {
    Problem::Npz(NpzError::Refused(format!(
        "only a {to} archive can become a {to}; this input is {kind}"
    )))
}
