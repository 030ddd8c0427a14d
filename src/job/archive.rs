//! A `.npz` input: every 4D member cropped and the others copied into a new
//! archive, or, with one `--key` and a `.npy` output, that member cropped on
//! its own. The archive is one input: its members are listed in the summary.

use std::fs::File;
use std::io::BufReader;

use super::summary::array_dtype;
use super::{Job, Part, Summary};
use crate::error::{Error, Problem};
use crate::input::Input;
use crate::kind::FileKind;
use crate::layer::{ChoiceError, LayerChoice, Shape};
use crate::npz::{Action, Archive, Member, NpzError};
use crate::output::Output;

/// What a job did with one member of an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSummary {
    /// The member's name in the archive, e.g. `x.npy`.
    pub name: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// The dtype as NumPy spells it, e.g. `<f4`.
    pub dtype: String,
    /// Whether it was cropped (else copied unchanged).
    pub cropped: bool,
    /// `stored` or `deflated`.
    pub compression: &'static str,
}

type FileArchive = Archive<BufReader<File>>;

impl Job {
    /// Runs (or, with `dry`, plans) the job on a `.npz` input.
    pub(super) fn npz(&self, to: FileKind, dry: bool) -> Result<Summary, Error> {
        let Input::Path(path) = &self.input else {
            return Err(self.input_error(Problem::Read(std::io::Error::other(
                "a .npz archive is read from its end: give its file, not standard input",
            ))));
        };
        let file = File::open(path).map_err(|e| self.input_error(Problem::Open(e)))?;
        let mut archive = Archive::open(BufReader::new(file)).map_err(|e| self.input_error(e))?;
        self.check_keys(archive.members())?;
        let actions = self.actions(archive.members())?;
        let mut members: Vec<MemberSummary> = archive
            .members()
            .iter()
            .zip(&actions)
            .map(|(m, a)| member_summary(m, a))
            .collect();
        let output = self.output_name(Part::Whole);
        match to {
            FileKind::Npz => {}
            FileKind::Npy => {
                let index = self.extracted(archive.members())?;
                members = vec![members.swap_remove(index)];
                if !dry && !self.exists_already(&output) {
                    self.write_member(&mut archive, index, &actions[index], &output)?;
                }
                return Ok(self.summary(members, &output));
            }
            FileKind::Image(_) | FileKind::Tar => {
                return Err(self.input_error(Problem::Npz(NpzError::Refused(format!(
                    "an archive cannot become {to}; extract one member with --key NAME \
                         and a .npy output"
                )))));
            }
        }
        if self.exists_already(&output) {
            return Ok(Summary::skipped(&output));
        }
        if !dry {
            let out = self.stage(&output)?;
            let out = archive.rewrite(&actions, out).map_err(|e| match e {
                NpzError::Write(e) => Error::file(&output, Problem::Write(e)),
                e => self.input_error(e),
            })?;
            self.commit(out).map_err(|f| f.name(&self.input, &output))?;
        }
        Ok(self.summary(members, &output))
    }

    /// Every `--key` must name a member.
    fn check_keys(&self, members: &[Member]) -> Result<(), Error> {
        for key in &self.options.keys {
            if !members.iter().any(|m| m.key() == key) {
                let found: Vec<&str> = members.iter().map(Member::key).collect();
                return Err(self.input_error(Problem::Npz(NpzError::Refused(format!(
                    "no member {key:?}; the archive holds {found:?}"
                )))));
            }
        }
        Ok(())
    }

    /// Crop each member whose rank the layer takes (only those named by
    /// `--key`, when given); copy the rest.
    pub(super) fn actions(&self, members: &[Member]) -> Result<Vec<Action>, Error> {
        members
            .iter()
            .map(|m| {
                let named = self.options.keys.iter().any(|k| k == m.key());
                let wanted = self.options.keys.is_empty() || named;
                let shape = Shape::known(&m.header.shape);
                if !wanted || !(self.takes_rank(&shape) || named) {
                    return Ok(Action::Copy);
                }
                let layer = self.layer.for_shape(&shape).map_err(|e| match e {
                    ChoiceError::Spec(e) => Error::Usage(format!("{}: {e}", self.member_name(m))),
                    rank => self.member_error(m, rank.into()),
                })?;
                let kept = layer
                    .kept_ranges(&m.header.shape)
                    .map_err(|e| self.member_error(m, e.into()))?;
                let (mut header, plan) = m
                    .header
                    .cropped(&kept)
                    .map_err(|e| self.member_error(m, e.into()))?;
                let cast = self
                    .array_cast(&layer, &mut header)
                    .map_err(|f| f.name(&self.member_name(m), &self.member_name(m)))?;
                Ok(Action::Crop { header, plan, cast })
            })
            .collect()
    }

    /// Whether the layer (or the choice of one by rank) crops an array
    /// member of this shape; members it does not are copied.
    pub(super) fn takes_rank(&self, shape: &Shape) -> bool {
        match &self.layer {
            LayerChoice::Fixed(layer) | LayerChoice::Configured { layer, .. } => {
                layer.class().rank() == shape.rank()
            }
            choice => choice.for_shape(shape).is_ok(),
        }
    }

    /// The member a `.npy` output takes: the one `--key` names.
    fn extracted(&self, members: &[Member]) -> Result<usize, Error> {
        let [key] = self.options.keys.as_slice() else {
            return Err(self.input_error(Problem::Npz(NpzError::Refused(format!(
                "an archive becomes a .npy only with exactly one --key NAME (found {} keys)",
                self.options.keys.len()
            )))));
        };
        Ok(members
            .iter()
            .position(|m| m.key() == key)
            .unwrap_or_default())
    }

    fn write_member(
        &self,
        archive: &mut FileArchive,
        index: usize,
        action: &Action,
        output: &Output,
    ) -> Result<(), Error> {
        let Action::Crop { header, plan, cast } = action else {
            return Err(self.input_error(Problem::Npz(NpzError::Refused(
                "the member is not cropped".into(),
            ))));
        };
        let mut out = self.stage(output)?;
        archive
            .extract(index, header, (plan, *cast), &mut out)
            .map_err(|e| match e {
                NpzError::Write(e) => Error::file(output, Problem::Write(e)),
                e => self.input_error(e),
            })?;
        self.commit(out).map_err(|f| f.name(&self.input, output))
    }

    fn member_name(&self, member: &Member) -> String {
        format!("{} (member {})", self.input, member.name)
    }

    fn member_error(&self, member: &Member, problem: Problem) -> Error {
        Error::file(self.member_name(member), problem)
    }

    /// The archive's summary: the shapes of its one member (or the one
    /// extracted), else none.
    fn summary(&self, members: Vec<MemberSummary>, output: &Output) -> Summary {
        let (input_shape, output_shape, dtype) = match members.as_slice() {
            [one] => (
                Shape::known(&one.input_shape),
                Shape::known(&one.output_shape),
                one.dtype.clone(),
            ),
            _ => (Shape::unknown(0), Shape::unknown(0), String::new()),
        };
        Summary {
            members,
            ..Summary::new(input_shape, output_shape, dtype, output)
        }
    }
}

fn member_summary(member: &Member, action: &Action) -> MemberSummary {
    let (output_shape, dtype) = match action {
        Action::Copy => (member.header.shape.clone(), &member.header.dtype),
        Action::Crop { header, .. } => (header.shape.clone(), &header.dtype),
    };
    MemberSummary {
        name: member.name.clone(),
        input_shape: member.header.shape.clone(),
        output_shape,
        dtype: array_dtype(dtype),
        cropped: matches!(action, Action::Crop { .. }),
        compression: member.compression.name(),
    }
}
