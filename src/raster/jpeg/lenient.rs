//! What libjpeg-turbo warns of before the first scan, skipped as Pillow
//! skips it (Pillow lets libjpeg warn and goes on): stray bytes between
//! header segments are cut out before decoding, and an ICC profile whose
//! APP2 segments do not fit together is left out. Any other warning, and
//! every warning raised in a scan, stays an error.

use std::borrow::Cow;
use std::os::raw::c_int;

use turbojpeg_sys as tj;

use super::markers::next_marker;
use super::turbo::{Handle, JpegHeader, TjBuffer};

/// A JPEG whose headers libjpeg-turbo read without a warning, ready to
/// decode or transform with warnings still stopping it.
pub(super) struct Opened<'a> {
    /// The file, with stray bytes between its header segments cut out.
    pub(super) bytes: Cow<'a, [u8]>,
    pub(super) handle: Handle,
    pub(super) header: JpegHeader,
    /// What was skipped to read it, a sentence each.
    pub(super) skipped: Vec<String>,
}

/// Reads the headers of `bytes` with a new instance of `kind`, after
/// cutting out stray bytes between segments; the ICC profile is not read
/// (see [`Opened::icc_profile`]), so that any warning here is an error.
pub(super) fn open(bytes: &[u8], kind: tj::TJINIT) -> Result<Opened<'_>, String> {
    let (bytes, skipped) = cut_stray_bytes(bytes);
    let handle = Handle::new(kind)?;
    let saved = handle.get(tj::TJPARAM_TJPARAM_SAVEMARKERS);
    handle.set(tj::TJPARAM_TJPARAM_SAVEMARKERS, 0)?;
    let header = handle.read_header(&bytes)?;
    // A transform copies the markers this parameter names.
    handle.set(tj::TJPARAM_TJPARAM_SAVEMARKERS, saved)?;
    Ok(Opened {
        bytes,
        handle,
        header,
        skipped,
    })
}

impl Opened<'_> {
    /// The ICC profile the headers carry, if any; one whose segments
    /// libjpeg cannot put together ("bad ICC marker") is left out, and
    /// said so in `skipped`.
    pub(super) fn icc_profile(&mut self) -> Result<Option<Vec<u8>>, String> {
        let handle = &self.handle;
        handle.set(tj::TJPARAM_TJPARAM_SAVEMARKERS, 2)?;
        handle.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 0)?;
        // SAFETY: the pointer and length describe the bytes.
        let status = unsafe {
            tj::tj3DecompressHeader(
                handle.0,
                self.bytes.as_ptr(),
                self.bytes.len() as tj::size_t,
            )
        };
        // SAFETY: the handle is live.
        let warned = status != 0
            && unsafe { tj::tj3GetErrorCode(handle.0) } == tj::TJERR_TJERR_WARNING as c_int;
        let read = handle.check(status);
        handle.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 1)?;
        match read {
            Ok(()) => {}
            // The headers read without a warning before; this one is the profile's.
            Err(why) if warned => {
                self.skipped.push(format!(
                    "left out the JPEG's ICC profile, whose APP2 segments do not fit \
                     together ({why})"
                ));
                return Ok(None);
            }
            Err(why) => return Err(why),
        }
        let mut icc = TjBuffer::empty();
        // SAFETY: the handle has read the headers; the buffer is freed on drop.
        let status = unsafe { tj::tj3GetICCProfile(handle.0, &mut icc.data, &mut icc.len) };
        // The library reports "no profile" as an error, which is no profile.
        Ok((status == 0 && !icc.data.is_null() && icc.len > 0).then(|| icc.to_vec()))
    }
}

/// `bytes` with what libjpeg skips, with a warning, between the segments
/// before the first scan cut out — bytes that are no marker, and `FF 00`
/// pairs — and a sentence for each run cut, counted as libjpeg counts it.
fn cut_stray_bytes(bytes: &[u8]) -> (Cow<'_, [u8]>, Vec<String>) {
    let mut cuts = Vec::new();
    let mut skipped = Vec::new();
    let mut at = 2; // past the start-of-image marker
    loop {
        let start = at;
        let Some((marker, stray)) = next_marker(bytes, &mut at) else {
            break;
        };
        if stray > 0 {
            // Keep one 0xFF before the marker's code.
            cuts.push(start..at - 2);
            skipped.push(format!(
                "skipped {stray} stray byte{} before marker FF{marker:02X} in the JPEG's \
                 headers",
                if stray == 1 { "" } else { "s" }
            ));
        }
        match marker {
            0xD9 | 0xDA => break,
            0x01 | 0xD0..=0xD7 => {}
            _ => match bytes.get(at..at + 2) {
                Some(len) => at += usize::from(u16::from_be_bytes([len[0], len[1]])).max(2),
                None => break,
            },
        }
    }
    if cuts.is_empty() {
        return (Cow::Borrowed(bytes), skipped);
    }
    let mut kept = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for cut in cuts {
        kept.extend_from_slice(&bytes[from..cut.start]);
        from = cut.end;
    }
    kept.extend_from_slice(&bytes[from..]);
    (Cow::Owned(kept), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::jpeg::read::decode_with_warnings;

    #[test]
    fn stray_bytes_between_header_segments_are_cut_as_libjpeg_counts_them() {
        let clean = [
            0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x03, b'x', 0xFF, 0xDA, 0, 2, 7,
        ];
        assert_eq!(cut_stray_bytes(&clean), (Cow::Borrowed(&clean[..]), vec![]));
        // Three bytes, an `FF 00` pair (two more) and fill bytes before FFDB.
        let mut junk = clean[..7].to_vec();
        junk.extend_from_slice(&[1, 2, 3, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xDA, 0, 2, 7]);
        let (cut, skipped) = cut_stray_bytes(&junk);
        assert_eq!(&cut[..], &clean[..]);
        assert_eq!(
            skipped,
            ["skipped 5 stray bytes before marker FFDA in the JPEG's headers"]
        );
        // In a scan, bytes are the scan's: nothing is cut there.
        let mut in_scan = clean.to_vec();
        in_scan.extend_from_slice(&[1, 2, 0xFF, 0xD9]);
        assert_eq!(cut_stray_bytes(&in_scan).1, Vec::<String>::new());
    }

    #[test]
    fn pillows_files_name_what_was_skipped_to_decode_them() {
        let cases = [
            (
                "icc-after-SOF",
                "left out the JPEG's ICC profile, whose APP2 segments do not fit together \
                 (Corrupt JPEG data: bad ICC marker)",
                false,
            ),
            (
                "jpeg_ff00_header",
                "skipped 4 stray bytes before marker FFDB in the JPEG's headers",
                true,
            ),
            (
                "junk_jpeg_header",
                "skipped 5 stray bytes before marker FFDB in the JPEG's headers",
                false,
            ),
            (
                "photoshop-200dpi-broken",
                "skipped 16 stray bytes before marker FFE1 in the JPEG's headers",
                false,
            ),
            (
                "truncated_app14",
                "skipped 1 stray byte before marker FFDB in the JPEG's headers",
                true,
            ),
        ];
        for (name, warning, has_icc) in cases {
            let path = format!(
                "{}/fixtures/jpeglenient/{name}.jpg",
                env!("CARGO_MANIFEST_DIR")
            );
            let bytes = std::fs::read(path).unwrap();
            let (_, icc, skipped) = decode_with_warnings(&bytes, 1 << 30).unwrap();
            assert_eq!(skipped, [warning], "{name}");
            assert_eq!(icc.is_some(), has_icc, "{name}");
        }
    }
}
