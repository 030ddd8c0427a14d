//! A tar archive, such as a WebDataset shard: each member rcrop reads (an
//! image, a `.npy` array or a `.npz` archive, told by its extension)
//! cropped with the job's options into a member of the same name and kind,
//! every other member copied byte for byte, into a new archive with the
//! same names, order, modes and times. The archive streams from its reader
//! (standard input too): memory holds one member at a time, and nothing is
//! extracted. Nothing is written on failure: a file output is staged, and
//! standard output is sent the archive only once it is complete, kept
//! meanwhile in an unnamed temporary file.

use std::io::{self, BufWriter, Cursor, Seek, Write};
use std::path::{Path, PathBuf};

use image::ImageFormat;

use super::summary::array_dtype;
use super::{Fault, Job, MemberSummary, Part, Summary, lossless_jpeg, whole};
use crate::autocast::CastWriter;
use crate::error::{Error, Problem};
use crate::input::Source;
use crate::kind::FileKind;
use crate::layer::Shape;
use crate::npy::reorder;
use crate::npy::stream::{self, PassError};
use crate::npy::{CropPlan, Header};
use crate::npz::{Action, Archive};
use crate::output::{self, Output};
use crate::tar::{self, Entry, Reader, TarError};

/// What a pass over an archive made: a summary a member, and warnings.
type Made = (Vec<MemberSummary>, Vec<String>);

impl Job {
    /// Runs (or, with `dry`, plans: every member is read and cropped, and
    /// nothing written) the job on a tar archive.
    pub(super) fn tar(&self, source: Source, dry: bool) -> Result<Summary, Error> {
        let output = self.output_name(Part::Whole);
        if self.exists_already(&output) {
            return Ok(Summary::skipped(&output));
        }
        let (members, warnings) = if dry {
            self.tar_pass(source, &output, &mut io::sink())?
        } else {
            let mut out = self.stage(&output)?;
            let made = match output {
                Output::Path(_) => self.tar_pass(source, &output, &mut out)?,
                Output::Stdout => self.spooled(source, &output, &mut out)?,
            };
            self.commit(out).map_err(|f| f.name(&self.input, &output))?;
            made
        };
        Ok(Summary {
            members,
            warnings,
            ..Summary::new(Shape::unknown(0), Shape::unknown(0), String::new(), &output)
        })
    }

    /// A pass into an unnamed temporary file, copied into `out` once complete.
    fn spooled(
        &self,
        source: Source,
        output: &Output,
        out: &mut impl Write,
    ) -> Result<Made, Error> {
        let failed = |e| Error::file(output, Problem::Write(e));
        let spool = tempfile::tempfile().map_err(|e| Error::file(output, Problem::Temp(e)))?;
        let mut spool = BufWriter::with_capacity(output::BUFFER_SIZE, spool);
        let made = self.tar_pass(source, output, &mut spool)?;
        let mut spool = spool.into_inner().map_err(|e| failed(e.into_error()))?;
        spool.rewind().map_err(failed)?;
        io::copy(&mut spool, out).map_err(failed)?;
        Ok(made)
    }

    /// Reads the archive entry by entry, writing each, cropped or copied, into `out`.
    fn tar_pass(
        &self,
        source: Source,
        output: &Output,
        out: &mut impl Write,
    ) -> Result<Made, Error> {
        let tar_error = |e| match e {
            TarError::Write(e) => Error::file(output, Problem::Write(e)),
            e => self.input_error(e),
        };
        let mut reader = Reader::new(source.reader);
        let (mut members, mut warnings) = (Vec::new(), Vec::new());
        while let Some(entry) = reader.next_entry().map_err(tar_error)? {
            let Some(kind) = self.cropped_kind(&entry) else {
                tar::write_entry(out, &entry, entry.size).map_err(tar_error)?;
                reader.copy_data(&entry, out).map_err(tar_error)?;
                tar::write_padding(out, entry.size).map_err(tar_error)?;
                members.push(copied(&entry.name, Vec::new(), String::new()));
                continue;
            };
            let limit = self.options.image_limit;
            if matches!(kind, FileKind::Image(_)) && entry.size > limit {
                let problem = Problem::TooBig(limit >> 20);
                return Err(Error::file(self.in_member(&entry.name), problem));
            }
            let data = reader.read_data(&entry).map_err(tar_error)?;
            let (bytes, member) = match self.crop_member(&entry.name, kind, &data, output)? {
                Some((bytes, summary)) => {
                    warnings.extend(summary.warnings);
                    let member = MemberSummary {
                        cropped: true,
                        input_shape: summary.input_shape.dims().unwrap_or_default(),
                        output_shape: summary.output_shape.dims().unwrap_or_default(),
                        ..copied(&entry.name, Vec::new(), summary.dtype)
                    };
                    (bytes, member)
                }
                None => {
                    let member = array_copied(&entry.name, &data);
                    (data, member)
                }
            };
            let size = bytes.len() as u64;
            tar::write_entry(out, &entry, size).map_err(tar_error)?;
            out.write_all(&bytes)
                .map_err(|e| Error::file(output, Problem::Write(e)))?;
            tar::write_padding(out, size).map_err(tar_error)?;
            members.push(member);
        }
        tar::write_end(out, reader.ending()).map_err(tar_error)?;
        Ok((members, warnings))
    }

    /// The kind of a member to crop, from its extension: a file rcrop reads
    /// (and, with `--members`, of an extension listed); `None` to copy it.
    fn cropped_kind(&self, entry: &Entry) -> Option<FileKind> {
        if !entry.is_file {
            return None;
        }
        let ext = Path::new(&entry.name).extension()?.to_str()?;
        let listed = &self.options.members;
        if !listed.is_empty() && !listed.iter().any(|m| m.eq_ignore_ascii_case(ext)) {
            return None;
        }
        match ext.to_ascii_lowercase().parse().ok()? {
            FileKind::Tar => None,
            kind => Some(kind),
        }
    }

    /// A member's bytes cropped, with the summary; `None` for a member to
    /// copy as it is: a `.npy` array of a rank the layer does not take, a
    /// `.npz` archive of none it takes. A failure names the archive and
    /// the member.
    fn crop_member(
        &self,
        name: &str,
        kind: FileKind,
        data: &[u8],
        output: &Output,
    ) -> Result<Option<(Vec<u8>, Summary)>, Error> {
        let input = self.in_member(name);
        let shown = Output::Path(PathBuf::from(format!("{output} (member {name})")));
        let cropped = match kind {
            FileKind::Npy => self.npy_member(data, &shown),
            FileKind::Npz => self.npz_member(data, &shown),
            FileKind::Image(format) => self.image_member(data, format, &shown).map(Some),
            FileKind::Tar => Ok(None),
        };
        cropped.map_err(|f| f.name(&input, &shown))
    }

    /// How a message names a member of the input.
    fn in_member(&self, name: &str) -> String {
        format!("{} (member {name})", self.input)
    }

    fn npy_member(&self, data: &[u8], shown: &Output) -> Result<Option<(Vec<u8>, Summary)>, Fault> {
        let mut reader = data;
        let (header, header_len) = Header::read(&mut reader)?;
        if !self.takes_rank(&Shape::known(&header.shape)) {
            return Ok(None);
        }
        let layer = self.layer_for(&header.shape)?;
        let (mut out_header, plan) = self.crop_plan(&header, &layer)?;
        let cast = self.array_cast(&layer, &mut out_header)?;
        header.check_file_len(header_len, Some(data.len() as u64))?;
        let mut bytes = out_header.to_bytes();
        match cast {
            None => crop_member(plan, data, header_len, &mut bytes),
            Some(cast) => crop_member(
                plan,
                data,
                header_len,
                &mut CastWriter::new(&mut bytes, cast),
            ),
        }?;
        let summary = Summary::new(
            Shape::known(&header.shape),
            Shape::known(&out_header.shape),
            array_dtype(&out_header.dtype),
            shown,
        );
        Ok(Some((bytes, summary)))
    }

    fn npz_member(&self, data: &[u8], shown: &Output) -> Result<Option<(Vec<u8>, Summary)>, Fault> {
        let mut archive = Archive::open(Cursor::new(data))?;
        let actions = self.actions(archive.members())?;
        if !actions.iter().any(|a| matches!(a, Action::Crop { .. })) {
            return Ok(None);
        }
        let bytes = archive.rewrite(&actions, Vec::new())?;
        let shape = Shape::unknown(0);
        Ok(Some((
            bytes,
            Summary::new(shape.clone(), shape, String::new(), shown),
        )))
    }

    fn image_member(
        &self,
        data: &[u8],
        format: ImageFormat,
        shown: &Output,
    ) -> Result<(Vec<u8>, Summary), Fault> {
        let layer = self.image_layer()?;
        if format == ImageFormat::Jpeg {
            return lossless_jpeg::crop(self, &layer, data, shown);
        }
        whole::crop_image(self, data, format, &layer, FileKind::Image(format), shown)
    }
}

/// A member copied as it is: its name, and for an array, its shape and dtype.
fn copied(name: &str, shape: Vec<usize>, dtype: String) -> MemberSummary {
    MemberSummary {
        name: name.to_owned(),
        input_shape: shape.clone(),
        output_shape: shape,
        dtype,
        cropped: false,
        compression: "stored",
    }
}

/// A `.npy` member copied as it is, for a layer that does not take its rank.
fn array_copied(name: &str, data: &[u8]) -> MemberSummary {
    match Header::read(&mut &data[..]) {
        Ok((header, _)) => copied(name, header.shape.clone(), array_dtype(&header.dtype)),
        Err(_) => copied(name, Vec::new(), String::new()),
    }
}

/// The data of a `.npy` member (`data`, its header `header_len` bytes
/// long) cropped as `plan` says into `out`.
fn crop_member(
    plan: CropPlan,
    data: &[u8],
    header_len: u64,
    out: &mut impl Write,
) -> Result<u64, PassError> {
    let mut reader = &data[header_len as usize..];
    match plan {
        CropPlan::Stream(plan) => stream::crop(&plan, &mut reader, out),
        CropPlan::Reorder(plan) => {
            reorder::crop_reordered(&plan, &mut Cursor::new(data), header_len, out)
        }
    }
}
