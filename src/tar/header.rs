//! One 512-byte tar header block: its checksum, its numbers (octal, or
//! base-256 for large ones), its names, and the copy of it that changes
//! only the size and the checksum.

/// Everything in a tar archive comes in blocks of this size.
pub const BLOCK: usize = 512;

/// A header block.
pub type Block = [u8; BLOCK];

const NAME: std::ops::Range<usize> = 0..100;
const SIZE: std::ops::Range<usize> = 124..136;
const CHECKSUM: std::ops::Range<usize> = 148..156;
const TYPEFLAG: usize = 156;
const MAGIC: std::ops::Range<usize> = 257..263;
const PREFIX: std::ops::Range<usize> = 345..500;

/// Whether the first bytes of a file are a tar header: the ustar magic at
/// byte 257, or an old (v7) header whose checksum holds.
pub fn looks_like_tar(prefix: &[u8]) -> bool {
    let Some(block) = prefix.first_chunk::<BLOCK>() else {
        return false;
    };
    block[MAGIC.start..MAGIC.start + 5] == *b"ustar" || (!is_zero(block) && checksum_holds(block))
}

/// Whether a block is all zeros, as the two that end an archive are.
pub fn is_zero(block: &[u8]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Whether the checksum field holds the sum of the block's bytes, the field
/// itself counted as spaces (as unsigned bytes, or as signed ones, which
/// some old writers summed).
pub fn checksum_holds(block: &Block) -> bool {
    let Some(stored) = number(&block[CHECKSUM]) else {
        return false;
    };
    let (unsigned, signed) = sums(block);
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

fn sums(block: &Block) -> (u64, i64) {
    block
        .iter()
        .enumerate()
        .map(|(i, &b)| if CHECKSUM.contains(&i) { b' ' } else { b })
        .fold((0, 0), |(u, s), b| {
            (u + u64::from(b), s + i64::from(b as i8))
        })
}

/// The type of entry, as its type flag says.
pub fn typeflag(block: &Block) -> u8 {
    block[TYPEFLAG]
}

/// The size field: the number of data bytes that follow the header.
pub fn size(block: &Block) -> Option<u64> {
    number(&block[SIZE])
}

/// The name the header itself holds: the name field, after the prefix
/// field and a slash in a POSIX ustar header (GNU headers use that space
/// for other things).
pub fn name(block: &Block) -> Vec<u8> {
    let name = text(&block[NAME]);
    if block[MAGIC] != *b"ustar\0" {
        return name.to_vec();
    }
    match text(&block[PREFIX]) {
        [] => name.to_vec(),
        prefix => [prefix, b"/", name].concat(),
    }
}

/// A copy of the header holding `size` instead, with its checksum made
/// again: octal where 11 digits hold it, else base-256 as GNU tar writes.
pub fn with_size(block: &Block, size: u64) -> Block {
    let mut out = *block;
    if size < 1 << 33 {
        out[SIZE].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        out[SIZE].fill(0);
        out[SIZE.end - 8..SIZE.end].copy_from_slice(&size.to_be_bytes());
        out[SIZE.start] = 0x80;
    }
    let (sum, _) = sums(&out);
    out[CHECKSUM].copy_from_slice(format!("{:06o}\0 ", sum & 0o777_777).as_bytes());
    out
}

/// The bytes of a text field up to its first NUL.
fn text(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A numeric field: octal digits between optional spaces, ended by a NUL
/// or a space; or, with its first bit set, a big-endian base-256 number.
fn number(field: &[u8]) -> Option<u64> {
    if let Some((&first, rest)) = field.split_first()
        && first & 0x80 != 0
    {
        if first != 0x80 {
            return None;
        }
        let (high, low) = rest.split_at(rest.len().saturating_sub(8));
        if !is_zero(high) {
            return None;
        }
        return Some(low.iter().fold(0, |n, &b| (n << 8) | u64::from(b)));
    }
    let trimmed = text(field).trim_ascii();
    if trimmed.is_empty() {
        return Some(0);
    }
    let digits = std::str::from_utf8(trimmed).ok()?;
    u64::from_str_radix(digits, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: u64) -> Block {
        let mut block = [0; BLOCK];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[MAGIC].copy_from_slice(b"ustar\0");
        block[TYPEFLAG] = b'0';
        with_size(&block, size)
    }

    #[test]
    fn a_header_keeps_its_checksum_through_a_change_of_size() {
        let block = header("000123.jpg", 1234);
        assert!(checksum_holds(&block));
        assert_eq!(size(&block), Some(1234));
        assert!(looks_like_tar(&block));
        let large = with_size(&block, 10 << 30);
        assert!(checksum_holds(&large));
        assert_eq!(size(&large), Some(10 << 30));
        let mut broken = block;
        broken[0] ^= 1;
        assert!(!checksum_holds(&broken));
    }

    #[test]
    fn numbers_are_octal_or_base_256() {
        assert_eq!(number(b"00000001750\0"), Some(1000));
        assert_eq!(number(b"     1750 \0\0"), Some(1000));
        assert_eq!(number(b"\0\0\0\0"), Some(0));
        assert_eq!(number(b"12x4\0"), None);
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(number(&[0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), None);
        assert_eq!(number(&[0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), None);
    }

    #[test]
    fn a_ustar_name_is_its_prefix_and_name() {
        let mut block = header("b.png", 0);
        block[PREFIX.start..PREFIX.start + 1].copy_from_slice(b"a");
        assert_eq!(name(&block), b"a/b.png");
        assert!(!looks_like_tar(&[0; BLOCK]));
        assert!(!looks_like_tar(b"ustar"));
    }
}
