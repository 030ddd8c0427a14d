//! `.npy` headers: any bytes may be refused, but a header that is read must
//! write back (`Header::to_bytes`) to bytes that read as the same header, of
//! the length `to_bytes` gave, 64-byte aligned as NumPy aligns it; and
//! `data_len` must answer (a size or `TooLarge`) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rcrop::npy::Header;

fuzz_target!(|data: &[u8]| {
    let mut reader = data;
    let Ok((header, header_len)) = Header::read(&mut reader) else {
        return;
    };
    assert_eq!(
        header_len as usize,
        data.len() - reader.len(),
        "the returned header length is not what was consumed"
    );
    let _ = header.data_len();

    let bytes = header.to_bytes();
    assert!(!bytes.is_empty(), "to_bytes wrote nothing for {header:?}");
    assert_eq!(
        bytes.len() % 64,
        0,
        "to_bytes is not 64-byte aligned for {header:?}"
    );
    let mut again = bytes.as_slice();
    match Header::read(&mut again) {
        Ok((back, back_len)) => {
            assert_eq!(back, header, "the written header reads back differently");
            assert_eq!(
                back_len as usize,
                bytes.len(),
                "the written header's length"
            );
            assert!(again.is_empty(), "bytes left after the written header");
        }
        Err(e) => panic!(
            "the written header does not read back: {e}\nheader: {header:?}\nbytes: {:?}",
            bytes.escape_ascii().to_string()
        ),
    }
});
