//! Buffers for boxes of a change of order, each in memory mapped for it
//! alone, on huge pages where the system gives them.

use std::io;

/// The size of a huge page, where the system has them.
const HUGE_PAGE: usize = 2 << 20;

/// A buffer for a box, in memory mapped for it alone and on huge pages
/// where the system gives them: reversing a box reads it a few bytes at a
/// time from places far apart, and with small pages nearly every read
/// would first look up its page's translation (measured: a third of the
/// time of reversing 1 GiB).
pub(super) struct PagedBuffer {
    map: memmap2::MmapMut,
    skip: usize,
    len: usize,
}

impl PagedBuffer {
    /// A buffer of `len` bytes; a box smaller than a huge page takes
    /// small pages, since a huge one would only cost memory.
    pub(super) fn new(len: usize) -> io::Result<Self> {
        if len < HUGE_PAGE {
            let map = memmap2::MmapMut::map_anon(len.max(1))?;
            return Ok(Self { map, skip: 0, len });
        }
        let map = memmap2::MmapMut::map_anon(len + HUGE_PAGE)?;
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        let skip = map.as_ptr().align_offset(HUGE_PAGE).min(HUGE_PAGE);
        Ok(Self { map, skip, len })
    }
}

impl std::ops::Deref for PagedBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map[self.skip..][..self.len]
    }
}

impl std::ops::DerefMut for PagedBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.map[self.skip..][..self.len]
    }
}
