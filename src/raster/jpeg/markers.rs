//! The walk over a JPEG's markers: each segment followed by its length,
//! each scan's entropy-coded data skipped to its next marker, so that a
//! file cut short is named before libjpeg-turbo decodes it.

/// Walks the markers from the start of the file and fails unless the last
/// scan's data ends in the end-of-image marker. Segment lengths are
/// followed, and entropy-coded data is skipped up to its next marker (a
/// `0xFF` byte there is stuffed as `FF 00`, and restart markers belong to it).
pub(super) fn check_complete(bytes: &[u8]) -> Result<(), String> {
    let mut at = 2; // past the start-of-image marker
    let mut scan_start = None;
    loop {
        let Some((marker, _)) = next_marker(bytes, &mut at) else {
            return Err(match scan_start {
                Some(start) => format!(
                    "the scan data ends after {} bytes, before the end-of-image marker",
                    bytes.len() - start
                ),
                None => "the file ends before its first scan".into(),
            });
        };
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let len = bytes
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or_else(|| {
                        format!("the file ends inside the header of marker FF{marker:02X}")
                    })?;
                if len < 2 || at + len > bytes.len() {
                    return Err(format!(
                        "marker FF{marker:02X} at byte {} claims {len} bytes; the file ends first",
                        at - 2
                    ));
                }
                at += len;
                if marker == 0xDA {
                    scan_start = Some(at);
                    skip_entropy_data(bytes, &mut at);
                }
            }
        }
    }
}

/// The next marker's code, `at` left just past it, and how many bytes
/// before it are no marker, counted as libjpeg counts them when it warns
/// of "extraneous bytes": an `FF 00` pair is two, fill bytes (any number
/// of 0xFF before a code) none. `None` at the end.
pub(super) fn next_marker(bytes: &[u8], at: &mut usize) -> Option<(u8, usize)> {
    let mut stray = 0;
    loop {
        while *at < bytes.len() && bytes[*at] != 0xFF {
            *at += 1;
            stray += 1;
        }
        while *at < bytes.len() && bytes[*at] == 0xFF {
            *at += 1;
        }
        let code = *bytes.get(*at)?;
        *at += 1;
        if code != 0 {
            return Some((code, stray));
        }
        stray += 2;
    }
}

/// Moves `at` to the first marker after a scan's entropy-coded data that
/// is neither a stuffed byte nor a restart marker.
fn skip_entropy_data(bytes: &[u8], at: &mut usize) {
    while let Some(ff) = next_ff(bytes, *at) {
        match bytes.get(ff + 1) {
            Some(0x00 | 0xD0..=0xD7 | 0xFF) => *at = ff + 1,
            Some(_) => {
                *at = ff;
                return;
            }
            None => break,
        }
    }
    *at = bytes.len();
}

/// The offset of the first `0xFF` byte at or after `from`, looked for
/// eight bytes at a time: a scan is mostly other bytes.
fn next_ff(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let rest = bytes.get(from..)?;
    let mut words = rest.chunks_exact(8);
    let mut at = from;
    for word in words.by_ref() {
        // A byte of 0xFF is a zero byte of the word inverted.
        let inverted = !u64::from_ne_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]);
        if inverted.wrapping_sub(ONES) & !inverted & HIGHS != 0 {
            break;
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == 0xFF).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start of image, a scan header of `len` bytes, `data`, and what follows.
    fn jpeg(data: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02];
        out.extend_from_slice(data);
        out.extend_from_slice(tail);
        out
    }

    #[test]
    fn a_scan_must_end_in_the_end_of_image_marker() {
        assert_eq!(
            check_complete(&jpeg(&[1, 0xFF, 0x00, 2], &[0xFF, 0xD9])),
            Ok(())
        );
        let restarts = jpeg(&[1, 0xFF, 0xD0, 2, 0xFF, 0xD7], &[0xFF, 0xD9, 9, 9]);
        assert_eq!(check_complete(&restarts), Ok(()));
        let cut = check_complete(&jpeg(&[1; 14], &[])).unwrap_err();
        assert!(cut.contains("ends after 14 bytes"), "{cut}");
        let lying = [0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 1, 2];
        assert!(
            check_complete(&lying)
                .unwrap_err()
                .contains("claims 16384 bytes")
        );
        assert!(check_complete(&[0xFF, 0xD8]).is_err());
    }

    #[test]
    fn the_next_ff_byte_is_found_at_any_offset() {
        for len in 0..20 {
            for ff in 0..len {
                let mut bytes = vec![0x7Fu8; len];
                bytes[ff] = 0xFF;
                for from in 0..=len {
                    let expected = (from <= ff).then_some(ff);
                    assert_eq!(next_ff(&bytes, from), expected, "{len} {ff} {from}");
                }
            }
        }
        assert_eq!(next_ff(&[1, 2], 3), None);
    }

    #[test]
    fn progressive_scans_are_followed_to_the_end() {
        let mut two_scans = jpeg(&[5, 6], &[0xFF, 0xC4, 0x00, 0x03, 0xD9]);
        two_scans.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 7, 0xFF, 0xD9]);
        assert_eq!(check_complete(&two_scans), Ok(()));
        two_scans.truncate(two_scans.len() - 2);
        assert!(check_complete(&two_scans).is_err());
    }
}
