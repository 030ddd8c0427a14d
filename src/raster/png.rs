//! What the PNG decoder leaves unchecked, checked before it runs.

use super::RasterError;

/// Refuses a `PLTE` chunk whose length is not a whole number of 3-byte
/// colours, as libpng does ("invalid palette length"); the `png` crate
/// would read past the end of the last, partial colour.
pub(super) fn check_palette(bytes: &[u8]) -> Result<(), RasterError> {
    // The signature, then chunks: a 4-byte length, a 4-byte type, the data
    // and a 4-byte CRC. The palette comes before the first IDAT.
    let mut at = 8usize;
    while let Some(head) = bytes.get(at..at.saturating_add(8)) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        match &head[4..8] {
            b"PLTE" if len % 3 != 0 => {
                return Err(RasterError::Damaged {
                    format: "PNG",
                    why: format!(
                        "its PLTE chunk (at byte {at}) holds {len} bytes, not a whole number \
                         of 3-byte colours"
                    ),
                });
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len as usize);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn a_palette_of_whole_colours_passes_and_a_partial_one_is_named() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        let mut whole = png.clone();
        whole.extend(chunk(b"PLTE", &[0; 6]));
        assert!(check_palette(&whole).is_ok());
        png.extend(chunk(b"PLTE", &[0; 5]));
        let err = check_palette(&png).unwrap_err().to_string();
        assert!(
            err.contains("PLTE chunk (at byte 33) holds 5 bytes"),
            "{err}"
        );
        // Cut anywhere, the walk ends without reading past the end.
        for cut in 0..png.len() {
            let _ = check_palette(&png[..cut]);
        }
    }
}
