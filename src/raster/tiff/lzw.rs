//! TIFF LZW (TIFF 6: codes of 9 to 12 bits from the high bit, the width
//! growing one code early) decoded into one buffer holding the whole strip
//! or tile: each code of the table is a run of bytes already written, so
//! a code is one short copy, not a walk down a chain of prefixes as in
//! weezl (which the `tiff` crate uses) or libtiff: about three times
//! weezl's speed on noisy 8-bit RGB.
//!
//! It decodes well-formed streams only: a code past the table, a full
//! table without a Clear code, or a first code that is not a byte, and it
//! stops, leaving the chunk to the crate, whose decoder says what is wrong.

const CLEAR: usize = 256;
const END: usize = 257;
const FIRST: usize = 258;
const MAX_WIDTH: u32 = 12;
const MASK: usize = (1 << MAX_WIDTH) - 1;
/// Marks a run in [`LITERALS`] rather than in the output: the codes below
/// [`CLEAR`], each its own byte. Runs are held in 32 bits, which is faster
/// than in 64; a larger output is left to the crate.
const LITERAL: u32 = 1 << 31;
/// Every byte, in order, then room for a copy of 16 bytes from the last.
static LITERALS: [u8; 256 + 16] = {
    let mut bytes = [0u8; 256 + 16];
    let mut i = 0;
    while i < 256 {
        bytes[i] = i as u8;
        i += 1;
    }
    bytes
};

/// Decodes `data` into `out` until `out` is full or the stream ends;
/// returns the bytes written, or `None` where the stream is not
/// well-formed before `out` is full.
pub(super) fn decode(data: &[u8], out: &mut [u8]) -> Option<usize> {
    if out.len() >= LITERAL as usize {
        return None;
    }
    // Each code's run, where it starts and how long it is: a literal's in
    // LITERALS, every other in `out`, so that every code is one copy.
    let mut table = vec![(0u32, 0u32); 1 << MAX_WIDTH];
    for (code, entry) in (0..).zip(&mut table[..CLEAR]) {
        *entry = (code | LITERAL, 1);
    }
    let mut bits = Bits::new(data);
    let (mut width, mut next) = (9, FIRST);
    // The last code's run, which ends where the next one starts.
    let mut last: Option<(usize, usize)> = None;
    let mut at = 0;
    while at < out.len() {
        let Some(code) = bits.take(width) else {
            break;
        };
        if code == CLEAR {
            (width, next, last) = (9, FIRST, None);
            continue;
        }
        if code == END {
            break;
        }
        let Some((start, len)) = last else {
            out[at] = u8::try_from(code).ok()?;
            (last, at) = (Some((at, 1)), at + 1);
            continue;
        };
        if next == table.len() || code > next {
            return None;
        }
        // The last run and the first byte of this one, which follows it;
        // `at` and runs are below 2^31, and codes below 2^12.
        table[next & MASK] = (start as u32, len as u32 + 1);
        let (from, n) = table[code & MASK];
        let n = n as usize;
        copy(out, from, n, at);
        next += 1;
        if next == (1 << width) - 1 && width < MAX_WIDTH {
            width += 1;
        }
        last = Some((at, n));
        at += n;
    }
    Some(at.min(out.len()))
}

/// Copies the run of `n` bytes at `from` (in [`LITERALS`] where marked
/// [`LITERAL`]) to `at` in `out`, as far as `out` goes. A run of up to 64
/// bytes, the most, is copied as a block of 16, 32 or 64 bytes, those past
/// it written again later; a run that ends where it is copied to (the code
/// just made) is copied a byte at a time, so each byte is written before
/// it is read.
fn copy(out: &mut [u8], from: u32, n: usize, at: usize) {
    let (done, rest) = out.split_at_mut(at);
    let (source, from) = if from & LITERAL != 0 {
        (&LITERALS[..], (from & !LITERAL) as usize)
    } else {
        (&done[..], from as usize)
    };
    // Written out for each size, so that each is a copy of fixed length:
    // a loop over the sizes, or a function, measured about 20% slower.
    macro_rules! blocks {
        ($($size:literal),*) => {$(
            if n <= $size && from + $size <= source.len() && rest.len() >= $size {
                rest[..$size].copy_from_slice(&source[from..from + $size]);
                return;
            }
        )*};
    }
    blocks!(16, 32, 64);
    let n = n.min(rest.len());
    if from + n <= source.len() {
        rest[..n].copy_from_slice(&source[from..from + n]);
    } else {
        for i in 0..n {
            out[at + i] = out[from + i];
        }
    }
}

/// The stream's bits, from the high bit of each byte.
struct Bits<'a> {
    data: &'a [u8],
    buffer: u64,
    held: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            buffer: 0,
            held: 0,
        }
    }

    /// The next `width` bits, or `None` at the end of the data.
    fn take(&mut self, width: u32) -> Option<usize> {
        if self.held < width {
            if let Some((word, rest)) = self.data.split_first_chunk::<4>() {
                self.buffer = self.buffer << 32 | u64::from(u32::from_be_bytes(*word));
                (self.data, self.held) = (rest, self.held + 32);
            } else {
                while self.held < width {
                    let (&byte, rest) = self.data.split_first()?;
                    self.buffer = self.buffer << 8 | u64::from(byte);
                    (self.data, self.held) = (rest, self.held + 8);
                }
            }
        }
        self.held -= width;
        Some((self.buffer >> self.held) as usize & ((1 << width) - 1))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use weezl::BitOrder;

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut encoder = weezl::encode::Encoder::with_tiff_size_switch(BitOrder::Msb, 8);
        encoder.encode(data).unwrap()
    }

    /// What the `tiff` crate's decoder (weezl) makes of the first `len`
    /// bytes of `data`, or `None` where it fails before.
    fn weezl(data: &[u8], len: usize) -> Option<Vec<u8>> {
        let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(BitOrder::Msb, 8);
        let mut out = vec![0; len];
        let (mut read, mut written) = (0, 0);
        while written < len {
            let result = decoder.decode_bytes(&data[read..], &mut out[written..]);
            (read, written) = (read + result.consumed_in, written + result.consumed_out);
            match result.status {
                Ok(weezl::LzwStatus::Ok) if result.consumed_in + result.consumed_out > 0 => {}
                _ => break,
            }
        }
        (written == len).then_some(out)
    }

    /// Bytes with runs and repeats, as predicted rows are, long enough to
    /// fill the table and clear it.
    fn rows() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec((0u8..6, 1usize..40), 1..2000).prop_map(|runs| {
            runs.into_iter()
                .flat_map(|(value, n)| (0..n).map(move |i| value.wrapping_mul(i as u8)))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn decodes_what_weezl_encodes(data in rows()) {
            let stream = encode(&data);
            let mut out = vec![0; data.len()];
            prop_assert_eq!(super::decode(&stream, &mut out), Some(data.len()));
            prop_assert_eq!(out, data);
        }

        #[test]
        fn a_damaged_stream_it_decodes_is_what_weezl_decodes(
            data in rows(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut stream = encode(&data);
            for (at, bits) in flips {
                let at = at.index(stream.len());
                stream[at] ^= bits;
            }
            stream.truncate(cut.index(stream.len() + 1));
            let mut out = vec![0; data.len()];
            if super::decode(&stream, &mut out) == Some(out.len()) {
                prop_assert_eq!(Some(out), weezl(&stream, data.len()));
            }
        }
    }
}
