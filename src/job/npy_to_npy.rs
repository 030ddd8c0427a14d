//! `.npy` to `.npy`: one pass over the data, never the whole array in
//! memory; in the input's order from its reader, or into the other order
//! from the file read at any offset (into a file output, a box at a time,
//! each written at its place).

use std::io::{Seek, SeekFrom, Write};

use super::summary::array_dtype;
use super::{Fault, Job, Summary};
use crate::autocast::CastWriter;
use crate::input::{self, Source};
use crate::layer::Shape;
use crate::npy::mapped;
use crate::npy::reorder::{self, ReorderPlan};
#[cfg(target_os = "linux")]
use crate::npy::spliced;
use crate::npy::stream::{self, PassError, StreamPlan};
use crate::npy::{CropPlan, Header};
use crate::output::{self, Output};

// The stream's requests must pass the input's and output's buffers by.
const _: () =
    assert!(stream::IO_SIZE >= input::BUFFER_SIZE && stream::IO_SIZE >= output::BUFFER_SIZE);

/// How the data of the output is produced: from the input's reader (a
/// pipe), from the input file mapped, or from the input file read at any
/// offset into the other order.
enum Pass {
    Stream(StreamPlan),
    Mapped(StreamPlan, std::fs::File),
    Reorder(ReorderPlan, std::fs::File),
}

impl Pass {
    fn run(
        self,
        source: &mut Source,
        header_len: u64,
        out: &mut impl Write,
    ) -> Result<u64, PassError> {
        match self {
            Pass::Stream(plan) => stream::crop(&plan, &mut source.reader, out),
            Pass::Mapped(plan, file) => mapped::crop_file(&plan, &file, header_len, out),
            Pass::Reorder(plan, file) => {
                reorder::crop_reordered_file(&plan, &file, header_len, out)
            }
        }
    }
}

/// Crops a `.npy` array into a `.npy` at `output`, and commits.
pub(super) fn run(job: &Job, mut source: Source, output: &Output) -> Result<Summary, Fault> {
    let (header, header_len) = Header::read(&mut source.reader)?;
    let layer = job.layer_for(&header.shape)?;
    let (mut out_header, plan) = job.crop_plan(&header, &layer)?;
    let cast = job.array_cast(&layer, &mut out_header)?;
    header.check_file_len(header_len, source.remaining)?;
    // Checked before the output is created.
    let pass = match plan {
        // A file is mapped where its runs are short; anything else (or a
        // file that cannot be opened again) is read front to back.
        CropPlan::Stream(plan) if mapped::suits(&plan) => match job.seekable(&source, &header) {
            Ok(file) => Pass::Mapped(plan, file),
            Err(_) => Pass::Stream(plan),
        },
        CropPlan::Stream(plan) => Pass::Stream(plan),
        CropPlan::Reorder(plan) => Pass::Reorder(plan, job.seekable(&source, &header)?),
    };
    let mut out = job.stage(output)?;
    let head = out_header.to_bytes();
    out.write_all(&head).map_err(Fault::write)?;
    match (pass, cast) {
        // A file output (standard output too, where it is a file) takes
        // each box of the other order at its place.
        (Pass::Reorder(plan, file), None) if reorder::suits(&plan) => {
            match out.at_offsets().map_err(Fault::write)? {
                Some((target, at)) => reorder::crop_reordered_at(
                    &plan, &file, header_len, &target, at,
                )
                .and_then(|written| {
                    (&target)
                        .seek(SeekFrom::Start(at + written))
                        .map_err(PassError::Write)?;
                    Ok(written)
                }),
                None => reorder::crop_reordered_file(&plan, &file, header_len, &mut out),
            }
        }
        // Long runs from a file into a file go by reference (Linux).
        #[cfg(target_os = "linux")]
        (Pass::Stream(plan), None) if source.remaining.is_some() => {
            let input = job.seekable(&source, &header).ok();
            match (input, out.file().map_err(Fault::write)?) {
                (Some(file), Some(mut target)) => match spliced::SpliceWriter::new(target) {
                    Some(mut writer) => mapped::splice_file(&plan, &file, header_len, &mut writer),
                    None => stream::crop(&plan, &mut source.reader, &mut target),
                },
                _ => stream::crop(&plan, &mut source.reader, &mut out),
            }
        }
        (pass, None) => pass.run(&mut source, header_len, &mut out),
        (pass, Some(cast)) => pass.run(
            &mut source,
            header_len,
            &mut CastWriter::new(&mut out, cast),
        ),
    }?;
    job.commit(out)?;
    Ok(Summary::new(
        Shape::known(&header.shape),
        Shape::known(&out_header.shape),
        array_dtype(&out_header.dtype),
        output,
    ))
}
