//! The TIFF file as several decoders read it at once, one a thread: each
//! reader keeps its own offset and reads at it, so no reader moves
//! another's.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

/// A file, or bytes in memory, read at any offset by any thread.
pub(in crate::raster) enum Shared<'a> {
    File(File),
    Bytes(&'a [u8]),
}

impl From<BufReader<File>> for Shared<'_> {
    /// The file under the buffer: every reader reads at its own offset.
    fn from(file: BufReader<File>) -> Self {
        Shared::File(file.into_inner())
    }
}

impl<'a> From<Cursor<&'a [u8]>> for Shared<'a> {
    fn from(bytes: Cursor<&'a [u8]>) -> Self {
        Shared::Bytes(bytes.into_inner())
    }
}

impl Shared<'_> {
    fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        match self {
            Shared::File(file) => read_file_at(file, buf, at),
            Shared::Bytes(bytes) => {
                let start = usize::try_from(at).map_or(bytes.len(), |at| at.min(bytes.len()));
                let n = buf.len().min(bytes.len() - start);
                buf[..n].copy_from_slice(&bytes[start..start + n]);
                Ok(n)
            }
        }
    }

    fn len(&self) -> io::Result<u64> {
        match self {
            Shared::File(file) => Ok(file.metadata()?.len()),
            Shared::Bytes(bytes) => Ok(bytes.len() as u64),
        }
    }
}

#[cfg(unix)]
fn read_file_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

/// Every read names its offset, so the file's own position, which this
/// moves, is never relied on.
#[cfg(windows)]
fn read_file_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

/// One reader of a [`Shared`] file, at its own offset.
pub(super) struct At<'a> {
    file: Arc<Shared<'a>>,
    pos: u64,
}

impl<'a> At<'a> {
    /// A reader at the start of `file`, buffered: the `tiff` crate reads
    /// in small pieces.
    pub fn buffered(file: Arc<Shared<'a>>) -> BufReader<Self> {
        BufReader::new(Self { file, pos: 0 })
    }

    /// The file this reads.
    pub fn file(&self) -> &Arc<Shared<'a>> {
        &self.file
    }
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for At<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(by) => self.file.len()?.checked_add_signed(by),
            SeekFrom::Current(by) => self.pos.checked_add_signed(by),
        };
        self.pos = to.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "a seek before the start")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_of_one_file_keep_their_own_offsets() {
        let bytes: Vec<u8> = (0..=255).collect();
        let file = Arc::new(Shared::Bytes(&bytes));
        let (mut a, mut b) = (At::buffered(file.clone()), At::buffered(file));
        let mut four = [0u8; 4];
        a.seek(SeekFrom::Start(100)).unwrap();
        b.seek(SeekFrom::End(-4)).unwrap();
        a.read_exact(&mut four).unwrap();
        assert_eq!(four, [100, 101, 102, 103]);
        b.read_exact(&mut four).unwrap();
        assert_eq!(four, [252, 253, 254, 255]);
        assert_eq!(b.read(&mut four).unwrap(), 0);
        assert!(a.seek(SeekFrom::Current(-200)).is_err());
    }
}
