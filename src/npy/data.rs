//! The data that follows a `.npy` header: exactly as many bytes as the
//! header promises, and nothing after them. A regular file's length is
//! checked before any of it is read; a pipe's data is counted as it comes.

use std::io::{self, Read};

use super::{Header, NpyError, ReadError};

impl Header {
    /// Fails unless a regular file holds exactly the data this header
    /// promises, given the bytes that were `remaining` before the header of
    /// `header_len` bytes was read; the length of a pipe (`None`) is not
    /// known in advance.
    pub fn check_file_len(&self, header_len: u64, remaining: Option<u64>) -> Result<(), NpyError> {
        match remaining {
            Some(remaining) => self.check_data_len(remaining.saturating_sub(header_len)),
            None => Ok(()),
        }
    }
}

/// The data of a `.npy` array, read from just after its header: reads
/// fail with [`NpyError::ShortData`] where the data ends early, and
/// [`Data::expect_end`] with [`NpyError::TrailingData`] where more follows.
pub struct Data<R> {
    reader: R,
    /// The bytes the header promises, and the bytes read so far.
    len: u64,
    read: u64,
}

impl<R: Read> Data<R> {
    /// The `len` bytes of data `reader` is about to give.
    pub fn new(reader: R, len: u64) -> Self {
        Self {
            reader,
            len,
            read: 0,
        }
    }

    /// The next `n` bytes, in memory; the caller bounds `n`.
    pub fn read_vec(&mut self, n: u64) -> Result<Vec<u8>, ReadError> {
        let mut data = Vec::new();
        (&mut self.reader).take(n).read_to_end(&mut data)?;
        self.read += data.len() as u64;
        if data.len() as u64 != n {
            return Err(NpyError::ShortData {
                expected: n,
                found: data.len() as u64,
            }
            .into());
        }
        Ok(data)
    }

    /// Fills `buf` with the next bytes.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => return Err(self.short().into()),
                Ok(n) => {
                    filled += n;
                    self.read += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads past whatever of the data is left, so that data cut short is
    /// an error even where the crop needs none of it.
    pub fn skip_rest(&mut self) -> Result<(), ReadError> {
        let rest = self.len.saturating_sub(self.read);
        let skipped = io::copy(&mut (&mut self.reader).take(rest), &mut io::sink())?;
        self.read += skipped;
        if skipped != rest {
            return Err(self.short().into());
        }
        Ok(())
    }

    /// Fails if anything follows the data.
    pub fn expect_end(&mut self) -> Result<(), ReadError> {
        let mut extra = [0u8; 1];
        match self.reader.read(&mut extra)? {
            0 => Ok(()),
            _ => Err(NpyError::TrailingData { expected: self.len }.into()),
        }
    }

    fn short(&self) -> NpyError {
        NpyError::ShortData {
            expected: self.len,
            found: self.read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cut_short_says_how_much_arrived() {
        let mut data = Data::new(&[1u8, 2, 3][..], 5);
        let mut buf = [0; 2];
        data.read_exact(&mut buf).unwrap();
        let err = data.skip_rest().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Npy(NpyError::ShortData {
                    expected: 5,
                    found: 3
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn bytes_after_the_data_are_an_error() {
        let mut data = Data::new(&[1u8, 2, 3][..], 2);
        assert_eq!(data.read_vec(2).unwrap(), [1, 2]);
        assert!(matches!(
            data.expect_end(),
            Err(ReadError::Npy(NpyError::TrailingData { expected: 2 }))
        ));
    }
}
