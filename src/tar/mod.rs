//! Tar archives, read and written one entry at a time from any `Read` into
//! any `Write`: the shards of WebDataset (`000123.jpg`, `000123.json` …).
//! A [`Reader`] yields each file or folder entry with the exact bytes of
//! its header and of the PAX and GNU records before it, so that a copy
//! keeps names, modes, owners and times as they are; [`write_entry`]
//! writes them back, changing only the size and the checksum.
//!
//! Nothing an archive claims is trusted: every header's checksum must
//! hold, data must be there in full, records are read up to a bound, and
//! links, devices, FIFOs and names that would escape a folder (absolute,
//! or with a `..` component) are refused. Nothing is extracted.

mod header;

pub use header::{BLOCK, looks_like_tar};

use std::io::{self, Read, Write};

use header::Block;

/// The most bytes a PAX or GNU long-name record may hold.
const RECORD_MAX: u64 = 1 << 20;

/// What can be wrong with an archive, or go wrong writing one.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    #[error("a truncated tar archive: {0}")]
    Truncated(String),
    #[error("a damaged tar archive: the header at byte {0} fails its checksum")]
    Checksum(u64),
    #[error("a damaged tar archive: the header at byte {offset} {why}")]
    Header { offset: u64, why: String },
    #[error("member {name:?} is a {what}; rcrop copies only files and folders out of a shard")]
    Refused { name: String, what: &'static str },
    #[error("member {0:?} is named to escape the folder it is unpacked in (absolute, or with ..)")]
    Escapes(String),
    #[error(
        "member {0:?} holds its size in a PAX record; rcrop crops only members whose header \
         holds their size"
    )]
    PaxSize(String),
    #[error("a tar archive with data after its end at byte {0}")]
    Trailing(u64),
    #[error("cannot read the archive: {0}")]
    Read(io::Error),
    #[error("cannot write the archive: {0}")]
    Write(io::Error),
}

/// A file or folder in an archive, and the records that come before it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its name: from a PAX `path` record, a GNU long-name record, or its header.
    pub name: String,
    /// Whether it is a file (else a folder, which holds no data).
    pub is_file: bool,
    /// Bytes of data.
    pub size: u64,
    /// The PAX and GNU records before its header, exactly as they are.
    records: Vec<u8>,
    header: Block,
    /// Whether a PAX record gives its size, which its header then need not.
    pax_size: bool,
}

/// Reads an archive one entry at a time.
pub struct Reader<R> {
    inner: R,
    offset: u64,
    /// Bytes from the first end block to the end of the input, all zeros.
    ending: Option<u64>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            offset: 0,
            ending: None,
        }
    }

    /// The next entry, its data still to be read with [`Reader::read_data`]
    /// or [`Reader::copy_data`]; `None` at the end of the archive.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        let mut records = Vec::new();
        let mut long_name = None;
        let mut pax = Pax::default();
        loop {
            let at = self.offset;
            let Some(block) = self.block()? else {
                return Err(TarError::Truncated(format!(
                    "it ends at byte {at} without the zero blocks that end an archive"
                )));
            };
            if header::is_zero(&block) {
                self.ending = Some(BLOCK as u64 + self.rest_is_zero()?);
                return Ok(None);
            }
            if !header::checksum_holds(&block) {
                return Err(TarError::Checksum(at));
            }
            let size = header::size(&block).ok_or_else(|| TarError::Header {
                offset: at,
                why: "has a size field that is not a number".into(),
            })?;
            let flag = header::typeflag(&block);
            if let b'x' | b'g' | b'L' | b'K' = flag {
                let data = self.record(at, size)?;
                records.extend_from_slice(&block);
                records.extend_from_slice(&data);
                records.resize(records.len() + padding(size) as usize, 0);
                match flag {
                    b'x' => pax = Pax::parse(&data, at)?,
                    b'g' if Pax::parse(&data, at)?.path.is_some() => {
                        return Err(TarError::Header {
                            offset: at,
                            why: "gives every member one name (a global PAX path)".into(),
                        });
                    }
                    b'L' => long_name = Some(until_nul(&data).to_vec()),
                    _ => {}
                }
                continue;
            }
            let name = pax
                .path
                .or(long_name)
                .unwrap_or_else(|| header::name(&block));
            let name = String::from_utf8_lossy(&name).into_owned();
            let is_file = match flag {
                b'0' | b'\0' | b'7' => true,
                b'5' => false,
                b'1' => return refused(name, "hard link"),
                b'2' => return refused(name, "symbolic link"),
                b'3' | b'4' => return refused(name, "device"),
                b'6' => return refused(name, "FIFO"),
                _ => return refused(name, "special entry of a type rcrop does not know"),
            };
            if escapes(&name) {
                return Err(TarError::Escapes(name));
            }
            return Ok(Some(Entry {
                name,
                is_file,
                size: pax.size.unwrap_or(size),
                records,
                header: block,
                pax_size: pax.size.is_some(),
            }));
        }
    }

    /// An entry's data, whole: memory grows with the bytes there, never
    /// with what the header claims.
    pub fn read_data(&mut self, entry: &Entry) -> Result<Vec<u8>, TarError> {
        let mut data = Vec::new();
        self.copy_data(entry, &mut data)?;
        Ok(data)
    }

    /// Copies an entry's data into `out`, a chunk at a time, and passes
    /// its padding by.
    pub fn copy_data(&mut self, entry: &Entry, out: &mut impl Write) -> Result<(), TarError> {
        let mut buf = vec![0; 64 << 10];
        let mut left = entry.size;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self.fill(&mut buf[..want])?;
            if n < want {
                return Err(self.cut(&entry.name, entry.size, entry.size - left + n as u64));
            }
            out.write_all(&buf[..n]).map_err(TarError::Write)?;
            left -= n as u64;
        }
        let pad = padding(entry.size) as usize;
        if self.fill(&mut buf[..pad])? < pad {
            return Err(self.cut(&entry.name, entry.size, entry.size));
        }
        Ok(())
    }

    /// The bytes from the first end block to the end of the input, once
    /// [`Reader::next_entry`] has returned `None`.
    pub fn ending(&self) -> u64 {
        self.ending.unwrap_or(2 * BLOCK as u64)
    }

    fn cut(&self, name: &str, size: u64, got: u64) -> TarError {
        TarError::Truncated(format!(
            "member {name:?} ends after {got} of its {size} bytes (and the padding to a whole \
             block), at byte {}",
            self.offset
        ))
    }

    /// A PAX or GNU record's data, within its bound.
    fn record(&mut self, at: u64, size: u64) -> Result<Vec<u8>, TarError> {
        if size > RECORD_MAX {
            return Err(TarError::Header {
                offset: at,
                why: format!(
                    "starts a record of {size} bytes; rcrop reads records of up to {RECORD_MAX}"
                ),
            });
        }
        let mut data = vec![0; (size + padding(size)) as usize];
        if self.fill(&mut data)? < data.len() {
            return Err(TarError::Truncated(format!(
                "the record at byte {at} ends at byte {}",
                self.offset
            )));
        }
        data.truncate(size as usize);
        Ok(data)
    }

    /// The next block; `None` at the end of the input. A part of a block
    /// is a truncated archive.
    fn block(&mut self) -> Result<Option<Block>, TarError> {
        let mut block = [0; BLOCK];
        match self.fill(&mut block)? {
            0 => Ok(None),
            BLOCK => Ok(Some(block)),
            n => Err(TarError::Truncated(format!(
                "it ends at byte {} in the middle of a header ({n} of its {BLOCK} bytes)",
                self.offset
            ))),
        }
    }

    /// Reads the input to its end; every byte must be zero.
    fn rest_is_zero(&mut self) -> Result<u64, TarError> {
        let mut buf = vec![0; 64 << 10];
        let mut total = 0;
        loop {
            let start = self.offset;
            let n = self.fill(&mut buf)?;
            if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
                return Err(TarError::Trailing(start + i as u64));
            }
            total += n as u64;
            if n < buf.len() {
                return Ok(total);
            }
        }
    }

    /// Reads until `buf` is full or the input ends; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, TarError> {
        let mut len = 0;
        while len < buf.len() {
            match self.inner.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Read(e)),
            }
        }
        self.offset += len as u64;
        Ok(len)
    }
}

fn refused<T>(name: String, what: &'static str) -> Result<T, TarError> {
    Err(TarError::Refused { name, what })
}

/// Writes an entry's records and header, its size changed to `size` (the
/// header's checksum made again) where it differs.
pub fn write_entry(out: &mut impl Write, entry: &Entry, size: u64) -> Result<(), TarError> {
    if size != entry.size && entry.pax_size {
        return Err(TarError::PaxSize(entry.name.clone()));
    }
    let header = match size == entry.size {
        true => entry.header,
        false => header::with_size(&entry.header, size),
    };
    out.write_all(&entry.records).map_err(TarError::Write)?;
    out.write_all(&header).map_err(TarError::Write)
}

/// Writes the zeros that pad `size` bytes of data to a whole block.
pub fn write_padding(out: &mut impl Write, size: u64) -> Result<(), TarError> {
    out.write_all(&[0; BLOCK][..padding(size) as usize])
        .map_err(TarError::Write)
}

/// Writes the end of an archive: `len` zero bytes, as many as the input's.
pub fn write_end(out: &mut impl Write, len: u64) -> Result<(), TarError> {
    io::copy(&mut io::repeat(0).take(len), out)
        .map(drop)
        .map_err(TarError::Write)
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// What a PAX extended header says of the entry after it.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Pax {
    /// Parses the records `LEN key=value\n`, each `LEN` bytes long.
    fn parse(mut data: &[u8], at: u64) -> Result<Self, TarError> {
        let bad = |why: &str| TarError::Header {
            offset: at,
            why: format!("starts a PAX record that is not well formed: {why}"),
        };
        let mut pax = Pax::default();
        while !data.is_empty() && !header::is_zero(data) {
            let space = data
                .iter()
                .position(|&b| b == b' ')
                .ok_or_else(|| bad("no length"))?;
            let len: usize = std::str::from_utf8(&data[..space])
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&len| len > space && len <= data.len())
                .ok_or_else(|| bad("a length past its end"))?;
            let record = &data[space + 1..len];
            let record = record
                .strip_suffix(b"\n")
                .ok_or_else(|| bad("no newline"))?;
            let eq = record
                .iter()
                .position(|&b| b == b'=')
                .ok_or_else(|| bad("no '='"))?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => pax.path = Some(value.to_vec()),
                b"size" => {
                    let size = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                    pax.size = Some(size.ok_or_else(|| bad("a size that is not a number"))?);
                }
                _ => {}
            }
            data = &data[len..];
        }
        Ok(pax)
    }
}

fn until_nul(data: &[u8]) -> &[u8] {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    &data[..end]
}

/// Whether a name would land outside the folder it is unpacked in.
fn escapes(name: &str) -> bool {
    name.is_empty()
        || name.starts_with('/')
        || name.contains('\0')
        || name.split(['/', '\\']).any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_are_told_apart() {
        for bad in ["/etc/passwd", "../x.jpg", "a/../../x", "a\\..\\x", ""] {
            assert!(escapes(bad), "{bad}");
        }
        for good in ["000123.jpg", "a/b/c.png", "a..b.npy", "./x.json"] {
            assert!(!escapes(good), "{good}");
        }
    }

    /// A v7 header of `name`, type `flag` and `size`, then its data padded.
    fn entry(name: &str, flag: u8, data: &[u8]) -> Vec<u8> {
        let mut block = [0; BLOCK];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[156] = flag;
        let mut out = header::with_size(&block, data.len() as u64).to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    fn names(archive: &[u8]) -> Result<Vec<String>, TarError> {
        let mut reader = Reader::new(archive);
        let mut found = Vec::new();
        while let Some(entry) = reader.next_entry()? {
            reader.copy_data(&entry, &mut io::sink())?;
            found.push(entry.name);
        }
        Ok(found)
    }

    #[test]
    fn gnu_long_names_name_the_next_entry_and_are_checked() {
        let end = [0; 2 * BLOCK];
        let long = "d/".repeat(60) + "x.jpg";
        let archive = [
            entry("././@LongLink", b'L', long.as_bytes()),
            entry("x", b'0', b"1"),
        ];
        let good = [&archive.concat()[..], &end].concat();
        assert_eq!(names(&good).unwrap(), [long]);
        let escaping = [
            entry("././@LongLink", b'L', b"d/../../x.jpg\0"),
            entry("x", b'0', b"1"),
            end.to_vec(),
        ];
        let refused = names(&escaping.concat()).unwrap_err().to_string();
        assert!(
            refused.contains("\"d/../../x.jpg\" is named to escape"),
            "{refused}"
        );
        let folder = [entry("d/", b'5', b""), end.to_vec()].concat();
        assert_eq!(names(&folder).unwrap(), ["d/"]);
    }

    #[test]
    fn pax_records_give_path_and_size() {
        let pax = Pax::parse(b"16 path=a/b.jpg\n11 size=42\n11 uid=100\n", 0).unwrap();
        assert_eq!(pax.path.as_deref(), Some(&b"a/b.jpg"[..]));
        assert_eq!(pax.size, Some(42));
        assert!(Pax::parse(b"99 path=x\n", 0).is_err());
        assert!(Pax::parse(b"9 pathx\n", 0).is_err());
    }
}
