//! NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): a zip file of
//! `.npy` members. An [`Archive`] checks the whole directory and every
//! member's `.npy` header before anything is written; [`Archive::rewrite`]
//! then streams each member, cropped or copied, into a new archive with the
//! same names, order and compression, one chunk at a time.
//!
//! Nothing an archive claims is trusted: a member must inflate to exactly
//! the size its entry declares (and its `.npy` header implies), its CRC must
//! match, names must be unique, and encrypted or otherwise compressed
//! members are refused.

use std::collections::HashSet;
use std::io::{self, Read, Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::autocast::{Cast, CastWriter};
use crate::npy::stream::{self, PassError, StreamPlan};
use crate::npy::{Header, NpyError, ReadError};

/// The local file header signature every zip archive starts with.
pub const MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Members at least this large are written with ZIP64 sizes (deflate may
/// grow incompressible data a little past its input).
const ZIP64_FROM: u64 = 0xF000_0000;

/// What can be wrong with an archive, or go wrong rewriting it.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    #[error("the archive holds two members of one name: {0}")]
    Duplicate(String),
    #[error("member {0:?} is encrypted; rcrop reads only plain archives")]
    Encrypted(String),
    #[error("member {name:?} is compressed with {method}; NumPy archives are stored or deflated")]
    Method { name: String, method: String },
    #[error("member {0:?} is not a .npy file (its name does not end in .npy)")]
    NotNpyName(String),
    #[error("member {name:?} is not a .npy array: {source}")]
    NotNpy { name: String, source: ReadError },
    #[error("member {name:?} declares {declared} bytes, but its .npy header describes {described}")]
    SizeMismatch {
        name: String,
        declared: u64,
        described: u64,
    },
    #[error("member {name:?} is damaged: {why}")]
    Damaged { name: String, why: String },
    #[error("member {name:?}: {source}")]
    Data { name: String, source: NpyError },
    #[error("cannot write the archive: {0}")]
    Write(io::Error),
    /// What the caller asked of the archive cannot be done.
    #[error("{0}")]
    Refused(String),
}

/// How a member is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Stored,
    Deflated,
}

impl Compression {
    fn method(self) -> CompressionMethod {
        match self {
            Compression::Stored => CompressionMethod::Stored,
            Compression::Deflated => CompressionMethod::Deflated,
        }
    }

    /// `stored` or `deflated`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Stored => "stored",
            Compression::Deflated => "deflated",
        }
    }
}

/// One `.npy` member of an archive.
#[derive(Clone, Debug)]
pub struct Member {
    /// The name in the archive, e.g. `x.npy`.
    pub name: String,
    /// Its `.npy` header.
    pub header: Header,
    pub compression: Compression,
    /// Bytes of the whole `.npy` file, header included.
    pub size: u64,
    modified: Option<DateTime>,
}

impl Member {
    /// The key `np.load` gives it: the name without `.npy`.
    pub fn key(&self) -> &str {
        self.name.strip_suffix(".npy").unwrap_or(&self.name)
    }
}

/// What to do with one member.
#[derive(Clone, Debug)]
pub enum Action {
    /// Copy it as it is.
    Copy,
    /// Write `header`, then the data `plan` keeps, cast if `cast` says.
    Crop {
        header: Header,
        plan: StreamPlan,
        cast: Option<Cast>,
    },
}

/// An archive whose directory and member headers have been checked.
pub struct Archive<R: Read + Seek> {
    zip: ZipArchive<R>,
    members: Vec<Member>,
}

impl<R: Read + Seek> Archive<R> {
    /// Reads the directory and every member's `.npy` header.
    pub fn open(reader: R) -> Result<Self, NpzError> {
        let mut zip = ZipArchive::new(reader).map_err(|e| NpzError::Zip(e.to_string()))?;
        if zip.has_duplicate_names() {
            return Err(NpzError::Duplicate(
                "its central directory lists a member name twice".into(),
            ));
        }
        let mut names = HashSet::new();
        let mut members = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let member = {
                let file = zip
                    .by_index_raw(index)
                    .map_err(|e| NpzError::Zip(e.to_string()))?;
                let name = file
                    .name()
                    .map_err(|e| NpzError::Zip(e.to_string()))?
                    .into_owned();
                if file.encrypted() {
                    return Err(NpzError::Encrypted(name));
                }
                let compression = match file.compression() {
                    CompressionMethod::Stored => Compression::Stored,
                    CompressionMethod::Deflated => Compression::Deflated,
                    other => {
                        return Err(NpzError::Method {
                            name,
                            method: other.to_string(),
                        });
                    }
                };
                if !name.ends_with(".npy") || file.is_dir() {
                    return Err(NpzError::NotNpyName(name));
                }
                (name, compression, file.size(), file.last_modified())
            };
            let (name, compression, size, modified) = member;
            if !names.insert(name.clone()) {
                return Err(NpzError::Duplicate(format!("{name:?}")));
            }
            let header = read_member_header(&mut zip, index, &name, size)?;
            members.push(Member {
                name,
                header,
                compression,
                size,
                modified,
            });
        }
        Ok(Self { zip, members })
    }

    /// The members, in archive order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Writes a new archive to `out`, member by member in the same order,
    /// names and compression, each copied or cropped as `actions` says (one
    /// action a member). Every member is inflated and its CRC checked as it
    /// goes; the caller discards `out` on error.
    pub fn rewrite<W: Write>(&mut self, actions: &[Action], out: W) -> Result<W, NpzError> {
        let mut writer = ZipWriter::new_stream(out);
        for (index, (member, action)) in self.members.iter().zip(actions).enumerate() {
            let out_size = match action {
                Action::Copy => member.size,
                Action::Crop { header, plan, cast } => {
                    let (from, to) = cast.map_or((1, 1), |c| c.sizes());
                    header.to_bytes().len() as u64 + plan.output_len() / from as u64 * to as u64
                }
            };
            let mut options = SimpleFileOptions::default()
                .compression_method(member.compression.method())
                .large_file(out_size >= ZIP64_FROM);
            if let Some(time) = member.modified {
                options = options.last_modified_time(time);
            }
            writer
                .start_file(member.name.as_str(), options)
                .map_err(|e| NpzError::Write(io::Error::other(e)))?;
            let file = self
                .zip
                .by_index(index)
                .map_err(|e| damaged(&member.name, e))?;
            let mut reader = Exact::new(file, member.size);
            match action {
                Action::Copy => {
                    copy(&mut reader, &mut writer, &member.name)?;
                }
                Action::Crop { header, plan, cast } => {
                    Header::read(&mut reader).map_err(|source| NpzError::NotNpy {
                        name: member.name.clone(),
                        source,
                    })?;
                    writer
                        .write_all(&header.to_bytes())
                        .map_err(NpzError::Write)?;
                    stream_crop(plan, *cast, &mut reader, &mut writer, &member.name)?;
                }
            }
        }
        let inner = writer
            .finish()
            .map_err(|e| NpzError::Write(io::Error::other(e)))?;
        Ok(inner.into_inner())
    }

    /// Writes member `index` cropped as `plan` says (and cast as `cast`
    /// says), under `header`, to `out`: a `.npy` file.
    pub fn extract<W: Write>(
        &mut self,
        index: usize,
        header: &Header,
        (plan, cast): (&StreamPlan, Option<Cast>),
        out: &mut W,
    ) -> Result<(), NpzError> {
        let Some(member) = self.members.get(index) else {
            return Err(NpzError::Refused(format!("no member {index}")));
        };
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| damaged(&member.name, e))?;
        let mut reader = Exact::new(file, member.size);
        Header::read(&mut reader).map_err(|source| NpzError::NotNpy {
            name: member.name.clone(),
            source,
        })?;
        out.write_all(&header.to_bytes()).map_err(NpzError::Write)?;
        stream_crop(plan, cast, &mut reader, out, &member.name)
    }
}

/// The `.npy` header of member `index`, checked against its declared size.
fn read_member_header<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    name: &str,
    size: u64,
) -> Result<Header, NpzError> {
    let file = zip.by_index(index).map_err(|e| damaged(name, e))?;
    let mut reader = Exact::new(file, size);
    let (header, header_len) = Header::read(&mut reader).map_err(|source| NpzError::NotNpy {
        name: name.to_owned(),
        source,
    })?;
    let data_len = header.data_len().map_err(|source| NpzError::Data {
        name: name.to_owned(),
        source,
    })?;
    let described = header_len.saturating_add(data_len);
    if described != size {
        return Err(NpzError::SizeMismatch {
            name: name.to_owned(),
            declared: size,
            described,
        });
    }
    Ok(header)
}

fn damaged(name: &str, why: impl std::fmt::Display) -> NpzError {
    NpzError::Damaged {
        name: name.to_owned(),
        why: why.to_string(),
    }
}

fn stream_crop(
    plan: &StreamPlan,
    cast: Option<Cast>,
    reader: &mut impl Read,
    writer: &mut impl Write,
    name: &str,
) -> Result<(), NpzError> {
    match cast {
        None => stream::crop(plan, reader, writer),
        Some(cast) => stream::crop(plan, reader, &mut CastWriter::new(writer, cast)),
    }
    .map(|_| ())
    .map_err(|e| match e {
        PassError::Read(e) => damaged(name, e),
        PassError::Write(e) => NpzError::Write(e),
        PassError::Data(source) => NpzError::Data {
            name: name.to_owned(),
            source,
        },
    })
}

/// Copies a whole member, a chunk at a time.
fn copy(reader: &mut impl Read, writer: &mut impl Write, name: &str) -> Result<(), NpzError> {
    let mut buf = vec![0; stream::IO_SIZE];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(damaged(name, e)),
        };
        writer.write_all(&buf[..n]).map_err(NpzError::Write)?;
    }
}

/// A member's inflated bytes, which must be exactly as many as its entry
/// declares: more is an error as soon as it appears (decompression never
/// runs past the declared size), fewer is an error at the end.
struct Exact<R> {
    inner: R,
    declared: u64,
    seen: u64,
}

impl<R: Read> Exact<R> {
    fn new(inner: R, declared: u64) -> Self {
        Self {
            inner,
            declared,
            seen: 0,
        }
    }
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.declared - self.seen;
        if left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "it inflates past the {} bytes its entry declares",
                        self.declared
                    ),
                )),
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 && want > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "it ends after {} of the {} bytes its entry declares",
                    self.seen, self.declared
                ),
            ));
        }
        self.seen += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], declared: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Exact::new(data, declared).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_member_must_inflate_to_exactly_its_declared_size() {
        assert_eq!(read_all(b"abcdef", 6).unwrap(), b"abcdef");
        let past = read_all(b"abcdefg", 6).unwrap_err().to_string();
        assert!(past.contains("inflates past the 6 bytes"), "{past}");
        let short = read_all(b"abc", 6).unwrap_err().to_string();
        assert!(short.contains("ends after 3 of the 6 bytes"), "{short}");
    }
}
